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
import { Callback, History, LambdaCallback, type Logs } from "./callbacks.ts";
import { type Compiled, compiledState } from "./compile.ts";
import "./determinism.ts";
import { markFrozen } from "./freeze.ts";
import { inNotebook } from "./display.ts";
import { makeProgress } from "./progress.ts";
import { currentSeed, nextSeed, type RandomStream, randomStream } from "./random.ts";
import { kerasName } from "./summary.ts";

/** Model inputs or targets: one tensor, one per model input/output, or an object by name. */
export type Tensors = tf.Tensor | tf.Tensor[] | Record<string, tf.Tensor>;

/** One batch from a batch source: `{xs, ys}` (tfjs's `fitDataset` shape) or `[xs, ys]` (Keras's). */
export type BatchElement = { xs: Tensors; ys: Tensors } | [Tensors, Tensors];

/** A tf.data-style dataset: `iterator()` gives batches (tfjs's `tf.data.Dataset`). */
export interface DatasetLike<T> {
  iterator(): Promise<{ next(): Promise<IteratorResult<T>> }>;
}

/**
 * Where `fit`, `evaluate` and `predict` can take batches from, instead of tensors:
 *
 * - a `tf.data.Dataset` of `{xs, ys}` (as for tfjs's `fitDataset`), iterated afresh each epoch;
 * - an iterable or async iterable of `{xs, ys}` or `[xs, ys]` batches — e.g. the lib's
 *   `ImageDataGenerator.flow(x, y)`; a re-iterable one (whose `[Symbol.(async)iterator]()` returns
 *   a new iterator) is iterated afresh each epoch, a one-shot iterator (a generator object)
 *   continues where it left off;
 * - an array of such batches.
 *
 * Tensors in the batches of an iterable or dataset belong to `fit`, which disposes them after use;
 * those of an array belong to the caller. A source that never ends (random augmentation) must say
 * how many batches make an epoch: a numeric `length` property (as Keras's `Sequence.__len__`) or
 * the `stepsPerEpoch` option.
 */
export type BatchSource<T = BatchElement> =
  | (DatasetLike<T | unknown> & { length?: number })
  | (Iterable<T> & { length?: number })
  | (AsyncIterable<T> & { length?: number });

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
  /** Validation data: `[xVal, yVal]` tensors, or a batch source. */
  validationData?: [Tensors, Tensors] | BatchSource;
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

/** A batch in the model's order of inputs and outputs; `owned` tensors are disposed after use. */
interface Batch {
  xs: tf.Tensor[];
  ys: tf.Tensor[];
  size: number;
  owned: boolean;
}

/** A supply of batches for one pass (an epoch, or one evaluation). */
interface BatchFeed {
  /** Batches in this pass, if known. */
  steps: number | null;
  /** Samples in this pass, if known. */
  samples: number | null;
  /** The next batch, or null at the end of the pass. */
  next(): Promise<Batch | null>;
  /** Give back what is held between passes. */
  close(): Promise<void>;
}

type ModelIO = { keras: string; tfjs: string; shape: (number | null)[] }[];

function modelInputs(model: tf.LayersModel): ModelIO {
  return model.inputs.map((input) => ({
    keras: kerasName(input.sourceLayer),
    tfjs: input.sourceLayer.name,
    shape: input.shape,
  }));
}

function modelOutputs(model: tf.LayersModel): ModelIO {
  return model.outputs.map((output) => ({
    keras: kerasName(output.sourceLayer),
    tfjs: output.sourceLayer.name,
    shape: output.shape,
  }));
}

function isTensorArray(value: unknown): value is tf.Tensor[] {
  return Array.isArray(value) && value.length > 0 && value.every((v) => v instanceof tf.Tensor);
}

function isTensorRecord(value: unknown): value is Record<string, tf.Tensor> {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    !(value instanceof tf.Tensor) && Object.keys(value).length > 0 &&
    Object.values(value).every((v) => v instanceof tf.Tensor);
}

function isTensors(value: unknown): value is Tensors {
  return value instanceof tf.Tensor || isTensorArray(value) || isTensorRecord(value);
}

