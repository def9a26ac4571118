/**
 * Shared by the lesson tests and `deno task bench lessons`: the lesson notebooks
 * (`lessons/*.ipynb`, not subfolders) and what an executed lesson reports.
 */
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { isLessonFile } from "../../kernel/course.ts";
import type { Notebook } from "../../kernel/notebook.ts";
import { RESULTS_MIME, type ResultsJson } from "../../lib/results.ts";

/** The project root. */
export const ROOT: string = fileURLToPath(new URL("../../", import.meta.url));

/** The lessons folder. */
export const LESSONS_DIR: string = join(ROOT, "lessons");

/** Every lesson notebook directly in `lessons/`, in file-name order. */
export function lessonPaths(dir = LESSONS_DIR): string[] {
  return [...Deno.readDirSync(dir)]
    .filter((e) => e.isFile && isLessonFile(e.name))
    .map((e) => join(dir, e.name))
    .sort((a, b) => basename(a).localeCompare(basename(b), "en", { numeric: true }));
}

/** Text of a cell source (a string in memory, a list of lines on disk). */
export function sourceText(source: string | string[]): string {
  return Array.isArray(source) ? source.join("") : source;
}

/** One problem found in an executed notebook's outputs. */
export interface OutputProblem {
  /** 1-based cell number. */
  cell: number;
  message: string;
}

/** Error outputs (and cells that did not run) of an executed notebook. */
export function errorOutputs(nb: Notebook): OutputProblem[] {
  const problems: OutputProblem[] = [];
  nb.cells.forEach((cell, i) => {
    if (cell.cell_type !== "code") return;
    for (const output of cell.outputs) {
      if (output.output_type === "error") {
        problems.push({ cell: i + 1, message: `${output.ename}: ${output.evalue}` });
      }
    }
    const status = (cell.metadata.convlab as { status?: string } | undefined)?.status;
    if (status === "not-run") problems.push({ cell: i + 1, message: "not run" });
  });
  return problems;
}

/** The `cl.results(...)` tables an executed lesson displayed, in order. */
export function lessonResults(nb: Notebook): ResultsJson[] {
  const found: ResultsJson[] = [];
  for (const cell of nb.cells) {
    if (cell.cell_type !== "code") continue;
    for (const output of cell.outputs) {
      if (output.output_type !== "display_data" && output.output_type !== "execute_result") {
        continue;
      }
      const data = output.data[RESULTS_MIME];
      if (data && typeof data === "object") found.push(data as ResultsJson);
    }
  }
  return found;
}
