/**
 * `cl.datasets.imageFolder(dir, options)`: Keras's `image_dataset_from_directory` for Deno — a
 * folder with one subfolder per class (`cats/…`, `dogs/…`) becomes batches of images resized to
 * one size, with labels from the subfolders. Batches are read, decoded and resized as they are
 * needed (never the whole folder in memory), reshuffled every epoch.
 *
 * Introduced in lesson 04 (cats vs dogs: a small convnet on image files).
 *
 * @module
 */

import { basename, dirname, join, relative, resolve } from "node:path";
import { tf } from "../backend.ts";
import { DISPLAY, type MimeBundle } from "../display.ts";
import { decodeImage } from "../image/codec.ts";
import { resize, type ResizeMethod } from "../image/resize.ts";
import { currentSeed, randomStream } from "../random.ts";
import { rejectUnknownOptions } from "../_options.ts";
import { DatasetFormatError } from "./errors.ts";
import { formatCount } from "./files.ts";
import { checkedSeed } from "./subset.ts";

/** Options of {@link imageFolder}, as Keras's `image_dataset_from_directory`. */
export interface ImageFolderOptions {
  /** "inferred" (default): labels from the class subfolders; an array: one label per image
   * file, in the alphanumeric order of the files' paths; null: no labels. */
  labels?: "inferred" | number[] | null;
  /** "int" (default): int32 `[n]`; "categorical": one-hot float32 `[n, classes]`; "binary":
   * float32 `[n, 1]` (exactly two classes); null: no labels. */
  labelMode?: "int" | "categorical" | "binary" | null;
  /** Class subfolders to use, in label order (default: every subfolder, sorted). */
  classNames?: string[];
  /** "rgb" (default, 3 channels), "grayscale" (1) or "rgba" (4). */
  colorMode?: "rgb" | "grayscale" | "rgba";
  /** Images per batch (default 32). */
  batchSize?: number;
  /** `[height, width]` every image is resized to (default `[256, 256]`). */
  imageSize?: [number, number];
  /** Shuffle the files (default true): once before the validation split, then every epoch. */
  shuffle?: boolean;
  /** Seed of the shuffles (default: from `cl.seed`). Use the same seed for both subsets. */
  seed?: number;
  /** Fraction of the files held out for validation (0 < v < 1); needs `subset`. */
  validationSplit?: number;
  /** "training", "validation", or "both" (returns `[training, validation]`). */
  subset?: "training" | "validation" | "both";
  /** Resize method (default "bilinear"). */
  interpolation?: ResizeMethod;
  /** Crop each image to the target aspect ratio (centred) before resizing, instead of
   * stretching it (default false). */
  cropToAspectRatio?: boolean;
  /** Scale pixels to [0, 1] (default false: 0–255 floats, as Keras gives). */
  normalize?: boolean;
  /** Follow symbolic links to folders and files (default false). */
  followLinks?: boolean;
  /** Do not print Keras's "Found N files belonging to K classes." line (default false). */
  quiet?: boolean;
}

/** One batch of an {@link ImageFolderDataset}; the consumer owns (and disposes) the tensors. */
export interface FolderBatch {
  /** Images `[b, height, width, channels]` float32. */
  xs: tf.Tensor4D;
  /** Labels (absent when there are none). */
  ys?: tf.Tensor;
  /** The files of this batch, relative to the folder. */
  files: string[];
}

const IMAGE_EXTENSIONS = [".png", ".jpg", ".jpeg"];
/** Every option {@link imageFolder} knows (the keys of {@link ImageFolderOptions}). */
const OPTION_NAMES: (keyof ImageFolderOptions)[] = [
  "labels",
  "labelMode",
  "classNames",
  "colorMode",
  "batchSize",
  "imageSize",
  "shuffle",
  "seed",
  "validationSplit",
  "subset",
  "interpolation",
  "cropToAspectRatio",
  "normalize",
  "followLinks",
  "quiet",
];
const CHANNELS = { rgb: 3, grayscale: 1, rgba: 4 } as const;

/**
 * The images of a folder as a stream of batches: async-iterable (one epoch per `for await`, with
 * `length` batches), so `cl.fit(model, dataset, {epochs})` takes it as it is.
 */