/** Put tensors in the model's order of inputs (or outputs). */
function ordered(what: string, value: Tensors, io: ModelIO, action: string): tf.Tensor[] {
  if (value instanceof tf.Tensor) {
    if (io.length !== 1) {
      throw new RangeError(
        `Cannot ${action}: the model has ${io.length} ${what}s (${
          io.map((i) => i.keras).join(", ")
        }); pass a list or an object by name`,
      );
    }
    return [value];
  }
  if (Array.isArray(value)) {
    if (value.length !== io.length) {
      throw new RangeError(
        `Cannot ${action}: got ${value.length} ${what} tensors for ${io.length} model ${what}s`,
      );
    }
    return value;
  }
  return io.map((item) => {
    const t = value[item.keras] ?? value[item.tfjs];
    if (!t) {
      throw new RangeError(
        `Cannot ${action}: no ${what} named "${item.keras}" among ${Object.keys(value).join(", ")}`,
      );
    }
    return t;
  });
}

/** Check input tensors against the model's input shapes, with a hint for the common mistakes. */
function checkInputs(xs: tf.Tensor[], io: ModelIO, action: string): void {
  xs.forEach((x, i) => {
    const expected = io[i].shape;
    const matches = x.rank === expected.length &&
      expected.every((d, j) => j === 0 || d === null || d === x.shape[j]);
    if (!matches) {
      const want = `[${expected.map((d) => d ?? "batch").join(", ")}]`;
      const hint = x.rank === expected.length - 1
        ? ` (add the channel axis: x.reshape([${
          [-1, ...expected.slice(1)].join(", ")
        }]) or x.expandDims(-1))`
        : "";
      throw new RangeError(
        `Cannot ${action}: model input "${io[i].keras}" expects shape ${want}, got ` +
          `[${x.shape.join(", ")}]${hint}`,
      );
    }
  });
}

function sampleCount(tensors: tf.Tensor[], what: string, action: string): number {
  const n = tensors[0].shape[0];
  for (const t of tensors) {
    if (t.shape[0] !== n) {
      throw new RangeError(
        `Cannot ${action}: all ${what} must have the same number of samples, got ` +
          tensors.map((x) => x.shape[0]).join(" and "),
      );
    }
  }
  return n;
}

/** Standardise a batch from a source into the model's order. */
function standardise(
  element: BatchElement,
  inputs: ModelIO,
  outputs: ModelIO,
  owned: boolean,
  action: string,
  needTargets: boolean,
): Batch {
  let xsRaw: unknown;
  let ysRaw: unknown;
  if (Array.isArray(element) && element.length === 2 && !isTensorArray(element)) {
    [xsRaw, ysRaw] = element;
  } else if (
    isTensorArray(element) && element.length === 2 && (needTargets || inputs.length !== 2)
  ) {
    [xsRaw, ysRaw] = element;
  } else if (typeof element === "object" && element !== null && "xs" in element) {
    xsRaw = (element as { xs: unknown }).xs;
    ysRaw = (element as { ys?: unknown }).ys;
  } else if (!needTargets && isTensors(element)) {
    xsRaw = element;
  } else {
    throw new TypeError(
      `Cannot ${action}: a batch source must give {xs, ys} objects or [xs, ys] pairs, got ` +
        describe(element),
    );
  }
  if (!isTensors(xsRaw)) {
    throw new TypeError(`Cannot ${action}: a batch's xs must be tensors, got ${describe(xsRaw)}`);
  }
  const xs = ordered("input", xsRaw, inputs, action);
  let ys: tf.Tensor[] = [];
  if (needTargets) {
    if (!isTensors(ysRaw)) {
      throw new TypeError(`Cannot ${action}: a batch's ys must be tensors, got ${describe(ysRaw)}`);
    }
    ys = ordered("output", ysRaw, outputs, action);
  }
  return { xs, ys, size: xs[0].shape[0], owned };
}

function describe(value: unknown): string {
  if (value instanceof tf.Tensor) return `a tensor of shape [${value.shape}]`;
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (value === null || value === undefined) return String(value);
  return typeof value === "object"
    ? `an object with keys ${Object.keys(value).join(", ")}`
    : typeof value;
}

function disposeBatch(batch: Batch): void {
  if (batch.owned) tf.dispose([...batch.xs, ...batch.ys]);
}

