/**
 * Gradient kernels that tfjs-backend-wasm 4.22 lacks or runs slowly, so that CNNs train on `wasm`.
 *
 * tfjs-backend-wasm has no `Conv2DBackpropFilter` (tensorflow/tfjs#8474: `model.fit` of any Conv2D
 * model fails), no depthwise backprop kernels (fine-tuning MobileNet-style models fails) and no
 * `UnsortedSegmentSum` (the gradient of `tf.gather`). Its `Conv2DBackpropInput` is a naive loop
 * that took about half of a LeNet-5 training step in a profile. Every kernel here is expressed
 * through the backend's own XNNPACK convolutions, transposes and pads, so it runs at XNNPACK
 * speed; each is checked against the `cpu` backend in `tests/lib/wasm_kernels_test.ts`.
 * tfjs-backend-wasm's forward convolutions (plain, fused, depthwise) compute 'same' padding
 * wrong when a stride exceeds the filter; such calls get the padding as explicit numbers.
 *
 * The identities used (NHWC, `s` = stride, `d` = dilation, `p` = top/left padding):
 * - filter gradient: `dW[i,j,c,o] = Σ_{n,y,x} X[n, y·s + i·d − p, …, c] · dY[n,y,x,o]` is a
 *   convolution of `Xᵀ[c,H,W,n]` with `dYᵀ[OH,OW,n,o]` using stride `d` and dilation `s`;
 * - input gradient: `dX` is a stride-1 convolution of `dY` with zeros inserted between its
 *   pixels (`s − 1` of them) by the filter rotated 180° with input and output channels swapped,
 *   padded by `(k − 1)·d − p`.
 *
 * Introduced in lesson 02 (LeNet-5), where the first CNN is trained.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import {
  heapF32,
  pointer,
  reduceInChunks,
  runSliced,
  simdKernels,
  slices,
  withScratch,
} from "./simd.ts";

type Info = tf.TensorInfo;
type Pads = { top: number; bottom: number; left: number; right: number };

/**
 * Runs wasm kernels by name and disposes the intermediates it made when `finish` is called,
 * keeping only the result.
 */
class KernelScope {
  readonly #backend: BackendWasm;
  readonly #made: Info[] = [];

  constructor(backend: BackendWasm) {
    this.#backend = backend;
  }

  run(name: string, inputs: Record<string, Info>, attrs: Record<string, unknown> = {}): Info {
    const kernel = tf.getKernel(name, "wasm");
    if (!kernel) {
      throw new Error(`Cannot run Convlab's wasm gradient kernels: wasm has no ${name} kernel`);
    }
    const out = kernel.kernelFunc(
      {
        inputs,
        backend: this.#backend,
        attrs,
      } as unknown as Parameters<tf.KernelFunc>[0],
    ) as Info;
    this.#made.push(out);
    return out;
  }

  transpose(x: Info, perm: number[]): Info {
    return this.run("Transpose", { x }, { perm });
  }

  reshape(x: Info, shape: number[]): Info {
    return this.run("Reshape", { x }, { shape });
  }

  slice(x: Info, begin: number[], size: number[]): Info {
    const same = begin.every((b) => b === 0) && size.every((s, i) => s === x.shape[i]);
    return same ? x : this.run("Slice", { x }, { begin, size });
  }

  /**
   * Frees every intermediate except `result`. Reshapes share their input's data and hold a
   * reference to it, so each one made is released once, even when it shares `result`'s data.
   */
  finish(result: Info): Info {
    for (const t of this.#made) {
      if (t !== result) this.#backend.disposeData(t.dataId);
    }
    return result;
  }
}

function kernelArgs(args: unknown): {
  inputs: Record<string, Info>;
  backend: BackendWasm;
  attrs: Record<string, unknown>;
} {
  return args as {
    inputs: Record<string, Info>;
    backend: BackendWasm;
    attrs: Record<string, unknown>;
  };
}

function pair(value: unknown, name: string): [number, number] {
  if (value == null) return [1, 1];
  if (typeof value === "number") return [value, value];
  const v = value as number[];
  if (v.length !== 2) throw new RangeError(`Cannot compute gradient: ${name} must have 2 values`);
  return [v[0], v[1]];
}

function convInfo(
  xShape: number[],
  filterShape: number[],
  attrs: Record<string, unknown>,
  depthwise: boolean,
): tf.backend_util.Conv2DInfo {
  const dataFormat = tf.backend_util.convertConv2DDataFormat(
    (attrs.dataFormat as "NHWC" | "NCHW" | undefined) ?? "NHWC",
  );
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    pair(attrs.strides, "strides"),
    pair(attrs.dilations, "dilations"),
    attrs.pad as "same" | "valid" | number,
    attrs.dimRoundingMode as "floor" | "round" | "ceil" | undefined,
    depthwise,
    dataFormat,
  );
}

