/**
 * The last step every loader shares: apply the subset, record where the data came from, print
 * the one-line summary and wrap it all in an {@link ImageDataset}.
 *
 * @module
 */

import {
  type DatasetInfo,
  type DataSource,
  ImageDataset,
  type ImageSplit,
  type SubsetOptions,
  type TensorOptions,
} from "./dataset.ts";
import { applySubset } from "./subset.ts";

/** What a dataset is, independent of how it was loaded. */
export interface DatasetMeta {
  name: string;
  title: string;
  classNames: string[];
  imageShape: [number, number, number];
}

/** Splits as a loader read them, and where from. */
export interface LoadedData {
  train: ImageSplit;
  test: ImageSplit;
  source: DataSource;
  origin: string;
  verified?: string;
  note?: string;
  /** Set when the loader drew the subset itself (the stand-in generates only what is asked). */
  presubset?: { availableTrain: number; availableTest: number; seed?: number };
}

/**
 * Build the dataset a loader returns.
 *
 * @param meta Name, title, classes, image shape.
 * @param loaded The splits and their provenance.
 * @param options Tensor, subset and `quiet` options.
 */
export function buildDataset(
  meta: DatasetMeta,
  loaded: LoadedData,
  options: TensorOptions & SubsetOptions & { quiet?: boolean },
): ImageDataset {
  const [h, w, c] = meta.imageShape;
  const picked = loaded.presubset
    ? { train: loaded.train, test: loaded.test, seed: loaded.presubset.seed }
    : applySubset(meta.name, loaded.train, loaded.test, h * w * c, options);
  const info: DatasetInfo = {
    name: meta.name,
    title: meta.title,
    source: loaded.source,
    origin: loaded.origin,
    verified: loaded.verified,
    note: loaded.note,
    trainCount: picked.train.labels.length,
    testCount: picked.test.labels.length,
    availableTrain: loaded.presubset?.availableTrain ?? loaded.train.labels.length,
    availableTest: loaded.presubset?.availableTest ?? loaded.test.labels.length,
    imageShape: meta.imageShape,
    classNames: meta.classNames,
    subsetSeed: picked.seed,
    normalize: options.normalize ?? true,
    oneHot: options.oneHot ?? false,
    flatten: options.flatten ?? false,
  };
  const dataset = new ImageDataset(picked.train, picked.test, info);
  if (!options.quiet) console.log(dataset.summary());
  return dataset;
}
