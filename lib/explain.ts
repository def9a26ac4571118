/**
 * Seeing what a convnet learned: intermediate activations, filter patterns found by gradient
 * ascent, and Grad-CAM class-activation heatmaps (the course's chapter 5.4, "visualising what
 * convnets learn"; Deep Learning with Python 5.4.1–5.4.3).
 *
 * Introduced in lesson 05 (`05_cam.ipynb`); the classify app (`deno task app classify`) uses
 * {@linkcode gradCam} for its overlay.
 *
 * Everything here works for Sequential models, functional models and models nested inside
 * others (a pretrained base inside a transfer-learning model): layers are found by name at any
 * depth, and the model's graph is evaluated layer by layer so that any layer's output can be read
 * or replaced. All functions run in inference mode (dropout off, batch norm with its moving
 * statistics) and leave no tensors behind except the ones they return.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { gradCam } from "./explain.ts";
 *
 * const model = tf.sequential({
 *   layers: [
 *     tf.layers.conv2d({ inputShape: [16, 16, 1], filters: 4, kernelSize: 3, activation: "relu" }),
 *     tf.layers.globalAveragePooling2d({}),
 *     tf.layers.dense({ units: 2, activation: "softmax" }),
 *   ],
 * });
 * const cam = await gradCam(model, tf.randomUniform([16, 16, 1]));
 * console.log(cam.heatmap.shape); // [16, 16]
 * cam.heatmap.dispose();
 * ```
 *
 * @module
 */

import { tf } from "./backend.ts";
import { randomStream } from "./random.ts";
import { kerasName } from "./summary.ts";

type Layer = tf.layers.Layer;
type Kwargs = Record<string, unknown>;

/** The parts of tfjs's graph node a layer keeps in `inboundNodes` (public fields in tfjs-layers). */
interface GraphNode {
  inputTensors: tf.SymbolicTensor[];
  callArgs?: Kwargs;
}

/** What one evaluation of a model's graph should read or replace along the way. */
interface GraphHooks {
  /** Layers whose outputs are recorded in `captured`. */
  capture?: Set<Layer>;
  captured: Map<Layer, tf.Tensor>;
  /** Layers whose outputs are replaced by the given tensor (their inputs are not computed). */
  replace?: Map<Layer, tf.Tensor>;
  /** The output layer whose softmax is skipped, so that scores are logits. */
  logitLayer?: Layer;
}

/** Whether a layer is itself a model (a container of layers), e.g. a pretrained base. */
function isContainer(layer: Layer): layer is tf.LayersModel {
  const candidate = layer as unknown as { layers?: unknown; inputs?: unknown; outputs?: unknown };
  return Array.isArray(candidate.layers) && Array.isArray(candidate.inputs) &&
    Array.isArray(candidate.outputs);
}

function inboundNodes(layer: Layer): GraphNode[] {
  return (layer as unknown as { inboundNodes: GraphNode[] }).inboundNodes;
}

/** A linear activation object, swapped in to read logits from a softmax layer. */
let linearActivation: unknown;
function linear(): unknown {
  if (linearActivation === undefined) {
    const layer = tf.layers.activation({ activation: "linear" }) as unknown as {
      activation: unknown;
    };
    linearActivation = layer.activation;
  }
  return linearActivation;
}

function layerActivationName(layer: Layer): string | undefined {
  if (layer.getClassName() === "Softmax") return "softmax";
  try {
    const activation = layer.getConfig().activation;
    return typeof activation === "string" ? activation : undefined;
  } catch {
    return undefined;
  }
}

function applyLayer(layer: Layer, inputs: tf.Tensor[], callArgs: Kwargs, hooks: GraphHooks) {
  const x = inputs.length === 1 ? inputs[0] : inputs;
  if (layer === hooks.logitLayer) {
    // An Activation("softmax")/Softmax layer becomes the identity; a Dense/Conv layer with a
    // softmax activation runs once with a linear one (what keras.io's Grad-CAM example does).
    const className = layer.getClassName();
    if (className === "Softmax" || className === "Activation") return inputs[0];
    const holder = layer as unknown as { activation: unknown };
    const saved = holder.activation;
    holder.activation = linear();
    try {
      return layer.apply(x, callArgs) as tf.Tensor | tf.Tensor[];
    } finally {
      holder.activation = saved;
    }
  }
  return layer.apply(x, callArgs) as tf.Tensor | tf.Tensor[];
}