function explicitPad(p: Pads): number[][] {
  return [[0, 0], [p.top, p.bottom], [p.left, p.right], [0, 0]];
}

/**
 * `dW` of a convolution (regular, or depthwise with `depthwise: true`) as one XNNPACK conv of
 * transposed tensors. `x` is NHWC, `dy` is [n, OH, OW, channels out].
 */
function filterGradient(
  s: KernelScope,
  x: Info,
  dy: Info,
  info: tf.backend_util.Conv2DInfo,
  depthwise: boolean,
): Info {
  const [n, h, w, c] = x.shape;
  const [, oh, ow, o] = dy.shape;
  const kh = info.filterHeight, kw = info.filterWidth;
  const p = info.padInfo;
  // Output rows of the gradient conv: enough to cover kh taps; extra ones (from the stride
  // remainder) are sliced off below.
  const attrs = {
    strides: [info.dilationHeight, info.dilationWidth],
    dilations: [info.strideHeight, info.strideWidth],
    pad: explicitPad(p),
    dataFormat: "NHWC",
    dimRoundingMode: undefined,
  };
  if (!depthwise) {
    const xT = s.transpose(x, [3, 1, 2, 0]); // [c, H, W, n]
    const dyT = s.transpose(dy, [1, 2, 0, 3]); // [OH, OW, n, o]
    const r = s.run("Conv2D", { x: xT, filter: dyT }, attrs); // [c, kh', kw', o]
    const cut = s.slice(r, [0, 0, 0, 0], [c, kh, kw, o]);
    return s.transpose(cut, [1, 2, 0, 3]); // [kh, kw, c, o]
  }
  // Depthwise: every (image, channel) pair is its own group, summed over images afterwards.
  const m = o / c;
  const xR = s.reshape(s.transpose(x, [1, 2, 0, 3]), [1, h, w, n * c]);
  const dyR = s.reshape(s.transpose(dy, [1, 2, 0, 3]), [oh, ow, n * c, m]);
  const r = s.run("DepthwiseConv2dNative", { x: xR, filter: dyR }, attrs); // [1,kh',kw',n*c*m]
  const cut = s.slice(r, [0, 0, 0, 0], [1, kh, kw, n * c * m]);
  const perImage = s.reshape(cut, [kh * kw, n, c * m]);
  const summed = s.run("Sum", { x: perImage }, { axis: [1], keepDims: false });
  return s.reshape(summed, [kh, kw, c, m]);
}

/**
 * `dY` with `stride − 1` zeros inserted after every pixel along H and W (the trailing zeros are
 * harmless: the caller's padding accounts for them). Returns the tensor and its spatial size.
 */
function insertZeros(s: KernelScope, dy: Info, sh: number, sw: number): Info {
  const [n, oh, ow, ch] = dy.shape;
  let t = dy;
  if (sw > 1) {
    const cols = s.reshape(t, [n * oh, ow, 1, ch]);
    const padded = s.run("PadV2", { x: cols }, {
      paddings: [[0, 0], [0, 0], [0, sw - 1], [0, 0]],
      constantValue: 0,
    });
    t = s.reshape(padded, [n, oh, ow * sw, ch]);
  }
  if (sh > 1) {
    const wide = t.shape[2];
    const rows = s.reshape(t, [n, oh, 1, wide * ch]);
    const padded = s.run("PadV2", { x: rows }, {
      paddings: [[0, 0], [0, 0], [0, sh - 1], [0, 0]],
      constantValue: 0,
    });
    t = s.reshape(padded, [n, oh * sh, wide, ch]);
  }
  return t;
}

/**
 * `dX` of a convolution as a stride-1 XNNPACK convolution of the zero-stuffed `dy` with the
 * rotated filter. `rotated` is [kh, kw, channels of dy, channels of x] for a regular conv, or
 * [kh, kw, channels of dy, 1] for the depthwise case.
 */
