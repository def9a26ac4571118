/**
 * The grading key: what the grader needs and students must never see — every released cell with
 * its role, the full test cells (hidden tests included), checksums of locked and test cells, and
 * points. `deno task assign` writes it to `<release>/key/<name>.key.json`, apart from the
 * student notebook in `<release>/student/`.
 *
 * @module
 */
import { basename, join } from "node:path";
import type { CellMetadata } from "../notebook.ts";
import type { CellRole } from "./nbgrader.ts";
import { sha256Hex } from "./nbgrader.ts";

/** The value of {@linkcode GradingKey.format}. */
export const KEY_FORMAT = "convlab-grading-key";

/** Instructor defaults for grading, from the source notebook's `metadata.convlab.grade`. */
export interface GradeSettings {
  /** Per-cell time limit in seconds. */
  timeout?: number;
  /** Whole-notebook time limit in seconds. */
  notebookTimeout?: number;
  /** Memory limit of a grading session in MB. */
  memoryMb?: number;
}

/** One cell of the released notebook, as the grader sees it. */
export interface KeyCell {
  /** 0-based position in the released student notebook. */
  index: number;
  cellType: "code" | "markdown" | "raw";
  /** Grading role; absent for ordinary cells. */
  role?: CellRole;
  gradeId?: string;
  /** Points of a test (or manually graded) cell. */
  points?: number;
  /** The grader's source: hidden tests included, markers removed. */
  source: string;
  /** The source students received. */
  studentSource: string;
  /** Checksum of the released cell (locked and test cells): a changed one means an edit. */
  checksum?: string;
  /** The released cell's metadata. */
  metadata: CellMetadata;
  /** Lines of hidden tests in a test cell. */
  hiddenTestLines?: number;
}

/** The grading key of one assignment. */
export interface GradingKey {
  format: typeof KEY_FORMAT;
  version: 1;
  /** Assignment name (the notebook's stem unless the source says otherwise). */
  assignment: string;
  /** File name of the student notebook, e.g. `image_filtering.ipynb`. */
  notebook: string;
  /** SHA-256 of the source notebook the release was made from. */
  sourceSha256: string;
  settings: GradeSettings;
  /** Modules the grading session imports and hardens before any student code runs. */
  preload: string[];
  /** Support files released beside the notebook (copied into every grading sandbox). */
  files: string[];
  cells: KeyCell[];
  /** The released notebook's metadata (a submission's own is not trusted). */
  notebookMetadata: Record<string, unknown>;
  /** Sum of the test cells' points. */
  totalPoints: number;
}

/** Thrown when a release or key cannot be used; the message says what and where. */
export class GradingKeyError extends Error {
  override name = "GradingKeyError";
}

/** The test cells of a key, in notebook order. */
export function testCells(key: GradingKey): KeyCell[] {
  return key.cells.filter((c) => c.role === "test");
}

/** Hash that identifies a key's content (part of every cache key). */
export async function keyHash(key: GradingKey): Promise<string> {
  return await sha256Hex(JSON.stringify(key));
}

/** Where a release keeps the key and the student files. */
export function releaseLayout(releaseDir: string, notebook: string) {
  const stem = basename(notebook, ".ipynb");
  return {
    studentDir: join(releaseDir, "student"),
    studentNotebook: join(releaseDir, "student", notebook),
    keyDir: join(releaseDir, "key"),
    keyFile: join(releaseDir, "key", `${stem}.key.json`),
  };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Read a grading key from a release folder (its `key/` must hold one key) or a `.key.json` file.
 *
 * @throws {GradingKeyError} when there is no key, several, or it is not a Convlab key.
 */
export async function readGradingKey(
  releaseOrKey: string,
): Promise<{ key: GradingKey; file: string; releaseDir: string }> {
  let file = releaseOrKey;
  let releaseDir = join(releaseOrKey, "..", "..");
  const stat = await Deno.stat(releaseOrKey).catch(() => undefined);
  if (!stat) throw new GradingKeyError(`${releaseOrKey}: no such release folder or key file`);
  if (stat.isDirectory) {
    releaseDir = releaseOrKey;
    const keyDir = join(releaseOrKey, "key");
    const keys: string[] = [];
    try {
      for await (const e of Deno.readDir(keyDir)) {
        if (e.isFile && e.name.endsWith(".key.json")) keys.push(e.name);
      }
    } catch {
      throw new GradingKeyError(
        `${releaseOrKey}: not a release folder (no key/ inside; make one with \`deno task assign\`)`,
      );
    }
    if (keys.length !== 1) {
      throw new GradingKeyError(
        keys.length === 0
          ? `${keyDir}: no .key.json file (make one with \`deno task assign\`)`
          : `${keyDir}: several keys (${keys.sort().join(", ")}); pass the one to grade`,
      );
    }
    file = join(keyDir, keys[0]);
  }
  let json: unknown;
  try {
    json = JSON.parse(await Deno.readTextFile(file));
  } catch (e) {
    throw new GradingKeyError(`${file}: not a readable JSON key (${(e as Error).message})`);
  }
  if (!isRecord(json) || json.format !== KEY_FORMAT || json.version !== 1) {
    throw new GradingKeyError(`${file}: not a Convlab grading key (format ${KEY_FORMAT} v1)`);
  }
  if (!Array.isArray(json.cells) || typeof json.notebook !== "string") {
    throw new GradingKeyError(`${file}: grading key has no cells or notebook name`);
  }
  return { key: json as unknown as GradingKey, file, releaseDir };
}
