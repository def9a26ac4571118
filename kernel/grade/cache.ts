/**
 * The grading cache: one file per student under `<out>/.cache/`, keyed by the hash of the
 * submission, the grading key, the settings that change results, and the code that grades and
 * runs it (kernel and lib) — never by file times. Re-running a batch re-grades only what changed.
 *
 * @module
 */
import { join, relative } from "node:path";
import { writeFileAtomic } from "../notebook.ts";
import { sha256Hex } from "./nbgrader.ts";
import type { SubmissionResult } from "./results.ts";
import { PROJECT_ROOT } from "./sandbox.ts";

const CACHE_FORMAT = "convlab-grade-cache-1";

async function listSources(dir: string, out: string[]): Promise<void> {
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(dir));
  } catch {
    return;
  }
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (e.name.startsWith(".")) continue;
    const full = join(dir, e.name);
    if (e.isDirectory) await listSources(full, out);
    else if (e.isFile && /\.(ts|js|json)$/.test(e.name)) out.push(full);
  }
}

let digest: Promise<string> | undefined;

/**
 * Digest of the code a grade depends on besides the submission and key: `kernel/` (execution
 * and grading), `lib/`, `deno.json` and `deno.lock`. Computed once per process.
 */
export function codeDigest(): Promise<string> {
  digest ??= (async () => {
    const files: string[] = [];
    await listSources(join(PROJECT_ROOT, "kernel"), files);
    await listSources(join(PROJECT_ROOT, "lib"), files);
    files.push(join(PROJECT_ROOT, "deno.json"), join(PROJECT_ROOT, "deno.lock"));
    const parts: string[] = [];
    for (const f of files) {
      const data = await Deno.readFile(f).catch(() => new Uint8Array());
      parts.push(`${relative(PROJECT_ROOT, f)}\0${await sha256Hex(data)}`);
    }
    return await sha256Hex(parts.join("\n"));
  })();
  return digest;
}

/** The cache key of one submission. */
export async function cacheKeyOf(parts: {
  submissionSha256: string;
  keySha256: string;
  settings: unknown;
}): Promise<string> {
  return await sha256Hex(JSON.stringify([
    CACHE_FORMAT,
    await codeDigest(),
    parts.keySha256,
    parts.submissionSha256,
    parts.settings,
  ]));
}

async function cacheFile(out: string, student: string): Promise<string> {
  return join(out, ".cache", `${(await sha256Hex(student)).slice(0, 32)}.json`);
}

/** A cached result for this student and key, if any. */
export async function readCached(
  out: string,
  student: string,
  cacheKey: string,
): Promise<SubmissionResult | undefined> {
  try {
    const entry = JSON.parse(await Deno.readTextFile(await cacheFile(out, student)));
    if (entry.format !== CACHE_FORMAT || entry.cacheKey !== cacheKey) return undefined;
    const result = entry.result as SubmissionResult;
    if (result.student !== student) return undefined;
    // The feedback page is part of the result: re-grade when it is gone.
    if (result.feedback) await Deno.stat(join(out, result.feedback));
    return result;
  } catch {
    return undefined;
  }
}

/** Store a result (atomically). */
export async function writeCached(out: string, result: SubmissionResult): Promise<void> {
  const file = await cacheFile(out, result.student);
  await Deno.mkdir(join(out, ".cache"), { recursive: true });
  await writeFileAtomic(
    file,
    JSON.stringify({ format: CACHE_FORMAT, cacheKey: result.cacheKey, result }),
  );
}
