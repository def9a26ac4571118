/**
 * A dataset restricted to some of its classes — the split transfer learning needs: a backbone
 * trained on some classes (the source task) and reused on classes it never saw (the target task),
 * as Hands-On ML's "model A on eight Fashion-MNIST classes, task B on the other two".
 *
 * Introduced in lesson 04 (transfer learning; also `deno task pretrain`).
 *
 * @module
 */

import { currentSeed, randomStream } from "../random.ts";
import { ImageDataset, type ImageSplit, type SubsetOptions } from "./dataset.ts";
import { stratifiedSample, subsetSizes, takeItems } from "./subset.ts";

/** Options of {@linkcode selectClasses}. */
export interface SelectClassesOptions extends SubsetOptions {
  /** Name of the new dataset (default `<name>-<classes>`, e.g. `fashion-mnist-5-6-7-8-9`). */
  name?: string;
}

function keep(split: ImageSplit, classes: number[], pixels: number): ImageSplit {
  const newLabel = new Map(classes.map((c, i) => [c, i]));
  const indices: number[] = [];
  split.labels.forEach((label, i) => {
    if (newLabel.has(label)) indices.push(i);
  });
  const taken = takeItems(split, indices, pixels);
  taken.labels = taken.labels.map((label) => newLabel.get(label)!);
  return taken;
}

/**
 * The images of the given classes only, relabelled `0 … k−1` in the order given, with their
 * class names; optionally a seeded, stratified subset of each split (`subset: {train: 500}`).
 * Tensor options (normalisation, one-hot, flatten) are those of the source dataset, which is
 * left as it was.
 *
 * @param dataset A loaded dataset, e.g. `await cl.datasets.fashionMnist()`.
 * @param classes Class indices of `dataset` to keep (distinct, at least one).
 * @param options Subset sizes and seed, name.
 * @returns A new {@link ImageDataset} (dispose it when done).
 * @throws {RangeError} for unknown, repeated or missing classes and bad subset sizes.
 * @example
 * ```ts
 * import * as cl from "convlab";
 * const digits = await cl.datasets.mnist({ quiet: true });
 * const fives = cl.datasets.selectClasses(digits, [5, 6], { subset: { train: 100 } });
 * console.log(fives.classNames, fives.count("train")); // ["5", "6"] 100
 * ```
 */
export function selectClasses(
  dataset: ImageDataset,
  classes: number[],
  options: SelectClassesOptions = {},
): ImageDataset {
  const info = dataset.info;
  const what = `Cannot select classes of ${info.name}`;
  if (!Array.isArray(classes) || classes.length === 0) {
    throw new RangeError(`${what}: give at least one class index, got ${JSON.stringify(classes)}`);
  }
  for (const c of classes) {
    if (!Number.isInteger(c) || c < 0 || c >= info.classNames.length) {
      throw new RangeError(
        `${what}: class ${c} does not exist (it has classes 0 to ${info.classNames.length - 1})`,
      );
    }
  }
  if (new Set(classes).size !== classes.length) {
    throw new RangeError(`${what}: classes repeat in [${classes}]`);
  }
  const [h, w, c] = info.imageShape;
  const pixels = h * w * c;
  const arrays = dataset.arrays;
  let train = keep({ images: arrays.xTrain, labels: arrays.yTrain }, classes, pixels);
  let test = keep({ images: arrays.xTest, labels: arrays.yTest }, classes, pixels);
  const available = { train: train.labels.length, test: test.labels.length };
  if (available.train === 0) {
    throw new RangeError(`${what}: its training split has no images of classes [${classes}]`);
  }
  const sizes = subsetSizes(options.subset);
  const seed = options.seed ?? currentSeed();
  const name = options.name ?? `${info.name}-${classes.join("-")}`;
  let drawn = false;
  const pick = (split: ImageSplit, size: number | undefined, part: string) => {
    if (size === undefined || size >= split.labels.length) return split;
    drawn = true;
    const stream = randomStream(`datasets.select.${name}.${part}`, seed);
    return takeItems(split, stratifiedSample(split.labels, size, stream), pixels);
  };
  train = pick(train, sizes.train, "train");
  test = pick(test, sizes.test, "test");
  const classNames = classes.map((k) => info.classNames[k]);
  return new ImageDataset(train, test, {
    ...info,
    name,
    title: `${info.title}, classes ${classes.join(", ")} (${classNames.join(", ")})`,
    trainCount: train.labels.length,
    testCount: test.labels.length,
    availableTrain: available.train,
    availableTest: available.test,
    classNames,
    subsetSeed: drawn ? seed : info.subsetSeed,
  });
}