export class ImageFolderDataset implements AsyncIterable<FolderBatch> {
  /** The folder read. */
  readonly dir: string;
  /** Class names, index = label ([] without inferred labels). */
  readonly classNames: string[];
  /** The image files of this dataset (relative to `dir`), in their first-epoch order. */
  readonly files: string[];
  /** Label of each file (class index), or undefined without labels. */
  readonly labels?: Int32Array;
  /** Which part this is: "all", "training" or "validation". */
  readonly subset: "all" | "training" | "validation";
  readonly batchSize: number;
  readonly imageSize: [number, number];
  readonly channels: 1 | 3 | 4;
  readonly labelMode: "int" | "categorical" | "binary" | null;
  /** Seed of the shuffles (recorded so the split can be repeated). */
  readonly seed: number;
  readonly #options: Required<Pick<ImageFolderOptions, "shuffle" | "normalize">> & {
    interpolation: ResizeMethod;
    cropToAspectRatio: boolean;
  };
  #epoch = 0;

  /** @internal Made by {@link imageFolder}. */
  constructor(init: {
    dir: string;
    classNames: string[];
    files: string[];
    labels?: Int32Array;
    subset: "all" | "training" | "validation";
    batchSize: number;
    imageSize: [number, number];
    channels: 1 | 3 | 4;
    labelMode: "int" | "categorical" | "binary" | null;
    seed: number;
    shuffle: boolean;
    normalize: boolean;
    interpolation: ResizeMethod;
    cropToAspectRatio: boolean;
  }) {
    this.dir = init.dir;
    this.classNames = init.classNames;
    this.files = init.files;
    this.labels = init.labels;
    this.subset = init.subset;
    this.batchSize = init.batchSize;
    this.imageSize = init.imageSize;
    this.channels = init.channels;
    this.labelMode = init.labelMode;
    this.seed = init.seed;
    this.#options = {
      shuffle: init.shuffle,
      normalize: init.normalize,
      interpolation: init.interpolation,
      cropToAspectRatio: init.cropToAspectRatio,
    };
  }

  /** Number of images. */
  get count(): number {
    return this.files.length;
  }

  /** Batches per epoch. */
  get length(): number {
    return Math.ceil(this.files.length / this.batchSize);
  }

  /**
   * One epoch of batches, read and decoded as they are asked for. The first epoch follows
   * `files`; later ones are reshuffled (when shuffling), seeded.
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<FolderBatch> {
    const order = Array.from({ length: this.files.length }, (_, i) => i);
    const epoch = this.#epoch++;
    if (this.#options.shuffle && epoch > 0) {
      randomStream(`datasets.imageFolder.epoch${epoch}`, this.seed).shuffle(order);
    }
    for (let start = 0; start < order.length; start += this.batchSize) {
      yield await this.batchAt(order.slice(start, start + this.batchSize));
    }
  }

  /**
   * Read, decode and resize the images at `indices` (positions in `files`) into one batch.
   *
   * @throws {DatasetFormatError} When a file cannot be read or decoded, naming it.
   */
  async batchAt(indices: number[]): Promise<FolderBatch> {
    const files = indices.map((i) => this.files[i]);
    const bytes = await Promise.all(files.map(async (file) => {
      try {
        return await Deno.readFile(join(this.dir, file));
      } catch (error) {
        throw new DatasetFormatError(
          join(this.dir, file),
          `cannot read (${(error as Error).message})`,
        );
      }
    }));
    const xs = tf.tidy(() => {
      const images = bytes.map((b, k) => this.#image(b, join(this.dir, files[k])));
      const batch = tf.stack(images) as tf.Tensor4D;
      return this.#options.normalize ? tf.div(batch, 255) as tf.Tensor4D : batch;
    });
    return this.labels ? { xs, ys: this.#labelTensor(indices), files } : { xs, files };
  }

  #image(bytes: Uint8Array, path: string): tf.Tensor3D {
    let image: tf.Tensor3D;
    try {
      image = decodeImage(bytes, { channels: this.channels });
    } catch (error) {
      throw new DatasetFormatError(path, (error as Error).message);
    }
    const [th, tw] = this.imageSize;
    if (this.#options.cropToAspectRatio) {
      const [h, w] = image.shape;
      const scale = Math.min(h / th, w / tw);
      const ch = Math.max(1, Math.round(th * scale));
      const cw = Math.max(1, Math.round(tw * scale));
      image = tf.slice(image, [Math.floor((h - ch) / 2), Math.floor((w - cw) / 2), 0], [
        ch,
        cw,
        -1,
      ]);
    }
    const method = this.#options.interpolation;
    // tfjs's own kernels give TF2's bilinear/nearest results (half-pixel centres, no antialias,
    // as Keras uses) ~20× faster than the general lib/image resize, which serves the others.
    if (method === "bilinear") {
      return tf.image.resizeBilinear(tf.cast(image, "float32"), [th, tw], false, true);
    }
    if (method === "nearest") {
      return tf.cast(tf.image.resizeNearestNeighbor(image, [th, tw], false, true), "float32");
    }
    return tf.cast(resize(image, [th, tw], { method }), "float32") as tf.Tensor3D;
  }

  #labelTensor(indices: number[]): tf.Tensor {
    const labels = indices.map((i) => this.labels![i]);
    if (this.labelMode === "categorical") {
      const classes = this.classNames.length || Math.max(...this.labels!) + 1;
      return tf.tidy(() => tf.oneHot(tf.tensor1d(labels, "int32"), classes).toFloat());
    }
    if (this.labelMode === "binary") return tf.tensor2d(labels, [labels.length, 1], "float32");
    return tf.tensor1d(labels, "int32");
  }

  /** One line: what was found and which part this is. */
  summary(): string {
    const part = this.subset === "all" ? "" : ` (${this.subset} subset, seed ${this.seed})`;
    const classes = this.classNames.length
      ? `, ${this.classNames.length} classes: ${this.classNames.join(", ")}`
      : "";
    return `${this.dir}: ${
      formatCount(this.count)
    } images${part}${classes}; batches of ${this.batchSize} × ${
      this.imageSize.join("×")
    }×${this.channels}, ${this.#options.normalize ? "0–1" : "0–255"} float32`;
  }

  /** The summary line. */
  toString(): string {
    return this.summary();
  }

  /** Notebook display: the summary line. */
  [DISPLAY](): MimeBundle {
    return { "text/plain": this.summary() };
  }
}

