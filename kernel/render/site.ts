/**
 * A folder of notebooks as a static course site: one page per notebook, an `index.html` that
 * lists the lessons in order with their summaries, shared assets copied once; notebooks that
 * need it are executed first, through the execution cache.
 *
 * @module
 */
import { basename, dirname, extname, join, resolve } from "node:path";
import { type Notebook, readNotebook, writeFileAtomic } from "../notebook.ts";
import { type AssetNeeds, writeSiteAssets } from "./assets.ts";
import { ExecutionCache, findProjectRoot } from "./cache.ts";
import { type ExecutionRequest, kernelExecutor, type NotebookExecutor } from "./execute.ts";
import type { ProgressEvent } from "../execute.ts";
import { escapeHtml, noticeHtml } from "./html.ts";
import { newMarkdownEnv, renderMarkdown } from "./markdown.ts";
import { type NavLink, notebookTitle, pageShell, renderNotebookPage } from "./page.ts";

/** Options of {@linkcode renderSite}; the CLI flags of `deno task render` mirror them. */
export interface SiteOptions {
  /** Folder the site is written to (created if missing). */
  outDir: string;
  /**
   * Execute notebooks before rendering: `true` (all), `false` (render as stored), or `"auto"`
   * (default): execute the notebooks that were never run (no code cell has an execution count).
   */
  execute?: boolean | "auto";
  /** One self-contained HTML file per notebook (assets inlined) instead of a shared `assets/`. */
  singleFile?: boolean;
  /** Parameters for every executed notebook, or a function giving them per notebook. */
  parameters?:
    | Record<string, unknown>
    | ((path: string, nb: Notebook) => Record<string, unknown> | undefined);
  /** Per-cell timeout in seconds for execution. */
  timeout?: number;
  /** Whole-notebook timeout in seconds for execution. */
  notebookTimeout?: number;
  /** Keep executing after a cell fails, so the page shows every error (default false). */
  allowErrors?: boolean;
  /** Where executed notebooks are cached (default `.cache/render/` in the project root); `false`: no cache. */
  cacheDir?: string | false;
  /** Re-execute even when the cache has the notebook (the fresh result is stored). */
  force?: boolean;
  /** Site name in the top bar and titles (default "Convlab"). */
  siteTitle?: string;
  /**
   * Plain-text notice shown on every page (e.g. that outputs come from a fast smoke run); a
   * function is asked after execution, before the pages are written.
   */
  notice?: string | (() => string | undefined);
  /** Treat every notebook as untrusted (see `renderNotebookPage`); such notebooks are never executed. */
  sanitize?: boolean;
  /** Executes notebooks (default: the kernel's `executeNotebook`). */
  executor?: NotebookExecutor;
  /** Told about each notebook as it is done. */
  onProgress?: (event: PageProgress) => void;
  /** Told when a notebook starts executing (executions can take minutes). */
  onExecutionStart?: (event: { path: string; index: number; total: number }) => void;
  /** Cell progress of executions. */
  onCellProgress?: (path: string, event: ProgressEvent) => void;
}

/** How a notebook got its outputs. */
export type ExecutionSource = "stored" | "cache" | "executed" | "failed";

/** One page of the site. */
export interface SitePage {
  /** The notebook file. */
  source: string;
  /** The HTML file written. */
  output: string;
  /** Page title. */
  title: string;
  /** Summary shown on the index. */
  summary: string;
  /** Where its outputs came from. */
  execution: ExecutionSource;
  /** Seconds spent executing (0 when stored or cached). */
  executionSeconds: number;
  /** Warnings found while rendering (bad math, missing images), each naming the cell. */
  warnings: string[];
  /** The notebook as rendered: executed (or from the cache), else as stored. */
  notebook: Notebook;
  /** Why execution failed (file, cell, error), when it did. */
  failure?: string;
}

/** Progress of {@linkcode renderSite}: one event per notebook, in order. */
export interface PageProgress {
  index: number;
  total: number;
  page: SitePage;
}

