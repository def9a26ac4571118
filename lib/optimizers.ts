/**
 * Optimizers with Keras's names and defaults (`cl.optimizers`). tfjs's constructors have no
 * defaults for the learning rate and take ε from the backend; these give Keras's values:
 *
 * | optimizer | Keras defaults |
 * |---|---|
 * | `SGD` | learningRate 0.01, momentum 0, nesterov false |
 * | `RMSprop` | learningRate 0.001, rho 0.9, momentum 0, epsilon 1e-7, centered false |
 * | `Adam` | learningRate 0.001, beta1 0.9, beta2 0.999, epsilon 1e-7 |
 * | `Adagrad` | learningRate 0.001, initialAccumulatorValue 0.1, epsilon 1e-7 (backend's) |
 * | `Adamax` | learningRate 0.001, beta1 0.9, beta2 0.999, epsilon 1e-7 |
 * | `Adadelta` | learningRate 0.001, rho 0.95, epsilon 1e-7 |
 *
 * The update rules are tfjs's, which match Keras's (momentum in tfjs accumulates gradients and
 * Keras accumulates velocities: the same steps for a constant learning rate).
 *
 * Introduced in lesson 03 (comparing SGD, momentum, RMSprop and Adam).
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs";

/** Options every optimizer takes. */
interface LearningRate {
  /** Step size. */
  learningRate?: number;
  /** Keras 2's old spelling of `learningRate` (the course writes `RMSprop(lr=2e-5)`). */
  lr?: number;
}

function learningRate(name: string, options: LearningRate, fallback: number): number {
  const lr = options.learningRate ?? options.lr ?? fallback;
  if (!(typeof lr === "number" && lr > 0 && Number.isFinite(lr))) {
    throw new RangeError(`Cannot make ${name}: learningRate must be a positive number, got ${lr}`);
  }
  return lr;
}

function inUnitInterval(name: string, option: string, value: number): number {
  if (!(value >= 0 && value < 1)) {
    throw new RangeError(`Cannot make ${name}: ${option} must be in [0, 1), got ${value}`);
  }
  return value;
}

/** Options of {@linkcode SGD}. */
export interface SGDOptions extends LearningRate {
  /** Momentum α (default 0: plain gradient descent). */
  momentum?: number;
  /** Nesterov momentum (default false). */
  nesterov?: boolean;
}

/**
 * Stochastic gradient descent, optionally with (Nesterov) momentum — Keras's `SGD`.
 *
 * @example
 * ```ts
 * import * as cl from "convlab";
 * const opt = cl.optimizers.SGD({ learningRate: 0.01, momentum: 0.9, nesterov: true });
 * ```
 */
export function SGD(options: SGDOptions = {}): tf.Optimizer {
  const lr = learningRate("SGD", options, 0.01);
  const momentum = inUnitInterval("SGD", "momentum", options.momentum ?? 0);
  if (momentum === 0 && !options.nesterov) return tf.train.sgd(lr);
  return tf.train.momentum(lr, momentum, options.nesterov ?? false);
}

/** Options of {@linkcode RMSprop}. */
export interface RMSpropOptions extends LearningRate {
  /** Decay of the moving average of squared gradients (default 0.9). */
  rho?: number;
  /** Momentum (default 0). */
  momentum?: number;
  /** Fuzz factor (default 1e-7). */
  epsilon?: number;
  /** Divide by the gradient's variance rather than its second moment (default false). */
  centered?: boolean;
}

/**
 * RMSprop — Keras's `RMSprop`.
 *
 * @example
 * ```ts
 * import * as cl from "convlab";
 * const opt = cl.optimizers.RMSprop({ lr: 2e-5 });
 * ```
 */
export function RMSprop(options: RMSpropOptions = {}): tf.Optimizer {
  const lr = learningRate("RMSprop", options, 0.001);
  const rho = inUnitInterval("RMSprop", "rho", options.rho ?? 0.9);
  const momentum = inUnitInterval("RMSprop", "momentum", options.momentum ?? 0);
  const epsilon = options.epsilon ?? 1e-7;
  // tfjs 4.22's centered branch computes sqrt(ms - mg² - ε) where Keras has sqrt(ms - mg² + ε);
  // passing -ε gives Keras's update (and avoids the square root of a negative number).
  const centered = options.centered ?? false;
  return tf.train.rmsprop(lr, rho, momentum, centered ? -epsilon : epsilon, centered);
}

/** Options of {@linkcode Adam} and {@linkcode Adamax}. */
export interface AdamOptions extends LearningRate {
  /** Decay of the first moment (default 0.9). */
  beta1?: number;
  /** Decay of the second moment (default 0.999). */
  beta2?: number;
  /** Fuzz factor (default 1e-7). */
  epsilon?: number;
  /** AMSGrad variant: not available in tfjs; asking for it is an error. */
  amsgrad?: boolean;
}

