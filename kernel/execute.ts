/**
 * Headless notebook execution: `executeNotebook(nb, options)` runs every code cell in one
 * kernel session, as Deno's Jupyter kernel would, and returns an executed copy with outputs,
 * execution counts and nbclient-style timing metadata. The input is never changed.
 *
 * @module
 */
import { dirname, resolve } from "node:path";
import {
  CellExecutionError,
  CellInterruptedError,
  type CellLocation,
  CellTimeoutError,
  DeadKernelError,
  type NotebookExecutionError,
} from "./errors.ts";
import { type Cell, cellTags, type CodeCell, type Notebook } from "./notebook.ts";
import { injectParameters } from "./parameters.ts";
import { type CellReply, Session } from "./session/session.ts";
import { lessonPermissions, type SessionPermissions } from "./session/permissions.ts";

/** Tag: do not run this cell. */
export const SKIP_EXECUTION_TAG = "skip-execution";
/** Tag: this cell is expected to raise; its error does not stop the run. */
export const RAISES_EXCEPTION_TAG = "raises-exception";

/** Options of {@linkcode executeNotebook}; each mirrors a `deno task nb run` flag. */
export interface ExecuteOptions {
  /** The notebook's file: its folder is the working directory; used in messages. */
  path?: string;
  /** Working directory of the kernel (overrides the notebook's folder). */
  cwd?: string;
  /** Papermill-style parameters, injected after the cell tagged `parameters` (`-p name=value`). */
  parameters?: Record<string, unknown>;
  /** Per-cell time limit in seconds (`--timeout`). Default: none. */
  timeout?: number;
  /** Whole-notebook time limit in seconds (`--notebook-timeout`). Default: none. */
  notebookTimeout?: number;
  /** Keep going after a cell fails (`--allow-errors`). Default: stop at the first error. */
  allowErrors?: boolean;
  /**
   * Permissions of the kernel. Default: the lesson grants (read the project, Deno's cache and
   * `/usr/share/datasets`; write the notebook's folder, `.cache/` and the temp folder, but
   * never the notebook file itself; env, sys; network only with `allowNet`).
   */
  permissions?: SessionPermissions;
  /** Allow network access in the default lesson grants (`--allow-net`). Default false. */
  allowNet?: boolean;
  /** V8 heap cap of the kernel in MB (`--memory`). Default 4096. */
  memoryMb?: number;
  /** Per-cell output cap in bytes; head and tail are kept (`--max-output`). Default 1 MiB. */
  maxOutputBytes?: number;
  /** Wait up to this many ms for timers a cell started (`--settle`). Default 500. */
  settleMs?: number;
  /** Extra environment variables for the kernel. */
  env?: Record<string, string>;
  /** Extra `deno run` flags for the kernel (e.g. `["--frozen"]`). */
  denoArgs?: string[];
  /** Called as cells start and end. */
  onProgress?: (event: ProgressEvent) => void;
  /** Aborting stops the running cell and the run (as an interrupt). */
  signal?: AbortSignal;
}

/** One CLI flag of `deno task nb run`, with its help text and default. */
export interface FlagHelp {
  flag: string;
  option: keyof ExecuteOptions | "out" | "inplace" | "quiet";
  value?: string;
  help: string;
  default?: string;
}

/** The `nb run` flags: one table for both the CLI's help and the options' documentation. */
export const RUN_FLAGS: readonly FlagHelp[] = [
  {
    flag: "--out",
    option: "out",
    value: "<file>",
    help: "where to write the executed notebook",
    default: "<name>.out.ipynb beside the input",
  },
  {
    flag: "-p",
    option: "parameters",
    value: "name=value",
    help: "set a parameter (JSON if it parses, else a string); repeatable",
  },
  {
    flag: "--timeout",
    option: "timeout",
    value: "<s>",
    help: "per-cell time limit in seconds",
    default: "none",
  },
  {
    flag: "--notebook-timeout",
    option: "notebookTimeout",
    value: "<s>",
    help: "whole-notebook time limit in seconds",
    default: "none",
  },
  {
    flag: "--allow-errors",
    option: "allowErrors",
    help: "run every cell even after one fails (the exit code still says it failed)",
  },
  {
    flag: "--allow-net",
    option: "allowNet",
    help: "let the notebook use the network",
    default: "no network",
  },
  {
    flag: "--memory",
    option: "memoryMb",
    value: "<MB>",
    help: "V8 heap cap of the kernel",
    default: "4096",
  },
  {
    flag: "--max-output",
    option: "maxOutputBytes",
    value: "<bytes>",
    help: "per-cell output cap; the head and tail are kept",
    default: "1048576",
  },
  {
    flag: "--settle",
    option: "settleMs",
    value: "<ms>",
    help: "wait this long for timers a cell started",
    default: "500",
  },
  {
    flag: "--inplace",
    option: "inplace",
    help: "overwrite the input notebook with the executed one",
  },
  { flag: "--quiet", option: "quiet", help: "print only the summary line" },
];