function inputGradient(
  s: KernelScope,
  dy: Info,
  rotated: Info,
  info: tf.backend_util.Conv2DInfo,
  depthwise: boolean,
): Info {
  const [n, h, w] = [info.batchSize, info.inHeight, info.inWidth];
  const kh = info.filterHeight, kw = info.filterWidth;
  const dh = info.dilationHeight, dw = info.dilationWidth;
  let t = insertZeros(s, dy, info.strideHeight, info.strideWidth);
  let top = (kh - 1) * dh - info.padInfo.top;
  let left = (kw - 1) * dw - info.padInfo.left;
  // Padding larger than the kernel's reach: drop the rows/columns it would skip.
  if (top < 0 || left < 0) {
    const cropTop = Math.max(0, -top), cropLeft = Math.max(0, -left);
    t = s.slice(t, [0, cropTop, cropLeft, 0], [
      n,
      t.shape[1] - cropTop,
      t.shape[2] - cropLeft,
      t.shape[3],
    ]);
    top = Math.max(0, top);
    left = Math.max(0, left);
  }
  const bottom = Math.max(0, h - t.shape[1] - top + (kh - 1) * dh);
  const right = Math.max(0, w - t.shape[2] - left + (kw - 1) * dw);
  const attrs = {
    strides: [1, 1],
    dilations: [dh, dw],
    pad: explicitPad({ top, bottom, left, right }),
    dataFormat: "NHWC",
    dimRoundingMode: undefined,
  };
  const r = s.run(depthwise ? "DepthwiseConv2dNative" : "Conv2D", { x: t, filter: rotated }, attrs);
  return s.slice(r, [0, 0, 0, 0], [n, h, w, r.shape[3]]);
}

/** The geometry arguments of the convolution-gradient kernels (after the slice's images). */
function geometry(info: tf.backend_util.Conv2DInfo): number[] {
  return [
    info.inHeight,
    info.inWidth,
    info.inChannels,
    info.outHeight,
    info.outWidth,
    info.outChannels,
    info.filterHeight,
    info.filterWidth,
    info.strideHeight,
    info.strideWidth,
    info.padInfo.top,
    info.padInfo.left,
  ];
}

/** The geometry arguments of the Winograd filter gradient. */
function winogradGeometry(info: tf.backend_util.Conv2DInfo): number[] {
  return [
    info.inHeight,
    info.inWidth,
    info.inChannels,
    info.outChannels,
    info.outHeight,
    info.outWidth,
    info.padInfo.top,
    info.padInfo.left,
  ];
}

/**
 * Whether the convolution is a matrix product in disguise: the filter covers the whole
 * unpadded input, one output pixel (LeNet-5's third convolution, 5×5 on 5×5).
 */
function isDense(info: tf.backend_util.Conv2DInfo): boolean {
  const p = info.padInfo;
  return info.outHeight === 1 && info.outWidth === 1 && info.inHeight === info.filterHeight &&
    info.inWidth === info.filterWidth && p.top === 0 && p.left === 0 && p.bottom === 0 &&
    p.right === 0;
}

/** NCHW → NHWC for inputs of kernels that XNNPACK only runs channels-last. */
function toChannelsLast(s: KernelScope, t: Info, format: string): Info {
  return format === "channelsLast" ? t : s.transpose(t, [0, 2, 3, 1]);
}

function conv2DBackpropFilter(args: unknown): Info {
  const { inputs, backend, attrs } = kernelArgs(args);
  const s = new KernelScope(backend);
  const filterShape = attrs.filterShape as number[];
  const info = convInfo(inputs.x.shape, filterShape, attrs, false);
  const x = toChannelsLast(s, inputs.x, info.dataFormat);
  const dy = toChannelsLast(s, inputs.dy, info.dataFormat);
  const { batchSize: n, inChannels: c, outHeight: oh, outWidth: ow, outChannels: o } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  if (winogradApplies(info)) return s.finish(winogradFilterGradient(backend, x, dy, info));
  if (isDense(info)) {
    // dW = xᵀ · dy with x as [n, kh·kw·c] and dy as [n, o].
    const product = s.run("BatchMatMul", {
      a: s.reshape(x, [1, n, kh * kw * c]),
      b: s.reshape(dy, [1, n, o]),
    }, { transposeA: true, transposeB: false });
    return s.finish(s.reshape(product, [kh, kw, c, o]));
  }
  // The SIMD kernel vectorises over kw·c filter taps and output channels (4 at a time): with
  // fewer than 4 taps XNNPACK's convolution is faster. Other channel counts are padded to ×4
  // inside the kernel, image by image (LeNet-5's first layer: 6 → 8), and the extra columns of
  // dW dropped (padding dy with tfjs's PadV2 took as long as the gradient itself).
  if (kw * c < 4) return s.finish(filterGradient(s, x, dy, info, false));
  const o4 = Math.ceil(o / 4) * 4;
  const dw = backend.makeOutput([kh, kw, c, o4], "float32");
  const dwSize = kh * kw * c * o4;
  const padded = ((oh - 1) * sh + kh) * ((ow - 1) * sw + kw) * c;
  // Each thread pads its own images (scratch); each chunk of images sums into its own partial dW.
  const [xp, dyp] = [pointer(backend, x), pointer(backend, dy)];
  reduceInChunks(backend, "conv2d_filter_grad", {
    count: n,
    work: n * oh * ow * dwSize,
    out: pointer(backend, dw),
    size: dwSize,
    scratchPerThread: padded + (o4 === o ? 0 : oh * ow * o4),
  }, (from, to, partial, scratch) => [xp, dyp, partial, scratch, from, to, ...geometry(info)]);
  if (o4 === o) return s.finish(dw);
  const cut = s.slice(dw, [0, 0, 0, 0], [kh, kw, c, o]);
  backend.disposeData(dw.dataId);
  return s.finish(cut);
}

