/**
 * Grade a batch of submissions against a release: discover, shard, run each in its own
 * sandboxed session (several at once), score on the host, and write `grades.csv`, a Canvas
 * export, `grades.json`, `feedback/<student>.html` and `summary.html` into the output folder.
 *
 * Submissions are never modified; everything written goes to the output folder, atomically. A
 * submission that crashes, hangs or cannot be read ends with its status and reason and never
 * stops the batch.
 *
 * @module
 */
import { basename, dirname, join, relative, resolve } from "node:path";
import { NotebookFormatError, writeFileAtomic, writeNotebook } from "../notebook.ts";
import { parseSubmittedNotebook } from "./intake.ts";
import { cacheKeyOf, readCached, writeCached } from "./cache.ts";
import { feedbackHtml } from "./feedback.ts";
import { type GradingKey, keyHash, readGradingKey, testCells } from "./key.ts";
import { prepareSubmission } from "./restore.ts";
import {
  canvasCsv,
  GRADES_FORMAT,
  gradesCsv,
  type GradesFile,
  type Question,
  type SubmissionResult,
} from "./results.ts";
import { runSubmission } from "./run.ts";
import { assertKeyOutsideSandbox, sandboxPermissions } from "./sandbox.ts";
import { oneLine, type Score, scoreRun, unrunnable } from "./score.ts";
import {
  chooseNotebook,
  DEFAULT_SUBMISSION_LIMITS,
  findSubmissions,
  readSubmission,
  selectShard,
  type Shard,
  type SkippedEntry,
  type Submission,
  SubmissionError,
  type SubmissionLimits,
  writeSubmissionFiles,
} from "./submissions.ts";
import { summaryHtml } from "./summary.ts";
import { sha256Hex } from "./nbgrader.ts";

/** Default limits, when neither the command line nor the key sets them. */
export const GRADE_DEFAULTS = { timeout: 60, notebookTimeout: 600, memoryMb: 2048 } as const;

/** Options of {@linkcode gradeAssignment}; the CLI flags mirror them. */
export interface GradeOptions {
  /** Release folder (from `deno task assign`) or its `.key.json` file. */
  release: string;
  /** Folder of submissions: one folder or `.zip` per student. */
  submissions: string;
  /** Output folder (created). */
  out: string;
  /** Sessions at once (`--jobs`, default: the number of CPU cores). */
  jobs?: number;
  /** Per-cell time limit in seconds (`--timeout`; default from the key, else 60). */
  timeout?: number;
  /** Whole-notebook time limit in seconds (`--notebook-timeout`; default from the key, else 600). */
  notebookTimeout?: number;
  /** Memory limit of a session in MiB (`--memory`; default from the key, else 2048). */
  memoryMb?: number;
  /** Grade only this shard (`--shard i/n`). */
  shard?: Shard;
  /** Re-grade even when a cached result matches (`--force`). */
  force?: boolean;
  /** Grade only these students (`--student`, repeatable). */
  students?: string[];
  /** Column title of the Canvas export (default: the assignment name). */
  canvasColumn?: string;
  /** Size limits of one submission. */
  limits?: SubmissionLimits;
  /** Called after each submission. */
  onProgress?: (event: GradeProgress) => void;
  /** Stops the batch: running sessions are stopped, finished results kept. */
  signal?: AbortSignal;
}

/** Progress of a batch. */
export interface GradeProgress {
  done: number;
  total: number;
  result: SubmissionResult;
}

/** Thrown for a batch that cannot start (bad release, unknown student); says what is wrong. */
export class GradeError extends Error {
  override name = "GradeError";
}

interface BatchContext {
  key: GradingKey;
  keyFile: string;
  keySha256: string;
  releaseDir: string;
  out: string;
  settings: { timeout: number; notebookTimeout: number; memoryMb: number };
  force: boolean;
  limits: SubmissionLimits;
  signal?: AbortSignal;
}

function questionsOf(key: GradingKey): Question[] {
  return testCells(key).map((c) => ({
    gradeId: c.gradeId!,
    points: c.points ?? 0,
    hidden: (c.hiddenTestLines ?? 0) > 0,
  }));
}

