/**
 * Training progress for `fit` (its `verbose` option): in a notebook, one display that updates in
 * place (epochs done, the running epoch's progress and metrics); elsewhere one line per epoch in
 * the style of Keras's `verbose=2`, or an updating bar on a terminal with `verbose: 1`.
 * `lib/viz` can replace the notebook display with its own through {@linkcode setProgressFactory}.
 *
 * Introduced in lesson 02 (LeNet-5), used by every lesson that trains.
 *
 * @module
 */

import { Callback, type Logs, resolveLogs } from "./callbacks.ts";
import { displayable, inNotebook, show } from "./display.ts";

/** What a progress display is told when training starts. */
export interface ProgressInfo {
  epochs: number;
  initialEpoch: number;
  /** Batches per epoch, or null when unknown (a batch source without a length). */
  steps: number | null;
  /** Training samples per epoch, or null when unknown. */
  samples: number | null;
  /** Validation samples, or null when none or unknown. */
  validationSamples: number | null;
  /** tfjs backend name. */
  backend: string;
  /** The seed in use (`cl.seed`). */
  seed: number;
  /** The model's name. */
  modelName: string;
}

/** Makes the progress callback for a `fit` call. */
export type ProgressFactory = (verbose: 0 | 1 | 2, info: ProgressInfo) => Callback | null;

/** Keras's number format in logs: 4 decimals, or scientific below 1e-3. */
export function formatValue(value: number): string {
  if (!Number.isFinite(value)) return String(value).toLowerCase();
  if (value !== 0 && Math.abs(value) < 1e-3) {
    return value.toExponential(4).replace(/e([+-])(\d)$/, "e$10$2");
  }
  return value.toFixed(4);
}

/** `loss: 0.1234 - accuracy: 0.9876 - …` */
export function formatLogs(logs: Logs): string {
  return Object.entries(logs).map(([k, v]) => `${k}: ${formatValue(v)}`).join(" - ");
}

/** Keras's time per step: `53ms/step`, `535us/step`, `2s/step`. */
function perStep(seconds: number): string {
  if (seconds >= 1) return `${Math.round(seconds)}s/step`;
  if (seconds >= 1e-3) return `${Math.round(seconds * 1e3)}ms/step`;
  return `${Math.round(seconds * 1e6)}us/step`;
}

function bar(done: number, total: number | null, width = 30): string {
  if (total === null || total <= 0) return "";
  const filled = Math.min(width, Math.floor((width * done) / total));
  const head = filled < width ? ">" : "";
  return `[${"=".repeat(Math.max(0, filled - (head ? 1 : 0)))}${head}${
    ".".repeat(width - filled)
  }] `;
}

/** The built-in progress display (see the module doc). */
export class ProgressLogger extends Callback {
  readonly verbose: 0 | 1 | 2;
  readonly info: ProgressInfo;
  readonly notebook: boolean;
  readonly #lines: string[] = [];
  readonly #displayId = `convlab-fit-${crypto.randomUUID()}`;
  readonly #tty: boolean;
  #epoch = 0;
  #epochStart = 0;
  #lastUpdate = 0;
  #steps = 0;
  #shown = false;

  constructor(verbose: 0 | 1 | 2, info: ProgressInfo, notebook = inNotebook()) {
    super();
    this.verbose = verbose;
    this.info = info;
    this.notebook = notebook;
    this.#tty = !notebook && verbose === 1 && isTerminal();
  }

  /** Running logs are read at most twice a second (each read pauses the backend). */
  override wantsBatchLogs(): boolean {
    return (this.notebook || this.#tty) && performance.now() - this.#lastUpdate > 500;
  }

  #header(): string {
    const { samples, validationSamples, backend, seed, modelName } = this.info;
    const data = samples === null ? "batches" : `${samples} samples`;
    const validation = validationSamples === null
      ? ""
      : `, validate on ${validationSamples} samples`;
    return `Train ${modelName} on ${data}${validation} (backend ${backend}, seed ${seed})`;
  }

  #stepText(step: number): string {
    const total = this.info.steps;
    return `${step}/${total ?? "unknown"}`;
  }

  async #render(current: string): Promise<void> {
    const text = [this.#header(), ...this.#lines, ...(current ? [current] : [])].join("\n");
    const esc = text.replace(/&/g, "&amp;").replace(/</g, "&lt;");
    await show(displayable({ "text/plain": text, "text/html": `<pre>${esc}</pre>` }), {
      displayId: this.#displayId,
      update: this.#shown,
    });
    this.#shown = true;
  }

  override async onTrainBegin(): Promise<void> {
    if (this.notebook) await this.#render("");
    else console.log(this.#header());
  }

  override onEpochBegin(epoch: number): Promise<void> {
    this.#epoch = epoch;
    this.#epochStart = performance.now();
    this.#lastUpdate = performance.now();
    this.#steps = 0;
    return Promise.resolve();
  }

  override onBatchBegin(batch: number): Promise<void> {
    this.#steps = batch + 1;
    return Promise.resolve();
  }

  override async onBatchEnd(batch: number, rawLogs?: Record<string, unknown>): Promise<void> {
    this.#steps = batch + 1;
    this.#lastUpdate = performance.now();
    const logs = await resolveLogs(rawLogs);
    const line = `Epoch ${this.#epoch + 1}/${this.info.epochs} ${
      bar(this.#steps, this.info.steps)
    }${this.#stepText(this.#steps)} - ${formatLogs(logs)}`;
    if (this.notebook) await this.#render(line);
    else if (this.#tty) await writeTerminal(`\r${line}\x1b[K`);
  }

  override async onEpochEnd(epoch: number, rawLogs?: Record<string, unknown>): Promise<void> {
    const logs = await resolveLogs(rawLogs);
    const seconds = (performance.now() - this.#epochStart) / 1000;
    const steps = this.info.steps ?? Math.max(1, this.#steps);
    const line = `Epoch ${epoch + 1}/${this.info.epochs} - ${this.#stepText(steps)} - ` +
      `${Math.round(seconds)}s - ${formatLogs(logs)} - ${perStep(seconds / steps)}`;
    this.#lines.push(line);
    if (this.notebook) await this.#render("");
    else if (this.#tty) await writeTerminal(`\r${line}\x1b[K\n`);
    else console.log(line);
  }
}

function isTerminal(): boolean {
  try {
    return Deno.stdout.isTerminal();
  } catch {
    return false;
  }
}

async function writeTerminal(text: string): Promise<void> {
  await Deno.stdout.write(new TextEncoder().encode(text));
}

let factory: ProgressFactory | null = null;

/**
 * Replace the built-in progress display of `fit` (lib/viz does this for its live charts);
 * `null` restores the built-in one.
 */
export function setProgressFactory(make: ProgressFactory | null): void {
  factory = make;
}

/** The progress callback for a `fit` call (none for `verbose: 0`). */
export function makeProgress(verbose: 0 | 1 | 2, info: ProgressInfo): Callback | null {
  if (verbose === 0) return null;
  if (factory) return factory(verbose, info);
  return new ProgressLogger(verbose, info);
}
