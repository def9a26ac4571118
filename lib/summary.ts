/**
 * Keras-identical model summaries: `cl.summary(model)` shows the table `model.summary()` prints in
 * Keras 2 (TensorFlow 2.9–2.11, the version the course's notes were made with): Keras's layer names
 * (`conv2d`, `max_pooling2d`, `conv2d_1`, …), output shapes like `(None, 26, 26, 32)` and the
 * parameter counts, ending with Total/Trainable/Non-trainable params.
 *
 * Introduced in lesson 02 (LeNet-5), used by every lesson that builds a model.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import { DISPLAY, type MimeBundle } from "./display.ts";

type Layer = tf.layers.Layer;
type Model = tf.LayersModel;

/** tfjs's (and Keras's) snake_case of a class name: `MaxPooling2D` → `max_pooling2d`. */
export function toSnakeCase(name: string): string {
  const intermediate = name.replace(/(.)([A-Z][a-z0-9]+)/g, "$1_$2");
  const snake = intermediate.replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase();
  return snake.startsWith("_") ? `private${snake}` : snake;
}

/** Keras's `n`-th default name for a prefix: the first has no suffix, then `_1`, `_2`, … */
function zeroBased(prefix: string, n: number): string {
  return n <= 1 ? prefix : `${prefix}_${n - 1}`;
}

/**
 * The name Keras would have given a layer or model.
 *
 * tfjs numbers default names per class in a process exactly as Keras does per session, but spells
 * them differently (`conv2d_Conv2D3`, `sequential_2`, `model1`, `input1`); this maps them to
 * Keras's spelling (`conv2d_2`, `sequential_1`, `model`, `input_1`). Names a user chose are kept.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { kerasName } from "./summary.ts";
 * const layer = tf.layers.dense({ units: 4, name: "dense_Dense7" });
 * console.log(kerasName(layer)); // "dense_6"
 * ```
 */
export function kerasName(layer: Layer): string {
  const name = layer.name;
  const className = layer.getClassName();
  if (layer instanceof tf.Sequential) {
    const match = /^sequential_(\d+)$/.exec(name);
    return match ? zeroBased("sequential", Number(match[1])) : name;
  }
  if (className === "Model" || className === "Functional") {
    const match = /^model(\d+)$/.exec(name);
    return match ? zeroBased("model", Number(match[1])) : name;
  }
  if (className === "InputLayer") {
    const match = /^input(\d+)$/.exec(name);
    return match ? `input_${match[1]}` : name;
  }
  const prefix = toSnakeCase(className);
  const generated = `${prefix}_${className}`;
  if (name.startsWith(generated) && /^\d+$/.test(name.slice(generated.length))) {
    return zeroBased(prefix, Number(name.slice(generated.length)));
  }
  return name;
}

/** Keras's class name for a layer (tfjs calls functional models `Model`; Keras `Functional`). */
export function kerasClassName(layer: Layer): string {
  const className = layer.getClassName();
  return className === "Model" ? "Functional" : className;
}