/**
 * Evaluate a model's graph on concrete inputs, layer by layer, recursing into nested models.
 * Call inside `tf.tidy` (or `tf.grad`): intermediate tensors are not disposed here.
 */
function runGraph(model: tf.LayersModel, inputs: tf.Tensor[], hooks: GraphHooks): tf.Tensor[] {
  const memo = new Map<Layer, Map<number, tf.Tensor[]>>();
  const remember = (layer: Layer, nodeIndex: number, outputs: tf.Tensor[]) => {
    let byNode = memo.get(layer);
    if (!byNode) memo.set(layer, byNode = new Map());
    byNode.set(nodeIndex, outputs);
  };
  model.inputs.forEach((input, i) => remember(input.sourceLayer, input.nodeIndex, [inputs[i]]));

  const evaluateNode = (layer: Layer, nodeIndex: number): tf.Tensor[] => {
    const known = memo.get(layer)?.get(nodeIndex);
    if (known) return known;
    const replacement = hooks.replace?.get(layer);
    let outputs: tf.Tensor[];
    if (replacement) {
      outputs = [replacement];
    } else {
      const node = inboundNodes(layer)[nodeIndex];
      const nodeInputs = node.inputTensors.map(evaluate);
      if (nodeInputs.length === 0) {
        throw new Error(
          `Cannot run model '${model.name}': its input '${layer.name}' was not given a value`,
        );
      }
      const result = isContainer(layer)
        ? runGraph(layer, nodeInputs, hooks)
        : applyLayer(layer, nodeInputs, node.callArgs ?? {}, hooks);
      outputs = Array.isArray(result) ? result : [result];
    }
    if (hooks.capture?.has(layer)) hooks.captured.set(layer, outputs[0]);
    remember(layer, nodeIndex, outputs);
    return outputs;
  };
  const evaluate = (symbolic: tf.SymbolicTensor): tf.Tensor =>
    evaluateNode(symbolic.sourceLayer, symbolic.nodeIndex)[symbolic.tensorIndex ?? 0];

  return model.outputs.map(evaluate);
}

/** Every layer of a model in topological order, with nested models' layers in place of them. */
function flatLayers(model: tf.LayersModel): Layer[] {
  return model.layers.flatMap((layer) => isContainer(layer) ? flatLayers(layer) : [layer]);
}

function layerNamesOf(model: tf.LayersModel): string {
  const names = flatLayers(model).map((layer) => kerasName(layer));
  return names.length > 12
    ? `${names.slice(0, 6).join(", ")}, …, ${names.slice(-6).join(", ")}`
    : names.join(", ");
}

/**
 * Find a layer by name anywhere in a model, nested models included: by the Keras name
 * `cl.summary` shows (`conv2d_1`) or by tfjs's own name (`conv2d_Conv2D2`).
 *
 * @throws {RangeError} when no layer has that name (the message lists the layer names).
 */
export function findLayer(model: tf.LayersModel, name: string): Layer {
  const layers = [...flatLayers(model), ...model.layers];
  const layer = layers.find((candidate) => candidate.name === name) ??
    layers.find((candidate) => kerasName(candidate) === name);
  if (!layer) {
    throw new RangeError(
      `Cannot find layer '${name}' in model '${model.name}': its layers are ${layerNamesOf(model)}`,
    );
  }
  return layer;
}

function outputRank(layer: Layer): number | undefined {
  try {
    const shape = layer.outputShape;
    return Array.isArray(shape) && !Array.isArray(shape[0]) ? shape.length : undefined;
  } catch {
    return undefined; // layers called more than once have no single output shape
  }
}

