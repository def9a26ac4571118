/**
 * Release an assignment: from the instructor's source notebook, the student notebook (solutions
 * stubbed, hidden tests removed, outputs cleared, checksums of locked and test cells recorded)
 * and, kept apart, the grading key.
 *
 * @module
 */
import { basename, dirname, join, resolve } from "node:path";
import {
  type Cell,
  cleanNotebook,
  type Notebook,
  readNotebook,
  writeFileAtomic,
  writeNotebook,
} from "../notebook.ts";
import {
  type GradeSettings,
  type GradingKey,
  KEY_FORMAT,
  type KeyCell,
  releaseLayout,
} from "./key.ts";
import {
  countHiddenTestLines,
  graderSource,
  hasMarkers,
  parseMarkers,
  studentSource,
  wholeCellStub,
} from "./markers.ts";
import {
  cellChecksum,
  cellRole,
  gradeId,
  NBGRADER_SCHEMA_VERSION,
  nbgraderMetadata,
  sha256Hex,
} from "./nbgrader.ts";
import { type AssignmentProblem, formatProblem, validateAssignment } from "./validate.ts";

/** Thrown when a source notebook has errors that block its release. */
export class AssignmentError extends Error {
  override name = "AssignmentError";
  readonly problems: AssignmentProblem[];
  constructor(file: string, problems: AssignmentProblem[]) {
    const errors = problems.filter((p) => p.severity === "error");
    super(
      `${file}: ${errors.length} problem${errors.length === 1 ? "" : "s"} block the release:\n` +
        errors.map((p) => "  " + formatProblem(p)).join("\n"),
    );
    this.problems = problems;
  }
}

/** Options of {@linkcode makeRelease}. */
export interface MakeReleaseOptions {
  /** File name of the student notebook (default `assignment.ipynb`). */
  notebook?: string;
  /** Assignment name (default: the notebook's stem). */
  assignment?: string;
  /** Support files released beside the notebook (names relative to the release). */
  files?: string[];
}

/** A release in memory. */
export interface Release {
  student: Notebook;
  key: GradingKey;
  /** Warnings (a release with errors is never made). */
  problems: AssignmentProblem[];
}

