/**
 * The architecture of Convlab's shipped backbone: a small VGG (the course's VGG16 in miniature —
 * blocks of 3×3 convolutions, each block closed by 2×2 max pooling, named `block1_conv1` …
 * `block3_pool` as Keras names VGG16's layers), optionally with a classifier on top.
 *
 * Introduced in lesson 04 (transfer learning): `deno task pretrain` trains it on the source task
 * and the lesson trains the same architecture from scratch for comparison.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import "../determinism.ts";

/** Options of {@linkcode miniVgg}. */
export interface MiniVggOptions {
  /**
   * Input `[height, width, channels]`; `null` sides take any size (as Keras applications with
   * `include_top=False`). Default `[null, null, 1]`.
   */
  inputShape?: [number | null, number | null, number];
  /** Filters of the convolutions of each block (default `[8, 16, 32]`: three blocks). */
  filters?: number[];
  /** Convolutions per block (default 2). */
  convsPerBlock?: number;
  /**
   * Add the classifier (global average pooling + dense softmax) — Keras's `include_top`.
   * Default false: the convolutional base alone.
   */
  includeTop?: boolean;
  /** Classes of the top (default 10). */
  numClasses?: number;
  /** Model name (default `mini_vgg`). */
  name?: string;
}

/**
 * A small VGG-style convnet: for each block, `convsPerBlock` 3×3 `same` ReLU convolutions and a
 * 2×2 max pooling. With the defaults: 28×28×1 → 14×14×8 → 7×7×16 → 3×3×32, 18,040 parameters
 * (18,205 with a 5-class top). Not compiled.
 *
 * Introduced in lesson 04 (transfer learning).
 *
 * @param options Input shape, filters per block, convolutions per block, top.
 * @returns A functional model.
 * @throws {RangeError} for bad shapes or counts.
 * @example
 * ```ts
 * import * as cl from "convlab";
 * const base = cl.backbones.miniVgg({ inputShape: [28, 28, 1] });
 * console.log(base.outputs[0].shape); // [null, 3, 3, 32]
 * ```
 */
export function miniVgg(options: MiniVggOptions = {}): tf.LayersModel {
  const {
    inputShape = [null, null, 1],
    filters = [8, 16, 32],
    convsPerBlock = 2,
    includeTop = false,
    numClasses = 10,
    name = "mini_vgg",
  } = options;
  const what = "Cannot build miniVgg";
  if (
    !Array.isArray(inputShape) || inputShape.length !== 3 ||
    !inputShape.every((d, i) => (d === null && i < 2) || (Number.isInteger(d) && d! > 0))
  ) {
    throw new RangeError(
      `${what}: inputShape must be [height, width, channels] (sides may be null), got ` +
        JSON.stringify(inputShape),
    );
  }
  const minSide = 2 ** filters.length;
  for (const side of inputShape.slice(0, 2)) {
    if (side !== null && side < minSide) {
      throw new RangeError(
        `${what}: ${filters.length} blocks halve the input ${filters.length} times, so it must ` +
          `be at least ${minSide}×${minSide}, got ${inputShape[0]}×${inputShape[1]}`,
      );
    }
  }
  if (filters.length === 0 || !filters.every((f) => Number.isInteger(f) && f > 0)) {
    throw new RangeError(`${what}: filters must be positive integers, got [${filters}]`);
  }
  if (!Number.isInteger(convsPerBlock) || convsPerBlock < 1) {
    throw new RangeError(`${what}: convsPerBlock must be a positive integer, got ${convsPerBlock}`);
  }
  if (includeTop && (!Number.isInteger(numClasses) || numClasses < 1)) {
    throw new RangeError(`${what}: numClasses must be a positive integer, got ${numClasses}`);
  }
  const input = tf.input({ shape: inputShape, name: "input_1" });
  let x: tf.SymbolicTensor = input;
  filters.forEach((count, b) => {
    for (let c = 1; c <= convsPerBlock; c++) {
      x = tf.layers.conv2d({
        filters: count,
        kernelSize: 3,
        padding: "same",
        activation: "relu",
        kernelInitializer: "glorotUniform",
        name: `block${b + 1}_conv${c}`,
      }).apply(x) as tf.SymbolicTensor;
    }
    x = tf.layers.maxPooling2d({ poolSize: 2, name: `block${b + 1}_pool` })
      .apply(x) as tf.SymbolicTensor;
  });
  if (includeTop) {
    x = tf.layers.globalAveragePooling2d({ name: "avg_pool" }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.dense({
      units: numClasses,
      activation: "softmax",
      kernelInitializer: "glorotUniform",
      name: "predictions",
    }).apply(x) as tf.SymbolicTensor;
  }
  return tf.model({ inputs: input, outputs: x, name });
}