function notRun(key: GradingKey, status: "invalid-notebook" | "crashed", reason: string): Score {
  return unrunnable(
    status,
    reason,
    testCells(key).map((c) => ({
      gradeId: c.gradeId!,
      points: c.points ?? 0,
      hidden: (c.hiddenTestLines ?? 0) > 0,
      cell: c.index + 1,
    })),
  );
}

async function gradeOne(submission: Submission, ctx: BatchContext): Promise<SubmissionResult> {
  const started = performance.now();
  const what: SubmissionResult["submission"] = { path: submission.path, kind: submission.kind };
  const base = {
    student: submission.student,
    submission: what,
    details: [] as string[],
    cached: false,
    gradedAt: new Date().toISOString(),
  };
  const finish = (score: Score, extra: Partial<SubmissionResult> = {}): SubmissionResult => ({
    ...base,
    ...score,
    ...extra,
    seconds: Math.round((performance.now() - started) / 10) / 100,
  });

  let contents;
  try {
    contents = await readSubmission(submission, ctx.limits);
  } catch (e) {
    if (!(e instanceof SubmissionError) && !(e instanceof Deno.errors.NotFound)) throw e;
    return finish(notRun(ctx.key, "invalid-notebook", (e as Error).message));
  }
  const cacheKey = await cacheKeyOf({
    submissionSha256: contents.hash,
    keySha256: ctx.keySha256,
    settings: ctx.settings,
  });
  what.sha256 = contents.hash;
  if (!ctx.force) {
    const cached = await readCached(ctx.out, submission.student, cacheKey);
    if (cached) return { ...cached, cached: true };
  }
  base.details.push(...contents.ignored.map((f) => `ignored ${f}`));

  const choice = chooseNotebook(contents.files.map((f) => f.path), ctx.key.notebook);
  if ("reason" in choice) {
    return finish(notRun(ctx.key, "invalid-notebook", choice.reason), { cacheKey });
  }
  if (choice.note) base.details.push(choice.note);
  what.notebook = choice.path;
  const file = contents.files.find((f) => f.path === choice.path)!;
  let submitted;
  try {
    const parsed = parseSubmittedNotebook(
      new TextDecoder("utf-8", { fatal: true }).decode(file.data),
      choice.path,
    );
    submitted = parsed.notebook;
    base.details.push(...parsed.notes);
  } catch (e) {
    const reason = e instanceof NotebookFormatError
      ? e.message
      : `${choice.path}: not UTF-8 text (${(e as Error).message})`;
    return finish(notRun(ctx.key, "invalid-notebook", reason), { cacheKey });
  }

  const prepared = await prepareSubmission(submitted, ctx.key);
  base.details.push(...prepared.tampered.map((t) => `tampered: ${t}`), ...prepared.notes);
  await Deno.mkdir(join(ctx.out, ".work"), { recursive: true });
  const scratch = await Deno.makeTempDir({
    dir: join(ctx.out, ".work"),
    prefix: `${submission.student.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 40)}-`,
  });
  try {
    await writeSubmissionFiles(contents, scratch);
    // The release's support files, beside the notebook as released (a notebook in a subfolder of
    // the submission too); they win over a student's copies of them.
    const notebookDir = join(scratch, dirname(choice.path));
    for (const f of ctx.key.files) {
      await Deno.copyFile(join(ctx.releaseDir, "student", f), join(notebookDir, basename(f)));
    }
    const permissions = await sandboxPermissions(scratch);
    const { executed, outcome } = await runSubmission(prepared, {
      key: ctx.key,
      path: join(scratch, choice.path),
      cwd: notebookDir,
      permissions,
      timeout: ctx.settings.timeout,
      notebookTimeout: ctx.settings.notebookTimeout,
      memoryMb: ctx.settings.memoryMb,
      signal: ctx.signal,
    });
    const score = scoreRun(prepared, outcome);
    const feedback = `feedback/${submission.student}.html`;
    const result = finish(score, { cacheKey, feedback });
    await Deno.mkdir(join(ctx.out, "executed"), { recursive: true });
    await writeNotebook(join(ctx.out, "executed", `${submission.student}.ipynb`), executed);
    await Deno.mkdir(join(ctx.out, "feedback"), { recursive: true });
    await writeFileAtomic(
      join(ctx.out, feedback),
      await feedbackHtml({ result, executed, prepared, key: ctx.key }),
    );
    return result;
  } finally {
    await Deno.remove(scratch, { recursive: true }).catch(() => {});
  }
}

