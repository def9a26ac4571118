/**
 * The execution cache: executed notebooks stored under a key made from what decides their
 * outputs — the code cells, the parameters, the lib sources, `deno.json`, the kernel — never file
 * times. Editing prose (Markdown cells, display-only tags) keeps the key, so re-rendering an
 * unchanged course executes nothing.
 *
 * @module
 */
import { dirname, extname, join, relative, resolve } from "node:path";
import {
  type Cell,
  cellTags,
  type CodeCell,
  type Notebook,
  parseNotebook,
  serializeNotebook,
  writeFileAtomic,
} from "../notebook.ts";

/** Bump when the key's recipe or the entry format changes. */
const CACHE_FORMAT = 1;

/** Tags that change how a cell executes (display tags like `hide-input` do not). */
const EXECUTION_TAGS = new Set([
  "parameters",
  "injected-parameters",
  "skip-execution",
  "raises-exception",
]);

/** Source files beside a notebook that it may import (`./helpers.ts`). */
const SIBLING_SOURCE = new Set([".ts", ".tsx", ".mts", ".js", ".mjs", ".json", ".jsonc"]);

async function sha256(data: string | Uint8Array): Promise<string> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** JSON with sorted keys, so equal values always give equal text. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v) => {
    if (v && typeof v === "object" && !Array.isArray(v)) {
      return Object.fromEntries(Object.keys(v).sort().map((k) => [k, v[k]]));
    }
    return v;
  });
}

async function listFiles(dir: string, skip: (rel: string) => boolean): Promise<string[]> {
  const files: string[] = [];
  async function walk(current: string) {
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(current));
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return;
      throw e;
    }
    for (const entry of entries) {
      const path = join(current, entry.name);
      const rel = relative(dir, path);
      if (entry.name.startsWith(".") || skip(rel)) continue;
      if (entry.isDirectory) await walk(path);
      else if (entry.isFile) files.push(path);
    }
  }
  await walk(dir);
  return files.sort();
}

async function digestFiles(root: string, files: string[]): Promise<string> {
  const parts: string[] = [];
  for (const file of files) {
    parts.push(`${relative(root, file)}\0${await sha256(await Deno.readFile(file))}`);
  }
  return await sha256(parts.join("\n"));
}

/**
 * The project root of a path: the nearest folder upwards that has a `deno.json`.
 *
 * @throws {Error} when there is none.
 */
export async function findProjectRoot(from: string): Promise<string> {
  let dir = resolve(from);
  while (true) {
    try {
      await Deno.stat(join(dir, "deno.json"));
      return dir;
    } catch {
      const parent = dirname(dir);
      if (parent === dir) throw new Error(`No deno.json found in ${from} or any folder above it`);
      dir = parent;
    }
  }
}

/**
 * Digest of the project files every notebook's outputs depend on: everything under `lib/`,
 * `deno.json`, and the kernel that executes cells (`kernel/` without the renderer, the grader
 * and the course command).
 */
export async function projectDigest(root: string): Promise<string> {
  const lib = await listFiles(join(root, "lib"), () => false);
  const kernel = await listFiles(
    join(root, "kernel"),
    (rel) => rel === "render" || rel === "grade" || rel === "course.ts",
  );
  const config = join(root, "deno.json");
  return await digestFiles(root, [config, ...lib, ...kernel]);
}

async function siblingDigest(notebookPath: string): Promise<string> {
  const dir = dirname(resolve(notebookPath));
  const files: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile && SIBLING_SOURCE.has(extname(entry.name)) && !entry.name.startsWith(".")) {
      files.push(join(dir, entry.name));
    }
  }
  return await digestFiles(dir, files.sort());
}

/** What goes into a cache key besides the notebook. */
export interface CacheKeyOptions {
  /** Parameters injected at execution (papermill style). */
  parameters?: Record<string, unknown>;
  /** Whether execution continues after errors (it changes which cells have outputs). */
  allowErrors?: boolean;
  /** The notebook's file: TypeScript/JSON files beside it are part of the key. */
  path?: string;
  /** Digest of the project (from {@linkcode projectDigest}); computed from `root` if absent. */
  projectDigest?: string;
  /** Project root (default: found upward from `path`, else the working directory). */
  root?: string;
}

/** The parts of a code cell that decide what it does when run. */
function codeCellIdentity(cell: CodeCell): unknown {
  return [cell.source, cellTags(cell).filter((t) => EXECUTION_TAGS.has(t)).sort()];
}

/**
 * The execution cache key of a notebook: SHA-256 of its code cells (source and the tags that
 * change execution), the parameters, the project digest (lib, deno.json, kernel), the TypeScript
 * and JSON files beside the notebook, and the Deno version. Markdown cells, outputs, execution
 * counts, metadata and file times are not part of it.
 *
 * @example
 * ```ts ignore
 * import { executionCacheKey } from "./cache.ts";
 * import { readNotebook } from "../notebook.ts";
 * const nb = await readNotebook("lessons/01_convolution.ipynb");
 * console.log(await executionCacheKey(nb, { path: "lessons/01_convolution.ipynb" }));
 * ```
 */
