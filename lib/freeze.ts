/**
 * Freezing layers as Keras does (`cl.setTrainable`), and BatchNormalization that respects it.
 *
 * In Keras (TF 2), a BatchNormalization layer with `trainable = false` runs in inference mode even
 * during `fit`: it normalises with its moving statistics and leaves them unchanged, which is what
 * fine-tuning a pretrained base needs. tfjs 4.22's BatchNormalization looks only at the `training`
 * flag, so a frozen one keeps updating its moving mean and variance during `fit` (the tests show
 * it). Importing this module fixes that: a BatchNormalization layer runs in inference mode when it,
 * or a model containing it, is frozen. The fix also applies to tfjs's own `model.fit`.
 *
 * Introduced in lesson 04 (transfer learning: feature extraction and fine-tuning).
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs";

type Layer = tf.layers.Layer;

/** BatchNormalization layers frozen through a containing model, as found by `markFrozen`. */
const frozenByContainer = new WeakMap<Layer, boolean>();

interface BatchNormLike {
  trainable: boolean;
  gamma?: tf.LayerVariable | null;
  beta?: tf.LayerVariable | null;
}

/** Whether a BatchNormalization layer must run in inference mode. */
function isFrozen(layer: BatchNormLike & Layer): boolean {
  if (!layer.trainable || frozenByContainer.get(layer)) return true;
  // tfjs's `container.trainable = false` flags the weights of its direct layers, not the layers.
  const params = [layer.gamma, layer.beta].filter((w): w is tf.LayerVariable => w != null);
  return params.length > 0 && params.every((w) => !w.trainable);
}

const PATCHED = Symbol.for("convlab.frozenBatchNorm");

function install(): void {
  // An explicit name keeps tfjs's per-class name counter (Keras's layer names) untouched.
  const probe = tf.layers.batchNormalization({ name: "convlab_bn_probe" });
  const proto = Object.getPrototypeOf(probe) as Record<string | symbol, unknown>;
  if (Object.prototype.hasOwnProperty.call(proto, PATCHED)) return;
  const original = proto.call as (
    this: Layer,
    inputs: tf.Tensor | tf.Tensor[],
    kwargs: Record<string, unknown>,
  ) => tf.Tensor | tf.Tensor[];
  proto.call = function (
    this: BatchNormLike & Layer,
    inputs: tf.Tensor | tf.Tensor[],
    kwargs: Record<string, unknown> = {},
  ) {
    if (kwargs?.training && isFrozen(this)) kwargs = { ...kwargs, training: false };
    return original.call(this, inputs, kwargs);
  };
  Object.defineProperty(proto, PATCHED, { value: true });
}

install();

function isContainer(layer: Layer): layer is tf.LayersModel {
  return layer instanceof tf.LayersModel;
}

/**
 * Record which layers are frozen through a frozen model around them (a frozen base inside a
 * new model, say), so that their BatchNormalization runs in inference mode. `fit` calls this at
 * its start and undoes it at its end; call it yourself only around tfjs's own `model.fit` on a
 * model with nested frozen models.
 *
 * @returns A function that forgets what was recorded.
 */
export function markFrozen(model: tf.LayersModel): () => void {
  const marked: Layer[] = [];
  const walk = (layer: Layer, frozenAbove: boolean) => {
    const frozen = frozenAbove || !layer.trainable;
    if (frozen) {
      frozenByContainer.set(layer, true);
      marked.push(layer);
    }
    if (isContainer(layer)) { for (const inner of layer.layers) walk(inner, frozen); }
  };
  walk(model, false);
  return () => {
    for (const layer of marked) frozenByContainer.delete(layer);
  };
}

/**
 * Freeze or unfreeze a layer or a whole model, recursively, as setting `trainable` does in Keras:
 * every nested layer follows. Recompile (`cl.compile`) afterwards for training to see the change,
 * as in Keras. Frozen BatchNormalization layers run in inference mode.
 *
 * Introduced in lesson 04 (transfer learning).
 *
 * @param layer A layer or model.
 * @param trainable false to freeze, true to unfreeze.
 * @example
 * ```ts
 * import * as cl from "convlab";
 * const base = cl.models.mnistConvnet();
 * cl.setTrainable(base, false);
 * console.log(cl.summary(base).trainableParams); // 0
 * ```
 */
export function setTrainable(layer: Layer, trainable: boolean): void {
  if (typeof trainable !== "boolean") {
    throw new TypeError(`Cannot set trainable: expected true or false, got ${trainable}`);
  }
  if (isContainer(layer)) { for (const inner of layer.layers) setTrainable(inner, trainable); }
  layer.trainable = trainable;
}
