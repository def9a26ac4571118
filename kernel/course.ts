/**
 * `deno task course`: execute every lesson notebook in `lessons/` headlessly and write the
 * executed copies into `build/lessons/` (git-ignored), then print a summary. Exits non-zero
 * when a lesson fails.
 *
 * Smoke parameters: a lesson may carry a fast parameter set in its notebook metadata,
 * `metadata.convlab.smoke` (an object of parameter values, e.g. `{"epochs": 1, "samples":
 * 512}`); the course run injects it like `-p` values (after the cell tagged `parameters`).
 * `--full` runs the lessons with their own defaults instead.
 *
 * ```sh
 * deno task course [--full] [--out <dir>] [--timeout <s>] [lessons/dir-or-notebook...]
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { executeNotebook, type ExecuteResult } from "./execute.ts";
import { type Notebook, readNotebook, writeNotebook } from "./notebook.ts";

/** The project root (the folder holding `deno.json`, above `kernel/`). */
export const PROJECT_ROOT: string = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** Whether a file is a lesson notebook (not an executed copy or a checkpoint). */
export function isLessonFile(path: string): boolean {
  return path.endsWith(".ipynb") && !path.endsWith(".out.ipynb") &&
    !path.split(/[\\/]/).includes(".ipynb_checkpoints");
}

/** Every lesson notebook under `dir`, recursively, sorted by path. */
export async function findLessons(dir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (folder: string) => {
    for await (const entry of Deno.readDir(folder)) {
      const path = join(folder, entry.name);
      if (entry.isDirectory && !entry.name.startsWith(".") && entry.name !== "node_modules") {
        await walk(path);
      } else if (entry.isFile && isLessonFile(path)) found.push(path);
    }
  };
  await walk(dir);
  return found.sort();
}

/** The smoke parameters of a lesson (`metadata.convlab.smoke`), or `{}`. */
export function smokeParameters(nb: Notebook): Record<string, unknown> {
  const convlab = nb.metadata.convlab as { smoke?: unknown } | undefined;
  const smoke = convlab?.smoke;
  if (smoke === undefined) return {};
  if (typeof smoke !== "object" || smoke === null || Array.isArray(smoke)) {
    throw new TypeError("metadata.convlab.smoke must be an object of parameter values");
  }
  return smoke as Record<string, unknown>;
}

/** Options of {@linkcode runCourse}. */
export interface CourseOptions {
  /** Notebooks or folders to run. Default: `lessons/`. */
  inputs?: string[];
  /** Where executed copies go (same relative paths as under `lessons/`). Default `build/lessons`. */
  outDir?: string;
  /** Use the lessons' own parameters instead of their smoke parameters. Default false. */
  full?: boolean;
  /** Per-cell timeout in seconds. Default 600. */
  timeout?: number;
  /** Called after each lesson. */
  onLesson?: (lesson: CourseLesson) => void;
}

/** One lesson's outcome. */
export interface CourseLesson {
  path: string;
  outPath: string;
  ok: boolean;
  seconds: number;
  result?: ExecuteResult;
  /** Why it failed (the first failing cell, or why it could not run). */
  failure?: string;
}

/** Execute the lessons and write the executed copies. */
export async function runCourse(options: CourseOptions = {}): Promise<CourseLesson[]> {
  const lessonsDir = join(PROJECT_ROOT, "lessons");
  const outDir = resolve(options.outDir ?? join(PROJECT_ROOT, "build", "lessons"));
  const paths: string[] = [];
  for (const input of options.inputs?.length ? options.inputs : [lessonsDir]) {
    const stat = await Deno.stat(input);
    if (stat.isDirectory) paths.push(...await findLessons(input));
    else paths.push(input);
  }
  const lessons: CourseLesson[] = [];
  for (const path of paths) {
    const rel = relative(lessonsDir, resolve(path));
    const outPath = join(
      outDir,
      rel.startsWith("..") ? relative(PROJECT_ROOT, resolve(path)) : rel,
    );
    const started = performance.now();
    let lesson: CourseLesson;
    try {
      const nb = await readNotebook(path);
      const result = await executeNotebook(nb, {
        path: relative(Deno.cwd(), path),
        parameters: options.full ? {} : smokeParameters(nb),
        timeout: options.timeout ?? 600,
      });
      await Deno.mkdir(dirname(outPath), { recursive: true });
      await writeNotebook(outPath, result.notebook);
      lesson = {
        path,
        outPath,
        ok: result.ok,
        seconds: (performance.now() - started) / 1000,
        result,
        ...(result.error ? { failure: result.error.message } : {}),
      };
    } catch (e) {
      lesson = {
        path,
        outPath,
        ok: false,
        seconds: (performance.now() - started) / 1000,
        failure: (e as Error).message,
      };
    }
    lessons.push(lesson);
    options.onLesson?.(lesson);
  }
  return lessons;
}

async function main(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      full: { type: "boolean" },
      out: { type: "string" },
      timeout: { type: "string" },
    },
  });
  const timeout = values.timeout === undefined ? undefined : Number(values.timeout);
  if (timeout !== undefined && !(timeout > 0)) {
    console.error(`error: --timeout needs a positive number of seconds, got "${values.timeout}"`);
    return 2;
  }
  const lessons = await runCourse({
    inputs: positionals,
    outDir: values.out,
    full: values.full ?? false,
    timeout,
    onLesson: (l) => {
      const where = relative(Deno.cwd(), l.path);
      console.log(`${l.ok ? "ok    " : "FAILED"} ${where} (${l.seconds.toFixed(1)} s)`);
      if (l.failure) console.log(`       ${l.failure.split("\n")[0]}`);
    },
  });
  const failed = lessons.filter((l) => !l.ok).length;
  const out = relative(Deno.cwd(), resolve(values.out ?? join(PROJECT_ROOT, "build", "lessons")));
  console.log(
    `${lessons.length - failed} of ${lessons.length} lessons ran${
      failed ? `, ${failed} failed` : ""
    }; executed copies in ${out}/`,
  );
  return failed > 0 || lessons.length === 0 ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
