/**
 * How the renderer runs notebooks: through the kernel's `executeNotebook()` (kernel/mod.ts), or
 * any function of the same shape (tests pass their own).
 *
 * @module
 */
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
}

/** The result the renderer needs: the executed notebook and whether every cell succeeded. */
export interface ExecutionOutcome {
  notebook: Notebook;
  ok: boolean;
}

/** A function that executes a notebook. */
export type NotebookExecutor = (
  nb: Notebook,
  request: ExecutionRequest,
) => Promise<ExecutionOutcome>;

/** The kernel's executor (`executeNotebook` from kernel/mod.ts), loaded when first needed. */
export async function kernelExecutor(): Promise<NotebookExecutor> {
  const kernel = await import("../mod.ts") as Record<string, unknown>;
  const execute = kernel.executeNotebook as
    | ((nb: Notebook, options: Record<string, unknown>) => Promise<ExecutionOutcome>)
    | undefined;
  if (typeof execute !== "function") {
    throw new Error(
      "Cannot execute notebooks: kernel/mod.ts has no executeNotebook() yet; " +
        "render executed notebooks with --no-execute",
    );
  }
  return async (nb, request) => {
    const result = await execute(nb, {
      path: request.path,
      parameters: request.parameters,
      timeout: request.timeout,
      notebookTimeout: request.notebookTimeout,
      allowErrors: request.allowErrors ?? false,
    });
    return { notebook: result.notebook, ok: result.ok };
  };
}