/** How a cell fared. */
export type CellRunStatus =
  | "ok"
  | "error"
  | "expected-error"
  | "timeout"
  | "interrupted"
  | "dead"
  | "skipped"
  | "not-run"
  | "text";

/** One cell's outcome in an {@linkcode ExecuteResult}. */
export interface CellReport {
  /** 1-based cell number in the executed notebook. */
  cell: number;
  id?: string;
  cellType: Cell["cell_type"];
  status: CellRunStatus;
  executionCount?: number;
  durationMs?: number;
  /** The error (name, message, position in the cell) for failed cells. */
  error?: { ename: string; evalue: string; line?: number; column?: number };
}

/** Progress of a run. */
export type ProgressEvent =
  | { type: "start"; path?: string; total: number }
  /** The kernel process started (its pid, e.g. to watch its memory). */
  | { type: "kernel"; pid: number }
  | { type: "cell-start"; cell: number; position: number; total: number }
  | {
    type: "cell-end";
    cell: number;
    position: number;
    total: number;
    status: CellRunStatus;
    durationMs: number;
    error?: CellReport["error"];
  }
  | { type: "warning"; message: string }
  | { type: "done"; ok: boolean; durationMs: number };

/** What {@linkcode executeNotebook} returns. */
export interface ExecuteResult {
  /** The executed copy of the notebook. */
  notebook: Notebook;
  /** Whether every cell that had to run succeeded. */
  ok: boolean;
  /** One report per cell of the executed notebook. */
  cells: CellReport[];
  /** The first failure, as a typed error. */
  error?: NotebookExecutionError;
  /** Warnings (e.g. a parameter the parameters cell does not declare). */
  warnings: string[];
  durationMs: number;
}

/** Deno's kernel's `language_info`, which Jupyter stores in executed notebooks. */
function languageInfo(): Record<string, unknown> {
  return {
    codemirror_mode: "typescript",
    file_extension: ".ts",
    mimetype: "text/x.typescript",
    name: "typescript",
    nbconvert_exporter: "script",
    pygments_lexer: "typescript",
    version: Deno.version.typescript,
  };
}

function checkPositive(name: string, value: number | undefined): void {
  if (value !== undefined && !(Number.isFinite(value) && value > 0)) {
    throw new RangeError(
      `Cannot execute notebook: ${name} must be a positive number, got ${value}`,
    );
  }
}

function prepare(nb: Notebook, options: ExecuteOptions) {
  const injection = injectParameters(structuredClone(nb), options.parameters ?? {});
  const notebook = injection.notebook;
  for (const cell of notebook.cells) {
    if (cell.cell_type !== "code") continue;
    cell.outputs = [];
    cell.execution_count = null;
    delete cell.metadata.execution;
    delete cell.metadata.convlab;
  }
  notebook.metadata = { ...notebook.metadata, language_info: languageInfo() };
  return { notebook, warnings: injection.warnings };
}

/** The lesson grants, except that the notebook's own file is never writable by its code. */
function defaultPermissions(
  cwd: string,
  file: string | undefined,
  net: boolean,
): SessionPermissions {
  const grants = lessonPermissions(cwd, { net });
  return file ? { ...grants, denyWrite: [resolve(file)] } : grants;
}

function isoNow(date: Date): string {
  return date.toISOString();
}

