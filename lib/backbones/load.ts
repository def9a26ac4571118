/**
 * Pretrained backbones behind one call, Keras-applications style: Convlab's shipped small VGG
 * (offline, in `data/models/`) or a Keras-converted MobileNet (downloaded once, cached and
 * checked). Either comes back as a {@linkcode Backbone}: the convolutional base, what its input
 * must look like, and where its top block starts — so lesson 04's code runs unchanged on both.
 *
 * Introduced in lesson 04 (transfer learning).
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import { join } from "node:path";
import { loadModel } from "../save.ts";
import { shippedModelDir } from "../model_dirs.ts";
import { resize } from "../image/resize.ts";
import { fetchMobilenet, MOBILENET, type MobilenetOptions } from "./mobilenet.ts";

/** The shipped backbone's name: its folder is `data/models/fashion-backbone/`. */
export const FASHION_BACKBONE = "fashion-backbone";
/** Fashion-MNIST classes the shipped backbone was trained on (the source task). */
export const FASHION_SOURCE_CLASSES: number[] = [0, 1, 2, 3, 4];
/** Fashion-MNIST classes lesson 04 transfers to (the target task, never seen in pretraining). */
export const FASHION_TARGET_CLASSES: number[] = [5, 6, 7, 8, 9];

/** The backbones {@linkcode load} knows. */
export type BackboneName = typeof FASHION_BACKBONE | typeof MOBILENET.name;
/** The names {@linkcode load} accepts. */
export const BACKBONE_NAMES: readonly BackboneName[] = [FASHION_BACKBONE, MOBILENET.name];

/** A pretrained network ready for transfer learning. */
export interface Backbone {
  /** `fashion-backbone` or `mobilenet`. */
  name: BackboneName;
  /**
   * The model: the convolutional base (Keras's `include_top=False`), or the whole classifier
   * with `includeTop: true`.
   */
  model: tf.LayersModel;
  /** `[height, width, channels]` the model takes (`null`: any size). */
  inputShape: [number | null, number | null, number];
  /** Pixel values it expects, e.g. `[0, 1]` or MobileNet's `[-1, 1]`. */
  inputRange: [number, number];
  /** First layer of the top block — unfreeze from here on for fine-tuning (`block3_conv1`). */
  topBlockStart: string;
  /** The classes of the source task (the top's outputs). */
  classNames: string[];
  /** Where the weights came from and how they were checked. */
  origin: string;
  /** One line about it (what it was trained on, its accuracy there). */
  description: string;
  /** `model.json`'s `userDefinedMetadata` (training settings, accuracy…), when any. */
  metadata: Record<string, unknown>;
}

/** Options of {@linkcode load}. */
export interface LoadBackboneOptions extends MobilenetOptions {
  /** Keep the classifier on top (Keras's `include_top`). Default false: the base only. */
  includeTop?: boolean;
  /** Folder of the shipped backbone (default `data/models/fashion-backbone/`). */
  dir?: string;
}

/** Raised when a backbone cannot be had (not shipped, not cached and not downloadable). */
export class BackboneUnavailableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "BackboneUnavailableError";
  }
}

/** The model up to `layerName` (Keras's `include_top=False`); the top's weights are freed. */
function truncate(model: tf.LayersModel, layerName: string): tf.LayersModel {
  const layer = model.getLayer(layerName);
  const base = tf.model({
    inputs: model.inputs,
    outputs: layer.output as tf.SymbolicTensor,
    name: model.name,
  });
  const kept = new Set(base.layers);
  for (const unused of model.layers) if (!kept.has(unused)) unused.dispose();
  return base;
}

function inputShapeOf(model: tf.LayersModel): [number | null, number | null, number] {
  const shape = model.inputs[0].shape;
  return [shape[1] ?? null, shape[2] ?? null, shape[3] ?? 1];
}

/**
 * Load a pretrained backbone by name (Keras's `applications.VGG16(weights="imagenet",
 * include_top=False)`):
 *
 * - `"fashion-backbone"` (default): Convlab's small VGG, shipped in `data/models/` and trained by
 *   `deno task pretrain` on five Fashion-MNIST classes; works offline. Its base ends at
 *   `block3_pool` and its top block starts at `block3_conv1`.
 * - `"mobilenet"`: Keras's MobileNet v1 (α 0.25, 224×224, ImageNet), converted to tfjs's layers
 *   format and hosted by the tfjs team; downloaded once into `<cache>/models/mobilenet/` (with
 *   `download: true`, or whenever it is missing and `download` is not false) and checked on every
 *   load (see {@linkcode fetchMobilenet}). Its base ends at `conv_pw_13_relu`.
 *
 * Introduced in lesson 04 (transfer learning).
 *
 * @param name Which backbone.
 * @param options `includeTop`, and for MobileNet the cache folder, download and URL options.
 * @returns The model and what its input must look like.
 * @throws {BackboneUnavailableError} when it is neither shipped, cached nor downloadable (the
 *   message says where it was looked for and how to get it).
 * @example
 * ```ts
 * import * as cl from "convlab";
 * const backbone = await cl.backbones.load("fashion-backbone");
 * console.log(backbone.model.outputs[0].shape, backbone.inputRange); // [null, null, null, 32] [0, 1]
 * ```
 */
