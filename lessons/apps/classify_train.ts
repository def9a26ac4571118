/**
 * What the classify app trains when no transfer-learned model (lesson 04) and no MobileNet is
 * there: the course's small MNIST convnet on Fashion-MNIST — ten kinds of clothing, so that a
 * photo of a shoe or a bag has a right answer — saved in the cache for next time.
 *
 * Fashion-MNIST comes from the cache or Debian's `dataset-fashion-mnist`; without either the
 * 10,000 embedded MNIST digits are used instead, and the model's description says so.
 *
 * @module
 */

import * as cl from "../../lib/mod.ts";
import { type RecipeContext, trainClassifier } from "./_recipe.ts";

/** Where the classify app saves what it trains. */
export const CLASSIFY_MODEL_NAME = "classify-fashion-convnet";

/** Options of {@linkcode trainClassifyModel}. */
export interface TrainClassifyOptions extends RecipeContext {
  /** Epochs (default 3). */
  epochs?: number;
  /** Use at most this many training images (default 20,000). */
  trainSize?: number;
  /** Test on at most this many images (default: the whole test split). */
  testSize?: number;
}

/** Load Fashion-MNIST, or the embedded MNIST digits when it is not available. */
async function fashionOrDigits(trainSize: number, testSize?: number) {
  const subset = { train: trainSize, ...(testSize ? { test: testSize } : {}) };
  try {
    return await cl.datasets.fashionMnist({ quiet: true, subset });
  } catch (error) {
    if (!(error instanceof cl.datasets.DatasetUnavailableError)) throw error;
    console.log(`  Fashion-MNIST is not available (${error.message}); using MNIST digits`);
    return await cl.datasets.mnist({ quiet: true, subset });
  }
}

/**
 * Train the small convnet and save it to `dir`. Its metadata asks the app to invert photos with a
 * light background, since the training images are light objects on black.
 *
 * @returns A one-line summary with the test accuracy.
 */
export function trainClassifyModel(
  dir: string,
  options: TrainClassifyOptions = {},
): Promise<string> {
  return trainClassifier(dir, {
    modelTitle: "The course's small convnet",
    load: () => fashionOrDigits(options.trainSize ?? 20_000, options.testSize),
    build: () => cl.models.mnistConvnet(),
    epochs: () => options.epochs ?? 3,
    batchSize: 64,
    metadata: { invertLightBackground: true },
    trainedBy: "the classify app (deno task app classify)",
  }, options);
}
