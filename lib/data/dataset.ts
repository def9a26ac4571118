/**
 * The value every dataset loader returns: Keras-style `xTrain`, `yTrain`, `xTest`, `yTest`
 * tensors, the compact uint8 arrays behind them, a batch iterator, and a record of which data
 * was used (full set, embedded subset or stand-in) that every output can state.
 *
 * Introduced in lesson 02 (LeNet-5 on MNIST).
 *
 * @module
 */

import { tf } from "../backend.ts";
import { DISPLAY, type MimeBundle } from "../display.ts";
import { randomStream } from "../random.ts";
import { rejectUnknownOptions } from "../_options.ts";
import { formatCount } from "./files.ts";
import { checkedSeed } from "./subset.ts";

/** Which data a loader used. */
export type DataSource = "full" | "embedded" | "standin";

/** Images and labels of one split, uint8, images NHWC row-major. */
export interface ImageSplit {
  images: Uint8Array;
  labels: Uint8Array;
}

/** What a dataset is and where its bytes came from; shown in every output. */
export interface DatasetInfo {
  /** Machine name: "mnist", "fashion-mnist", "cifar10", or a folder name. */
  name: string;
  /** Human title: "MNIST". */
  title: string;
  /** "full": the complete published set; "embedded": a real but smaller set shipped with the
   * code; "standin": generated data of the same shape, not the real images. */
  source: DataSource;
  /** Where the bytes came from (a path, a package, a generator and its seed). */
  origin: string;
  /** How the bytes were checked, when they were (e.g. "sha256 as published"). */
  verified?: string;
  /** What the user should know, e.g. how to get the full set. */
  note?: string;
  /** Images in each split as loaded (after `subset`). */
  trainCount: number;
  testCount: number;
  /** Images in each split before `subset`. */
  availableTrain: number;
  availableTest: number;
  /** Height, width, channels of one image. */
  imageShape: [number, number, number];
  classNames: string[];
  /** The seed of the subset draw, when a subset was taken. */
  subsetSeed?: number;
  /** `xTrain`/`xTest` in [0, 1] (true) or 0–255 (false). */
  normalize: boolean;
  /** `yTrain`/`yTest` one-hot `[n, classes]` (true) or class indices `[n]` (false). */
  oneHot: boolean;
  /** `xTrain`/`xTest` as `[n, h·w·c]` (true) or `[n, h, w, c]` (false). */
  flatten: boolean;
}

/** Options every loader accepts for the tensors it gives. */
export interface TensorOptions {
  /** Scale pixels to float32 in [0, 1] (default true); false keeps the 0–255 values (still
   * float32, so `x.div(255)` works as in the course's Keras code). */
  normalize?: boolean;
  /** One-hot labels `[n, classes]` (Keras's `to_categorical`) instead of indices `[n]`
   * (default false). */
  oneHot?: boolean;
  /** Images as flat vectors `[n, h·w·c]` for dense networks (default false: `[n, h, w, c]`). */
  flatten?: boolean;
}

/** Options for a random subset, shared by the loaders. */
export interface SubsetOptions {
  /** Keep at most this many images of each split (a number), or per split. The draw is
   * stratified (class proportions kept) and seeded. */
  subset?: number | { train?: number; test?: number };
  /** Seed of the subset draw (default: derived from `cl.seed`). */
  seed?: number;
}

/** One batch from {@link ImageDataset.batches}; the caller owns (and disposes) the tensors. */
export interface Batch {
  xs: tf.Tensor;
  ys: tf.Tensor;
  /** Images in this batch (the last one may be smaller). */
  size: number;
  /** 0-based batch number within the epoch. */
  index: number;
}

/** The batches of a split: iterate once per epoch; `length` batches each time. */
export interface Batches extends Iterable<Batch> {
  /** Batches per epoch. */
  readonly length: number;
  /** Images per batch (the last batch may have fewer). */
  readonly batchSize: number;
}

