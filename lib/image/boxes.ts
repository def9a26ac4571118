/**
 * Drawing bounding boxes on images — `tf.image.draw_bounding_boxes` for one image, with a colour
 * per box and a line width, so that a lesson can show predicted and true boxes side by side.
 *
 * Introduced in lesson 04 (classification + localisation).
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import { checkImageRank, describe } from "./_check.ts";

/**
 * How a box's four numbers are written: corners `[y1, x1, y2, x2]` (TensorFlow's order, the
 * default), `[x1, y1, x2, y2]`, corner + size `[x, y, width, height]`, or centre + size
 * `[cx, cy, width, height]` (the course's "centre, height and width"). Same names as
 * `cl.metrics.boxIoU`.
 */
export type BoxLayout = "yxyx" | "xyxy" | "xywh" | "cxcywh";

const LAYOUTS: readonly BoxLayout[] = ["yxyx", "xyxy", "xywh", "cxcywh"];

/** An RGB colour, each channel 0–255. */
export type RGB = [number, number, number];

/** The colours boxes get by default, in order (TensorFlow's first colours: yellow, blue, red…). */
export const BOX_COLORS: readonly RGB[] = [
  [255, 255, 0],
  [0, 0, 255],
  [255, 0, 0],
  [0, 255, 0],
  [255, 0, 255],
  [0, 255, 255],
  [255, 128, 0],
  [128, 0, 255],
];

/** Options of {@linkcode drawBoxes}. */
export interface DrawBoxesOptions {
  /** How the four numbers are written (default `"yxyx"`). */
  format?: BoxLayout;
  /**
   * Coordinates are fractions in [0, 1] (default true, as `tf.image.draw_bounding_boxes`: 0 is
   * the first pixel row/column, 1 the last); false: pixel indices.
   */
  normalized?: boolean;
  /** One colour per box, or one for all (cycled when shorter). Default {@linkcode BOX_COLORS}. */
  colors?: RGB | RGB[];
  /** Thickness of the outline in pixels, drawn inwards from the box's edge (default 1). */
  lineWidth?: number;
}

function toCorners(box: number[], format: BoxLayout): [number, number, number, number] {
  const [a, b, c, d] = box;
  switch (format) {
    case "yxyx":
      return [a, b, c, d];
    case "xyxy":
      return [b, a, d, c];
    case "xywh":
      return [b, a, b + d, a + c];
    case "cxcywh":
      return [b - d / 2, a - c / 2, b + d / 2, a + c / 2];
  }
}

function checkColor(color: unknown, what: string): RGB {
  if (
    !Array.isArray(color) || color.length !== 3 ||
    !color.every((v) => typeof v === "number" && v >= 0 && v <= 255)
  ) {
    throw new RangeError(
      `${what}: a colour is [r, g, b] with values 0–255, got ${describe(color)}`,
    );
  }
  return color as RGB;
}

async function boxRows(boxes: tf.Tensor | number[][] | number[], what: string) {
  let rows: unknown;
  if (boxes instanceof tf.Tensor) {
    if (boxes.rank !== 1 && boxes.rank !== 2) {
      throw new RangeError(`${what}: boxes must be [n, 4] or [4], got shape [${boxes.shape}]`);
    }
    rows = await boxes.array();
  } else rows = boxes;
  if (!Array.isArray(rows)) {
    throw new TypeError(`${what}: boxes must be a tensor or an array of [4] rows, got ${rows}`);
  }
  const list = rows.length > 0 && !Array.isArray(rows[0]) ? [rows] : rows;
  return list.map((row, i) => {
    if (!Array.isArray(row) || row.length !== 4 || !row.every(Number.isFinite)) {
      throw new RangeError(`${what}: box ${i} must be 4 finite numbers, got ${describe(row)}`);
    }
    return row as number[];
  });
}

