/**
 * Keras-faithful training: `cl.fit`, `cl.evaluate` and `cl.predict` for a model configured with
 * `cl.compile`. What makes them Keras's rather than tfjs's:
 *
 * - history keys `loss`, `accuracy`, `val_loss`, `val_accuracy` (and `<output>_loss`,
 *   `<output>_accuracy` for several outputs), losses weighted by `lossWeights`;
 * - `validationSplit` takes the last fraction of the samples before shuffling, as Keras;
 * - shuffling, dropout and initialisers follow `cl.seed()`, so a run repeats exactly on one backend;
 * - frozen layers stay frozen (BatchNormalization in inference mode);
 * - callbacks: Keras's (`cl.callbacks`), tfjs's, or plain objects of hooks;
 * - data: tensors, or a batch source (a tf.data dataset, an ImageDataGenerator flow, any iterable
 *   of `{xs, ys}` batches), fed to the backend one batch at a time;
 * - no tensor is left behind: `tf.memory().numTensors` is the same before and after.
 *
 * Introduced in lesson 02 (LeNet-5 and MNIST), used by every lesson that trains.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import {
  asTensors,
  type Batch,
  type BatchFeed,
  type BatchSource,
  checkInputs,
  describe,
  disposeBatch,
  isBatchSource,
  isNumberArray,
  isTensors,
  modelInputs,
  type ModelIO,
  modelOutputs,
  type NumberArrays,
  ordered,
  positiveInteger,
  sampleCount,
  sourceFeed,
  SourceReader,
  tensorFeed,
  type Tensors,
} from "./batches.ts";
import { Callback, History, LambdaCallback, type Logs } from "./callbacks.ts";
import {
  compile,
  type Compiled,
  compiledState,
  type CompileOptions,
  ownOptimizer,
} from "./compile.ts";
import "./determinism.ts";
import { rejectUnknownOptions } from "./_options.ts";
import { markFrozen } from "./freeze.ts";
import { inNotebook } from "./display.ts";
import { makeProgress } from "./progress.ts";
import { currentSeed, nextSeed, randomStream } from "./random.ts";
import { kerasName } from "./summary.ts";

/** A callback: one of `cl.callbacks`, a tfjs callback, or a plain object of hooks. */
export type CallbackLike =
  | Callback
  | tf.CustomCallbackArgs
  | { setModel?: unknown; onEpochEnd?: unknown };

/** Options of {@linkcode fit}, as Keras's `model.fit`. */
export interface FitOptions {
  /** Samples per batch (default 32). Not allowed with a batch source (its batches have a size). */
  batchSize?: number;
  /** Epochs to train (default 1). */
  epochs?: number;
  /**
   * 0 silent; 1 live progress (a display updating in place in notebooks, a bar on terminals);
   * 2 one line per epoch. Default: 1 in a notebook, 2 elsewhere.
   */
  verbose?: 0 | 1 | 2;
  /** Callbacks (`cl.callbacks.EarlyStopping`, …). */
  callbacks?: CallbackLike[];
  /** Fraction of the samples (the last ones, before shuffling) kept for validation. */
  validationSplit?: number;
  /** Validation data: `[xVal, yVal]` (tensors or plain arrays), or a batch source. */
  validationData?: [Tensors | NumberArrays, Tensors | NumberArrays] | BatchSource;
  /** Shuffle the training samples each epoch (default true; tensors only). */
  shuffle?: boolean;
  /** Epoch to start at (for resumed training; default 0). */
  initialEpoch?: number;
  /** Batches per epoch from a batch source (default: its `length`, or until it ends). */
  stepsPerEpoch?: number;
  /** Validation batches per epoch from a batch source (default: until it ends). */
  validationSteps?: number;
  /** Batch size for validation tensors (default `batchSize`). */
  validationBatchSize?: number;
  /** Validate every n-th epoch (default 1). */
  validationFreq?: number;
  /** Weight of each class in the loss, e.g. `{0: 1, 1: 5}` for a rare class 1 (one output only). */
  classWeight?: Record<number, number>;
  /** Seed of the shuffling (default: drawn from `cl.seed()`). */
  seed?: number;
}

