/**
 * Training callbacks with Keras's names and behaviour (`cl.callbacks`): `History`,
 * `EarlyStopping` (with `restoreBestWeights`, which tfjs lacks), `ModelCheckpoint` (atomic
 * saves of a loadable model), `ReduceLROnPlateau`, `LearningRateScheduler`, `TerminateOnNaN` and
 * `LambdaCallback`. They extend tfjs's `tf.Callback`, so they also work with tfjs's own
 * `model.fit` and `model.fitDataset`.
 *
 * Introduced in lesson 03 (EarlyStopping and ModelCheckpoint).
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import { DISPLAY, type MimeBundle } from "./display.ts";
import { getLearningRate, setLearningRate } from "./optimizers.ts";
import { saveModel } from "./save.ts";
import { rejectUnknownOptions } from "./_options.ts";

/** Logs passed to callbacks: name → value (`loss`, `accuracy`, `val_loss`, …). */
export type Logs = Record<string, number>;

/** tfjs may hand callbacks scalar tensors instead of numbers; this reads them. */
export async function resolveLogs(logs?: Record<string, unknown>): Promise<Logs> {
  const out: Logs = {};
  for (const [key, value] of Object.entries(logs ?? {})) {
    if (typeof value === "number") out[key] = value;
    else if (value instanceof tf.Tensor) out[key] = (await value.data())[0];
  }
  return out;
}

/**
 * Base class of Convlab's callbacks (a `tf.Callback`). Override the hooks you need; `this.model`
 * is the model being trained and `this.params` says `epochs`, `steps`, `batchSize`, ….
 */
export class Callback extends tf.Callback {
  /**
   * Whether `onBatchEnd` needs the running loss and metrics after this batch. Reading them back
   * costs a pause of the backend, so `fit` does it only when asked: by default whenever a
   * subclass defines `onBatchEnd`.
   */
  wantsBatchLogs(_batch: number): boolean {
    return this.onBatchEnd !== Callback.prototype.onBatchEnd;
  }

  /**
   * Called by `cl.fit` instead of `onTrainEnd` when training stops with an error (a failing
   * callback, bad data mid-run), to free what the callback holds. Keras has no such hook.
   */
  onTrainError(_error: unknown): void {}
}

/** `"val_loss"` → whether larger is better (Keras's "auto" mode of EarlyStopping). */
function largerIsBetter(
  monitor: string,
  mode: "auto" | "min" | "max",
  acc: (m: string) => boolean,
) {
  if (mode === "min") return false;
  if (mode === "max") return true;
  if (mode !== "auto") throw new RangeError(`Unknown mode "${mode}": use "auto", "min" or "max"`);
  return acc(monitor);
}

/** Python's `{:.5f}`, which prints infinities as `inf`. */
function fixed(value: number, digits: number): string {
  if (value === Infinity) return "inf";
  if (value === -Infinity) return "-inf";
  return value.toFixed(digits);
}

/**
 * The record of a training run, returned by `fit`: `history.loss`, `history.val_accuracy`, … per
 * epoch, as Keras's `History`. It shows itself as a table; `cl.show.history(h)` draws the curves.
 *
 * @example
 * ```ts
 * import * as cl from "convlab";
 * // const h = await cl.fit(model, xTrain, yTrain, {epochs: 5, validationSplit: 0.1});
 * // h.history.val_accuracy.at(-1)
 * ```
 */
export class History extends Callback {
  /** Epoch indices (0-based, as Keras). */
  epoch: number[] = [];
  /** Values per log key, one per epoch. */
  history: Record<string, number[]> = {};

  override onTrainBegin(): Promise<void> {
    this.epoch = [];
    return Promise.resolve();
  }

  override async onEpochEnd(epoch: number, logs?: Record<string, unknown>): Promise<void> {
    const values = await resolveLogs(logs);
    this.epoch.push(epoch);
    for (const [key, value] of Object.entries(values)) {
      (this.history[key] ??= []).push(value);
    }
  }