const CONV_CLASSES = new Set(["Conv2D", "SeparableConv2D", "DepthwiseConv2D", "Conv2DTranspose"]);
const POOL_CLASSES = new Set(["MaxPooling2D", "AveragePooling2D"]);
/** Layers that only subsample, pad or perturb feature maps: Grad-CAM learns nothing more there. */
const PASS_THROUGH_CLASSES = new Set([
  ...POOL_CLASSES,
  "Dropout",
  "SpatialDropout2D",
  "GaussianNoise",
  "GaussianDropout",
  "AlphaDropout",
  "ZeroPadding2D",
  "Cropping2D",
]);

/**
 * The layer Grad-CAM uses by default: the last layer whose output is still a map of features
 * (4-D, larger than 1×1), not counting pooling, dropout or padding layers. That is the last
 * convolution layer in the course's models (VGG16's `block5_conv3`; LeNet-5's second conv, as its
 * third one outputs 1×1), or the activation/1×1 layer right after it when there is one.
 *
 * @throws {RangeError} when the model has no such layer.
 */
export function gradCamLayer(model: tf.LayersModel): Layer {
  const maps = flatLayers(model).filter((layer) => {
    if (outputRank(layer) !== 4 || PASS_THROUGH_CLASSES.has(layer.getClassName())) return false;
    const [, height, width] = layer.outputShape as (number | null)[];
    return height === null || width === null || height * width > 1;
  });
  const layer = maps.at(-1);
  if (!layer) {
    throw new RangeError(
      `Cannot choose a layer for Grad-CAM in model '${model.name}': no layer outputs feature ` +
        `maps larger than 1×1 (layers: ${layerNamesOf(model)})`,
    );
  }
  return layer;
}

function singleInput(model: tf.LayersModel, what: string): tf.SymbolicTensor {
  if (model.inputs.length !== 1) {
    throw new RangeError(
      `Cannot ${what}: model '${model.name}' has ${model.inputs.length} inputs, expected 1`,
    );
  }
  return model.inputs[0];
}

/** Check an image against the model's input and return it as a float32 batch (caller disposes). */
function asBatch(model: tf.LayersModel, image: tf.Tensor, what: string): tf.Tensor4D {
  const input = singleInput(model, what);
  if (image.rank !== 3 && image.rank !== 4) {
    throw new RangeError(
      `Cannot ${what}: expected an image [height, width, channels] or a batch ` +
        `[n, height, width, channels], got shape [${image.shape}]`,
    );
  }
  const shape = image.rank === 3 ? [1, ...image.shape] : image.shape;
  const expected = input.shape;
  if (expected.length !== 4) {
    throw new RangeError(
      `Cannot ${what}: model '${model.name}' takes input of shape [${expected}], not images`,
    );
  }
  for (let axis = 1; axis < 4; axis++) {
    const want = expected[axis];
    if (want !== null && want !== shape[axis]) {
      throw new RangeError(
        `Cannot ${what}: model '${model.name}' expects images of shape ` +
          `[${expected.slice(1).map((d) => d ?? "any")}], got [${shape.slice(1)}]`,
      );
    }
  }
  return tf.tidy(() => tf.cast(image, "float32").reshape(shape) as tf.Tensor4D);
}

/** The layer producing a model output, looking through nested models. */
function outputLayer(model: tf.LayersModel, outputIndex: number): Layer {
  let symbolic = model.outputs[outputIndex];
  let layer = symbolic.sourceLayer;
  while (isContainer(layer)) {
    symbolic = layer.outputs[symbolic.tensorIndex ?? 0];
    layer = symbolic.sourceLayer;
  }
  return layer;
}

/** Options of {@linkcode activationModel} and {@linkcode activations}. */
export interface ActivationOptions {
  /**
   * Names of the layers whose outputs to return, in the order given. Default: every
   * convolution and pooling layer (nested models included), in the model's order — the
   * course's "all conv and pooling layers" (it takes `model.layers[:8]`).
   */
  layers?: string[];
}

