/**
 * Typed errors of notebook execution, in nbclient's spirit: each says which cell, where in it,
 * and what happened.
 *
 * @module
 */

/** Where in a notebook something happened (1-based). */
export interface CellLocation {
  /** 1-based index of the cell in the notebook (all cells counted, as editors number them). */
  cell: number;
  /** The cell's id, when it has one. */
  cellId?: string;
  /** 1-based line in the cell, when known. */
  line?: number;
  /** 1-based column in the cell, when known. */
  column?: number;
}

function where(file: string | undefined, at: CellLocation): string {
  const pos = at.line ? `, line ${at.line}${at.column ? `, column ${at.column}` : ""}` : "";
  return `${file ? `${file}: ` : ""}cell ${at.cell}${at.cellId ? ` (id ${at.cellId})` : ""}${pos}`;
}

/** Base class: a cell did not complete. */
export class NotebookExecutionError extends Error {
  override name = "NotebookExecutionError";
  /** The notebook file, if known. */
  readonly file?: string;
  /** The cell (and position in it) that failed. */
  readonly location: CellLocation;
  constructor(message: string, options: { file?: string; location: CellLocation }) {
    super(`${where(options.file, options.location)}: ${message}`);
    this.file = options.file;
    this.location = options.location;
  }
}

/** A cell raised an error (uncaught exception, syntax error, or an error from its timers). */
export class CellExecutionError extends NotebookExecutionError {
  override name = "CellExecutionError";
  /** The error's name, e.g. `TypeError`. */
  readonly ename: string;
  /** The error's message. */
  readonly evalue: string;
  /** The traceback lines, positions mapped into cells. */
  readonly traceback: string[];
  constructor(
    options: {
      file?: string;
      location: CellLocation;
      ename: string;
      evalue: string;
      traceback: string[];
    },
  ) {
    super(`${options.ename}: ${options.evalue}`, options);
    this.ename = options.ename;
    this.evalue = options.evalue;
    this.traceback = options.traceback;
  }
}

/** A cell ran longer than the per-cell or whole-notebook timeout. */
export class CellTimeoutError extends NotebookExecutionError {
  override name = "CellTimeoutError";
  /** The limit that was hit, in seconds. */
  readonly timeout: number;
  /** Whether the kernel had to be killed (the cell never yielded). */
  readonly kernelRestarted: boolean;
  constructor(
    message: string,
    options: { file?: string; location: CellLocation; timeout: number; kernelRestarted: boolean },
  ) {
    super(message, options);
    this.timeout = options.timeout;
    this.kernelRestarted = options.kernelRestarted;
  }
}

/** The run was interrupted (an `AbortSignal` fired) while a cell ran. */
export class CellInterruptedError extends NotebookExecutionError {
  override name = "CellInterruptedError";
}

/** The kernel process died while a cell ran: `Deno.exit`, out of memory, a crash or a kill. */
export class DeadKernelError extends NotebookExecutionError {
  override name = "DeadKernelError";
  /** What killed it, e.g. "ran out of memory (V8 heap cap 256 MB)". */
  readonly reason: string;
  constructor(reason: string, options: { file?: string; location: CellLocation }) {
    super(`the kernel died: ${reason}`, options);
    this.reason = reason;
  }
}

/** The kernel process could not be started. */
export class KernelStartError extends Error {
  override name = "KernelStartError";
}
