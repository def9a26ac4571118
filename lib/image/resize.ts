/**
 * Resizing with TensorFlow 2 semantics (`tf.image.resize`: half-pixel centres; bilinear,
 * nearest, bicubic, area; antialias) and the course's variants: `resizeWithPad`,
 * `resizeWithCropOrPad`, `cropAndResize`.
 *
 * Every method is computed as a separable filter: per output row (and column) a few source
 * indices and weights, worked out exactly as TensorFlow's kernels do, then applied with
 * `gather` + multiply-add on the tfjs backend. So results match TF2 pixel for pixel on any
 * backend, and downscaling with `antialias` costs a few taps per output pixel, not a dense matrix.
 *
 * Introduced in lesson 04 (pretrained models want 224×224 inputs).
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import { rejectUnknownOptions } from "../_options.ts";
import { checkImageRank, checkSize } from "./_check.ts";

/** Interpolation methods of {@linkcode resize}. */
export type ResizeMethod = "bilinear" | "nearest" | "bicubic" | "area";

/** Options of {@linkcode resize}. */
export interface ResizeOptions {
  /** Interpolation (default `"bilinear"`). */
  method?: ResizeMethod;
  /**
   * Low-pass filter when downscaling (TF2's `antialias`): widens the bilinear/bicubic kernel by
   * the scale factor. Ignored for `nearest` and `area` (as in TF). Default false.
   */
  antialias?: boolean;
  /** Keep the aspect ratio: the result fits inside `size` (TF's `preserve_aspect_ratio`). */
  preserveAspectRatio?: boolean;
}

const METHODS: readonly ResizeMethod[] = ["bilinear", "nearest", "bicubic", "area"];

/** Per output position along one axis: `taps` source indices and weights (tap-major). */
interface Taps {
  taps: number;
  indices: Int32Array[];
  weights: Float32Array[];
}