/** Align targets with predictions as Keras does: `[n]` labels against `[n, 1]` outputs. */
function alignTarget(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor {
  if (yTrue.rank === yPred.rank - 1 && yPred.shape[yPred.rank - 1] === 1) {
    return tf.expandDims(yTrue, -1);
  }
  return yTrue;
}

/** Check targets against the compiled losses before training, with hints for common mistakes. */
async function checkTargets(
  ys: tf.Tensor[],
  compiled: Compiled,
  outputs: ModelIO,
  action: string,
): Promise<void> {
  for (let i = 0; i < ys.length; i++) {
    const loss = compiled.outputs[i].loss;
    if (!loss) continue;
    const y = ys[i];
    const out = outputs[i].shape;
    const classes = out[out.length - 1];
    const name = compiled.outputs.length > 1 ? ` for output "${outputs[i].keras}"` : "";
    if (loss.name === "sparse_categorical_crossentropy") {
      const labelShaped = y.rank === out.length - 1 ||
        (y.rank === out.length && y.shape[y.rank - 1] === 1);
      if (!labelShaped) {
        throw new RangeError(
          `Cannot ${action}: "sparse_categorical_crossentropy" expects integer class labels of ` +
            `shape [n]${name}, got [${y.shape}] (one-hot targets? use "categorical_crossentropy")`,
        );
      }
      if (classes !== null && y.size > 0) {
        const range = tf.tidy(() => tf.stack([tf.min(y), tf.max(y)]));
        const [lo, hi] = await range.data().finally(() => range.dispose());
        if (lo < 0 || hi >= classes) {
          throw new RangeError(
            `Cannot ${action}: labels${name} must be in [0, ${classes - 1}], got values from ` +
              `${lo} to ${hi}`,
          );
        }
      }
    } else if (
      loss.name === "categorical_crossentropy" || loss.name === "categorical_focal_crossentropy"
    ) {
      if (y.rank !== out.length || (classes !== null && y.shape[y.rank - 1] !== classes)) {
        const hint = y.rank === out.length - 1 || y.shape[y.rank - 1] === 1
          ? ` (integer labels? one-hot encode them with tf.oneHot(labels, ${classes}), or use "sparse_categorical_crossentropy")`
          : "";
        throw new RangeError(
          `Cannot ${action}: "${loss.name}" expects one-hot targets of shape [n, ${classes}]${name}, ` +
            `got [${y.shape}]${hint}`,
        );
      }
    } else {
      const aligned = y.rank === out.length - 1 && out[out.length - 1] === 1
        ? [...y.shape, 1]
        : y.shape;
      const ok = aligned.length === out.length &&
        out.every((d, j) => j === 0 || d === null || d === aligned[j]);
      if (!ok) {
        throw new RangeError(
          `Cannot ${action}: targets${name} must have the output's shape [${
            out.map((d) => d ?? "n")
          }], got [${y.shape}]`,
        );
      }
    }
  }
}

/** Check the first batch from a source as tensors are checked (targets only when compiled). */
async function checkBatchData(
  batch: Batch,
  compiled: Compiled | null,
  inputs: ModelIO,
  outputs: ModelIO,
  action: string,
): Promise<void> {
  checkInputs(batch.xs, inputs, action);
  if (!compiled) return;
  sampleCount([...batch.xs, ...batch.ys], "inputs and targets of a batch", action);
  await checkTargets(batch.ys, compiled, outputs, action);
}

/** Running sums of an epoch (losses on the backend, metrics in their own state). */
class Accumulator {
  readonly compiled: Compiled;
  #total: tf.Tensor | null = null;
  #perOutput: (tf.Tensor | null)[];
  samples = 0;

  constructor(compiled: Compiled) {
    this.compiled = compiled;
    this.#perOutput = compiled.outputs.map(() => null);
    for (const output of compiled.outputs) for (const m of output.metrics) m.reset();
  }

  /** Add one batch: its total loss, per-output losses and predictions. */
  add(
    total: tf.Scalar,
    perOutput: (tf.Scalar | null)[],
    ys: tf.Tensor[],
    preds: tf.Tensor[],
    n: number,
  ) {
    const add = (sum: tf.Tensor | null, value: tf.Scalar) =>
      tf.keep(tf.tidy(() => (sum ? tf.add(sum, tf.mul(value, n)) : tf.mul(value, n))));
    const nextTotal = add(this.#total, total);
    this.#total?.dispose();
    this.#total = nextTotal;
    perOutput.forEach((value, i) => {
      if (!value) return;
      const next = add(this.#perOutput[i], value);
      this.#perOutput[i]?.dispose();
      this.#perOutput[i] = next;
    });
    this.samples += n;
    this.compiled.outputs.forEach((output, i) => {
      if (output.metrics.length === 0) return;
      const y = alignTarget(ys[i], preds[i]);
      for (const metric of output.metrics) metric.update(y, preds[i]);
      if (y !== ys[i]) y.dispose();
    });
  }

  /** Keras's log keys and the values so far (one read-back for all). */
  async logs(prefix = ""): Promise<Logs> {
    const keys: string[] = [];
    const many = this.compiled.outputs.length > 1;
    const mean = (sum: tf.Tensor | null) =>
      sum && this.samples > 0 ? tf.div(sum, this.samples) : tf.scalar(NaN);
    const stacked = tf.tidy(() => {
      const values: tf.Tensor[] = [mean(this.#total)];
      keys.push("loss");
      if (many) {
        this.compiled.outputs.forEach((output, i) => {
          if (!output.loss) return;
          keys.push(`${output.name}_loss`);
          values.push(mean(this.#perOutput[i]));
        });
      }
      for (const output of this.compiled.outputs) {
        for (const metric of output.metrics) {
          keys.push(many ? `${output.name}_${metric.name}` : metric.name);
          values.push(metric.result());
        }
      }
      return tf.stack(values.map((v) => tf.reshape(v, [])));
    });
    const data = await stacked.data();
    stacked.dispose();
    return Object.fromEntries(keys.map((k, i) => [prefix + k, data[i]]));
  }

  /** Free the sums and the metrics' state (read `logs()` first). */
  dispose(): void {
    this.#total?.dispose();
    this.#total = null;
    this.#perOutput.forEach((t) => t?.dispose());
    this.#perOutput = this.#perOutput.map(() => null);
    for (const output of this.compiled.outputs) for (const m of output.metrics) m.reset();
  }
}

/** Per-sample weights from class weights, for one batch of targets. */
function classWeights(weights: tf.Tensor1D, yTrue: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    let labels: tf.Tensor;
    if (yTrue.rank >= 2 && yTrue.shape[yTrue.rank - 1] > 1) labels = tf.argMax(yTrue, -1);
    else labels = tf.reshape(tf.round(yTrue), [yTrue.shape[0]]);
    return tf.gather(weights, tf.cast(labels, "int32"));
  });
}

/** The losses of one batch: total (with regularisation) and per output. */
function batchLosses(
  model: tf.LayersModel,
  compiled: Compiled,
  ys: tf.Tensor[],
  preds: tf.Tensor[],
  sampleWeights: tf.Tensor | null,
): { total: tf.Scalar; perOutput: (tf.Scalar | null)[] } {
  let total: tf.Scalar | null = null;
  const perOutput = compiled.outputs.map((output, i) => {
    if (!output.loss) return null;
    const y = alignTarget(ys[i], preds[i]);
    let perSample = output.loss(y, preds[i]);
    if (sampleWeights) perSample = tf.mul(perSample, sampleWeights);
    const loss = tf.mean(perSample) as tf.Scalar;
    const weighted = output.weight === 1 ? loss : tf.mul(loss, output.weight) as tf.Scalar;
    total = total ? tf.add(total, weighted) as tf.Scalar : weighted;
    return loss;
  });
  for (const regularisation of model.calculateLosses()) {
    total = tf.add(total!, regularisation) as tf.Scalar;
  }
  return { total: total!, perOutput };
}

/** One optimisation step; returns kept tensors (losses and predictions) for the accumulator. */
function trainStep(
  model: tf.LayersModel,
  compiled: Compiled,
  variables: tf.Variable[],
  batch: Batch,
  weightVector: tf.Tensor1D | null,
): { total: tf.Scalar; perOutput: (tf.Scalar | null)[]; preds: tf.Tensor[] } {
  let preds: tf.Tensor[] = [];
  let perOutput: (tf.Scalar | null)[] = [];
  const lossFn = () => {
    const input = batch.xs.length === 1 ? batch.xs[0] : batch.xs;
    const out = model.apply(input, { training: true }) as tf.Tensor | tf.Tensor[];
    preds = (Array.isArray(out) ? out : [out]).map((p) => tf.keep(p));
    const weights = weightVector ? classWeights(weightVector, batch.ys[0]) : null;
    const losses = batchLosses(model, compiled, batch.ys, preds, weights);
    perOutput = losses.perOutput.map((l) => (l ? tf.keep(l) : null));
    return losses.total;
  };
  try {
    const total = variables.length > 0
      ? compiled.optimizer.minimize(lossFn, true, variables)!
      : tf.tidy(lossFn);
    return { total, perOutput, preds };
  } catch (error) {
    // Kept tensors outlive the failed step's scope: free them.
    tf.dispose([...preds, ...perOutput.filter((t): t is tf.Scalar => t !== null)]);
    releaseFailedTape();
    throw error;
  }
}

/**
 * tfjs 4.22 leaves the gradient tape of a step whose loss threw behind, with the tensors it saved
 * for the backward pass (kept clones): dispose them, so that a failing custom loss leaks nothing.
 */
function releaseFailedTape(): void {
  const state = (tf.engine() as unknown as {
    state?: { gradientDepth?: number; activeTape?: { saved?: tf.Tensor[] }[] | null };
  }).state;
  if (!state || state.gradientDepth !== 0 || !Array.isArray(state.activeTape)) return;
  for (const node of state.activeTape) if (node.saved) tf.dispose(node.saved);
  state.activeTape = null;
}

/** Evaluate batches in inference mode into an accumulator. */
async function evaluateFeed(
  model: tf.LayersModel,
  compiled: Compiled,
  feed: BatchFeed,
  prefix: string,
  empty = "Cannot evaluate: the data gave no batches",
): Promise<Logs> {
  const acc = new Accumulator(compiled);
  try {
    let lastYield = performance.now();
    for (let batch = await feed.next(); batch; batch = await feed.next()) {
      try {
        let total!: tf.Scalar;
        let perOutput: (tf.Scalar | null)[] = [];
        let preds: tf.Tensor[] = [];
        tf.tidy(() => {
          const input = batch!.xs.length === 1 ? batch!.xs[0] : batch!.xs;
          const out = model.apply(input, { training: false }) as tf.Tensor | tf.Tensor[];
          const outputs = Array.isArray(out) ? out : [out];
          const losses = batchLosses(model, compiled, batch!.ys, outputs, null);
          preds = outputs.map((p) => tf.keep(p));
          total = tf.keep(losses.total);
          perOutput = losses.perOutput.map((l) => (l ? tf.keep(l) : null));
        });
        acc.add(total, perOutput, batch.ys, preds, batch.size);
        tf.dispose([total, ...perOutput.filter((t): t is tf.Scalar => t !== null), ...preds]);
      } finally {
        disposeBatch(batch);
      }
      if (performance.now() - lastYield > 100) {
        await yieldToEventLoop();
        lastYield = performance.now();
      }
    }
    if (acc.samples === 0) throw new RangeError(empty);
    return await acc.logs(prefix);
  } finally {
    acc.dispose();
    await feed.close();
  }
}

/** Models a `fit()` is running on. */
const fitting = new WeakSet<tf.LayersModel>();

/** Let timers, I/O and display updates run (tfjs ops on cpu/wasm are synchronous). */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

function requireCompiled(model: tf.LayersModel, action: string): Compiled {
  if (!(model instanceof tf.LayersModel)) {
    throw new TypeError(`Cannot ${action}: expected a tf.LayersModel (tf.sequential or tf.model)`);
  }
  let compiled = compiledState(model);
  if (!compiled) {
    // A model compiled with tfjs's own model.compile: take over its optimizer, losses and metrics.
    const tfjs = model as unknown as {
      optimizer_?: tf.Optimizer;
      isOptimizerOwned?: boolean;
      loss?: unknown;
      metrics?: unknown;
    };
    if (tfjs.optimizer_ && tfjs.loss !== undefined && tfjs.loss !== null) {
      if (tfjs.isOptimizerOwned) ownOptimizer(tfjs.optimizer_);
      compile(model, {
        optimizer: tfjs.optimizer_,
        loss: tfjs.loss as CompileOptions["loss"],
        metrics: (tfjs.metrics ?? undefined) as CompileOptions["metrics"],
      });
      compiled = compiledState(model);
    }
  }
  if (!compiled) {
    throw new Error(
      `Cannot ${action}: compile the model first, e.g. cl.compile(model, {optimizer: "adam", ` +
        `loss: "categorical_crossentropy", metrics: ["accuracy"]})`,
    );
  }
  return compiled;
}

/** A tfjs or plain-object callback as one of ours. */
function asCallback(cb: CallbackLike): tf.Callback {
  if (cb instanceof tf.Callback) return cb;
  const base = cb as { setModel?: unknown; setParams?: unknown };
  if (typeof base.setModel === "function" && typeof base.setParams === "function") {
    return cb as unknown as tf.Callback; // a tfjs BaseCallback (e.g. tf.callbacks.earlyStopping)
  }
  if (typeof cb === "object" && cb !== null) return new LambdaCallback(cb as tf.CustomCallbackArgs);
  throw new TypeError(`Cannot fit: a callback must be an object, got ${typeof cb}`);
}

function wantsBatchLogs(cb: tf.Callback, batch: number): boolean {
  if (cb instanceof Callback) return cb.wantsBatchLogs(batch);
  const proto = Object.getPrototypeOf(tf.Callback.prototype) as tf.Callback;
  return cb.onBatchEnd !== proto.onBatchEnd;
}

const FIT_OPTIONS = [
  "batchSize",
  "epochs",
  "verbose",
  "callbacks",
  "validationSplit",
  "validationData",
  "shuffle",
  "initialEpoch",
  "stepsPerEpoch",
  "validationSteps",
  "validationBatchSize",
  "validationFreq",
  "classWeight",
  "seed",
];

async function fitTensors(
  model: tf.LayersModel,
  x: Tensors | BatchSource,
  y?: Tensors | FitOptions,
  options: FitOptions = {},
): Promise<History> {
  const action = "fit";
  const compiled = requireCompiled(model, action);
  const fromSource = !isTensors(x);
  if (fromSource) {
    if (!isBatchSource(x)) {
      throw new TypeError(
        `Cannot fit: x must be tensors or a batch source (a tf.data dataset, an iterable of ` +
          `{xs, ys}), got ${describe(x)}`,
      );
    }
    if (y !== undefined && isTensors(y)) {
      throw new TypeError(
        "Cannot fit: with a batch source, give no y (the batches hold the targets)",
      );
    }
    options = (y as FitOptions | undefined) ?? options;
  } else if (!isTensors(y)) {
    throw new TypeError(`Cannot fit: targets y are missing (got ${describe(y)})`);
  }
  rejectUnknownOptions("Cannot fit", options, FIT_OPTIONS);
  const epochs = positiveInteger("epochs", options.epochs ?? 1, action);
  const initialEpoch = options.initialEpoch ?? 0;
  if (!Number.isInteger(initialEpoch) || initialEpoch < 0 || initialEpoch >= epochs) {
    throw new RangeError(
      `Cannot fit: initialEpoch must be an integer in [0, epochs), got ${initialEpoch}`,
    );
  }
  const verbose = options.verbose ?? (inNotebook() ? 1 : 2);
  if (![0, 1, 2].includes(verbose)) {
    throw new RangeError(`Cannot fit: verbose must be 0, 1 or 2, got ${verbose}`);
  }
  const validationFreq = positiveInteger("validationFreq", options.validationFreq ?? 1, action);
  const inputs = modelInputs(model);
  const outputs = modelOutputs(model);
  const checkBatch = (batch: Batch) => checkBatchData(batch, compiled, inputs, outputs, action);

  // --- training data -----------------------------------------------------------------------
  let makeTrainFeed: (epoch: number) => BatchFeed;
  let makeValFeed: (() => BatchFeed) | null = null;
  let trainSamples: number | null = null;
  let trainSteps: number | null = null;
  let validationSamples: number | null = null;
  const readers: SourceReader[] = [];
  let ranOut = false;
  const exhausted = () => {
    if (!ranOut) {
      console.warn(
        "Your input ran out of data; interrupting training. Make sure the batch source can give " +
          "stepsPerEpoch × epochs batches (or give it a length).",
      );
    }
    ranOut = true;
    model.stopTraining = true;
  };
  if (fromSource) {
    if (options.batchSize !== undefined) {
      throw new RangeError(
        "Cannot fit: batchSize must not be given with a batch source (its batches have a size)",
      );
    }
    if (options.validationSplit !== undefined) {
      throw new RangeError(
        "Cannot fit: validationSplit works with tensors only; give validationData for a batch source",
      );
    }
    if (options.classWeight !== undefined) {
      throw new RangeError("Cannot fit: classWeight works with tensors only");
    }
    const reader = new SourceReader(x as BatchSource);
    readers.push(reader);
    const steps = options.stepsPerEpoch !== undefined
      ? positiveInteger("stepsPerEpoch", options.stepsPerEpoch, action)
      : null;
    makeTrainFeed = () =>
      sourceFeed(reader, steps, inputs, outputs, action, true, exhausted, checkBatch);
    trainSteps = steps ?? reader.length;
  } else {
    const xs = ordered("input", x as Tensors, inputs, action);
    const ys = ordered("output", y as Tensors, outputs, action);
    checkInputs(xs, inputs, action);
    const n = sampleCount(xs, "inputs", action);
    const m = sampleCount(ys, "targets", action);
    if (n !== m) {
      throw new RangeError(`Cannot fit: x has ${n} samples but y has ${m}`);
    }
    await checkTargets(ys, compiled, outputs, action);
    const batchSize = positiveInteger("batchSize", options.batchSize ?? 32, action);
    const split = options.validationSplit ?? 0;
    if (!(split >= 0 && split < 1)) {
      throw new RangeError(`Cannot fit: validationSplit must be in [0, 1), got ${split}`);
    }
    const splitAt = Math.floor(n * (1 - split));
    if (splitAt === 0) {
      throw new RangeError(
        `Cannot fit: validationSplit ${split} leaves no training samples out of ${n}`,
      );
    }
    if (split > 0 && splitAt === n) {
      throw new RangeError(
        `Cannot fit: validationSplit ${split} of ${n} samples leaves no validation samples`,
      );
    }
    if (split > 0 && options.validationData !== undefined) {
      throw new RangeError("Cannot fit: give validationSplit or validationData, not both");
    }
    const rng = options.shuffle === false
      ? null
      : randomStream("fit/shuffle", options.seed ?? nextSeed("fit/shuffle"));
    makeTrainFeed = () => tensorFeed(xs, ys, 0, splitAt, batchSize, rng);
    trainSamples = splitAt;
    trainSteps = Math.ceil(splitAt / batchSize);
    if (split > 0) {
      const valBatch = positiveInteger(
        "validationBatchSize",
        options.validationBatchSize ?? batchSize,
        action,
      );
      makeValFeed = () => tensorFeed(xs, ys, splitAt, n, valBatch, null);
      validationSamples = n - splitAt;
    }
  }
  const validationData = options.validationData;
  if (validationData !== undefined) {
    if (
      Array.isArray(validationData) && validationData.length === 2 &&
      isTensors(validationData[0]) && isTensors(validationData[1])
    ) {
      const vx = ordered("input", validationData[0] as Tensors, inputs, action);
      const vy = ordered("output", validationData[1] as Tensors, outputs, action);
      checkInputs(vx, inputs, action);
      const vn = sampleCount(vx, "validation inputs", action);
      if (sampleCount(vy, "validation targets", action) !== vn) {
        throw new RangeError("Cannot fit: validation x and y have different numbers of samples");
      }
      await checkTargets(vy, compiled, outputs, action);
      const valBatch = positiveInteger(
        "validationBatchSize",
        options.validationBatchSize ?? options.batchSize ?? 32,
        action,
      );
      makeValFeed = () => tensorFeed(vx, vy, 0, vn, valBatch, null);
      validationSamples = vn;
    } else if (
      Array.isArray(validationData) && validationData.length > 0 &&
      validationData.every((v) => v instanceof tf.Tensor)
    ) {
      throw new TypeError(
        `Cannot fit: validationData must be [xVal, yVal], got a list of ${validationData.length} ` +
          "tensor(s)",
      );
    } else if (isBatchSource(validationData)) {
      const reader = new SourceReader(validationData);
      readers.push(reader);
      const steps = options.validationSteps !== undefined
        ? positiveInteger("validationSteps", options.validationSteps, action)
        : null;
      makeValFeed = () =>
        sourceFeed(reader, steps, inputs, outputs, action, true, () => {}, checkBatch);
    } else {
      throw new TypeError(
        `Cannot fit: validationData must be [xVal, yVal] tensors or a batch source, got ` +
          describe(validationData),
      );
    }
  }
  let weightVector: tf.Tensor1D | null = null;
  if (options.classWeight !== undefined) {
    if (compiled.outputs.length !== 1) {
      throw new RangeError("Cannot fit: classWeight works for models with one output only");
    }
    const last = outputs[0].shape[outputs[0].shape.length - 1] ?? 1;
    const classes = Math.max(
      last === 1 ? 2 : last,
      ...Object.keys(options.classWeight).map(Number).map((k) => k + 1),
    );
    const vector = new Float32Array(classes).fill(1);
    for (const [k, w] of Object.entries(options.classWeight)) {
      const index = Number(k);
      if (!Number.isInteger(index) || index < 0 || !(typeof w === "number" && w >= 0)) {
        throw new RangeError(`Cannot fit: classWeight entry ${k}: ${w} is not class → weight ≥ 0`);
      }
      vector[index] = w;
    }
    weightVector = tf.tensor1d(vector);
  }

  // --- the run ------------------------------------------------------------------------------
  if ((model as unknown as { isTraining: boolean }).isTraining) {
    weightVector?.dispose();
    throw new Error("Cannot fit: this model is already training; await the running fit() first");
  }
  const current = model.trainableWeights;
  if (
    current.length !== compiled.trainableWeights.length ||
    current.some((w, i) => w !== compiled.trainableWeights[i])
  ) {
    console.warn(
      "The model's trainable weights changed since cl.compile(): training uses the weights " +
        "collected at compile time, as Keras does. Call cl.compile() again after freezing or " +
        "unfreezing layers.",
    );
  }
  // Weights frozen since compile() cannot be handed to tfjs's optimizer (it rejects them).
  const variables = compiled.trainableWeights.filter((w) => w.trainable).map((w) =>
    w.read() as tf.Variable
  );
  const history = new History();
  const progress = makeProgress(verbose as 0 | 1 | 2, {
    epochs,
    initialEpoch,
    steps: trainSteps,
    samples: trainSamples,
    validationSamples,
    backend: tf.getBackend(),
    seed: currentSeed(),
    modelName: kerasName(model),
  });
  const callbacks: tf.Callback[] = [
    ...(progress ? [progress] : []),
    ...(options.callbacks ?? []).map(asCallback),
    history,
  ];
  const params = {
    epochs,
    initialEpoch,
    steps: trainSteps,
    samples: trainSamples,
    batchSize: fromSource ? null : options.batchSize ?? 32,
    verbose,
    doValidation: makeValFeed !== null,
    validationSplit: options.validationSplit ?? 0,
    shuffle: options.shuffle ?? true,
    seed: currentSeed(),
    callbacks: callbacks.map((cb) => cb.constructor.name),
  } as unknown as tf.CustomCallbackArgs & Record<string, unknown>;
  for (const cb of callbacks) {
    cb.setModel(model);
    cb.setParams(params as unknown as Parameters<tf.Callback["setParams"]>[0]);
  }

  const unmark = markFrozen(model);
  (model as unknown as { isTraining: boolean }).isTraining = true;
  model.stopTraining = false;
  let logs: Logs = {};
  try {
    for (const cb of callbacks) await cb.onTrainBegin({});
    for (let epoch = initialEpoch; epoch < epochs; epoch++) {
      for (const cb of callbacks) await cb.onEpochBegin(epoch, {});
      const acc = new Accumulator(compiled);
      const feed = makeTrainFeed(epoch);
      let lastYield = performance.now();
      try {
        let step = 0;
        for (let batch = await feed.next(); batch; batch = await feed.next(), step++) {
          for (const cb of callbacks) {
            await cb.onBatchBegin(step, { batch: step, size: batch.size });
          }
          try {
            const result = trainStep(model, compiled, variables, batch, weightVector);
            acc.add(result.total, result.perOutput, batch.ys, result.preds, batch.size);
            tf.dispose([
              result.total,
              ...result.perOutput.filter((t): t is tf.Scalar => t !== null),
              ...result.preds,
            ]);
          } finally {
            disposeBatch(batch);
          }
          const listeners = callbacks.filter((cb) => wantsBatchLogs(cb, step));
          if (listeners.length > 0) {
            const batchLogs = await acc.logs();
            for (const cb of listeners) await cb.onBatchEnd(step, batchLogs);
          }
          if (performance.now() - lastYield > 100) {
            await yieldToEventLoop();
            lastYield = performance.now();
          }
          if (model.stopTraining) break;
        }
        if (acc.samples === 0) {
          if (epoch === initialEpoch && !ranOut) {
            throw new RangeError("Cannot fit: the training data gave no batches");
          }
          exhausted();
          break;
        }
        logs = await acc.logs();
      } finally {
        acc.dispose();
        await feed.close();
      }
      if (makeValFeed && (epoch + 1) % validationFreq === 0) {
        Object.assign(
          logs,
          await evaluateFeed(
            model,
            compiled,
            makeValFeed(),
            "val_",
            "Cannot fit: the validation data gave no batches (a one-shot iterator is used up " +
              "after one pass: give validationSteps and a source that does not end, or a " +
              "re-iterable source)",
          ),
        );
      }
      for (const cb of callbacks) await cb.onEpochEnd(epoch, logs);
      await yieldToEventLoop();
      if (model.stopTraining) break;
    }
    for (const cb of callbacks) await cb.onTrainEnd(logs);
  } catch (error) {
    // Keras calls no hook when training fails; ours still free what they hold (snapshots).
    for (const cb of callbacks) if (cb instanceof Callback) cb.onTrainError(error);
    throw error;
  } finally {
    (model as unknown as { isTraining: boolean }).isTraining = false;
    unmark();
    weightVector?.dispose();
    for (const reader of readers) await reader.end();
  }
  return history;
}

/** Options of {@linkcode evaluate}. */
export interface EvaluateOptions {
  /** Samples per batch for tensors (default 32). */
  batchSize?: number;
  /** Batches to take from a batch source (default: until it ends). */
  steps?: number;
  /** 0 silent (default), 1 or 2: print the result line. */
  verbose?: 0 | 1 | 2;
  /** Return `{loss, accuracy, …}` instead of Keras's list. */
  returnDict?: boolean;
}

/**
 * The batches of a source for `evaluate` (targets needed and checked against the compiled losses)
 * or `predict` (`compiled` null: inputs only), at most `steps` of them.
 */
function inferenceFeed(
  source: BatchSource,
  steps: number | undefined,
  compiled: Compiled | null,
  inputs: ModelIO,
  outputs: ModelIO,
  action: string,
): { reader: SourceReader; feed: BatchFeed } {
  const limit = steps !== undefined ? positiveInteger("steps", steps, action) : null;
  const reader = new SourceReader(source);
  const feed = sourceFeed(
    reader,
    limit,
    inputs,
    outputs,
    action,
    compiled !== null,
    () => {},
    (batch) => checkBatchData(batch, compiled, inputs, outputs, action),
  );
  return { reader, feed };
}

async function evaluateTensors(
  model: tf.LayersModel,
  x: Tensors | BatchSource,
  y?: Tensors | EvaluateOptions,
  options: EvaluateOptions = {},
): Promise<number | number[] | Logs> {
  const action = "evaluate";
  rejectUnknownOptions(
    "Cannot evaluate",
    isTensors(x) ? options : (y as EvaluateOptions | undefined) ?? options,
    ["batchSize", "steps", "verbose", "returnDict"],
  );
  const compiled = requireCompiled(model, action);
  const inputs = modelInputs(model);
  const outputs = modelOutputs(model);
  let feed: BatchFeed;
  let reader: SourceReader | null = null;
  if (isTensors(x)) {
    if (!isTensors(y)) {
      throw new TypeError(`Cannot evaluate: targets y are missing (got ${describe(y)})`);
    }
    const xs = ordered("input", x, inputs, action);
    const ys = ordered("output", y, outputs, action);
    checkInputs(xs, inputs, action);
    const n = sampleCount(xs, "inputs", action);
    if (sampleCount(ys, "targets", action) !== n) {
      throw new RangeError(`Cannot evaluate: x has ${n} samples but y has ${ys[0].shape[0]}`);
    }
    await checkTargets(ys, compiled, outputs, action);
    const batchSize = positiveInteger("batchSize", options.batchSize ?? 32, action);
    feed = tensorFeed(xs, ys, 0, n, batchSize, null);
  } else if (isBatchSource(x)) {
    options = (y as EvaluateOptions | undefined) ?? options;
    ({ reader, feed } = inferenceFeed(x, options.steps, compiled, inputs, outputs, action));
  } else {
    throw new TypeError(`Cannot evaluate: x must be tensors or a batch source, got ${describe(x)}`);
  }
  let logs: Logs;
  try {
    logs = await evaluateFeed(model, compiled, feed, "");
  } finally {
    await reader?.end();
  }
  if (options.verbose) console.log(formatLine(logs));
  if (options.returnDict) return logs;
  const values = Object.values(logs);
  return values.length === 1 ? values[0] : values;
}

function formatLine(logs: Logs): string {
  return Object.entries(logs).map(([k, v]) => `${k}: ${v.toFixed(4)}`).join(" - ");
}

/** Options of {@linkcode predict}. */
export interface PredictOptions {
  /** Samples per batch for tensors (default 32). */
  batchSize?: number;
  /** Batches to take from a batch source (default: until it ends). */
  steps?: number;
}

async function predictTensors(
  model: tf.LayersModel,
  x: Tensors | BatchSource,
  options: PredictOptions = {},
): Promise<tf.Tensor | tf.Tensor[]> {
  const action = "predict";
  rejectUnknownOptions("Cannot predict", options, ["batchSize", "steps"]);
  if (!(model instanceof tf.LayersModel)) {
    throw new TypeError(`Cannot ${action}: expected a tf.LayersModel (tf.sequential or tf.model)`);
  }
  const inputs = modelInputs(model);
  const outputs = modelOutputs(model);
  let feed: BatchFeed;
  let reader: SourceReader | null = null;
  if (isTensors(x)) {
    const xs = ordered("input", x, inputs, action);
    checkInputs(xs, inputs, action);
    const n = sampleCount(xs, "inputs", action);
    const batchSize = positiveInteger("batchSize", options.batchSize ?? 32, action);
    feed = tensorFeed(xs, [], 0, n, batchSize, null);
  } else if (isBatchSource(x)) {
    ({ reader, feed } = inferenceFeed(x, options.steps, null, inputs, outputs, action));
  } else {
    throw new TypeError(`Cannot predict: x must be tensors or a batch source, got ${describe(x)}`);
  }
  const parts: tf.Tensor[][] = outputs.map(() => []);
  try {
    let lastYield = performance.now();
    for (let batch = await feed.next(); batch; batch = await feed.next()) {
      try {
        const out = tf.tidy(() => {
          const input = batch!.xs.length === 1 ? batch!.xs[0] : batch!.xs;
          return model.apply(input, { training: false }) as tf.Tensor | tf.Tensor[];
        });
        (Array.isArray(out) ? out : [out]).forEach((t, i) => parts[i].push(t));
      } finally {
        disposeBatch(batch);
      }
      if (performance.now() - lastYield > 100) {
        await yieldToEventLoop();
        lastYield = performance.now();
      }
    }
  } catch (error) {
    parts.forEach((list) => tf.dispose(list));
    throw error;
  } finally {
    await feed.close();
    await reader?.end();
  }
  if (parts[0].length === 0) throw new RangeError("Cannot predict: the data has no samples");
  const results = parts.map((list) => {
    if (list.length === 1) return list[0];
    const joined = tf.concat(list, 0);
    tf.dispose(list);
    return joined;
  });
  return results.length === 1 ? results[0] : results;
}

/**
 * Train a compiled model, as Keras's `model.fit`: on tensors `x`, `y` or on a batch source
 * (`fit(model, source, options)`), with validation, callbacks and live progress.
 *
 * Introduced in lesson 02 (LeNet-5 and MNIST).
 *
 * @param model A model compiled with `cl.compile`.
 * @param x Inputs (tensors), or a batch source of `{xs, ys}` batches.
 * @param y Targets (with tensor inputs), or the options (with a batch source).
 * @param options Batch size, epochs, validation, callbacks, …
 * @returns The history (`history.history.loss`, `.val_accuracy`, …).
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import * as cl from "convlab";
 * cl.seed(1);
 * const model = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [1] })] });
 * cl.compile(model, { optimizer: cl.optimizers.SGD({ learningRate: 0.1 }), loss: "mse" });
 * const x = tf.tensor2d([[0], [1], [2], [3]]);
 * const history = await cl.fit(model, x, x.mul(2), { epochs: 50, verbose: 0 });
 * console.log(history.history.loss.at(-1)! < 0.01); // true
 * ```
 */
export async function fit(
  model: tf.LayersModel,
  x: Tensors | NumberArrays | BatchSource,
  y?: Tensors | NumberArrays | FitOptions,
  options: FitOptions = {},
): Promise<History> {
  // Checked before anything is awaited, so two fit() calls started together cannot both pass.
  if (fitting.has(model) || (model as unknown as { isTraining?: boolean }).isTraining) {
    throw new Error("Cannot fit: this model is already training; await the running fit() first");
  }
  fitting.add(model);
  const made: tf.Tensor[] = [];
  try {
    const xs = asTensors(x, made) as Tensors | BatchSource;
    const ys = isNumberArray(y) ? asTensors(y, made) as Tensors : y as Tensors | FitOptions;
    const validation = options.validationData;
    if (Array.isArray(validation) && validation.length === 2 && validation.some(isNumberArray)) {
      options = {
        ...options,
        validationData: [
          asTensors(validation[0], made) as Tensors,
          asTensors(validation[1], made) as Tensors,
        ],
      };
    }
    return await fitTensors(model, xs, ys, options);
  } finally {
    tf.dispose(made);
    fitting.delete(model);
  }
}

/**
 * Loss and metrics of a compiled model on data, as Keras's `model.evaluate`: the loss alone when
 * there are no metrics and one output, else the list `[loss, …metrics]` in history-key order
 * (`res[1]` is the accuracy in the course's code), or an object with `returnDict: true`.
 *
 * Introduced in lesson 02 (LeNet-5 and MNIST).
 *
 * @example
 * ```ts
 * import * as cl from "convlab";
 * // const [loss, accuracy] = await cl.evaluate(model, xTest, yTest) as number[];
 * ```
 */
export async function evaluate(
  model: tf.LayersModel,
  x: Tensors | NumberArrays | BatchSource,
  y?: Tensors | NumberArrays | EvaluateOptions,
  options: EvaluateOptions = {},
): Promise<number | number[] | Logs> {
  const made: tf.Tensor[] = [];
  try {
    const ys = isNumberArray(y) ? asTensors(y, made) as Tensors : y as Tensors | EvaluateOptions;
    return await evaluateTensors(model, asTensors(x, made) as Tensors | BatchSource, ys, options);
  } finally {
    tf.dispose(made);
  }
}

/**
 * The model's outputs for inputs, computed batch by batch in inference mode (Dropout off,
 * BatchNormalization with moving statistics), as Keras's `model.predict`. Dispose the result.
 *
 * Introduced in lesson 02 (LeNet-5 and MNIST).
 *
 * @param model Any model (compiled or not).
 * @param x Input tensors, or a batch source of `{xs}` / `[xs, ys]` / tensors.
 * @returns One tensor per model output (a single tensor for one output).
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import * as cl from "convlab";
 * const model = cl.models.lenet5();
 * const probabilities = await cl.predict(model, tf.zeros([2, 28, 28, 1])) as tf.Tensor;
 * console.log(probabilities.shape); // [2, 10]
 * probabilities.dispose();
 * ```
 */
export async function predict(
  model: tf.LayersModel,
  x: Tensors | NumberArrays | BatchSource,
  options: PredictOptions = {},
): Promise<tf.Tensor | tf.Tensor[]> {
  const made: tf.Tensor[] = [];
  try {
    return await predictTensors(model, asTensors(x, made) as Tensors | BatchSource, options);
  } finally {
    tf.dispose(made);
  }
}