  /** The history as a text table (one row per epoch). */
  override toString(): string {
    const keys = Object.keys(this.history);
    const header = ["epoch", ...keys];
    const rows = this.epoch.map((e, i) => [
      String(e + 1),
      ...keys.map((k) => (this.history[k][i] === undefined ? "" : this.history[k][i].toFixed(4))),
    ]);
    const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
    const line = (cells: string[]) => cells.map((s, c) => s.padStart(widths[c])).join("  ");
    return [line(header), ...rows.map(line)].join("\n");
  }

  /** An HTML table of the same. */
  html(): string {
    const keys = Object.keys(this.history);
    const th = ["epoch", ...keys].map((k) => `<th style="padding:2px 8px">${k}</th>`).join("");
    const rows = this.epoch.map((e, i) =>
      `<tr><td style="padding:2px 8px">${e + 1}</td>${
        keys.map((k) =>
          `<td style="padding:2px 8px;text-align:right">${
            this.history[k][i]?.toFixed(4) ?? ""
          }</td>`
        ).join("")
      }</tr>`
    ).join("");
    return `<table style="border-collapse:collapse;font-family:monospace"><thead><tr>${th}</tr>` +
      `</thead><tbody>${rows}</tbody></table>`;
  }

  [DISPLAY](): MimeBundle {
    return { "text/plain": this.toString(), "text/html": this.html() };
  }
}

/** Options of {@linkcode EarlyStopping}, as Keras's. */
export interface EarlyStoppingOptions {
  /** Quantity to watch (default `val_loss`). */
  monitor?: string;
  /** Smallest change that counts as an improvement (default 0). */
  minDelta?: number;
  /** Epochs without improvement before stopping (default 0). */
  patience?: number;
  /** 1: say when and why training stopped. Default 0. */
  verbose?: number;
  /** `"min"`, `"max"` or `"auto"` (max for names ending in acc/accuracy/auc). Default auto. */
  mode?: "auto" | "min" | "max";
  /** Keep training until the monitored value beats this. */
  baseline?: number;
  /**
   * When stopping, put back the weights of the best epoch (default false). As in Keras, this
   * happens only if training is stopped early, not when it runs all its epochs.
   */
  restoreBestWeights?: boolean;
  /** Epochs to wait before watching (warm-up). Default 0. */
  startFromEpoch?: number;
}

/**
 * Stop training when a monitored quantity has stopped improving — Keras's `EarlyStopping`,
 * including `restoreBestWeights` (not implemented in tfjs).
 *
 * Introduced in lesson 03 (CIFAR-10 and data augmentation).
 *
 * @example
 * ```ts
 * import * as cl from "convlab";
 * const stop = new cl.callbacks.EarlyStopping({ monitor: "val_loss", patience: 20 });
 * // await cl.fit(model, x, y, { epochs: 2000, validationSplit: 0.25, callbacks: [stop] });
 * ```
 */
export class EarlyStopping extends Callback {
  readonly monitor: string;
  readonly minDelta: number;
  readonly patience: number;
  readonly verbose: number;
  readonly baseline: number | undefined;
  readonly restoreBestWeights: boolean;
  readonly startFromEpoch: number;
  readonly #larger: boolean;
  /** Epochs since the last improvement. */
  wait = 0;
  /** The epoch at which training was stopped (0 if it was not). */
  stoppedEpoch = 0;
  /** Best value seen. */
  best = Infinity;
  /** Epoch of the best value. */
  bestEpoch = 0;
  #bestWeights: tf.Tensor[] | null = null;
  #warned = false;