/** What {@linkcode renderSite} did. */
export interface SiteResult {
  /** The output folder. */
  outDir: string;
  /** Path of `index.html`. */
  index: string;
  pages: SitePage[];
  /** Asset files written, relative to `outDir` (empty for single-file sites). */
  assets: string[];
  /** Pages of an earlier build that no notebook makes any more, now removed. */
  removed: string[];
  /** False when some notebook failed to execute (its page shows the error). */
  ok: boolean;
}

/** Thrown for inputs that cannot make a site (no notebooks, clashing page names). */
export class SiteInputError extends Error {
  override name = "SiteInputError";
}

function naturalCompare(a: string, b: string): number {
  return a.localeCompare(b, "en", { numeric: true, sensitivity: "base" });
}

function isNotebookFile(name: string): boolean {
  return name.endsWith(".ipynb") && !name.endsWith(".out.ipynb") && !name.startsWith(".");
}

/**
 * The notebooks named by files and folders, in order: a folder gives the notebooks directly in it
 * (not subfolders: `lessons/assignments/` holds solutions that are not for the site), sorted
 * naturally (`2_…` before `10_…`); executed copies (`*.out.ipynb`) are skipped.
 *
 * @throws {SiteInputError} when an input does not exist or nothing is found.
 */
export async function findNotebooks(inputs: string[]): Promise<string[]> {
  const found: string[] = [];
  for (const input of inputs) {
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(input);
    } catch {
      throw new SiteInputError(`${input}: no such file or folder`);
    }
    if (info.isDirectory) {
      const names: string[] = [];
      for await (const entry of Deno.readDir(input)) {
        if (entry.isFile && isNotebookFile(entry.name)) names.push(entry.name);
      }
      found.push(...names.sort(naturalCompare).map((n) => join(input, n)));
    } else if (input.endsWith(".ipynb")) {
      found.push(input);
    } else {
      throw new SiteInputError(`${input}: not a notebook (.ipynb) or a folder`);
    }
  }
  const unique = [...new Set(found.map((p) => resolve(p)))];
  if (unique.length === 0) {
    throw new SiteInputError(`No notebooks found in ${inputs.join(", ") || "(no inputs)"}`);
  }
  return unique;
}

function pageName(path: string): string {
  return `${basename(path, extname(path))}.html`;
}

/** A link to a page or file in the site: its name as a URL path (`#`, `?`, `%` escaped). */
function hrefOf(name: string): string {
  return encodeURIComponent(name);
}

function neverRun(nb: Notebook): boolean {
  const code = nb.cells.filter((c) => c.cell_type === "code");
  return code.length > 0 && code.every((c) => c.execution_count === null);
}

async function introHtml(
  notebooks: string[],
  inputs: string[],
): Promise<{ html: string; math: boolean }> {
  // An `index.md` in an input folder (or beside the first notebook) introduces the course.
  const folders = [...inputs.map((i) => resolve(i)), dirname(notebooks[0])];
  for (const folder of folders) {
    try {
      const text = await Deno.readTextFile(join(folder, "index.md"));
      const env = newMarkdownEnv();
      const html = `<div class="cl-markdown-cell">${renderMarkdown(text, env)}</div>`;
      return { html, math: env.math.used };
    } catch {
      // none here
    }
  }
  return { html: "", math: false };
}

/** The site's `index.html`: the lessons in order with their titles and summaries. */
export async function renderIndexPage(
  pages: { title: string; summary: string; href: string }[],
  options: {
    siteTitle?: string;
    intro?: string;
    notice?: string;
    singleFile?: boolean;
    needs?: AssetNeeds;
  } = {},
): Promise<string> {
  const siteTitle = options.siteTitle ?? "Convlab";
  const items = pages.map((p) =>
    `<li><a href="${escapeHtml(p.href)}"><strong>${escapeHtml(p.title)}</strong>${
      p.summary ? `<p>${escapeHtml(p.summary)}</p>` : ""
    }</a></li>`
  ).join("\n");
  const intro = options.intro ||
    `<div class="cl-markdown-cell"><h1>${escapeHtml(siteTitle)}</h1></div>`;
  return await pageShell({
    title: siteTitle,
    siteTitle,
    description: pages.map((p) => p.title).join(" · "),
    homeHref: "index.html",
    toc: "",
    main: `<article class="cl-article">${
      options.notice ? noticeHtml(options.notice) : ""
    }${intro}<ol class="cl-lesson-list">\n${items}\n</ol></article>`,
    needs: options.needs ?? { math: false, plotly: false },
    singleFile: options.singleFile ?? false,
    assetsHref: "assets/",
    lang: "en",
  });
}

