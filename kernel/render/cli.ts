/**
 * `deno task render <notebook|folder>... [--out <dir>] [--execute|--no-execute] [--single-file]`:
 * notebooks as a static HTML course site (see {@linkcode renderSite}).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { relative } from "node:path";
import { NotebookFormatError } from "../notebook.ts";
import { ParameterError, parseParameter as parseKernelParameter } from "../parameters.ts";
import { enterCallerFolder } from "../caller_folder.ts";
import { exitOnSignals } from "../session/kernels.ts";
import { type PageProgress, renderSite, SiteInputError, type SiteOptions } from "./site.ts";

const HELP = `Render notebooks as a static HTML course site (works offline, no CDN).

Usage: deno task render <notebook|folder>... [options]

  --out <dir>              output folder (default: site)
  --execute                execute every notebook first (through the execution cache)
  --no-execute             render notebooks as stored, outputs and all
                           (default: execute only notebooks that were never run)
  --single-file            one self-contained HTML file per notebook (assets inlined)
  -p, --param name=value   parameter for executed notebooks (JSON when it parses, else a string)
  --timeout <s>            per-cell timeout when executing
  --notebook-timeout <s>   whole-notebook timeout when executing
  --force                  re-execute even when the cache has a notebook
  --no-cache               do not read or write the execution cache (.cache/render/)
  --sanitize               treat notebooks as untrusted: no scripts, no event handlers,
                           and never executed (grade submissions with deno task grade)
  --title <text>           site name (default: Convlab)
  --allow-errors           keep executing after a failing cell (the page shows every error)
                           and exit 0
  -h, --help               this help

A folder gives the notebooks directly in it, in natural order; *.out.ipynb copies are skipped.
Exit status: 0 when every page was written and every executed notebook ran without error.`;

/**
 * Parse `name=value`: the value is JSON when it parses (`3`, `true`, `[1,2]`), else a string.
 *
 * @example
 * ```ts
 * import { parseParameter } from "./cli.ts";
 * console.log(parseParameter("epochs=2")); // ["epochs", 2]
 * ```
 */
export function parseParameter(text: string): [string, unknown] {
  try {
    return parseKernelParameter(text);
  } catch (e) {
    if (e instanceof ParameterError) throw new SiteInputError(`-p ${text}: ${e.reason}`);
    throw e;
  }
}

function seconds(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) {
    throw new SiteInputError(`--${flag} ${value}: expected a positive number of seconds`);
  }
  return n;
}

/** A path as the user best reads it: relative below the working directory, else absolute. */
function shown(path: string, cwd: string): string {
  const rel = relative(cwd, path);
  return rel.startsWith("..") ? path : rel;
}

function describe(event: PageProgress, cwd: string): string {
  const { page, index, total } = event;
  const how = {
    stored: "as stored",
    cache: "outputs from cache",
    executed: `executed in ${page.executionSeconds.toFixed(1)} s`,
    failed: `FAILED after ${page.executionSeconds.toFixed(1)} s; the page shows the error`,
  }[page.execution];
  return `[${index + 1}/${total}] ${shown(page.source, cwd)} → ${shown(page.output, cwd)} (${how})`;
}

/** Run the CLI with the given arguments; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      allowNegative: true,
      options: {
        out: { type: "string", default: "site" },
        execute: { type: "boolean" },
        "single-file": { type: "boolean", default: false },
        param: { type: "string", short: "p", multiple: true, default: [] },
        timeout: { type: "string" },
        "notebook-timeout": { type: "string" },
        force: { type: "boolean", default: false },
        cache: { type: "boolean", default: true },
        sanitize: { type: "boolean", default: false },
        title: { type: "string" },
        "allow-errors": { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (e) {
    console.error(`${e instanceof Error ? e.message : e}\n\n${HELP}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (positionals.length === 0) {
    console.error(`No notebooks given.\n\n${HELP}`);
    return 2;
  }
  const cwd = Deno.cwd();
  try {
    const parameters = Object.fromEntries(values.param.map(parseParameter));
    const options: SiteOptions = {
      outDir: values.out,
      execute: values.execute ?? "auto",
      singleFile: values["single-file"],
      parameters: Object.keys(parameters).length ? parameters : undefined,
      timeout: seconds("timeout", values.timeout),
      notebookTimeout: seconds("notebook-timeout", values["notebook-timeout"]),
      force: values.force,
      cacheDir: values.cache ? undefined : false,
      allowErrors: values["allow-errors"],
      sanitize: values.sanitize,
      siteTitle: values.title,
      onExecutionStart: ({ path, index, total }) => {
        console.log(`[${index + 1}/${total}] executing ${shown(path, cwd)} …`);
      },
      onProgress: (event) => {
        console.log(describe(event, cwd));
        if (event.page.failure) console.log(`  ${event.page.failure.split("\n")[0]}`);
        for (const warning of event.page.warnings) console.log(`  warning: ${warning}`);
      },
    };
    const started = performance.now();
    const site = await renderSite(positionals, options);
    const elapsed = ((performance.now() - started) / 1000).toFixed(2);
    console.log(
      `Rendered ${site.pages.length} page(s) in ${elapsed} s. Open ${shown(site.index, cwd)}`,
    );
    if (!site.ok) {
      const failed = site.pages.filter((p) => p.execution === "failed");
      console.error(
        `${failed.length} notebook(s) failed to execute: ${
          failed.map((p) => shown(p.source, cwd)).join(", ")
        }`,
      );
      return values["allow-errors"] ? 0 : 1;
    }
    return 0;
  } catch (e) {
    if (e instanceof SiteInputError || e instanceof NotebookFormatError) {
      console.error(`error: ${e.message}`);
      return 2;
    }
    console.error(`error: ${e instanceof Error ? e.message : e}`);
    return 1;
  }
}

if (import.meta.main) {
  enterCallerFolder();
  exitOnSignals();
  Deno.exit(await main(Deno.args));
}
