/**
 * `cl.show.confusionMatrix(yTrue, yPred, classNames)`: counts of true class (rows) against
 * predicted class (columns), as a heatmap with the numbers in the cells.
 *
 * Introduced in lesson 02 (which digits LeNet-5 confuses).
 *
 * @module
 */

import type * as tf from "@tensorflow/tfjs";
import type { ColormapName } from "../image/color.ts";
import { Chart } from "./chart.ts";
import { toClassIndices } from "./images.ts";
import { finiteRange } from "./_values.ts";

/** Options of {@linkcode confusionMatrix}. */
export interface ConfusionOptions {
  /** Show each row as fractions of the true class (default false: counts). */
  normalize?: boolean;
  title?: string;
  /** Default `"viridis"`. */
  colormap?: ColormapName;
  /** Number of classes (default: classNames.length, or the largest label + 1). */
  numClasses?: number;
}

/**
 * Count `matrix[true][predicted]`.
 *
 * @example
 * ```ts
 * import { confusionCounts } from "./confusion.ts";
 * console.log(confusionCounts([0, 1, 1], [0, 1, 0], 2)); // [[1, 0], [1, 1]]
 * ```
 */
export function confusionCounts(
  truth: number[],
  predicted: number[],
  numClasses: number,
): number[][] {
  const m = Array.from({ length: numClasses }, () => new Array(numClasses).fill(0));
  truth.forEach((t, i) => {
    const p = predicted[i];
    for (const [name, v] of [["true label", t], ["prediction", p]] as const) {
      if (!Number.isInteger(v) || v < 0 || v >= numClasses) {
        throw new RangeError(
          `Cannot make confusion matrix: ${name} ${i} is ${v}, expected a class in 0–${
            numClasses - 1
          }`,
        );
      }
    }
    m[t][p]++;
  });
  return m;
}

/**
 * A confusion matrix chart.
 *
 * @param yTrue True classes: indices or one-hot rows (array or tensor).
 * @param yPred Predictions: indices or probability rows (argmax is taken).
 * @param classNames Names of the classes, in index order.
 * @example
 * ```ts
 * import { confusionMatrix } from "./confusion.ts";
 * const chart = await confusionMatrix([0, 1, 1, 2], [0, 1, 2, 2], ["cat", "dog", "frog"]);
 * console.log(String(chart));
 * ```
 */
export async function confusionMatrix(
  yTrue: ArrayLike<number> | tf.Tensor,
  yPred: ArrayLike<number> | tf.Tensor,
  classNames?: string[],
  options: ConfusionOptions = {},
): Promise<Chart> {
  const what = "Cannot make confusion matrix";
  const truth = await toClassIndices(yTrue, what);
  const predicted = await toClassIndices(yPred, what);
  if (truth.length !== predicted.length) {
    throw new RangeError(
      `${what}: ${truth.length} true labels but ${predicted.length} predictions`,
    );
  }
  if (truth.length === 0) throw new RangeError(`${what}: no labels`);
  const numClasses = options.numClasses ?? classNames?.length ??
    Math.max(finiteRange(truth)[1], finiteRange(predicted)[1]) + 1;
  const names = classNames ?? Array.from({ length: numClasses }, (_, i) => String(i));
  if (names.length !== numClasses) {
    throw new RangeError(`${what}: ${names.length} class names for ${numClasses} classes`);
  }
  const counts = confusionCounts(truth, predicted, numClasses);
  const correct = counts.reduce((s, row, i) => s + row[i], 0);
  const z = options.normalize
    ? counts.map((row) => {
      const total = row.reduce((a, b) => a + b, 0);
      return row.map((v) => (total ? Math.round((v / total) * 100) / 100 : 0));
    })
    : counts;
  const size = Math.min(900, Math.max(360, 60 * numClasses + 140));
  return new Chart({
    title: options.title ??
      `Confusion matrix — accuracy ${
        ((100 * correct) / truth.length).toFixed(1)
      }% (${correct}/${truth.length})`,
    width: size,
    height: size,
    panels: [{
      xLabel: "predicted",
      yLabel: "true",
      grid: false,
      traces: [{
        type: "heatmap",
        z,
        xLabels: names,
        yLabels: names,
        colormap: options.colormap ?? "viridis",
        showValues: true,
      }],
    }],
  });
}