const IMPORT_SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(["'])([^"'\n]+)\1/g;

/** Bare, `node:` and `npm:` specifiers a source imports (relative imports are left out). */
export function importedModules(source: string): string[] {
  const found = new Set<string>();
  for (const m of source.matchAll(IMPORT_SPECIFIER)) {
    const spec = m[2];
    if (!spec.startsWith(".") && !spec.startsWith("/") && !/^(file|https?|data):/.test(spec)) {
      found.add(spec);
    }
  }
  return [...found];
}

function readSettings(nb: Notebook): GradeSettings {
  const raw = (nb.metadata.convlab as { grade?: Record<string, unknown> } | undefined)?.grade ?? {};
  const settings: GradeSettings = {};
  for (const name of ["timeout", "notebookTimeout", "memoryMb"] as const) {
    if (typeof raw[name] === "number") settings[name] = raw[name] as number;
  }
  return settings;
}

function studentCell(cell: Cell): Cell {
  const role = cellRole(cell);
  if (role !== "answer" && role !== "manual" && role !== "test") return cell;
  let source = cell.source;
  if ((role === "answer" || role === "manual") && !hasMarkers(source)) {
    source = source.trim() === "" ? source : wholeCellStub(cell.cell_type);
  } else source = studentSource(source);
  return { ...cell, source };
}

/**
 * Make the student notebook and the grading key from a source notebook.
 *
 * @throws {AssignmentError} when the source has errors (listed with cell numbers).
 * @example
 * ```ts
 * import { makeRelease } from "./assign.ts";
 * const cell = (source: string, nbgrader: Record<string, unknown>) => ({
 *   cell_type: "code" as const, source, metadata: { nbgrader }, outputs: [],
 *   execution_count: null,
 * });
 * const { student, key } = await makeRelease({
 *   nbformat: 4, nbformat_minor: 5, metadata: {},
 *   cells: [
 *     cell("// BEGIN SOLUTION\nconst two = 2;\n// END SOLUTION", { solution: true, grade_id: "a" }),
 *     cell("if (two !== 2) throw new Error('no');", { grade: true, points: 1, grade_id: "t" }),
 *   ],
 * }, { notebook: "two.ipynb" });
 * console.log(student.cells[0].source); // // YOUR CODE HERE\nthrow new Error("Not implemented yet");
 * console.log(key.totalPoints); // 1
 * ```
 */
export async function makeRelease(
  source: Notebook,
  options: MakeReleaseOptions = {},
): Promise<Release> {
  const notebook = options.notebook ?? "assignment.ipynb";
  const problems = validateAssignment(source);
  if (problems.some((p) => p.severity === "error")) throw new AssignmentError(notebook, problems);

  const sourceSha256 = await sha256Hex(JSON.stringify(source));
  // Deep copy: the release edits metadata and the source must stay as it was.
  const clean = cleanNotebook(structuredClone(source));
  const studentCells: Cell[] = [];
  const keyCells: KeyCell[] = [];
  const preload = new Set<string>();
  for (const [index, cell] of clean.cells.entries()) {
    const role = cellRole(cell);
    const released = studentCell(cell);
    const meta = nbgraderMetadata(released);
    if (meta && role) {
      meta.schema_version = NBGRADER_SCHEMA_VERSION;
      delete meta.checksum;
    }
    const checksum = role === "test" || role === "locked"
      ? await cellChecksum(released)
      : undefined;
    if (checksum && meta) meta.checksum = checksum;
    const graded = role === "test" ? graderSource(cell.source) : released.source;
    if (role === "test" || role === "locked") {
      for (const m of importedModules(graded)) preload.add(m);
    }
    // A leftover marker here would release a solution or hidden test: never let one through.
    if (parseMarkers(released.source).regions.length > 0 || hasMarkers(released.source)) {
      throw new AssignmentError(notebook, [{
        severity: "error",
        cell: index + 1,
        gradeId: gradeId(cell),
        message: "a marker survived into the student copy (is the cell's role right?)",
      }]);
    }
    studentCells.push(released);
    keyCells.push({
      index,
      cellType: cell.cell_type,
      role,
      gradeId: gradeId(cell),
      points: role === "test" || role === "manual" ? Number(meta?.points ?? 0) : undefined,
      source: graded,
      studentSource: released.source,
      checksum,
      metadata: structuredClone(released.metadata),
      hiddenTestLines: role === "test" ? countHiddenTestLines(cell.source) : undefined,
    });
  }
  const metadata = { ...clean.metadata };
  // Grading settings and the file list are for the grader and the release step.
  if (typeof metadata.convlab === "object" && metadata.convlab !== null) {
    const { grade: _grade, files: _files, ...rest } = metadata.convlab as Record<string, unknown>;
    metadata.convlab = rest;
    if (Object.keys(rest).length === 0) delete metadata.convlab;
  }
  const student: Notebook = { ...clean, metadata, cells: studentCells };
  const key: GradingKey = {
    format: KEY_FORMAT,
    version: 1,
    assignment: options.assignment ?? basename(notebook, ".ipynb"),
    notebook,
    sourceSha256,
    settings: readSettings(source),
    preload: [...preload].sort(),
    files: [...(options.files ?? [])].sort(),
    cells: keyCells,
    notebookMetadata: structuredClone(metadata),
    totalPoints: keyCells.reduce((sum, c) => sum + (c.role === "test" ? c.points ?? 0 : 0), 0),
  };
  return { student, key, problems };
}

/** Options of {@linkcode releaseAssignment}. */
export interface ReleaseAssignmentOptions {
  /** The release folder (created if missing). */
  out: string;
  /** Support files to release beside the notebook, relative to the source notebook's folder. */
  files?: string[];
  /** Assignment name (default: the notebook's stem). */
  assignment?: string;
}

/** What {@linkcode releaseAssignment} wrote. */
export interface ReleaseResult {
  studentNotebook: string;
  keyFile: string;
  files: string[];
  key: GradingKey;
  /** Warnings about the source. */
  problems: AssignmentProblem[];
}

/**
 * Validate a source notebook and write its release: `<out>/student/<notebook>.ipynb` (plus
 * support files) for students and `<out>/key/<name>.key.json` for the grader only.
 *
 * Support files come from `options.files` and the source's `metadata.convlab.files`.
 *
 * @throws {AssignmentError} when the source has errors; nothing is written then.
 */
export async function releaseAssignment(
  sourcePath: string,
  options: ReleaseAssignmentOptions,
): Promise<ReleaseResult> {
  const source = await readNotebook(sourcePath);
  const notebook = basename(sourcePath);
  const listed = (source.metadata.convlab as { files?: unknown } | undefined)?.files;
  const files = [
    ...(Array.isArray(listed) ? listed.filter((f): f is string => typeof f === "string") : []),
    ...(options.files ?? []),
  ];
  const sourceDir = dirname(resolve(sourcePath));
  const fileProblems: AssignmentProblem[] = [];
  const names = new Set<string>();
  for (const file of files) {
    const name = basename(file);
    const stat = await Deno.stat(join(sourceDir, file)).catch(() => undefined);
    if (!stat?.isFile) {
      fileProblems.push({ severity: "error", message: `support file ${file} does not exist` });
    } else if (name === notebook || name.endsWith(".key.json") || names.has(name)) {
      fileProblems.push({
        severity: "error",
        message: `support file ${file}: its name clashes with the notebook, a key or another file`,
      });
    }
    names.add(name);
  }
  if (fileProblems.length) throw new AssignmentError(sourcePath, fileProblems);

  let release: Release;
  try {
    release = await makeRelease(source, {
      notebook,
      assignment: options.assignment,
      files: [...names],
    });
  } catch (e) {
    if (e instanceof AssignmentError) throw new AssignmentError(sourcePath, e.problems);
    throw e;
  }
  const layout = releaseLayout(options.out, notebook);
  await Deno.mkdir(layout.studentDir, { recursive: true });
  await Deno.mkdir(layout.keyDir, { recursive: true });
  await writeNotebook(layout.studentNotebook, release.student);
  const copied: string[] = [];
  for (const file of files) {
    const target = join(layout.studentDir, basename(file));
    await writeFileAtomic(target, await Deno.readFile(join(sourceDir, file)));
    copied.push(target);
  }
  await writeFileAtomic(layout.keyFile, JSON.stringify(release.key, null, 1) + "\n");
  return {
    studentNotebook: layout.studentNotebook,
    keyFile: layout.keyFile,
    files: copied,
    key: release.key,
    problems: release.problems,
  };
}