function failureFor(
  reply: CellReply,
  file: string | undefined,
  location: CellLocation,
  timeout: number | undefined,
): NotebookExecutionError {
  switch (reply.status) {
    case "timeout":
      return new CellTimeoutError(reply.cause ?? "the cell timed out", {
        file,
        location,
        timeout: timeout ?? 0,
        kernelRestarted: reply.kernelLost,
      });
    case "interrupted":
      return new CellInterruptedError(reply.cause ?? "interrupted", { file, location });
    case "dead":
      return new DeadKernelError(reply.cause ?? "unknown cause", { file, location });
    default:
      return new CellExecutionError({
        file,
        location: { ...location, ...reply.errorPosition },
        ename: reply.error?.ename ?? "Error",
        evalue: reply.error?.evalue ?? "",
        traceback: reply.error?.traceback ?? [],
      });
  }
}

/**
 * Execute a notebook headlessly, in a fresh kernel session, and return the executed copy.
 *
 * Code cells run in order; `skip-execution` cells and empty cells are skipped; by default the
 * run stops at the first failing cell and marks the rest `not-run` (in the report and in each
 * cell's `metadata.convlab.status`). Cells tagged `raises-exception` may fail.
 *
 * @example
 * ```ts ignore
 * import { executeNotebook, readNotebook } from "./mod.ts";
 * const path = "lessons/01_convolution.ipynb";
 * const result = await executeNotebook(await readNotebook(path), { path, timeout: 60 });
 * if (!result.ok) throw result.error;
 * ```
 * @throws {KernelStartError} when the kernel cannot start; {RangeError} for bad options.
 */