const GENERATOR = '<meta name="generator" content="Convlab">';

/**
 * Remove pages an earlier build wrote (recognised by Convlab's generator tag) whose notebook is
 * gone or renamed, and their notebook downloads; other files in the folder are left alone.
 */
async function pruneStalePages(outDir: string, keep: Set<string>): Promise<string[]> {
  const removed: string[] = [];
  const keptNotebooks = new Set(
    [...keep].map((p) => `${basename(p, ".html")}.ipynb`),
  );
  for await (const entry of Deno.readDir(outDir)) {
    const path = join(outDir, entry.name);
    if (!entry.isFile || !entry.name.endsWith(".html") || keep.has(path)) continue;
    const head = await Deno.readTextFile(path).then((t) => t.slice(0, 2000)).catch(() => "");
    if (!head.includes(GENERATOR)) continue;
    await Deno.remove(path);
    removed.push(path);
  }
  const downloads = join(outDir, "notebooks");
  const entries = await Array.fromAsync(Deno.readDir(downloads)).catch(() => []);
  for (const entry of entries) {
    if (entry.isFile && entry.name.endsWith(".ipynb") && !keptNotebooks.has(entry.name)) {
      await Deno.remove(join(downloads, entry.name));
      removed.push(join(downloads, entry.name));
    }
  }
  return removed;
}

/**
 * Render notebooks (files or folders) as a static site in `options.outDir`: executes what needs
 * executing (through the cache), writes one page per notebook, `index.html` and the assets, and
 * reports what it did. Pages are written atomically; inputs are never modified.
 *
 * @example
 * ```ts ignore
 * import { renderSite } from "./site.ts";
 * const site = await renderSite(["lessons/"], { outDir: "site" });
 * console.log(`open ${site.index}`);
 * ```
 */