function activationLayers(model: tf.LayersModel, options: ActivationOptions): Layer[] {
  if (options.layers) {
    if (options.layers.length === 0) {
      throw new RangeError("Cannot read activations: `layers` is empty");
    }
    return options.layers.map((name) => findLayer(model, name));
  }
  const layers = flatLayers(model).filter((layer) =>
    CONV_CLASSES.has(layer.getClassName()) || POOL_CLASSES.has(layer.getClassName())
  );
  if (layers.length === 0) {
    throw new RangeError(
      `Cannot read activations: model '${model.name}' has no convolution or pooling layers ` +
        `(layers: ${layerNamesOf(model)}); name the layers with { layers: [...] }`,
    );
  }
  return layers;
}

/**
 * A model with the same input that returns the outputs of intermediate layers — Keras's
 * `models.Model(inputs=model.input, outputs=[layer.output for layer in …])` from the course.
 * Its `predict` gives one tensor per layer, in the order of `outputNames`.
 *
 * Introduced in lesson 05. For a functional model whose base model was applied to a new
 * input (where the base's layers are not connected to the outer input), use
 * {@linkcode activations}, which works for every model.
 *
 * @param model A Sequential or functional model.
 * @param options Which layers (default: every conv and pooling layer).
 * @returns A `tf.LayersModel` with one output per layer.
 * @throws {RangeError} for unknown layer names or layers not connected to the model's input.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { activationModel } from "./explain.ts";
 *
 * const model = tf.sequential({
 *   layers: [
 *     tf.layers.conv2d({ inputShape: [8, 8, 1], filters: 2, kernelSize: 3, name: "c1" }),
 *     tf.layers.maxPooling2d({ poolSize: 2, name: "p1" }),
 *   ],
 * });
 * const probe = activationModel(model);
 * console.log(probe.outputNames); // ["c1", "p1"]
 * ```
 */
export function activationModel(
  model: tf.LayersModel,
  options: ActivationOptions = {},
): tf.LayersModel {
  const layers = activationLayers(model, options);
  const outputs = layers.map((layer) => {
    try {
      return layer.output as tf.SymbolicTensor;
    } catch (cause) {
      throw new RangeError(
        `Cannot build an activation model: layer '${
          kerasName(layer)
        }' was called more than once, ` +
          "so its output is ambiguous; use explain.activations(model, x) instead",
        { cause },
      );
    }
  });
  try {
    return tf.model({ inputs: model.inputs, outputs, name: `${model.name}_activations` });
  } catch (cause) {
    throw new RangeError(
      `Cannot build an activation model of '${model.name}': layers ` +
        `${
          layers.map((layer) => `'${kerasName(layer)}'`).join(", ")
        } are not all connected to its ` +
        "input (a nested base model applied to a new input?); use explain.activations(model, x)",
      { cause },
    );
  }
}

/** One layer's output, as returned by {@linkcode activations}. */
export interface LayerActivation {
  /** The layer's name. */
  name: string;
  /** The layer's class, e.g. `Conv2D`. */
  className: string;
  /** Its output for the batch, `[n, height, width, channels]` for conv and pooling layers. */
  value: tf.Tensor;
}

/**
 * The outputs of intermediate layers for an image or a batch, for any model (Sequential,
 * functional, nested). The caller owns (and disposes) the returned tensors.
 *
 * Introduced in lesson 05, where `cl.show.featureMaps` draws them as grids.
 *
 * @param model The model.
 * @param image `[height, width, channels]` or a batch `[n, height, width, channels]`.
 * @param options Which layers (default: every conv and pooling layer).
 * @returns One entry per layer, in the model's order (or the order of `options.layers`).
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { activations } from "./explain.ts";
 *
 * const model = tf.sequential({
 *   layers: [tf.layers.conv2d({ inputShape: [8, 8, 1], filters: 2, kernelSize: 3 })],
 * });
 * const [first] = activations(model, tf.zeros([8, 8, 1]));
 * console.log(first.value.shape); // [1, 6, 6, 2]
 * first.value.dispose();
 * ```
 */
