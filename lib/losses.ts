/**
 * Loss functions with Keras's names and formulas (`cl.losses`): each maps targets and predictions
 * to one loss per sample; training averages them over the batch, as Keras's default reduction.
 *
 * Introduced in lesson 02 (cross-entropy) and lesson 03 (focal loss for class imbalance).
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs";

/** Keras's fuzz factor `epsilon()`: predictions are clipped to `[1e-7, 1 - 1e-7]` before logs. */
export const EPSILON = 1e-7;

/** How a configurable loss is saved with a model (Keras's class name and its options). */
export interface LossConfig {
  className: string;
  options: Record<string, unknown>;
}

/** A loss: `(yTrue, yPred) → per-sample losses` (shape `[batch]`), with the name Keras gives it. */
export interface Loss {
  /** Keras's name, e.g. `categorical_crossentropy`. */
  readonly name: string;
  /** For losses with options (focal, Huber): how to make the same loss again after loading. */
  readonly config?: LossConfig;
  /** Per-sample losses. */
  (yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor;
}

function named(
  name: string,
  fn: (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor,
  config?: LossConfig,
): Loss {
  Object.defineProperty(fn, "name", { value: name });
  if (config) Object.defineProperty(fn, "config", { value: config, enumerable: true });
  return fn as Loss;
}

/** Mean over every axis but the batch axis (Keras averages losses over the last axis). */
function meanPerSample(t: tf.Tensor): tf.Tensor {
  if (t.rank <= 1) return t;
  return tf.mean(t, [...Array(t.rank - 1).keys()].map((i) => i + 1));
}

/**
 * Clip to `[ε, 1 − ε]`, keeping NaN as NaN (tfjs's wasm clip turns NaN into ε, which would show a
 * diverged model as a finite loss of 16.1181 and keep TerminateOnNaN from seeing it).
 */
function clip(p: tf.Tensor): tf.Tensor {
  return tf.add(tf.clipByValue(p, EPSILON, 1 - EPSILON), tf.mul(p, 0));
}

/**
 * Categorical cross-entropy `-Σ y·log(p)` for one-hot targets (Keras normalises the predictions
 * to sum 1 and clips them to `[ε, 1-ε]`).
 */
export const categoricalCrossentropy: Loss = named(
  "categorical_crossentropy",
  (yTrue, yPred) =>
    tf.tidy(() => {
      const p = clip(tf.div(yPred, tf.sum(yPred, -1, true)));
      return meanPerSample(tf.neg(tf.sum(tf.mul(yTrue, tf.log(p)), -1)));
    }),
);

/** The class index of each sample, from targets shaped `[batch]` or `[batch, …, 1]`. */
function labelsOf(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor {
  let labels = yTrue;
  if (yTrue.rank === yPred.rank && yTrue.shape[yTrue.rank - 1] === 1) {
    labels = tf.squeeze(yTrue, [yTrue.rank - 1]);
  }
  return tf.cast(labels, "int32");
}

/** Sparse categorical cross-entropy: like categorical, with integer class labels as targets. */
export const sparseCategoricalCrossentropy: Loss = named(
  "sparse_categorical_crossentropy",
  (yTrue, yPred) =>
    tf.tidy(() => {
      const classes = yPred.shape[yPred.rank - 1];
      const oneHot = tf.oneHot(tf.reshape(labelsOf(yTrue, yPred), [-1]), classes);
      const p = clip(tf.div(yPred, tf.sum(yPred, -1, true)));
      const logLoss = tf.neg(tf.sum(tf.mul(oneHot, tf.log(tf.reshape(p, [-1, classes]))), -1));
      return meanPerSample(tf.reshape(logLoss, yPred.shape.slice(0, -1)));
    }),
);

/** Binary cross-entropy `-(y·log p + (1-y)·log(1-p))`, averaged over the last axis. */
export const binaryCrossentropy: Loss = named(
  "binary_crossentropy",
  (yTrue, yPred) =>
    tf.tidy(() => {
      const p = clip(yPred);
      const y = tf.cast(yTrue, "float32");
      const bce = tf.neg(
        tf.add(tf.mul(y, tf.log(p)), tf.mul(tf.sub(1, y), tf.log(tf.sub(1, p)))),
      );
      return meanPerSample(bce);
    }),
);

/** Mean squared error over the last axis (Keras's `mse`). */
export const meanSquaredError: Loss = named(
  "mean_squared_error",
  (yTrue, yPred) => tf.tidy(() => meanPerSample(tf.squaredDifference(yPred, yTrue))),
);

/** Mean absolute error over the last axis (Keras's `mae`). */
export const meanAbsoluteError: Loss = named(
  "mean_absolute_error",
  (yTrue, yPred) => tf.tidy(() => meanPerSample(tf.abs(tf.sub(yPred, yTrue)))),
);

/** Huber loss with Keras's default `delta = 1`. */
export function huber(delta = 1.0): Loss {
  return named(
    "huber_loss",
    (yTrue, yPred) =>
      tf.tidy(() => {
        const error = tf.abs(tf.sub(yPred, yTrue));
        const quadratic = tf.minimum(error, delta);
        const linear = tf.sub(error, quadratic);
        return meanPerSample(tf.add(tf.mul(0.5, tf.square(quadratic)), tf.mul(delta, linear)));
      }),
    { className: "Huber", options: { delta } },
  );
}

/** Options of the focal losses (Lin et al. 2017, "Focal Loss for Dense Object Detection"). */
export interface FocalOptions {
  /** Focusing parameter γ: the larger, the less well-classified samples count. Default 2. */
  gamma?: number;
  /** Class-balancing weight α (default 0.25, as Keras). */
  alpha?: number;
  /**
   * Binary focal loss only: weigh positives by α and negatives by 1-α (Keras's
   * `apply_class_balancing`, default false as in Keras).
   */
  applyClassBalancing?: boolean;
}

function checkFocal(options: FocalOptions): { gamma: number; alpha: number } {
  const { gamma = 2.0, alpha = 0.25 } = options;
  if (!(gamma >= 0)) {
    throw new RangeError(`Cannot make focal loss: gamma must be ≥ 0, got ${gamma}`);
  }
  if (!(alpha >= 0 && alpha <= 1)) {
    throw new RangeError(`Cannot make focal loss: alpha must be in [0, 1], got ${alpha}`);
  }
  return { gamma, alpha };
}

/**
 * Binary focal cross-entropy (Keras's `BinaryFocalCrossentropy`): binary cross-entropy scaled
 * by `(1 - p_t)^γ`, so that easy, well-classified samples count less — for heavy class imbalance.
 *
 * @example
 * ```ts
 * import * as cl from "convlab";
 * const loss = cl.losses.binaryFocalCrossentropy({ gamma: 2 });
 * console.log(loss.name); // "binary_focal_crossentropy"
 * ```
 */
export function binaryFocalCrossentropy(options: FocalOptions = {}): Loss {
  const { gamma, alpha } = checkFocal(options);
  return named("binary_focal_crossentropy", (yTrue, yPred) =>
    tf.tidy(() => {
      const p = clip(yPred);
      const y = tf.cast(yTrue, "float32");
      const bce = tf.neg(
        tf.add(tf.mul(y, tf.log(p)), tf.mul(tf.sub(1, y), tf.log(tf.sub(1, p)))),
      );
      const pT = tf.add(tf.mul(y, p), tf.mul(tf.sub(1, y), tf.sub(1, p)));
      let focal = tf.mul(tf.pow(tf.sub(1, pT), gamma), bce);
      if (options.applyClassBalancing) {
        focal = tf.mul(focal, tf.add(tf.mul(y, alpha), tf.mul(tf.sub(1, y), 1 - alpha)));
      }
      return meanPerSample(focal);
    }), {
    className: "BinaryFocalCrossentropy",
    options: { gamma, alpha, applyClassBalancing: options.applyClassBalancing ?? false },
  });
}

/**
 * Categorical focal cross-entropy (Keras's `CategoricalFocalCrossentropy`): `-α (1-p)^γ y log p`
 * summed over classes, for one-hot targets.
 *
 * @example
 * ```ts
 * import * as cl from "convlab";
 * cl.compile(cl.models.cifarCnn(), { loss: cl.losses.categoricalFocalCrossentropy() });
 * ```
 */
export function categoricalFocalCrossentropy(options: FocalOptions = {}): Loss {
  const { gamma, alpha } = checkFocal(options);
  return named("categorical_focal_crossentropy", (yTrue, yPred) =>
    tf.tidy(() => {
      const p = clip(tf.div(yPred, tf.sum(yPred, -1, true)));
      const ce = tf.neg(tf.mul(yTrue, tf.log(p)));
      const weight = tf.mul(alpha, tf.pow(tf.sub(1, p), gamma));
      return meanPerSample(tf.sum(tf.mul(weight, ce), -1));
    }), { className: "CategoricalFocalCrossentropy", options: { gamma, alpha } });
}

const BY_NAME: Record<string, () => Loss> = {
  categorical_crossentropy: () => categoricalCrossentropy,
  sparse_categorical_crossentropy: () => sparseCategoricalCrossentropy,
  binary_crossentropy: () => binaryCrossentropy,
  mean_squared_error: () => meanSquaredError,
  mse: () => meanSquaredError,
  mean_absolute_error: () => meanAbsoluteError,
  mae: () => meanAbsoluteError,
  huber: () => huber(),
  huber_loss: () => huber(),
  binary_focal_crossentropy: () => binaryFocalCrossentropy(),
  categorical_focal_crossentropy: () => categoricalFocalCrossentropy(),
};

/** The Keras names `getLoss` accepts (tfjs's camelCase spellings are accepted too). */
export const LOSS_NAMES: readonly string[] = Object.keys(BY_NAME);

/** `categoricalCrossentropy` → `categorical_crossentropy`; Keras names pass through. */
function normaliseName(name: string): string {
  return name.replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase();
}

/**
 * The loss for a Keras name (`"categorical_crossentropy"`, `"mse"`, …), tfjs's camelCase name
 * (`"categoricalCrossentropy"`) or a function `(yTrue, yPred) → per-sample losses`.
 *
 * @example
 * ```ts
 * import * as cl from "convlab";
 * console.log(cl.losses.getLoss("mse").name); // "mean_squared_error"
 * ```
 */
export function getLoss(spec: string | ((yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor)): Loss {
  if (typeof spec === "function") {
    return (spec.name ? spec : named("loss", spec)) as Loss;
  }
  const make = BY_NAME[normaliseName(String(spec))];
  if (!make) {
    throw new RangeError(
      `Unknown loss "${spec}": use one of ${LOSS_NAMES.join(", ")}, or a function ` +
        "(yTrue, yPred) => per-sample losses",
    );
  }
  return make();
}

/** The loss a saved {@linkcode LossConfig} describes (`loadModel` recompiles with it). */
export function lossFromConfig(config: LossConfig): Loss {
  const options = config?.options ?? {};
  switch (config?.className) {
    case "Huber":
      return huber(options.delta as number | undefined);
    case "BinaryFocalCrossentropy":
      return binaryFocalCrossentropy(options as FocalOptions);
    case "CategoricalFocalCrossentropy":
      return categoricalFocalCrossentropy(options as FocalOptions);
    default:
      throw new RangeError(`Unknown saved loss ${JSON.stringify(config?.className)}`);
  }
}
