/**
 * What the classify app trains when lesson 04's model is missing: lesson 04's model, by the
 * lesson's fast recipe — Convlab's shipped backbone (`data/models/fashion-backbone`, frozen) with
 * the lesson's classifier on top (Flatten → Dense 64 → Dropout 0.5 → Dense 5), trained on the
 * backbone's features of Fashion-MNIST's Sandal, Shirt, Sneaker, Bag and Ankle boot (the five
 * classes the backbone never saw). It is saved where lesson 04 saves its model, so that the app,
 * lesson 05 and the next start find it; running lesson 04 in full replaces it with the
 * fine-tuned one.
 *
 * Fashion-MNIST comes from the cache or Debian's `dataset-fashion-mnist`; without it, training
 * fails with a message that says how to get it, and the app keeps the shipped backbone.
 *
 * @module
 */

import * as cl from "../../lib/mod.ts";
import { MODEL_NAMES } from "../../lib/model_dirs.ts";
import { ProgressReporter, type RecipeContext } from "./_recipe.ts";
import { TrainingCancelled } from "./_training.ts";

const tf = cl.tf;

/** Where the classify app saves what it trains: lesson 04's folder. */
export const CLASSIFY_MODEL_NAME: string = MODEL_NAMES.transfer;

/** Options of {@linkcode trainTransferModel}. */
export interface TrainClassifyOptions extends RecipeContext {
  /** Epochs of the classifier on the stored features (default 20). */
  epochs?: number;
  /** Training images of the five target classes (default 2,000, stratified). */
  trainSize?: number;
  /** Test images (default 2,000 of the 5,000). */
  testSize?: number;
  /** Seed of the draw, the initial weights and the batch order (default 42). */
  seed?: number;
}

const BATCH_SIZE = 32;

/** Lesson 04's classifier: Flatten → Dense 64 (ReLU) → Dropout 0.5 → Dense (softmax). */
function classifierLayers(classes: number, inputShape?: number[]): cl.tf.layers.Layer[] {
  return [
    tf.layers.flatten({ name: "flatten", ...(inputShape ? { inputShape } : {}) }),
    tf.layers.dense({ units: 64, activation: "relu", name: "dense" }),
    tf.layers.dropout({ rate: 0.5, name: "dropout" }),
    tf.layers.dense({ units: classes, activation: "softmax", name: "predictions" }),
  ];
}

/** The backbone's features of images, a batch at a time, yielding between batches. */
async function features(base: cl.tf.LayersModel, images: cl.tf.Tensor): Promise<cl.tf.Tensor> {
  const parts: cl.tf.Tensor[] = [];
  for (let i = 0; i < images.shape[0]; i += 250) {
    const n = Math.min(250, images.shape[0] - i);
    parts.push(tf.tidy(() => base.predict(images.slice(i, n)) as cl.tf.Tensor));
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  const all = tf.concat(parts);
  tf.dispose(parts);
  return all;
}

/**
 * Train lesson 04's model (shipped backbone + a new classifier, fast feature extraction) and save
 * it to `dir`.
 *
 * @returns A one-line summary with the test accuracy.
 * @throws {TrainingCancelled} when the signal aborts (nothing is saved).
 */
export async function trainTransferModel(
  dir: string,
  options: TrainClassifyOptions = {},
): Promise<string> {
  const report = options.report ?? (() => {});
  const signal = options.signal ?? new AbortController().signal;
  const seed = options.seed ?? 42;
  const epochs = options.epochs ?? 20;
  cl.seed(seed);
  report({ stage: "loading data", fraction: 0.01 });
  const fashion = await cl.datasets.fashionMnist({ quiet: true });
  const target = cl.datasets.selectClasses(fashion, cl.backbones.FASHION_TARGET_CLASSES, {
    name: "fashion-mnist-target",
    subset: { train: options.trainSize ?? 2000, test: options.testSize ?? 2000 },
  });
  fashion.dispose();
  const backbone = await cl.backbones.load("fashion-backbone");
  const base = backbone.model;
  const tensors: cl.tf.Tensor[] = [];
  let head: cl.tf.LayersModel | undefined;
  let model: cl.tf.LayersModel | undefined;
  try {
    report({ stage: "features of the frozen backbone", fraction: 0.03 });
    const [trainFeatures, testFeatures] = [
      await features(base, target.xTrain),
      await features(base, target.xTest),
    ];
    tensors.push(trainFeatures, testFeatures);
    if (signal.aborted) throw new TrainingCancelled();

    // The lesson's classifier, trained alone on the stored features…
    const classes = target.classNames.length;
    head = tf.sequential({
      name: "classifier",
      layers: classifierLayers(classes, trainFeatures.shape.slice(1)),
    });
    cl.compile(head, {
      optimizer: cl.optimizers.Adam({ learningRate: 1e-3 }),
      loss: "sparse_categorical_crossentropy",
      metrics: ["accuracy"],
    });
    const steps = Math.ceil(target.count("train") / BATCH_SIZE);
    report({ stage: "training", fraction: 0.05 });
    await cl.fit(head, trainFeatures, target.yTrain, {
      epochs,
      batchSize: BATCH_SIZE,
      verbose: 0,
      seed,
      callbacks: [new ProgressReporter(epochs, steps, report, signal)],
    });
    if (signal.aborted) throw new TrainingCancelled();
    report({ stage: "testing", fraction: 0.96 });
    const [, accuracy] = await cl.evaluate(head, testFeatures, target.yTest, {
      batchSize: 500,
    }) as number[];

    // …then put on the backbone: one model from pixels to classes, as lesson 04 saves it.
    const input = tf.input({ shape: [28, 28, 1] });
    let x = base.apply(input) as cl.tf.SymbolicTensor;
    for (const layer of classifierLayers(classes)) x = layer.apply(x) as cl.tf.SymbolicTensor;
    model = tf.model({ inputs: input, outputs: x, name: "transfer" });
    for (const layer of head.layers) model.getLayer(layer.name).setWeights(layer.getWeights());
    const count = (n: number) => n.toLocaleString("en");
    const description = `Lesson 04's recipe: the shipped backbone (frozen) + a new classifier, ` +
      `trained on ${count(target.count("train"))} Fashion-MNIST images of ` +
      `${target.classNames.join(", ")}, ${epochs} epochs: ${(100 * accuracy).toFixed(2)}% on ` +
      `${count(target.count("test"))} test images`;
    model.setUserDefinedMetadata({
      classNames: target.classNames,
      inputRange: backbone.inputRange,
      invertLightBackground: true,
      description,
      trainedBy: "the classify app (deno task app classify)",
      seed,
    });
    report({ stage: "saving", fraction: 0.98 });
    if (signal.aborted) throw new TrainingCancelled();
    await cl.saveModel(model, dir);
    return `${description}. Saved in ${dir} for next time.`;
  } finally {
    tf.dispose(tensors);
    head?.dispose();
    // The model holds the base: disposing it frees the base's weights too.
    if (model) model.dispose();
    else base.dispose();
    target.dispose();
  }
}
