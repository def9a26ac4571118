/**
 * A localisation task made from a classification dataset: each image is scaled and placed at a
 * random spot of a larger, slightly noisy canvas, and its bounding box — the smallest box that
 * holds every pixel of the object — is the target. The course's flowers came with no boxes
 * either (Hands-On ML adds random ones to show the API); here the boxes are true.
 *
 * Introduced in lesson 04 (classification + localisation).
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import { currentSeed, randomStream } from "../random.ts";
import type { ImageDataset } from "./dataset.ts";

/** Options of {@linkcode placeOnCanvas}. */
export interface PlaceOnCanvasOptions {
  /** Which split to take images from (default `"train"`). */
  split?: "train" | "test";
  /** How many examples (default: every image of the split). Images repeat if more are asked. */
  count?: number;
  /** Side of the square canvas in pixels (default 48). */
  canvasSize?: number;
  /** Smallest and largest side of the scaled object in pixels (default `[20, 36]`). */
  sizeRange?: [number, number];
  /** Standard deviation of the background noise, 0–1 (default 0.05). */
  noise?: number;
  /** A pixel belongs to the object above this value, 0–1 (default 0.1). */
  threshold?: number;
  /** Seed of the placement (default: derived from `cl.seed`). */
  seed?: number;
}

/** The result of {@linkcode placeOnCanvas}; the caller disposes the tensors. */
export interface LocalizationSet {
  /** `[n, canvas, canvas, channels]` float32 in [0, 1]. */
  images: tf.Tensor4D;
  /** `[n]` int32 class indices. */
  labels: tf.Tensor1D;
  /**
   * `[n, 4]` boxes `[y1, x1, y2, x2]` as fractions of the canvas: 0 is the first pixel row or
   * column, 1 the last (the convention of `tf.image.draw_bounding_boxes` and
   * `cl.image.drawBoxes`).
   */
  boxes: tf.Tensor2D;
  /** The dataset's class names. */
  classNames: string[];
}

/** Bilinear scaling of one `h×w×c` uint8 image to `size×size`, values 0–1 (half-pixel centres). */
function scaleImage(
  src: Uint8Array,
  offset: number,
  [h, w, c]: [number, number, number],
  size: number,
): Float32Array {
  const out = new Float32Array(size * size * c);
  const sy = h / size, sx = w / size;
  for (let y = 0; y < size; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), h - 1);
    const y0 = Math.floor(fy), y1 = Math.min(y0 + 1, h - 1), dy = fy - y0;
    for (let x = 0; x < size; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), w - 1);
      const x0 = Math.floor(fx), x1 = Math.min(x0 + 1, w - 1), dx = fx - x0;
      for (let k = 0; k < c; k++) {
        const at = (yy: number, xx: number) => src[offset + (yy * w + xx) * c + k];
        const top = at(y0, x0) * (1 - dx) + at(y0, x1) * dx;
        const bottom = at(y1, x0) * (1 - dx) + at(y1, x1) * dx;
        out[(y * size + x) * c + k] = (top * (1 - dy) + bottom * dy) / 255;
      }
    }
  }
  return out;
}

/**
 * Place each image of a dataset, scaled to a random size, at a random position on a larger
 * noisy canvas, and return the images, their class labels and their true bounding boxes — a
 * classification + localisation task (the course's second head regressing a box).
 *
 * Introduced in lesson 04 (classification + localisation).
 *
 * @param dataset A dataset of small images (e.g. Fashion-MNIST's 28×28).
 * @param options Split, count, canvas size, object size range, noise, seed.
 * @returns Images, labels and boxes (caller disposes).
 * @throws {RangeError} for sizes that do not fit the canvas.
 * @example
 * ```ts
 * import * as cl from "convlab";
 * const digits = await cl.datasets.mnist({ quiet: true, subset: 100 });
 * const scenes = cl.datasets.placeOnCanvas(digits, { count: 8, canvasSize: 48 });
 * console.log(scenes.images.shape, scenes.boxes.shape); // [8, 48, 48, 1] [8, 4]
 * cl.tf.dispose([scenes.images, scenes.labels, scenes.boxes]);
 * ```
 */
