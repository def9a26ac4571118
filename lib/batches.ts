/**
 * Data for `fit`, `evaluate` and `predict`: tensors, plain number arrays or batch sources, put in
 * the model's order of inputs and outputs, checked against the model's shapes with hints for the
 * usual mistakes, and fed to the backend one batch at a time.
 *
 * Introduced in lesson 02 (LeNet-5 and MNIST), with `lib/train.ts`.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import { kerasName } from "./summary.ts";
import type { RandomStream } from "./random.ts";

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
 * - an array of such batches;
 * - a function `(pass) => iterable or dataset`, called for every epoch (and every validation),
 *   e.g. `() => data.batches("train", {batchSize: 128})` for a `cl.datasets` loader.
 *
 * Tensors in the batches of an iterable, dataset or function belong to `fit`, which disposes them after use;
 * those of an array belong to the caller. A source that never ends (random augmentation) must say
 * how many batches make an epoch: a numeric `length` property (as Keras's `Sequence.__len__`) or
 * the `stepsPerEpoch` option.
 */
export type BatchSource<T = BatchElement> =
  | ((pass: number) => BatchSource<T> | Promise<BatchSource<T>>)
  | (DatasetLike<T | unknown> & { length?: number })
  | (Iterable<T> & { length?: number })
  | (AsyncIterable<T> & { length?: number });

/** A batch in the model's order of inputs and outputs; `owned` tensors are disposed after use. */
export interface Batch {
  xs: tf.Tensor[];
  ys: tf.Tensor[];
  size: number;
  owned: boolean;
}

/** A supply of batches for one pass (an epoch, or one evaluation). */
export interface BatchFeed {
  /** Batches in this pass, if known. */
  steps: number | null;
  /** Samples in this pass, if known. */
  samples: number | null;
  /** The next batch, or null at the end of the pass. */
  next(): Promise<Batch | null>;
  /** Give back what is held between passes. */
  close(): Promise<void>;
}

export type ModelIO = { keras: string; tfjs: string; shape: (number | null)[] }[];

export function modelInputs(model: tf.LayersModel): ModelIO {
  return model.inputs.map((input) => ({
    keras: kerasName(input.sourceLayer),
    tfjs: input.sourceLayer.name,
    shape: input.shape,
  }));
}

export function modelOutputs(model: tf.LayersModel): ModelIO {
  return model.outputs.map((output) => ({
    keras: kerasName(output.sourceLayer),
    tfjs: output.sourceLayer.name,
    shape: output.shape,
  }));
}

export function isTensorArray(value: unknown): value is tf.Tensor[] {
  return Array.isArray(value) && value.length > 0 && value.every((v) => v instanceof tf.Tensor);
}

export function isTensorRecord(value: unknown): value is Record<string, tf.Tensor> {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    !(value instanceof tf.Tensor) && Object.keys(value).length > 0 &&
    Object.values(value).every((v) => v instanceof tf.Tensor);
}

export function isTensors(value: unknown): value is Tensors {
  return value instanceof tf.Tensor || isTensorArray(value) || isTensorRecord(value);
}

/** Plain numbers as Keras takes NumPy arrays: nested arrays or a typed array. */
export type NumberArrays =
  | number[]
  | number[][]
  | number[][][]
  | number[][][][]
  | Float32Array
  | Int32Array
  | Uint8Array;

export function isNumberArray(value: unknown): value is NumberArrays {
  if (ArrayBuffer.isView(value)) return !(value instanceof DataView);
  let inner: unknown = value;
  while (Array.isArray(inner)) {
    if (inner.length === 0) return false;
    inner = inner[0];
  }
  return Array.isArray(value) && typeof inner === "number";
}

/** A plain array as a tensor (recorded in `made` for disposal); anything else as it is. */
export function asTensors(value: unknown, made: tf.Tensor[]): unknown {
  if (!isNumberArray(value)) return value;
  if (!ArrayBuffer.isView(value)) checkRectangular(value as unknown[], []);
  const tensor = tf.tensor(value as number[]);
  made.push(tensor);
  return tensor;
}

/** Nested arrays must be rectangular, with numbers at the bottom (tfjs does not check). */
export function checkRectangular(value: unknown[], at: number[]): number[] {
  const where = at.length ? ` at [${at.join("][")}]` : "";
  let inner: number[] | null = null;
  value.forEach((item, i) => {
    let shape: number[];
    if (Array.isArray(item)) shape = checkRectangular(item, [...at, i]);
    else if (typeof item === "number") shape = [];
    else {
      throw new TypeError(
        `Cannot use a plain array as a tensor: expected numbers, got ${typeof item}${where}`,
      );
    }
    if (inner === null) inner = shape;
    else if (inner.join() !== shape.join()) {
      throw new TypeError(
        `Cannot use a plain array as a tensor: entry [${[...at, i].join("][")}] has shape ` +
          `[${shape}] but entry [${[...at, 0].join("][")}] has [${inner}] (rows must be equal)`,
      );
    }
  });
  return [value.length, ...(inner ?? [])];
}

