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
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import type * as tf from "@tensorflow/tfjs";
import { KERNELS_WASM_BASE64 } from "./simd/kernels_wasm.ts";

type Ptr = number;

/** The functions `simd/kernels.c` exports (pointers are byte offsets into tfjs's heap). */
export interface SimdKernels {
  conv2d_filter_grad(
    x: Ptr,
    dy: Ptr,
    dw: Ptr,
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
  ): void;
  conv2d_input_grad(
    dy: Ptr,
    wt: Ptr,
    dx: Ptr,
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
  ): void;
  column_sums(x: Ptr, out: Ptr, r0: number, r1: number, cols: number): void;
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

let compiled: WebAssembly.Module | undefined;
const instances = new WeakMap<object, SimdKernels>();

function wasmBytes(): Uint8Array {
  const binary = atob(KERNELS_WASM_BASE64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function internals(backend: BackendWasm): WasmModuleInternals {
  return backend.wasm as unknown as WasmModuleInternals;
}

/** The kernels, bound to this backend's memory (instantiated on first use). */
export function simdKernels(backend: BackendWasm): SimdKernels {
  let kernels = instances.get(backend);
  if (!kernels) {
    const module = internals(backend);
    const memory = module.asm?.memory ?? module.wasmMemory;
    if (!(memory instanceof WebAssembly.Memory)) {
      throw new Error(
        "Cannot start Convlab's SIMD kernels: tfjs-backend-wasm's memory is not reachable",
      );
    }
    compiled ??= new WebAssembly.Module(wasmBytes() as BufferSource);
    const instance = new WebAssembly.Instance(compiled, { env: { memory } });
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