function emptyTaps(taps: number, outSize: number): Taps {
  return {
    taps,
    indices: Array.from({ length: taps }, () => new Int32Array(outSize)),
    weights: Array.from({ length: taps }, () => new Float32Array(outSize)),
  };
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
const f32 = Math.fround;

/** TF `resize_bilinear` with `half_pixel_centers=True`. */
function bilinearTaps(inSize: number, outSize: number): Taps {
  const scale = f32(inSize / outSize);
  const t = emptyTaps(2, outSize);
  for (let o = 0; o < outSize; o++) {
    const src = f32(f32((o + 0.5) * scale) - 0.5);
    const floor = Math.floor(src);
    const lerp = f32(src - floor);
    t.indices[0][o] = Math.max(floor, 0);
    t.indices[1][o] = Math.min(Math.ceil(src), inSize - 1);
    t.weights[0][o] = 1 - lerp;
    t.weights[1][o] = lerp;
  }
  return t;
}

/** TF `resize_nearest_neighbor` with `half_pixel_centers=True`. */
function nearestTaps(inSize: number, outSize: number): Taps {
  const scale = f32(inSize / outSize);
  const t = emptyTaps(1, outSize);
  for (let o = 0; o < outSize; o++) {
    t.indices[0][o] = clamp(Math.floor(f32((o + 0.5) * scale)), 0, inSize - 1);
    t.weights[0][o] = 1;
  }
  return t;
}

/** Keys cubic kernel with a = -0.5 (TF's bicubic with half-pixel centres). */
function keysCubic(x: number): number {
  const a = -0.5;
  x = Math.abs(x);
  if (x <= 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
  return 0;
}

/**
 * TF `resize_bicubic` with `half_pixel_centers=True`: taps outside the image get weight 0 and
 * the rest are renormalised (TF's "keys cubic" border rule).
 */
function bicubicTaps(inSize: number, outSize: number): Taps {
  const scale = f32(inSize / outSize);
  const t = emptyTaps(4, outSize);
  for (let o = 0; o < outSize; o++) {
    const src = f32(f32((o + 0.5) * scale) - 0.5);
    const base = Math.floor(src);
    const delta = src - base;
    let sum = 0;
    for (let k = 0; k < 4; k++) {
      const index = base - 1 + k;
      const w = index >= 0 && index < inSize ? keysCubic(delta - (k - 1)) : 0;
      t.indices[k][o] = clamp(index, 0, inSize - 1);
      t.weights[k][o] = w;
      sum += w;
    }
    if (Math.abs(sum) > 1e-30) { for (let k = 0; k < 4; k++) t.weights[k][o] /= sum; }
  }
  return t;
}

/** TF `resize_area` (align_corners=False): the exact overlap of each output cell. */
function areaTaps(inSize: number, outSize: number): Taps {
  const scale = inSize / outSize;
  const spans: { start: number; weights: number[] }[] = [];
  let taps = 1;
  for (let o = 0; o < outSize; o++) {
    const lo = o * scale, hi = (o + 1) * scale;
    const start = Math.floor(lo), end = Math.ceil(hi);
    const weights: number[] = [];
    for (let i = start; i < end; i++) weights.push((Math.min(i + 1, hi) - Math.max(i, lo)) / scale);
    spans.push({ start, weights });
    taps = Math.max(taps, weights.length);
  }
  const t = emptyTaps(taps, outSize);
  spans.forEach(({ start, weights }, o) => {
    weights.forEach((w, k) => {
      t.indices[k][o] = Math.min(start + k, inSize - 1);
      t.weights[k][o] = w;
    });
  });
  return t;
}

/**
 * TF `scale_and_translate` (what `tf.image.resize(..., antialias=True)` runs) for the triangle
 * (bilinear) or Keys cubic kernel: the kernel is widened by the downscale factor.
 */
function scaleAndTranslateTaps(
  inSize: number,
  outSize: number,
  kernel: (x: number) => number,
  radius: number,
): Taps {
  const invScale = inSize / outSize;
  const kernelScale = Math.max(invScale, 1);
  const spans: { start: number; weights: number[] }[] = [];
  let taps = 1;
  for (let o = 0; o < outSize; o++) {
    const sample = (o + 0.5) * invScale;
    if (sample < 0 || sample > inSize) {
      spans.push({ start: 0, weights: [] });
      continue;
    }
    const start = clamp(Math.ceil(sample - radius * kernelScale - 0.5), 0, inSize - 1);
    const end = clamp(Math.floor(sample + radius * kernelScale - 0.5), 0, inSize - 1) + 1;
    const weights: number[] = [];
    let sum = 0;
    for (let i = start; i < end; i++) {
      const w = kernel(Math.abs((i + 0.5 - sample) / kernelScale));
      weights.push(w);
      sum += w;
    }
    if (Math.abs(sum) > 1e-30) { for (let k = 0; k < weights.length; k++) weights[k] /= sum; }
    spans.push({ start, weights });
    taps = Math.max(taps, weights.length);
  }
  const t = emptyTaps(taps, outSize);
  spans.forEach(({ start, weights }, o) => {
    weights.forEach((w, k) => {
      t.indices[k][o] = start + k;
      t.weights[k][o] = w;
    });
  });
  return t;
}

const triangle = (x: number) => Math.max(0, 1 - Math.abs(x));

function tapsFor(
  method: ResizeMethod,
  antialias: boolean,
  inSize: number,
  outSize: number,
): Taps {
  switch (method) {
    case "nearest":
      return nearestTaps(inSize, outSize);
    case "area":
      return areaTaps(inSize, outSize);
    case "bilinear":
      return antialias
        ? scaleAndTranslateTaps(inSize, outSize, triangle, 1)
        : bilinearTaps(inSize, outSize);
    case "bicubic":
      return antialias
        ? scaleAndTranslateTaps(inSize, outSize, keysCubic, 2)
        : bicubicTaps(inSize, outSize);
  }
}

/** Apply taps along `axis` of a 4-D tensor. */
function applyTaps(x: tf.Tensor4D, taps: Taps, axis: 1 | 2, keepDtype: boolean): tf.Tensor4D {
  const shape: [number, number, number, number] = [1, 1, 1, 1];
  shape[axis] = taps.indices[0].length;
  let out: tf.Tensor4D | undefined;
  for (let k = 0; k < taps.taps; k++) {
    const gathered = tf.gather(x, tf.tensor1d(taps.indices[k], "int32"), axis) as tf.Tensor4D;
    if (keepDtype) return gathered;
    const term = tf.mul(gathered, tf.tensor4d(taps.weights[k], shape));
    out = (out ? tf.add(out, term) : term) as tf.Tensor4D;
  }
  return out!;
}

/** `tf.round`: half to even (banker's rounding). */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Output size TF computes for `preserve_aspect_ratio` (in float32, rounded by `tf.round`). */
function aspectFit(h: number, w: number, [th, tw]: [number, number]): [number, number] {
  const scale = Math.min(f32(th / h), f32(tw / w));
  const side = (n: number) => Math.max(1, roundHalfEven(f32(scale * n)));
  return [side(h), side(w)];
}

/**
 * Resize an image (`[h, w, c]`) or a batch (`[n, h, w, c]`) to `[height, width]`, ignoring the
 * aspect ratio unless `preserveAspectRatio` — TF2's `tf.image.resize`. The result is `float32`,
 * except with `nearest`, which keeps the input dtype.
 *
 * @param images An image or a batch of images.
 * @param size Target `[height, width]`.
 * @param options Method, antialias, aspect ratio.
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { resize } from "./resize.ts";
 * const big = resize(tf.ones([4, 6, 3]), [8, 12], { method: "bicubic" });
 * console.log(big.shape); // [8, 12, 3]
 * ```
 */
export function resize<T extends tf.Tensor>(
  images: T,
  size: [number, number],
  options: ResizeOptions = {},
): T {
  const what = "Cannot resize image";
  rejectUnknownOptions(what, options, ["method", "antialias", "preserveAspectRatio"]);
  const rank = checkImageRank(images, [3, 4], what);
  let [th, tw] = checkSize(size, what);
  const { method = "bilinear", antialias = false, preserveAspectRatio = false } = options;
  if (!METHODS.includes(method)) {
    throw new RangeError(`${what}: method must be one of ${METHODS.join(", ")}, got ${method}`);
  }
  const [h, w] = rank === 3 ? images.shape : images.shape.slice(1);
  if (h === 0 || w === 0) throw new RangeError(`${what}: the image is empty`);
  if (preserveAspectRatio) [th, tw] = aspectFit(h, w, [th, tw]);
  const keepDtype = method === "nearest";
  return tf.tidy(() => {
    let x = (rank === 3 ? tf.expandDims(images, 0) : images) as tf.Tensor4D;
    if (!keepDtype) x = tf.cast(x, "float32");
    x = applyTaps(x, tapsFor(method, antialias, h, th), 1, keepDtype);
    x = applyTaps(x, tapsFor(method, antialias, w, tw), 2, keepDtype);
    return (rank === 3 ? tf.squeeze(x, [0]) : x) as T;
  });
}

/** Crop `[n, h, w, c]` to a box, then zero-pad it to `[th, tw]` at an offset (TF's helpers). */
function cropThenPad(
  x: tf.Tensor4D,
  crop: { top: number; left: number; height: number; width: number },
  pad: { top: number; left: number; height: number; width: number },
): tf.Tensor4D {
  const c = x.shape[3];
  const cropped = tf.slice(x, [0, crop.top, crop.left, 0], [-1, crop.height, crop.width, c]);
  return tf.pad(cropped, [
    [0, 0],
    [pad.top, pad.height - crop.height - pad.top],
    [pad.left, pad.width - crop.width - pad.left],
    [0, 0],
  ]);
}

/**
 * Resize keeping the aspect ratio, then pad with zeros to `[height, width]`
 * (TF2's `tf.image.resize_with_pad`; float32 result).
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { resizeWithPad } from "./resize.ts";
 * console.log(resizeWithPad(tf.ones([10, 20, 3]), [8, 8]).shape); // [8, 8, 3]
 * ```
 */
export function resizeWithPad<T extends tf.Tensor>(
  images: T,
  size: [number, number],
  options: Omit<ResizeOptions, "preserveAspectRatio"> = {},
): T {
  const what = "Cannot resize image with pad";
  rejectUnknownOptions(what, options, ["method", "antialias"]);
  const rank = checkImageRank(images, [3, 4], what);
  const [th, tw] = checkSize(size, what);
  const [h, w] = rank === 3 ? images.shape : images.shape.slice(1);
  // TF computes these in float32; mimic it so the sizes agree to the pixel.
  const ratio = Math.max(f32(w / tw), f32(h / th));
  const rhf = f32(h / ratio), rwf = f32(w / ratio);
  const rh = Math.max(1, Math.floor(rhf)), rw = Math.max(1, Math.floor(rwf));
  const top = Math.max(0, Math.floor(f32((th - rhf) / 2)));
  const left = Math.max(0, Math.floor(f32((tw - rwf) / 2)));
  return tf.tidy(() => {
    const resized = resize(
      (rank === 3 ? tf.expandDims(images, 0) : images) as tf.Tensor4D,
      [rh, rw],
      { ...options, preserveAspectRatio: false },
    );
    const out = cropThenPad(
      tf.cast(resized, "float32"),
      { top: 0, left: 0, height: rh, width: rw },
      { top, left, height: th, width: tw },
    );
    return (rank === 3 ? tf.squeeze(out, [0]) : out) as T;
  });
}

/**
 * Centre-crop or zero-pad (or both, per axis) to `[height, width]` without resampling
 * (TF's `tf.image.resize_with_crop_or_pad`; keeps the dtype).
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { resizeWithCropOrPad } from "./resize.ts";
 * console.log(resizeWithCropOrPad(tf.ones([10, 4, 1]), [6, 6]).shape); // [6, 6, 1]
 * ```
 */
export function resizeWithCropOrPad<T extends tf.Tensor>(
  images: T,
  size: [number, number],
): T {
  const what = "Cannot resize image with crop or pad";
  const rank = checkImageRank(images, [3, 4], what);
  const [th, tw] = checkSize(size, what);
  const [h, w] = rank === 3 ? images.shape : images.shape.slice(1);
  return tf.tidy(() => {
    const x = (rank === 3 ? tf.expandDims(images, 0) : images) as tf.Tensor4D;
    const out = cropThenPad(
      x,
      {
        top: Math.max(0, Math.floor((h - th) / 2)),
        left: Math.max(0, Math.floor((w - tw) / 2)),
        height: Math.min(th, h),
        width: Math.min(tw, w),
      },
      {
        top: Math.max(0, Math.floor((th - h) / 2)),
        left: Math.max(0, Math.floor((tw - w) / 2)),
        height: th,
        width: tw,
      },
    );
    return (rank === 3 ? tf.squeeze(out, [0]) : out) as T;
  });
}

/** A crop box in normalised coordinates `[y1, x1, y2, x2]` (0–1 of the image's height/width). */
export type Box = [number, number, number, number];

/** Options of {@linkcode cropAndResize}. */
export interface CropAndResizeOptions {
  /** Which image of the batch each box crops (default: box i crops image i, or image 0). */
  boxIndices?: number[];
  /** `"bilinear"` (default) or `"nearest"`. */
  method?: "bilinear" | "nearest";
  /** Value for samples that fall outside the image (default 0). */
  extrapolationValue?: number;
}

/**
 * Crop boxes out of images and resize each crop to `cropSize` (TF's `tf.image.crop_and_resize`):
 * boxes are normalised `[y1, x1, y2, x2]`, e.g. the course's `[0, 0.03, 1, 0.68]`.
 *
 * @param images `[h, w, c]` or `[n, h, w, c]`.
 * @param boxes One box per crop.
 * @param cropSize `[height, width]` of every crop.
 * @returns `[boxes.length, cropHeight, cropWidth, c]`, float32.
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { cropAndResize } from "./resize.ts";
 * const crops = cropAndResize(tf.ones([10, 10, 3]), [[0, 0.03, 1, 0.68]], [4, 4]);
 * console.log(crops.shape); // [1, 4, 4, 3]
 * ```
 */
export function cropAndResize(
  images: tf.Tensor,
  boxes: Box[],
  cropSize: [number, number],
  options: CropAndResizeOptions = {},
): tf.Tensor4D {
  const what = "Cannot crop and resize";
  rejectUnknownOptions(what, options, ["boxIndices", "method", "extrapolationValue"]);
  const rank = checkImageRank(images, [3, 4], what);
  checkSize(cropSize, what);
  if (!Array.isArray(boxes) || boxes.length === 0) {
    throw new TypeError(`${what}: boxes must be a non-empty array of [y1, x1, y2, x2]`);
  }
  boxes.forEach((box, i) => {
    if (!Array.isArray(box) || box.length !== 4 || box.some((v) => !Number.isFinite(v))) {
      throw new TypeError(`${what}: box ${i} must be four finite numbers [y1, x1, y2, x2]`);
    }
  });
  const batch = rank === 3 ? 1 : images.shape[0];
  const boxIndices = options.boxIndices ??
    boxes.map((_, i) => (batch === boxes.length ? i : 0));
  if (boxIndices.length !== boxes.length) {
    throw new RangeError(
      `${what}: ${boxes.length} boxes but ${boxIndices.length} box indices`,
    );
  }
  boxIndices.forEach((b, i) => {
    if (!Number.isInteger(b) || b < 0 || b >= batch) {
      throw new RangeError(
        `${what}: box index ${i} is ${b}, but the batch has ${batch} image(s)`,
      );
    }
  });
  const { method = "bilinear", extrapolationValue = 0 } = options;
  return tf.tidy(() => {
    const x = tf.cast(rank === 3 ? tf.expandDims(images, 0) : images, "float32") as tf.Tensor4D;
    return tf.image.cropAndResize(
      x,
      tf.tensor2d(boxes, [boxes.length, 4], "float32"),
      tf.tensor1d(boxIndices, "int32"),
      cropSize,
      method,
      extrapolationValue,
    );
  });
}
