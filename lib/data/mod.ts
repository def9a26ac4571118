/**
 * `cl.datasets`: image datasets for the lessons, Keras style.
 *
 * - {@link mnist}, {@link fashionMnist}: from the published IDX files (cached download or
 *   Debian's package); MNIST falls back to 10,000 embedded real digits offline.
 * - {@link cifar10}: the published binary archive when cached, else a procedural stand-in of
 *   32×32 colour shapes in 10 classes (labelled as such everywhere).
 * - {@link imageFolder}: a folder of class subfolders of PNG/JPEG files as streamed batches
 *   (Keras's `image_dataset_from_directory`).
 * - Every loader returns an {@link ImageDataset} whose `info` and summary line say which data
 *   was used (full set, embedded subset or stand-in).
 * - {@link fetchDataset} (also `deno task data fetch <name>`) downloads into the cache folder
 *   ({@link cacheDir}), checking each file's SHA-256 against `data/manifest.json`.
 *
 * @example
 * ```ts
 * import * as cl from "convlab";
 * const { xTrain, yTrain, info } = await cl.datasets.mnist({ subset: 500, quiet: true });
 * console.log(info.source, xTrain.shape, yTrain.shape);
 * ```
 *
 * @module
 */

export {
  type Batch,
  type Batches,
  type BatchOptions,
  type DatasetInfo,
  type DataSource,
  ImageDataset,
  type ImageSplit,
  type SubsetOptions,
  type TensorOptions,
} from "./dataset.ts";
export {
  FASHION_MNIST_CLASSES,
  fashionMnist,
  type FashionMnistOptions,
  type LoadOptions,
  mnist,
  MNIST_CLASSES,
  type MnistOptions,
} from "./mnist.ts";
export { cifar10, CIFAR10_CLASSES, type Cifar10Options } from "./cifar10.ts";
export { CIFAR_RECORD_BYTES, parseCifarBatch, readCifarArchive } from "./cifar.ts";
export { generateStandin, STANDIN_CLASSES, STANDIN_SIZES } from "./cifar_standin.ts";
export {
  type FolderBatch,
  imageFolder,
  ImageFolderDataset,
  type ImageFolderOptions,
} from "./image_folder.ts";
export { selectClasses, type SelectClassesOptions } from "./select.ts";
export { type LocalizationSet, placeOnCanvas, type PlaceOnCanvasOptions } from "./localization.ts";
export { cacheDir, datasetDir } from "./cache.ts";
export { type CacheOptions, fetchDataset, locateDataset } from "./fetch.ts";
export { type DownloadOptions, type DownloadProgress } from "./download.ts";
export { ChecksumError, DatasetFormatError, DatasetUnavailableError } from "./errors.ts";
export { type IdxArray, parseIdx, readIdxFile } from "./idx.ts";
