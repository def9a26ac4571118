/**
 * The course's models (`cl.models`), built layer for layer as its Keras code builds them, with
 * Keras's default initialisers (Glorot-uniform kernels, zero biases; tfjs's own default is
 * Glorot-normal). Weights come from `cl.seed()`, so the same seed builds the same model.
 *
 * | builder | course | input | params |
 * |---|---|---|---|
 * | `lenet5()` | 8-1, LeNet-5 | 28×28×1 | 61,706 |
 * | `mnistCnn()` | 8-3, "CNN v2" | 28×28×1 | 594,922 |
 * | `mnistConvnet()` | week 12, MNIST CNN | 28×28×1 | 34,826 |
 * | `cifarCnn()` | 8-2, CIFAR-10 CNN | 32×32×3 | 890,410 |
 * | `catsDogsConvnet()` | DLwP 5.2, small convnet | 150×150×3 | 3,453,121 |
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import "./determinism.ts";
import { rejectUnknownOptions } from "./_options.ts";

/** Options every builder takes. */
export interface ModelOptions {
  /** Input shape `[height, width, channels]` (each builder has the course's default). */
  inputShape?: [number, number, number];
  /** Number of classes of the softmax output (default 10). */
  numClasses?: number;
}

type ConvArgs = Parameters<typeof tf.layers.conv2d>[0];
type DenseArgs = Parameters<typeof tf.layers.dense>[0];

/** Conv2D with Keras's defaults (Glorot-uniform kernel, zero bias). */
function conv2d(args: ConvArgs): tf.layers.Layer {
  return tf.layers.conv2d({ kernelInitializer: "glorotUniform", ...args });
}

/** Dense with Keras's defaults. */
function dense(args: DenseArgs): tf.layers.Layer {
  return tf.layers.dense({ kernelInitializer: "glorotUniform", ...args });
}

function checkOptions(
  builder: string,
  options: ModelOptions,
  minSide: number,
  known: string[] = ["inputShape", "numClasses"],
): void {
  rejectUnknownOptions(`Cannot build ${builder}`, options, known);
  const { inputShape, numClasses } = options;
  if (inputShape !== undefined) {
    if (
      !Array.isArray(inputShape) || inputShape.length !== 3 ||
      !inputShape.every((d) => Number.isInteger(d) && d > 0)
    ) {
      throw new RangeError(
        `Cannot build ${builder}: inputShape must be [height, width, channels] of positive ` +
          `integers, got ${JSON.stringify(inputShape)}`,
      );
    }
    if (inputShape[0] < minSide || inputShape[1] < minSide) {
      throw new RangeError(
        `Cannot build ${builder}: the input must be at least ${minSide}×${minSide} pixels, got ` +
          `${inputShape[0]}×${inputShape[1]}`,
      );
    }
  }
  if (numClasses !== undefined && (!Number.isInteger(numClasses) || numClasses < 1)) {
    throw new RangeError(
      `Cannot build ${builder}: numClasses must be a positive integer, got ${numClasses}`,
    );
  }
}

/**
 * The course's LeNet-5 (code 8-1): Conv 6@5×5 same → MaxPool → Conv 16@5×5 → MaxPool →
 * Conv 120@5×5 → Flatten → Dense 84 → Dense 10 softmax, ReLU activations, on 28×28×1 digits.
 * Not compiled: call `cl.compile()`.
 *
 * Introduced in lesson 02 (LeNet-5 and MNIST).
 *
 * @example
 * ```ts
 * import * as cl from "convlab";
 * const model = cl.models.lenet5();
 * console.log(cl.summary(model).totalParams); // 61706
 * ```
 */
export function lenet5(options: ModelOptions = {}): tf.Sequential {
  checkOptions("lenet5", options, 16);
  const { inputShape = [28, 28, 1], numClasses = 10 } = options;
  return tf.sequential({
    layers: [
      conv2d({ filters: 6, kernelSize: 5, padding: "same", activation: "relu", inputShape }),
      tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }),
      conv2d({ filters: 16, kernelSize: 5, padding: "valid", activation: "relu" }),
      tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }),
      conv2d({ filters: 120, kernelSize: 5, padding: "valid", activation: "relu" }),
      tf.layers.flatten(),
      dense({ units: 84, activation: "relu" }),
      dense({ units: numClasses, activation: "softmax" }),
    ],
  });
}

function checkDropout(builder: string, dropout: unknown): void {
  if (typeof dropout !== "boolean") {
    throw new TypeError(`Cannot build ${builder}: dropout must be true or false, got ${dropout}`);
  }
}

/** Options of the course's networks that have Dropout layers. */
export interface DropoutModelOptions extends ModelOptions {
  /**
   * Keep the course's Dropout layers (default true); `false` builds the same network without
   * them, to see the overfitting dropout prevents (lesson 03).
   */
  dropout?: boolean;
}

/**
 * The course's improved MNIST CNN, "CNN v2" (code 8-3): two blocks of two 3×3 convolutions
 * (32, then 64 filters) with max pooling and Dropout 0.25, then Dense 512, Dropout 0.5 and a
 * softmax; 99.58 % on MNIST in the course.
 *
 * Introduced in lesson 02 (LeNet-5 and MNIST).
 *
 * @example
 * ```ts
 * import * as cl from "convlab";
 * console.log(cl.summary(cl.models.mnistCnn()).totalParams); // 594922
 * ```
 */
