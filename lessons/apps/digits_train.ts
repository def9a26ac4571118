/**
 * What the digits app trains when lesson 02's model is missing: the course's LeNet-5 on MNIST
 * (the full set when cached, else the 10,000 embedded digits), saved where lesson 02 saves it so
 * that the next start finds it.
 *
 * @module
 */

import * as cl from "../../lib/mod.ts";
import { MODEL_NAMES } from "../../lib/model_dirs.ts";
import { type RecipeContext, trainClassifier } from "./_recipe.ts";

/** Where the digits app saves what it trains (lesson 02's LeNet-5 folder). */
export const DIGITS_MODEL_NAME: string = MODEL_NAMES.lenet5Mnist;

/**
 * The LeNet-5 shipped in `data/models/digits-lenet5/` (made by `deno task pretrain-digits`): the
 * app's model until lesson 02 (or the app) has saved one.
 */
export const SHIPPED_DIGITS_MODEL = "digits-lenet5";

/** Options of {@linkcode trainDigitModel}. */
export interface TrainDigitsOptions extends RecipeContext {
  /** Epochs (default 8 on the 8,000 embedded digits, 2 on the full 60,000). */
  epochs?: number;
  /** Use at most this many training images (default: all). */
  trainSize?: number;
  /** Test on at most this many images (default: the whole test split). */
  testSize?: number;
  /** Which MNIST: "auto" (default: the full set when cached, else the embedded digits). */
  source?: "auto" | "full" | "embedded";
  /** Seed of the initial weights and the batch order (default 42). */
  seed?: number;
  /** What trained it, saved in the metadata (default: the digits app). */
  trainedBy?: string;
}

/**
 * Train LeNet-5 on MNIST and save it to `dir`, with class names and a description.
 *
 * @returns A one-line summary with the test accuracy.
 */
export function trainDigitModel(dir: string, options: TrainDigitsOptions = {}): Promise<string> {
  return trainClassifier(dir, {
    modelTitle: "LeNet-5",
    load: () =>
      cl.datasets.mnist({
        quiet: true,
        source: options.source,
        subset: {
          ...(options.trainSize ? { train: options.trainSize } : {}),
          ...(options.testSize ? { test: options.testSize } : {}),
        },
      }),
    build: () => cl.models.lenet5(),
    epochs: (data) => options.epochs ?? (data.info.source === "full" ? 2 : 8),
    batchSize: 64,
    trainedBy: options.trainedBy ?? "the digits app (deno task app digits)",
    seed: options.seed,
  }, options);
}