/** A shape as Python prints a Keras shape tuple: `(None, 26, 26, 32)`, `(None,)`. */
export function formatShape(shape: readonly (number | null)[]): string {
  const dims = shape.map((d) => (d === null || d === undefined ? "None" : String(d)));
  return dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(", ")})`;
}

function isShapeList(shape: unknown): shape is (number | null)[][] {
  return Array.isArray(shape) && shape.length > 0 && Array.isArray(shape[0]);
}

/** A layer's output shape as Keras prints it (`multiple` for a layer used at several places). */
export function formatOutputShape(layer: Layer): string {
  let shape: unknown;
  try {
    shape = layer.outputShape;
  } catch {
    return "multiple";
  }
  if (layer.getClassName() === "InputLayer" && !isShapeList(shape)) {
    return `[${formatShape(shape as (number | null)[])}]`;
  }
  if (isShapeList(shape)) return `[${shape.map(formatShape).join(", ")}]`;
  return formatShape(shape as (number | null)[]);
}

/** Number of scalars in a list of weights. */
function countWeights(weights: readonly tf.LayerVariable[]): number {
  return weights.reduce((sum, w) => sum + w.shape.reduce((a: number, b) => a * (b ?? 0), 1), 0);
}

/** Trainable weights that `compile()` collected (Keras counts those in a compiled model). */
const collectedTrainable = new WeakMap<Model, tf.LayerVariable[]>();

/** Record the trainable weights a model was compiled with (called by `compile()`). */
export function recordCompiledWeights(model: Model, weights: tf.LayerVariable[]): void {
  collectedTrainable.set(model, weights);
}

/** Parameter counts of a model, as the last lines of Keras's summary give them. */
export interface ParamCounts {
  total: number;
  trainable: number;
  nonTrainable: number;
}

/**
 * Count a model's parameters like Keras: trainable (as of the last `compile()`, as Keras does) and
 * non-trainable (frozen weights and BatchNormalization moving statistics).
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { countParams } from "./summary.ts";
 * const model = tf.sequential({ layers: [tf.layers.dense({ units: 10, inputShape: [784] })] });
 * console.log(countParams(model)); // { total: 7850, trainable: 7850, nonTrainable: 0 }
 * ```
 */
export function countParams(model: Model): ParamCounts {
  const trainable = countWeights(collectedTrainable.get(model) ?? model.trainableWeights);
  const nonTrainable = countWeights(model.nonTrainableWeights);
  return { total: trainable + nonTrainable, trainable, nonTrainable };
}

/** One row of a summary table. */
export interface SummaryRow {
  /** Keras's name of the layer, e.g. `conv2d_1`. */
  name: string;
  /** Keras's class name, e.g. `Conv2D`. */
  type: string;
  /** As Keras prints it, e.g. `(None, 26, 26, 32)`. */
  outputShape: string;
  /** The layer's parameter count (trainable and not). */
  params: number;
  /** Whether the layer's weights are trained. */
  trainable: boolean;
  /** For models that are not a simple stack: the layers feeding this one (`conv2d[0][0]`). */
  connectedTo: string[];
  /** Nesting depth when nested models are expanded (0 at the top). */
  depth: number;
}

/** Options of {@linkcode summary}, as Keras's `model.summary()`. */
export interface SummaryOptions {
  /** Total width of a line (default 65 for a simple stack, 98 otherwise, as Keras). */
  lineLength?: number;
  /** Right edge of each column, as fractions of the line or absolute positions. */
  positions?: number[];
  /** Add a "Trainable" column (Y/N). Default false. */
  showTrainable?: boolean;
  /** Also list the layers inside nested models (a frozen base, say). Default false. */
  expandNested?: boolean;
}

/** Whether a model is a simple stack (Keras then prints three columns, no "Connected to"). */
function isSequentialLike(model: Model): boolean {
  if (model instanceof tf.Sequential) return true;
  const nodes: unknown[] = [];
  for (const depthNodes of Object.values(model.nodesByDepth)) {
    if (depthNodes.length > 1) return false;
    if (depthNodes.length === 1 && depthNodes[0].inboundLayers.length > 1) return false;
    nodes.push(...depthNodes);
  }
  for (const layer of model.layers) {
    let seen = false;
    for (const node of layer.inboundNodes) {
      if (!nodes.includes(node)) continue;
      if (seen) return false;
      seen = true;
    }
  }
  return true;
}

function connections(model: Model, layer: Layer): string[] {
  const result: string[] = [];
  layer.inboundNodes.forEach((node, nodeIndex) => {
    if (!model.containerNodes.has(`${layer.name}_ib-${nodeIndex}`)) return;
    node.inboundLayers.forEach((inbound, i) => {
      result.push(`${kerasName(inbound)}[${node.nodeIndices[i]}][${node.tensorIndices[i]}]`);
    });
  });
  return result;
}

function isModel(layer: Layer): layer is Model {
  return layer instanceof tf.LayersModel;
}

/** Python's `str()` of a list of strings: `['conv2d[0][0]', 'dense[0][0]']`. */
function pythonList(items: string[]): string {
  return `[${items.map((s) => `'${s}'`).join(", ")}]`;
}