export function activations(
  model: tf.LayersModel,
  image: tf.Tensor,
  options: ActivationOptions = {},
): LayerActivation[] {
  const layers = activationLayers(model, options);
  const batch = asBatch(model, image, "read activations");
  try {
    const values = tf.tidy(() => {
      const hooks: GraphHooks = { capture: new Set(layers), captured: new Map() };
      runGraph(model, [batch], hooks);
      return layers.map((layer) => {
        const value = hooks.captured.get(layer);
        if (!value) {
          throw new RangeError(
            `Cannot read activations: layer '${
              kerasName(layer)
            }' is not on the path from the input ` +
              `of '${model.name}' to its output`,
          );
        }
        // tidy keeps returned tensors; a layer captured twice must not be returned twice.
        return tf.clone(value);
      });
    });
    return layers.map((layer, i) => ({
      name: kerasName(layer),
      className: layer.getClassName(),
      value: values[i],
    }));
  } finally {
    batch.dispose();
  }
}

/** Options of {@linkcode gradCam}. */
export interface GradCamOptions {
  /**
   * The class to explain: one index, or one per image of a batch. Default: the class the
   * model predicts for each image.
   */
  classIndex?: number | number[];
  /** The layer whose feature maps are weighted. Default: {@linkcode gradCamLayer}'s choice. */
  layerName?: string;
  /**
   * Differentiate the class's `"logit"` (the score before softmax, as in the Grad-CAM paper and
   * keras.io's example; it does not saturate) or its `"probability"` (the course's
   * `model.output[:, 386]`). Default `"logit"`; models without a final softmax use their output.
   */
  score?: "logit" | "probability";
  /** Which model output holds the class scores, for multi-output models. Default 0. */
  outputIndex?: number;
  /** Upsample the heatmap to the input image's size (bilinear, like `cv2.resize`). Default true. */
  upsample?: boolean;
}

/** The result of {@linkcode gradCam}. The caller owns (and disposes) `heatmap`. */
export interface GradCamResult {
  /**
   * Heatmap in [0, 1] (1 at the most important place): `[height, width]` for one image,
   * `[n, height, width]` for a batch; the input's size unless `upsample: false`, else the conv
   * layer's. All zeros when no place speaks for the class.
   */
  heatmap: tf.Tensor;
  /** The class explained, per image. */
  classIndices: number[];
  /** The model's output for that class, per image (a probability for softmax models). */
  probabilities: number[];
  /** The conv layer whose feature maps were used. */
  layerName: string;
}

/**
 * Grad-CAM (Selvaraju et al. 2017, the course's 5.4.3): weight each channel of a conv layer's
 * feature maps by the mean gradient of the class score with respect to it, sum, keep the
 * positive part and scale to [0, 1] — a map of the places in the image that speak for the class.
 *
 * Introduced in lesson 05; the classify app overlays it on uploaded photos.
 *
 * @param model A classifier (Sequential, functional, or with a nested base model).
 * @param image `[height, width, channels]`, or a batch `[n, height, width, channels]`,
 *   preprocessed as the model expects.
 * @param options Class, layer, score and upsampling.
 * @returns The heatmap (caller disposes) and what it explains.
 * @throws {RangeError} for images of the wrong shape, unknown layers or class indices.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { gradCam } from "./explain.ts";
 *
 * const model = tf.sequential({
 *   layers: [
 *     tf.layers.conv2d({ inputShape: [12, 12, 3], filters: 4, kernelSize: 3, name: "conv" }),
 *     tf.layers.flatten({}),
 *     tf.layers.dense({ units: 3, activation: "softmax" }),
 *   ],
 * });
 * const cam = await gradCam(model, tf.randomUniform([12, 12, 3]), { classIndex: 2 });
 * console.log(cam.layerName, cam.classIndices, cam.heatmap.shape); // conv [2] [12, 12]
 * cam.heatmap.dispose();
 * ```
 */
