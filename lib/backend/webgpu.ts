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

/**
 * Register (or re-register) tfjs's `webgpu` backend with the robust factory above. The factory
 * asks for a fresh adapter each time tfjs initialises the backend.
 */
export async function registerWebGpuBackend(): Promise<void> {
  const { WebGPUBackend } = await import("@tensorflow/tfjs-backend-webgpu");
  if (tf.findBackendFactory("webgpu")) tf.removeBackend("webgpu");
  tf.registerBackend("webgpu", async () => {
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
    return new WebGPUBackend(
      device as ConstructorParameters<typeof WebGPUBackend>[0],
      info as unknown as ConstructorParameters<typeof WebGPUBackend>[1],
    );
  }, 3);
}