export function mnistCnn(options: DropoutModelOptions = {}): tf.Sequential {
  checkOptions("mnistCnn", options, 12, ["inputShape", "numClasses", "dropout"]);
  const { inputShape = [28, 28, 1], numClasses = 10, dropout = true } = options;
  checkDropout("mnistCnn", dropout);
  const drop = (rate: number) => (dropout ? [tf.layers.dropout({ rate })] : []);
  return tf.sequential({
    layers: [
      conv2d({ filters: 32, kernelSize: 3, activation: "relu", inputShape }),
      conv2d({ filters: 32, kernelSize: 3, activation: "relu" }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      ...drop(0.25),
      conv2d({ filters: 64, kernelSize: 3, activation: "relu" }),
      conv2d({ filters: 64, kernelSize: 3, activation: "relu" }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      ...drop(0.25),
      tf.layers.flatten(),
      dense({ units: 512, activation: "relu" }),
      ...drop(0.5),
      dense({ units: numClasses, activation: "softmax" }),
    ],
  });
}

/**
 * The week-12 class's MNIST CNN (Keras's "simple MNIST convnet"): Conv 32@3×3 → MaxPool →
 * Conv 64@3×3 → MaxPool → Flatten → Dropout 0.5 → Dense 10 softmax; 34,826 parameters, about
 * 99.2 % after 15 epochs.
 *
 * Introduced in lesson 02 (LeNet-5 and MNIST).
 *
 * @example
 * ```ts
 * import * as cl from "convlab";
 * console.log(cl.summary(cl.models.mnistConvnet()).totalParams); // 34826
 * ```
 */
export function mnistConvnet(options: ModelOptions = {}): tf.Sequential {
  checkOptions("mnistConvnet", options, 10);
  const { inputShape = [28, 28, 1], numClasses = 10 } = options;
  return tf.sequential({
    layers: [
      conv2d({ filters: 32, kernelSize: 3, activation: "relu", inputShape }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      conv2d({ filters: 64, kernelSize: 3, activation: "relu" }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dropout({ rate: 0.5 }),
      dense({ units: numClasses, activation: "softmax" }),
    ],
  });
}

/**
 * The course's CIFAR-10 CNN (code 8-2): Conv32-Conv32-Pool-Dropout 0.25-Conv64-Conv64-Pool-
 * Dropout 0.25-Flatten-Dense 512-Dropout 0.5-Dense 10 softmax on 32×32×3 images.
 *
 * `{dropout: false}` leaves the three Dropout layers out (same parameters).
 *
 * Introduced in lesson 03 (CIFAR-10 and data augmentation).
 *
 * @example
 * ```ts
 * import * as cl from "convlab";
 * console.log(cl.summary(cl.models.cifarCnn()).totalParams); // 890410
 * console.log(cl.models.cifarCnn({ dropout: false }).layers.length); // 9
 * ```
 */
export function cifarCnn(options: DropoutModelOptions = {}): tf.Sequential {
  checkOptions("cifarCnn", options, 12, ["inputShape", "numClasses", "dropout"]);
  const { inputShape = [32, 32, 3], numClasses = 10, dropout = true } = options;
  checkDropout("cifarCnn", dropout);
  return mnistCnn({ inputShape, numClasses, dropout });
}

/** Options of {@linkcode catsDogsConvnet}. */
export interface CatsDogsOptions {
  /** Input shape (default `[150, 150, 3]`, as the book). */
  inputShape?: [number, number, number];
  /** Add Dropout 0.5 before the classifier (the book's second version). Default false. */
  dropout?: boolean;
}

/**
 * The small cats-vs-dogs convnet of Deep Learning with Python 5.2: four Conv/MaxPool stages
 * (32, 64, 128, 128 filters), Flatten, Dense 512 and one sigmoid unit; 3,453,121 parameters at
 * 150×150×3. With `dropout: true`, Dropout 0.5 before the Dense layer (section 5.2.5).
 * Train it with `binary_crossentropy`.
 *
 * Introduced in lesson 03 (CIFAR-10 and data augmentation) and lesson 04 (transfer learning).
 *
 * @example
 * ```ts
 * import * as cl from "convlab";
 * console.log(cl.summary(cl.models.catsDogsConvnet()).totalParams); // 3453121
 * ```
 */
export function catsDogsConvnet(options: CatsDogsOptions = {}): tf.Sequential {
  checkOptions("catsDogsConvnet", options, 30, ["inputShape", "dropout"]);
  const { inputShape = [150, 150, 3], dropout = false } = options;
  const layers: tf.layers.Layer[] = [
    conv2d({ filters: 32, kernelSize: 3, activation: "relu", inputShape }),
    tf.layers.maxPooling2d({ poolSize: 2 }),
    conv2d({ filters: 64, kernelSize: 3, activation: "relu" }),
    tf.layers.maxPooling2d({ poolSize: 2 }),
    conv2d({ filters: 128, kernelSize: 3, activation: "relu" }),
    tf.layers.maxPooling2d({ poolSize: 2 }),
    conv2d({ filters: 128, kernelSize: 3, activation: "relu" }),
    tf.layers.maxPooling2d({ poolSize: 2 }),
    tf.layers.flatten(),
  ];
  if (dropout) layers.push(tf.layers.dropout({ rate: 0.5 }));
  layers.push(
    dense({ units: 512, activation: "relu" }),
    dense({ units: 1, activation: "sigmoid" }),
  );
  return tf.sequential({ layers });
}
