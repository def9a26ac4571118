/**
 * `cl.compile(model, {optimizer, loss, metrics, lossWeights})` with Keras's names and rules:
 * one loss for every output or one per output (list or object by output name), `lossWeights`
 * (the course's classification + box head uses `[0.8, 0.2]`), metrics for every output or per
 * output, and the trainable weights collected at compile time (so, as in Keras, changing
 * `trainable` needs a new `compile`).
 *
 * Introduced in lesson 02 (LeNet-5), used by every lesson that trains.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import { getLoss, type Loss, type LossConfig, lossFromConfig } from "./losses.ts";
import { BoxIoU, getMetric, MeanIoU, type Metric, type MetricSpec } from "./metrics.ts";
import { getOptimizer } from "./optimizers.ts";
import { rejectUnknownOptions } from "./_options.ts";
import { kerasName, recordCompiledWeights } from "./summary.ts";

/** A loss as `compile` takes it: a Keras name or a function `(yTrue, yPred) → per-sample losses`. */
export type LossSpec = string | ((yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor);

/** Options of {@linkcode compile}, as Keras's `model.compile`. */
export interface CompileOptions {
  /** An optimizer name (`"adam"`, `"rmsprop"`, `"sgd"`, …) or object. Default `"rmsprop"` (Keras's). */
  optimizer?: string | tf.Optimizer;
  /**
   * One loss for all outputs, a list with one per output, or an object keyed by output name
   * (a missing or `null` entry leaves that output untrained).
   */
  loss: LossSpec | (LossSpec | null)[] | Record<string, LossSpec | null>;
  /** Metrics for every output (`["accuracy"]`), one list per output, or an object by output name. */
  metrics?: MetricSpec[] | MetricSpec[][] | Record<string, MetricSpec | MetricSpec[]>;
  /** Weights of the outputs' losses in the total loss (list or object by output name; default 1). */
  lossWeights?: number[] | Record<string, number>;
}

/** One output of a compiled model. */
export interface CompiledOutput {
  /** Keras's name of the output layer (the prefix of its history keys). */
  name: string;
  /** The loss, or null when the output is not trained. */
  loss: Loss | null;
  /** Weight of the loss in the total. */
  weight: number;
  /** Metric objects (stateful, reset each epoch). */
  metrics: Metric[];
}

/** What `compile` recorded about a model. */
export interface Compiled {
  optimizer: tf.Optimizer;
  outputs: CompiledOutput[];
  /** Trainable weights collected at compile time (Keras trains those). */
  trainableWeights: tf.LayerVariable[];
  /** What `saveModel` writes so that `loadModel` can compile again (null if not expressible). */
  config: SerializedCompile | null;
}

/** A compile configuration as saved in `model.json`. */
export interface SerializedCompile {
  optimizer: { className: string; config: Record<string, unknown> };
  /** Keras names, or the class and options of a configurable loss (focal, Huber). */
  loss: (string | LossConfig | null)[];
  lossWeights: number[];
  metrics: (string | { className: string; options: Record<string, unknown> })[][];
}

const compiledModels = new WeakMap<tf.LayersModel, Compiled>();

/** The compile state of a model, or null. */
export function compiledState(model: tf.LayersModel): Compiled | null {
  return compiledModels.get(model) ?? null;
}

/** The model's output layers' Keras names, in order (with their tfjs names for lookups). */
function outputNames(model: tf.LayersModel): { keras: string; tfjs: string }[] {
  return model.outputs.map((output) => ({
    keras: kerasName(output.sourceLayer),
    tfjs: output.sourceLayer.name,
  }));
}

/** Spread a per-output option (one value, a list, or an object by output name) over the outputs. */
function perOutput<T>(
  what: string,
  value: T | T[] | Record<string, T> | undefined,
  names: { keras: string; tfjs: string }[],
  isSingle: (v: unknown) => v is T,
  fallback: T,
): T[] {
  if (value === undefined) return names.map(() => fallback);
  if (isSingle(value)) return names.map(() => value);
  if (Array.isArray(value)) {
    if (value.length !== names.length) {
      throw new RangeError(
        `Cannot compile: ${what} has ${value.length} entries but the model has ` +
          `${names.length} output(s) (${names.map((n) => n.keras).join(", ")})`,
      );
    }
    return value;
  }
  const record = value as Record<string, T>;
  const known = new Set(names.flatMap((n) => [n.keras, n.tfjs]));
  for (const key of Object.keys(record)) {
    if (!known.has(key)) {
      throw new RangeError(
        `Cannot compile: ${what} names an unknown output "${key}"; the outputs are ` +
          names.map((n) => n.keras).join(", "),
      );
    }
  }
  return names.map((n) => record[n.keras] ?? record[n.tfjs] ?? fallback);
}

const isLossSpec = (v: unknown): v is LossSpec => typeof v === "string" || typeof v === "function";

function serializeMetric(metric: Metric, spec: MetricSpec) {
  if (typeof spec === "string") return spec;
  if (metric instanceof BoxIoU) {
    return { className: "BoxIoU", options: { format: metric.format, name: metric.name } };
  }
  if (metric instanceof MeanIoU) {
    return { className: "MeanIoU", options: { ...metric.options } };
  }
  return null;
}

function deserializeMetric(spec: SerializedCompile["metrics"][number][number]): MetricSpec {
  if (typeof spec === "string") return spec;
  if (spec.className === "BoxIoU") return new BoxIoU(spec.options);
  if (spec.className === "MeanIoU") {
    return new MeanIoU(spec.options as unknown as ConstructorParameters<typeof MeanIoU>[0]);
  }
  throw new RangeError(`Cannot compile from saved config: unknown metric ${spec.className}`);
}

/**
 * Configure a model for training, as Keras's `model.compile`: an optimizer, a loss per output,
 * metrics and loss weights. Call it again after freezing or unfreezing layers.
 *
 * The model is also compiled for tfjs's own `model.fit`/`fitDataset`/`evaluate`, with the same
 * optimizer and losses (tfjs computes only its own metrics there).
 *
 * Introduced in lesson 02 (LeNet-5 and MNIST).
 *
 * @param model The model.
 * @param options Optimizer, loss(es), metrics, loss weights.
 * @example
 * ```ts
 * import * as cl from "convlab";
 * const model = cl.models.lenet5();
 * cl.compile(model, {
 *   optimizer: cl.optimizers.Adam({ learningRate: 0.001 }),
 *   loss: "categorical_crossentropy",
 *   metrics: ["accuracy"],
 * });
 * ```
 */
export function compile(model: tf.LayersModel, options: CompileOptions): void {
  if (!(model instanceof tf.LayersModel)) {
    throw new TypeError("Cannot compile: expected a tf.LayersModel (tf.sequential or tf.model)");
  }
  rejectUnknownOptions("Cannot compile", options, ["optimizer", "loss", "metrics", "lossWeights"]);
  if (!options || options.loss === undefined) {
    throw new TypeError(
      'Cannot compile: a loss is required, e.g. {loss: "categorical_crossentropy"}',
    );
  }
  const names = outputNames(model);
  const lossSpecs = perOutput<LossSpec | null>(
    "loss",
    options.loss as LossSpec | LossSpec[] | Record<string, LossSpec>,
    names,
    isLossSpec,
    null,
  );
  if (lossSpecs.every((l) => l === null)) {
    throw new RangeError("Cannot compile: no output has a loss");
  }
  const weights = perOutput<number>(
    "lossWeights",
    options.lossWeights,
    names,
    (v): v is number => typeof v === "number",
    1,
  );
  weights.forEach((w, i) => {
    if (!Number.isFinite(w)) {
      throw new RangeError(
        `Cannot compile: lossWeights for ${names[i].keras} must be a number, got ${w}`,
      );
    }
  });
  const metricSpecs = perOutput<MetricSpec[]>(
    "metrics",
    normaliseMetrics(options.metrics, names.length),
    names,
    (_v): _v is MetricSpec[] => false,
    [],
  ).map((m) => (Array.isArray(m) ? m : [m as MetricSpec]));

  const losses = lossSpecs.map((spec) => (spec === null ? null : getLoss(spec)));
  const seen = new Set<Metric>();
  const outputs: CompiledOutput[] = names.map((name, i) => ({
    name: name.keras,
    loss: losses[i],
    weight: weights[i],
    metrics: metricSpecs[i].map((spec) => {
      const metric = getMetric(spec);
      // A metric object listed for several outputs gets its own state per output.
      const own = seen.has(metric) ? metric.clone() : metric;
      seen.add(own);
      return own;
    }),
  }));

  // Made last, once everything else is valid, so that a failed compile leaves no optimizer behind.
  const previous = compiledModels.get(model);
  const given = options.optimizer;
  const tfjsOwned = model as unknown as { optimizer_?: tf.Optimizer; isOptimizerOwned?: boolean };
  const owned = !(typeof given === "object" && given instanceof tf.Optimizer) ||
    (ownedOptimizers.has(given) && (!previous || previous.optimizer === given)) ||
    (tfjsOwned.isOptimizerOwned === true && tfjsOwned.optimizer_ === given);
  const optimizer = getOptimizer(given ?? "rmsprop");
  const trainableWeights = [...model.trainableWeights];
  const config = serializeCompile(optimizer, lossSpecs, weights, metricSpecs, outputs);
  previous?.outputs.forEach((o) => o.metrics.forEach((m) => m.reset()));
  compiledModels.set(model, { optimizer, outputs, trainableWeights, config });
  recordCompiledWeights(model, trainableWeights);
  compileForTfjs(model, optimizer, outputs, owned);
  // An optimizer this module made for the model is the model's (as with tfjs's compile("adam")):
  // a new compile replaces it, and model.dispose() frees it with its state.
  if (previous && previous.optimizer !== optimizer && ownedOptimizers.has(previous.optimizer)) {
    ownedOptimizers.delete(previous.optimizer);
    previous.optimizer.dispose();
  }
  if (owned) ownedOptimizers.add(optimizer);
}

/**
 * Optimizers made for a model — by `compile` from a name, by `loadModel` from a saved config, or
 * by tfjs's own `compile("adam")` — which the model owns.
 */
const ownedOptimizers = new WeakSet<tf.Optimizer>();

/** Mark an optimizer as made for the model it is about to be compiled into. */
export function ownOptimizer(optimizer: tf.Optimizer): void {
  ownedOptimizers.add(optimizer);
}

/** A flat metric list applies to every output; a list of lists is per output (Keras's rules). */
function normaliseMetrics(
  metrics: CompileOptions["metrics"],
  outputCount: number,
): MetricSpec[][] | Record<string, MetricSpec[]> | undefined {
  if (metrics === undefined) return undefined;
  if (Array.isArray(metrics)) {
    const nested = metrics.length > 0 && metrics.every((m) => Array.isArray(m));
    if (nested) return metrics as MetricSpec[][];
    return Array.from({ length: outputCount }, () => metrics as MetricSpec[]);
  }
  if (typeof metrics === "object" && metrics !== null) {
    return Object.fromEntries(
      Object.entries(metrics).map(([k, v]) => [k, Array.isArray(v) ? v : [v]]),
    );
  }
  throw new TypeError(`Cannot compile: metrics must be a list or an object, got ${metrics}`);
}

function serializeCompile(
  optimizer: tf.Optimizer,
  losses: (LossSpec | null)[],
  lossWeights: number[],
  metricSpecs: MetricSpec[][],
  outputs: CompiledOutput[],
): SerializedCompile | null {
  const savedLosses = losses.map((l) =>
    typeof l === "function" ? (l as Partial<Loss>).config ?? undefined : l
  );
  if (savedLosses.some((l) => l === undefined)) return null; // a function: cannot be saved
  const metrics = metricSpecs.map((specs, i) =>
    specs.map((spec, j) => serializeMetric(outputs[i].metrics[j], spec))
  );
  if (metrics.some((list) => list.some((m) => m === null))) return null;
  return {
    optimizer: {
      className: optimizer.getClassName(),
      config: optimizer.getConfig() as Record<string, unknown>,
    },
    loss: savedLosses as (string | LossConfig | null)[],
    lossWeights,
    metrics: metrics as SerializedCompile["metrics"],
  };
}

/** Compile a model from a saved configuration (`loadModel` does this). */
export function compileFromConfig(model: tf.LayersModel, config: SerializedCompile): void {
  const registry = tf.serialization.SerializationMap.getMap().classNameMap;
  const entry = registry[config.optimizer.className];
  if (!entry) {
    throw new RangeError(
      `Cannot compile from saved config: unknown optimizer ${config.optimizer.className}`,
    );
  }
  const [cls, fromConfig] = entry;
  const optimizer = fromConfig(cls, config.optimizer.config as tf.serialization.ConfigDict);
  ownOptimizer(optimizer as unknown as tf.Optimizer);
  try {
    compile(model, {
      optimizer: optimizer as unknown as tf.Optimizer,
      loss: config.loss.map((l) => (l === null || typeof l === "string" ? l : lossFromConfig(l))),
      lossWeights: config.lossWeights,
      metrics: config.metrics.map((list) => list.map(deserializeMetric)),
    });
  } catch (error) {
    (optimizer as unknown as tf.Optimizer).dispose();
    throw error;
  }
}

/** The compile configuration to save with a model, or null. */
export function compiledConfig(model: tf.LayersModel): SerializedCompile | null {
  return compiledModels.get(model)?.config ?? null;
}

/** Compile for tfjs's own fit/evaluate too, so that `model.fitDataset` works after `cl.compile`. */
function compileForTfjs(
  model: tf.LayersModel,
  optimizer: tf.Optimizer,
  outputs: CompiledOutput[],
  owned: boolean,
): void {
  const zero = (_yTrue: tf.Tensor, yPred: tf.Tensor) => tf.zeros([yPred.shape[0] ?? 0]);
  const loss = outputs.map((o) => {
    if (!o.loss) return zero;
    const fn = o.loss;
    const weighted = o.weight === 1
      ? fn
      : (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.tidy(() => tf.mul(fn(yTrue, yPred), o.weight));
    return weighted;
  });
  model.compile({ optimizer, loss: loss.length === 1 ? loss[0] : loss });
  // tfjs disposes an owned optimizer in model.dispose() (it sets this for compile("adam") only).
  (model as unknown as { isOptimizerOwned: boolean }).isOptimizerOwned = owned;
}