  constructor(options: EarlyStoppingOptions = {}) {
    super();
    rejectUnknownOptions("Cannot make EarlyStopping", options, [
      "monitor",
      "minDelta",
      "patience",
      "verbose",
      "mode",
      "baseline",
      "restoreBestWeights",
      "startFromEpoch",
    ]);
    this.monitor = options.monitor ?? "val_loss";
    this.minDelta = Math.abs(options.minDelta ?? 0);
    this.patience = options.patience ?? 0;
    if (!Number.isInteger(this.patience) || this.patience < 0) {
      throw new RangeError(
        `Cannot make EarlyStopping: patience must be a non-negative integer, got ${options.patience}`,
      );
    }
    this.verbose = options.verbose ?? 0;
    this.baseline = options.baseline;
    this.restoreBestWeights = options.restoreBestWeights ?? false;
    this.startFromEpoch = options.startFromEpoch ?? 0;
    this.#larger = largerIsBetter(
      this.monitor,
      options.mode ?? "auto",
      (m) => m.endsWith("acc") || m.endsWith("accuracy") || m.endsWith("auc"),
    );
  }

  #isImprovement(value: number, reference: number): boolean {
    return this.#larger ? value - this.minDelta > reference : value + this.minDelta < reference;
  }

  #snapshot(): void {
    this.#release();
    this.#bestWeights = this.model.getWeights().map((w) => tf.keep(tf.clone(w)));
  }

  #release(): void {
    if (this.#bestWeights) tf.dispose(this.#bestWeights);
    this.#bestWeights = null;
  }

  override onTrainBegin(): Promise<void> {
    this.wait = 0;
    this.stoppedEpoch = 0;
    this.best = this.#larger ? -Infinity : Infinity;
    this.bestEpoch = 0;
    this.#release();
    this.#warned = false;
    return Promise.resolve();
  }

  override async onEpochEnd(epoch: number, rawLogs?: Record<string, unknown>): Promise<void> {
    const logs = await resolveLogs(rawLogs);
    const current = logs[this.monitor];
    if (current === undefined) {
      if (!this.#warned) {
        console.warn(
          `EarlyStopping is conditioned on "${this.monitor}", which is not available. ` +
            `Available metrics are: ${Object.keys(logs).join(", ")}`,
        );
        this.#warned = true;
      }
      return;
    }
    if (epoch < this.startFromEpoch) return;
    if (this.restoreBestWeights && this.#bestWeights === null) this.#snapshot();
    this.wait += 1;
    if (this.#isImprovement(current, this.best)) {
      this.best = current;
      this.bestEpoch = epoch;
      if (this.restoreBestWeights) this.#snapshot();
      if (this.baseline === undefined || this.#isImprovement(current, this.baseline)) {
        this.wait = 0;
      }
      return;
    }
    if (this.wait >= this.patience && epoch > 0) {
      this.stoppedEpoch = epoch;
      this.model.stopTraining = true;
      if (this.restoreBestWeights && this.#bestWeights) {
        if (this.verbose > 0) {
          console.log(
            `Restoring model weights from the end of the best epoch: ${this.bestEpoch + 1}.`,
          );
        }
        this.model.setWeights(this.#bestWeights);
      }
    }
  }

  override onTrainError(): void {
    this.#release();
  }

  override onTrainEnd(): Promise<void> {
    this.#release();
    if (this.stoppedEpoch > 0 && this.verbose > 0) {
      console.log(`Epoch ${this.stoppedEpoch + 1}: early stopping`);
    }
    return Promise.resolve();
  }
}

/** Python's `str.format` for the few specs checkpoint paths use: `{epoch:02d}`, `{val_loss:.2f}`. */
export function formatFilepath(template: string, values: Record<string, number>): string {
  return template.replace(/\{(\w+)(?::([^}]*))?\}/g, (_, key: string, spec?: string) => {
    if (!(key in values)) {
      throw new RangeError(
        `Cannot format checkpoint path "${template}": no value "${key}" (available: ` +
          `${Object.keys(values).join(", ")})`,
      );
    }
    const value = values[key];
    if (!spec) return String(value);
    const m = /^(0)?(\d+)?(?:\.(\d+))?([dfeg])?$/.exec(spec);
    if (!m) {
      throw new RangeError(`Cannot format checkpoint path: unsupported format "{${key}:${spec}}"`);
    }
    const [, zero, width, precision, type] = m;
    let text: string;
    if (type === "d") text = String(Math.trunc(value));
    else if (type === "e") {
      text = value.toExponential(precision ? Number(precision) : 6)
        .replace(/e([+-])(\d)$/, "e$10$2");
    } else if (type === "g") text = String(Number(value.toPrecision(Number(precision ?? 6))));
    else text = value.toFixed(precision ? Number(precision) : 6);
    const w = width ? Number(width) : 0;
    if (text.length >= w) return text;
    if (zero) {
      const negative = text.startsWith("-");
      return (negative ? "-" : "") +
        text.slice(negative ? 1 : 0).padStart(w - (negative ? 1 : 0), "0");
    }
    return text.padStart(w);
  });
}

