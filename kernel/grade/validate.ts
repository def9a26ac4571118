/**
 * Checks an instructor's source notebook before release: missing or duplicate `grade_id`s, test
 * cells without points, unbalanced markers, solutions that would leak — each with its cell number.
 *
 * @module
 */
import type { Cell, Notebook } from "../notebook.ts";
import { parseMarkers } from "./markers.ts";
import { cellRole, GRADE_ID_PATTERN, gradeId, nbgraderMetadata } from "./nbgrader.ts";

/** One finding of {@linkcode validateAssignment}. Errors block a release; warnings do not. */
export interface AssignmentProblem {
  severity: "error" | "warning";
  /** 1-based cell number. */
  cell?: number;
  gradeId?: string;
  /** 1-based line in the cell. */
  line?: number;
  message: string;
}

/** `image.ipynb: cell 4 (grade_id gray-test) line 3: …` */
export function formatProblem(problem: AssignmentProblem, file?: string): string {
  const where = [
    file,
    problem.cell !== undefined
      ? `cell ${problem.cell}${problem.gradeId ? ` (grade_id ${problem.gradeId})` : ""}`
      : undefined,
    problem.line !== undefined ? `line ${problem.line}` : undefined,
  ].filter(Boolean).join(" ");
  return `${problem.severity}: ${where ? where + ": " : ""}${problem.message}`;
}

function checkCell(cell: Cell, n: number, problems: AssignmentProblem[]): void {
  const meta = nbgraderMetadata(cell);
  const role = cellRole(cell);
  const id = gradeId(cell);
  const at = { cell: n, gradeId: id };
  const error = (message: string, line?: number) =>
    problems.push({ severity: "error", ...at, line, message });
  const warn = (message: string) => problems.push({ severity: "warning", ...at, message });

  if (meta && role) {
    if (id === undefined) error("has nbgrader metadata but no grade_id");
    else if (!GRADE_ID_PATTERN.test(id)) {
      error(`grade_id ${JSON.stringify(id)} may use only letters, digits, '_' and '-'`);
    }
  }
  const points = meta?.points;
  if (role === "test") {
    if (cell.cell_type !== "code") error("a test cell must be a code cell");
    if (points === undefined) error("test cell has no points (set metadata.nbgrader.points)");
    else if (typeof points !== "number" || !Number.isFinite(points) || points <= 0) {
      error(`test cell points must be a positive number, got ${JSON.stringify(points)}`);
    }
  } else if (role === "answer" && points !== undefined && points !== 0) {
    warn("points on an answer cell are ignored: put them on the test cell that checks it");
  } else if (role === "manual") {
    warn("manually graded cell: Convlab's autograder leaves its points to a human");
  }

  const { regions, problems: markerProblems } = parseMarkers(cell.source);
  for (const p of markerProblems) error(p.message, p.line);
  for (const r of regions) {
    if (r.kind === "solution" && role !== "answer" && role !== "manual") {
      error(
        "// BEGIN SOLUTION in a cell that is not an answer cell: the solution would be released " +
          "to students (mark the cell as an autograded answer)",
        r.begin,
      );
    }
    if (r.kind === "hidden-tests" && role !== "test") {
      error(
        "// BEGIN HIDDEN TESTS in a cell that is not a test cell: the hidden tests would be " +
          "released to students (mark the cell as autograder tests)",
        r.begin,
      );
    }
  }
  if (
    role === "answer" && cell.cell_type === "code" && regions.length === 0 &&
    markerProblems.length === 0 && cell.source.trim() !== ""
  ) {
    warn("answer cell has no // BEGIN SOLUTION marker: all of its code is replaced by the stub");
  }
}

/**
 * Validate a source notebook for release.
 *
 * @example
 * ```ts
 * import { validateAssignment } from "./validate.ts";
 * const problems = validateAssignment({
 *   nbformat: 4, nbformat_minor: 5, metadata: {},
 *   cells: [{ cell_type: "code", source: "", metadata: { nbgrader: { grade: true } },
 *     outputs: [], execution_count: null }],
 * });
 * console.log(problems.map((p) => p.message));
 * // ["has nbgrader metadata but no grade_id", "test cell has no points (set metadata.nbgrader.points)"]
 * ```
 */
export function validateAssignment(nb: Notebook): AssignmentProblem[] {
  const problems: AssignmentProblem[] = [];
  const firstCellOfId = new Map<string, number>();
  let sawAnswerWithoutTest: { cell: number; gradeId?: string } | undefined;
  let tests = 0;
  nb.cells.forEach((cell, i) => {
    const n = i + 1;
    checkCell(cell, n, problems);
    const id = gradeId(cell);
    const role = cellRole(cell);
    if (id !== undefined && role) {
      const first = firstCellOfId.get(id);
      if (first !== undefined) {
        problems.push({
          severity: "error",
          cell: n,
          gradeId: id,
          message: `duplicate grade_id: cell ${first} has it too`,
        });
      } else firstCellOfId.set(id, n);
    }
    if (role === "answer") sawAnswerWithoutTest ??= { cell: n, gradeId: id };
    if (role === "test") {
      tests++;
      sawAnswerWithoutTest = undefined;
    }
  });
  if (sawAnswerWithoutTest) {
    problems.push({
      severity: "warning",
      ...sawAnswerWithoutTest,
      message: "answer cell has no test cell after it",
    });
  }
  if (tests === 0) {
    problems.push({
      severity: "warning",
      message: "no test cells (metadata.nbgrader.grade = true): nothing will be autograded",
    });
  }
  const settings = (nb.metadata.convlab as { grade?: Record<string, unknown> } | undefined)?.grade;
  if (settings !== undefined) {
    for (const name of ["timeout", "notebookTimeout", "memoryMb"]) {
      const v = settings[name];
      if (v !== undefined && !(typeof v === "number" && Number.isFinite(v) && v > 0)) {
        problems.push({
          severity: "error",
          message: `metadata.convlab.grade.${name} must be a positive number, got ${
            JSON.stringify(v)
          }`,
        });
      }
    }
  }
  return problems;
}
