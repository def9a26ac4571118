/**
 * Live training progress: `cl.show.progress()` returns a tfjs callback. Inside a notebook it keeps
 * ONE display that updates in place (a `display_id` updated with `update: true`) — epoch, time,
 * a progress bar, the metrics table and a small chart of the curves so far. Outside a notebook it
 * draws a terminal progress bar (one line per epoch when the output is not a terminal, e.g. CI
 * logs).
 *
 * Works with tfjs's `model.fit` / `model.fitDataset` (it is a `tf.Callback`) and with Convlab's
 * `fit` (pass it in `callbacks`, or let `fit`'s `verbose: 1` use it: see `installProgressDisplay`).
 *
 * Introduced in lesson 02 (training LeNet-5).
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import { Callback } from "../callbacks.ts";
import { DISPLAY, inNotebook, type MimeBundle, show } from "../display.ts";
import { type ProgressInfo, ProgressLogger, setProgressFactory } from "../progress.ts";
import { currentSeed } from "../random.ts";
import { escapeXml, toSvg } from "./chart.ts";
import { historyPanels } from "./history.ts";
import { Table } from "./table.ts";

/** Where progress goes. */
export type ProgressMode = "auto" | "notebook" | "terminal" | "silent";

/** Options of {@linkcode progress}. */
export interface ProgressOptions {
  /** `"auto"` (default): the notebook display inside a kernel, else the terminal bar. */
  mode?: ProgressMode;
  /** Heading of the display (default "Training"). */
  title?: string;
  /** Draw the curves chart in the notebook display (default true). */
  chart?: boolean;
  /** Seconds between in-epoch updates of the notebook display (default 2; epochs always update). */
  updateEvery?: number;
  /** What Convlab's `fit` says about the run (model name, samples); shown in the heading. */
  info?: ProgressInfo;
  /** Where terminal output is written (default stdout). */
  write?: (text: string) => void;
  /** Whether the terminal output may redraw a line with `\r` (default: stdout is a terminal). */
  interactive?: boolean;
}

const ALIASES: Record<string, string> = { acc: "accuracy", val_acc: "val_accuracy" };

/** Resolve tfjs logs (numbers or scalar tensors) to plain numbers with Keras names. */
async function resolveLogs(logs: unknown): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  if (typeof logs !== "object" || logs === null) return out;
  for (const [key, value] of Object.entries(logs as Record<string, unknown>)) {
    if (key === "batch" || key === "size") continue;
    let v: number | undefined;
    if (typeof value === "number") v = value;
    else if (value instanceof tf.Tensor && !value.isDisposed && value.size === 1) {
      v = (await value.data())[0];
    }
    if (v !== undefined) out[ALIASES[key] ?? key] = v;
  }
  // Keras's order: training metrics first, then validation (tfjs puts val_ first).
  const keys = Object.keys(out);
  const ordered = [
    ...keys.filter((k) => !k.startsWith("val_")),
    ...keys.filter((k) => k.startsWith("val_")),
  ];
  return Object.fromEntries(ordered.map((k) => [k, out[k]]));
}

/** Keras's log number format: 4 decimals, scientific below 1e-3. */
function formatLog(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  return v !== 0 && Math.abs(v) < 1e-3 ? v.toExponential(3) : v.toFixed(4);
}

