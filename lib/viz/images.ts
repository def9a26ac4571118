/**
 * Image grids: `cl.show.images(batch, {labels, classNames, cols, cmap, title})`,
 * `cl.show.featureMaps(activations, {perRow})` and `cl.show.misclassified(...)`. Each is a display
 * object with an HTML grid (captions as text), one PNG of the whole grid, and a text summary;
 * `cl.save(grid, "x.png")` draws the captions into the picture.
 *
 * Introduced in lesson 02 (first MNIST digits) and lesson 03 (CIFAR images, augmented samples,
 * feature maps).
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import { encode as encodePngBytes } from "fast-png";
import { encodeBase64 } from "./_base64.ts";
import { DISPLAY, type MimeBundle } from "../display.ts";
import { type ColormapName, colormapTable } from "../image/color.ts";
import { FONT_FAMILY } from "../image/svg.ts";
import { escapeXml } from "./chart.ts";
import { isTensorLike } from "./_values.ts";

/** One picture of a grid: 8-bit RGB pixels and an optional caption. */
export interface Tile {
  width: number;
  height: number;
  /** RGB, row-major, `width * height * 3` bytes. */
  rgb: Uint8Array;
  caption?: string;
  /** Caption colour (misclassified examples are red). */
  captionColor?: string;
}

/** Layout options of an image grid. */
export interface GridOptions {
  /** Columns (default: up to 8, or fewer for few images). */
  cols?: number;
  title?: string;
  /** Integer upscaling of each picture (default: small images are enlarged to about 96 px). */
  scale?: number;
}

/** A grid of pictures as a display object. */
export class ImageGrid {
  readonly tiles: Tile[];
  readonly cols: number;
  readonly scale: number;
  readonly title?: string;
  /** Extra lines of the text summary (e.g. "showing 16 of 60"). */
  readonly note?: string;
  #png?: Uint8Array;

  constructor(tiles: Tile[], options: GridOptions & { note?: string } = {}) {
    if (tiles.length === 0) throw new RangeError("Cannot show images: there are no images to show");
    this.tiles = tiles;
    const cols = options.cols ?? Math.min(8, tiles.length);
    if (!Number.isInteger(cols) || cols < 1) {
      throw new RangeError(`Cannot show images: cols must be a positive integer, got ${cols}`);
    }
    this.cols = cols;
    const largest = Math.max(...tiles.map((t) => Math.max(t.width, t.height)));
    const scale = options.scale ?? Math.min(32, Math.max(1, Math.floor(96 / largest)));
    if (!Number.isInteger(scale) || scale < 1 || scale > 32) {
      throw new RangeError(`Cannot show images: scale must be an integer 1–32, got ${scale}`);
    }
    this.scale = scale;
    this.title = options.title;
    this.note = options.note;
  }

