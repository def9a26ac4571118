/**
 * Colour helpers: grayscale, min/max normalisation, region fills (the course's
 * `img[100:300, 100:300, :] = 255`), colormaps (`jet`, `viridis`, `gray`) and heatmap overlays
 * (Grad-CAM).
 *
 * Introduced in lesson 01 (grayscale, fills) and lesson 05 (colormaps, Grad-CAM overlays).
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import { checkImageRank, describe } from "./_check.ts";
import { resize } from "./resize.ts";

/**
 * Convert RGB (or RGBA: alpha is dropped) to one grey channel with
 * `0.299 R + 0.587 G + 0.114 B` (ITU-R BT.601, OpenCV's `COLOR_RGB2GRAY`). int32 input gives
 * int32 output, rounded as OpenCV rounds `uint8`; float input stays float.
 *
 * @param image `[h, w, 3|4]` or `[n, h, w, 3|4]`.
 * @returns `[h, w, 1]` or `[n, h, w, 1]`.
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { toGrayscale } from "./color.ts";
 * const grey = toGrayscale(tf.tensor3d([[[255, 0, 0]]], undefined, "int32"));
 * console.log(await grey.data()); // [76]
 * ```
 */
export function toGrayscale<T extends tf.Tensor>(image: T): T {
  const what = "Cannot convert to grayscale";
  const rank = checkImageRank(image, [3, 4], what);
  const channels = image.shape[rank - 1];
  if (channels !== 3 && channels !== 4) {
    throw new RangeError(`${what}: expected 3 (RGB) or 4 (RGBA) channels, got ${channels}`);
  }
  return tf.tidy(() => {
    const rgb = tf.slice(image, Array(rank).fill(0), [...image.shape.slice(0, -1), 3]);
    const weights = tf.tensor1d([0.299, 0.587, 0.114]);
    const grey = tf.sum(tf.mul(tf.cast(rgb, "float32"), weights), -1, true);
    return (image.dtype === "int32" ? tf.cast(tf.round(grey), "int32") : grey) as T;
  });
}

/**
 * Rescale values linearly so the minimum becomes `low` and the maximum `high` (default 0–1), like
 * `cv2.normalize(…, NORM_MINMAX)`. A constant tensor maps to `low`.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { normalizeMinMax } from "./color.ts";
 * console.log(await normalizeMinMax(tf.tensor1d([2, 4, 6])).data()); // [0, 0.5, 1]
 * ```
 */
export function normalizeMinMax<T extends tf.Tensor>(
  x: T,
  options: { low?: number; high?: number } = {},
): T {
  const { low = 0, high = 1 } = options;
  if (!Number.isFinite(low) || !Number.isFinite(high) || high < low) {
    throw new RangeError(`Cannot normalise: need finite low <= high, got ${low} and ${high}`);
  }
  return tf.tidy(() => {
    const f = tf.cast(x, "float32");
    const min = tf.min(f), max = tf.max(f);
    const range = tf.sub(max, min);
    // Avoid 0/0 on constant input: divide by 1 there (the numerator is 0 anyway).
    const safe = tf.where(tf.greater(range, 0), range, tf.onesLike(range));
    return tf.add(tf.mul(tf.div(tf.sub(f, min), safe), high - low), low) as T;
  });
}

/** A region for {@linkcode fillRegion}: half-open row and column ranges, like NumPy slices. */
export interface Region {
  /** `[start, end)` rows; default all. Negative values count from the end, as in NumPy. */
  rows?: [number, number];
  /** `[start, end)` columns; default all. */
  cols?: [number, number];
  /** One channel index, or all channels when omitted. */
  channel?: number;
  /** The value written (in the image's units: 0–255 for int32). */
  value: number;
}

function sliceRange(range: [number, number] | undefined, size: number, name: string) {
  if (range === undefined) return [0, size];
  if (!Array.isArray(range) || range.length !== 2 || !range.every(Number.isInteger)) {
    throw new TypeError(
      `Cannot fill region: ${name} must be [start, end) integers, got ${describe(range)}`,
    );
  }
  const norm = (v: number) => Math.min(size, Math.max(0, v < 0 ? size + v : v));
  return [norm(range[0]), norm(range[1])];
}

