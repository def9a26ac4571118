/**
 * Affine image transforms as 3×3 matrices, applied to a whole batch in one
 * `tf.image.transform` call (one matrix per image) — no per-pixel JavaScript.
 *
 * Matrices here map OUTPUT pixel coordinates `(row, col, 1)` to INPUT coordinates, as Keras's
 * `apply_affine_transform` (scipy's `affine_transform`) does.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs";

/** A 3×3 matrix, row-major. */
export type Matrix3 = [number, number, number, number, number, number, number, number, number];

/** Fill modes for pixels that come from outside the image (Keras's `fill_mode`). */
export type FillMode = "nearest" | "constant" | "reflect" | "wrap";

/** Fill modes accepted. */
export const FILL_MODES: readonly FillMode[] = ["nearest", "constant", "reflect", "wrap"];

/** The identity matrix. */
export const IDENTITY: Matrix3 = [1, 0, 0, 0, 1, 0, 0, 0, 1];

/** a · b. */
export function multiply(a: Matrix3, b: Matrix3): Matrix3 {
  const out = new Array(9).fill(0) as Matrix3;
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) {
      out[r * 3 + c] = a[r * 3] * b[c] + a[r * 3 + 1] * b[3 + c] + a[r * 3 + 2] * b[6 + c];
    }
  }
  return out;
}

/** Random parameters of one image's transform, in Keras's units. */
export interface TransformParams {
  /** Rotation, degrees (counter-clockwise as seen on screen). */
  theta: number;
  /** Shift along rows (height), pixels. */
  tx: number;
  /** Shift along columns (width), pixels. */
  ty: number;
  /** Shear angle, degrees. */
  shear: number;
  /** Zoom along rows and columns (1 = none; above 1 shows more of the image, i.e. zooms out). */
  zx: number;
  zy: number;
  flipHorizontal: boolean;
  flipVertical: boolean;
}

/**
 * Keras's `apply_affine_transform` matrix (rotation · shift · shear · zoom about the image centre),
 * followed by the flips Keras applies after it — all as one output→input matrix.
 */
export function transformMatrix(p: TransformParams, height: number, width: number): Matrix3 {
  let m = IDENTITY;
  if (p.theta !== 0) {
    const t = (p.theta * Math.PI) / 180;
    m = multiply(m, [Math.cos(t), -Math.sin(t), 0, Math.sin(t), Math.cos(t), 0, 0, 0, 1]);
  }
  if (p.tx !== 0 || p.ty !== 0) m = multiply(m, [1, 0, p.tx, 0, 1, p.ty, 0, 0, 1]);
  if (p.shear !== 0) {
    const s = (p.shear * Math.PI) / 180;
    m = multiply(m, [1, -Math.sin(s), 0, 0, Math.cos(s), 0, 0, 0, 1]);
  }
  if (p.zx !== 1 || p.zy !== 1) m = multiply(m, [p.zx, 0, 0, 0, p.zy, 0, 0, 0, 1]);
  // About the centre (Keras's transform_matrix_offset_center).
  const ox = height / 2 - 0.5, oy = width / 2 - 0.5;
  m = multiply(multiply([1, 0, ox, 0, 1, oy, 0, 0, 1], m), [1, 0, -ox, 0, 1, -oy, 0, 0, 1]);
  // Flips happen after the affine in Keras: output (r, c) reads the affine result at the mirror.
  if (p.flipHorizontal) m = multiply(m, [1, 0, 0, 0, -1, width - 1, 0, 0, 1]);
  if (p.flipVertical) m = multiply(m, [-1, 0, height - 1, 0, 1, 0, 0, 0, 1]);
  return m;
}

/** Whether a matrix is (numerically) the identity: such images skip resampling. */
export function isIdentity(m: Matrix3): boolean {
  return m.every((v, i) => Math.abs(v - IDENTITY[i]) < 1e-9);
}

/**
 * tfjs's 8-number projective form `[a0, a1, a2, b0, b1, b2, c0, c1]` (x = column, y = row) of a
 * (row, col) output→input matrix.
 */
export function toTfTransform(m: Matrix3): number[] {
  return [m[4], m[3], m[5], m[1], m[0], m[2], 0, 0];
}

/**
 * Apply one matrix per image with `tf.image.transform` (bilinear by default).
 *
 * @param images `[n, h, w, c]` float32.
 * @param matrices n matrices.
 */
export function applyTransforms(
  images: tf.Tensor4D,
  matrices: Matrix3[],
  options: { fillMode?: FillMode; cval?: number; interpolation?: "bilinear" | "nearest" } = {},
): tf.Tensor4D {
  if (matrices.length !== images.shape[0]) {
    throw new RangeError(
      `Cannot transform images: ${images.shape[0]} images but ${matrices.length} matrices`,
    );
  }
  if (matrices.every(isIdentity)) return tf.clone(images);
  return tf.tidy(() =>
    tf.image.transform(
      images,
      tf.tensor2d(matrices.flatMap(toTfTransform), [matrices.length, 8]),
      options.interpolation ?? "bilinear",
      options.fillMode ?? "nearest",
      options.cval ?? 0,
    )
  );
}