  get #cell(): { width: number; height: number } {
    return {
      width: Math.max(...this.tiles.map((t) => t.width)) * this.scale,
      height: Math.max(...this.tiles.map((t) => t.height)) * this.scale,
    };
  }

  /** The grid as one PNG (pictures only; captions are in the HTML and the text). */
  toPng(): Uint8Array {
    if (this.#png) return this.#png;
    const pad = 4, { width: cw, height: ch } = this.#cell;
    const rows = Math.ceil(this.tiles.length / this.cols);
    const width = this.cols * (cw + pad) + pad, height = rows * (ch + pad) + pad;
    const data = new Uint8Array(width * height * 3).fill(255);
    this.tiles.forEach((tile, i) => {
      const ox = pad + (i % this.cols) * (cw + pad),
        oy = pad + Math.floor(i / this.cols) * (ch + pad);
      for (let y = 0; y < tile.height * this.scale; y++) {
        const sy = Math.floor(y / this.scale);
        for (let x = 0; x < tile.width * this.scale; x++) {
          const s = (sy * tile.width + Math.floor(x / this.scale)) * 3;
          const d = ((oy + y) * width + ox + x) * 3;
          data[d] = tile.rgb[s];
          data[d + 1] = tile.rgb[s + 1];
          data[d + 2] = tile.rgb[s + 2];
        }
      }
    });
    this.#png = encodePngBytes({ width, height, data, channels: 3, depth: 8 });
    return this.#png;
  }

  #tilePngs(): string[] {
    return this.tiles.map((t) =>
      encodeBase64(encodePngBytes({ width: t.width, height: t.height, data: t.rgb, channels: 3 }))
    );
  }

  /** An HTML grid with captions. */
  toHtml(): string {
    const { width } = this.#cell;
    const pngs = this.#tilePngs();
    const figures = this.tiles.map((t, i) =>
      `<figure style="margin:0;text-align:center">` +
      `<img src="data:image/png;base64,${pngs[i]}" width="${t.width * this.scale}" ` +
      `height="${
        t.height * this.scale
      }" style="image-rendering:pixelated;display:block;margin:auto" ` +
      `alt="${escapeXml(t.caption ?? `image ${i}`)}"/>` +
      (t.caption
        ? `<figcaption style="font-size:12px;color:${t.captionColor ?? "#222"};max-width:${
          Math.max(width, 60)
        }px;overflow-wrap:anywhere">${escapeXml(t.caption)}</figcaption>`
        : "") +
      `</figure>`
    );
    return `<div style="font-family:sans-serif">` +
      (this.title
        ? `<div style="font-weight:bold;margin:4px 0">${escapeXml(this.title)}</div>`
        : "") +
      `<div style="display:grid;grid-template-columns:repeat(${this.cols}, max-content);gap:6px 8px">` +
      figures.join("") + `</div></div>`;
  }

  /** An SVG with pictures and captions (what `cl.save(grid, "x.png")` rasterises). */
  toSvg(): string {
    const { width: cw, height: ch } = this.#cell;
    const captions = this.tiles.some((t) => t.caption);
    const pad = 8, capH = captions ? 18 : 0, top = this.title ? 30 : pad;
    const cellW = Math.max(cw, captions ? 64 : 0);
    const rows = Math.ceil(this.tiles.length / this.cols);
    const width = this.cols * (cellW + pad) + pad, height = top + rows * (ch + capH + pad);
    const pngs = this.#tilePngs();
    const items = this.tiles.map((t, i) => {
      const x = pad + (i % this.cols) * (cellW + pad),
        y = top + Math.floor(i / this.cols) * (ch + capH + pad);
      const w = t.width * this.scale, h = t.height * this.scale;
      return `<image x="${x + (cellW - w) / 2}" y="${y}" width="${w}" height="${h}" ` +
        `image-rendering="optimizeSpeed" href="data:image/png;base64,${pngs[i]}"/>` +
        (t.caption
          ? `<text x="${x + cellW / 2}" y="${y + ch + 13}" text-anchor="middle" font-size="12" ` +
            `fill="${t.captionColor ?? "#222"}">${escapeXml(t.caption)}</text>`
          : "");
    });
    return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
      `font-family="${FONT_FAMILY}"><rect width="100%" height="100%" fill="#fff"/>` +
      (this.title
        ? `<text x="${width / 2}" y="20" text-anchor="middle" font-size="15" font-weight="bold">${
          escapeXml(this.title)
        }</text>`
        : "") +
      items.join("") + `</svg>`;
  }

  /** Text summary: title, size and captions. */
  toString(): string {
    const t = this.tiles[0];
    const lines = [
      `${this.title ? `${this.title}: ` : ""}${this.tiles.length} image(s), ${t.height}×${t.width}`,
    ];
    if (this.note) lines.push(this.note);
    const captions = this.tiles.map((x) => x.caption).filter((c) => c !== undefined);
    if (captions.length) {
      for (let i = 0; i < captions.length; i += this.cols) {
        lines.push(captions.slice(i, i + this.cols).join(" | "));
      }
    }
    return lines.join("\n");
  }

  [DISPLAY](): MimeBundle {
    return {
      "text/html": this.toHtml(),
      "image/png": encodeBase64(this.toPng()),
      "text/plain": this.toString(),
    };
  }
}

/** How pixel values map to 0–1 for display. */
export type ValueRange = "auto" | [number, number];

/** Options of {@linkcode images}. */
export interface ImagesOptions extends GridOptions {
  /** Class index (or one-hot / probability row) per image. */
  labels?: ArrayLike<number> | tf.Tensor;
  /** Names for the class indices (e.g. CIFAR-10's `airplane`, `automobile`, …). */
  classNames?: string[];
  /** Captions, overriding `labels`. */
  captions?: string[];
  /** Colormap for one-channel images (default `"gray"`). */
  cmap?: ColormapName;
  /**
   * Value range: `"auto"` (default: int32 and values above 1 are 0–255, floats in [0, 1] are
   * 0–1, anything with negatives is min/max-scaled per image) or an explicit `[low, high]`.
   */
  range?: ValueRange;
  /** At most this many images (default 64): a grid of thousands helps nobody. */
  limit?: number;
}

