/**
 * Metrics with Keras's names and semantics (`cl.metrics`). A metric accumulates over an epoch on
 * the backend (no read-back per batch) and gives its value at the end, as Keras's stateful metrics
 * do: `accuracy` (chosen as binary, categorical or sparse from the shapes, as Keras does), `mse`,
 * `mae`, `MeanIoU` (segmentation classes, from a confusion matrix) and `BoxIoU` (bounding boxes).
 *
 * Introduced in lesson 02 (accuracy) and lesson 04 (IoU for classification + localisation).
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs";

/** A stateful metric: `update` per batch (tensor ops only), `result` at the end of an epoch. */
export interface Metric {
  /** The key in training logs and history, e.g. `accuracy`, `mean_io_u`. */
  readonly name: string;
  /** Forget what was accumulated. */
  reset(): void;
  /** Accumulate one batch. Must not read tensors back (keeps the backend busy). */
  update(yTrue: tf.Tensor, yPred: tf.Tensor): void;
  /** The value so far, as a new scalar tensor (the caller disposes it). */
  result(): tf.Scalar;
  /** A fresh metric of the same kind and settings (for a second model output). */
  clone(): Metric;
  /** Free the accumulated tensors. */
  dispose(): void;
}

/** A function giving one value per sample (or per pixel), averaged by {@linkcode MeanMetric}. */
export type MetricFn = (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor;

/** Replace an accumulator with `next`, keeping it out of any enclosing `tidy`. */
function swap(old: tf.Tensor | null, next: tf.Tensor): tf.Tensor {
  old?.dispose();
  return tf.keep(next);
}

/** The mean of a per-sample function over everything seen since `reset` (Keras's MeanMetricWrapper). */
export class MeanMetric implements Metric {
  readonly name: string;
  readonly fn: MetricFn;
  #sum: tf.Tensor | null = null;
  #count = 0;

  constructor(name: string, fn: MetricFn) {
    this.name = name;
    this.fn = fn;
  }

  reset(): void {
    this.#sum?.dispose();
    this.#sum = null;
    this.#count = 0;
  }

  update(yTrue: tf.Tensor, yPred: tf.Tensor): void {
    const values = tf.tidy(() => tf.cast(this.fn(yTrue, yPred), "float32"));
    this.#count += values.size;
    const total = tf.tidy(() => {
      const batchSum = tf.sum(values);
      return this.#sum ? tf.add(this.#sum, batchSum) : batchSum;
    });
    values.dispose();
    this.#sum = swap(this.#sum, total);
  }

  result(): tf.Scalar {
    return tf.tidy(() =>
      this.#sum && this.#count > 0 ? tf.div(this.#sum, this.#count) : tf.scalar(0)
    ) as tf.Scalar;
  }

  clone(): Metric {
    return new MeanMetric(this.name, this.fn);
  }

  dispose(): void {
    this.reset();
  }
}

/** 1 where the arg-max class of targets and predictions agree (one-hot targets). */
export function categoricalAccuracy(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.cast(tf.equal(tf.argMax(yTrue, -1), tf.argMax(yPred, -1)), "float32"));
}

/** 1 where the integer label equals the arg-max class of the prediction. */
export function sparseCategoricalAccuracy(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    let labels = yTrue;
    if (yTrue.rank === yPred.rank && yTrue.shape[yTrue.rank - 1] === 1) {
      labels = tf.squeeze(yTrue, [yTrue.rank - 1]);
    }
    return tf.cast(tf.equal(tf.cast(labels, "int32"), tf.argMax(yPred, -1)), "float32");
  });
}

/** Fraction of outputs on the right side of 0.5, per sample (Keras's `binary_accuracy`). */
export function binaryAccuracy(yTrue: tf.Tensor, yPred: tf.Tensor, threshold = 0.5): tf.Tensor {
  return tf.tidy(() => {
    const hit = tf.cast(
      tf.equal(tf.cast(yTrue, "float32"), tf.cast(tf.greater(yPred, threshold), "float32")),
      "float32",
    );
    return tf.mean(hit, -1);
  });
}

function meanLastAxis(t: tf.Tensor): tf.Tensor {
  return t.rank <= 1 ? t : tf.mean(t, -1);
}