/**
 * A copy of an image with rectangles drawn on it — outlines only, so that what is inside stays
 * visible. Grey images become RGB so that coloured boxes show. Boxes partly outside the image are
 * clipped; boxes wholly outside are skipped.
 *
 * Introduced in lesson 04, where predicted and true boxes are drawn on the same image.
 *
 * @param image `[height, width, 1|3]`: int32 0–255 or float32 0–1 (tfjs's `toPixels` rule).
 * @param boxes `[n, 4]` (a tensor or rows of numbers) or one box `[4]`.
 * @param options Box format, normalised or pixel coordinates, colours, line width.
 * @returns `[height, width, 3]` of the image's dtype (caller disposes).
 * @throws {RangeError} for a wrong image shape, boxes that are not 4 numbers, bad colours.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { drawBoxes } from "./boxes.ts";
 * const drawn = await drawBoxes(tf.zeros([8, 8, 1]), [[0.25, 0.25, 0.75, 0.75]], {
 *   colors: [255, 0, 0],
 * });
 * console.log(drawn.shape); // [8, 8, 3]
 * ```
 */
export async function drawBoxes(
  image: tf.Tensor,
  boxes: tf.Tensor | number[][] | number[],
  options: DrawBoxesOptions = {},
): Promise<tf.Tensor3D> {
  const what = "Cannot draw boxes";
  checkImageRank(image, [3], what);
  const [height, width, channels] = image.shape as [number, number, number];
  if (channels !== 1 && channels !== 3) {
    throw new RangeError(`${what}: the image must have 1 or 3 channels, got ${channels}`);
  }
  const format = options.format ?? "yxyx";
  if (!LAYOUTS.includes(format)) {
    throw new RangeError(
      `${what}: unknown box format "${format}": use one of ${LAYOUTS.join(", ")}`,
    );
  }
  const lineWidth = options.lineWidth ?? 1;
  if (!Number.isInteger(lineWidth) || lineWidth < 1) {
    throw new RangeError(`${what}: lineWidth must be a positive integer, got ${lineWidth}`);
  }
  const given = options.colors;
  const palette: RGB[] = given === undefined
    ? [...BOX_COLORS]
    : Array.isArray(given[0])
    ? (given as RGB[]).map((c) => checkColor(c, what))
    : [checkColor(given, what)];
  if (palette.length === 0) throw new RangeError(`${what}: colors is empty`);
  const rows = await boxRows(boxes, what);

  const isInt = image.dtype === "int32";
  const rgb = tf.tidy(() => {
    const colour = channels === 1 ? tf.tile(image, [1, 1, 3]) : image;
    return tf.cast(colour, "float32");
  });
  const pixels = await rgb.data() as Float32Array;
  rgb.dispose();
  const scale = isInt ? 1 : 1 / 255;
  const normalized = options.normalized ?? true;

  rows.forEach((box, i) => {
    let [y1, x1, y2, x2] = toCorners(box, format);
    if (normalized) {
      // As tf.image.draw_bounding_boxes: 0 is the first pixel, 1 the last (fraction × (size − 1)),
      // rounded (TF truncates, which moves a box a pixel up or left on float error).
      [y1, y2] = [y1, y2].map((v) => Math.round(v * (height - 1)));
      [x1, x2] = [x1, x2].map((v) => Math.round(v * (width - 1)));
    } else {
      [y1, x1, y2, x2] = [y1, x1, y2, x2].map(Math.round);
    }
    if (y1 > y2) [y1, y2] = [y2, y1];
    if (x1 > x2) [x1, x2] = [x2, x1];
    if (y2 < 0 || x2 < 0 || y1 >= height || x1 >= width) return; // wholly outside
    const color = palette[i % palette.length].map((v) => v * scale);
    const paint = (y: number, x: number) => {
      if (y < 0 || y >= height || x < 0 || x >= width) return;
      const at = (y * width + x) * 3;
      pixels[at] = color[0];
      pixels[at + 1] = color[1];
      pixels[at + 2] = color[2];
    };
    for (let t = 0; t < lineWidth; t++) {
      const top = y1 + t, bottom = y2 - t, left = x1 + t, right = x2 - t;
      if (top > bottom || left > right) break;
      for (let x = left; x <= right; x++) {
        paint(top, x);
        paint(bottom, x);
      }
      for (let y = top; y <= bottom; y++) {
        paint(y, left);
        paint(y, right);
      }
    }
  });
  return tf.tidy(() => {
    const out = tf.tensor3d(pixels, [height, width, 3], "float32");
    return isInt ? tf.cast(tf.round(out), "int32") : out;
  });
}