export function placeOnCanvas(
  dataset: ImageDataset,
  options: PlaceOnCanvasOptions = {},
): LocalizationSet {
  const what = "Cannot place images on a canvas";
  const split = options.split ?? "train";
  const [h, w, c] = dataset.info.imageShape;
  const images = split === "train" ? dataset.arrays.xTrain : dataset.arrays.xTest;
  const labels = split === "train" ? dataset.arrays.yTrain : dataset.arrays.yTest;
  const available = labels.length;
  const count = options.count ?? available;
  const canvas = options.canvasSize ?? 48;
  const [minSize, maxSize] = options.sizeRange ?? [20, 36];
  const noise = options.noise ?? 0.05;
  const threshold = options.threshold ?? 0.1;
  if (available === 0) throw new RangeError(`${what}: the ${split} split is empty`);
  if (!Number.isInteger(count) || count <= 0) {
    throw new RangeError(`${what}: count must be a positive integer, got ${count}`);
  }
  if (!Number.isInteger(canvas) || canvas < 2) {
    throw new RangeError(`${what}: canvasSize must be an integer ≥ 2, got ${canvas}`);
  }
  if (
    !Number.isInteger(minSize) || !Number.isInteger(maxSize) || minSize < 1 ||
    maxSize < minSize || maxSize > canvas
  ) {
    throw new RangeError(
      `${what}: sizeRange must be integers 1 ≤ min ≤ max ≤ canvasSize (${canvas}), got ` +
        `[${minSize}, ${maxSize}]`,
    );
  }
  if (!(noise >= 0 && noise <= 1)) {
    throw new RangeError(`${what}: noise must be in [0, 1], got ${noise}`);
  }
  const random = randomStream(
    `datasets.placeOnCanvas.${dataset.info.name}.${split}`,
    options.seed ?? currentSeed(),
  );
  const pixels = h * w * c;
  const out = new Float32Array(count * canvas * canvas * c);
  const outLabels = new Int32Array(count);
  const boxes = new Float32Array(count * 4);
  const order = random.shuffle(Array.from({ length: available }, (_, i) => i));
  for (let n = 0; n < count; n++) {
    const index = order[n % available];
    outLabels[n] = labels[index];
    const size = minSize + random.int(maxSize - minSize + 1);
    const scaled = scaleImage(images, index * pixels, [h, w, c], size);
    const top = random.int(canvas - size + 1), left = random.int(canvas - size + 1);
    const base = n * canvas * canvas * c;
    for (let i = 0; i < canvas * canvas * c; i++) {
      out[base + i] = noise > 0 ? Math.min(1, Math.max(0, random.normal(0, noise))) : 0;
    }
    let y1 = canvas, x1 = canvas, y2 = -1, x2 = -1;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        let inked = false;
        for (let k = 0; k < c; k++) {
          const v = scaled[(y * size + x) * c + k];
          const at = base + ((top + y) * canvas + left + x) * c + k;
          out[at] = Math.max(out[at], v);
          if (v > threshold) inked = true;
        }
        if (inked) {
          y1 = Math.min(y1, top + y);
          y2 = Math.max(y2, top + y);
          x1 = Math.min(x1, left + x);
          x2 = Math.max(x2, left + x);
        }
      }
    }
    if (y2 < 0) [y1, x1, y2, x2] = [top, left, top + size - 1, left + size - 1]; // blank image
    boxes.set([y1, x1, y2, x2].map((v) => v / (canvas - 1)), n * 4);
  }
  return {
    images: tf.tensor4d(out, [count, canvas, canvas, c]),
    labels: tf.tensor1d(outLabels, "int32"),
    boxes: tf.tensor2d(boxes, [count, 4]),
    classNames: dataset.classNames,
  };
}
