/**
 * Seeded, stratified subsets: a smaller split with the class proportions of the whole, for
 * lessons that must run in seconds.
 *
 * @module
 */

import { currentSeed, type RandomStream, randomStream } from "../random.ts";
import type { ImageSplit, SubsetOptions } from "./dataset.ts";

/**
 * Indices of a stratified random sample of `count` items: each class keeps its share
 * (largest remainders get the rounding), and the result is in shuffled order.
 *
 * @param labels Class index per item.
 * @param count How many to keep (≤ labels.length).
 * @param stream The random stream to draw from.
 * @example
 * ```ts
 * import { stratifiedSample } from "./subset.ts";
 * import { RandomStream } from "../random.ts";
 * const labels = new Uint8Array([0, 0, 0, 0, 1, 1, 1, 1]);
 * const picked = stratifiedSample(labels, 4, new RandomStream(1));
 * console.log(picked.map((i) => labels[i]).sort()); // [0, 0, 1, 1]
 * ```
 */
export function stratifiedSample(
  labels: Uint8Array,
  count: number,
  stream: RandomStream,
): number[] {
  const byClass = new Map<number, number[]>();
  labels.forEach((label, i) => {
    const group = byClass.get(label);
    if (group) group.push(i);
    else byClass.set(label, [i]);
  });
  const classes = [...byClass.keys()].sort((a, b) => a - b);
  const exact = classes.map((c) => (count * byClass.get(c)!.length) / labels.length);
  const quota = exact.map(Math.floor);
  let left = count - quota.reduce((a, b) => a + b, 0);
  const byRemainder = classes.map((_, k) => k)
    .sort((a, b) => (exact[b] - quota[b]) - (exact[a] - quota[a]) || a - b);
  for (const k of byRemainder) {
    if (left === 0) break;
    quota[k]++;
    left--;
  }
  const picked: number[] = [];
  classes.forEach((c, k) => picked.push(...stream.shuffle(byClass.get(c)!).slice(0, quota[k])));
  return stream.shuffle(picked);
}

/** Copy the chosen items of a split. */
export function takeItems(split: ImageSplit, indices: number[], pixels: number): ImageSplit {
  const images = new Uint8Array(indices.length * pixels);
  const labels = new Uint8Array(indices.length);
  indices.forEach((from, to) => {
    images.set(split.images.subarray(from * pixels, (from + 1) * pixels), to * pixels);
    labels[to] = split.labels[from];
  });
  return { images, labels };
}

/**
 * The `subset` option as per-split limits, validated.
 *
 * @throws {RangeError} For a size that is not a positive integer.
 */
export function subsetSizes(
  subset: SubsetOptions["subset"],
): { train?: number; test?: number } {
  if (subset === undefined) return {};
  if (typeof subset !== "number" && (typeof subset !== "object" || subset === null)) {
    throw new RangeError(
      `Cannot take a subset: subset must be a number or {train, test}, got ${
        JSON.stringify(subset)
      }`,
    );
  }
  const sizes = typeof subset === "number" ? { train: subset, test: subset } : subset;
  for (const split of Object.keys(sizes)) {
    if (split !== "train" && split !== "test") {
      throw new RangeError(
        `Cannot take a subset: subset has an unknown split "${split}" (use train and test)`,
      );
    }
  }
  for (const [split, size] of Object.entries(sizes)) {
    if (size !== undefined && (!Number.isInteger(size) || size <= 0)) {
      throw new RangeError(
        `Cannot take a subset: ${split} size must be a positive integer, got ${size}`,
      );
    }
  }
  return sizes;
}

/**
 * The `seed` option, checked: a non-negative integer as `cl.seed` takes, or undefined.
 *
 * @param seed The option's value.
 * @param what The start of the error message, e.g. "Cannot load MNIST".
 * @throws {RangeError} For anything else.
 */
export function checkedSeed(seed: unknown, what: string): number | undefined {
  if (seed === undefined) return undefined;
  if (typeof seed !== "number" || !Number.isInteger(seed) || seed < 0) {
    throw new RangeError(`${what}: seed must be a non-negative integer, got ${seed}`);
  }
  return seed;
}

/**
 * Apply the `subset` option to both splits.
 *
 * @returns The (possibly smaller) splits, and the seed used when a subset was drawn.
 */
export function applySubset(
  name: string,
  train: ImageSplit,
  test: ImageSplit,
  pixels: number,
  options: SubsetOptions,
): { train: ImageSplit; test: ImageSplit; seed?: number } {
  const sizes = subsetSizes(options.subset);
  const seed = checkedSeed(options.seed, "Cannot take a subset") ?? currentSeed();
  let drawn = false;
  const pick = (split: ImageSplit, size: number | undefined, part: string) => {
    if (size === undefined || size >= split.labels.length) return split;
    drawn = true;
    const stream = randomStream(`datasets.subset.${name}.${part}`, seed);
    return takeItems(split, stratifiedSample(split.labels, size, stream), pixels);
  };
  const result = { train: pick(train, sizes.train, "train"), test: pick(test, sizes.test, "test") };
  return drawn ? { ...result, seed } : result;
}
