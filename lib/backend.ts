/**
 * Which engine runs the tensors: `webgpu`, `wasm` or `cpu`, chosen when Convlab is imported.
 *
 * The automatic choice, in order:
 * 1. `webgpu` when `navigator.gpu` gives a hardware adapter. Software adapters (fallback adapters,
 *    llvmpipe, SwiftShader…) are skipped: they are slower than `wasm` on the same CPU.
 * 2. `wasm` (XNNPACK, with SIMD where the CPU has it) — about 20× faster than `cpu` for CNNs.
 *    Convlab adds the gradient kernels tfjs-backend-wasm lacks (see `backend/wasm_kernels.ts`),
 *    so CNNs train on it.
 * 3. `cpu` (plain JavaScript) with a loud warning that training will be very slow.
 *
 * Override with the environment variable `CONVLAB_BACKEND=webgpu|wasm|cpu` (read at import) or
 * `await cl.useBackend(name)` in a cell. `cl.backendInfo()` shows what was chosen and why.
 *
 * Importing this module (which `import * as cl from "convlab"` does) awaits the choice, so the
 * first `cl.tf` op already runs on the chosen backend; `await cl.ready()` returns the same
 * report and is only needed by code that imports tfjs some other way.
 *
 * Introduced in lesson 01 (setup).
 *
 * @example
 * ```ts
 * import * as cl from "convlab";
 * cl.backendInfo();          // a table: backend, device, why, SIMD/threads
 * const y = cl.tf.square(cl.tf.tensor([1, 2, 3]));
 * console.log(await y.data()); // Float32Array [1, 4, 9], computed on the chosen backend
 * ```
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import * as tfWasm from "@tensorflow/tfjs-backend-wasm";
import { DISPLAY, type MimeBundle } from "./display.ts";
import { registerWasmGradientKernels } from "./backend/wasm_kernels.ts";
import { installFusedAdam } from "./backend/fused_adam.ts";
import { installFusedRelu } from "./backend/fused_relu.ts";
import { installWasmThreads } from "./backend/wasm_threads.ts";
import {
  type AdapterDescription,
  type AdapterProbe,
  downloadWebGpuTensors,
  gpuDeviceNodes,
  lastWebGpuAdapter,
  probeWebGpu,
  registerWebGpuBackend,
} from "./backend/webgpu.ts";

export { tf };

/** The backends Convlab chooses between. */
export const BACKEND_NAMES = ["webgpu", "wasm", "cpu"] as const;

/** One of {@linkcode BACKEND_NAMES}. */
export type BackendName = typeof BACKEND_NAMES[number];

/** Who decided which backend runs. */
export type BackendChooser = "auto" | "CONVLAB_BACKEND" | "useBackend" | "tf.setBackend";

/** One backend that was considered, and what happened. */
export interface BackendAttempt {
  backend: BackendName;
  outcome: string;
}

/** The state `backendInfo()` displays. */
export interface BackendReport {
  /** The backend tensors run on now. */
  backend: string;
  chosenBy: BackendChooser;
  /** Why this backend, in one sentence. */
  reason: string;
  /** The GPU adapter or the CPU that does the work. */
  device: string;
  /** WebAssembly SIMD in use (wasm only; `null` elsewhere). */
  simd: boolean | null;
  /** Threads the backend computes with (`null` where it does not say, e.g. on a GPU). */
  threads: number | null;
  /** The WebGPU adapter's self-description, when WebGPU runs. */
  adapter?: AdapterDescription;
  /** Every backend considered on the way, in order. */
  considered: BackendAttempt[];
  warnings: string[];
  tfjsVersion: string;
}

/** Thrown when a requested backend cannot start; says which and why. */
export class BackendUnavailableError extends Error {
  /** The backend that was asked for. */
  readonly backend: BackendName;

  constructor(backend: BackendName, why: string) {
    super(`Cannot use backend "${backend}": ${why}`);
    this.name = "BackendUnavailableError";
    this.backend = backend;
  }
}

const CPU_WARNING = [
  "",
  "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!",
  "!! Convlab runs tensors on tfjs's plain-JavaScript `cpu` backend.",
  "!! Training CNNs will be VERY slow here (about 100x slower than `wasm`).",
  "!! %WHY%",
  '!! See cl.backendInfo() for details; README section "Backends" says how to fix it.',
  "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!",
  "",
].join("\n");

let report: BackendReport | undefined;
let initialising: Promise<BackendReport> | undefined;

function isBackendName(name: unknown): name is BackendName {
  return typeof name === "string" && (BACKEND_NAMES as readonly string[]).includes(name);
}

