/**
 * Student submissions: one folder per student (`<student>/<notebook>.ipynb`, other files
 * allowed) or one `.zip` per student. Submissions are only ever read; grading works on a copy in
 * a scratch folder.
 *
 * @module
 */
import { unzipSync } from "fflate";
import { basename, dirname, join, normalize, relative, sep } from "node:path";
import { sha256Hex } from "./nbgrader.ts";

/** One student's submission. */
export interface Submission {
  /** Student id: the folder name, or the zip's name without `.zip`. */
  student: string;
  /** Path of the folder or zip file. */
  path: string;
  kind: "folder" | "zip";
}

/** An entry of the submissions folder that is not a submission, and why. */
export interface SkippedEntry {
  name: string;
  reason: string;
}

/** Thrown when a submission cannot be unpacked; the message says why. */
export class SubmissionError extends Error {
  override name = "SubmissionError";
}

/** Limits on what one submission may unpack to. */
export interface SubmissionLimits {
  /** Total bytes (default 256 MiB). */
  maxBytes: number;
  /** Number of files (default 10,000). */
  maxFiles: number;
}

/** Defaults of {@linkcode SubmissionLimits}. */
export const DEFAULT_SUBMISSION_LIMITS: SubmissionLimits = {
  maxBytes: 256 * 1024 * 1024,
  maxFiles: 10_000,
};

/**
 * Files a submission may not bring into its sandbox: they would change how Deno resolves
 * modules (an import map could point `convlab/testing` at the student's own helpers). Hidden
 * files (`.name`) are left out too.
 */
export const IGNORED_NAMES = new Set([
  "deno.json",
  "deno.jsonc",
  "deno.lock",
  "package.json",
  "package-lock.json",
  "import_map.json",
  "node_modules",
  ".npmrc",
  ".ipynb_checkpoints",
  "__MACOSX",
  ".DS_Store",
]);

/**
 * The submissions in a folder, sorted by student id; other entries are reported as skipped.
 *
 * @example
 * ```ts ignore
 * const { submissions } = await findSubmissions("submissions/");
 * console.log(submissions.map((s) => s.student));
 * ```
 */
export async function findSubmissions(
  dir: string,
): Promise<{ submissions: Submission[]; skipped: SkippedEntry[] }> {
  const folders = new Map<string, Submission>();
  const zips = new Map<string, Submission>();
  const skipped: SkippedEntry[] = [];
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(dir));
  } catch (e) {
    throw new SubmissionError(
      `${dir}: cannot read the submissions folder (${(e as Error).message})`,
    );
  }
  for (const e of entries) {
    if (e.name.startsWith(".")) continue;
    if (e.isSymlink) {
      skipped.push({ name: e.name, reason: "a symbolic link, not a submission" });
    } else if (e.isDirectory) {
      folders.set(e.name, { student: e.name, path: join(dir, e.name), kind: "folder" });
    } else if (e.isFile && e.name.toLowerCase().endsWith(".zip")) {
      const student = e.name.slice(0, -4);
      zips.set(student, { student, path: join(dir, e.name), kind: "zip" });
    } else {
      skipped.push({ name: e.name, reason: "not a folder or a .zip file" });
    }
  }
  for (const [student, zip] of zips) {
    if (folders.has(student)) {
      skipped.push({
        name: basename(zip.path),
        reason: `the folder ${student}/ is graded instead (one submission per student)`,
      });
    } else folders.set(student, zip);
  }
  const submissions = [...folders.values()].sort((a, b) =>
    a.student < b.student ? -1 : a.student > b.student ? 1 : 0
  );
  skipped.sort((a, b) => (a.name < b.name ? -1 : 1));
  return { submissions, skipped };
}

/** A parsed `--shard i/n`: shard `index` (1-based) of `count`. */
export interface Shard {
  index: number;
  count: number;
}

/**
 * Parse `i/n` (1-based: `1/4` … `4/4`).
 *
 * @throws {RangeError} naming what is wrong.
 */
export function parseShard(text: string): Shard {
  const m = text.match(/^(\d+)\/(\d+)$/);
  if (!m) {
    throw new RangeError(`--shard must look like i/n (e.g. 2/4), got ${JSON.stringify(text)}`);
  }
  const index = Number(m[1]), count = Number(m[2]);
  if (count < 1) throw new RangeError(`--shard ${text}: the number of shards must be at least 1`);
  if (index < 1 || index > count) {
    throw new RangeError(
      `--shard ${text}: the shard index counts from 1 to ${count}` +
        (index === 0 ? " (for a 0-based index such as JOB_COMPLETION_INDEX, add 1)" : ""),
    );
  }
  return { index, count };
}

/**
 * The 1-based shard a student belongs to among `count`: from a hash of the id, so it does not
 * change when other students are added or removed.
 */
export async function shardOf(student: string, count: number): Promise<number> {
  const hex = await sha256Hex(student);
  return (parseInt(hex.slice(0, 8), 16) % count) + 1;
}

/** Keep the submissions of one shard. */
export async function selectShard(submissions: Submission[], shard: Shard): Promise<Submission[]> {
  const out: Submission[] = [];
  for (const s of submissions) {
    if (await shardOf(s.student, shard.count) === shard.index) out.push(s);
  }
  return out;
}

/** A file of a submission, path relative to its root (with `/`). */
interface SubmissionFile {
  path: string;
  data: Uint8Array;
}

/** The files of a submission as the sandbox will see them, and what was left out. */
export interface SubmissionContents {
  files: SubmissionFile[];
  ignored: string[];
  /** SHA-256 over the paths and contents: the submission part of the cache key. */
  hash: string;
}

function isIgnoredPath(path: string): boolean {
  return path.split("/").some((part) => IGNORED_NAMES.has(part) || part.startsWith("."));
}

