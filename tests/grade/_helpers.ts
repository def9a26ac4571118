/** Notebook builders for the grade tests. */
import type { Cell, Notebook } from "../../kernel/notebook.ts";
import { denoNotebook as notebook } from "../_notebook.ts";

/** A notebook of cells, with Deno's kernelspec. */
export { notebook };

/** A code cell with optional nbgrader metadata. */
export function code(source: string, nbgrader?: Record<string, unknown>): Cell {
  return {
    cell_type: "code",
    source,
    metadata: nbgrader ? { nbgrader: { schema_version: 3, ...nbgrader } } : {},
    outputs: [],
    execution_count: null,
  };
}

/** A Markdown cell with optional nbgrader metadata. */
export function markdown(source: string, nbgrader?: Record<string, unknown>): Cell {
  return {
    cell_type: "markdown",
    source,
    metadata: nbgrader ? { nbgrader: { schema_version: 3, ...nbgrader } } : {},
  };
}

/** A small assignment: one answer, its test (with hidden tests), a locked setup cell. */
export function miniAssignment(): Notebook {
  return notebook([
    markdown("# Mini\nWrite `double`."),
    code('import { assertEquals } from "convlab/testing";', { locked: true, grade_id: "setup" }),
    code(
      "function double(x: number): number {\n  // BEGIN SOLUTION\n  return 2 * x;\n  // END SOLUTION\n}",
      { solution: true, grade: false, locked: false, grade_id: "double" },
    ),
    code(
      "assertEquals(double(2), 4);\n// BEGIN HIDDEN TESTS\nassertEquals(double(-3), -6);\n// END HIDDEN TESTS",
      { grade: true, solution: false, locked: true, points: 2, grade_id: "double-test" },
    ),
  ]);
}