/**
 * A copy of `image` with a rectangle set to a value — the course's
 * `img[100:300, 100:300, :] = 255` is `fillRegion(img, {rows: [100, 300], cols: [100, 300],
 * value: 255})`. Ranges are clipped to the image as NumPy slices are. (Note that OpenCV images
 * are BGR: the course's channel 0 is blue; Convlab images are RGB, so blue is channel 2.)
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { fillRegion } from "./color.ts";
 * const img = fillRegion(tf.zeros([4, 4, 3], "int32"), { rows: [1, 3], cols: [1, 3], value: 255 });
 * console.log((await img.array())[1][1]); // [255, 255, 255]
 * ```
 */
export function fillRegion<T extends tf.Tensor>(image: T, region: Region): T {
  const what = "Cannot fill region";
  const rank = checkImageRank(image, [2, 3], what);
  if (typeof region !== "object" || region === null || typeof region.value !== "number") {
    throw new TypeError(`${what}: expected {rows, cols, channel, value} with a numeric value`);
  }
  const [h, w] = image.shape;
  const c = rank === 3 ? image.shape[2]! : 1;
  const [r0, r1] = sliceRange(region.rows, h, "rows");
  const [c0, c1] = sliceRange(region.cols, w, "cols");
  if (
    region.channel !== undefined &&
    (!Number.isInteger(region.channel) || region.channel < 0 || region.channel >= c)
  ) {
    throw new RangeError(`${what}: channel must be an integer in [0, ${c}), got ${region.channel}`);
  }
  return tf.tidy(() => {
    const mask = new Uint8Array(h * w * c);
    for (let y = r0; y < r1; y++) {
      for (let x = c0; x < c1; x++) {
        for (let k = 0; k < c; k++) {
          if (region.channel === undefined || region.channel === k) mask[(y * w + x) * c + k] = 1;
        }
      }
    }
    const m = tf.tensor(mask, image.shape, "bool");
    return tf.where(m, tf.fill(image.shape, region.value, image.dtype), image) as T;
  });
}

/** Colormap names. */
export type ColormapName = "jet" | "viridis" | "gray" | "hot";

/** matplotlib's viridis, 256 entries of 8-bit sRGB (hex). */
const VIRIDIS_HEX =
  "44015444025645045745055946075a46085c460a5d460b5e470d60470e61471063471164471365481467481668481769" +
  "48186a481a6c481b6d481c6e481d6f481f70482071482173482374482475482576482677482878482979472a7a472c7a" +
  "472d7b472e7c472f7d46307e46327e46337f463480453581453781453882443983443a83443b84433d84433e85423f85" +
  "4240864241864142874144874045884046883f47883f48893e49893e4a893e4c8a3d4d8a3d4e8a3c4f8a3c508b3b518b" +
  "3b528b3a538b3a548c39558c39568c38588c38598c375a8c375b8d365c8d365d8d355e8d355f8d34608d34618d33628d" +
  "33638d32648e32658e31668e31678e31688e30698e306a8e2f6b8e2f6c8e2e6d8e2e6e8e2e6f8e2d708e2d718e2c718e" +
  "2c728e2c738e2b748e2b758e2a768e2a778e2a788e29798e297a8e297b8e287c8e287d8e277e8e277f8e27808e26818e" +
  "26828e26828e25838e25848e25858e24868e24878e23888e23898e238a8d228b8d228c8d228d8d218e8d218f8d21908d" +
  "21918c20928c20928c20938c1f948c1f958b1f968b1f978b1f988b1f998a1f9a8a1e9b8a1e9c891e9d891f9e891f9f88" +
  "1fa0881fa1881fa1871fa28720a38620a48621a58521a68522a78522a88423a98324aa8325ab8225ac8226ad8127ad81" +
  "28ae8029af7f2ab07f2cb17e2db27d2eb37c2fb47c31b57b32b67a34b67935b77937b87838b9773aba763bbb753dbc74" +
  "3fbc7340bd7242be7144bf7046c06f48c16e4ac16d4cc26c4ec36b50c46a52c56954c56856c66758c7655ac8645cc863" +
  "5ec96260ca6063cb5f65cb5e67cc5c69cd5b6ccd5a6ece5870cf5773d05675d05477d1537ad1517cd2507fd34e81d34d" +
  "84d44b86d54989d5488bd6468ed64590d74393d74195d84098d83e9bd93c9dd93ba0da39a2da37a5db36a8db34aadc32" +
  "addc30b0dd2fb2dd2db5de2bb8de29bade28bddf26c0df25c2df23c5e021c8e020cae11fcde11dd0e11cd2e21bd5e21a" +
  "d8e219dae319dde318dfe318e2e418e5e419e7e419eae51aece51befe51cf1e51df4e61ef6e620f8e621fbe723fde725";
