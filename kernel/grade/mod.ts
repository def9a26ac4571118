/**
 * Assignments and sandboxed autograding: release an nbgrader-style source notebook as a student
 * notebook plus a grading key, grade submissions in sandboxed kernel sessions, and write grades,
 * feedback pages and a class summary. The CLIs are `deno task assign` and `deno task grade`.
 *
 * @example
 * ```ts ignore
 * import { gradeAssignment, releaseAssignment } from "./mod.ts";
 * await releaseAssignment("lessons/assignments/image_filtering.ipynb", { out: "release/a1" });
 * const grades = await gradeAssignment({ release: "release/a1", submissions: "subs", out: "grades" });
 * console.log(grades.students.map((s) => `${s.student}: ${s.total}/${s.max} ${s.status}`));
 * ```
 *
 * @module
 */
export {
  AssignmentError,
  makeRelease,
  type MakeReleaseOptions,
  type Release,
  releaseAssignment,
  type ReleaseAssignmentOptions,
  type ReleaseResult,
} from "./assign.ts";
export { type AssignmentProblem, formatProblem, validateAssignment } from "./validate.ts";
export {
  type GradeSettings,
  type GradingKey,
  GradingKeyError,
  type KeyCell,
  readGradingKey,
} from "./key.ts";
export {
  GRADE_DEFAULTS,
  gradeAssignment,
  GradeError,
  type GradeOptions,
  type GradeProgress,
  writeReports,
} from "./grade.ts";
export { MergeError, mergeGrades } from "./merge.ts";
export {
  canvasCsv,
  gradesCsv,
  type GradesFile,
  type Question,
  type SubmissionResult,
} from "./results.ts";
export type { Score, SubmissionStatus, TestResult } from "./score.ts";
export { parseShard, type Shard, type Submission } from "./submissions.ts";
export { type CellRole, cellRole, type NbgraderMetadata } from "./nbgrader.ts";