function formatSeconds(s: number): string {
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)}s`;
  const m = Math.floor(s / 60);
  return `${m}m${String(Math.round(s % 60)).padStart(2, "0")}s`;
}

function textBar(done: number, total: number, width = 30): string {
  const filled = Math.min(width, Math.floor((width * done) / Math.max(total, 1)));
  return `[${"=".repeat(Math.max(0, filled - 1))}${filled > 0 ? (filled < width ? ">" : "=") : ""}${
    ".".repeat(width - filled)
  }]`;
}

function defaultWrite(text: string): void {
  Deno.stdout.writeSync(new TextEncoder().encode(text));
}

function stdoutIsTerminal(): boolean {
  try {
    return Deno.stdout.isTerminal();
  } catch {
    return false;
  }
}

let displayCounter = 0;

/**
 * The progress callback. Read-only state (`history`, `epoch`) is public so tests and lessons can
 * look at what it saw.
 */
export class TrainingProgress extends Callback {
  readonly options: Required<Omit<ProgressOptions, "write" | "interactive" | "info">> & {
    write: (text: string) => void;
    interactive: boolean;
  };
  /** Metrics per epoch, Keras names (`loss`, `accuracy`, `val_loss`, …). */
  readonly history: Record<string, number[]> = {};
  /** The epoch running now (0-based), or -1 before training. */
  epoch = -1;
  #mode: "notebook" | "terminal" | "silent";
  #displayId = "";
  #started = 0;
  #epochStarted = 0;
  #step = 0;
  #batchLogs: Record<string, number> = {};
  #lastDraw = 0;
  #shown = false;
  #done = false;
  readonly #info?: ProgressInfo;

  constructor(options: ProgressOptions = {}) {
    super();
    const mode = options.mode ?? "auto";
    if (!["auto", "notebook", "terminal", "silent"].includes(mode)) {
      throw new RangeError(
        `Cannot make progress: mode must be auto, notebook, terminal or silent, got ${mode}`,
      );
    }
    this.options = {
      mode,
      title: options.title ?? "Training",
      chart: options.chart ?? true,
      updateEvery: options.updateEvery ?? 2,
      write: options.write ?? defaultWrite,
      interactive: options.interactive ?? stdoutIsTerminal(),
    };
    this.#mode = mode === "auto" ? (inNotebook() ? "notebook" : "terminal") : mode;
    this.#info = options.info;
  }

  /** Epochs planned (from the trainer's params). */
  get epochs(): number {
    return Number((this.params as Record<string, unknown> | undefined)?.epochs ?? 0);
  }

  /** Batches per epoch, when the trainer says. */
  get steps(): number | undefined {
    const p = this.params as Record<string, unknown> | undefined;
    const steps = Number(p?.steps ?? NaN);
    if (Number.isFinite(steps) && steps > 0) return steps;
    const samples = Number(p?.samples ?? NaN), batch = Number(p?.batchSize ?? NaN);
    return Number.isFinite(samples) && Number.isFinite(batch) && batch > 0
      ? Math.ceil(samples / batch)
      : undefined;
  }

  /**
   * Convlab's `fit` asks before paying for per-batch logs (each read pauses the backend): only
   * when the next in-epoch redraw is due.
   */
  override wantsBatchLogs(_batch: number): boolean {
    return this.#mode !== "silent" && performance.now() - this.#lastDraw >= this.#redrawMs;
  }

  get #redrawMs(): number {
    return this.#mode === "terminal" ? 250 : this.options.updateEvery * 1000;
  }

  override async onTrainBegin(_logs?: unknown): Promise<void> {
    this.#started = performance.now();
    this.#displayId = `convlab-progress-${Date.now().toString(36)}-${++displayCounter}`;
    this.#done = false;
    this.#shown = false;
    await this.#draw(true);
  }

  override onEpochBegin(epoch: number, _logs?: unknown): Promise<void> {
    this.epoch = epoch;
    this.#step = 0;
    this.#batchLogs = {};
    this.#epochStarted = performance.now();
    return Promise.resolve();
  }

  override async onBatchEnd(batch: number, logs?: unknown): Promise<void> {
    this.#step = batch + 1;
    this.#batchLogs = await resolveLogs(logs);
    if (performance.now() - this.#lastDraw >= this.#redrawMs) await this.#draw(false);
  }

  override async onEpochEnd(epoch: number, logs?: unknown): Promise<void> {
    const values = await resolveLogs(logs);
    for (const [k, v] of Object.entries(values)) {
      (this.history[k] ??= []).length = epoch;
      this.history[k][epoch] = v;
    }
    this.#step = this.steps ?? this.#step;
    this.#batchLogs = {};
    await this.#draw(true);
    if (this.#mode === "terminal") this.options.write(this.options.interactive ? "\n" : "");
  }

  override async onTrainEnd(_logs?: unknown): Promise<void> {
    this.#done = true;
    await this.#draw(true);
  }

  /** Keras-like one-line summary of the current state. */
  line(): string {
    const epochs = this.epochs;
    const e = Math.max(this.epoch, 0) + 1;
    const steps = this.steps;
    const last = this.#lastEpochLogs();
    const logs = Object.keys(this.#batchLogs).length ? this.#batchLogs : last;
    const elapsed = (performance.now() - (this.#epochStarted || this.#started)) / 1000;
    const parts = [
      `Epoch ${e}/${epochs || "?"}`,
      steps ? `${textBar(this.#step, steps)} ${this.#step}/${steps}` : `${this.#step} batches`,
      formatSeconds(elapsed),
      ...Object.entries(logs).map(([k, v]) => `${k}: ${formatLog(v)}`),
    ];
    return parts.join(" - ");
  }

  #lastEpochLogs(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(this.history)) {
      if (v.length > 0 && v[v.length - 1] !== undefined) out[k] = v[v.length - 1];
    }
    return out;
  }

  async #draw(force: boolean): Promise<void> {
    this.#lastDraw = performance.now();
    if (this.#mode === "silent") return;
    if (this.#mode === "terminal") {
      if (this.epoch < 0) return;
      if (this.options.interactive) this.options.write(`\r${this.line()}\x1b[K`);
      else if (force && Object.keys(this.#batchLogs).length === 0 && !this.#done) {
        this.options.write(`${this.line()}\n`);
      }
      return;
    }
    await show(this, { displayId: this.#displayId, update: this.#shown });
    this.#shown = true;
  }

  /** The notebook display's MIME bundle. */
  [DISPLAY](): MimeBundle {
    const epochs = this.epochs;
    const doneEpochs = Object.values(this.history)[0]?.length ?? 0;
    const steps = this.steps;
    const fraction = epochs
      ? Math.min(1, (doneEpochs + (this.#done ? 0 : steps ? this.#step / steps : 0)) / epochs)
      : 0;
    const seconds = (performance.now() - this.#started) / 1000;
    const status = this.#done
      ? `done: ${doneEpochs} epoch(s) in ${formatSeconds(seconds)}`
      : this.epoch < 0
      ? "starting…"
      : `epoch ${this.epoch + 1}/${epochs || "?"}${
        steps ? `, batch ${this.#step}/${steps}` : ""
      } · ${formatSeconds(seconds)}`;
    const header =
      `${this.options.title} — ${status} · backend ${tf.getBackend()} · seed ${currentSeed()}`;
    const rows = Array.from({ length: doneEpochs }, (_, i) => {
      const row: Record<string, unknown> = { epoch: i + 1 };
      for (const [k, v] of Object.entries(this.history)) {
        row[k] = v[i] === undefined ? "" : formatLog(v[i]);
      }
      return row;
    });
    const table = rows.length
      ? new Table(
        Object.keys(rows[rows.length - 1]),
        rows.slice(-8).map((r) => Object.values(r).map(String)),
      )
      : undefined;
    let chart = "";
    if (this.options.chart && doneEpochs >= 1) {
      const panels = historyPanels(this.history);
      chart = toSvg({ panels, width: Math.min(900, 330 * panels.length), height: 240 });
    }
    const html = `<div style="font-family:sans-serif;font-size:13px">` +
      `<div style="font-weight:bold">${escapeXml(header)}</div>` +
      `<progress value="${fraction.toFixed(3)}" max="1" style="width:320px"></progress> ` +
      `${Math.round(fraction * 100)}%` +
      (Object.keys(this.#batchLogs).length
        ? `<div>${
          escapeXml(
            Object.entries(this.#batchLogs).map(([k, v]) => `${k}: ${formatLog(v)}`).join(" · "),
          )
        }</div>`
        : "") +
      `<div style="display:flex;gap:16px;align-items:flex-start;margin-top:4px">` +
      (table ? table.toHtml() : "") + chart + `</div></div>`;
    const text = [header, ...(table ? [table.toString()] : [])].join("\n");
    return { "text/html": html, "text/plain": text };
  }
}

/**
 * A live progress callback for training.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { progress } from "./progress.ts";
 * const model = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [1] })] });
 * model.compile({ optimizer: "sgd", loss: "meanSquaredError" });
 * const x = tf.ones([8, 1]), y = tf.ones([8, 1]);
 * await model.fit(x, y, { epochs: 2, callbacks: [progress({ mode: "silent" })] });
 * ```
 */
export function progress(options: ProgressOptions = {}): TrainingProgress {
  return new TrainingProgress(options);
}

/**
 * Make Convlab's `fit(..., {verbose: 1})` use this display inside notebooks (the metrics table and
 * live curves); terminals keep `fit`'s own Keras-style lines. `import * as cl from "convlab"`
 * installs it; `setProgressFactory(null)` restores the plain display.
 */
export function installProgressDisplay(): void {
  setProgressFactory((verbose, info) =>
    verbose === 1 && inNotebook()
      ? new TrainingProgress({ mode: "notebook", info })
      : new ProgressLogger(verbose, info)
  );
}