/** Batches from tensors, sample range [start, end), optionally shuffled. */
function tensorFeed(
  xs: tf.Tensor[],
  ys: tf.Tensor[],
  start: number,
  end: number,
  batchSize: number,
  rng: RandomStream | null,
): BatchFeed {
  const count = end - start;
  const order = Array.from({ length: count }, (_, i) => start + i);
  if (rng) rng.shuffle(order);
  let position = 0;
  return {
    steps: Math.ceil(count / batchSize),
    samples: count,
    next() {
      if (position >= count) return Promise.resolve(null);
      const size = Math.min(batchSize, count - position);
      const from = position;
      position += size;
      const pick = (t: tf.Tensor) => {
        if (!rng) return tf.slice(t, start + from, size);
        return tf.tidy(() =>
          tf.gather(t, tf.tensor1d(Int32Array.from(order.slice(from, from + size)), "int32"))
        );
      };
      return Promise.resolve({ xs: xs.map(pick), ys: ys.map(pick), size, owned: true });
    },
    close: () => Promise.resolve(),
  };
}

type AnyIterator<T> = Iterator<T> | AsyncIterator<T> | { next(): Promise<IteratorResult<T>> };

function isBatchSource(value: unknown): value is BatchSource {
  if (typeof value !== "object" || value === null || value instanceof tf.Tensor) return false;
  const v = value as Record<string | symbol, unknown>;
  return typeof v.iterator === "function" || typeof v[Symbol.iterator] === "function" ||
    typeof v[Symbol.asyncIterator] === "function";
}

/**
 * Keeps one iterator over a batch source across passes: afresh per pass for re-iterable sources
 * (unless a fixed number of steps is asked for), continuing for one-shot iterators.
 */
class SourceReader {
  readonly source: BatchSource;
  readonly oneShot: boolean;
  readonly owned: boolean;
  #iterator: AnyIterator<BatchElement> | null = null;

  constructor(source: BatchSource) {
    this.source = source;
    this.owned = !Array.isArray(source);
    const s = source as unknown as Record<symbol, () => unknown>;
    const iter = s[Symbol.asyncIterator] ?? s[Symbol.iterator];
    this.oneShot = typeof iter === "function" &&
      typeof (source as { next?: unknown }).next === "function" &&
      iter.call(source) === source;
  }

  /** The source's own count of batches per pass, if it has one. */
  get length(): number | null {
    const source = this.source as { length?: unknown; size?: unknown; iterator?: unknown };
    const length = source.length ??
      // tf.data datasets count their elements (batches, once batched) in `size`.
      (typeof source.iterator === "function" ? source.size : undefined);
    return typeof length === "number" && Number.isFinite(length) ? length : null;
  }

