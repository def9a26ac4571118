/**
 * `cl.plot`: line, scatter, bar, heatmap and histogram charts as display objects — Plotly figures
 * (`application/vnd.plotly.v1+json`) with an SVG drawing and a text summary as fallbacks. Titles,
 * axis labels, legends and grids as in matplotlib.
 *
 * Introduced in lesson 02 (plotting training curves); used throughout.
 *
 * @example
 * ```ts
 * import * as cl from "convlab";
 * cl.plot.line({ loss: [0.9, 0.5, 0.3], val_loss: [1.0, 0.7, 0.6] }, {
 *   title: "Loss", xLabel: "epoch", yLabel: "loss",
 * });
 * ```
 *
 * @module
 */

import type { ColormapName } from "../image/color.ts";
import { Chart, type Panel, type Trace } from "./chart.ts";
import { finiteRange, isTensorLike, toNumbers } from "./_values.ts";

/** Options every chart takes. */
export interface PlotOptions {
  title?: string;
  xLabel?: string;
  yLabel?: string;
  /** Pixels (default 640 × 400). */
  width?: number;
  height?: number;
  /** Grid lines (default true). */
  grid?: boolean;
  /** Show a legend (default: when there are several named series). */
  legend?: boolean;
  /** Fix the y axis range. */
  yRange?: [number, number];
}

/** One series: values, or `{x, y, name}`. */
export type Series =
  | number[]
  | Float32Array
  | { x?: number[]; y: number[] | Float32Array; name?: string; dash?: boolean; color?: string };

/** Several series: an array of them or a record `name → values`. */
export type SeriesInput = Series | Series[] | Record<string, number[] | Float32Array>;

function normalizeSeries(input: SeriesInput, what: string) {
  if (isTensorLike(input)) toNumbers(input, what); // throws with the hint to pass values
  const isSingle = Array.isArray(input)
    ? input.length === 0 || typeof input[0] === "number"
    : ArrayBuffer.isView(input) || (typeof input === "object" && input !== null && "y" in input);
  const list: Series[] = isSingle
    ? [input as Series]
    : Array.isArray(input)
    ? input as Series[]
    : Object.entries(input as Record<string, number[]>).map(([name, y]) => ({ name, y }));
  if (list.length === 0) throw new RangeError(`${what}: no series to plot`);
  return list.map((s, k) => {
    const obj = Array.isArray(s) || ArrayBuffer.isView(s) ? { y: s as number[] } : s;
    const y = toNumbers(obj.y, `${what}: series ${k}`);
    const x = obj.x ? toNumbers(obj.x, `${what}: series ${k} x`) : y.map((_, i) => i);
    if (x.length !== y.length) {
      throw new RangeError(
        `${what}: series ${k} has ${x.length} x values but ${y.length} y values`,
      );
    }
    return { x, y, name: obj.name, dash: obj.dash, color: obj.color };
  });
}

function checkDims(options: PlotOptions, what: string) {
  const { width = 640, height = 400 } = options;
  for (const [name, v] of [["width", width], ["height", height]] as const) {
    if (!Number.isFinite(v) || v < 100 || v > 4000) {
      throw new RangeError(`${what}: ${name} must be 100–4000 pixels, got ${v}`);
    }
  }
  return { width, height };
}

function chart(traces: Trace[], options: PlotOptions, what: string): Chart {
  const panel: Panel = {
    traces,
    xLabel: options.xLabel,
    yLabel: options.yLabel,
    grid: options.grid,
    legend: options.legend,
    yRange: options.yRange,
  };
  return new Chart({ title: options.title, panels: [panel], ...checkDims(options, what) });
}

/**
 * Line chart of one or more series (x defaults to 0, 1, 2, …).
 *
 * @example
 * ```ts
 * import { line } from "./plot.ts";
 * const c = line([{ y: [3, 1, 2], name: "a" }, { y: [1, 2, 3], name: "b", dash: true }]);
 * console.log(c.spec.panels[0].traces.length); // 2
 * ```
 */
export function line(series: SeriesInput, options: PlotOptions = {}): Chart {
  const what = "Cannot plot lines";
  return chart(normalizeSeries(series, what).map((s) => ({ type: "line", ...s })), options, what);
}

/**
 * Scatter plot: `{x, y}` series (or values against their index).
 *
 * @example
 * ```ts
 * import { scatter } from "./plot.ts";
 * scatter({ x: [1, 2, 3], y: [2, 4, 5], name: "points" }, { xLabel: "x", yLabel: "y" });
 * ```
 */
export function scatter(series: SeriesInput, options: PlotOptions = {}): Chart {
  const what = "Cannot plot scatter";
  return chart(
    normalizeSeries(series, what).map((s) => ({ type: "scatter", ...s })),
    options,
    what,
  );
}

/** Options of {@linkcode bar}. */
export interface BarOptions extends PlotOptions {
  /** Category labels (default 0, 1, 2, … or the record's keys). */
  labels?: string[];
}

/**
 * Bar chart of values per category: an array (with `labels`) or a record `label → value`; a
 * record of arrays draws grouped bars.
 *
 * @example
 * ```ts
 * import { bar } from "./plot.ts";
 * bar({ cat: 12, dog: 9 }, { title: "Images per class" });
 * ```
 */
