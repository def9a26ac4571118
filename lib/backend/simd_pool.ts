/**
 * Runs Convlab's SIMD kernels on several threads at once, when tfjs-backend-wasm runs its
 * threaded build (its memory is then a shared `WebAssembly.Memory`).
 *
 * Each worker is a `node:worker_threads` worker started from source text (`{eval: true}`: no
 * files, no permissions), `unref()`ed, holding its own instance of the kernels on tfjs's memory.
 * A call hands each thread a list of kernel calls (slices of images or rows); the calling thread
 * runs the first list itself and waits (`Atomics.wait`) for the others. The hand-off costs tens
 * of microseconds, so small calls stay on one thread.
 *
 * Introduced in lesson 02 (LeNet-5), where training speed first matters.
 *
 * @module
 */
import workerThreads from "node:worker_threads";
import type { SimdKernels } from "./simd.ts";

/** Kernel names, by the index the control block carries. */
export const KERNEL_NAMES = [
  "conv2d_filter_grad",
  "conv2d_input_grad",
  "column_sums",
  "maxpool_grad",
  "add_arrays",
  "relu_grad",
  "winograd_conv3x3",
  "winograd_filter_grad",
  "conv2d_direct",
  "bias_add",
] as const satisfies readonly (keyof SimdKernels)[];

/** One kernel's name. */
export type KernelName = typeof KERNEL_NAMES[number];

/** Most arguments one kernel call takes (the convolution gradients: 18). */
const MAX_ARGS = 20;
/** Most kernel calls one worker runs per hand-off (a reduction's chunks: see simd.ts). */
export const MAX_CALLS = 8;
/** Int32 slots per worker: generation, done, kernel, calls, arguments per call, arguments. */
const SLOTS = 5 + MAX_CALLS * MAX_ARGS;
const GEN = 0, DONE = 1, KERNEL = 2, CALLS = 3, ARGC = 4, ARGS = 5;
/**
 * How long the calling thread polls for a worker's slice before it sleeps: waking from
 * `Atomics.wait` took tens of microseconds here, per call, and the slices of one call end
 * within a millisecond of each other.
 */
const SPIN_MS = 1;
/** A slice that does not finish in this time is a bug (a trap in a worker): fail loudly. */
const TIMEOUT_MS = 120_000;

const WORKER_SOURCE = `
const { workerData } = require("worker_threads");
const { kernels, memory, control, index, names } = workerData;
const instance = new WebAssembly.Instance(kernels, { env: { memory } });
const fns = names.map((name) => instance.exports[name]);
const c = new Int32Array(control);
const base = index * ${SLOTS};
let seen = 0;
for (;;) {
  Atomics.wait(c, base + ${GEN}, seen);
  seen = Atomics.load(c, base + ${GEN});
  if (seen < 0) break;
  const fn = fns[c[base + ${KERNEL}]], calls = c[base + ${CALLS}], argc = c[base + ${ARGC}];
  const args = new Array(argc);
  for (let call = 0, at = base + ${ARGS}; call < calls; call++) {
    for (let i = 0; i < argc; i++) args[i] = c[at++];
    fn(...args);
  }
  Atomics.store(c, base + ${DONE}, seen);
  Atomics.notify(c, base + ${DONE});
}
`;

/** Helper threads (plus the calling one) sharing the kernels' work. */
export class KernelPool {
  /** Threads working on a call, the calling one included. */
  readonly threads: number;
  readonly #control: Int32Array;
  readonly #workers: InstanceType<typeof workerThreads.Worker>[] = [];
  #generation = 0;

  constructor(kernels: WebAssembly.Module, memory: WebAssembly.Memory, threads: number) {
    this.threads = threads;
    const control = new SharedArrayBuffer(4 * SLOTS * Math.max(1, threads - 1));
    this.#control = new Int32Array(control);
    for (let index = 0; index < threads - 1; index++) {
      const worker = new workerThreads.Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { kernels, memory, control, index, names: [...KERNEL_NAMES] },
      });
      worker.unref();
      this.#workers.push(worker);
    }
  }

  /**
   * Run `name` on several threads at once: `calls[t]` is the list of argument lists thread `t`
   * runs in order (at most `threads` lists, each of at most `MAX_CALLS` calls, all with the same
   * number of arguments); list 0 runs on this thread with `runHere`, the others on the workers.
   */
  run(name: KernelName, calls: number[][][], runHere: (args: number[]) => void): void {
    if (calls.length > this.threads) {
      throw new RangeError(
        `Cannot run ${calls.length} slices on a pool of ${this.threads} threads`,
      );
    }
    const helpers = calls.length - 1;
    const generation = ++this.#generation;
    const c = this.#control;
    for (let w = 0; w < helpers; w++) {
      const base = w * SLOTS;
      const list = calls[w + 1];
      const argc = list[0]?.length ?? 0;
      if (list.length > MAX_CALLS || argc > MAX_ARGS || list.some((a) => a.length !== argc)) {
        throw new RangeError(
          `Cannot hand ${name} to a worker: ${list.length} calls of ${argc} args`,
        );
      }
      c[base + KERNEL] = KERNEL_NAMES.indexOf(name);
      c[base + CALLS] = list.length;
      c[base + ARGC] = argc;
      let at = base + ARGS;
      for (const args of list) for (const a of args) c[at++] = a;
      Atomics.store(c, base + GEN, generation);
      Atomics.notify(c, base + GEN);
    }
    for (const args of calls[0]) runHere(args);
    for (let w = 0; w < helpers; w++) {
      const at = w * SLOTS + DONE;
      const started = performance.now();
      for (let done = Atomics.load(c, at); done !== generation; done = Atomics.load(c, at)) {
        if (performance.now() - started < SPIN_MS) continue;
        Atomics.wait(c, at, done, 1000);
        if (performance.now() - started > TIMEOUT_MS) {
          throw new Error(`Convlab's SIMD kernel ${name} did not finish on worker ${w + 1}`);
        }
      }
    }
  }
}

/** Split `count` items into `parts` contiguous ranges `[from, to)`, as even as possible. */
export function split(count: number, parts: number): [number, number][] {
  const ranges: [number, number][] = [];
  for (let p = 0; p < parts; p++) {
    ranges.push([Math.floor((count * p) / parts), Math.floor((count * (p + 1)) / parts)]);
  }
  return ranges;
}