/**
 * A 3×3 stride-1 convolution by Winograd F(2×2, 3×3) (`winograd_conv3x3` in simd/kernels.c):
 * 2.25× fewer multiplications than XNNPACK's direct convolution. `x` is NHWC with `c` channels,
 * the result has `o`; `flip` convolves with the filter rotated 180° and its channels swapped
 * (the input gradient). Padding `top`/`left` may be 0..2; the output is `oh` × `ow`.
 */
function winograd(
  backend: BackendWasm,
  x: Info,
  filter: Info,
  shape: { c: number; o: number; oh: number; ow: number; top: number; left: number },
  flip: boolean,
): Info {
  const [n, h, w] = x.shape;
  const { c, o, oh, ow, top, left } = shape;
  const y = backend.makeOutput([n, oh, ow, o], "float32");
  const th = Math.ceil(oh / 2), tw = Math.ceil(ow / 2), tiles = th * tw;
  const perSlice = (2 * th + 2) * (2 * tw + 2) * c + 16 * tiles * (c + o);
  // Work: about a quarter of a direct convolution's multiply-adds.
  const parts = slices(backend, n, (n * oh * ow * 9 * c * o) / 4);
  withScratch(backend, 16 * c * o + parts * perSlice, (scratch) => {
    const u = scratch, slice = scratch + 4 * 16 * c * o;
    simdKernels(backend).winograd_filter(
      pointer(backend, filter),
      u,
      flip ? o : c,
      flip ? c : o,
      flip ? 1 : 0,
    );
    const [xp, yp] = [pointer(backend, x), pointer(backend, y)];
    runSliced(backend, "winograd_conv3x3", parts, n, (from, to, part) => [
      xp,
      u,
      yp,
      slice + 4 * part * perSlice,
      from,
      to,
      h,
      w,
      c,
      o,
      oh,
      ow,
      top,
      left,
    ]);
  });
  return y;
}

/** Whether Winograd F(2×2, 3×3) applies: 3×3, stride 1, undilated, NHWC, channels ×4. */
function winogradApplies(info: tf.backend_util.Conv2DInfo): boolean {
  return info.filterHeight === 3 && info.filterWidth === 3 && info.strideHeight === 1 &&
    info.strideWidth === 1 && info.dilationHeight === 1 && info.dilationWidth === 1 &&
    info.dataFormat === "channelsLast" && info.inChannels % 4 === 0 &&
    info.outChannels % 4 === 0 && info.padInfo.top <= 2 && info.padInfo.left <= 2;
}

/**
 * The filter gradient of a 3×3 stride-1 convolution by Winograd F(3×3, 2×2)
 * (`winograd_filter_grad` in simd/kernels.c): 2.25× fewer multiplications than direct.
 */
function winogradFilterGradient(
  backend: BackendWasm,
  x: Info,
  dy: Info,
  info: tf.backend_util.Conv2DInfo,
): Info {
  const { batchSize: n, inChannels: c, outChannels: o, outHeight: oh, outWidth: ow } = info;
  const th = Math.ceil(oh / 2), tw = Math.ceil(ow / 2), tiles = th * tw;
  const perSlice = (2 * th + 2) * (2 * tw + 2) * c + 4 * th * tw * o + 16 * tiles * (c + o);
  const accSize = 16 * c * o;
  const dw = backend.makeOutput([3, 3, c, o], "float32");
  withScratch(backend, accSize, (acc) => {
    const [xp, dyp] = [pointer(backend, x), pointer(backend, dy)];
    reduceInChunks(backend, "winograd_filter_grad", {
      count: n,
      work: (n * oh * ow * 9 * c * o) / 4,
      out: acc,
      size: accSize,
      scratchPerThread: perSlice,
    }, (from, to, partial, scratch) => [
      xp,
      dyp,
      partial,
      scratch,
      from,
      to,
      ...winogradGeometry(info),
    ]);
    simdKernels(backend).winograd_filter_grad_finish(acc, pointer(backend, dw), c, o);
  });
  return dw;
}