/** matplotlib's jet segment data: per channel, [x, y] break points of a piecewise-linear map. */
const JET_SEGMENTS: [number, number][][] = [
  [[0, 0], [0.35, 0], [0.66, 1], [0.89, 1], [1, 0.5]],
  [[0, 0], [0.125, 0], [0.375, 1], [0.64, 1], [0.91, 0], [1, 0]],
  [[0, 0.5], [0.11, 1], [0.34, 1], [0.65, 0], [1, 0]],
];

/** matplotlib's hot segment data. */
const HOT_SEGMENTS: [number, number][][] = [
  [[0, 0.0416], [0.365079, 1], [1, 1]],
  [[0, 0], [0.365079, 0], [0.746032, 1], [1, 1]],
  [[0, 0], [0.746032, 0], [1, 1]],
];

function interpolate(points: [number, number][], x: number): number {
  for (let i = 1; i < points.length; i++) {
    const [x1, y1] = points[i];
    if (x <= x1) {
      const [x0, y0] = points[i - 1];
      return x1 === x0 ? y1 : y0 + ((y1 - y0) * (x - x0)) / (x1 - x0);
    }
  }
  return points[points.length - 1][1];
}

const lutCache = new Map<ColormapName, Float32Array>();

/**
 * A colormap as a 256-entry lookup table of RGB in 0–1 (`Float32Array` of 768 values), sampled
 * as matplotlib samples its maps (entry i at i/255).
 */
export function colormapTable(name: ColormapName): Float32Array {
  const cached = lutCache.get(name);
  if (cached) return cached;
  const lut = new Float32Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const x = i / 255;
    for (let ch = 0; ch < 3; ch++) {
      let v: number;
      if (name === "viridis") {
        v = parseInt(VIRIDIS_HEX.slice(i * 6 + ch * 2, i * 6 + ch * 2 + 2), 16) / 255;
      } else if (name === "jet") v = interpolate(JET_SEGMENTS[ch], x);
      else if (name === "hot") v = interpolate(HOT_SEGMENTS[ch], x);
      else if (name === "gray") v = x;
      else {
        throw new RangeError(`Unknown colormap "${name}" (known: jet, viridis, gray, hot)`);
      }
      lut[i * 3 + ch] = v;
    }
  }
  lutCache.set(name, lut);
  return lut;
}

/**
 * Map values in 0–1 to colours (values outside are clipped; NaN maps to the lowest colour):
 * `[h, w]` or `[h, w, 1]` → `[h, w, 3]` float32 in 0–1. Normalise first
 * ({@linkcode normalizeMinMax}) for data in another range.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { applyColormap } from "./color.ts";
 * const rgb = applyColormap(tf.tensor2d([[0, 1]]), "jet");
 * console.log(rgb.shape); // [1, 2, 3]
 * ```
 */