export async function gradCam(
  model: tf.LayersModel,
  image: tf.Tensor,
  options: GradCamOptions = {},
): Promise<GradCamResult> {
  const target = options.layerName ? findLayer(model, options.layerName) : gradCamLayer(model);
  const outputIndex = options.outputIndex ?? 0;
  if (!Number.isInteger(outputIndex) || outputIndex < 0 || outputIndex >= model.outputs.length) {
    throw new RangeError(
      `Cannot compute Grad-CAM: outputIndex must be in [0, ${model.outputs.length - 1}], ` +
        `got ${outputIndex}`,
    );
  }
  const batch = asBatch(model, image, "compute Grad-CAM");
  const [n, height, width] = batch.shape;
  let features: tf.Tensor | undefined;
  let output: tf.Tensor | undefined;
  try {
    [features, output] = tf.tidy(() => {
      const hooks: GraphHooks = { capture: new Set([target]), captured: new Map() };
      const outputs = runGraph(model, [batch], hooks);
      const captured = hooks.captured.get(target);
      if (!captured) {
        throw new RangeError(
          `Cannot compute Grad-CAM: layer '${
            kerasName(target)
          }' is not on the path from the input ` +
            `of '${model.name}' to its output`,
        );
      }
      return [tf.clone(captured), outputs[outputIndex]];
    });
    if (features.rank !== 4) {
      throw new RangeError(
        `Cannot compute Grad-CAM: layer '${kerasName(target)}' gives shape [${features.shape}], ` +
          "expected feature maps [n, height, width, channels]; choose a conv layer",
      );
    }
    if (output.rank !== 2) {
      throw new RangeError(
        `Cannot compute Grad-CAM: model output ${outputIndex} has shape [${output.shape}], ` +
          "expected class scores [n, classes]",
      );
    }
    const numClasses = output.shape[1] as number;
    const classIndices = await chooseClasses(output, n, numClasses, options.classIndex);
    const chosenOutputs = tf.tidy(() => {
      const mask = tf.oneHot(tf.tensor1d(classIndices, "int32"), numClasses);
      return tf.sum(tf.mul(output!, mask), 1);
    });
    const probabilities = Array.from(await chosenOutputs.data());
    chosenOutputs.dispose();

    const logitLayer = (options.score ?? "logit") === "logit" &&
        layerActivationName(outputLayer(model, outputIndex)) === "softmax"
      ? outputLayer(model, outputIndex)
      : undefined;
    const conv = features;
    const heatmap = tf.tidy(() => {
      const mask = tf.oneHot(tf.tensor1d(classIndices, "int32"), numClasses);
      const classScore = (maps: tf.Tensor) => {
        const hooks: GraphHooks = {
          captured: new Map(),
          replace: new Map([[target, maps]]),
          logitLayer,
        };
        const scores = runGraph(model, [batch], hooks)[outputIndex];
        // Images of a batch are independent in inference mode, so the gradient of the sum
        // gives each image the gradient of its own class score.
        return tf.sum(tf.mul(scores, mask));
      };
      const grads = tf.grad(classScore)(conv);
      const channelWeights = tf.mean(grads, [1, 2], true);
      const cam = tf.relu(tf.sum(tf.mul(conv, channelWeights), -1));
      const peak = tf.max(cam, [1, 2], true);
      let scaled: tf.Tensor = tf.divNoNan(cam, peak);
      if (options.upsample ?? true) {
        // Half-pixel centres (TF2's tf.image.resize, cv2.resize): each cell stays over its region.
        const resized = tf.image.resizeBilinear(
          scaled.expandDims(-1) as tf.Tensor4D,
          [height, width],
          false,
          true,
        );
        scaled = tf.clipByValue(resized.squeeze([3]), 0, 1);
      }
      return image.rank === 3 ? scaled.squeeze([0]) : scaled;
    });
    return { heatmap, classIndices, probabilities, layerName: kerasName(target) };
  } finally {
    batch.dispose();
    features?.dispose();
    output?.dispose();
  }
}

