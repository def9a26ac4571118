/**
 * nbgrader's cell metadata schema (`metadata.nbgrader`), so that nbgrader's "Create Assignment"
 * toolbar in Jupyter can author Convlab assignments, and the roles Convlab derives from it.
 *
 * | role     | nbgrader flags                         | what the grader does                   |
 * | -------- | -------------------------------------- | -------------------------------------- |
 * | `answer` | `solution: true`, `grade: false`       | keeps the student's code               |
 * | `test`   | `grade: true`, `solution: false`       | restores it from the key, scores it    |
 * | `locked` | `locked: true` (neither of the above)  | restores it from the key               |
 * | `manual` | `solution: true`, `grade: true`/`task` | keeps it; points left to a human      |
 *
 * @module
 */
import type { Cell } from "../notebook.ts";

/** nbgrader's schema version that Convlab writes. */
export const NBGRADER_SCHEMA_VERSION = 3;

/** `metadata.nbgrader` of a cell. */
export interface NbgraderMetadata {
  grade?: boolean;
  solution?: boolean;
  locked?: boolean;
  task?: boolean;
  points?: number;
  grade_id?: string;
  schema_version?: number;
  /** nbgrader stores a checksum of graded and locked cells; Convlab writes its own here. */
  checksum?: string;
  [key: string]: unknown;
}

/** What a cell is for, in grading terms. */
export type CellRole = "answer" | "test" | "locked" | "manual";

/** Valid `grade_id`s: what nbgrader accepts (letters, digits, `_` and `-`). */
export const GRADE_ID_PATTERN = /^[A-Za-z0-9_-]+$/;

/** The cell's `metadata.nbgrader`, or undefined when it has none (or it is not an object). */
export function nbgraderMetadata(cell: Cell): NbgraderMetadata | undefined {
  const meta = cell.metadata.nbgrader;
  return typeof meta === "object" && meta !== null && !Array.isArray(meta)
    ? meta as NbgraderMetadata
    : undefined;
}

/**
 * The grading role of a cell, or undefined for an ordinary cell.
 *
 * @example
 * ```ts
 * import { cellRole } from "./nbgrader.ts";
 * const cell = {
 *   cell_type: "code" as const, source: "", metadata: { nbgrader: { grade: true, points: 2 } },
 *   outputs: [], execution_count: null,
 * };
 * console.log(cellRole(cell)); // "test"
 * ```
 */
export function cellRole(cell: Cell): CellRole | undefined {
  const meta = nbgraderMetadata(cell);
  if (!meta) return undefined;
  if (meta.task === true) return "manual";
  if (meta.solution === true) return meta.grade === true ? "manual" : "answer";
  if (meta.grade === true) return "test";
  if (meta.locked === true) return "locked";
  return undefined;
}

/** The cell's `grade_id` when it is a string. */
export function gradeId(cell: Cell): string | undefined {
  const id = nbgraderMetadata(cell)?.grade_id;
  return typeof id === "string" ? id : undefined;
}

/** Line endings and trailing whitespace are not edits: editors change them freely. */
export function normalizeSource(source: string): string {
  return source.replace(/\r\n?/g, "\n").split("\n").map((line) => line.trimEnd()).join("\n")
    .trimEnd();
}

/** Hex SHA-256 of a string. */
export async function sha256Hex(data: string | Uint8Array): Promise<string> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const digest = await crypto.subtle.digest("SHA-256", bytes as BufferSource);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Checksum of what a student must not change in a locked or test cell: its type, normalised
 * source and grading flags. Outputs, ids and other metadata do not count.
 */
export async function cellChecksum(cell: Cell): Promise<string> {
  const meta = nbgraderMetadata(cell) ?? {};
  return await sha256Hex(JSON.stringify([
    cell.cell_type,
    normalizeSource(cell.source),
    meta.grade === true,
    meta.solution === true,
    meta.locked === true,
    typeof meta.points === "number" ? meta.points : null,
    meta.grade_id ?? null,
  ]));
}
