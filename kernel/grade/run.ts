/**
 * Run a prepared submission in a sandboxed kernel session and read the outcome on the host.
 *
 * The notebook that runs is the grader's prelude (which imports the test helpers and locks the
 * realm down, see `lockdown.ts`) followed by the prepared cells. The session is the kernel's
 * `executeNotebook` with the sandbox's permissions, the project's `deno.json` (a submission's
 * own configuration never applies), the lock file frozen, no remote modules, errors allowed
 * (every test cell runs, as nbgrader does), per-cell and notebook time limits, a V8 heap cap and,
 * on Linux, a watchdog on the process's resident memory.
 *
 * @module
 */
import { join } from "node:path";
import { type CellReport, executeNotebook, type ProgressEvent } from "../mod.ts";
import type { Cell, Notebook } from "../notebook.ts";
import type { GradingKey } from "./key.ts";
import { keeperSource } from "./keep.ts";
import { partitionPreload, preludeSource } from "./lockdown.ts";
import type { PreparedSubmission } from "./restore.ts";
import {
  PROJECT_ROOT,
  type SandboxPermissions,
  SESSION_ENV,
  SESSION_PRELUDE,
  type WatchdogCause,
  watchProcess,
} from "./sandbox.ts";
import type { CellRun, CellRunStatus, RunOutcome } from "./score.ts";

/** Where and how to run one submission. */
export interface RunContext {
  key: GradingKey;
  /** The notebook's path in the scratch folder (names it in messages). */
  path: string;
  /** The session's working directory (the notebook's folder in the scratch folder). */
  cwd: string;
  permissions: SandboxPermissions;
  timeout: number;
  notebookTimeout: number;
  memoryMb: number;
  /** Per-cell output cap in bytes (default 1 MiB; head and tail kept). */
  maxOutputBytes?: number;
  signal?: AbortSignal;
}

/** Metadata that marks the prelude cell. */
const PRELUDE_MARK = { convlab: { grader: "prelude" } };

function preludeCell(key: GradingKey, keeper: string): Cell {
  const { deep, classes } = partitionPreload(key.preload);
  return {
    cell_type: "code",
    source: preludeSource(deep, classes, `${keeperSource(keeper)} ${SESSION_PRELUDE}`),
    metadata: structuredClone(PRELUDE_MARK),
    outputs: [],
    execution_count: null,
  };
}

const STATUS: Record<CellReport["status"], CellRunStatus> = {
  "ok": "ok",
  "error": "error",
  // A test cell cannot carry `raises-exception` from a student; from the key it still fails.
  "expected-error": "error",
  "timeout": "timeout",
  "interrupted": "timeout",
  "dead": "crashed",
  "skipped": "skipped",
  "not-run": "not-run",
  "text": "skipped",
};

function cellRun(report: CellReport | undefined): CellRun {
  if (!report) return { status: "not-run" };
  const run: CellRun = { status: STATUS[report.status] };
  if (report.durationMs !== undefined) run.duration = Math.round(report.durationMs) / 1000;
  if (report.error) {
    run.message = report.status === "dead" || report.status === "timeout"
      ? report.error.evalue
      : `${report.error.ename}: ${report.error.evalue}`;
  }
  return run;
}

/**
 * Retry a kernel that failed to start (a busy machine can miss a start deadline): a student's
 * grade should not depend on that. Any other error is passed on at once.
 */
async function withStartRetry<T>(run: () => Promise<T>, attempts = 3): Promise<T> {
  for (let i = 1;; i++) {
    try {
      return await run();
    } catch (e) {
      if ((e as Error).name !== "KernelStartError" || i >= attempts) throw e;
      await new Promise((r) => setTimeout(r, 250 * i));
    }
  }
}

/**
 * Run one prepared submission.
 *
 * @returns the executed notebook (without the prelude), parallel to `prepared.cells`, and the
 * outcome the host observed.
 */
export async function runSubmission(
  prepared: PreparedSubmission,
  ctx: RunContext,
): Promise<{ executed: Notebook; outcome: RunOutcome }> {
  const notebook: Notebook = {
    ...prepared.notebook,
    cells: [preludeCell(ctx.key, prepared.keeper), ...structuredClone(prepared.notebook.cells)],
  };
  // The heap cap covers V8's heap; typed arrays and WebAssembly memory live outside it, so the
  // watchdog allows the heap plus room for those and kills the process past that, or when it
  // starts a worker.
  const rssLimitMb = ctx.memoryMb * 1.5 + 256;
  let stoppedBy: WatchdogCause | undefined;
  const watchdogs: (() => void)[] = [];
  const onProgress = (event: ProgressEvent) => {
    if (event.type !== "kernel") return;
    const pid = event.pid;
    watchdogs.push(watchProcess(pid, rssLimitMb, (cause) => {
      stoppedBy = cause;
      try {
        Deno.kill(pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }));
  };
  let result;
  try {
    result = await withStartRetry(() =>
      executeNotebook(notebook, {
        path: ctx.path,
        cwd: ctx.cwd,
        permissions: ctx.permissions,
        timeout: ctx.timeout,
        notebookTimeout: ctx.notebookTimeout,
        allowErrors: true,
        memoryMb: ctx.memoryMb,
        maxOutputBytes: ctx.maxOutputBytes ?? 1024 * 1024,
        env: { ...SESSION_ENV },
        denoArgs: ["--config", join(PROJECT_ROOT, "deno.json"), "--frozen", "--cached-only"],
        onProgress,
        signal: ctx.signal,
      })
    );
  } finally {
    for (const stop of watchdogs) stop();
  }
  const [preludeReport, ...reports] = result.cells;
  const cells = reports.map(cellRun);
  const outcome: RunOutcome = {
    cells,
    limits: {
      timeout: ctx.timeout,
      notebookTimeout: ctx.notebookTimeout,
      memoryMb: ctx.memoryMb,
    },
  };
  if (preludeReport?.status !== "ok") {
    const run = cellRun(preludeReport);
    outcome.preludeError = run.message ?? run.status;
  }
  const crashed = cells.find((c) => c.status === "crashed");
  if (stoppedBy?.kind === "memory" && crashed) {
    outcome.crashCause = `it used more than ${Math.round(stoppedBy.limitMb)} MiB of memory ` +
      `(${Math.round(stoppedBy.rssMb)} MiB resident) and was stopped`;
  } else if (stoppedBy?.kind === "workers" && crashed) {
    outcome.crashCause = "it started a worker thread, which grading does not allow, and was " +
      "stopped";
  } else if (crashed?.message) {
    outcome.crashCause = crashed.message;
  }
  if (result.error?.message.includes("the notebook did not finish within")) {
    outcome.notebookTimeout = true;
  }
  const executed: Notebook = {
    ...prepared.notebook,
    cells: result.notebook.cells.slice(1),
  };
  return { executed, outcome };
}