/** Options of {@linkcode ModelCheckpoint}, as Keras's. */
export interface ModelCheckpointOptions {
  /** Quantity to watch for `saveBestOnly` (default `val_loss`). */
  monitor?: string;
  /** 1: say what was saved. Default 0. */
  verbose?: number;
  /** Save only when the monitored value improves (default false: every epoch). */
  saveBestOnly?: boolean;
  /** `"min"`, `"max"` or `"auto"` (max when the name contains "acc"). Default auto. */
  mode?: "auto" | "min" | "max";
  /** Save only when better than this (for resumed training). */
  initialValueThreshold?: number;
}

/**
 * Save the model during training — Keras's `ModelCheckpoint`. The path is a folder (it gets
 * `model.json` + `weights.bin`, written atomically) and may hold Keras placeholders filled from
 * the epoch (1-based) and logs, e.g. `"ckpt/{epoch:02d}-{val_loss:.2f}"`. Load with
 * `cl.loadModel(path)`.
 *
 * Introduced in lesson 03 (CIFAR-10 and data augmentation).
 *
 * @example
 * ```ts
 * import * as cl from "convlab";
 * const best = new cl.callbacks.ModelCheckpoint("models/best", { saveBestOnly: true });
 * ```
 */
export class ModelCheckpoint extends Callback {
  readonly filepath: string;
  readonly monitor: string;
  readonly verbose: number;
  readonly saveBestOnly: boolean;
  readonly #larger: boolean;
  readonly #initial: number | undefined;
  /** Best monitored value so far. */
  best: number;
  /** Paths saved so far, in order. */
  readonly saved: string[] = [];
  #warned = false;

  constructor(filepath: string, options: ModelCheckpointOptions = {}) {
    super();
    rejectUnknownOptions("Cannot make ModelCheckpoint", options, [
      "monitor",
      "verbose",
      "saveBestOnly",
      "mode",
      "initialValueThreshold",
    ]);
    if (typeof filepath !== "string" || filepath.length === 0) {
      throw new TypeError(`Cannot make ModelCheckpoint: filepath must be a path, got ${filepath}`);
    }
    this.filepath = filepath;
    this.monitor = options.monitor ?? "val_loss";
    this.verbose = options.verbose ?? 0;
    this.saveBestOnly = options.saveBestOnly ?? false;
    this.#larger = largerIsBetter(
      this.monitor,
      options.mode ?? "auto",
      (m) => m.includes("acc") || m.startsWith("fmeasure"),
    );
    this.#initial = options.initialValueThreshold;
    this.best = this.#initial ?? (this.#larger ? -Infinity : Infinity);
  }

  override onTrainBegin(): Promise<void> {
    this.#warned = false;
    return Promise.resolve();
  }

  override async onEpochEnd(epoch: number, rawLogs?: Record<string, unknown>): Promise<void> {
    const logs = await resolveLogs(rawLogs);
    const path = formatFilepath(this.filepath, { ...logs, epoch: epoch + 1 });
    if (!this.saveBestOnly) {
      if (this.verbose > 0) console.log(`Epoch ${epoch + 1}: saving model to ${path}`);
      await this.#save(path);
      return;
    }
    const current = logs[this.monitor];
    if (current === undefined) {
      if (!this.#warned) {
        console.warn(`Can save best model only with ${this.monitor} available, skipping.`);
        this.#warned = true;
      }
      return;
    }
    const better = this.#larger ? current > this.best : current < this.best;
    if (better) {
      if (this.verbose > 0) {
        console.log(
          `Epoch ${epoch + 1}: ${this.monitor} improved from ${fixed(this.best, 5)} to ` +
            `${fixed(current, 5)}, saving model to ${path}`,
        );
      }
      this.best = current;
      await this.#save(path);
    } else if (this.verbose > 0) {
      console.log(
        `Epoch ${epoch + 1}: ${this.monitor} did not improve from ${fixed(this.best, 5)}`,
      );
    }
  }

  async #save(path: string): Promise<void> {
    await saveModel(this.model, path);
    this.saved.push(path);
  }
}