/** Options of {@link ImageDataset.batches}. */
export interface BatchOptions {
  /** Images per batch (default 32, as Keras). */
  batchSize?: number;
  /** Shuffle the order (default: true for "train", false for "test"). */
  shuffle?: boolean;
  /** Seed of the shuffle (default: derived from `cl.seed`). */
  seed?: number;
  /** Drop a last, smaller batch (default false). */
  dropRemainder?: boolean;
}

/** WebGPU's default maximum buffer size: bigger tensors fail or train silently wrong there. */
const WEBGPU_BUFFER_LIMIT = 128 * 2 ** 20;

const SCALE_01 = Float32Array.from({ length: 256 }, (_, i) => i / 255);
const SCALE_255 = Float32Array.from({ length: 256 }, (_, i) => i);

/**
 * A loaded image-classification dataset, Keras style:
 * `const { xTrain, yTrain, xTest, yTest } = await cl.datasets.mnist();`.
 *
 * The images are kept once as uint8 (`arrays`); the four tensors are made on first access
 * (float32: 4 bytes per pixel, e.g. 188 MB for MNIST's 60,000 training images) and live until
 * {@link ImageDataset.dispose}. For training on big sets prefer {@link ImageDataset.batches},
 * which makes one batch of tensors at a time from the uint8 arrays.
 */
export class ImageDataset {
  /** What the data is and where it came from. */
  readonly info: DatasetInfo;
  /** Class names, index = label. */
  readonly classNames: string[];
  /** The compact uint8 data: images NHWC row-major, labels as class indices. */
  readonly arrays: {
    xTrain: Uint8Array;
    yTrain: Uint8Array;
    xTest: Uint8Array;
    yTest: Uint8Array;
  };
  #tensors = new Map<string, tf.Tensor>();
  #disposed = false;

  /**
   * @param train The training split.
   * @param test The test split.
   * @param info Provenance and options (counts must match the splits).
   */
  constructor(train: ImageSplit, test: ImageSplit, info: DatasetInfo) {
    const pixels = info.imageShape[0] * info.imageShape[1] * info.imageShape[2];
    for (const [name, split] of [["train", train], ["test", test]] as const) {
      if (split.images.length !== split.labels.length * pixels) {
        throw new RangeError(
          `Cannot build dataset ${info.name}: ${name} split has ${split.labels.length} labels ` +
            `but ${split.images.length / pixels} images of ${info.imageShape.join("×")}`,
        );
      }
    }
    this.info = info;
    this.classNames = info.classNames;
    this.arrays = {
      xTrain: train.images,
      yTrain: train.labels,
      xTest: test.images,
      yTest: test.labels,
    };
  }

  /** Training images: float32 `[n, h, w, c]` (or `[n, h·w·c]` with `flatten`). */
  get xTrain(): tf.Tensor {
    return this.#tensor("xTrain");
  }
  /** Training labels: int32 `[n]` class indices, or float32 `[n, classes]` with `oneHot`. */
  get yTrain(): tf.Tensor {
    return this.#tensor("yTrain");
  }
  /** Test images, as {@link ImageDataset.xTrain}. */
  get xTest(): tf.Tensor {
    return this.#tensor("xTest");
  }
  /** Test labels, as {@link ImageDataset.yTrain}. */
  get yTest(): tf.Tensor {
    return this.#tensor("yTest");
  }