/** Put tensors in the model's order of inputs (or outputs). */
export function ordered(what: string, value: Tensors, io: ModelIO, action: string): tf.Tensor[] {
  const list = orderedTensors(what, value, io, action);
  if (list.some((t) => t.isDisposed)) {
    throw new TypeError(
      `Cannot ${action}: the ${what === "input" ? "x" : "y"} tensor has been disposed ` +
        "(dispose data only after training and testing with it)",
    );
  }
  return list;
}

function orderedTensors(what: string, value: Tensors, io: ModelIO, action: string): tf.Tensor[] {
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
export function checkInputs(xs: tf.Tensor[], io: ModelIO, action: string): void {
  xs.forEach((x, i) => {
    const expected = io[i].shape;
    const matches = x.rank === expected.length &&
      expected.every((d, j) => j === 0 || d === null || d === x.shape[j]);
    if (!matches) {
      const want = `[${expected.map((d) => d ?? "batch").join(", ")}]`;
      const oneSample = x.rank === expected.length - 1 &&
        expected.slice(1).every((d, j) => d === null || d === x.shape[j]);
      const hint = oneSample
        ? " (one sample? add the batch axis: x.expandDims(0))"
        : x.rank === expected.length - 1
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

export function sampleCount(tensors: tf.Tensor[], what: string, action: string): number {
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
export function standardise(
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

export function describe(value: unknown): string {
  if (value instanceof tf.Tensor) return `a tensor of shape [${value.shape}]`;
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (value === null || value === undefined) return String(value);
  return typeof value === "object"
    ? `an object with keys ${Object.keys(value).join(", ")}`
    : typeof value;
}

export function disposeBatch(batch: Batch): void {
  if (batch.owned) tf.dispose([...batch.xs, ...batch.ys]);
}

/** Batches from tensors, sample range [start, end), optionally shuffled. */
export function tensorFeed(
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

export type AnyIterator<T> = Iterator<T> | AsyncIterator<T> | {
  next(): Promise<IteratorResult<T>>;
};

export function isBatchSource(value: unknown): value is BatchSource {
  if (typeof value === "function") return true;
  if (typeof value !== "object" || value === null || value instanceof tf.Tensor) return false;
  const v = value as Record<string | symbol, unknown>;
  return typeof v.iterator === "function" || typeof v[Symbol.iterator] === "function" ||
    typeof v[Symbol.asyncIterator] === "function";
}

/**
 * Keeps one iterator over a batch source across passes: afresh per pass for re-iterable sources
 * (unless a fixed number of steps is asked for), continuing for one-shot iterators.
 */
export class SourceReader {
  readonly source: BatchSource;
  readonly oneShot: boolean;
  readonly owned: boolean;
  #iterator: AnyIterator<BatchElement> | null = null;
  #pass = 0;

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
    if (typeof this.source === "function") return null;
    const source = this.source as { length?: unknown; size?: unknown; iterator?: unknown };
    const length = source.length ??
      // tf.data datasets count their elements (batches, once batched) in `size`.
      (typeof source.iterator === "function" ? source.size : undefined);
    return typeof length === "number" && Number.isFinite(length) ? length : null;
  }

  async #open(): Promise<AnyIterator<BatchElement>> {
    let s = this.source as unknown as Record<string | symbol, unknown>;
    if (typeof this.source === "function") {
      const made = await (this.source as (pass: number) => unknown)(this.#pass++);
      if (!isBatchSource(made) || typeof made === "function") {
        throw new TypeError(
          `Cannot read batches: the batch source function must return an iterable or a tf.data ` +
            `dataset, got ${describe(made)}`,
        );
      }
      s = made as unknown as Record<string | symbol, unknown>;
    }
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
export function sourceFeed(
  reader: SourceReader,
  explicitSteps: number | null,
  inputs: ModelIO,
  outputs: ModelIO,
  action: string,
  needTargets: boolean,
  onExhausted: () => void,
  checkFirst: (batch: Batch) => Promise<void>,
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
      const batch = standardise(element, inputs, outputs, reader.owned, action, needTargets);
      if (taken === 1) {
        try {
          await checkFirst(batch);
        } catch (error) {
          disposeBatch(batch);
          throw error;
        }
      }
      return batch;
    },
    async close() {
      if (!continuing) await reader.end();
    },
  };
}

export function positiveInteger(name: string, value: unknown, action: string): number {
  if (!Number.isInteger(value) || (value as number) < 1) {
    throw new RangeError(`Cannot ${action}: ${name} must be a positive integer, got ${value}`);
  }
  return value as number;
}