/** Lay out one table row over as many lines as its fields need, as Keras's `print_row`. */
function formatRow(fields: string[], positions: number[], nestedLevel: number): string[] {
  const left = [...fields];
  const lines: string[] = [];
  const pad = (n: number) => " ".repeat(Math.max(0, n));
  while (left.some((field) => field.length > 0)) {
    let line = "";
    for (let col = 0; col < left.length; col++) {
      const start = col > 0 ? positions[col - 1] : 0;
      const space = col !== positions.length - 1 ? 2 : 0;
      let cutoff = positions[col] - start - space;
      let fit = left[col].slice(0, cutoff);
      // Keras breaks lines after the end of a tuple/list item where it can.
      const breaks = ["),", "},", "],", "',"]
        .map((mark) => (fit.indexOf(mark) >= 0 ? fit.indexOf(mark) + mark.length : -1))
        .filter((at) => at >= 0);
      if (breaks.length > 0) {
        cutoff = Math.min(...breaks);
        fit = fit.slice(0, cutoff);
      }
      if (col === 0) line += "|".repeat(nestedLevel) + " ";
      line += fit + pad(space);
      left[col] = left[col].slice(cutoff);
      line += pad(positions[col] - line.length - (nestedLevel ? nestedLevel : 0));
    }
    lines.push(line + "|".repeat(nestedLevel));
  }
  return lines;
}

/** A model summary: a display object (text/plain like Keras, text/html) with the data behind it. */
export class ModelSummary {
  /** Keras's name of the model, e.g. `sequential`. */
  readonly name: string;
  /** The table's rows (with nested layers when `expandNested`). */
  readonly rows: SummaryRow[];
  /** Total, trainable and non-trainable parameter counts. */
  readonly params: ParamCounts;
  /** The Keras-style text table. */
  readonly text: string;

  constructor(name: string, rows: SummaryRow[], params: ParamCounts, text: string) {
    this.name = name;
    this.rows = rows;
    this.params = params;
    this.text = text;
  }

  /** Total number of parameters (`Total params`). */
  get totalParams(): number {
    return this.params.total;
  }

  /** `Trainable params`. */
  get trainableParams(): number {
    return this.params.trainable;
  }

  /** `Non-trainable params`. */
  get nonTrainableParams(): number {
    return this.params.nonTrainable;
  }

  /** The text table, as Keras prints it. */
  toString(): string {
    return this.text;
  }

  /** An HTML table with the same content. */
  html(): string {
    const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
    const withConnections = this.rows.some((r) => r.connectedTo.length > 0);
    const head = ["Layer (type)", "Output Shape", "Param #"]
      .concat(withConnections ? ["Connected to"] : [])
      .map((h) => `<th style="text-align:left;padding:2px 12px 2px 0">${h}</th>`)
      .join("");
    const body = this.rows.map((r) => {
      const cells = [
        `${"&nbsp;&nbsp;".repeat(r.depth)}${esc(r.name)} (${esc(r.type)})`,
        esc(r.outputShape),
        r.params.toLocaleString("en-US"),
      ].concat(withConnections ? [esc(r.connectedTo.join(", "))] : []);
      const style = r.trainable ? "" : ' style="color:#888"';
      return `<tr${style}>${
        cells.map((c) => `<td style="padding:2px 12px 2px 0"><code>${c}</code></td>`).join("")
      }</tr>`;
    }).join("");
    const fmt = (n: number) => n.toLocaleString("en-US");
    return `<div class="convlab-summary"><div>Model: <b>${esc(this.name)}</b></div>` +
      `<table style="border-collapse:collapse;font-family:monospace"><thead><tr>${head}</tr>` +
      `</thead><tbody>${body}</tbody></table>` +
      `<div>Total params: ${fmt(this.params.total)}<br>Trainable params: ${
        fmt(this.params.trainable)
      }<br>Non-trainable params: ${fmt(this.params.nonTrainable)}</div></div>`;
  }

  /** The MIME bundle notebooks render. */
  [DISPLAY](): MimeBundle {
    return { "text/plain": this.text, "text/html": this.html() };
  }
}

