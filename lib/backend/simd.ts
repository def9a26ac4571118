/**
 * Convlab's hand-written WebAssembly SIMD kernels (`simd/kernels.c`), run inside
 * tfjs-backend-wasm's own memory so they read and write tensors in place.
 *
 * The module is embedded as base64 (`simd/kernels_wasm.ts`, made by `simd/build.sh`), so it
 * loads without file access, and instantiated once per wasm backend with the backend's
 * `WebAssembly.Memory` as its only import.
 *
 * Introduced in lesson 02 (LeNet-5), where training speed first matters.
 *
 * @module
 */
import { type BackendWasm, getThreadsCount } from "@tensorflow/tfjs-backend-wasm";
import { type KernelName, KernelPool, MAX_CALLS, split } from "./simd_pool.ts";
import type * as tf from "@tensorflow/tfjs";
import { KERNELS_MT_WASM_BASE64, KERNELS_WASM_BASE64 } from "./simd/kernels_wasm.ts";

type Ptr = number;

/**
 * A convolution-gradient kernel's arguments: three tensors, a scratch buffer, the images
 * [n0, n1) of this slice, then the geometry (input h×w×c, output oh×ow×o, filter kh×kw, strides,
 * top/left padding).
 */
type ConvGradKernel = (
  a: Ptr,
  b: Ptr,
  out: Ptr,
  scratch: Ptr,
  n0: number,
  n1: number,
  h: number,
  w: number,
  c: number,
  oh: number,
  ow: number,
  o: number,
  kh: number,
  kw: number,
  sh: number,
  sw: number,
  top: number,
  left: number,
) => void;

/** A Winograd kernel's arguments: as ConvGradKernel, for 3×3 stride-1 filters. */
type WinogradKernel = (
  a: Ptr,
  b: Ptr,
  out: Ptr,
  scratch: Ptr,
  n0: number,
  n1: number,
  h: number,
  w: number,
  c: number,
  o: number,
  oh: number,
  ow: number,
  top: number,
  left: number,
) => void;

/** The functions `simd/kernels.c` exports (pointers are byte offsets into tfjs's heap). */
export interface SimdKernels {
  /** (x, dy, dw, scratch, …): the filter gradient, accumulated into dw. */
  conv2d_filter_grad: ConvGradKernel;
  pack_filter_input_grad(w: Ptr, wp: Ptr, kh: number, kw: number, c: number, o: number): void;
  /** (dy, packed filter, dx, scratch, …): the input gradient. */
  conv2d_input_grad: ConvGradKernel;
  pack_filter_direct(w: Ptr, wp: Ptr, kh: number, kw: number, c: number, o: number): void;
  /** (x, packed filter, y, scratch, …): a direct convolution. */
  conv2d_direct: ConvGradKernel;
  column_sums(x: Ptr, out: Ptr, r0: number, r1: number, cols: number): void;
  add_arrays(dst: Ptr, src: Ptr, n: number): void;
  /** (x, bias repeated 4 times, out, rows r0..r1, cols): out = x + bias, row by row. */
  bias_add(x: Ptr, pattern: Ptr, out: Ptr, r0: number, r1: number, cols: number): void;
  relu_grad(dy: Ptr, x: Ptr, out: Ptr, i0: number, i1: number): void;
  winograd_filter(w: Ptr, u: Ptr, c: number, o: number, flip: number): void;
  /** (x, dy, accumulator [16][c][o], scratch, …). */
  winograd_filter_grad: WinogradKernel;
  winograd_filter_grad_finish(acc: Ptr, dw: Ptr, c: number, o: number): void;
  /** (x, transformed filter, y, scratch, …). */
  winograd_conv3x3: WinogradKernel;
  adam_update(
    w: Ptr,
    m: Ptr,
    v: Ptr,
    g: Ptr,
    wOut: Ptr,
    mOut: Ptr,
    vOut: Ptr,
    n: number,
    b1: number,
    c1: number,
    b2: number,
    c2: number,
    a1: number,
    a2: number,
    eps: number,
    negLr: number,
  ): void;
  maxpool_grad(
    x: Ptr,
    dy: Ptr,
    dx: Ptr,
    n0: number,
    n1: number,
    h: number,
    w: number,
    c: number,
    oh: number,
    ow: number,
    fh: number,
    fw: number,
    sh: number,
    sw: number,
    top: number,
    left: number,
  ): void;
}

