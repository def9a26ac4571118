/**
 * How the apps train a missing model, with Convlab's training API (`cl.models`, `cl.compile`,
 * `cl.fit`, `cl.evaluate`, `cl.saveModel`): load a dataset, build, train with progress, test,
 * write the class names and a description into the model's metadata, save.
 *
 * @module
 */

import * as cl from "../../lib/mod.ts";
import { type ProgressUpdate, TrainingCancelled } from "./_training.ts";

type Dataset = Awaited<ReturnType<typeof cl.datasets.mnist>>;

/**
 * A callback reporting progress a few times a second (batch logs cost a pause of the backend, so
 * it asks for them only then) and metrics per epoch, and stopping training when the signal aborts.
 * `cl.fit` yields to the event loop between batches, so the app keeps answering while it trains.
 */
export class ProgressReporter extends cl.callbacks.Callback {
  #epoch = 0;
  #lastReport = 0;
  constructor(
    private readonly epochs: number,
    private readonly stepsPerEpoch: number,
    private readonly report: (update: ProgressUpdate) => void,
    private readonly signal: AbortSignal,
  ) {
    super();
  }

  override wantsBatchLogs(): boolean {
    const now = performance.now();
    if (now - this.#lastReport < 200 && !this.signal.aborted) return false;
    this.#lastReport = now;
    return true;
  }

  override onEpochBegin(epoch: number): Promise<void> {
    this.#epoch = epoch;
    this.report({ stage: `epoch ${epoch + 1} of ${this.epochs}` });
    return Promise.resolve();
  }

  override onBatchEnd(batch: number): Promise<void> {
    // 5% for loading data, 90% for training, 5% for testing and saving.
    const done = (this.#epoch + (batch + 1) / this.stepsPerEpoch) / this.epochs;
    this.report({ fraction: 0.05 + 0.9 * Math.min(1, done) });
    if (this.signal.aborted && this.model) this.model.stopTraining = true;
    return Promise.resolve();
  }

  override onEpochEnd(_epoch: number, logs?: Record<string, number>): Promise<void> {
    if (logs) this.report({ metrics: { ...logs } });
    if (this.signal.aborted && this.model) this.model.stopTraining = true;
    return Promise.resolve();
  }
}

/** What to train. */
export interface ClassifierRecipe {
  /** "LeNet-5": for the description. */
  modelTitle: string;
  /** The data (called after the seed is set). */
  load: () => Promise<Dataset>;
  /** The (uncompiled) model for the data. */
  build: (data: Dataset) => cl.tf.LayersModel;
  /** Epochs for the data that was loaded. */
  epochs: (data: Dataset) => number;
  batchSize: number;
  /** Extra metadata saved with the model (e.g. `invertLightBackground`). */
  metadata?: Record<string, unknown>;
  /** Which app trained it, saved in the metadata. */
  trainedBy: string;
  seed?: number;
}

/** Where a run reports and how it is cancelled. */
export interface RecipeContext {
  report?: (update: ProgressUpdate) => void;
  signal?: AbortSignal;
}

/**
 * Train a classifier and save it to `dir` (atomically, via `cl.saveModel`).
 *
 * @returns A one-line summary with the test accuracy.
 * @throws {TrainingCancelled} when the signal aborts (nothing is saved).
 */
export async function trainClassifier(
  dir: string,
  recipe: ClassifierRecipe,
  context: RecipeContext = {},
): Promise<string> {
  const report = context.report ?? (() => {});
  const signal = context.signal ?? new AbortController().signal;
  const seed = recipe.seed ?? 42;
  cl.seed(seed);
  report({ stage: "loading data", fraction: 0.01 });
  const data = await recipe.load();
  let model: cl.tf.LayersModel | undefined;
  try {
    if (signal.aborted) throw new TrainingCancelled();
    model = recipe.build(data);
    const epochs = recipe.epochs(data);
    const stepsPerEpoch = Math.ceil(data.info.trainCount / recipe.batchSize);
    cl.compile(model, {
      optimizer: "adam",
      loss: "sparse_categorical_crossentropy",
      metrics: ["accuracy"],
    });
    report({ stage: "training", fraction: 0.05 });
    await cl.fit(model, data.xTrain, data.yTrain, {
      epochs,
      batchSize: recipe.batchSize,
      verbose: 0,
      seed,
      callbacks: [new ProgressReporter(epochs, stepsPerEpoch, report, signal)],
    });
    if (signal.aborted) throw new TrainingCancelled();
    report({ stage: "testing", fraction: 0.96 });
    const scores = await cl.evaluate(model, data.xTest, data.yTest, {
      batchSize: 256,
      returnDict: true,
    }) as Record<string, number>;
    const count = (n: number) => n.toLocaleString("en");
    const source = data.info.source === "full" ? "" : ` (${data.info.source} set)`;
    const description = `${recipe.modelTitle} trained on ${count(data.info.trainCount)} ` +
      `${data.info.title} images${source}, ${epochs} epoch${epochs > 1 ? "s" : ""}: ` +
      `${(100 * scores.accuracy).toFixed(2)}% on ${count(data.info.testCount)} test images`;
    model.setUserDefinedMetadata({
      classNames: data.classNames,
      inputRange: data.info.normalize ? [0, 1] : [0, 255],
      description,
      dataset: data.info.origin,
      trainedBy: recipe.trainedBy,
      seed,
      ...recipe.metadata,
    });
    report({ stage: "saving", fraction: 0.98 });
    if (signal.aborted) throw new TrainingCancelled();
    await cl.saveModel(model, dir);
    return `${description}. Saved in ${dir} for next time.`;
  } finally {
    model?.dispose();
    data.dispose();
  }
}