  #tensor(key: "xTrain" | "yTrain" | "xTest" | "yTest"): tf.Tensor {
    if (this.#disposed) {
      throw new Error(`Cannot read ${key} of dataset ${this.info.name}: it was disposed`);
    }
    let tensor = this.#tensors.get(key);
    // Made again if the caller disposed it themselves.
    if (!tensor || tensor.isDisposed) {
      const split = key.endsWith("Train") ? "train" : "test";
      tensor = key.startsWith("x") ? this.#images(split, null) : this.#labels(split, null);
      if (tensor.size * 4 > WEBGPU_BUFFER_LIMIT && tf.getBackend() === "webgpu") {
        console.warn(
          `${this.info.title} ${key} is ${Math.round(tensor.size * 4 / 2 ** 20)} MiB, more than ` +
            `WebGPU's 128 MiB buffer limit: train from data.batches() instead of whole tensors.`,
        );
      }
      // Kept out of any tf.tidy() the caller is in: the dataset owns it until dispose().
      tf.keep(tensor);
      this.#tensors.set(key, tensor);
    }
    return tensor;
  }

  /** Number of images in a split. */
  count(split: "train" | "test"): number {
    return split === "train" ? this.info.trainCount : this.info.testCount;
  }

  /** Number of batches per epoch for a batch size. */
  batchCount(
    split: "train" | "test",
    batchSize = 32,
    dropRemainder = false,
  ): number {
    const n = this.count(split);
    return dropRemainder ? Math.floor(n / batchSize) : Math.ceil(n / batchSize);
  }

  /**
   * A split in batches, one pair of tensors at a time (the way to feed a backend big sets).
   * The result can be iterated again and again — each pass is an epoch, reshuffled (seeded) when
   * shuffling — and has a `length` (batches per epoch), so `fit` can take it as it is.
   * Each batch's tensors belong to the consumer: dispose them (or use `tf.tidy`); `fit` does.
   *
   * @param split "train" (default) or "test".
   * @param options Batch size, shuffling and its seed.
   * @example
   * ```ts
   * import * as cl from "convlab";
   * const data = await cl.datasets.mnist({ subset: 256, quiet: true });
   * for (const { xs, ys } of data.batches("train", { batchSize: 128 })) {
   *   console.log(xs.shape, ys.shape);
   *   xs.dispose();
   *   ys.dispose();
   * }
   * data.dispose();
   * ```
   */
  batches(split: "train" | "test" = "train", options: BatchOptions = {}): Batches {
    if (split !== "train" && split !== "test") {
      throw new RangeError(`Cannot make batches: split must be "train" or "test", got "${split}"`);
    }
    rejectUnknownOptions("Cannot make batches", options, [
      "batchSize",
      "shuffle",
      "seed",
      "dropRemainder",
    ]);
    const batchSize = options.batchSize ?? 32;
    if (!Number.isInteger(batchSize) || batchSize <= 0) {
      throw new RangeError(
        `Cannot make batches: batchSize must be a positive integer, got ${batchSize}`,
      );
    }
    checkedSeed(options.seed, "Cannot make batches");
    const n = this.count(split);
    const shuffle = options.shuffle ?? split === "train";
    const length = this.batchCount(split, batchSize, options.dropRemainder ?? false);
    const stream = randomStream(`datasets.batches.${this.info.name}.${split}`, options.seed);
    const epoch = (): Iterator<Batch> => {
      const order = Array.from({ length: n }, (_, i) => i);
      if (shuffle) stream.shuffle(order); // one stream: each pass gets the next permutation
      let b = 0;
      return {
        next: (): IteratorResult<Batch> => {
          if (b >= length) return { done: true, value: undefined };
          const indices = order.slice(b * batchSize, Math.min(n, (b + 1) * batchSize));
          const batch = {
            xs: this.#images(split, indices),
            ys: this.#labels(split, indices),
            size: indices.length,
            index: b++,
          };
          return { done: false, value: batch };
        },
      };
    };
    return { length, batchSize, [Symbol.iterator]: epoch };
  }

  #images(split: "train" | "test", indices: number[] | null): tf.Tensor {
    const { imageShape, normalize, flatten } = this.info;
    const pixels = imageShape[0] * imageShape[1] * imageShape[2];
    const source = split === "train" ? this.arrays.xTrain : this.arrays.xTest;
    const n = indices ? indices.length : source.length / pixels;
    const lut = normalize ? SCALE_01 : SCALE_255;
    const out = new Float32Array(n * pixels);
    for (let i = 0; i < n; i++) {
      const from = (indices ? indices[i] : i) * pixels;
      const to = i * pixels;
      for (let p = 0; p < pixels; p++) out[to + p] = lut[source[from + p]];
    }
    return flatten ? tf.tensor2d(out, [n, pixels]) : tf.tensor4d(out, [n, ...imageShape]);
  }

  #labels(split: "train" | "test", indices: number[] | null): tf.Tensor {
    const source = split === "train" ? this.arrays.yTrain : this.arrays.yTest;
    const n = indices ? indices.length : source.length;
    const classes = this.classNames.length;
    if (this.info.oneHot) {
      const out = new Float32Array(n * classes);
      for (let i = 0; i < n; i++) out[i * classes + source[indices ? indices[i] : i]] = 1;
      return tf.tensor2d(out, [n, classes]);
    }
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = source[indices ? indices[i] : i];
    return tf.tensor1d(out, "int32");
  }

  /** Free the tensors made so far (the uint8 arrays stay usable for `batches`). */
  dispose(): void {
    for (const tensor of this.#tensors.values()) tensor.dispose();
    this.#tensors.clear();
    this.#disposed = true;
  }

  /** One line saying which data this is, e.g. for a lesson's output. */
  summary(): string {
    const i = this.info;
    const kind = i.source === "full"
      ? "full dataset"
      : i.source === "embedded"
      ? "embedded subset (real images, not the full set)"
      : "STAND-IN (generated images, not the real dataset)";
    const subset = i.subsetSeed !== undefined
      ? `; random subset of ${formatCount(i.availableTrain)}/${
        formatCount(i.availableTest)
      }, seed ${i.subsetSeed}`
      : "";
    return `${i.title}: ${kind} — ${formatCount(i.trainCount)} train / ${
      formatCount(i.testCount)
    } test, ${i.imageShape.join("×")}, ${i.classNames.length} classes${subset}; from ${i.origin}` +
      (i.verified ? ` (${i.verified})` : "") + (i.note ? `. ${i.note}` : "");
  }

  /** The summary line. */
  toString(): string {
    return this.summary();
  }

  /** Notebook display: the summary and a table of the tensors' shapes. */
  [DISPLAY](): MimeBundle {
    const i = this.info;
    const pixels = i.imageShape[0] * i.imageShape[1] * i.imageShape[2];
    const xShape = (n: number) =>
      i.flatten ? `[${n}, ${pixels}]` : `[${n}, ${i.imageShape.join(", ")}]`;
    const yShape = (n: number) => i.oneHot ? `[${n}, ${i.classNames.length}]` : `[${n}]`;
    const rows = [
      ["xTrain", xShape(i.trainCount), "float32", i.normalize ? "0–1" : "0–255"],
      ["yTrain", yShape(i.trainCount), i.oneHot ? "float32 one-hot" : "int32", "class"],
      ["xTest", xShape(i.testCount), "float32", i.normalize ? "0–1" : "0–255"],
      ["yTest", yShape(i.testCount), i.oneHot ? "float32 one-hot" : "int32", "class"],
    ];
    const escape = (s: string) =>
      s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
    const html =
      `<div class="convlab-dataset"><p><b>${escape(i.title)}</b> — ${
        escape(this.summary().slice(i.title.length + 2))
      }</p><table><thead><tr><th>tensor</th><th>shape</th><th>dtype</th><th>values</th></tr>` +
      `</thead><tbody>${
        rows.map((r) => `<tr>${r.map((c) => `<td>${escape(c)}</td>`).join("")}</tr>`).join("")
      }</tbody></table><p>classes: ${escape(i.classNames.join(", "))}</p></div>`;
    return { "text/plain": this.summary(), "text/html": html };
  }
}