interface WasmModuleInternals {
  asm?: { memory?: WebAssembly.Memory };
  wasmMemory?: WebAssembly.Memory;
  _malloc(bytes: number): number;
  _free(ptr: number): void;
}

const compiled = new Map<string, WebAssembly.Module>();
const instances = new WeakMap<object, SimdKernels>();

function wasmBytes(base64: string): Uint8Array {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function internals(backend: BackendWasm): WasmModuleInternals {
  return backend.wasm as unknown as WasmModuleInternals;
}

/** tfjs-backend-wasm's linear memory (exported by the single-threaded build, imported by the
 * threaded one). */
export function tfjsMemory(backend: BackendWasm): WebAssembly.Memory {
  const module = internals(backend);
  const memory = module.asm?.memory ?? module.wasmMemory;
  if (!(memory instanceof WebAssembly.Memory)) {
    throw new Error(
      "Cannot start Convlab's SIMD kernels: tfjs-backend-wasm's memory is not reachable",
    );
  }
  return memory;
}

/** The compiled kernels for this kind of memory (shared or not). */
export function kernelModule(memory: WebAssembly.Memory): WebAssembly.Module {
  const shared = memory.buffer instanceof SharedArrayBuffer;
  const base64 = shared ? KERNELS_MT_WASM_BASE64 : KERNELS_WASM_BASE64;
  let module = compiled.get(base64);
  if (!module) {
    module = new WebAssembly.Module(wasmBytes(base64) as BufferSource);
    compiled.set(base64, module);
  }
  return module;
}

/** The kernels, bound to this backend's memory (instantiated on first use). */
export function simdKernels(backend: BackendWasm): SimdKernels {
  let kernels = instances.get(backend);
  if (!kernels) {
    const memory = tfjsMemory(backend);
    const instance = new WebAssembly.Instance(kernelModule(memory), { env: { memory } });
    kernels = instance.exports as unknown as SimdKernels;
    instances.set(backend, kernels);
  }
  return kernels;
}

/** Byte offset of a tensor's data in the wasm heap. */
export function pointer(backend: BackendWasm, t: tf.TensorInfo): Ptr {
  return backend.dataIdMap.get(t.dataId)!.memoryOffset;
}

/** Run `fn` with a scratch buffer of `floats` float32s on the wasm heap, freed afterwards. */
export function withScratch<T>(backend: BackendWasm, floats: number, fn: (ptr: Ptr) => T): T {
  const module = internals(backend);
  const ptr = module._malloc(Math.max(4, floats * 4));
  try {
    return fn(ptr);
  } finally {
    module._free(ptr);
  }
}

const pools = new WeakMap<object, KernelPool | null>();

/** The pool of helper threads for this backend, or null when it runs single-threaded. */
export function kernelPool(backend: BackendWasm): KernelPool | null {
  let pool = pools.get(backend);
  if (pool === undefined) {
    const memory = tfjsMemory(backend);
    const threads = getThreadsCount();
    pool = memory.buffer instanceof SharedArrayBuffer && threads > 1
      ? new KernelPool(kernelModule(memory), memory, threads)
      : null;
    pools.set(backend, pool);
  }
  return pool;
}

/** Multiply-adds below which a call stays on one thread (the hand-off costs ~50 µs). */
const PARALLEL_MIN_WORK = 2_000_000;

/**
 * Run a kernel over `count` items (images, rows) split across the pool's threads when the work
 * is large enough. `argsOf(from, to, part)` gives one slice's arguments. Only for kernels whose
 * outputs do not depend on the slicing (each item's result is computed alone); sums over items
 * go through `reduceInChunks`.
 */
export function runSliced(
  backend: BackendWasm,
  name: KernelName,
  parts: number,
  count: number,
  argsOf: (from: number, to: number, part: number) => number[],
): void {
  const kernels = simdKernels(backend) as unknown as Record<string, (...a: number[]) => void>;
  const ranges = split(count, parts);
  if (parts === 1) {
    kernels[name](...argsOf(ranges[0][0], ranges[0][1], 0));
    return;
  }
  kernelPool(backend)!.run(
    name,
    ranges.map(([from, to], part) => [argsOf(from, to, part)]),
    (args) => kernels[name](...args),
  );
}

/** How many slices to cut `count` items of `work` multiply-adds in all into. */
export function slices(backend: BackendWasm, count: number, work: number): number {
  const pool = work >= PARALLEL_MIN_WORK && count > 1 ? kernelPool(backend) : null;
  return pool ? Math.min(pool.threads, count) : 1;
}

/**
 * Partial sums a reduction over items is cut into, whatever the thread count: float addition is
 * not associative, so the chunks, and the order their sums are added in, must not depend on the
 * threads, or `CONVLAB_THREADS=1` and `=2` would train to different weights. 8 keeps up to 8
 * threads busy and costs 7 extra additions of the result per call (≪ 1% of a convolution's
 * gradient).
 */
export const REDUCTION_CHUNKS = MAX_CALLS;

/** A reduction's shape for `reduceInChunks`. */
export interface Reduction {
  /** Items summed over (images, rows). */
  count: number;
  /** Multiply-adds in all (small reductions stay on one thread). */
  work: number;
  /** Where the sum goes (zeroed here first). */
  out: Ptr;
  /** Floats in the sum. */
  size: number;
  /** Floats of scratch each running thread needs (0 for none). */
  scratchPerThread: number;
}

/**
 * Sum a kernel's results over `count` items in a fixed order, on as many threads as pay off,
 * bit for bit the same for every thread count: the items are cut into
 * `min(count, REDUCTION_CHUNKS)` contiguous chunks, each summed by one kernel call into its own
 * zeroed partial (chunk 0 into `out`), then the partials are added to `out` in chunk order.
 * Threads only decide who computes which chunks. `argsOf(from, to, partial, scratch)` gives one
 * call's arguments: the kernel adds items `[from, to)` into `partial`.
 */
export function reduceInChunks(
  backend: BackendWasm,
  name: KernelName,
  reduction: Reduction,
  argsOf: (from: number, to: number, partial: Ptr, scratch: Ptr) => number[],
): void {
  const { count, work, out, size, scratchPerThread } = reduction;
  const chunks = Math.max(1, Math.min(count, REDUCTION_CHUNKS));
  const threads = slices(backend, chunks, work);
  const kernels = simdKernels(backend) as unknown as Record<string, (...a: number[]) => void>;
  withScratch(backend, threads * scratchPerThread + (chunks - 1) * size, (scratch) => {
    const partials = scratch + 4 * threads * scratchPerThread;
    const partial = (chunk: number) => chunk === 0 ? out : partials + 4 * (chunk - 1) * size;
    heapF32(backend, out, size).fill(0);
    heapF32(backend, partials, (chunks - 1) * size).fill(0);
    const items = split(count, chunks);
    const calls = split(chunks, threads).map(([first, last], thread) =>
      items.slice(first, last).map(([from, to], i) =>
        argsOf(from, to, partial(first + i), scratch + 4 * thread * scratchPerThread)
      )
    );
    if (threads === 1) calls[0].forEach((args) => kernels[name](...args));
    else kernelPool(backend)!.run(name, calls, (args) => kernels[name](...args));
    for (let chunk = 1; chunk < chunks; chunk++) {
      kernels.add_arrays(out, partial(chunk), size);
    }
  });
}

/** A float32 view of tfjs's heap (taken fresh: growing the heap detaches old views). */
export function heapF32(backend: BackendWasm, ptr: Ptr, length: number): Float32Array {
  return new Float32Array(tfjsMemory(backend).buffer, ptr, length);
}
