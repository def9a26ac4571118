/**
 * WebGPU for tfjs in Deno: find an adapter, tell hardware from software, and create the tfjs
 * `webgpu` backend in a way that survives Deno's WebGPU.
 *
 * tfjs-backend-webgpu 4.22's own factory trips over three things seen in Deno: it passes
 * `requiredFeatures` as a nested array (`[["bgra8unorm-storage"]]`), it copies adapter limits that
 * may arrive as BigInt, and it reads `adapter.info` after `requestDevice` (which some builds refuse).
 * The factory here reads the adapter's description first, asks only for features the adapter has
 * (as a flat list of strings) and passes limits as plain numbers.
 *
 * Introduced in lesson 01 (setup), where `cl.backendInfo()` shows what runs the tensors.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/** What an adapter says about itself (all strings; empty when the adapter does not say). */
export interface AdapterDescription {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** The adapter says it is a fallback (software) adapter. */
  isFallbackAdapter: boolean;
  /** Fallback, or a known CPU rasteriser (llvmpipe, lavapipe, SwiftShader, WARP…). */
  isSoftware: boolean;
}

/** The result of looking for a WebGPU adapter. */
export type AdapterProbe =
  | { ok: true; adapter: GpuAdapterLike; description: AdapterDescription }
  | { ok: false; problem: string };

/** The parts of `GPUAdapter` used here (kept structural: Deno's typings change between versions). */
export interface GpuAdapterLike {
  readonly features: { has(name: string): boolean };
  readonly limits: Record<string, unknown>;
  readonly info?: Record<string, unknown>;
  readonly isFallbackAdapter?: boolean;
  requestDevice(descriptor?: Record<string, unknown>): Promise<unknown>;
}

interface GpuLike {
  requestAdapter(options?: Record<string, unknown>): Promise<GpuAdapterLike | null>;
}

const SOFTWARE_ADAPTERS = /llvmpipe|lavapipe|softpipe|swiftshader|software|warp|basic render/i;

/** Limits tfjs sizes its buffers and workgroups by. */
const LIMITS = [
  "maxComputeWorkgroupStorageSize",
  "maxComputeWorkgroupsPerDimension",
  "maxStorageBufferBindingSize",
  "maxBufferSize",
  "maxComputeWorkgroupSizeX",
  "maxComputeInvocationsPerWorkgroup",
] as const;

function gpu(): GpuLike | undefined {
  return (globalThis.navigator as unknown as { gpu?: GpuLike } | undefined)?.gpu;
}

/** Read an adapter's self-description (call before `requestDevice`). */
export function describeAdapter(adapter: GpuAdapterLike): AdapterDescription {
  let info: Record<string, unknown> = {};
  try {
    info = adapter.info ?? {};
  } catch {
    // Some builds throw once a device was requested; the description is then unknown.
  }
  const text = (key: string) => (typeof info[key] === "string" ? info[key] as string : "");
  const isFallbackAdapter = info.isFallbackAdapter === true || adapter.isFallbackAdapter === true;
  const description = {
    vendor: text("vendor"),
    architecture: text("architecture"),
    device: text("device"),
    description: text("description"),
  };
  const isSoftware = isFallbackAdapter ||
    SOFTWARE_ADAPTERS.test(`${description.description} ${description.device}`);
  return { ...description, isFallbackAdapter, isSoftware };
}

/** Device files a GPU driver opens on Linux: DRM render nodes, NVIDIA's, WSL2's. */
const GPU_NODE = /^(renderD\d+|nvidia\d+|dxg)$/;

/**
 * The GPU device files of this Linux machine (`/dev/dri/renderD128`, `/dev/nvidia0`, `/dev/dxg`),
 * or null when that cannot be told (another OS, or no read permission on `/dev`). Every
 * hardware WebGPU adapter on Linux opens one of them: with none, only software adapters
 * (Mesa's llvmpipe/lavapipe) could answer, and merely creating one starts Mesa's render threads,
 * whose teardown races process exit (glibc "corrupted size vs. prev_size", 1 run in ~12 of a
 * test set that starts it in 10 modules). So the automatic choice does not probe WebGPU then.
 */
export function gpuDeviceNodes(
  readDir: (path: string) => Iterable<{ name: string }> = Deno.readDirSync,
): string[] | null {
  if (Deno.build.os !== "linux") return null;
  if (Deno.permissions.querySync?.({ name: "read", path: "/dev" }).state !== "granted") {
    return null;
  }
  const nodes: string[] = [];
  for (const dir of ["/dev", "/dev/dri"]) {
    try {
      for (const entry of readDir(dir)) {
        if (GPU_NODE.test(entry.name)) nodes.push(`${dir}/${entry.name}`);
      }
    } catch {
      // No such folder (no DRM driver loaded): nothing there.
    }
  }
  return nodes;
}

/**
 * Ask `navigator.gpu` for an adapter. Never throws: a missing API, no adapter, an error or a
 * timeout come back as `{ok: false, problem}`.
 */
