/**
 * How the renderer runs notebooks: through the kernel's `executeNotebook()`, or any function of
 * the same shape (tests pass their own).
 *
 * @module
 */
import type { ProgressEvent } from "../execute.ts";
import type { Notebook } from "../notebook.ts";

/** What the renderer asks of an execution. */
export interface ExecutionRequest {
  /** The notebook's file (its folder is the working directory). */
  path: string;
  /** Parameters injected after the `parameters` cell. */
  parameters?: Record<string, unknown>;
  /** Per-cell timeout in seconds. */
  timeout?: number;
  /** Whole-notebook timeout in seconds. */
  notebookTimeout?: number;
  /** Keep going after an error (default false: stop, and mark the rest not run). */
  allowErrors?: boolean;
  /** Cell progress of the run. */
  onProgress?: (event: ProgressEvent) => void;
}

/** The result the renderer needs: the executed notebook and whether every cell succeeded. */
export interface ExecutionOutcome {
  notebook: Notebook;
  ok: boolean;
  /** Why it failed (file, cell, line and the error), when it did. */
  failure?: string;
}

/** A function that executes a notebook. */
export type NotebookExecutor = (
  nb: Notebook,
  request: ExecutionRequest,
) => Promise<ExecutionOutcome>;

/**
 * The kernel's executor (`executeNotebook` from kernel/execute.ts), loaded on first use so that
 * rendering stored notebooks does not load the kernel.
 */
export const kernelExecutor: NotebookExecutor = async (nb, request) => {
  const { executeNotebook } = await import("../execute.ts");
  const result = await executeNotebook(nb, {
    path: request.path,
    parameters: request.parameters,
    timeout: request.timeout,
    notebookTimeout: request.notebookTimeout,
    allowErrors: request.allowErrors ?? false,
    onProgress: request.onProgress,
  });
  return {
    notebook: result.notebook,
    ok: result.ok,
    ...(result.error ? { failure: result.error.message } : {}),
  };
};
