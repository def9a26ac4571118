/**
 * The postal-code recognizer (course code 8-4) as a local web app: five boxes to draw digits in;
 * the model — lesson 02's saved CNN or LeNet-5, or one this app trains when there is none — runs
 * in the browser with TensorFlow.js. The server serves the page, tfjs's browser bundles and the
 * model's files, and trains the model when asked.
 *
 * @module
 */

import { MODEL_NAMES } from "../../lib/model_dirs.ts";
import { type AppOptions, startApp } from "./_app.ts";
import type { RunningServer } from "./_server.ts";
import { DIGITS_MODEL_NAME, SHIPPED_DIGITS_MODEL, trainDigitModel } from "./digits_train.ts";

/**
 * The models the digits app looks for, best first: the two lesson 02 saves, then the LeNet-5
 * shipped with Convlab (so that the app works on a fresh clone).
 */
export const DIGIT_MODELS: string[] = [
  MODEL_NAMES.cnnV2Mnist,
  MODEL_NAMES.lenet5Mnist,
  SHIPPED_DIGITS_MODEL,
];

/**
 * Start the digits app (`deno task app digits`). Resolves once it listens.
 *
 * @example
 * ```ts ignore
 * const app = await startDigitsApp({ port: 0 });
 * console.log(app.url);
 * await app.shutdown();
 * ```
 */
export function startDigitsApp(options: AppOptions = {}): Promise<RunningServer> {
  return startApp({
    title: "Digits",
    page: "digits.html",
    port: 8080,
    modelNames: DIGIT_MODELS,
    saveAs: DIGITS_MODEL_NAME,
    lookedFor: "lesson 02's saved model and the shipped LeNet-5",
    trainTitle: "LeNet-5 on MNIST",
    trainEstimate: "a few minutes; it is saved where lesson 02 saves its model",
    train: (dir, context) => trainDigitModel(dir, { ...options.training, ...context }),
    serveModelFiles: true,
  }, options);
}
