/**
 * `deno task course`: execute every lesson in `lessons/` headlessly (through the execution cache,
 * so an unchanged course executes nothing), write the executed copies into `build/lessons/`
 * (git-ignored), render the course site into `site/`, and print the page to open. Exits non-zero
 * when a lesson fails (its page still shows what ran and the error).
 *
 * Smoke parameters: a lesson may carry a fast parameter set in its notebook metadata,
 * `metadata.convlab.smoke` (an object of parameter values, e.g. `{"epochs": 1, "samples":
 * 512}`); the course run injects it like `-p` values (after the cell tagged `parameters`), and
 * the site then says so on every page. `--full` runs the lessons with their own defaults instead.
 *
 * ```sh
 * deno task course [--full] [--site <dir>] [--out <dir>] [--timeout <s>] [--force]
 *                  [--single-file] [lessons/dir-or-notebook...]
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { type Notebook, writeNotebook } from "./notebook.ts";
import { renderSite, type SitePage, type SiteResult } from "./render/site.ts";
import { enterCallerFolder } from "./caller_folder.ts";
import { exitOnSignals } from "./session/kernels.ts";

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
  /**
   * Notebooks or folders to run. Default: `lessons/` — the notebooks directly in it, in natural
   * order (subfolders such as `lessons/assignments/` hold solutions that are not published).
   */
  inputs?: string[];
  /** Where the site goes. Default `site/`. */
  siteDir?: string;
  /** Where executed copies go (one per lesson, same file name). Default `build/lessons`. */
  outDir?: string;
  /** Use the lessons' own parameters instead of their smoke parameters. Default false. */
  full?: boolean;
  /** Per-cell timeout in seconds. Default 600. */
  timeout?: number;
  /** Folder of the execution cache. Default `.cache/render/` in the project root. */
  cacheDir?: string;
  /** Re-execute lessons even when the cache has them. Default false. */
  force?: boolean;
  /** One self-contained HTML file per lesson. Default false. */
  singleFile?: boolean;
  /** Called when a lesson starts executing. */
  onStart?: (path: string, index: number, total: number) => void;
  /** Called after each lesson is rendered. */
  onLesson?: (lesson: CourseLesson) => void;
}

/** One lesson's outcome. */
export interface CourseLesson {
  path: string;
  /** The executed copy. */
  outPath: string;
  /** The lesson's page. */
  pagePath: string;
  ok: boolean;
  /** Seconds spent executing (0 when the outputs came from the cache). */
  seconds: number;
  /** Whether the outputs came from the execution cache. */
  cached: boolean;
  /** Why it failed (the first failing cell). */
  failure?: string;
}

/** What {@linkcode runCourse} did. */
export interface CourseResult {
  lessons: CourseLesson[];
  site: SiteResult;
}

/** Execute the lessons (through the cache), write the executed copies, render the site. */
export async function runCourse(options: CourseOptions = {}): Promise<CourseResult> {
  const inputs = options.inputs?.length ? options.inputs : [join(PROJECT_ROOT, "lessons")];
  const outDir = resolve(options.outDir ?? join(PROJECT_ROOT, "build", "lessons"));
  const parametersOf = (_path: string, nb: Notebook) =>
    options.full ? undefined : smokeParameters(nb);
  let smoke = false;
  const lessons: CourseLesson[] = [];
  const writes: Promise<void>[] = [];
  const site = await renderSite(inputs, {
    outDir: options.siteDir ?? join(PROJECT_ROOT, "site"),
    execute: true,
    force: options.force,
    cacheDir: options.cacheDir,
    singleFile: options.singleFile,
    timeout: options.timeout ?? 600,
    parameters: (path, nb) => {
      const parameters = parametersOf(path, nb);
      if (parameters && Object.keys(parameters).length > 0) smoke = true;
      return parameters;
    },
    onExecutionStart: ({ path, index, total }) => options.onStart?.(path, index, total),
    onProgress: ({ page }) => {
      const lesson = courseLesson(page, outDir);
      writes.push(
        Deno.mkdir(outDir, { recursive: true }).then(() =>
          writeNotebook(lesson.outPath, page.notebook)
        ),
      );
      lessons.push(lesson);
      options.onLesson?.(lesson);
    },
    // Asked once every lesson has run, before the pages are written.
    notice: () =>
      smoke
        ? "The outputs on these pages come from a quick run with each lesson's smoke settings " +
          "(fewer epochs and samples). Run `deno task course --full` for the full lessons."
        : undefined,
  });
  await Promise.all(writes);
  return { lessons, site };
}

function courseLesson(page: SitePage, outDir: string): CourseLesson {
  return {
    path: page.source,
    outPath: join(outDir, basename(page.source)),
    pagePath: page.output,
    ok: page.execution !== "failed",
    seconds: page.executionSeconds,
    cached: page.execution === "cache",
    ...(page.failure ? { failure: page.failure } : {}),
  };
}

const HELP = `Execute every lesson and render the course site.

Usage: deno task course [options] [notebook-or-folder...]   (default: lessons/)

  --full            run the lessons with their own parameters (default: metadata.convlab.smoke)
  --site <dir>      where the site goes (default: site)
  --out <dir>       where executed copies go (default: build/lessons)
  --timeout <s>     per-cell timeout in seconds (default: 600)
  --force           execute again even when the cache (.cache/render/) has a lesson
  --single-file     one self-contained HTML file per lesson
  -h, --help        this help`;

async function main(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        full: { type: "boolean" },
        site: { type: "string" },
        out: { type: "string" },
        timeout: { type: "string" },
        force: { type: "boolean" },
        "single-file": { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (e) {
    console.error(`error: ${(e as Error).message}\n\n${HELP}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const timeout = values.timeout === undefined ? undefined : Number(values.timeout);
  if (timeout !== undefined && !(timeout > 0)) {
    console.error(`error: --timeout needs a positive number of seconds, got "${values.timeout}"`);
    return 2;
  }
  const cwd = Deno.cwd();
  const shown = (path: string) => {
    const rel = relative(cwd, path);
    return rel.startsWith("..") ? path : rel;
  };
  let result: CourseResult;
  try {
    result = await runCourse({
      inputs: positionals,
      siteDir: values.site,
      outDir: values.out,
      full: values.full ?? false,
      timeout,
      force: values.force ?? false,
      singleFile: values["single-file"] ?? false,
      onStart: (path, i, total) => console.log(`[${i + 1}/${total}] running ${shown(path)} …`),
      onLesson: (l) => {
        const how = l.cached ? "outputs from cache" : `${l.seconds.toFixed(1)} s`;
        console.log(
          `${l.ok ? "ok    " : "FAILED"} ${shown(l.path)} (${how}) → ${shown(l.pagePath)}`,
        );
        if (l.failure) console.log(`       ${l.failure.split("\n")[0]}`);
      },
    });
  } catch (e) {
    console.error(`error: ${(e as Error).message}`);
    return 2;
  }
  const { lessons, site } = result;
  const failed = lessons.filter((l) => !l.ok).length;
  const out = shown(resolve(values.out ?? join(PROJECT_ROOT, "build", "lessons")));
  console.log(
    `${lessons.length - failed} of ${lessons.length} lessons ran${
      failed ? `, ${failed} failed` : ""
    }; executed copies in ${out}/`,
  );
  console.log(`Course site: open ${shown(site.index)} (${pathToFileURL(site.index).href})`);
  return failed > 0 || lessons.length === 0 ? 1 : 0;
}

if (import.meta.main) {
  enterCallerFolder();
  exitOnSignals();
  Deno.exit(await main(Deno.args));
}