/** Options of {@linkcode ReduceLROnPlateau}, as Keras's. */
export interface ReduceLROnPlateauOptions {
  monitor?: string;
  /** New rate = rate × factor (default 0.1). */
  factor?: number;
  /** Epochs without improvement before reducing (default 10). */
  patience?: number;
  verbose?: number;
  mode?: "auto" | "min" | "max";
  /** Smallest change that counts as an improvement (default 1e-4). */
  minDelta?: number;
  /** Epochs to wait after a reduction (default 0). */
  cooldown?: number;
  /** Lower bound of the learning rate (default 0). */
  minLr?: number;
}

/** Lower the learning rate when a metric has stopped improving — Keras's `ReduceLROnPlateau`. */
export class ReduceLROnPlateau extends Callback {
  readonly monitor: string;
  readonly factor: number;
  readonly patience: number;
  readonly verbose: number;
  readonly minDelta: number;
  readonly cooldown: number;
  readonly minLr: number;
  readonly #larger: boolean;
  best = Infinity;
  wait = 0;
  cooldownCounter = 0;

  constructor(options: ReduceLROnPlateauOptions = {}) {
    super();
    rejectUnknownOptions("Cannot make ReduceLROnPlateau", options, [
      "monitor",
      "factor",
      "patience",
      "verbose",
      "mode",
      "minDelta",
      "cooldown",
      "minLr",
    ]);
    this.monitor = options.monitor ?? "val_loss";
    this.factor = options.factor ?? 0.1;
    if (!(this.factor < 1 && this.factor > 0)) {
      throw new RangeError(
        `Cannot make ReduceLROnPlateau: factor must be in (0, 1), got ${this.factor}`,
      );
    }
    this.patience = options.patience ?? 10;
    this.verbose = options.verbose ?? 0;
    this.minDelta = options.minDelta ?? 1e-4;
    this.cooldown = options.cooldown ?? 0;
    this.minLr = options.minLr ?? 0;
    this.#larger = largerIsBetter(this.monitor, options.mode ?? "auto", (m) => m.includes("acc"));
  }

  override onTrainBegin(): Promise<void> {
    this.best = this.#larger ? -Infinity : Infinity;
    this.wait = 0;
    this.cooldownCounter = 0;
    return Promise.resolve();
  }

  override async onEpochEnd(epoch: number, rawLogs?: Record<string, unknown>): Promise<void> {
    const logs = await resolveLogs(rawLogs);
    const optimizer = this.model.optimizer;
    if (rawLogs) rawLogs.lr = getLearningRate(optimizer);
    const current = logs[this.monitor];
    if (current === undefined) return;
    if (this.cooldownCounter > 0) {
      this.cooldownCounter -= 1;
      this.wait = 0;
    }
    const improved = this.#larger
      ? current > this.best + this.minDelta
      : current < this.best - this.minDelta;
    if (improved) {
      this.best = current;
      this.wait = 0;
    } else if (this.cooldownCounter <= 0) {
      this.wait += 1;
      if (this.wait >= this.patience) {
        const old = getLearningRate(optimizer);
        if (old > this.minLr) {
          const lr = Math.max(old * this.factor, this.minLr);
          setLearningRate(optimizer, lr);
          if (this.verbose > 0) {
            console.log(`Epoch ${epoch + 1}: ReduceLROnPlateau reducing learning rate to ${lr}.`);
          }
          this.cooldownCounter = this.cooldown;
          this.wait = 0;
        }
      }
    }
  }
}

