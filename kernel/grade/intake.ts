/**
 * Reading a submitted notebook for grading: as strict as the kernel where it matters (JSON,
 * nbformat 4, cells with sources), forgiving where a student's editor may have left something
 * harmless behind, and safe against hostile structure.
 *
 * - Outputs and execution counts are dropped before validation: the grader runs every cell
 *   again, so a malformed or huge saved output must not cost the points.
 * - Cell ids that are missing, malformed or used twice are replaced (with a note): grading
 *   matches cells by `grade_id`, never by id.
 * - JSON nested deeper than {@linkcode MAX_DEPTH} levels is refused as an invalid notebook (it
 *   would overflow the stack of the code that copies and writes notebooks).
 *
 * @module
 */
import { newCellId, type Notebook, NotebookFormatError, parseNotebook } from "../notebook.ts";
import { validateNotebook } from "../notebook.ts";

/** Deepest nesting of arrays and objects accepted in a submitted notebook. */
export const MAX_DEPTH = 100;

const CELL_ID = /^[a-zA-Z0-9-_]{1,64}$/;

/** How deep `value` nests, counting up to `limit + 1` (without recursion). */
function depthOf(value: unknown, limit: number): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== "object" || v === null) continue;
    deepest = Math.max(deepest, depth);
    if (deepest > limit) return deepest;
    for (const child of Object.values(v)) {
      if (typeof child === "object" && child !== null) stack.push([child, depth + 1]);
    }
  }
  return deepest;
}

/**
 * Parse a submitted notebook's text.
 *
 * @returns the notebook and notes on what was repaired.
 * @throws {NotebookFormatError} naming the file and what is wrong.
 * @example
 * ```ts
 * import { parseSubmittedNotebook } from "./intake.ts";
 * const text = '{"nbformat":4,"nbformat_minor":5,"metadata":{},"cells":[' +
 *   '{"cell_type":"code","id":"a","source":"1","metadata":{},"outputs":[{"bad":1}]},' +
 *   '{"cell_type":"code","id":"a","source":"2","metadata":{}}]}';
 * const { notebook, notes } = parseSubmittedNotebook(text, "hw.ipynb");
 * console.log(notebook.cells.length, notes); // 2 ["cell 2 had the same id as an earlier cell (a); …"]
 * ```
 */
export function parseSubmittedNotebook(
  text: string,
  file: string,
): { notebook: Notebook; notes: string[] } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { notebook: parseNotebook(text, file), notes: [] }; // throws, with line and column
  }
  const depth = depthOf(json, MAX_DEPTH);
  if (depth > MAX_DEPTH) {
    throw new NotebookFormatError(
      `nested more than ${MAX_DEPTH} levels deep (arrays and objects inside each other): ` +
        "not a notebook Jupyter writes",
      { file },
    );
  }
  const notes: string[] = [];
  const record = json as { cells?: unknown };
  if (typeof json === "object" && json !== null && Array.isArray(record.cells)) {
    const seen = new Set<string>();
    record.cells.forEach((cell: unknown, i: number) => {
      if (typeof cell !== "object" || cell === null || Array.isArray(cell)) return;
      const c = cell as Record<string, unknown>;
      if (c.cell_type === "code") {
        c.outputs = [];
        c.execution_count = null;
      }
      if (c.id === undefined) return;
      const fine = typeof c.id === "string" && CELL_ID.test(c.id) && !seen.has(c.id);
      if (!fine) {
        const why = typeof c.id === "string" && seen.has(c.id)
          ? `the same id as an earlier cell (${c.id})`
          : "an id nbformat does not allow";
        c.id = newCellId();
        while (seen.has(c.id as string)) c.id = newCellId();
        notes.push(`cell ${i + 1} had ${why}; it was given a new one`);
      }
      seen.add(c.id as string);
    });
  }
  return { notebook: validateNotebook(json, file), notes };
}