export async function executeNotebook(
  nb: Notebook,
  options: ExecuteOptions = {},
): Promise<ExecuteResult> {
  checkPositive("timeout", options.timeout);
  checkPositive("notebookTimeout", options.notebookTimeout);
  checkPositive("memoryMb", options.memoryMb);
  checkPositive("maxOutputBytes", options.maxOutputBytes);
  const started = performance.now();
  const file = options.path;
  const { notebook, warnings } = prepare(nb, options);
  const emit = options.onProgress ?? (() => {});
  const spec = nb.metadata.kernelspec as { name?: string; language?: string } | undefined;
  if (spec?.name && !/deno/i.test(spec.name) && !/typescript/i.test(spec.language ?? "")) {
    warnings.push(
      `the notebook's kernel is "${spec.name}"; Convlab runs its code cells as TypeScript (Deno)`,
    );
  }
  for (const message of warnings) emit({ type: "warning", message });

  const cwd = resolve(options.cwd ?? (file ? dirname(resolve(file)) : Deno.cwd()));
  const reports: CellReport[] = notebook.cells.map((cell, i) => ({
    cell: i + 1,
    ...(cell.id ? { id: cell.id } : {}),
    cellType: cell.cell_type,
    status: cell.cell_type === "code" ? "not-run" : "text",
  }));
  const toRun = notebook.cells
    .map((cell, i) => ({ cell, i }))
    .filter((c): c is { cell: CodeCell; i: number } => c.cell.cell_type === "code");
  emit({ type: "start", path: file, total: toRun.length });

  const deadline = options.notebookTimeout
    ? performance.now() + options.notebookTimeout * 1000
    : Infinity;
  let firstError: NotebookExecutionError | undefined;
  let stopped = false;
  const session = await Session.start({
    cwd,
    permissions: options.permissions ?? defaultPermissions(cwd, file, options.allowNet ?? false),
    memoryMb: options.memoryMb ?? 4096,
    maxOutputBytes: options.maxOutputBytes,
    settleMs: options.settleMs,
    env: options.env,
    denoArgs: options.denoArgs,
  });
  const labels = new Map<string, number>();
  if (session.pid !== undefined) emit({ type: "kernel", pid: session.pid });
  try {
    for (const [position, { cell, i }] of toRun.entries()) {
      const report = reports[i];
      const location: CellLocation = { cell: i + 1, ...(cell.id ? { cellId: cell.id } : {}) };
      if (stopped) break;
      const tags = cellTags(cell);
      if (tags.includes(SKIP_EXECUTION_TAG) || cell.source.trim() === "") {
        report.status = "skipped";
        cell.metadata.convlab = { status: "skipped" };
        emit({
          type: "cell-end",
          cell: i + 1,
          position: position + 1,
          total: toRun.length,
          status: "skipped",
          durationMs: 0,
        });
        continue;
      }
      if (options.signal?.aborted) {
        firstError ??= new CellInterruptedError("the run was interrupted before this cell", {
          file,
          location,
        });
        break;
      }
      const left = (deadline - performance.now()) / 1000;
      if (left <= 0) {
        firstError ??= new CellTimeoutError(
          `the notebook did not finish within ${options.notebookTimeout} s`,
          { file, location, timeout: options.notebookTimeout!, kernelRestarted: false },
        );
        break;
      }
      const notebookLimited = options.timeout === undefined || left < options.timeout;
      const timeout = Number.isFinite(left) && notebookLimited ? left : options.timeout;
      emit({ type: "cell-start", cell: i + 1, position: position + 1, total: toRun.length });
      const label = `cell ${i + 1}`;
      labels.set(label, i);
      const notebookLimit = notebookLimited && options.notebookTimeout !== undefined;
      const reply = await session.execute(cell.source, {
        timeout,
        signal: options.signal,
        label,
        ...(notebookLimit
          ? { timeoutMessage: `the notebook did not finish within ${options.notebookTimeout} s` }
          : {}),
      });
      cell.outputs = reply.outputs;
      cell.execution_count = reply.executionCount;
      cell.metadata.execution = {
        "iopub.execute_input": isoNow(reply.startedAt),
        "iopub.status.busy": isoNow(reply.startedAt),
        "iopub.status.idle": isoNow(reply.finishedAt),
        "shell.execute_reply": isoNow(reply.finishedAt),
      };
      const durationMs = reply.durationMs;
      report.executionCount = reply.executionCount;
      report.durationMs = durationMs;
      let status: CellRunStatus = reply.status;
      if (status === "error" && tags.includes(RAISES_EXCEPTION_TAG)) status = "expected-error";
      report.status = status;
      cell.metadata.convlab = { status };
      if (reply.error) {
        report.error = {
          ename: reply.error.ename,
          evalue: reply.error.evalue,
          ...reply.errorPosition,
        };
      } else if (reply.cause) {
        const ename = reply.status === "timeout"
          ? "CellTimeoutError"
          : reply.status === "dead"
          ? "DeadKernelError"
          : "CellInterruptedError";
        report.error = { ename, evalue: reply.cause };
      }
      emit({
        type: "cell-end",
        cell: i + 1,
        position: position + 1,
        total: toRun.length,
        status,
        durationMs,
        ...(report.error ? { error: report.error } : {}),
      });
      if (status !== "ok" && status !== "expected-error") {
        const notebookTimedOut = status === "timeout" && notebookLimit;
        firstError ??= notebookTimedOut
          ? new CellTimeoutError(
            reply.cause ?? `the notebook did not finish within ${options.notebookTimeout} s`,
            {
              file,
              location,
              timeout: options.notebookTimeout!,
              kernelRestarted: reply.kernelLost,
            },
          )
          : failureFor(reply, file, location, timeout);
        const canGoOn = options.allowErrors && !reply.kernelLost && status !== "interrupted" &&
          !notebookTimedOut;
        if (!canGoOn) stopped = true;
      }
      // Errors thrown later by timers or promises of cells that had already finished.
      for (const late of session.takeLateErrors()) {
        const index = labels.get(late.label);
        if (index === undefined) continue;
        const lateCell = notebook.cells[index];
        if (cellTags(lateCell).includes(RAISES_EXCEPTION_TAG)) continue;
        reports[index].status = "error";
        reports[index].error ??= { ename: late.error.ename, evalue: late.error.evalue };
        lateCell.metadata.convlab = { status: "error" };
        firstError ??= new CellExecutionError({
          file,
          location: { cell: index + 1, ...(lateCell.id ? { cellId: lateCell.id } : {}) },
          ename: late.error.ename,
          evalue: late.error.evalue,
          traceback: late.error.traceback,
        });
        if (!options.allowErrors) stopped = true;
      }
    }
  } finally {
    await session.close();
  }
  for (const [position, { cell, i }] of toRun.entries()) {
    if (reports[i].status !== "not-run") continue;
    cell.metadata.convlab = { status: "not-run" };
    emit({
      type: "cell-end",
      cell: i + 1,
      position: position + 1,
      total: toRun.length,
      status: "not-run",
      durationMs: 0,
    });
  }
  const ok = firstError === undefined;
  const durationMs = performance.now() - started;
  emit({ type: "done", ok, durationMs });
  return {
    notebook,
    ok,
    cells: reports,
    ...(firstError ? { error: firstError } : {}),
    warnings,
    durationMs,
  };
}