export async function probeWebGpu(timeoutMs = 10_000): Promise<AdapterProbe> {
  const api = gpu();
  if (!api) return { ok: false, problem: "this Deno has no WebGPU (navigator.gpu is undefined)" };
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), timeoutMs);
    });
    const adapter = await Promise.race([
      api.requestAdapter({ powerPreference: "high-performance" }),
      timeout,
    ]);
    if (adapter === "timeout") {
      return { ok: false, problem: `no WebGPU adapter answered within ${timeoutMs} ms` };
    }
    if (!adapter) return { ok: false, problem: "navigator.gpu.requestAdapter() found no adapter" };
    return { ok: true, adapter, description: describeAdapter(adapter) };
  } catch (error) {
    return { ok: false, problem: `navigator.gpu.requestAdapter() failed: ${String(error)}` };
  } finally {
    clearTimeout(timer);
  }
}

/** A device descriptor that Deno accepts: flat feature names, numeric limits. */
export function deviceDescriptor(adapter: GpuAdapterLike): {
  requiredFeatures: string[];
  requiredLimits: Record<string, number>;
} {
  const requiredFeatures = ["timestamp-query", "bgra8unorm-storage"].filter((f) =>
    adapter.features.has(f)
  );
  const requiredLimits: Record<string, number> = {};
  for (const name of LIMITS) {
    const value = adapter.limits[name];
    if (typeof value === "number" || typeof value === "bigint") {
      requiredLimits[name] = Number(value);
    }
  }
  return { requiredFeatures, requiredLimits };
}

/** What the last successful `webgpu` initialisation found. */
export let lastWebGpuAdapter: AdapterDescription | undefined;

/** The part of tfjs's `DataStorage` the WebGPU backend keeps its tensors' data in. */
interface TensorDataMap {
  set(dataId: object, value: unknown): void;
  delete(dataId: object): boolean;
}

/** Data ids alive on each WebGPU backend (tfjs keeps them in a WeakMap, which cannot be listed). */
const liveData = new WeakMap<object, Set<object>>();

function trackData(backend: object): void {
  const map = (backend as { tensorMap: TensorDataMap }).tensorMap;
  const ids = new Set<object>();
  const set = map.set.bind(map), remove = map.delete.bind(map);
  map.set = (dataId, value) => {
    ids.add(dataId);
    set(dataId, value);
  };
  map.delete = (dataId) => {
    ids.delete(dataId);
    return remove(dataId);
  };
  liveData.set(backend, ids);
}

/**
 * Copy every tensor held by the WebGPU backend to host memory (tfjs caches it beside the GPU
 * buffer). Call before switching away from WebGPU: tfjs moves a tensor to another backend with a
 * synchronous read, which fails on WebGPU in Deno (it needs `OffscreenCanvas`); with the values
 * cached, that read succeeds.
 */
export async function downloadWebGpuTensors(): Promise<void> {
  const backend = tf.findBackend("webgpu") as
    | (tf.KernelBackend & { read(dataId: object): Promise<unknown> })
    | null;
  const ids = backend && liveData.get(backend);
  if (!backend || !ids) return;
  // One at a time: a read flushes WebGPU's queue, which frees tensors disposed meanwhile.
  for (const dataId of [...ids]) {
    if (ids.has(dataId)) await backend.read(dataId);
  }
}

const CONVLAB_FACTORY = Symbol.for("convlab.webgpuFactory");

/**
 * Register tfjs's `webgpu` backend with the robust factory above, replacing tfjs's own factory
 * (idempotent: a WebGPU backend Convlab already started keeps its tensors). The factory asks for
 * a fresh adapter each time tfjs initialises the backend.
 */
export async function registerWebGpuBackend(): Promise<void> {
  const { WebGPUBackend } = await import("@tensorflow/tfjs-backend-webgpu");
  const registered = tf.findBackendFactory("webgpu") as { [CONVLAB_FACTORY]?: true } | null;
  if (registered?.[CONVLAB_FACTORY]) return;
  if (registered) tf.removeBackend("webgpu");
  const factory = async () => {
    const probe = await probeWebGpu();
    if (!probe.ok) throw new Error(`Cannot start WebGPU: ${probe.problem}`);
    const { adapter, description } = probe;
    const info = {
      vendor: description.vendor,
      architecture: description.architecture,
      device: description.device,
      description: description.description,
    };
    const device = await adapter.requestDevice(deviceDescriptor(adapter));
    lastWebGpuAdapter = description;
    const backend = new WebGPUBackend(
      device as ConstructorParameters<typeof WebGPUBackend>[0],
      info as unknown as ConstructorParameters<typeof WebGPUBackend>[1],
    );
    trackData(backend);
    return backend;
  };
  Object.assign(factory, { [CONVLAB_FACTORY]: true });
  tf.registerBackend("webgpu", factory, 3);
}