/**
 * Summarise a model as Keras's `model.summary()` does: the same names, output shapes, parameter
 * counts and layout (TensorFlow 2.9–2.11 style). The result is a display object (shown as a
 * notebook cell's result, or printed with `console.log(String(s))`) that also carries the data
 * (`rows`, `totalParams`, …) for checks.
 *
 * @param model A built model (give the first layer an `inputShape`).
 * @param options Column layout and expansion of nested models.
 * @returns The summary.
 * @example
 * ```ts
 * import * as cl from "convlab";
 * const s = cl.summary(cl.models.mnistConvnet());
 * console.log(s.totalParams); // 34826
 * console.log(String(s)); // the Keras table
 * ```
 */
export function summary(model: Model, options: SummaryOptions = {}): ModelSummary {
  if (!(model instanceof tf.LayersModel)) {
    throw new TypeError("Cannot summarise: expected a tf.LayersModel (tf.sequential or tf.model)");
  }
  if (!model.built && model.layers.length === 0) {
    throw new Error(
      "Cannot summarise: the model has no layers yet; add layers (the first with inputShape)",
    );
  }
  const sequentialLike = isSequentialLike(model);
  let lineLength = options.lineLength ?? (sequentialLike ? 65 : 98);
  let positions = options.positions ??
    (sequentialLike ? [0.45, 0.85, 1] : [0.33, 0.55, 0.67, 1]);
  if (positions[positions.length - 1] <= 1) {
    positions = positions.map((p) => Math.floor(lineLength * p));
  }
  const header = ["Layer (type)", "Output Shape", "Param #"];
  if (!sequentialLike) header.push("Connected to");
  if (options.showTrainable) {
    lineLength += 11;
    positions = [...positions, lineLength];
    header.push("Trainable");
  }

  const lines: string[] = [];
  const rows: SummaryRow[] = [];
  lines.push(`Model: "${kerasName(model)}"`, "_".repeat(lineLength));
  lines.push(...formatRow(header, positions, 0), "=".repeat(lineLength));

  const addLayer = (
    owner: Model,
    layer: Layer,
    level: number,
    frozen: boolean,
    isNestedLast: boolean,
  ) => {
    const row: SummaryRow = {
      name: kerasName(layer),
      type: kerasClassName(layer),
      outputShape: formatOutputShape(layer),
      params: layer.countParams(),
      trainable: layer.trainable && !frozen,
      connectedTo: sequentialLike ? [] : connections(owner, layer),
      depth: level,
    };
    rows.push(row);
    const fields = [`${row.name} (${row.type})`, row.outputShape, String(row.params)];
    if (!sequentialLike) fields.push(pythonList(row.connectedTo));
    if (options.showTrainable) fields.push(row.trainable ? "Y" : "N");
    lines.push(...formatRow(fields, positions, level));
    if (options.expandNested && isModel(layer) && layer.layers.length > 0) {
      lines.push(
        "|".repeat(level + 1) + "¯".repeat(lineLength - 2 * level - 2) + "|".repeat(level + 1),
      );
      layer.layers.forEach((inner, i) =>
        addLayer(layer, inner, level + 1, !row.trainable, i === layer.layers.length - 1)
      );
      lines.push("|".repeat(level) + "¯".repeat(lineLength - 2 * level) + "|".repeat(level));
    }
    if (!isNestedLast) {
      lines.push("|".repeat(level) + " ".repeat(lineLength - 2 * level) + "|".repeat(level));
    }
  };
  for (const layer of model.layers) addLayer(model, layer, 0, !model.trainable, false);

  const params = countParams(model);
  const fmt = (n: number) => n.toLocaleString("en-US");
  lines.push(
    "=".repeat(lineLength),
    `Total params: ${fmt(params.total)}`,
    `Trainable params: ${fmt(params.trainable)}`,
    `Non-trainable params: ${fmt(params.nonTrainable)}`,
    "_".repeat(lineLength),
  );
  return new ModelSummary(kerasName(model), rows, params, lines.join("\n"));
}