export function applyColormap(values: tf.Tensor, name: ColormapName = "viridis"): tf.Tensor3D {
  const what = "Cannot apply colormap";
  const rank = checkImageRank(values, [2, 3], what);
  if (rank === 3 && values.shape[2] !== 1) {
    throw new RangeError(`${what}: expected one channel, got ${values.shape[2]}`);
  }
  const lut = colormapTable(name);
  return tf.tidy(() => {
    const v = tf.cast(rank === 3 ? tf.squeeze(values, [2]) : values, "float32");
    const clean = tf.where(tf.isNaN(v), tf.zerosLike(v), v);
    const index = tf.cast(tf.clipByValue(tf.floor(tf.mul(clean, 256)), 0, 255), "int32");
    return tf.gather(tf.tensor2d(lut, [256, 3]), index) as unknown as tf.Tensor3D;
  });
}

/** Options of {@linkcode overlay}. */
export interface OverlayOptions {
  /** Weight of the heatmap colour (default 0.4, as in the course's Grad-CAM). */
  alpha?: number;
  /** Colormap of the heatmap (default `"jet"`, as in the course). */
  cmap?: ColormapName;
}

/**
 * Blend a heatmap over an image, as the course does for Grad-CAM: the heatmap (any size, any
 * range) is min/max-normalised, resized (bilinear) to the image, coloured with `jet` and mixed:
 * `(1 − alpha)·image + alpha·colour`.
 *
 * @param heatmap `[h', w']`, `[h', w', 1]`, or a batch of one (`[1, h', w']`, as `gradCam` gives
 *   for a one-image batch).
 * @param image `[h, w, 1|3|4]`: int32 0–255 or float32 0–1 (alpha is dropped).
 * @returns `[h, w, 3]` float32 in 0–1.
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { overlay } from "./color.ts";
 * const out = overlay(tf.randomUniform([7, 7]), tf.zeros([28, 28, 3]), { alpha: 0.4 });
 * console.log(out.shape); // [28, 28, 3]
 * ```
 */
export function overlay(
  heatmap: tf.Tensor,
  image: tf.Tensor,
  options: OverlayOptions = {},
): tf.Tensor3D {
  const what = "Cannot overlay heatmap";
  checkImageRank(heatmap, [2, 3, 4], what);
  checkImageRank(image, [3], what);
  // A batch of one ([1, h, w] or [1, h, w, 1]) is that one heatmap.
  const batchOfOne = heatmap.shape[0] === 1 &&
    (heatmap.rank === 4 ? heatmap.shape[3] === 1 : heatmap.rank === 3 && heatmap.shape[2] !== 1);
  if (heatmap.rank === 4 && !batchOfOne) {
    throw new RangeError(
      `${what}: expected one heatmap [h, w], got shape [${heatmap.shape.join(", ")}]`,
    );
  }
  const { alpha = 0.4, cmap = "jet" } = options;
  if (!(alpha >= 0 && alpha <= 1)) {
    throw new RangeError(`${what}: alpha must be in [0, 1], got ${alpha}`);
  }
  const [h, w, c] = image.shape;
  if (c !== 1 && c !== 3 && c !== 4) {
    throw new RangeError(`${what}: image must have 1, 3 or 4 channels, got ${c}`);
  }
  return tf.tidy(() => {
    const single = batchOfOne ? tf.squeeze(heatmap, [0]) : heatmap;
    const heat3 = single.rank === 2 ? tf.expandDims(single, -1) : single;
    const sized = resize(normalizeMinMax(heat3 as tf.Tensor3D), [h, w]);
    const colour = applyColormap(sized, cmap);
    let base = tf.cast(c === 4 ? tf.slice(image, [0, 0, 0], [h, w, 3]) : image, "float32");
    if (image.dtype === "int32") base = tf.div(base, 255);
    if (c === 1) base = tf.tile(base, [1, 1, 3]);
    return tf.clipByValue(
      tf.add(tf.mul(base, 1 - alpha), tf.mul(colour, alpha)),
      0,
      1,
    ) as tf.Tensor3D;
  });
}