/** A direct convolution (`conv2d_direct`): 4 pixels × 8 output channels per register block. */
function directConv(
  backend: BackendWasm,
  x: Info,
  filter: Info,
  info: tf.backend_util.Conv2DInfo,
): Info {
  const { batchSize: n, outHeight: oh, outWidth: ow, outChannels: o, inChannels: c } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const y = backend.makeOutput([n, oh, ow, o], "float32");
  const padded = ((oh - 1) * sh + kh) * ((ow - 1) * sw + kw) * c;
  const packed = kh * kw * c * Math.ceil(o / 8) * 8;
  const parts = slices(backend, n, n * oh * ow * kh * kw * c * o);
  withScratch(backend, packed + parts * padded, (scratch) => {
    const wp = scratch, slice = scratch + 4 * packed;
    simdKernels(backend).pack_filter_direct(pointer(backend, filter), wp, kh, kw, c, o);
    const [xp, yp] = [pointer(backend, x), pointer(backend, y)];
    runSliced(backend, "conv2d_direct", parts, n, (from, to, part) => [
      xp,
      wp,
      yp,
      slice + 4 * part * padded,
      from,
      to,
      ...geometry(info),
    ]);
  });
  return y;
}

/**
 * Conv2D: Winograd for 3×3 stride-1 layers, a direct SIMD kernel for 1–3 input channels,
 * XNNPACK (tfjs's own kernel) otherwise.
 */
function conv2D(args: unknown): Info {
  const { inputs, backend, attrs } = kernelArgs(args);
  const info = convInfo(inputs.x.shape, inputs.filter.shape, attrs, false);
  const plain = info.dataFormat === "channelsLast" && info.dilationHeight === 1 &&
    info.dilationWidth === 1 && inputs.x.dtype === "float32";
  // XNNPACK is slow with 1–3 input channels (LeNet-5's first layer took 4 ms a step).
  if (plain && info.inChannels < 4) return directConv(backend, inputs.x, inputs.filter, info);
  if (!winogradApplies(info) || inputs.x.dtype !== "float32") {
    return originalKernels.get("Conv2D")!(withExplicitSamePadding(args, info));
  }
  return winograd(backend, inputs.x, inputs.filter, {
    c: info.inChannels,
    o: info.outChannels,
    oh: info.outHeight,
    ow: info.outWidth,
    top: info.padInfo.top,
    left: info.padInfo.left,
  }, false);
}

/**
 * tfjs-backend-wasm hands `pad: "same"` to XNNPACK as its TensorFlow-SAME flag, which computes
 * wrong outputs (zeros, shifted windows) when a stride exceeds the filter along an axis (e.g.
 * a 2×2 filter with stride 3). The same padding given as explicit numbers is computed right.
 */
function withExplicitSamePadding(args: unknown, info: tf.backend_util.Conv2DInfo): unknown {
  const strideBeyondFilter = info.strideHeight > info.filterHeight ||
    info.strideWidth > info.filterWidth;
  if (info.padInfo.type !== "SAME" || !strideBeyondFilter) return args;
  const { attrs } = kernelArgs(args);
  return { ...(args as object), attrs: { ...attrs, pad: explicitPad(info.padInfo) } };
}

/** A forward convolution of tfjs-backend-wasm's own, with 'same' padding made explicit. */
function samePaddingFixed(kernelName: string, depthwise: boolean) {
  return (args: unknown): Info => {
    const { inputs, attrs } = kernelArgs(args);
    const info = convInfo(inputs.x.shape, inputs.filter.shape, attrs, depthwise);
    return originalKernels.get(kernelName)!(withExplicitSamePadding(args, info));
  };
}