async function chooseClasses(
  output: tf.Tensor,
  n: number,
  numClasses: number,
  requested: number | number[] | undefined,
): Promise<number[]> {
  if (requested === undefined) {
    const predicted = tf.argMax(output, 1);
    try {
      return Array.from(await predicted.data());
    } finally {
      predicted.dispose();
    }
  }
  const indices = Array.isArray(requested) ? requested : Array(n).fill(requested);
  if (indices.length !== n) {
    throw new RangeError(
      `Cannot compute Grad-CAM: got ${indices.length} class indices for ${n} images`,
    );
  }
  for (const index of indices) {
    if (!Number.isInteger(index) || index < 0 || index >= numClasses) {
      throw new RangeError(
        `Cannot compute Grad-CAM: class index must be an integer in [0, ${numClasses - 1}], ` +
          `got ${index}`,
      );
    }
  }
  return indices;
}

/**
 * The course's `deprocess_image`: scale a float image to mean 0.5 and standard deviation 0.1,
 * clip to [0, 1] and return 0–255 integers, so patterns found by gradient ascent can be shown.
 *
 * Introduced in lesson 05.
 *
 * @param image Any float tensor, usually `[height, width, channels]`.
 * @returns An `int32` tensor with values in 0–255 (caller disposes).
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { deprocessImage } from "./explain.ts";
 *
 * const shown = deprocessImage(tf.tensor3d([[[-3], [0], [3]]]));
 * console.log(await shown.data()); // Int32Array [ 82, 127, 173 ] (about)
 * ```
 */
export function deprocessImage(image: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(image);
    const normalised = tf.div(tf.sub(image, mean), tf.add(tf.sqrt(variance), 1e-5));
    const shifted = tf.clipByValue(tf.add(tf.mul(normalised, 0.1), 0.5), 0, 1);
    return tf.cast(tf.round(tf.mul(shifted, 255)), "int32");
  });
}

/** Options of {@linkcode visualizeFilter}. */
export interface VisualizeFilterOptions {
  /** Gradient-ascent steps. Default 40, as in the course. */
  steps?: number;
  /**
   * Size of each step, in input units. Default: 1/255 of the input range — the course's step of
   * 1 on 0–255 images.
   */
  stepSize?: number;
  /** `[height, width]` of the pattern when the model accepts any size. Default 150×150. */
  size?: [number, number];
  /** The value range of the model's input. Default `[0, 1]` (images scaled by 1/255). */
  inputRange?: [number, number];
  /** Seed of the starting noise. Default: derived from `cl.seed`. */
  seed?: number;
}

/** The result of {@linkcode visualizeFilter}. The caller owns (and disposes) `image`. */
export interface FilterVisualization {
  /** The pattern, de-processed to 0–255 integers, `[height, width, channels]`. */
  image: tf.Tensor3D;
  /** The filter's mean activation before each step and after the last (`steps + 1` values). */
  losses: number[];
  /** The layer and filter shown. */
  layerName: string;
  filterIndex: number;
}

/**
 * The input pattern a filter responds to most, found by gradient ascent on the input (the
 * course's `generate_pattern`): start from grey noise, then repeatedly add the gradient of the
 * filter's mean activation, normalised by its root mean square, and de-process the result.
 *
 * Introduced in lesson 05.
 *
 * @param model The model.
 * @param layerName A layer with a 4-D output (a conv layer, usually).
 * @param filterIndex Which channel of that layer.
 * @param options Steps, step size, size, input range, seed.
 * @returns The pattern and the activation after each step.
 * @throws {RangeError} for unknown layers or out-of-range filter indices.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { visualizeFilter } from "./explain.ts";
 *
 * const model = tf.sequential({
 *   layers: [tf.layers.conv2d({ inputShape: [16, 16, 3], filters: 4, kernelSize: 3, name: "c" })],
 * });
 * const { image, losses } = await visualizeFilter(model, "c", 1, { steps: 10 });
 * console.log(image.shape, losses.length); // [16, 16, 3] 11
 * image.dispose();
 * ```
 */