/** `[n, h, w, c]` from an image, a batch or a `[n, h, w]` grey batch (a new tensor). */
function asBatch(images: unknown, what: string): tf.Tensor4D {
  if (Array.isArray(images)) {
    if (images.length === 0) throw new RangeError(`${what}: there are no images to show`);
    return tf.tidy(() =>
      tf.stack(images.map((im) => asBatch(im, what).squeeze([0]))) as tf.Tensor4D
    );
  }
  if (!isTensorLike(images)) {
    throw new TypeError(`${what}: expected an image tensor or an array of them`);
  }
  const t = images as tf.Tensor;
  if (t.rank === 4) return t.clone() as tf.Tensor4D;
  if (t.rank === 2) return tf.tidy(() => t.expandDims(0).expandDims(-1) as tf.Tensor4D);
  if (t.rank === 3) {
    return [1, 3, 4].includes(t.shape[2]!)
      ? tf.tidy(() => t.expandDims(0) as tf.Tensor4D)
      : tf.tidy(() => t.expandDims(-1) as tf.Tensor4D);
  }
  throw new RangeError(
    `${what}: expected [h, w], [h, w, c] or [n, h, w, c], got [${t.shape.join(", ")}]`,
  );
}

/** Scale a float batch to 0–1 per the range rule; returns a float32 tensor. */
function toUnit(
  x: tf.Tensor4D,
  dtype: string,
  range: ValueRange,
  min: number,
  max: number,
): tf.Tensor4D {
  return tf.tidy(() => {
    const f = tf.cast(x, "float32");
    if (Array.isArray(range)) {
      return tf.clipByValue(
        tf.div(tf.sub(f, range[0]), range[1] - range[0] || 1),
        0,
        1,
      ) as tf.Tensor4D;
    }
    if (dtype === "int32" || (min >= 0 && max > 1 && max <= 255)) {
      return tf.clipByValue(tf.div(f, 255), 0, 1) as tf.Tensor4D;
    }
    if (min >= 0 && max <= 1) return f;
    // Per-image min/max (feature maps, normalised inputs with negatives).
    const lo = tf.min(f, [1, 2, 3], true), hi = tf.max(f, [1, 2, 3], true);
    return tf.div(tf.sub(f, lo), tf.maximum(tf.sub(hi, lo), 1e-12)) as tf.Tensor4D;
  });
}

/** 8-bit RGB tiles from a batch. */
export async function tilesFromBatch(
  batch: tf.Tensor4D,
  options: { cmap?: ColormapName; range?: ValueRange } = {},
): Promise<Tile[]> {
  const [n, h, w, c] = batch.shape;
  if (c !== 1 && c !== 3 && c !== 4) {
    throw new RangeError(`Cannot show images: expected 1, 3 or 4 channels, got ${c}`);
  }
  const stats = tf.tidy(() => tf.stack([tf.min(batch), tf.max(batch)]).cast("float32"));
  const [min, max] = await stats.data();
  stats.dispose();
  const rgb = tf.tidy(() => {
    const unit = toUnit(batch, batch.dtype, options.range ?? "auto", min, max);
    let colour: tf.Tensor;
    if (c === 1) {
      const lut = tf.tensor2d(colormapTable(options.cmap ?? "gray"), [256, 3]);
      const index = tf.cast(
        tf.clipByValue(tf.floor(tf.mul(unit.squeeze([3]), 256)), 0, 255),
        "int32",
      );
      colour = tf.gather(lut, index);
    } else colour = tf.slice(unit, [0, 0, 0, 0], [-1, -1, -1, 3]);
    return tf.cast(tf.round(tf.mul(colour, 255)), "int32");
  });
  const values = await rgb.data();
  rgb.dispose();
  const size = h * w * 3;
  return Array.from({ length: n }, (_, i) => ({
    width: w,
    height: h,
    rgb: Uint8Array.from(values.subarray(i * size, (i + 1) * size)),
  }));
}

