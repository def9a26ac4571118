/**
 * Scoring on the host: from what the kernel reports about each cell's execution (which student
 * code cannot set) to each test's result, the submission's status and a one-line reason.
 *
 * nbgrader's rule: a test cell earns its points when it runs without error. Convlab adds: only
 * in the hardened session it started with — a cell that runs after the session died and was
 * restarted earns nothing, since a fresh session has neither the prelude's protections nor the
 * student's earlier state.
 *
 * @module
 */
import type { PreparedSubmission } from "./restore.ts";

/** How one cell's execution ended, as the kernel saw it. */
export type CellRunStatus =
  | "ok"
  | "error"
  | "timeout"
  /** the session process died during the cell (exit, out of memory, crash) */
  | "crashed"
  | "not-run"
  | "skipped";

/** The host-side record of one executed cell (the prelude excluded). */
export interface CellRun {
  status: CellRunStatus;
  /** Seconds the cell ran. */
  duration?: number;
  /** `ename: evalue` of an error, or what ended the cell. */
  message?: string;
  /** True when the cell ran in a session other than the hardened one it started with. */
  afterRestart?: boolean;
}

/** How the whole run ended. */
export interface RunOutcome {
  cells: CellRun[];
  /** The notebook time limit stopped the run (at the first cell not finished). */
  notebookTimeout?: boolean;
  /** The grader's prelude failed: a grader problem, reported as such. */
  preludeError?: string;
  /** Why the session died, when it did (e.g. "ran out of memory (heap limit 512 MiB)"). */
  crashCause?: string;
  /** Per-cell and notebook limits, for messages. */
  limits: { timeout: number; notebookTimeout: number; memoryMb: number };
}

/** The five statuses a graded submission can end with. */
export type SubmissionStatus =
  | "graded"
  | "timeout"
  | "crashed"
  | "invalid-notebook"
  | "missing-cells";

/** One test cell's result. */
export interface TestResult {
  gradeId: string;
  points: number;
  maxPoints: number;
  passed: boolean;
  /** `passed`, `failed`, `timeout` or `not-run`. */
  outcome: "passed" | "failed" | "timeout" | "not-run";
  /** `passed`, or the error / why it did not run. */
  message: string;
  /** Seconds, when it ran. */
  duration: number | null;
  /** Whether the cell holds hidden tests. */
  hidden: boolean;
  /** 1-based cell number in the graded notebook. */
  cell: number;
}

/** A submission's score. */
export interface Score {
  status: SubmissionStatus;
  tampered: boolean;
  reason: string;
  total: number;
  max: number;
  tests: TestResult[];
}

const MAX_REASON = 240;

/** One line, at most `max` characters. */
export function oneLine(text: string, max = MAX_REASON): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length > max ? line.slice(0, max - 1) + "…" : line;
}

function cellLabel(prepared: PreparedSubmission, index: number): string {
  const c = prepared.cells[index];
  const n = index + 1;
  if (c?.gradeId && c.role === "test") return `test cell "${c.gradeId}" (cell ${n})`;
  if (c?.gradeId && c.role === "answer") return `answer cell "${c.gradeId}" (cell ${n})`;
  return `cell ${n}`;
}

function passCount(tests: TestResult[]): string {
  const passed = tests.filter((t) => t.passed).length;
  return tests.length === 0 ? "no tests" : `${passed} of ${tests.length} tests passed`;
}

/**
 * Score a prepared submission from its run.
 *
 * @example
 * ```ts ignore
 * const score = scoreRun(prepared, outcome);
 * console.log(score.status, score.total, score.reason);
 * ```
 */