function checkName(name: unknown, where: string): BackendName {
  if (isBackendName(name)) return name;
  throw new TypeError(
    `Cannot choose backend: ${where} must be one of ${BACKEND_NAMES.join(", ")}, got ${
      JSON.stringify(name)
    }`,
  );
}

function granted(descriptor: Deno.PermissionDescriptor): boolean {
  try {
    return Deno.permissions.querySync(descriptor).state === "granted";
  } catch {
    return false;
  }
}

/** `CONVLAB_BACKEND`, read without prompting (unset when env access is not granted). */
function backendFromEnvironment(): BackendName | undefined {
  if (!granted({ name: "env", variable: "CONVLAB_BACKEND" })) return undefined;
  const value = Deno.env.get("CONVLAB_BACKEND")?.trim().toLowerCase();
  if (!value || value === "auto") return undefined;
  return checkName(value, "the environment variable CONVLAB_BACKEND");
}

let cpuModel: string | undefined;
function cpuDescription(): string {
  if (cpuModel === undefined) {
    cpuModel = "CPU";
    const path = "/proc/cpuinfo";
    if (granted({ name: "read", path })) {
      try {
        const match = Deno.readTextFileSync(path).match(/^model name\s*:\s*(.+)$/m);
        if (match) cpuModel = match[1].trim();
      } catch {
        // Not Linux: the generic name stays.
      }
    }
  }
  const cores = navigator.hardwareConcurrency;
  return `${cpuModel}, ${cores} logical core${cores === 1 ? "" : "s"}`;
}

/** Most threads the wasm backend starts with by default. */
const MAX_DEFAULT_THREADS = 8;

/**
 * Threads for the wasm backend: `CONVLAB_THREADS` when set (1 = single-threaded), else the
 * logical cores (at most 8).
 */
function wasmThreadCount(): number {
  if (granted({ name: "env", variable: "CONVLAB_THREADS" })) {
    const value = Deno.env.get("CONVLAB_THREADS")?.trim();
    if (value) {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 1) {
        throw new RangeError(
          `Cannot start wasm: CONVLAB_THREADS must be a positive integer, got ${
            JSON.stringify(value)
          }`,
        );
      }
      return n;
    }
  }
  return Math.max(1, Math.min(navigator.hardwareConcurrency || 1, MAX_DEFAULT_THREADS));
}

/**
 * Start tfjs-backend-wasm, with threads when asked and possible; falls back to one thread (with
 * a note) if the threaded build does not start.
 */