/** Set the learning rate at the start of each epoch — Keras's `LearningRateScheduler`. */
export class LearningRateScheduler extends Callback {
  readonly schedule: (epoch: number, lr: number) => number;
  readonly verbose: number;

  constructor(schedule: (epoch: number, lr: number) => number, options: { verbose?: number } = {}) {
    super();
    if (typeof schedule !== "function") {
      throw new TypeError("Cannot make LearningRateScheduler: schedule must be a function");
    }
    this.schedule = schedule;
    this.verbose = options.verbose ?? 0;
  }

  override onEpochBegin(epoch: number): Promise<void> {
    const optimizer = this.model.optimizer;
    const lr = this.schedule(epoch, getLearningRate(optimizer));
    setLearningRate(optimizer, lr);
    if (this.verbose > 0) {
      console.log(`Epoch ${epoch + 1}: LearningRateScheduler setting learning rate to ${lr}.`);
    }
    return Promise.resolve();
  }

  override onEpochEnd(_epoch: number, logs?: Record<string, unknown>): Promise<void> {
    if (logs) logs.lr = getLearningRate(this.model.optimizer);
    return Promise.resolve();
  }
}

/** Stop training as soon as the loss is NaN or infinite — Keras's `TerminateOnNaN`. */
export class TerminateOnNaN extends Callback {
  override async onBatchEnd(batch: number, rawLogs?: Record<string, unknown>): Promise<void> {
    const loss = (await resolveLogs(rawLogs)).loss;
    if (loss !== undefined && !Number.isFinite(loss)) {
      console.log(`Batch ${batch}: Invalid loss, terminating training`);
      this.model.stopTraining = true;
    }
  }
}

/** The hooks a {@linkcode LambdaCallback} takes (tfjs's `CustomCallbackArgs` shape). */
export interface CallbackHooks {
  onTrainBegin?: (logs?: Logs) => void | Promise<void>;
  onTrainEnd?: (logs?: Logs) => void | Promise<void>;
  onEpochBegin?: (epoch: number, logs?: Logs) => void | Promise<void>;
  onEpochEnd?: (epoch: number, logs?: Logs) => void | Promise<void>;
  onBatchBegin?: (batch: number, logs?: Logs) => void | Promise<void>;
  onBatchEnd?: (batch: number, logs?: Logs) => void | Promise<void>;
}

/**
 * A callback from plain functions — Keras's `LambdaCallback` (`fit` wraps plain objects of hooks
 * in one).
 *
 * @example
 * ```ts
 * import * as cl from "convlab";
 * const log = new cl.callbacks.LambdaCallback({
 *   onEpochEnd: (epoch, logs) => console.log(epoch, logs?.loss),
 * });
 * ```
 */
export class LambdaCallback extends Callback {
  readonly hooks: CallbackHooks;

  constructor(hooks: CallbackHooks) {
    super();
    this.hooks = hooks;
  }

  override wantsBatchLogs(): boolean {
    return this.hooks.onBatchEnd !== undefined;
  }

  override async onTrainBegin(logs?: Record<string, unknown>): Promise<void> {
    await this.hooks.onTrainBegin?.(await resolveLogs(logs));
  }

  override async onTrainEnd(logs?: Record<string, unknown>): Promise<void> {
    await this.hooks.onTrainEnd?.(await resolveLogs(logs));
  }

  override async onEpochBegin(epoch: number, logs?: Record<string, unknown>): Promise<void> {
    await this.hooks.onEpochBegin?.(epoch, await resolveLogs(logs));
  }

  override async onEpochEnd(epoch: number, logs?: Record<string, unknown>): Promise<void> {
    await this.hooks.onEpochEnd?.(epoch, await resolveLogs(logs));
  }

  override async onBatchBegin(batch: number, logs?: Record<string, unknown>): Promise<void> {
    await this.hooks.onBatchBegin?.(batch, await resolveLogs(logs));
  }

  override async onBatchEnd(batch: number, logs?: Record<string, unknown>): Promise<void> {
    await this.hooks.onBatchEnd?.(batch, await resolveLogs(logs));
  }
}