/** Class indices from numbers, a 1-D tensor, or rows of one-hot/probabilities (argmax). */
export async function toClassIndices(
  labels: ArrayLike<number> | tf.Tensor,
  what: string,
): Promise<number[]> {
  if (isTensorLike(labels)) {
    const t = labels as tf.Tensor;
    const idx = t.rank === 2 ? tf.argMax(t, 1) : t.rank === 1 ? t : undefined;
    if (!idx) {
      throw new RangeError(
        `${what}: labels must be 1-D class indices or 2-D rows, got rank ${t.rank}`,
      );
    }
    const values = Array.from(await idx.data(), Number);
    if (idx !== t) idx.dispose();
    return values;
  }
  if (typeof labels !== "object" || labels === null || typeof labels.length !== "number") {
    throw new TypeError(`${what}: labels must be an array or a tensor`);
  }
  return Array.from(labels, Number);
}

function className(index: number, classNames?: string[]): string {
  return classNames?.[index] ?? String(index);
}

/**
 * An image grid with optional class captions — the course shows the first 15 CIFAR images with
 * their class names this way.
 *
 * @param images `[n, h, w, c]`, `[n, h, w]`, `[h, w, c]` or an array of images.
 * @param options Labels, class names, columns, colormap, title.
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { images } from "./images.ts";
 * const grid = await images(tf.randomUniform([4, 8, 8, 1]), { labels: [0, 1, 2, 3], cols: 2 });
 * console.log(String(grid));
 * ```
 */
export async function images(
  input: tf.Tensor | tf.Tensor[],
  options: ImagesOptions = {},
): Promise<ImageGrid> {
  const what = "Cannot show images";
  const limit = options.limit ?? 64;
  // An array may mix sizes and channel counts (an image next to its grey Sobel response).
  const parts = Array.isArray(input) ? input : [input];
  if (parts.length === 0) throw new RangeError(`${what}: there are no images to show`);
  const tiles: Tile[] = [];
  let total = 0;
  for (const part of parts) {
    const batch = asBatch(part, what);
    try {
      total += batch.shape[0];
      const room = limit - tiles.length;
      if (room <= 0) continue;
      const head = batch.shape[0] > room ? batch.slice(0, room) : batch;
      tiles.push(...await tilesFromBatch(head, options));
      if (head !== batch) head.dispose();
    } finally {
      batch.dispose();
    }
  }
  const shown = tiles.length;
  let captions = options.captions;
  if (!captions && options.labels !== undefined) {
    const labels = await toClassIndices(options.labels, what);
    if (labels.length < shown) {
      throw new RangeError(`${what}: ${total} images but only ${labels.length} labels`);
    }
    captions = labels.slice(0, shown).map((l) => className(l, options.classNames));
  }
  captions?.slice(0, shown).forEach((c, i) => (tiles[i].caption = c));
  return new ImageGrid(tiles, {
    ...options,
    note: shown < total ? `showing the first ${shown} of ${total} images` : undefined,
  });
}

/** Options of {@linkcode featureMaps}. */
export interface FeatureMapOptions {
  /** Maps per row (default 8, as DLwPy's `images_per_row` is 16 for wide layers). */
  perRow?: number;
  /** Colormap (default `"viridis"`, as the course's matplotlib). */
  cmap?: ColormapName;
  /** At most this many channels (default 64). */
  max?: number;
  title?: string;
  scale?: number;
}

/**
 * The channels of one layer's activation, each min/max-normalised and coloured — the course's
 * "visualising intermediate activations".
 *
 * @param activations `[1, h, w, channels]` or `[h, w, channels]`.
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { featureMaps } from "./images.ts";
 * const grid = await featureMaps(tf.randomNormal([1, 6, 6, 4]), { perRow: 4 });
 * console.log(grid.tiles.length); // 4
 * ```
 */
