/**
 * A training run an app starts when its model is missing: one at a time, with progress that the
 * page shows as a bar (through Server-Sent Events) and the console as a line per stage.
 *
 * @module
 */

/** Where a training run is. */
export interface TrainingStatus {
  state: "idle" | "running" | "done" | "failed" | "cancelled";
  /** What is trained, e.g. "LeNet-5 on MNIST (8,000 training digits, 3 epochs)". */
  title: string;
  /** What happens now, e.g. "epoch 2 of 3". */
  stage: string;
  /** Overall progress in [0, 1]. */
  fraction: number;
  /** Latest metrics (loss, accuracy, val_accuracy…). */
  metrics: Record<string, number>;
  /** When finished: what came out (or what went wrong). */
  message?: string;
  /** Seconds since the start. */
  elapsed: number;
}

/** What a recipe may report; fields left out keep their value. */
export type ProgressUpdate = Partial<Pick<TrainingStatus, "stage" | "fraction" | "metrics">>;

/** A training recipe: trains, saves, and returns a one-line summary (e.g. the test accuracy). */
export type TrainingRecipe = (context: {
  report: (update: ProgressUpdate) => void;
  signal: AbortSignal;
}) => Promise<string>;

/** Thrown by recipes when their signal aborts. */
export class TrainingCancelled extends Error {
  constructor() {
    super("Training was cancelled");
    this.name = "TrainingCancelled";
  }
}

/** One app's training: at most one run at a time, watched by any number of pages. */
export class TrainingJob {
  #status: TrainingStatus = {
    state: "idle",
    title: "",
    stage: "",
    fraction: 0,
    metrics: {},
    elapsed: 0,
  };
  #listeners = new Set<(status: TrainingStatus) => void>();
  #controller?: AbortController;
  #started = 0;
  #lastSent = 0;
  #lastStage = "";
  #running?: Promise<void>;

  /** The current status (a copy). */
  get status(): TrainingStatus {
    const elapsed = this.#status.state === "running"
      ? (performance.now() - this.#started) / 1000
      : this.#status.elapsed;
    return { ...this.#status, metrics: { ...this.#status.metrics }, elapsed };
  }

  /** Whether a run is in progress. */
  get running(): boolean {
    return this.#status.state === "running";
  }

  /**
   * Start a run unless one is in progress (then the caller watches that one).
   *
   * @param title What is trained.
   * @param recipe The training.
   * @param onDone Called after a successful run (e.g. to load the new model).
   * @returns Whether a new run started.
   */
  start(title: string, recipe: TrainingRecipe, onDone?: () => Promise<void>): boolean {
    if (this.running) return false;
    this.#controller = new AbortController();
    this.#started = performance.now();
    this.#status = {
      state: "running",
      title,
      stage: "starting",
      fraction: 0,
      metrics: {},
      elapsed: 0,
    };
    console.log(`Training ${title}…`);
    this.#emit(true);
    const signal = this.#controller.signal;
    this.#running = (async () => {
      try {
        const summary = await recipe({ report: (update) => this.#update(update), signal });
        if (signal.aborted) throw new TrainingCancelled();
        await onDone?.();
        this.#finish("done", summary);
      } catch (error) {
        if (error instanceof TrainingCancelled || signal.aborted) {
          this.#finish("cancelled", "Training was cancelled; nothing was saved.");
        } else {
          console.error("Training failed:", error);
          const reason = error instanceof Error ? error.message : String(error);
          this.#finish("failed", `Training failed: ${reason}`);
        }
      }
    })();
    return true;
  }

  /** Cancel a run in progress and wait until it has stopped. */
  async cancel(): Promise<void> {
    this.#controller?.abort();
    await this.#running;
  }

  /** Be told of every change; returns a function that stops it. */
  subscribe(listener: (status: TrainingStatus) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #update(update: ProgressUpdate): void {
    if (!this.running) return;
    Object.assign(this.#status, update);
    // A new stage is always sent (a short run would otherwise show one value and then "done").
    const stage = update.stage;
    const newStage = stage !== undefined && stage !== this.#lastStage;
    if (newStage) {
      this.#lastStage = stage;
      const metrics = Object.entries(this.#status.metrics)
        .map(([name, value]) => `${name} ${value.toFixed(4)}`).join(", ");
      console.log(`  ${stage}${metrics ? ` (${metrics})` : ""}`);
    }
    this.#emit(newStage);
  }

  #finish(state: TrainingStatus["state"], message: string): void {
    this.#status = {
      ...this.#status,
      state,
      message,
      fraction: state === "done" ? 1 : this.#status.fraction,
      elapsed: (performance.now() - this.#started) / 1000,
    };
    console.log(`  ${message}`);
    this.#emit(true);
  }

  /** Tell listeners, at most ten times a second unless it matters (a new stage, the end). */
  #emit(force: boolean): void {
    const now = performance.now();
    if (!force && now - this.#lastSent < 100) return;
    this.#lastSent = now;
    const status = this.status;
    for (const listener of this.#listeners) listener(status);
  }
}
