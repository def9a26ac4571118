/**
 * `filter2D` like OpenCV's `cv2.filter2D(src, -1, kernel)`: correlation (the kernel is not
 * flipped), anchor at the kernel centre, OpenCV's border modes, and for 0–255 `int32` images the
 * result rounded and saturated to 0–255 as OpenCV does for `uint8`.
 *
 * Introduced in lesson 01 (the course's OpenCV practice: box blur 3/5/7 and Sobel).
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import { rejectUnknownOptions } from "../_options.ts";
import { checkImageRank, describe } from "./_check.ts";

/** OpenCV border modes (`cv2.BORDER_*`); `"reflect101"` is OpenCV's default. */
export type BorderMode = "reflect101" | "reflect" | "replicate" | "constant" | "wrap";

const BORDERS: readonly BorderMode[] = ["reflect101", "reflect", "replicate", "constant", "wrap"];

/** A box (mean) kernel of size n×n. */
export function boxKernel(n: number): number[][] {
  if (!Number.isInteger(n) || n <= 0) {
    throw new RangeError(`Cannot make box kernel: size must be a positive integer, got ${n}`);
  }
  return Array.from({ length: n }, () => Array(n).fill(1 / (n * n)));
}

/** The named kernels `filter2D` accepts in place of a matrix. */
export const KERNELS = {
  /** 3×3 mean (the course's `np.ones((3,3))/9`). */
  box3: boxKernel(3),
  /** 5×5 mean. */
  box5: boxKernel(5),
  /** 7×7 mean. */
  box7: boxKernel(7),
  /** Horizontal gradient (responds to vertical edges), the course's `kernel_x`. */
  sobelX: [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]],
  /** Vertical gradient (responds to horizontal edges). */
  sobelY: [[-1, -2, -1], [0, 0, 0], [1, 2, 1]],
  /** Sharpen: centre 5, 4-neighbours −1. */
  sharpen: [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
  /** 4-neighbour Laplacian. */
  laplacian: [[0, 1, 0], [1, -4, 1], [0, 1, 0]],
  /** 3×3 Gaussian (1 2 1 binomial). */
  gaussian3: [[1, 2, 1], [2, 4, 2], [1, 2, 1]].map((r) => r.map((v) => v / 16)),
} as const satisfies Record<string, readonly (readonly number[])[]>;

/** A kernel name from {@linkcode KERNELS}. */
export type KernelName = keyof typeof KERNELS;

/** Options of {@linkcode filter2D}. */
export interface Filter2DOptions {
  /** Border handling (default `"reflect101"`, OpenCV's `BORDER_DEFAULT`). */
  border?: BorderMode;
  /** Fill value for `border: "constant"` (default 0). */
  borderValue?: number;
  /**
   * `"same"` (default, OpenCV's `ddepth=-1`): int32 input gives int32 output rounded and clipped
   * to 0–255 (so a Sobel response's negative half becomes 0, as in the course); float input stays
   * float. `"float32"`: the raw float response (negative values kept).
   */
  depth?: "same" | "float32";
}

/** OpenCV's `borderInterpolate`: where padded position p reads from, or -1 for constant. */
export function borderIndex(p: number, n: number, border: BorderMode): number {
  if (p >= 0 && p < n) return p;
  switch (border) {
    case "constant":
      return -1;
    case "replicate":
      return p < 0 ? 0 : n - 1;
    case "wrap":
      return ((p % n) + n) % n;
    case "reflect":
    case "reflect101": {
      if (n === 1) return 0;
      const delta = border === "reflect101" ? 1 : 0;
      while (p < 0 || p >= n) p = p < 0 ? -p - 1 + delta : n - 1 - (p - n) - delta;
      return p;
    }
  }
}