export async function visualizeFilter(
  model: tf.LayersModel,
  layerName: string,
  filterIndex: number,
  options: VisualizeFilterOptions = {},
): Promise<FilterVisualization> {
  const target = findLayer(model, layerName);
  const input = singleInput(model, "visualise a filter");
  if (input.shape.length !== 4) {
    throw new RangeError(
      `Cannot visualise a filter: model '${model.name}' takes input [${input.shape}], not images`,
    );
  }
  const rank = outputRank(target);
  const shape = rank === undefined ? undefined : target.outputShape as (number | null)[];
  if (rank !== undefined && rank !== 4) {
    throw new RangeError(
      `Cannot visualise a filter of '${layerName}': its output [${shape}] is not feature maps`,
    );
  }
  const filters = shape?.[3];
  if (!Number.isInteger(filterIndex) || filterIndex < 0 || (filters && filterIndex >= filters)) {
    throw new RangeError(
      `Cannot visualise filter ${filterIndex} of '${layerName}': it has ${filters} filters ` +
        `(0 to ${(filters ?? 1) - 1})`,
    );
  }
  const steps = options.steps ?? 40;
  if (!Number.isInteger(steps) || steps < 0) {
    throw new RangeError(
      `Cannot visualise a filter: steps must be a non-negative integer, got ${steps}`,
    );
  }
  const [low, high] = options.inputRange ?? [0, 1];
  if (!(high > low)) {
    throw new RangeError(
      `Cannot visualise a filter: inputRange must be [low, high], got [${low}, ${high}]`,
    );
  }
  const stepSize = options.stepSize ?? (high - low) / 255;
  const [, fixedHeight, fixedWidth, fixedChannels] = input.shape;
  const height = fixedHeight ?? options.size?.[0] ?? 150;
  const width = fixedWidth ?? options.size?.[1] ?? 150;
  const channels = fixedChannels ?? 3;

  // The course starts from grey noise: random * 20 + 128 on 0–255 images.
  const random = randomStream("explain.visualizeFilter", options.seed);
  const noise = new Float32Array(height * width * channels);
  for (let i = 0; i < noise.length; i++) {
    noise[i] = low + (high - low) * (128 + 20 * random.next()) / 255;
  }
  const filterLoss = (x: tf.Tensor) => {
    const hooks: GraphHooks = { capture: new Set([target]), captured: new Map() };
    runGraph(model, [x], hooks);
    const maps = hooks.captured.get(target);
    if (!maps) {
      throw new RangeError(
        `Cannot visualise a filter: layer '${layerName}' is not on the path from the input ` +
          `of '${model.name}' to its output`,
      );
    }
    if (filterIndex >= (maps.shape[3] ?? 0)) {
      throw new RangeError(
        `Cannot visualise filter ${filterIndex} of '${layerName}': it has ${maps.shape[3]} filters`,
      );
    }
    return tf.mean(maps.slice([0, 0, 0, filterIndex], [-1, -1, -1, 1])) as tf.Scalar;
  };
  const ascend = tf.valueAndGrad(filterLoss);

  let current: tf.Tensor = tf.tensor4d(noise, [1, height, width, channels]);
  const losses: tf.Tensor[] = [];
  try {
    for (let step = 0; step < steps; step++) {
      const [loss, next] = tf.tidy(() => {
        const { value, grad } = ascend(current);
        const rms = tf.sqrt(tf.mean(tf.square(grad)));
        const normalised = tf.div(grad, tf.add(rms, 1e-5));
        return [value, tf.add(current, tf.mul(normalised, stepSize))];
      });
      losses.push(loss);
      current.dispose();
      current = next;
    }
    losses.push(tf.tidy(() => filterLoss(current)));
    const stacked = tf.stack(losses);
    const lossValues = Array.from(await stacked.data());
    stacked.dispose();
    const image = tf.tidy(() => deprocessImage(current.squeeze([0]))) as tf.Tensor3D;
    return { image, losses: lossValues, layerName: kerasName(target), filterIndex };
  } finally {
    current.dispose();
    tf.dispose(losses);
  }
}