/**
 * Adam — Keras's `Adam` (the course's optimizer: `Adam(learning_rate=0.001)`).
 *
 * @example
 * ```ts
 * import * as cl from "convlab";
 * const opt = cl.optimizers.Adam({ learningRate: 0.001 });
 * ```
 */
export function Adam(options: AdamOptions = {}): tf.Optimizer {
  if (options.amsgrad) {
    throw new RangeError("Cannot make Adam: amsgrad is not available in TensorFlow.js");
  }
  const lr = learningRate("Adam", options, 0.001);
  return tf.train.adam(
    lr,
    inUnitInterval("Adam", "beta1", options.beta1 ?? 0.9),
    inUnitInterval("Adam", "beta2", options.beta2 ?? 0.999),
    options.epsilon ?? 1e-7,
  );
}

/** Adamax (Adam with the infinity norm) — Keras's `Adamax`. */
export function Adamax(options: AdamOptions = {}): tf.Optimizer {
  const lr = learningRate("Adamax", options, 0.001);
  return tf.train.adamax(
    lr,
    inUnitInterval("Adamax", "beta1", options.beta1 ?? 0.9),
    inUnitInterval("Adamax", "beta2", options.beta2 ?? 0.999),
    options.epsilon ?? 1e-7,
    0,
  );
}

/** Options of {@linkcode Adagrad}. */
export interface AdagradOptions extends LearningRate {
  /** Starting value of the squared-gradient sums (default 0.1). */
  initialAccumulatorValue?: number;
}

/**
 * Adagrad — Keras's `Adagrad` (learning rate 0.001, initial accumulator 0.1).
 *
 * @example
 * ```ts
 * import * as cl from "convlab";
 * const opt = cl.optimizers.Adagrad();
 * ```
 */
export function Adagrad(options: AdagradOptions = {}): tf.Optimizer {
  const lr = learningRate("Adagrad", options, 0.001);
  const initial = options.initialAccumulatorValue ?? 0.1;
  if (!(initial >= 0)) {
    throw new RangeError(
      `Cannot make Adagrad: initialAccumulatorValue must be ≥ 0, got ${initial}`,
    );
  }
  return tf.train.adagrad(lr, initial);
}

/** Options of {@linkcode Adadelta}. */
export interface AdadeltaOptions extends LearningRate {
  /** Decay rate (default 0.95). */
  rho?: number;
  /** Fuzz factor (default 1e-7). */
  epsilon?: number;
}

/** Adadelta — Keras's `Adadelta`. */
export function Adadelta(options: AdadeltaOptions = {}): tf.Optimizer {
  const lr = learningRate("Adadelta", options, 0.001);
  return tf.train.adadelta(
    lr,
    inUnitInterval("Adadelta", "rho", options.rho ?? 0.95),
    options.epsilon ?? 1e-7,
  );
}

const BY_NAME: Record<string, () => tf.Optimizer> = {
  sgd: () => SGD(),
  rmsprop: () => RMSprop(),
  adam: () => Adam(),
  adamax: () => Adamax(),
  adagrad: () => Adagrad(),
  adadelta: () => Adadelta(),
};

/** The names {@linkcode getOptimizer} accepts. */
export const OPTIMIZER_NAMES: readonly string[] = Object.keys(BY_NAME);

/**
 * An optimizer from a Keras name (`"adam"`, `"rmsprop"`, `"sgd"`, … with Keras's defaults) or an
 * optimizer object (returned as is).
 *
 * @example
 * ```ts
 * import * as cl from "convlab";
 * const adam = cl.optimizers.getOptimizer("adam");
 * ```
 */
export function getOptimizer(spec: string | tf.Optimizer): tf.Optimizer {
  if (spec instanceof tf.Optimizer) return spec;
  const make = BY_NAME[String(spec).toLowerCase()];
  if (!make) {
    throw new RangeError(
      `Unknown optimizer "${spec}": use one of ${OPTIMIZER_NAMES.join(", ")} or an optimizer ` +
        "object such as cl.optimizers.Adam({learningRate: 1e-3})",
    );
  }
  return make();
}

/** An optimizer's current learning rate. */
export function getLearningRate(optimizer: tf.Optimizer): number {
  const lr = (optimizer as unknown as { learningRate?: number }).learningRate;
  if (typeof lr !== "number") {
    throw new TypeError(`Cannot read the learning rate of ${optimizer.getClassName()}`);
  }
  return lr;
}

/** Change an optimizer's learning rate for the following steps (used by ReduceLROnPlateau). */
export function setLearningRate(optimizer: tf.Optimizer, learningRate: number): void {
  if (!(learningRate > 0 && Number.isFinite(learningRate))) {
    throw new RangeError(
      `Cannot set learning rate: expected a positive number, got ${learningRate}`,
    );
  }
  const target = optimizer as unknown as {
    learningRate: number;
    setLearningRate?: (lr: number) => void;
  };
  if (typeof target.setLearningRate === "function") target.setLearningRate(learningRate);
  else target.learningRate = learningRate;
}