function conv2DBackpropInput(args: unknown): Info {
  const { inputs, backend, attrs } = kernelArgs(args);
  const s = new KernelScope(backend);
  const filter = inputs.filter; // [kh, kw, in, out]
  const info = convInfo(attrs.inputShape as number[], filter.shape, attrs, false);
  const dy = toChannelsLast(s, inputs.dy, info.dataFormat);
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow } =
    info;
  const { outChannels: o, filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } =
    info;
  if (isDense(info) && info.dataFormat === "channelsLast") {
    // dX = dy · Wᵀ with dy as [n, o] and W as [kh·kw·c, o].
    const product = s.run("BatchMatMul", {
      a: s.reshape(dy, [1, n, o]),
      b: s.reshape(filter, [1, kh * kw * c, o]),
    }, { transposeA: false, transposeB: true });
    return s.finish(s.reshape(product, [n, h, w, c]));
  }
  if (winogradApplies(info)) {
    // dX is the stride-1 convolution of dY, padded by 2 − padding, with the rotated filter.
    return s.finish(winograd(backend, dy, filter, {
      c: o,
      o: c,
      oh: h,
      ow: w,
      top: 2 - info.padInfo.top,
      left: 2 - info.padInfo.left,
    }, true));
  }
  const dx = backend.makeOutput([n, h, w, c], "float32");
  const padded = ((oh - 1) * sh + kh) * ((ow - 1) * sw + kw) * c;
  const packed = kh * Math.ceil((kw * c) / 8) * o * 8;
  const parts = slices(backend, n, n * oh * ow * kh * kw * c * o);
  withScratch(backend, parts * padded + packed, (scratch) => {
    const wp = scratch + 4 * parts * padded;
    const kernels = simdKernels(backend);
    kernels.pack_filter_input_grad(pointer(backend, filter), wp, kh, kw, c, o);
    const [dyp, dxp] = [pointer(backend, dy), pointer(backend, dx)];
    runSliced(backend, "conv2d_input_grad", parts, n, (from, to, part) => [
      dyp,
      wp,
      dxp,
      scratch + 4 * part * padded,
      from,
      to,
      ...geometry(info),
    ]);
  });
  const out = info.dataFormat === "channelsLast" ? dx : s.transpose(dx, [0, 3, 1, 2]);
  if (out !== dx) backend.disposeData(dx.dataId);
  return s.finish(out);
}

function depthwiseBackpropFilter(args: unknown): Info {
  const { inputs, backend, attrs } = kernelArgs(args);
  const s = new KernelScope(backend);
  const info = convInfo(inputs.x.shape, attrs.filterShape as number[], attrs, true);
  return s.finish(filterGradient(s, inputs.x, inputs.dy, info, true));
}

function depthwiseBackpropInput(args: unknown): Info {
  const { inputs, backend, attrs } = kernelArgs(args);
  const s = new KernelScope(backend);
  const filter = inputs.filter; // [kh, kw, c, m]
  const [kh, kw, c, m] = filter.shape;
  const inputShape = attrs.inputShape as number[];
  const info = convInfo(inputShape, filter.shape, attrs, true);
  // Each dy channel c·m+q is convolved with its own rotated tap W[.,.,c,q]; the m results per
  // input channel are summed.
  const rotated = s.reshape(s.run("Reverse", { x: filter }, { dims: [0, 1] }), [kh, kw, c * m, 1]);
  const perOutput = inputGradient(s, inputs.dy, rotated, info, true); // [n, H, W, c*m]
  if (m === 1) return s.finish(perOutput);
  const [n, h, w] = perOutput.shape;
  const grouped = s.reshape(perOutput, [n * h * w * c, m]);
  const summed = s.run("Sum", { x: grouped }, { axis: [1], keepDims: false });
  return s.finish(s.reshape(summed, [n, h, w, c]));
}

/**
 * `out[k, …] = Σ_{i: ids[i] = k} x[i, …]` as one pass over the data on the wasm heap; ids outside
 * `[0, numSegments)` are dropped, as on the other backends.
 */
function unsortedSegmentSum(args: unknown): Info {
  const { inputs, backend, attrs } = kernelArgs(args);
  const { x, segmentIds } = inputs;
  const numSegments = attrs.numSegments as number;
  const rows = tf.util.sizeFromShape(segmentIds.shape);
  const inner = rows === 0 ? 0 : tf.util.sizeFromShape(x.shape) / rows;
  const outShape = [numSegments, ...x.shape.slice(segmentIds.shape.length)];
  const out = backend.makeOutput(outShape, x.dtype);
  // Views are taken after the allocation: growing the heap detaches older ones.
  const values = backend.typedArrayFromHeap(x);
  const ids = backend.typedArrayFromHeap(segmentIds);
  const result = backend.typedArrayFromHeap(out);
  result.fill(0);
  for (let i = 0; i < rows; i++) {
    const k = ids[i];
    if (k < 0 || k >= numSegments) continue;
    const from = i * inner, to = k * inner;
    for (let j = 0; j < inner; j++) result[to + j] += values[from + j];
  }
  return out;
}

/**
 * Matrix products with `transposeA`/`transposeB`: tfjs-backend-wasm runs those 13–25× slower than
 * plain ones (measured), and they are the backward pass of every Dense layer. Transposing first
 * and multiplying plainly is exact and much faster.
 */