async function startWasm(notes: string[]): Promise<[boolean, string[]]> {
  const threads = wasmThreadCount();
  const simd = Boolean(await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT"));
  if (threads > 1 && simd && !tf.findBackend("wasm")) {
    const restore = installWasmThreads(threads);
    tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", true);
    tfWasm.setThreadsCount(threads);
    let result: [boolean, string[]];
    try {
      result = await collectWarnings(() => tf.setBackend("wasm"));
    } finally {
      restore();
    }
    if (result[0]) return result;
    notes.push(`the threaded wasm build did not start (${result[1].join(" ")}); using 1 thread`);
    tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
  }
  return await collectWarnings(() => tf.setBackend("wasm"));
}

/** The folder holding tfjs-backend-wasm's `.wasm` files, when it is a local path. */
function wasmBinaryFolder(): string | undefined {
  try {
    const main = import.meta.resolve("@tensorflow/tfjs-backend-wasm");
    if (!main.startsWith("file:")) return undefined;
    return new URL(".", main).pathname;
  } catch {
    return undefined;
  }
}

/** Run `fn`, collecting what tfjs prints with console.warn (it reports init failures there). */
async function collectWarnings<T>(fn: () => Promise<T>): Promise<[T, string[]]> {
  const seen: string[] = [];
  const original = console.warn;
  console.warn = (...args: unknown[]) => seen.push(args.map(String).join(" "));
  try {
    return [await fn(), seen];
  } finally {
    console.warn = original;
  }
}

/** Start one backend and make it current, or throw BackendUnavailableError saying why. */
async function start(
  name: BackendName,
): Promise<Omit<BackendReport, "chosenBy" | "reason" | "considered">> {
  const warnings: string[] = [];
  if (name === "wasm") {
    registerWasmGradientKernels();
    installFusedAdam();
    installFusedRelu();
    const folder = wasmBinaryFolder();
    if (folder && !granted({ name: "read", path: folder })) {
      throw new BackendUnavailableError(
        "wasm",
        `no read permission for its binaries in ${folder} (run with --allow-read=${folder})`,
      );
    }
  }
  if (name === "webgpu") {
    const probe = await probeWebGpu();
    if (!probe.ok) throw new BackendUnavailableError("webgpu", probe.problem);
    await registerWebGpuBackend();
  }
  const [ok, messages] = name === "wasm"
    ? await startWasm(warnings)
    : await collectWarnings(() => tf.setBackend(name));
  if (!ok) {
    const detail = messages.filter((m) => !m.startsWith("Initialization of backend")).join(" ");
    throw new BackendUnavailableError(
      name,
      `tfjs could not initialise it${detail ? `: ${detail}` : ""}`,
    );
  }
  await tf.ready();
  let simd: boolean | null = null, threads: number | null = null;
  let device = cpuDescription();
  let adapter: AdapterDescription | undefined;
  if (name === "wasm") {
    simd = Boolean(await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT"));
    threads = tfWasm.getThreadsCount();
    if (!simd) warnings.push("this runtime has no WebAssembly SIMD: wasm runs about 3x slower");
  } else if (name === "cpu") {
    threads = 1;
    // tfjs would advise installing tfjs-node on first use; that does not apply to Deno.
    (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
  } else {
    adapter = lastWebGpuAdapter;
    device = adapter
      ? [adapter.description, adapter.vendor && `vendor ${adapter.vendor}`].filter(Boolean).join(
        ", ",
      )
      : "WebGPU adapter";
    if (adapter?.isSoftware) {
      warnings.push(
        "this WebGPU adapter is a software renderer on the CPU: expect it to be slower than wasm",
      );
    }
    warnings.push("on WebGPU read tensors with `await t.data()`: dataSync() is not supported here");
  }
  return { backend: name, device, simd, threads, adapter, warnings, tfjsVersion: tf.version.tfjs };
}

async function chooseAutomatically(): Promise<BackendReport> {
  const considered: BackendAttempt[] = [];
  const probe: AdapterProbe = gpuDeviceNodes()?.length === 0
    ? {
      ok: false,
      problem: "no GPU device on this machine (no /dev/dri/renderD*, /dev/nvidia* or /dev/dxg), " +
        "so WebGPU was not probed (only a software adapter, slower than wasm, could answer)",
    }
    : await probeWebGpu();
  if (probe.ok && !probe.description.isSoftware) {
    try {
      const started = await start("webgpu");
      considered.push({ backend: "webgpu", outcome: "chosen" });
      return {
        ...started,
        chosenBy: "auto",
        considered,
        reason: `a hardware GPU adapter is available (${started.device})`,
      };
    } catch (error) {
      considered.push({ backend: "webgpu", outcome: (error as Error).message });
    }
  } else {
    considered.push({
      backend: "webgpu",
      outcome: probe.ok
        ? `skipped: only a software adapter (${
          probe.description.description || "fallback adapter"
        }), slower than wasm`
        : `unavailable: ${probe.problem}`,
    });
  }
  try {
    const started = await start("wasm");
    considered.push({ backend: "wasm", outcome: "chosen" });
    return {
      ...started,
      chosenBy: "auto",
      considered,
      reason: `no hardware GPU, so WebAssembly (XNNPACK${
        started.simd ? " with SIMD" : ""
      }), the fastest CPU backend`,
    };
  } catch (error) {
    considered.push({ backend: "wasm", outcome: (error as Error).message });
  }
  const started = await start("cpu");
  considered.push({ backend: "cpu", outcome: "chosen (last resort)" });
  const why = `Why: ${considered.slice(0, -1).map((c) => `${c.backend}: ${c.outcome}`).join("; ")}`;
  console.warn(CPU_WARNING.replace("%WHY%", why));
  return {
    ...started,
    chosenBy: "auto",
    considered,
    reason: "neither a hardware GPU nor WebAssembly could be used",
    warnings: [
      ...started.warnings,
      "training will be very slow on the plain-JavaScript cpu backend",
    ],
  };
}

async function choose(requested: BackendName | undefined, chosenBy: BackendChooser) {
  if (!requested) return await chooseAutomatically();
  const started = await start(requested);
  const warnings = requested === "cpu"
    ? [...started.warnings, "training will be very slow on the plain-JavaScript cpu backend"]
    : started.warnings;
  if (requested === "cpu") {
    console.warn(
      `Convlab: using the plain-JavaScript cpu backend as ${chosenBy} asked: training CNNs will be very slow (wasm is about 100x faster).`,
    );
  }
  return {
    ...started,
    warnings,
    chosenBy,
    considered: [{ backend: requested, outcome: "chosen" }],
    reason: chosenBy === "CONVLAB_BACKEND"
      ? `the environment variable CONVLAB_BACKEND=${requested} asks for it`
      : `useBackend("${requested}") was called`,
  } satisfies BackendReport;
}

/**
 * Wait until the backend is chosen and started (importing Convlab already does this), and get
 * the report `backendInfo()` shows.
 *
 * @example
 * ```ts
 * import * as cl from "convlab";
 * const { backend } = await cl.ready();
 * console.log(backend); // "wasm" on a machine without a GPU
 * ```
 */
export function ready(): Promise<BackendReport> {
  initialising ??= (async () => {
    let requested: BackendName | undefined;
    try {
      requested = backendFromEnvironment();
      wasmThreadCount(); // a bad CONVLAB_THREADS fails the import, not just the wasm attempt
    } catch (error) {
      initialising = undefined;
      throw error;
    }
    report = await choose(requested, "CONVLAB_BACKEND");
    return report;
  })();
  return initialising;
}

/**
 * Switch the backend by hand: `"webgpu"`, `"wasm"` or `"cpu"`. Tensors and model weights made
 * before keep their values (tfjs moves them on first use; leaving WebGPU, their values are
 * fetched first, since tfjs's own move would need a synchronous GPU read). Throws {@linkcode BackendUnavailableError} saying why
 * when the backend cannot start; the previous backend then stays in use.
 *
 * @param name The backend to use.
 * @returns The display object of `backendInfo()`.
 * @example
 * ```ts
 * import * as cl from "convlab";
 * await cl.useBackend("cpu"); // prints a warning: slow
 * console.log(cl.tf.getBackend()); // "cpu"
 * ```
 */
export async function useBackend(name: BackendName): Promise<BackendInfo> {
  const backend = checkName(name, "useBackend(name)");
  await ready().catch(() => undefined);
  const previous = tf.getBackend();
  if (previous === "webgpu" && backend !== "webgpu") await downloadWebGpuTensors();
  try {
    report = await choose(backend, "useBackend");
  } catch (error) {
    if (previous && tf.getBackend() !== previous) await tf.setBackend(previous);
    throw error;
  }
  return backendInfo();
}

/** The backend report as a display object: a table in notebooks, text elsewhere. */
export class BackendInfo implements BackendReport {
  backend!: string;
  chosenBy!: BackendChooser;
  reason!: string;
  device!: string;
  simd!: boolean | null;
  threads!: number | null;
  adapter?: AdapterDescription;
  considered!: BackendAttempt[];
  warnings!: string[];
  tfjsVersion!: string;

  constructor(state: BackendReport) {
    Object.assign(this, state);
  }

  /** Label → value rows of the table. */
  rows(): [string, string][] {
    const rows: [string, string][] = [
      ["backend", this.backend],
      ["device", this.device],
      ["why", this.reason],
      ["chosen by", this.chosenBy],
    ];
    if (this.simd !== null) rows.push(["SIMD", this.simd ? "yes" : "no"]);
    if (this.threads !== null) rows.push(["threads", String(this.threads)]);
    for (const c of this.considered) {
      if (c.outcome !== "chosen") rows.push([`${c.backend}`, c.outcome]);
    }
    for (const w of this.warnings) rows.push(["note", w]);
    rows.push(["tfjs", this.tfjsVersion]);
    return rows;
  }

  toString(): string {
    const width = Math.max(...this.rows().map(([k]) => k.length));
    return this.rows().map(([k, v]) => `${k.padEnd(width)}  ${v}`).join("\n");
  }

  [DISPLAY](): MimeBundle {
    const escape = (s: string) =>
      s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
    const body = this.rows().map(([k, v]) =>
      `<tr><th style="text-align:left;padding-right:1em">${
        escape(k)
      }</th><td style="text-align:left">${escape(v)}</td></tr>`
    ).join("");
    return {
      "text/plain": this.toString(),
      "text/html": `<table class="convlab-backend">${body}</table>`,
    };
  }
}

/**
 * What runs the tensors now, on what device, and why — as a display object.
 *
 * @example
 * ```ts
 * import * as cl from "convlab";
 * const info = cl.backendInfo();
 * console.log(info.backend, info.simd, info.threads); // e.g. "wasm true 1"
 * ```
 */
export function backendInfo(): BackendInfo {
  const current = tf.getBackend();
  if (!report) {
    return new BackendInfo({
      backend: current ?? "none",
      chosenBy: "tf.setBackend",
      reason: "Convlab has not chosen a backend yet (await cl.ready())",
      device: cpuDescription(),
      simd: null,
      threads: null,
      considered: [],
      warnings: [],
      tfjsVersion: tf.version.tfjs,
    });
  }
  if (current !== report.backend) {
    return new BackendInfo({
      ...report,
      backend: current,
      chosenBy: "tf.setBackend",
      reason:
        `tf.setBackend("${current}") was called directly after Convlab chose ${report.backend}`,
      simd: null,
      threads: null,
      adapter: undefined,
      considered: [],
      warnings: [],
    });
  }
  return new BackendInfo(report);
}

await ready();
