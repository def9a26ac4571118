/**
 * `cl.show.history(history)`: the course's two charts — accuracy and loss, training vs
 * validation, per epoch — in one call, with the course's exponential smoothing on request.
 *
 * Introduced in lesson 02 (LeNet-5 training curves); lesson 03 uses `smooth` (DLwPy 5.4's
 * `smooth_curve`, factor 0.8).
 *
 * @module
 */

import { Chart, COLORS, type Panel } from "./chart.ts";
import { toNumbers } from "./_values.ts";

/** A Keras-style history: `{history: {loss: [], val_loss: [], …}}` or the plain record. */
export type HistoryInput =
  | { history: Record<string, ArrayLike<number>> }
  | Record<string, ArrayLike<number>>;

/** Options of {@linkcode history}. */
export interface HistoryOptions {
  /** Exponential smoothing: `true` uses the course's factor 0.8, a number sets the factor. */
  smooth?: boolean | number;
  /** Metrics to chart, in order (default: accuracy first, then loss, then the rest). */
  metrics?: string[];
  title?: string;
  /** Pixels (default 960 × 380). */
  width?: number;
  height?: number;
}

/**
 * The course's `smooth_curve`: each point becomes `previous · factor + point · (1 − factor)`.
 *
 * @example
 * ```ts
 * import { smoothCurve } from "./history.ts";
 * console.log(smoothCurve([1, 0, 0], 0.5)); // [1, 0.5, 0.25]
 * ```
 */
export function smoothCurve(points: number[], factor = 0.8): number[] {
  if (!(factor >= 0 && factor < 1)) {
    throw new RangeError(`Cannot smooth curve: factor must be in [0, 1), got ${factor}`);
  }
  const out: number[] = [];
  for (const p of points) {
    out.push(out.length ? out[out.length - 1] * factor + p * (1 - factor) : p);
  }
  return out;
}

/** Keras names tfjs sometimes shortens. */
const ALIASES: Record<string, string> = { acc: "accuracy", val_acc: "val_accuracy" };

/** The metric record of a history, with Keras names and plain number arrays. */
export function historyRecord(input: HistoryInput): Record<string, number[]> {
  const what = "Cannot show history";
  if (typeof input !== "object" || input === null) {
    throw new TypeError(`${what}: expected a History or a record of metric arrays`);
  }
  const raw = "history" in input && typeof input.history === "object" && input.history !== null &&
      !Array.isArray(input.history)
    ? input.history as Record<string, ArrayLike<number>>
    : input as Record<string, ArrayLike<number>>;
  const record: Record<string, number[]> = {};
  for (const [key, values] of Object.entries(raw)) {
    if (key === "epoch") continue;
    record[ALIASES[key] ?? key] = toNumbers(
      Array.isArray(values) ? values.map(Number) : values,
      `${what}: metric "${key}"`,
    );
  }
  if (Object.keys(record).length === 0 || Object.values(record).every((v) => v.length === 0)) {
    throw new RangeError(`${what}: the history has no epochs yet`);
  }
  return record;
}

/** Metric base names in the course's order: accuracy, loss, then the rest alphabetically. */
export function metricOrder(record: Record<string, number[]>): string[] {
  const bases = [...new Set(Object.keys(record).map((k) => k.replace(/^val_/, "")))];
  const rank = (m: string) => (m === "accuracy" ? 0 : m === "loss" ? 1 : 2);
  return bases.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

const LABELS: Record<string, string> = { accuracy: "Accuracy", loss: "Loss" };

/** Panels (one per metric, training dots and validation line) for a history record. */
export function historyPanels(
  record: Record<string, number[]>,
  options: { smooth?: boolean | number; metrics?: string[] } = {},
): Panel[] {
  const factor = options.smooth === true
    ? 0.8
    : typeof options.smooth === "number"
    ? options.smooth
    : 0;
  const metrics = options.metrics ?? metricOrder(record);
  return metrics.map((metric) => {
    const train = record[metric], val = record[`val_${metric}`];
    if (!train && !val) {
      throw new RangeError(
        `Cannot show history: no metric "${metric}" (have ${Object.keys(record).join(", ")})`,
      );
    }
    const traces: Panel["traces"] = [];
    const curve = (v: number[]) => (factor > 0 ? smoothCurve(v, factor) : v);
    const epochs = (v: number[]) => v.map((_, i) => i + 1);
    if (train) {
      traces.push({
        type: "scatter",
        name: "training",
        x: epochs(train),
        y: curve(train),
        color: COLORS[0],
      });
    }
    if (val) {
      traces.push({
        type: "line",
        name: "validation",
        x: epochs(val),
        y: curve(val),
        color: COLORS[0],
      });
    }
    const label = LABELS[metric] ?? metric;
    return {
      title: `Training and validation ${label.toLowerCase()}${
        factor > 0 ? ` (smoothed ${factor})` : ""
      }`,
      xLabel: "epoch",
      yLabel: label,
      traces,
      legend: true,
    };
  });
}

/**
 * Accuracy and loss, training (dots) vs validation (line), per epoch — one chart per metric side
 * by side, as in the course.
 *
 * @example
 * ```ts
 * import { history } from "./history.ts";
 * history({ history: { loss: [0.9, 0.5], val_loss: [0.8, 0.6], accuracy: [0.7, 0.85],
 *   val_accuracy: [0.72, 0.8] } }, { smooth: false });
 * ```
 */
export function history(input: HistoryInput, options: HistoryOptions = {}): Chart {
  const record = historyRecord(input);
  const panels = historyPanels(record, options);
  return new Chart({
    title: options.title,
    panels,
    width: options.width ?? Math.min(1400, 480 * panels.length),
    height: options.height ?? 380,
  });
}