export async function featureMaps(
  activations: tf.Tensor,
  options: FeatureMapOptions = {},
): Promise<ImageGrid> {
  const what = "Cannot show feature maps";
  if (!isTensorLike(activations)) throw new TypeError(`${what}: expected an activation tensor`);
  const t = activations as tf.Tensor;
  if (!(t.rank === 3 || (t.rank === 4 && t.shape[0] === 1))) {
    throw new RangeError(
      `${what}: expected [1, h, w, channels] or [h, w, channels], got [${t.shape.join(", ")}]` +
        (t.rank === 4 ? " (pass one image's activations, e.g. act.slice(0, 1))" : ""),
    );
  }
  const channels = t.shape[t.rank - 1];
  const max = Math.min(channels, options.max ?? 64);
  const maps = tf.tidy(() => {
    const hwc = (t.rank === 4 ? t.squeeze([0]) : t).cast("float32");
    const chw = tf.transpose(hwc.slice([0, 0, 0], [-1, -1, max]), [2, 0, 1]).expandDims(-1);
    const lo = tf.min(chw, [1, 2, 3], true), hi = tf.max(chw, [1, 2, 3], true);
    return tf.div(tf.sub(chw, lo), tf.maximum(tf.sub(hi, lo), 1e-12)) as tf.Tensor4D;
  });
  const tiles = await tilesFromBatch(maps, { cmap: options.cmap ?? "viridis", range: [0, 1] });
  maps.dispose();
  tiles.forEach((tile, i) => (tile.caption = `#${i}`));
  return new ImageGrid(tiles, {
    cols: options.perRow ?? 8,
    title: options.title ??
      `${channels} feature maps, ${t.shape[t.rank - 3]}×${t.shape[t.rank - 2]}`,
    scale: options.scale,
    note: max < channels ? `showing ${max} of ${channels} channels` : undefined,
  });
}

/** Options of {@linkcode misclassified}. */
export interface MisclassifiedOptions extends Omit<ImagesOptions, "labels" | "captions"> {
  /** At most this many examples (default 16). */
  max?: number;
}

/**
 * The images the model got wrong, captioned `true → predicted (probability)` in red.
 *
 * @param images The evaluated images `[n, h, w, c]`.
 * @param yTrue True classes (indices or one-hot rows).
 * @param yPred Predictions (indices, or probability rows: the caption then shows the probability).
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { misclassified } from "./images.ts";
 * const x = tf.zeros([3, 4, 4, 1]);
 * const grid = await misclassified(x, [0, 1, 2], tf.tensor2d([[0.9, 0.1, 0], [0.8, 0.2, 0], [0, 0, 1]]));
 * console.log(String(grid)); // one image: 1 → 0 (80%)
 * ```
 */
export async function misclassified(
  images: tf.Tensor,
  yTrue: ArrayLike<number> | tf.Tensor,
  yPred: ArrayLike<number> | tf.Tensor,
  options: MisclassifiedOptions = {},
): Promise<ImageGrid> {
  const what = "Cannot show misclassified images";
  const truth = await toClassIndices(yTrue, what);
  const predicted = await toClassIndices(yPred, what);
  let confidence: number[] | undefined;
  if (isTensorLike(yPred) && (yPred as tf.Tensor).rank === 2) {
    const maxProb = tf.max(yPred as tf.Tensor, 1);
    confidence = Array.from(await maxProb.data(), Number);
    maxProb.dispose();
  }
  if (truth.length !== predicted.length) {
    throw new RangeError(
      `${what}: ${truth.length} true labels but ${predicted.length} predictions`,
    );
  }
  const n = (images as tf.Tensor).shape?.[0];
  if (n !== truth.length) {
    throw new RangeError(`${what}: ${n} images but ${truth.length} labels`);
  }
  const wrong = truth.map((t, i) => (t !== predicted[i] ? i : -1)).filter((i) => i >= 0);
  const max = options.max ?? 16;
  const chosen = wrong.slice(0, max);
  if (chosen.length === 0) {
    throw new RangeError(`${what}: none of the ${n} images is misclassified`);
  }
  const subset = tf.tidy(() => tf.gather(images, chosen));
  try {
    const grid = await imagesWithCaptions(
      subset,
      chosen.map((i) => {
        const p = confidence ? ` (${Math.round(confidence[i] * 100)}%)` : "";
        return `${className(truth[i], options.classNames)} → ${
          className(predicted[i], options.classNames)
        }${p}`;
      }),
      {
        ...options,
        title: options.title ??
          `Misclassified: ${wrong.length} of ${n} (${((100 * wrong.length) / n).toFixed(1)}%)`,
        note: chosen.length < wrong.length
          ? `showing ${chosen.length} of ${wrong.length}`
          : undefined,
      },
    );
    grid.tiles.forEach((t) => (t.captionColor = "#c00000"));
    return grid;
  } finally {
    subset.dispose();
  }
}

async function imagesWithCaptions(
  batch: tf.Tensor,
  captions: string[],
  options: ImagesOptions & { note?: string },
): Promise<ImageGrid> {
  const tiles = await tilesFromBatch(batch as tf.Tensor4D, options);
  tiles.forEach((t, i) => (t.caption = captions[i]));
  return new ImageGrid(tiles, options);
}