export async function renderSite(inputs: string[], options: SiteOptions): Promise<SiteResult> {
  const paths = await findNotebooks(inputs);
  const names = new Map<string, string>();
  for (const path of paths) {
    const name = pageName(path);
    if (name === "index.html") {
      throw new SiteInputError(`${path}: a notebook named "index" would replace the site index`);
    }
    const other = names.get(name);
    if (other) {
      throw new SiteInputError(`${other} and ${path} would both be written to ${name}: rename one`);
    }
    names.set(name, path);
  }
  const notebooks = await Promise.all(paths.map((p) => readNotebook(p)));
  const outDir = resolve(options.outDir);
  if ((await Deno.stat(outDir).catch(() => undefined))?.isFile) {
    throw new SiteInputError(`${options.outDir}: is a file; --out needs a folder for the site`);
  }
  await Deno.mkdir(outDir, { recursive: true });

  // Untrusted notebooks are never executed here: the renderer's kernel runs with a lesson's
  // permissions (it reads the project); submissions run in the grader's sandbox.
  if (options.sanitize && options.execute === true) {
    throw new SiteInputError(
      "Untrusted notebooks (--sanitize) are rendered as stored, never executed here: " +
        "run them with `deno task grade`, which sandboxes them",
    );
  }
  const mode = options.sanitize ? false : options.execute ?? "auto";
  const cache = options.cacheDir === false ? undefined : new ExecutionCache({
    root: await findProjectRoot(dirname(paths[0])).catch(() => Deno.cwd()),
    dir: options.cacheDir,
  });
  let executor = options.executor;

  // Execute first (titles and summaries come from the notebooks, the pages link each other).
  const executed: {
    nb: Notebook;
    execution: ExecutionSource;
    seconds: number;
    failure?: string;
  }[] = [];
  for (const [i, path] of paths.entries()) {
    const nb = notebooks[i];
    const wants = mode === true || (mode === "auto" && neverRun(nb));
    if (!wants || !nb.cells.some((c) => c.cell_type === "code")) {
      executed.push({ nb, execution: "stored", seconds: 0 });
      continue;
    }
    const parameters = typeof options.parameters === "function"
      ? options.parameters(path, nb)
      : options.parameters;
    const key = cache
      ? await cache.key(nb, { path, parameters, allowErrors: options.allowErrors })
      : undefined;
    const hit = cache && key && !options.force ? await cache.get(key, nb) : undefined;
    if (hit) {
      executed.push({ nb: hit, execution: "cache", seconds: 0 });
      continue;
    }
    executor ??= kernelExecutor;
    options.onExecutionStart?.({ path, index: i, total: paths.length });
    const request: ExecutionRequest = {
      path,
      parameters,
      timeout: options.timeout,
      notebookTimeout: options.notebookTimeout,
      allowErrors: options.allowErrors,
      onProgress: options.onCellProgress && ((event) => options.onCellProgress!(path, event)),
    };
    const started = performance.now();
    const outcome = await executor(nb, request);
    const seconds = (performance.now() - started) / 1000;
    if (outcome.ok && cache && key) await cache.put(key, outcome.notebook, path);
    executed.push({
      nb: outcome.notebook,
      execution: outcome.ok ? "executed" : "failed",
      seconds,
      failure: outcome.ok ? undefined : outcome.failure ?? "execution failed",
    });
  }

  const titles = executed.map(({ nb }, i) => notebookTitle(nb, paths[i]));
  const lessons: NavLink[] = paths.map((p, i) => ({ title: titles[i], href: hrefOf(pageName(p)) }));

  // The notebooks as their authors wrote them (not the executed copies) for readers to run;
  // not for single files (which stand alone) or untrusted notebooks.
  const downloads = !options.singleFile && !options.sanitize;
  if (downloads) {
    await Deno.mkdir(join(outDir, "notebooks"), { recursive: true });
    for (const path of paths) {
      await writeFileAtomic(join(outDir, "notebooks", basename(path)), await Deno.readFile(path));
    }
  }
  const pages: SitePage[] = [];
  const needs: AssetNeeds = { math: false, plotly: false };
  const notice = typeof options.notice === "function" ? options.notice() : options.notice;
  for (const [i, path] of paths.entries()) {
    const page = await renderNotebookPage(executed[i].nb, {
      path,
      title: titles[i],
      siteTitle: options.siteTitle,
      homeHref: "index.html",
      lessons: lessons.map((l, j) => ({ ...l, current: j === i })),
      prev: lessons[i - 1],
      next: lessons[i + 1],
      singleFile: options.singleFile,
      sanitize: options.sanitize,
      notice,
      downloadHref: downloads ? `notebooks/${hrefOf(basename(path))}` : undefined,
    });
    needs.math ||= page.needs.math;
    needs.plotly ||= page.needs.plotly;
    const output = join(outDir, pageName(path));
    await writeFileAtomic(output, page.html);
    const sitePage: SitePage = {
      source: path,
      output,
      title: page.title,
      summary: page.summary,
      execution: executed[i].execution,
      executionSeconds: executed[i].seconds,
      warnings: page.warnings,
      notebook: executed[i].nb,
      ...(executed[i].failure ? { failure: executed[i].failure } : {}),
    };
    pages.push(sitePage);
    options.onProgress?.({ index: i, total: paths.length, page: sitePage });
  }

  const index = join(outDir, "index.html");
  const intro = await introHtml(paths, inputs);
  needs.math ||= intro.math;
  await writeFileAtomic(
    index,
    await renderIndexPage(
      pages.map((p) => ({ title: p.title, summary: p.summary, href: hrefOf(pageName(p.source)) })),
      {
        siteTitle: options.siteTitle,
        intro: intro.html,
        notice,
        singleFile: options.singleFile,
        needs: { math: intro.math, plotly: false },
      },
    ),
  );
  const assets = options.singleFile ? [] : await writeSiteAssets(outDir, needs);
  const removed = await pruneStalePages(outDir, new Set([index, ...pages.map((p) => p.output)]));
  return {
    outDir,
    index,
    pages,
    assets,
    removed,
    ok: pages.every((p) => p.execution !== "failed"),
  };
}
