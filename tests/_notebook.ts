/**
 * The notebook skeleton the tests and fixture generators build on: nbformat 4.5 with Deno's
 * kernelspec, as `deno jupyter` writes it.
 *
 * @example
 * ```ts
 * import { denoNotebook } from "./_notebook.ts";
 * const nb = denoNotebook([{ cell_type: "code", source: "1 + 1", metadata: {}, outputs: [], execution_count: null }]);
 * ```
 *
 * @module
 */
import type { Cell, Notebook } from "../kernel/notebook.ts";

/** A notebook of `cells` with Deno's kernelspec; `metadata` is added after it. */
export function denoNotebook(cells: Cell[], metadata: Record<string, unknown> = {}): Notebook {
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {
      kernelspec: { display_name: "Deno", language: "typescript", name: "deno" },
      language_info: { name: "typescript" },
      ...metadata,
    },
    cells,
  };
}