async function gradeSafely(submission: Submission, ctx: BatchContext): Promise<SubmissionResult> {
  try {
    let result: SubmissionResult;
    try {
      result = await gradeOne(submission, ctx);
    } catch (e) {
      // A failure of the grader or the kernel itself (not an outcome of the student's code,
      // which gradeOne reports as a status): try once more before giving up on it.
      if (ctx.signal?.aborted) throw e;
      console.error(`grader: ${submission.student}: ${(e as Error).message}; trying again`);
      result = await gradeOne(submission, ctx);
    }
    if (!result.cached && result.cacheKey) await writeCached(ctx.out, result);
    return result;
  } catch (e) {
    // A grader failure on one submission is reported on it, and the batch goes on.
    const error = e as Error;
    return {
      student: submission.student,
      submission: { path: submission.path, kind: submission.kind },
      ...notRun(ctx.key, "crashed", `the grader failed on this submission: ${error.message}`),
      details: [oneLine(error.stack ?? String(error), 2000)],
      cached: false,
      seconds: 0,
      gradedAt: new Date().toISOString(),
    };
  }
}

/**
 * The hash of what a grade depends on in the release: the key and the support files' bytes (a
 * test card redrawn under the same name must not leave results cached).
 */
async function releaseHash(key: GradingKey, releaseDir: string): Promise<string> {
  if (key.files.length === 0) return await keyHash(key);
  const parts = [await keyHash(key)];
  for (const f of key.files) {
    let data: Uint8Array;
    try {
      data = await Deno.readFile(join(releaseDir, "student", f));
    } catch (e) {
      throw new GradeError(
        `the release's support file ${f} cannot be read: ${(e as Error).message}`,
      );
    }
    parts.push(`${f}\0${await sha256Hex(data)}`);
  }
  return await sha256Hex(parts.join("\n"));
}

/** Run `fn` over `items` with at most `jobs` at once, results in input order. */
async function pool<T, R>(items: T[], jobs: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(jobs, items.length)) }, worker));
  return results;
}

/**
 * The reports of a `--student` run: this run's results, and the earlier results in `out` of the
 * other students whose submissions are still there (graded with the same key and settings), so
 * that re-grading one student updates the class's reports instead of replacing them.
 */
async function withEarlierResults(
  out: string,
  grades: GradesFile,
  everyone: Submission[],
): Promise<GradesFile> {
  let earlier: GradesFile;
  try {
    earlier = JSON.parse(await Deno.readTextFile(join(out, "grades.json")));
  } catch {
    return grades;
  }
  if (
    earlier?.format !== GRADES_FORMAT || earlier.keySha256 !== grades.keySha256 ||
    earlier.shard !== grades.shard || !Array.isArray(earlier.students) ||
    JSON.stringify(earlier.settings) !== JSON.stringify(grades.settings)
  ) return grades;
  const present = new Set(everyone.map((s) => s.student));
  const regraded = new Set(grades.students.map((s) => s.student));
  const kept = earlier.students.filter((s) => present.has(s.student) && !regraded.has(s.student));
  return {
    ...grades,
    students: [...kept, ...grades.students].sort((a, b) =>
      a.student < b.student ? -1 : a.student > b.student ? 1 : 0
    ),
  };
}

/** Write `grades.json`, `grades.csv`, `grades_canvas.csv` and `summary.html`. */
export async function writeReports(
  out: string,
  grades: GradesFile,
  canvasColumn?: string,
): Promise<void> {
  await Deno.mkdir(out, { recursive: true });
  await writeFileAtomic(join(out, "grades.json"), JSON.stringify(grades, null, 1) + "\n");
  await writeFileAtomic(join(out, "grades.csv"), gradesCsv(grades));
  await writeFileAtomic(join(out, "grades_canvas.csv"), canvasCsv(grades, canvasColumn));
  await writeFileAtomic(join(out, "summary.html"), summaryHtml(grades));
}

/**
 * Grade every submission (or one shard, or some students) and write the reports.
 *
 * With `students`, only those are graded, and the reports in `out` keep the other students'
 * earlier results (same key and settings); the returned file holds this run's results.
 *
 * @throws {GradeError} when the release cannot be read or a `--student` is unknown.
 * @example
 * ```ts ignore
 * const grades = await gradeAssignment({ release: "release/", submissions: "subs/", out: "grades/" });
 * console.log(grades.students.map((s) => `${s.student} ${s.total}/${s.max} ${s.status}`));
 * ```
 */