  async #open(): Promise<AnyIterator<BatchElement>> {
    const s = this.source as unknown as Record<string | symbol, unknown>;
    if (typeof s[Symbol.asyncIterator] === "function") {
      return (s[Symbol.asyncIterator] as () => AsyncIterator<BatchElement>).call(s);
    }
    if (typeof s[Symbol.iterator] === "function") {
      return (s[Symbol.iterator] as () => Iterator<BatchElement>).call(s);
    }
    return await (s.iterator as () => Promise<AnyIterator<BatchElement>>).call(s);
  }

  /** Start a pass; `continuing` keeps the current iterator when there is one. */
  async begin(continuing: boolean): Promise<void> {
    if (this.#iterator && (continuing || this.oneShot)) return;
    await this.end();
    this.#iterator = await this.#open();
  }

  /** The next element, or null when the iterator is exhausted. */
  async next(): Promise<BatchElement | null> {
    if (!this.#iterator) this.#iterator = await this.#open();
    const result = await this.#iterator.next();
    if (result.done) {
      this.#iterator = null;
      return null;
    }
    return result.value;
  }

  /** Whether a new pass can start after exhaustion. */
  get restartable(): boolean {
    return !this.oneShot;
  }

  async end(): Promise<void> {
    const it = this.#iterator as { return?: () => unknown } | null;
    this.#iterator = null;
    if (it && typeof it.return === "function" && !this.oneShot) await it.return();
  }
}

/**
 * A feed over a batch source. With `stepsPerEpoch` given (`continuing`), one iterator runs on
 * across passes (restarted if a re-iterable source ends); otherwise each pass gets a fresh
 * iterator and ends after the source's `length` batches, or when the source ends.
 */
function sourceFeed(
  reader: SourceReader,
  explicitSteps: number | null,
  inputs: ModelIO,
  outputs: ModelIO,
  action: string,
  needTargets: boolean,
  onExhausted: () => void,
): BatchFeed {
  let taken = 0;
  let started = false;
  const continuing = explicitSteps !== null;
  const steps = explicitSteps ?? reader.length;
  return {
    steps,
    samples: null,
    async next() {
      if (!started) {
        await reader.begin(continuing);
        started = true;
      }
      if (steps !== null && taken >= steps) return null;
      let element = await reader.next();
      if (element === null && continuing && reader.restartable) {
        // A fixed number of steps over a finite re-iterable source: start it again.
        await reader.begin(false);
        element = await reader.next();
      }
      if (element === null) {
        if (continuing && taken < steps!) onExhausted();
        return null;
      }
      taken++;
      return standardise(element, inputs, outputs, reader.owned, action, needTargets);
    },
    async close() {
      if (!continuing) await reader.end();
    },
  };
}

function positiveInteger(name: string, value: unknown, action: string): number {
  if (!Number.isInteger(value) || (value as number) < 1) {
    throw new RangeError(`Cannot ${action}: ${name} must be a positive integer, got ${value}`);
  }
  return value as number;
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
        const [lo, hi] = await tf.tidy(() => tf.stack([tf.min(y), tf.max(y)])).data()
          .then((d) => [d[0], d[1]]);
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
    const values: tf.Tensor[] = [];
    const many = this.compiled.outputs.length > 1;
    const mean = (sum: tf.Tensor | null) =>
      sum && this.samples > 0 ? tf.div(sum, this.samples) : tf.scalar(NaN);
    tf.tidy(() => {
      keys.push("loss");
      values.push(mean(this.#total));
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
      values.splice(0, values.length, tf.keep(tf.stack(values.map((v) => tf.reshape(v, [])))));
    });
    const data = await values[0].data();
    values[0].dispose();
    return Object.fromEntries(keys.map((k, i) => [prefix + k, data[i]]));
  }

  dispose(): void {
    this.#total?.dispose();
    this.#perOutput.forEach((t) => t?.dispose());
    this.#total = null;
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
  const total = variables.length > 0
    ? compiled.optimizer.minimize(lossFn, true, variables)!
    : tf.tidy(lossFn);
  return { total, perOutput, preds };
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
          preds = (Array.isArray(out) ? out : [out]).map((p) => tf.keep(p));
          const losses = batchLosses(model, compiled, batch!.ys, preds, null);
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

/** Let timers, I/O and display updates run (tfjs ops on cpu/wasm are synchronous). */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

function requireCompiled(model: tf.LayersModel, action: string): Compiled {
  if (!(model instanceof tf.LayersModel)) {
    throw new TypeError(`Cannot ${action}: expected a tf.LayersModel (tf.sequential or tf.model)`);
  }
  const compiled = compiledState(model);
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

function checkFitOptions(options: FitOptions): void {
  const known = new Set([
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
  ]);
  for (const key of Object.keys(options)) {
    if (!known.has(key)) {
      const snake = key.includes("_")
        ? ` (options are camelCase: ${key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())})`
        : "";
      throw new RangeError(`Cannot fit: unknown option "${key}"${snake}`);
    }
  }
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
  checkFitOptions(options);
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
    makeTrainFeed = () => sourceFeed(reader, steps, inputs, outputs, action, true, exhausted);
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
    } else if (isBatchSource(validationData)) {
      const reader = new SourceReader(validationData);
      readers.push(reader);
      const steps = options.validationSteps !== undefined
        ? positiveInteger("validationSteps", options.validationSteps, action)
        : null;
      makeValFeed = () => sourceFeed(reader, steps, inputs, outputs, action, true, () => {});
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
  x: Tensors | BatchSource,
  y?: Tensors | EvaluateOptions,
  options: EvaluateOptions = {},
): Promise<number | number[] | Logs> {
  const action = "evaluate";
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
    reader = new SourceReader(x);
    const steps = options.steps !== undefined
      ? positiveInteger("steps", options.steps, action)
      : null;
    feed = sourceFeed(reader, steps, inputs, outputs, action, true, () => {});
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
  x: Tensors | BatchSource,
  options: PredictOptions = {},
): Promise<tf.Tensor | tf.Tensor[]> {
  const action = "predict";
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
    const steps = options.steps !== undefined
      ? positiveInteger("steps", options.steps, action)
      : null;
    reader = new SourceReader(x);
    feed = sourceFeed(reader, steps, inputs, outputs, action, false, () => {});
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