/**
 * Read a folder of images as batches, like Keras's `image_dataset_from_directory`: with inferred
 * labels, each subfolder of `dir` is a class (sorted by name unless `classNames` says) and holds
 * its PNG/JPEG images (subfolders of it too). Images are decoded and resized to `imageSize` one
 * batch at a time as the dataset is iterated.
 *
 * @param dir The folder.
 * @param options As Keras: labels, labelMode, classNames, colorMode, batchSize, imageSize,
 *   shuffle, seed, validationSplit, subset, interpolation, cropToAspectRatio; plus normalize.
 * @returns The dataset, or `[training, validation]` with `subset: "both"`.
 * @throws {Error} When the folder is missing, has no class subfolders or no images, or the
 *   options disagree; the message says which.
 * @example
 * ```ts ignore
 * import * as cl from "convlab";
 * const [train, val] = await cl.datasets.imageFolder("data/cats_and_dogs", {
 *   validationSplit: 0.2, subset: "both", seed: 1, imageSize: [150, 150], batchSize: 20,
 *   labelMode: "binary",
 * });
 * for await (const { xs, ys } of train) { console.log(xs.shape); cl.tf.dispose([xs, ys!]); break; }
 * ```
 */
export async function imageFolder(
  dir: string,
  options: ImageFolderOptions & { subset: "both" },
): Promise<[ImageFolderDataset, ImageFolderDataset]>;
export async function imageFolder(
  dir: string,
  options?: ImageFolderOptions & { subset?: "training" | "validation" },
): Promise<ImageFolderDataset>;
export async function imageFolder(
  dir: string,
  options: ImageFolderOptions = {},
): Promise<ImageFolderDataset | [ImageFolderDataset, ImageFolderDataset]> {
  const what = `Cannot read image folder ${dir}`;
  const o = checkOptions(options, what);
  const root = resolve(dir);
  let stat: Deno.FileInfo;
  try {
    stat = await Deno.stat(root);
  } catch (error) {
    throw new Deno.errors.NotFound(`${what}: ${(error as Error).message}`);
  }
  if (!stat.isDirectory) throw new TypeError(`${what}: it is not a folder`);

  const skipped: string[] = [];
  let files: string[];
  let labels: Int32Array | undefined;
  let classNames: string[] = [];
  if (o.labels === "inferred") {
    const found = (await listEntries(root, o.followLinks)).filter((e) => e.isDirectory)
      .map((e) => e.name).sort();
    classNames = o.classNames ?? found;
    const missing = classNames.filter((c) => !found.includes(c));
    if (missing.length) {
      throw new RangeError(
        `${what}: classNames lists ${missing.join(", ")}, which ${
          missing.length > 1 ? "are not subfolders" : "is not a subfolder"
        } (found: ${found.join(", ") || "none"})`,
      );
    }
    if (classNames.length === 0) {
      throw new RangeError(
        `${what}: no class subfolders found (expected one subfolder per class, e.g. ` +
          `${dir}/cats/*.jpg and ${dir}/dogs/*.jpg)`,
      );
    }
    files = [];
    const fileLabels: number[] = [];
    for (const [label, name] of classNames.entries()) {
      for (const file of await walkImages(join(root, name), o.followLinks, skipped)) {
        files.push(relative(root, file));
        fileLabels.push(label);
      }
    }
    labels = Int32Array.from(fileLabels);
  } else {
    files = (await walkImages(root, o.followLinks, skipped)).map((f) => relative(root, f));
    if (Array.isArray(o.labels)) {
      if (o.labels.length !== files.length) {
        throw new RangeError(
          `${what}: labels has ${o.labels.length} entries but the folder has ${files.length} ` +
            `images (labels follow the images' paths in alphanumeric order)`,
        );
      }
      labels = Int32Array.from(o.labels);
    }
  }
  if (files.length === 0) {
    throw new RangeError(
      `${what}: no PNG or JPEG images found${
        skipped.length ? ` (${skipped.length} other files ignored, e.g. ${skipped[0]})` : ""
      }`,
    );
  }
  if (o.labelMode === "binary" && o.labels === "inferred" && classNames.length !== 2) {
    throw new RangeError(
      `${what}: labelMode "binary" needs exactly 2 classes, found ${classNames.length} ` +
        `(${classNames.join(", ")}); use "int" or "categorical"`,
    );
  }
  if (!o.quiet) {
    console.log(
      `Found ${formatCount(files.length)} files${
        classNames.length ? ` belonging to ${classNames.length} classes` : ""
      }.` + (skipped.length ? ` Ignored ${skipped.length} files that are not PNG or JPEG.` : ""),
    );
  }

  // Keras: shuffle once with the seed, then the last `validationSplit` share is validation.
  const order = Array.from({ length: files.length }, (_, i) => i);
  if (o.shuffle) randomStream("datasets.imageFolder.split", o.seed).shuffle(order);
  const make = (part: "all" | "training" | "validation", picked: number[]) =>
    new ImageFolderDataset({
      dir: root,
      classNames,
      files: picked.map((i) => files[i]),
      labels: labels && o.labelMode !== null
        ? Int32Array.from(picked, (i) => labels![i])
        : undefined,
      subset: part,
      batchSize: o.batchSize,
      imageSize: o.imageSize,
      channels: CHANNELS[o.colorMode],
      labelMode: labels ? o.labelMode : null,
      seed: o.seed,
      shuffle: o.shuffle,
      normalize: o.normalize,
      interpolation: o.interpolation,
      cropToAspectRatio: o.cropToAspectRatio,
    });
  if (o.validationSplit === undefined) return make("all", order);
  const validationCount = Math.floor(o.validationSplit * files.length);
  // (validationSplit < 1 always leaves training images.)
  if (validationCount === 0) {
    throw new RangeError(
      `${what}: validationSplit ${o.validationSplit} of ${files.length} images leaves no ` +
        `validation images`,
    );
  }
  const training = make("training", order.slice(0, files.length - validationCount));
  const validation = make("validation", order.slice(files.length - validationCount));
  const say = (d: ImageFolderDataset) => {
    if (!o.quiet) console.log(`Using ${formatCount(d.count)} files for ${d.subset}.`);
  };
  if (o.subset === "both") {
    say(training);
    say(validation);
    return [training, validation];
  }
  const chosen = o.subset === "training" ? training : validation;
  say(chosen);
  return chosen;
}

