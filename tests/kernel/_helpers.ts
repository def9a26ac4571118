/** Helpers for kernel tests: build small notebooks from cell sources. */
import type { Cell, Notebook } from "../../kernel/notebook.ts";
import { denoNotebook } from "../_notebook.ts";

/** A cell spec: a code source, or `{ md }` for Markdown, or a code source with tags. */
export type CellSpec = string | { md: string } | { code: string; tags?: string[]; id?: string };

/** A notebook (nbformat 4.5, Deno kernelspec) with the given cells. */
export function notebookOf(...cells: CellSpec[]): Notebook {
  return denoNotebook(
    cells.map((spec, i): Cell => {
      const id = `c${i + 1}`;
      if (typeof spec === "string") {
        return {
          cell_type: "code",
          id,
          metadata: {},
          source: spec,
          outputs: [],
          execution_count: null,
        };
      }
      if ("md" in spec) return { cell_type: "markdown", id, metadata: {}, source: spec.md };
      return {
        cell_type: "code",
        id: spec.id ?? id,
        metadata: spec.tags ? { tags: spec.tags } : {},
        source: spec.code,
        outputs: [],
        execution_count: null,
      };
    }),
  );
}

/** The project root. */
export const ROOT = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");

/** Processes whose working directory is `dir` (Linux): a kernel left running shows up here. */
export function processesIn(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      if (Deno.realPathSync(`/proc/${entry.name}/cwd`) === Deno.realPathSync(dir)) {
        pids.push(Number(entry.name));
      }
    } catch { /* gone or not ours */ }
  }
  return pids;
}