async function readFolder(root: string, limits: SubmissionLimits): Promise<{
  files: SubmissionFile[];
  ignored: string[];
}> {
  const files: SubmissionFile[] = [];
  const ignored: string[] = [];
  let bytes = 0;
  const walk = async (dir: string) => {
    const entries = await Array.fromAsync(Deno.readDir(dir));
    entries.sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const e of entries) {
      const full = join(dir, e.name);
      const rel = relative(root, full).split(sep).join("/");
      if (IGNORED_NAMES.has(e.name) || e.name.startsWith(".")) {
        ignored.push(rel);
      } else if (e.isSymlink) {
        // Never follow: a link could point at another student's folder or the key.
        ignored.push(`${rel} (symbolic link)`);
      } else if (e.isDirectory) {
        await walk(full);
      } else if (e.isFile) {
        const stat = await Deno.lstat(full);
        bytes += stat.size;
        if (bytes > limits.maxBytes || files.length >= limits.maxFiles) {
          throw new SubmissionError(
            `submission is larger than the limit (${limits.maxFiles} files, ${
              formatBytes(limits.maxBytes)
            })`,
          );
        }
        files.push({ path: rel, data: await Deno.readFile(full) });
      }
    }
  };
  await walk(root);
  return { files, ignored };
}

function readZip(bytes: Uint8Array, limits: SubmissionLimits): {
  files: SubmissionFile[];
  ignored: string[];
} {
  let total = 0, count = 0;
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes, {
      // Checked before inflating: refuses zip bombs without unpacking them.
      filter: (file) => {
        count++;
        total += file.originalSize;
        if (total > limits.maxBytes || count > limits.maxFiles) {
          throw new SubmissionError(
            `zip unpacks to more than the limit (${limits.maxFiles} files, ${
              formatBytes(limits.maxBytes)
            })`,
          );
        }
        return !file.name.endsWith("/");
      },
    });
  } catch (e) {
    if (e instanceof SubmissionError) throw e;
    throw new SubmissionError(`not a readable zip file (${(e as Error).message})`);
  }
  const files: SubmissionFile[] = [];
  const ignored: string[] = [];
  for (const [name, data] of Object.entries(entries)) {
    const clean = normalize(name.replaceAll("\\", "/")).split(sep).join("/");
    if (
      clean.startsWith("../") || clean === ".." || clean.startsWith("/") || /^[A-Za-z]:/.test(clean)
    ) {
      ignored.push(`${name} (path outside the submission)`);
    } else if (isIgnoredPath(clean)) {
      ignored.push(clean);
    } else if (data.length > 0 || !clean.endsWith("/")) files.push({ path: clean, data });
  }
  // A zip of a folder: take the folder's contents as the submission.
  const tops = new Set(files.map((f) => f.path.split("/")[0]));
  if (tops.size === 1 && files.every((f) => f.path.includes("/"))) {
    const top = [...tops][0] + "/";
    for (const f of files) f.path = f.path.slice(top.length);
  }
  files.sort((a, b) => (a.path < b.path ? -1 : 1));
  return { files, ignored };
}

/**
 * Read a submission (folder or zip) into memory, applying the limits and leaving out links,
 * configuration files and paths that escape it.
 *
 * @throws {SubmissionError} for an unreadable zip or one over the limits.
 */
export async function readSubmission(
  submission: Submission,
  limits: SubmissionLimits = DEFAULT_SUBMISSION_LIMITS,
): Promise<SubmissionContents> {
  let contents: { files: SubmissionFile[]; ignored: string[] };
  if (submission.kind === "zip") {
    const stat = await Deno.stat(submission.path);
    if (stat.size > limits.maxBytes) {
      throw new SubmissionError(`zip is larger than the limit (${formatBytes(limits.maxBytes)})`);
    }
    contents = readZip(await Deno.readFile(submission.path), limits);
  } else contents = await readFolder(submission.path, limits);
  const parts: string[] = [];
  for (const f of contents.files) parts.push(`${f.path}\0${await sha256Hex(f.data)}`);
  return { ...contents, hash: await sha256Hex(parts.join("\n")) };
}

/**
 * Pick the notebook to grade: the one named like the released notebook (shallowest first),
 * else the only notebook there is.
 *
 * @returns the relative path and, when it is not the expected name, a note saying so; or a
 * reason why none could be chosen.
 */
export function chooseNotebook(
  paths: string[],
  expected: string,
): { path: string; note?: string } | { reason: string } {
  const notebooks = paths.filter((p) =>
    p.toLowerCase().endsWith(".ipynb") && !p.endsWith(".out.ipynb")
  ).sort((a, b) => a.split("/").length - b.split("/").length || (a < b ? -1 : 1));
  const exact = notebooks.find((p) => basename(p) === expected);
  if (exact) return { path: exact };
  if (paths.length === 0) return { reason: `the submission is empty (expected ${expected})` };
  if (notebooks.length === 1) {
    return { path: notebooks[0], note: `graded ${notebooks[0]} (expected ${expected})` };
  }
  if (notebooks.length === 0) {
    return { reason: `no notebook in the submission (expected ${expected})` };
  }
  return {
    reason: `${notebooks.length} notebooks (${notebooks.slice(0, 4).join(", ")}${
      notebooks.length > 4 ? ", …" : ""
    }) and none is named ${expected}`,
  };
}

/** Write a submission's files under a folder (created). */
export async function writeSubmissionFiles(
  contents: SubmissionContents,
  dir: string,
): Promise<void> {
  for (const f of contents.files) {
    const target = join(dir, f.path);
    await Deno.mkdir(dirname(target), { recursive: true });
    await Deno.writeFile(target, f.data);
  }
}

/** `12.3 MiB`. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n, u = -1;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}