export async function gradeAssignment(options: GradeOptions): Promise<GradesFile> {
  const out = resolve(options.out);
  let loaded;
  try {
    loaded = await readGradingKey(resolve(options.release));
  } catch (e) {
    throw new GradeError((e as Error).message);
  }
  const { key, file: keyFile, releaseDir } = loaded;
  const settings = {
    timeout: options.timeout ?? key.settings.timeout ?? GRADE_DEFAULTS.timeout,
    notebookTimeout: options.notebookTimeout ?? key.settings.notebookTimeout ??
      GRADE_DEFAULTS.notebookTimeout,
    memoryMb: options.memoryMb ?? key.settings.memoryMb ?? GRADE_DEFAULTS.memoryMb,
  };
  for (const [name, value] of Object.entries(settings)) {
    if (!(Number.isFinite(value) && value > 0)) {
      throw new GradeError(`${name} must be a positive number, got ${value}`);
    }
  }
  try {
    assertKeyOutsideSandbox(resolve(keyFile), await sandboxPermissions(join(out, ".work", "x")));
  } catch (e) {
    throw new GradeError((e as Error).message);
  }
  const submissionsDir = resolve(options.submissions);
  if (out === submissionsDir || out.startsWith(submissionsDir + "/")) {
    throw new GradeError(`--out ${options.out} is inside the submissions folder: put it elsewhere`);
  }
  let found;
  try {
    found = await findSubmissions(submissionsDir);
  } catch (e) {
    throw new GradeError((e as Error).message);
  }
  let submissions = found.submissions;
  const everyone = options.shard ? await selectShard(submissions, options.shard) : submissions;
  const skipped: SkippedEntry[] = found.skipped;
  if (options.students?.length) {
    const known = new Set(submissions.map((s) => s.student));
    const unknown = options.students.filter((s) => !known.has(s));
    if (unknown.length) {
      throw new GradeError(
        `no submission for --student ${unknown.join(", ")} in ${options.submissions}`,
      );
    }
    const wanted = new Set(options.students);
    submissions = submissions.filter((s) => wanted.has(s.student));
  }
  if (options.shard) submissions = await selectShard(submissions, options.shard);

  const ctx: BatchContext = {
    key,
    keyFile,
    keySha256: await releaseHash(key, releaseDir),
    releaseDir,
    out,
    settings,
    force: options.force ?? false,
    limits: options.limits ?? DEFAULT_SUBMISSION_LIMITS,
    signal: options.signal,
  };
  await Deno.mkdir(out, { recursive: true });
  // A session's host side failing asynchronously must not end the batch: report and go on.
  const onUnhandled = (event: PromiseRejectionEvent) => {
    event.preventDefault();
    console.error(`grader: a kernel session failed outside any cell (${event.reason}); going on`);
  };
  globalThis.addEventListener("unhandledrejection", onUnhandled);
  let done = 0;
  const results = await pool(
    submissions,
    options.jobs ?? navigator.hardwareConcurrency ?? 2,
    async (s) => {
      const result = await gradeSafely(s, ctx);
      options.onProgress?.({ done: ++done, total: submissions.length, result });
      return result;
    },
  );
  globalThis.removeEventListener("unhandledrejection", onUnhandled);
  await Deno.remove(join(out, ".work"), { recursive: true }).catch(() => {});
  const grades: GradesFile = {
    format: GRADES_FORMAT,
    version: 1,
    assignment: key.assignment,
    keySha256: ctx.keySha256,
    maxPoints: key.totalPoints,
    questions: questionsOf(key),
    settings,
    shard: options.shard ? `${options.shard.index}/${options.shard.count}` : null,
    generatedAt: new Date().toISOString(),
    students: results,
    skipped,
  };
  await writeReports(
    out,
    options.students?.length ? await withEarlierResults(out, grades, everyone) : grades,
    options.canvasColumn,
  );
  return grades;
}

/** Relative path for messages. */
export function shown(path: string): string {
  return relative(Deno.cwd(), path) || ".";
}