export function bar(
  values: number[] | Record<string, number> | Record<string, number[]>,
  options: BarOptions = {},
): Chart {
  const what = "Cannot plot bars";
  let traces: Trace[];
  if (Array.isArray(values) || ArrayBuffer.isView(values)) {
    const y = toNumbers(values, what);
    const labels = options.labels ?? y.map((_, i) => String(i));
    if (labels.length !== y.length) {
      throw new RangeError(`${what}: ${y.length} values but ${labels.length} labels`);
    }
    traces = [{ type: "bar", x: labels, y }];
  } else if (Object.values(values).every((v) => typeof v === "number")) {
    traces = [{
      type: "bar",
      x: Object.keys(values),
      y: Object.values(values) as number[],
    }];
  } else {
    const groups = Object.entries(values as Record<string, number[]>);
    const n = groups[0]?.[1].length ?? 0;
    const labels = options.labels ?? Array.from({ length: n }, (_, i) => String(i));
    traces = groups.map(([name, v]) => {
      const y = toNumbers(v, `${what}: group ${name}`);
      if (y.length !== labels.length) {
        throw new RangeError(
          `${what}: group ${name} has ${y.length} values, expected ${labels.length}`,
        );
      }
      return { type: "bar", name, x: labels, y };
    });
  }
  return chart(traces, options, what);
}

/** Options of {@linkcode heatmap}. */
export interface HeatmapOptions extends PlotOptions {
  xLabels?: string[];
  yLabels?: string[];
  /** Default `"viridis"`. */
  colormap?: ColormapName;
  /** Print each cell's value. */
  showValues?: boolean;
}

/**
 * Heatmap of a matrix (rows top to bottom, as printed).
 *
 * @example
 * ```ts
 * import { heatmap } from "./plot.ts";
 * heatmap([[1, 2], [3, 4]], { showValues: true, colormap: "jet" });
 * ```
 */
export function heatmap(z: number[][], options: HeatmapOptions = {}): Chart {
  const what = "Cannot plot heatmap";
  if (!Array.isArray(z) || z.length === 0) {
    throw new TypeError(`${what}: expected a non-empty matrix`);
  }
  const rows = z.map((r, i) => toNumbers(r, `${what}: row ${i}`));
  const cols = rows[0].length;
  rows.forEach((r, i) => {
    if (r.length !== cols) {
      throw new RangeError(`${what}: row ${i} has ${r.length} values, expected ${cols}`);
    }
  });
  const xLabels = options.xLabels ?? Array.from({ length: cols }, (_, i) => String(i));
  const yLabels = options.yLabels ?? rows.map((_, i) => String(i));
  if (xLabels.length !== cols || yLabels.length !== rows.length) {
    throw new RangeError(`${what}: labels do not match the ${rows.length}×${cols} matrix`);
  }
  return chart(
    [{
      type: "heatmap",
      z: rows,
      xLabels,
      yLabels,
      colormap: options.colormap ?? "viridis",
      showValues: options.showValues,
    }],
    { ...options, grid: false },
    what,
  );
}

/** Options of {@linkcode histogram}. */
export interface HistogramOptions extends PlotOptions {
  /** Number of equal bins (default 30). */
  bins?: number;
  /** Range binned (default the data's min–max). */
  range?: [number, number];
}

/** Equal-width bin counts. */
export function binValues(values: number[], bins: number, range?: [number, number]) {
  const finite = values.filter(Number.isFinite);
  let [lo, hi] = range ?? finiteRange(finite);
  if (!(hi > lo)) [lo, hi] = [lo - 0.5, lo + 0.5];
  const width = (hi - lo) / bins;
  const counts = new Array(bins).fill(0);
  for (const v of finite) {
    if (v < lo || v > hi) continue;
    counts[Math.min(bins - 1, Math.floor((v - lo) / width))]++;
  }
  return { centres: counts.map((_, i) => lo + width * (i + 0.5)), counts, width };
}

/**
 * Histogram of values (or overlaid histograms of a record `name → values`), binned here so the
 * Plotly figure and the SVG fallback agree.
 *
 * @example
 * ```ts
 * import { histogram } from "./plot.ts";
 * histogram(Array.from({ length: 100 }, (_, i) => Math.sin(i)), { bins: 10 });
 * ```
 */
export function histogram(
  values: number[] | Float32Array | Record<string, number[] | Float32Array>,
  options: HistogramOptions = {},
): Chart {
  const what = "Cannot plot histogram";
  const { bins = 30 } = options;
  if (!Number.isInteger(bins) || bins < 1) {
    throw new RangeError(`${what}: bins must be a positive integer, got ${bins}`);
  }
  const groups: [string | undefined, number[]][] =
    Array.isArray(values) || ArrayBuffer.isView(values)
      ? [[undefined, toNumbers(values, what)]]
      : Object.entries(values).map(([k, v]) => [k, toNumbers(v, `${what}: ${k}`)]);
  const all = groups.flatMap(([, v]) => v).filter(Number.isFinite);
  if (all.length === 0) throw new RangeError(`${what}: no finite values`);
  const range = options.range ?? finiteRange(all);
  const traces: Trace[] = groups.map(([name, v]) => {
    const { centres, counts, width } = binValues(v, bins, range);
    return {
      type: "bar",
      name,
      x: centres,
      y: counts,
      widths: centres.map(() => width),
    };
  });
  return chart(traces, { yLabel: "count", ...options }, what);
}