function batchMatMul(args: unknown): Info {
  const { inputs, backend, attrs } = kernelArgs(args);
  const original = originalKernels.get("BatchMatMul")!;
  if (!attrs.transposeA && !attrs.transposeB) return original(args);
  const s = new KernelScope(backend);
  const swapLast = (t: Info) => {
    const perm = t.shape.map((_, i) => i);
    const r = perm.length;
    [perm[r - 2], perm[r - 1]] = [perm[r - 1], perm[r - 2]];
    return s.transpose(t, perm);
  };
  const a = attrs.transposeA ? swapLast(inputs.a) : inputs.a;
  const b = attrs.transposeB ? swapLast(inputs.b) : inputs.b;
  const out = original({
    inputs: { a, b },
    backend,
    attrs: { ...attrs, transposeA: false, transposeB: false },
  });
  return s.finish(out);
}

/**
 * Max-pool gradient in one pass: each window's first maximum (as on the cpu backend) receives
 * the window's gradient. tfjs-backend-wasm's own kernel took 15% of a LeNet-5 step.
 */
function maxPoolGrad(args: unknown): Info {
  const { inputs, backend, attrs } = kernelArgs(args);
  const { dy, input } = inputs;
  const info = tf.backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    attrs.filterSize as [number, number] | number,
    attrs.strides as [number, number] | number,
    1,
    attrs.pad as "same" | "valid" | number,
    attrs.dimRoundingMode as "floor" | "round" | "ceil" | undefined,
  );
  // The kernel zeroes dx image by image (filling tfjs's shared heap from JS is slow).
  const dx = backend.makeOutput(input.shape, "float32");
  const [xp, dyp, dxp] = [pointer(backend, input), pointer(backend, dy), pointer(backend, dx)];
  // Comparisons and scattered writes cost about 8 multiply-adds each (measured: 1.5 ms for
  // LeNet-5's first pooling layer on one thread), so this layer is worth two threads.
  const parts = slices(
    backend,
    info.batchSize,
    8 * tf.util.sizeFromShape(info.outShape) * info.effectiveFilterHeight *
      info.effectiveFilterWidth,
  );
  runSliced(backend, "maxpool_grad", parts, info.batchSize, (from, to) => [
    xp,
    dyp,
    dxp,
    from,
    to,
    info.inHeight,
    info.inWidth,
    info.inChannels,
    info.outHeight,
    info.outWidth,
    info.effectiveFilterHeight,
    info.effectiveFilterWidth,
    info.strideHeight,
    info.strideWidth,
    info.padInfo.top,
    info.padInfo.left,
  ]);

  return dx;
}

/**
 * Sums over leading axes (how tfjs reduces a bias gradient: `[n, h, w, c]` over `[0, 1, 2]`) as
 * one pass of column sums; tfjs-backend-wasm transposes first, which took more time than the
 * convolution's own gradient on the CIFAR CNN. Other reductions go to the original kernel.
 */
function sum(args: unknown): Info {
  const { inputs, backend, attrs } = kernelArgs(args);
  const x = inputs.x;
  const axes = tf.util.parseAxisParam(attrs.axis as number | number[], x.shape).sort((a, b) =>
    a - b
  );
  const leading = axes.length > 0 && axes.length < x.shape.length && axes.every((a, i) => a === i);
  if (!leading || x.dtype !== "float32") return originalKernels.get("Sum")!(args);
  const rows = tf.util.sizeFromShape(x.shape.slice(0, axes.length));
  const kept = x.shape.slice(axes.length);
  const shape = attrs.keepDims ? [...axes.map(() => 1), ...kept] : kept;
  const out = backend.makeOutput(shape, "float32");
  const cols = tf.util.sizeFromShape(kept);
  const xp = pointer(backend, x);
  reduceInChunks(backend, "column_sums", {
    count: rows,
    work: rows * cols,
    out: pointer(backend, out),
    size: cols,
    scratchPerThread: 0,
  }, (from, to, partial) => [xp, partial, from, to, cols]);

  return out;
}

/** Whether `bias` is `[c]` (or `[1, …, 1, c]`) for a tensor `x` of shape `[…, c]`. */
function isBiasOf(bias: Info, x: Info): boolean {
  return x.shape.length >= 2 && bias.shape.length >= 1 && bias.shape.length <= x.shape.length &&
    bias.shape[bias.shape.length - 1] === x.shape[x.shape.length - 1] &&
    bias.shape.slice(0, -1).every((d) => d === 1);
}

/**
 * Adding a bias (`[…, c] + [c]`, how tfjs-layers adds a Conv2D's or Dense's bias while training)
 * as one SIMD pass: tfjs-backend-wasm broadcasts with a generic loop that took 1.2–2.8 ms for
 * LeNet-5's first layer ([128, 28, 28, 6] + [6], measured), as long as its convolution. Other
 * additions go to the original kernel. Float addition commutes, so `a + b` and `b + a` agree.
 */