type CheckedOptions =
  & Required<
    Omit<ImageFolderOptions, "classNames" | "validationSplit" | "subset" | "labels" | "labelMode">
  >
  & Pick<ImageFolderOptions, "classNames" | "validationSplit" | "subset">
  & {
    labels: "inferred" | number[] | null;
    labelMode: "int" | "categorical" | "binary" | null;
  };

function checkOptions(options: ImageFolderOptions, what: string): CheckedOptions {
  rejectUnknownOptions(what, options, OPTION_NAMES);
  const labels = options.labels === undefined ? "inferred" : options.labels;
  const labelMode = labels === null
    ? null
    : options.labelMode === undefined
    ? "int"
    : options.labelMode;
  if (labels !== "inferred" && labels !== null && !Array.isArray(labels)) {
    throw new RangeError(`${what}: labels must be "inferred", an array or null, got ${labels}`);
  }
  if (labelMode !== null && !["int", "categorical", "binary"].includes(labelMode)) {
    throw new RangeError(
      `${what}: labelMode must be "int", "categorical", "binary" or null, got "${labelMode}"`,
    );
  }
  if (options.classNames !== undefined && labels !== "inferred") {
    throw new RangeError(`${what}: classNames needs labels "inferred"`);
  }
  const colorMode = options.colorMode ?? "rgb";
  if (!(colorMode in CHANNELS)) {
    throw new RangeError(
      `${what}: colorMode must be "rgb", "grayscale" or "rgba", got "${colorMode}"`,
    );
  }
  const batchSize = options.batchSize ?? 32;
  if (!Number.isInteger(batchSize) || batchSize <= 0) {
    throw new RangeError(`${what}: batchSize must be a positive integer, got ${batchSize}`);
  }
  const imageSize = options.imageSize ?? [256, 256];
  if (
    !Array.isArray(imageSize) || imageSize.length !== 2 ||
    !imageSize.every((s) => Number.isInteger(s) && s > 0)
  ) {
    throw new RangeError(
      `${what}: imageSize must be [height, width] of positive integers, got ${
        JSON.stringify(imageSize)
      }`,
    );
  }
  const { validationSplit, subset } = options;
  if (validationSplit !== undefined) {
    if (!(typeof validationSplit === "number" && validationSplit > 0 && validationSplit < 1)) {
      throw new RangeError(
        `${what}: validationSplit must be between 0 and 1, got ${validationSplit}`,
      );
    }
    if (subset === undefined) {
      throw new RangeError(
        `${what}: with validationSplit, say which subset: "training", "validation" or "both"`,
      );
    }
  }
  if (subset !== undefined) {
    if (!["training", "validation", "both"].includes(subset)) {
      throw new RangeError(
        `${what}: subset must be "training", "validation" or "both", got "${subset}"`,
      );
    }
    if (validationSplit === undefined) {
      throw new RangeError(`${what}: subset "${subset}" needs validationSplit`);
    }
  }
  return {
    labels,
    labelMode,
    classNames: options.classNames,
    colorMode,
    batchSize,
    imageSize: [imageSize[0], imageSize[1]],
    shuffle: options.shuffle ?? true,
    seed: checkedSeed(options.seed, what) ?? currentSeed(),
    validationSplit,
    subset,
    interpolation: options.interpolation ?? "bilinear",
    cropToAspectRatio: options.cropToAspectRatio ?? false,
    normalize: options.normalize ?? false,
    followLinks: options.followLinks ?? false,
    quiet: options.quiet ?? false,
  };
}

async function listEntries(dir: string, followLinks: boolean): Promise<Deno.DirEntry[]> {
  const entries: Deno.DirEntry[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isSymlink) {
      if (!followLinks) continue;
      const target = await Deno.stat(join(dir, entry.name)).catch(() => undefined);
      if (!target) continue;
      entries.push({ ...entry, isFile: target.isFile, isDirectory: target.isDirectory });
    } else entries.push(entry);
  }
  return entries;
}

/** Image files under `dir` (recursively), in alphanumeric order of their paths. */
async function walkImages(dir: string, followLinks: boolean, skipped: string[]): Promise<string[]> {
  const out: string[] = [];
  const entries = (await listEntries(dir, followLinks)).sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0
  );
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) out.push(...await walkImages(path, followLinks, skipped));
    else if (entry.isFile && !entry.name.startsWith(".")) {
      const lower = entry.name.toLowerCase();
      if (IMAGE_EXTENSIONS.some((ext) => lower.endsWith(ext))) out.push(path);
      else skipped.push(join(basename(dirname(path)), entry.name));
    }
  }
  return out;
}