/** Mean squared error per sample. */
export function meanSquaredError(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor {
  return tf.tidy(() => meanLastAxis(tf.squaredDifference(yPred, yTrue)));
}

/** Mean absolute error per sample. */
export function meanAbsoluteError(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor {
  return tf.tidy(() => meanLastAxis(tf.abs(tf.sub(yPred, yTrue))));
}

/**
 * Keras's `"accuracy"`: binary, sparse-categorical or categorical accuracy, chosen from the
 * shapes of the first batch exactly as Keras chooses (`binary` when the model has one output unit;
 * `sparse` when the targets are labels; otherwise `categorical`).
 */
export class Accuracy implements Metric {
  readonly name: string;
  #inner: MeanMetric | null = null;

  constructor(name = "accuracy") {
    this.name = name;
  }

  /** Which accuracy the shapes select, as Keras's `compile_utils` does. */
  static variantFor(yTrue: tf.Tensor, yPred: tf.Tensor): "binary" | "sparse" | "categorical" {
    const yPredLast = yPred.shape[yPred.rank - 1];
    const yTrueLast = yTrue.shape[yTrue.rank - 1];
    if (yPredLast === 1) return "binary";
    if (yTrue.rank < yPred.rank || (yTrueLast === 1 && yPredLast > 1)) return "sparse";
    return "categorical";
  }

  reset(): void {
    this.#inner?.reset();
  }

  update(yTrue: tf.Tensor, yPred: tf.Tensor): void {
    if (!this.#inner) {
      const variant = Accuracy.variantFor(yTrue, yPred);
      const fn = variant === "binary"
        ? (t: tf.Tensor, p: tf.Tensor) => binaryAccuracy(t, p)
        : variant === "sparse"
        ? sparseCategoricalAccuracy
        : categoricalAccuracy;
      this.#inner = new MeanMetric(this.name, fn);
    }
    this.#inner.update(yTrue, yPred);
  }

  result(): tf.Scalar {
    return this.#inner ? this.#inner.result() : tf.scalar(0);
  }

  clone(): Metric {
    return new Accuracy(this.name);
  }

  dispose(): void {
    this.#inner?.dispose();
  }
}

/** Options of {@linkcode MeanIoU}, as Keras's `tf.keras.metrics.MeanIoU`. */
export interface MeanIoUOptions {
  /** Number of classes (required). */
  numClasses: number;
  /** History key (default `mean_io_u`, Keras's). */
  name?: string;
  /** A class to leave out of the mean (e.g. "unlabelled"). */
  ignoreClass?: number;
  /** Targets are class indices (default true); false: one-hot/probabilities, arg-maxed. */
  sparseYTrue?: boolean;
  /**
   * Predictions are class indices (default true, as Keras); set false when the model outputs
   * probabilities (softmax): they are then arg-maxed.
   */
  sparseYPred?: boolean;
}

/**
 * Mean intersection-over-union over classes (Keras's `MeanIoU`): a confusion matrix accumulated
 * over the epoch, then `IoU_c = TP / (TP + FP + FN)` per class, averaged over the classes that
 * occur.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import * as cl from "convlab";
 * const iou = new cl.metrics.MeanIoU({ numClasses: 2 });
 * iou.update(tf.tensor1d([0, 0, 1, 1]), tf.tensor1d([0, 1, 0, 1]));
 * console.log(await iou.result().data()); // [0.3333…]
 * ```
 */
export class MeanIoU implements Metric {
  readonly name: string;
  readonly options: MeanIoUOptions;
  #matrix: tf.Tensor | null = null;

  constructor(options: MeanIoUOptions) {
    if (!Number.isInteger(options?.numClasses) || options.numClasses < 2) {
      throw new RangeError(
        `Cannot make MeanIoU: numClasses must be an integer ≥ 2, got ${options?.numClasses}`,
      );
    }
    this.options = { sparseYTrue: true, sparseYPred: true, ...options };
    this.name = options.name ?? "mean_io_u";
  }

  reset(): void {
    this.#matrix?.dispose();
    this.#matrix = null;
  }

  update(yTrue: tf.Tensor, yPred: tf.Tensor): void {
    const { numClasses, ignoreClass, sparseYTrue, sparseYPred } = this.options;
    const count = (t: tf.Tensor, sparse: boolean | undefined) =>
      sparse ? t.size : t.size / (t.shape[t.rank - 1] || 1);
    const labelCount = count(yTrue, sparseYTrue), predictedCount = count(yPred, sparseYPred);
    if (labelCount !== predictedCount) {
      const hint = sparseYPred && yPred.shape[yPred.rank - 1] === numClasses
        ? "; for probabilities (a softmax output) use new MeanIoU({numClasses, sparseYPred: false})"
        : sparseYTrue && yTrue.shape[yTrue.rank - 1] === numClasses
        ? "; for one-hot targets use new MeanIoU({numClasses, sparseYTrue: false})"
        : "";
      throw new RangeError(
        `MeanIoU: ${labelCount} true labels but ${predictedCount} predicted classes ` +
          `(shapes [${yTrue.shape}] and [${yPred.shape}])${hint}`,
      );
    }
    const next = tf.tidy(() => {
      const labels = tf.cast(tf.reshape(sparseYTrue ? yTrue : tf.argMax(yTrue, -1), [-1]), "int32");
      const predicted = tf.cast(
        tf.reshape(sparseYPred ? yPred : tf.argMax(yPred, -1), [-1]),
        "int32",
      );
      let weights = tf.ones(labels.shape, "float32");
      if (ignoreClass !== undefined) {
        weights = tf.cast(tf.notEqual(labels, ignoreClass), "float32");
      }
      // Confusion matrix as one-hot(labels)ᵀ · one-hot(predictions), rows = true class.
      const trueHot = tf.mul(tf.oneHot(labels, numClasses), tf.expandDims(weights, 1));
      const predHot = tf.oneHot(predicted, numClasses);
      const batch = tf.matMul(tf.cast(trueHot, "float32"), tf.cast(predHot, "float32"), true);
      return this.#matrix ? tf.add(this.#matrix, batch) : batch;
    });
    this.#matrix = swap(this.#matrix, next);
  }

  result(): tf.Scalar {
    return tf.tidy(() => {
      if (!this.#matrix) return tf.scalar(0);
      const m = this.#matrix;
      const truePositives = tf.sum(tf.mul(m, tf.eye(this.options.numClasses)), 1);
      const denominator = tf.sub(tf.add(tf.sum(m, 0), tf.sum(m, 1)), truePositives);
      const valid = tf.cast(tf.greater(denominator, 0), "float32");
      const iou = tf.div(truePositives, tf.maximum(denominator, 1e-12));
      const count = tf.sum(valid);
      return tf.where(
        tf.greater(count, 0),
        tf.div(tf.sum(tf.mul(iou, valid)), tf.maximum(count, 1)),
        tf.scalar(0),
      );
    }) as tf.Scalar;
  }

  clone(): Metric {
    return new MeanIoU(this.options);
  }

  dispose(): void {
    this.reset();
  }
}

/** How a box is written: corners `[y1, x1, y2, x2]` (tf.image), `[x1, y1, x2, y2]`, or centre+size. */
export type BoxFormat = "yxyx" | "xyxy" | "xywh" | "cxcywh";

const BOX_FORMATS: readonly BoxFormat[] = ["yxyx", "xyxy", "xywh", "cxcywh"];

/** Boxes `[…, 4]` as corner coordinates `[x1, y1, x2, y2]` (each a `[…]` tensor). */
function corners(
  boxes: tf.Tensor,
  format: BoxFormat,
): [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor] {
  const [a, b, c, d] = tf.unstack(boxes, -1);
  switch (format) {
    case "yxyx":
      return [b, a, d, c];
    case "xyxy":
      return [a, b, c, d];
    case "xywh":
      return [a, b, tf.add(a, c), tf.add(b, d)];
    case "cxcywh": {
      const halfW = tf.div(c, 2);
      const halfH = tf.div(d, 2);
      return [tf.sub(a, halfW), tf.sub(b, halfH), tf.add(a, halfW), tf.add(b, halfH)];
    }
  }
}

/**
 * Intersection over union of pairs of boxes: the area both cover divided by the area either
 * covers (0 when they do not overlap or both are empty).
 *
 * Introduced in lesson 04 (classification + localisation).
 *
 * @param a Boxes `[…, 4]`.
 * @param b Boxes `[…, 4]`, paired with `a`.
 * @param format How the four numbers are written (default `"yxyx"`, as `tf.image.cropAndResize`).
 * @returns IoU per pair, shape `[…]`.
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import * as cl from "convlab";
 * const iou = cl.metrics.boxIoU(tf.tensor2d([[0, 0, 2, 2]]), tf.tensor2d([[1, 1, 3, 3]]));
 * console.log(await iou.data()); // [0.142857…] = 1 / 7
 * ```
 */
export function boxIoU(a: tf.Tensor, b: tf.Tensor, format: BoxFormat = "yxyx"): tf.Tensor {
  if (!BOX_FORMATS.includes(format)) {
    throw new RangeError(`Unknown box format "${format}": use one of ${BOX_FORMATS.join(", ")}`);
  }
  if (a.shape[a.rank - 1] !== 4 || b.shape[b.rank - 1] !== 4) {
    throw new RangeError(
      `Cannot compute box IoU: boxes need 4 numbers in the last axis, got shapes ` +
        `[${a.shape}] and [${b.shape}]`,
    );
  }
  return tf.tidy(() => {
    const [ax1, ay1, ax2, ay2] = corners(tf.cast(a, "float32"), format);
    const [bx1, by1, bx2, by2] = corners(tf.cast(b, "float32"), format);
    const width = tf.relu(tf.sub(tf.minimum(ax2, bx2), tf.maximum(ax1, bx1)));
    const height = tf.relu(tf.sub(tf.minimum(ay2, by2), tf.maximum(ay1, by1)));
    const intersection = tf.mul(width, height);
    const area = (x1: tf.Tensor, y1: tf.Tensor, x2: tf.Tensor, y2: tf.Tensor) =>
      tf.mul(tf.relu(tf.sub(x2, x1)), tf.relu(tf.sub(y2, y1)));
    const union = tf.sub(tf.add(area(ax1, ay1, ax2, ay2), area(bx1, by1, bx2, by2)), intersection);
    return tf.where(
      tf.greater(union, 0),
      tf.div(intersection, tf.maximum(union, 1e-12)),
      tf.zerosLike(union),
    );
  });
}

/** Options of {@linkcode BoxIoU}. */
export interface BoxIoUOptions {
  /** How boxes are written (default `"yxyx"`). */
  format?: BoxFormat;
  /** History key (default `box_iou`). */
  name?: string;
}

/**
 * The mean IoU of predicted and true bounding boxes over an epoch: the metric of the course's
 * classification + localisation head (`compile({loss: [..., "mse"], metrics: [[...], [new
 * cl.metrics.BoxIoU()]]})`).
 */
export class BoxIoU extends MeanMetric {
  readonly format: BoxFormat;

  constructor(options: BoxIoUOptions = {}) {
    const format = options.format ?? "yxyx";
    super(options.name ?? "box_iou", (t, p) => boxIoU(t, p, format));
    this.format = format;
  }

  override clone(): Metric {
    return new BoxIoU({ format: this.format, name: this.name });
  }
}

const BY_NAME: Record<string, (name: string) => Metric> = {
  accuracy: (name) => new Accuracy(name),
  acc: (name) => new Accuracy(name),
  categorical_accuracy: (name) => new MeanMetric(name, categoricalAccuracy),
  sparse_categorical_accuracy: (name) => new MeanMetric(name, sparseCategoricalAccuracy),
  binary_accuracy: (name) => new MeanMetric(name, (t, p) => binaryAccuracy(t, p)),
  mse: (name) => new MeanMetric(name, meanSquaredError),
  mean_squared_error: (name) => new MeanMetric(name, meanSquaredError),
  mae: (name) => new MeanMetric(name, meanAbsoluteError),
  mean_absolute_error: (name) => new MeanMetric(name, meanAbsoluteError),
};

/** The metric names {@linkcode getMetric} accepts. */
export const METRIC_NAMES: readonly string[] = Object.keys(BY_NAME);

/** What `compile({metrics})` accepts for one metric. */
export type MetricSpec = string | Metric | MetricFn;

function isMetric(value: unknown): value is Metric {
  return typeof value === "object" && value !== null &&
    typeof (value as Metric).update === "function" &&
    typeof (value as Metric).result === "function";
}

/**
 * A metric from a Keras name (`"accuracy"`, `"acc"`, `"mse"`, …; the history key is the name as
 * written), a metric object, or a function `(yTrue, yPred) → per-sample values` (averaged; named
 * after the function).
 *
 * @example
 * ```ts
 * import * as cl from "convlab";
 * console.log(cl.metrics.getMetric("acc").name); // "acc"
 * ```
 */
export function getMetric(spec: MetricSpec): Metric {
  if (isMetric(spec)) return spec;
  if (typeof spec === "function") return new MeanMetric(spec.name || "metric", spec);
  const key = String(spec).replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase();
  const make = BY_NAME[key];
  if (!make) {
    throw new RangeError(
      `Unknown metric "${spec}": use one of ${METRIC_NAMES.join(", ")}, a cl.metrics object ` +
        "(MeanIoU, BoxIoU) or a function (yTrue, yPred) => per-sample values",
    );
  }
  return make(String(spec));
}