export async function executionCacheKey(
  nb: Notebook,
  options: CacheKeyOptions = {},
): Promise<string> {
  const root = options.root ??
    await findProjectRoot(options.path ? dirname(resolve(options.path)) : Deno.cwd());
  const material = {
    format: CACHE_FORMAT,
    deno: Deno.version.deno,
    code: nb.cells.filter((c): c is CodeCell => c.cell_type === "code").map(codeCellIdentity),
    parameters: options.parameters ?? {},
    ...(options.allowErrors ? { allowErrors: true } : {}),
    project: options.projectDigest ?? await projectDigest(root),
    siblings: options.path ? await siblingDigest(options.path) : "",
  };
  return await sha256(canonicalJson(material));
}

function isInjected(cell: Cell | undefined): boolean {
  return cell !== undefined && cell.cell_type === "code" &&
    cellTags(cell).includes("injected-parameters");
}

/**
 * The current notebook with the outputs of an executed copy that has the same code cells: code
 * cells take the copy's outputs, execution counts and run metadata; Markdown and raw cells and
 * all other metadata stay as they are now. Cells the kernel inserted (`injected-parameters`) are
 * carried over in place.
 *
 * @throws {Error} if the two notebooks' code cells do not line up.
 */
export function applyCachedOutputs(current: Notebook, executed: Notebook): Notebook {
  const executedCode = executed.cells.filter((c): c is CodeCell => c.cell_type === "code");
  const cells: Cell[] = [];
  let k = 0;
  const takeInjected = () => {
    while (isInjected(executedCode[k])) cells.push(structuredClone(executedCode[k++]));
  };
  for (const cell of current.cells) {
    if (cell.cell_type !== "code") {
      cells.push(cell);
      continue;
    }
    if (!isInjected(cell)) takeInjected();
    const done = executedCode[k++];
    if (!done || done.source !== cell.source) {
      throw new Error("cached notebook does not match: its code cells differ");
    }
    const metadata = { ...cell.metadata };
    for (const key of ["execution", "convlab"]) {
      if (done.metadata[key] !== undefined) metadata[key] = structuredClone(done.metadata[key]);
    }
    cells.push({
      ...cell,
      metadata,
      execution_count: done.execution_count,
      outputs: structuredClone(done.outputs),
    });
    if (cellTags(cell).includes("parameters")) takeInjected();
  }
  takeInjected();
  return { ...current, cells };
}

/** One stored execution. */
interface CacheEntry {
  format: number;
  key: string;
  source?: string;
  storedAt: string;
  notebook: unknown;
}

/**
 * Executed notebooks on disk (default folder: `.cache/render/` in the project root), one JSON
 * file per key, written atomically.
 *
 * @example
 * ```ts ignore
 * import { ExecutionCache } from "./cache.ts";
 * const cache = new ExecutionCache({ root: "." });
 * const key = await cache.key(nb, { path: "lessons/01_convolution.ipynb" });
 * const hit = await cache.get(key, nb); // the notebook with cached outputs, or undefined
 * ```
 */
export class ExecutionCache {
  /** Folder of the entries. */
  readonly dir: string;
  readonly #root: string;
  #projectDigest?: Promise<string>;

  constructor(options: { root: string; dir?: string }) {
    this.#root = resolve(options.root);
    this.dir = resolve(options.dir ?? join(this.#root, ".cache", "render"));
  }

  /** The key of a notebook (the project digest is computed once per cache object). */
  async key(nb: Notebook, options: Omit<CacheKeyOptions, "root" | "projectDigest"> = {}) {
    this.#projectDigest ??= projectDigest(this.#root);
    return await executionCacheKey(nb, {
      ...options,
      root: this.#root,
      projectDigest: await this.#projectDigest,
    });
  }

  #file(key: string): string {
    if (!/^[0-9a-f]{64}$/.test(key)) throw new RangeError(`Not a cache key: ${key}`);
    return join(this.dir, `${key}.json`);
  }

  /** The notebook with the cached outputs for `key`, or undefined when there are none. */
  async get(key: string, current: Notebook): Promise<Notebook | undefined> {
    let text: string;
    try {
      text = await Deno.readTextFile(this.#file(key));
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return undefined;
      throw e;
    }
    try {
      const entry = JSON.parse(text) as CacheEntry;
      if (entry.format !== CACHE_FORMAT || entry.key !== key) return undefined;
      return applyCachedOutputs(current, parseNotebook(JSON.stringify(entry.notebook)));
    } catch {
      // A damaged or mismatched entry is a miss; the next execution overwrites it.
      return undefined;
    }
  }

  /** Store an executed notebook under `key`. */
  async put(key: string, executed: Notebook, source?: string): Promise<void> {
    await Deno.mkdir(this.dir, { recursive: true });
    const entry: CacheEntry = {
      format: CACHE_FORMAT,
      key,
      source,
      storedAt: new Date().toISOString(),
      notebook: JSON.parse(serializeNotebook(executed)),
    };
    await writeFileAtomic(this.#file(key), JSON.stringify(entry));
  }
}