function add(args: unknown): Info {
  const { inputs: { a, b }, backend } = kernelArgs(args);
  const [x, bias] = isBiasOf(b, a) ? [a, b] : isBiasOf(a, b) ? [b, a] : [undefined, undefined];
  if (!x || !bias || a.dtype !== "float32" || b.dtype !== "float32") {
    return originalKernels.get("Add")!(args);
  }
  const cols = x.shape[x.shape.length - 1];
  const size = tf.util.sizeFromShape(x.shape);
  const rows = cols === 0 ? 0 : size / cols;
  const out = backend.makeOutput(x.shape, "float32");
  if (size === 0) return out;
  withScratch(backend, 4 * cols, (pattern) => {
    // Views are taken after the allocation: growing the heap detaches older ones.
    const values = heapF32(backend, pointer(backend, bias), cols);
    const repeated = heapF32(backend, pattern, 4 * cols);
    for (let k = 0; k < 4; k++) repeated.set(values, k * cols);
    const [xp, outp] = [pointer(backend, x), pointer(backend, out)];
    runSliced(
      backend,
      "bias_add",
      // Memory-bound: a read and a write per element; two threads pay off from about 1M.
      slices(backend, rows, 2 * size),
      rows,
      (from, to) => [xp, pattern, outp, from, to, cols],
    );
  });
  return out;
}

/**
 * Identity shares the data (one more reference) instead of copying it, as tfjs's cpu and webgl
 * backends do. tfjs clones every tensor it saves for the backward pass (`tf.clone` is Identity),
 * and tfjs-backend-wasm copied each one: 39 activation-sized copies per LeNet-5 step. Tensors
 * are immutable (Variable.assign swaps data, never writes into it), so sharing is safe.
 */
function identity(args: unknown): Info {
  const { inputs: { x }, backend } = kernelArgs(args);
  if (x.dtype === "string") return originalKernels.get("Identity")!(args);
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
}

/** tfjs-backend-wasm's own kernels that Convlab's replacements fall back to. */
const originalKernels = new Map<string, (args: unknown) => Info>();

/** The kernels this module provides, by tfjs kernel name. */
export const WASM_GRADIENT_KERNELS: Readonly<Record<string, (args: unknown) => Info>> = {
  Conv2DBackpropFilter: conv2DBackpropFilter,
  Conv2DBackpropInput: conv2DBackpropInput,
  DepthwiseConv2dNativeBackpropFilter: depthwiseBackpropFilter,
  DepthwiseConv2dNativeBackpropInput: depthwiseBackpropInput,
  UnsortedSegmentSum: unsortedSegmentSum,
  BatchMatMul: batchMatMul,
  MaxPoolGrad: maxPoolGrad,
  Sum: sum,
  Conv2D: conv2D,
  FusedConv2D: samePaddingFixed("FusedConv2D", false),
  DepthwiseConv2dNative: samePaddingFixed("DepthwiseConv2dNative", true),
  FusedDepthwiseConv2D: samePaddingFixed("FusedDepthwiseConv2D", true),
  Identity: identity,
  Add: add,
};

const MARK = Symbol.for("convlab.wasmKernel");

/**
 * Register Convlab's wasm kernels (idempotent): adds the four tfjs-backend-wasm lacks, replaces
 * its slow training kernels, and routes its forward convolutions' 'same' padding around
 * XNNPACK's stride-beyond-filter bug (see {@linkcode WASM_GRADIENT_KERNELS}).
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import "@tensorflow/tfjs-backend-wasm";
 * import { registerWasmGradientKernels } from "./wasm_kernels.ts";
 * registerWasmGradientKernels();
 * console.log(tf.getKernel("Conv2DBackpropFilter", "wasm") !== undefined); // true
 * ```
 */
export function registerWasmGradientKernels(): void {
  for (const [kernelName, kernelFunc] of Object.entries(WASM_GRADIENT_KERNELS)) {
    const existing = tf.getKernel(kernelName, "wasm") as
      | (tf.KernelConfig & { [MARK]?: true })
      | undefined;
    if (existing?.[MARK]) continue;
    if (existing) {
      originalKernels.set(kernelName, existing.kernelFunc as (args: unknown) => Info);
      tf.unregisterKernel(kernelName, "wasm");
    }
    // Keep the original's setup (it binds the C++ function the original calls).
    const config = {
      kernelName,
      backendName: "wasm",
      kernelFunc,
      setupFunc: existing?.setupFunc,
    } as tf.KernelConfig;
    tf.registerKernel(config);
    (tf.getKernel(kernelName, "wasm") as { [MARK]?: true })[MARK] = true;
  }
}