function kernelMatrix(kernel: unknown): number[][] {
  if (typeof kernel === "string") {
    if (!(kernel in KERNELS)) {
      throw new RangeError(
        `Cannot filter image: unknown kernel "${kernel}" (known: ${
          Object.keys(KERNELS).join(", ")
        })`,
      );
    }
    return KERNELS[kernel as KernelName].map((row) => [...row]);
  }
  if (
    !Array.isArray(kernel) || kernel.length === 0 || !Array.isArray(kernel[0]) ||
    kernel[0].length === 0
  ) {
    throw new TypeError(
      `Cannot filter image: kernel must be a name or a non-empty 2-D array, got ${
        describe(kernel)
      }`,
    );
  }
  const width = kernel[0].length;
  kernel.forEach((row: unknown, i: number) => {
    if (!Array.isArray(row) || row.length !== width) {
      throw new RangeError(`Cannot filter image: kernel row ${i} has a different length`);
    }
    if (row.some((v) => typeof v !== "number" || !Number.isFinite(v))) {
      throw new TypeError(`Cannot filter image: kernel row ${i} has a non-finite value`);
    }
  });
  return kernel as number[][];
}

/** Pad `[n, h, w, c]` by the given amounts per side using OpenCV's border rules. */
function padBorder(
  x: tf.Tensor4D,
  [top, bottom, left, right]: [number, number, number, number],
  border: BorderMode,
  value: number,
): tf.Tensor4D {
  if (border === "constant") {
    return tf.pad(x, [[0, 0], [top, bottom], [left, right], [0, 0]], value);
  }
  const [, h, w] = x.shape;
  const rows = Int32Array.from(
    { length: h + top + bottom },
    (_, i) => borderIndex(i - top, h, border),
  );
  const cols = Int32Array.from(
    { length: w + left + right },
    (_, i) => borderIndex(i - left, w, border),
  );
  return tf.gather(tf.gather(x, rows, 1), cols, 2) as tf.Tensor4D;
}

/**
 * Filter an image with a kernel (correlation), like OpenCV's `filter2D` with `ddepth=-1`.
 *
 * @param image `[h, w]`, `[h, w, c]` or `[n, h, w, c]`; every channel is filtered alike.
 * @param kernel A 2-D array or a name from {@linkcode KERNELS} (`"box3"`, `"sobelX"`, …).
 * @param options Border mode and output depth.
 * @returns The same shape as `image`.
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { filter2D } from "./filter.ts";
 * const step = tf.tensor2d([[0, 0, 9, 9], [0, 0, 9, 9], [0, 0, 9, 9]], undefined, "int32");
 * console.log(await filter2D(step, "sobelX").array()); // 36 at the edge, 0 elsewhere
 * ```
 */
export function filter2D<T extends tf.Tensor>(
  image: T,
  kernel: KernelName | number[][],
  options: Filter2DOptions = {},
): T {
  const what = "Cannot filter image";
  rejectUnknownOptions(what, options, ["border", "borderValue", "depth"]);
  const rank = checkImageRank(image, [2, 3, 4], what);
  const k = kernelMatrix(kernel);
  const { border = "reflect101", borderValue = 0, depth = "same" } = options;
  if (!BORDERS.includes(border)) {
    throw new RangeError(`${what}: border must be one of ${BORDERS.join(", ")}, got ${border}`);
  }
  if (depth !== "same" && depth !== "float32") {
    throw new RangeError(`${what}: depth must be "same" or "float32", got ${depth}`);
  }
  const kh = k.length, kw = k[0].length;
  const ay = Math.floor(kh / 2), ax = Math.floor(kw / 2); // OpenCV's default anchor
  return tf.tidy(() => {
    let x = tf.cast(image, "float32");
    if (rank === 2) x = tf.expandDims(tf.expandDims(x, 0), -1);
    else if (rank === 3) x = tf.expandDims(x, 0);
    const x4 = x as tf.Tensor4D;
    const channels = x4.shape[3];
    const padded = padBorder(x4, [ay, kh - 1 - ay, ax, kw - 1 - ax], border, borderValue);
    const filter = tf.tile(tf.reshape(tf.tensor2d(k), [kh, kw, 1, 1]), [1, 1, channels, 1]);
    let y: tf.Tensor = tf.depthwiseConv2d(padded, filter as tf.Tensor4D, 1, "valid");
    if (depth === "same" && image.dtype === "int32") {
      y = tf.cast(tf.clipByValue(tf.round(y), 0, 255), "int32");
    }
    if (rank === 2) y = tf.squeeze(y, [0, 3]);
    else if (rank === 3) y = tf.squeeze(y, [0]);
    return y as T;
  });
}