export async function load(
  name: BackboneName = FASHION_BACKBONE,
  options: LoadBackboneOptions = {},
): Promise<Backbone> {
  if (!BACKBONE_NAMES.includes(name)) {
    throw new RangeError(
      `Unknown backbone ${JSON.stringify(name)}: use one of ${BACKBONE_NAMES.join(", ")}`,
    );
  }
  if (name === MOBILENET.name) {
    const fetched = await fetchMobilenet(options);
    const full = await loadModel(fetched.dir, { compile: false });
    return {
      name,
      model: options.includeTop ? full : truncate(full, MOBILENET.baseOutput),
      inputShape: inputShapeOf(full),
      inputRange: [...MOBILENET.inputRange],
      topBlockStart: MOBILENET.topBlockStart,
      classNames: fetched.classNames,
      origin: fetched.origin,
      description: MOBILENET.title,
      metadata: {},
    };
  }
  const dir = options.dir ?? shippedModelDir(FASHION_BACKBONE);
  try {
    await Deno.stat(join(dir, "model.json"));
  } catch (cause) {
    throw new BackboneUnavailableError(
      `Cannot load backbone "${name}": ${join(dir, "model.json")} is missing; rebuild it with ` +
        "`deno task pretrain`",
      { cause },
    );
  }
  const full = await loadModel(dir, { compile: false });
  const metadata = (full.getUserDefinedMetadata() ?? {}) as Record<string, unknown>;
  const accuracy = typeof metadata.testAccuracy === "number"
    ? `, ${(metadata.testAccuracy * 100).toFixed(1)} % test accuracy there`
    : "";
  const classNames = Array.isArray(metadata.classNames) ? metadata.classNames as string[] : [];
  return {
    name,
    model: options.includeTop ? full : truncate(full, "block3_pool"),
    inputShape: inputShapeOf(full),
    inputRange: [0, 1],
    topBlockStart: "block3_conv1",
    classNames,
    origin: `${dir} (shipped with Convlab; weights checked against the SHA-256 in model.json)`,
    description: `Small VGG trained on Fashion-MNIST ${classNames.join(", ")}${accuracy}`,
    metadata,
  };
}

/**
 * Turn images as the datasets give them (`[n, h, w, 1|3]` in [0, 1]) into what a backbone
 * takes: resized to its input size when fixed (bilinear), grey repeated to three channels (or
 * colour averaged to one) as needed, and scaled to its input range — Keras's `preprocess_input`.
 *
 * Introduced in lesson 04 (transfer learning).
 *
 * @param backbone From {@linkcode load}.
 * @param images `[n, h, w, c]` float in [0, 1].
 * @returns A new tensor (caller disposes).
 * @example
 * ```ts
 * import * as cl from "convlab";
 * const backbone = await cl.backbones.load();
 * const x = cl.backbones.prepareImages(backbone, cl.tf.zeros([2, 28, 28, 1]));
 * console.log(x.shape); // [2, 28, 28, 1]
 * ```
 */
export function prepareImages(backbone: Backbone, images: tf.Tensor): tf.Tensor4D {
  if (images.rank !== 4) {
    throw new RangeError(
      `Cannot prepare images for ${backbone.name}: expected [n, height, width, channels], got ` +
        `[${images.shape}]`,
    );
  }
  const [height, width, channels] = backbone.inputShape;
  const [low, high] = backbone.inputRange;
  return tf.tidy(() => {
    let x = tf.cast(images, "float32") as tf.Tensor4D;
    if ((height !== null && height !== x.shape[1]) || (width !== null && width !== x.shape[2])) {
      x = resize(x, [height ?? x.shape[1], width ?? x.shape[2]]) as tf.Tensor4D;
    }
    if (x.shape[3] === 1 && channels === 3) x = tf.tile(x, [1, 1, 1, 3]);
    else if (x.shape[3] === 3 && channels === 1) x = tf.mean(x, 3, true);
    else if (x.shape[3] !== channels) {
      throw new RangeError(
        `Cannot prepare images for ${backbone.name}: it takes ${channels} channels, got ` +
          `${x.shape[3]}`,
      );
    }
    return (low === 0 && high === 1 ? x : tf.add(tf.mul(x, high - low), low)) as tf.Tensor4D;
  });
}