export function scoreRun(prepared: PreparedSubmission, run: RunOutcome): Score {
  const tests: TestResult[] = [];
  let crashedAt = -1, timeoutAt = -1;
  prepared.cells.forEach((info, i) => {
    const cell = run.cells[i] ?? { status: "not-run" };
    if (cell.status === "crashed" && crashedAt < 0) crashedAt = i;
    if (cell.status === "timeout" && timeoutAt < 0) timeoutAt = i;
    if (info.role !== "test" || !info.keyCell) return;
    const max = info.keyCell.points ?? 0;
    const inRestarted = cell.afterRestart === true || (crashedAt >= 0 && crashedAt < i);
    let outcome: TestResult["outcome"];
    let message: string;
    if (inRestarted) {
      outcome = "not-run";
      message = `not graded: the session died in ${cellLabel(prepared, crashedAt)} before it`;
    } else if (cell.status === "ok") {
      outcome = "passed";
      message = "passed";
    } else if (cell.status === "timeout") {
      outcome = "timeout";
      message = `stopped after the ${run.limits.timeout} s cell time limit`;
    } else if (cell.status === "error" || cell.status === "crashed") {
      outcome = "failed";
      message = oneLine(cell.message ?? "failed", 400);
    } else {
      outcome = "not-run";
      const stoppedAt = timeoutAt >= 0 ? timeoutAt : crashedAt;
      message = run.notebookTimeout
        ? `not run: the notebook reached its ${run.limits.notebookTimeout} s time limit`
        : stoppedAt >= 0
        ? `not run: the session was stopped in ${cellLabel(prepared, stoppedAt)}`
        : "not run";
    }
    const passed = outcome === "passed";
    tests.push({
      gradeId: info.gradeId!,
      points: passed ? max : 0,
      maxPoints: max,
      passed,
      outcome,
      message,
      duration: cell.duration ?? null,
      hidden: (info.keyCell.hiddenTestLines ?? 0) > 0,
      cell: i + 1,
    });
  });
  const total = tests.reduce((s, t) => s + t.points, 0);
  const max = tests.reduce((s, t) => s + t.maxPoints, 0);
  const tampered = prepared.tampered.length > 0;

  let status: SubmissionStatus;
  let reason: string;
  if (run.preludeError) {
    status = "crashed";
    reason = `the grader's setup failed before any student code ran (${run.preludeError}); ` +
      "this is a grading problem, not the student's";
  } else if (crashedAt >= 0) {
    status = "crashed";
    const cause = run.crashCause ?? run.cells[crashedAt]?.message ?? "the process died";
    reason = `the session died in ${cellLabel(prepared, crashedAt)}: ${cause}; ${passCount(tests)}`;
  } else if (run.notebookTimeout) {
    status = "timeout";
    const at = run.cells.findIndex((c) => c.status === "timeout" || c.status === "not-run");
    reason = `the notebook ran past its ${run.limits.notebookTimeout} s time limit${
      at >= 0 ? ` in ${cellLabel(prepared, at)}` : ""
    }; ${passCount(tests)}`;
  } else if (timeoutAt >= 0) {
    status = "timeout";
    reason = `${cellLabel(prepared, timeoutAt)} ran past the ${run.limits.timeout} s cell time ` +
      `limit and was stopped; ${passCount(tests)}`;
  } else if (prepared.missing.length > 0) {
    status = "missing-cells";
    const ids = prepared.missing.map((id) => `"${id}"`).join(", ");
    reason = `answer cell${prepared.missing.length > 1 ? "s" : ""} ${ids} ${
      prepared.missing.length > 1 ? "are" : "is"
    } missing (deleted, or the grade_id changed); ${passCount(tests)}`;
  } else {
    status = "graded";
    reason = tests.length === 0
      ? "no tests to run"
      : tests.every((t) => t.passed)
      ? `all ${tests.length} tests passed`
      : passCount(tests);
  }
  // Tampering comes before the failure detail, which is the part that may be cut.
  if (tampered) reason += `; tampered: ${prepared.tampered[0]}`;
  const failed = tests.find((t) => !t.passed && t.outcome === "failed");
  if (status === "graded" && failed) {
    reason += `; first failure: ${failed.gradeId}: ${failed.message}`;
  }
  return { status, tampered, reason: oneLine(reason), total, max, tests };
}

/** A score for a submission that could not be run at all. */
export function unrunnable(
  status: "invalid-notebook" | "crashed",
  reason: string,
  testsOf: { gradeId: string; points: number; hidden: boolean; cell: number }[],
): Score {
  const tests: TestResult[] = testsOf.map((t) => ({
    gradeId: t.gradeId,
    points: 0,
    maxPoints: t.points,
    passed: false,
    outcome: "not-run",
    message: `not run: ${oneLine(reason, 200)}`,
    duration: null,
    hidden: t.hidden,
    cell: t.cell,
  }));
  return {
    status,
    tampered: false,
    reason: oneLine(reason),
    total: 0,
    max: tests.reduce((s, t) => s + t.maxPoints, 0),
    tests,
  };
}
