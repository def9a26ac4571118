/**
 * `cl.results(metrics, {title})`: a lesson's headline numbers as one display object — a table
 * for the reader, and the same numbers as JSON under {@linkcode RESULTS_MIME} for tools
 * (`deno task bench lessons` reads them to report each lesson's result; front ends that do not
 * know the MIME type show the table).
 *
 * Introduced in lesson 02 (LeNet-5's and CNN v2's test accuracy).
 *
 * @module
 */

import { DISPLAY, type MimeBundle } from "./display.ts";
import { table } from "./viz/table.ts";

/** The MIME type of the machine-readable part of {@linkcode Results}. */
export const RESULTS_MIME = "application/vnd.convlab.results+json";

/** A metric value: a number (accuracy, IoU, seconds…) or a short text. */
export type ResultValue = number | string;

/** What {@linkcode RESULTS_MIME} holds. */
export interface ResultsJson {
  title: string;
  /** Metric name → value; numbers that are not finite (a diverged loss) are `null`. */
  metrics: Record<string, number | string | null>;
}

/** Options of {@linkcode results}. */
export interface ResultsOptions {
  /** Caption of the table (default `"Results"`). */
  title?: string;
  /** Significant digits shown for numbers (default 4; the JSON keeps full precision). */
  digits?: number;
}

/** A lesson's headline numbers (see {@linkcode results}). */
export class Results {
  readonly title: string;
  readonly metrics: Readonly<Record<string, ResultValue>>;
  readonly #digits: number;

  constructor(metrics: Record<string, ResultValue>, options: ResultsOptions = {}) {
    this.title = options.title ?? "Results";
    this.metrics = Object.freeze({ ...metrics });
    this.#digits = options.digits ?? 4;
  }

  /** The numbers for tools. */
  toJSON(): ResultsJson {
    const metrics: ResultsJson["metrics"] = {};
    for (const [name, value] of Object.entries(this.metrics)) {
      metrics[name] = typeof value === "number" && !Number.isFinite(value) ? null : value;
    }
    return { title: this.title, metrics };
  }

  /** The table shown to readers. */
  #table() {
    return table(
      Object.entries(this.metrics).map(([metric, value]) => ({ metric, value })),
      { title: this.title, digits: this.#digits },
    );
  }

  /** Aligned plain text. */
  toString(): string {
    return this.#table().toString();
  }

  [DISPLAY](): MimeBundle {
    const shown = this.#table();
    return {
      [RESULTS_MIME]: this.toJSON(),
      "text/html": shown.toHtml(),
      "text/plain": shown.toString(),
    };
  }
}

/**
 * A lesson's headline numbers (test accuracy, IoU, …) as a table that tools can read too.
 *
 * @param metrics Metric name → number or short text, in display order.
 * @param options Title and digits shown.
 * @throws {TypeError} when `metrics` is not an object of numbers and strings.
 * @throws {RangeError} when `metrics` is empty.
 * @example
 * ```ts
 * import { results } from "./results.ts";
 * const shown = results({ "LeNet-5 test accuracy": 0.9765, epochs: 30 }, { title: "Lesson 02" });
 * console.log(String(shown));
 * console.log(shown.toJSON().metrics["LeNet-5 test accuracy"]); // 0.9765
 * ```
 */
export function results(
  metrics: Record<string, ResultValue>,
  options: ResultsOptions = {},
): Results {
  if (typeof metrics !== "object" || metrics === null || Array.isArray(metrics)) {
    throw new TypeError(
      "Cannot show results: metrics must be an object of name → value, e.g. { accuracy: 0.98 }",
    );
  }
  const entries = Object.entries(metrics);
  if (entries.length === 0) throw new RangeError("Cannot show results: there are no metrics");
  for (const [name, value] of entries) {
    if (typeof value !== "number" && typeof value !== "string") {
      throw new TypeError(
        `Cannot show results: metric "${name}" must be a number or a string, got ${
          value === null ? "null" : typeof value
        }` + (typeof value === "object" ? " (read a tensor with `await t.data()` first)" : ""),
      );
    }
  }
  const digits = options.digits ?? 4;
  if (!Number.isInteger(digits) || digits < 1 || digits > 17) {
    throw new RangeError(`Cannot show results: digits must be an integer 1–17, got ${digits}`);
  }
  return new Results(metrics, { ...options, digits });
}
