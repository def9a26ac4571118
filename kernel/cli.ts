/**
 * `deno task nb …`: run, clean and type-check notebooks.
 *
 * ```sh
 * deno task nb run <notebook> [--out <file>] [-p name=value]... [--timeout <s>]
 *                  [--notebook-timeout <s>] [--allow-errors] [--allow-net] [--inplace]
 * deno task nb clean [--check] <notebook>...
 * deno task nb check <notebook>...
 * ```
 *
 * Exit codes: 0 success; 1 a cell failed, a notebook is not clean, or type errors were found;
 * 2 bad usage or an unreadable notebook.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { basename, dirname, join, relative, resolve } from "node:path";
import { type CellReport, executeNotebook, type ProgressEvent, RUN_FLAGS } from "./execute.ts";
import {
  cleanNotebook,
  NotebookFormatError,
  parseNotebook,
  readNotebook,
  readNotebookText,
  serializeNotebook,
  writeFileAtomic,
  writeNotebook,
} from "./notebook.ts";
import { parseParameter } from "./parameters.ts";
import { checkNotebook } from "./check.ts";
import { KernelStartError } from "./errors.ts";
import { enterCallerFolder } from "./caller_folder.ts";
import { SIGNAL_NUMBERS, stopAllKernels } from "./session/kernels.ts";

/** Thrown for bad command-line usage; the CLI prints it with the usage and exits 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

const USAGE = `Usage:
  deno task nb run <notebook> [options]     execute a notebook headlessly
  deno task nb clean [--check] <notebook>... strip outputs, execution counts and run metadata
  deno task nb check <notebook>...          type-check code cells (errors by cell and line)

Options of "nb run":
${
  RUN_FLAGS.map((f) => {
    const left = `  ${f.flag}${f.value ? ` ${f.value}` : ""}`;
    return `${left.padEnd(30)}${f.help}${f.default ? ` (default: ${f.default})` : ""}`;
  }).join("\n")
}

Exit codes: 0 success; 1 a cell failed / not clean / type errors; 2 bad usage or input.`;

function display(path: string): string {
  const rel = relative(Deno.cwd(), path);
  return rel.startsWith("..") ? path : rel;
}

function positiveNumber(flag: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) {
    throw new UsageError(`${flag} needs a positive number, got "${raw}"`);
  }
  return n;
}

/** The path `nb run` writes to by default: `<name>.out.ipynb` beside the input. */
export function defaultOutputPath(input: string): string {
  const name = basename(input).replace(/\.ipynb$/i, "");
  return join(dirname(input), `${name}.out.ipynb`);
}

function statusWord(report: CellReport): string {
  if (report.status === "expected-error") return "error (expected)";
  return report.status === "not-run" ? "not run" : report.status;
}

function progressPrinter(quiet: boolean) {
  return (event: ProgressEvent) => {
    if (quiet) return;
    if (event.type === "warning") console.error(`warning: ${event.message}`);
    if (event.type !== "cell-end") return;
    const seconds = event.status === "not-run"
      ? "-".padStart(8)
      : `${(event.durationMs / 1000).toFixed(2).padStart(6)} s`;
    const width = String(event.total).length;
    let line = `[${String(event.position).padStart(width)}/${event.total}] cell ${
      String(event.cell).padEnd(3)
    } ${seconds}  ${statusWord({ status: event.status } as CellReport)}`;
    if (event.error) {
      const at = event.error.line
        ? ` (line ${event.error.line}${event.error.column ? `, column ${event.error.column}` : ""})`
        : "";
      line += `  ${event.error.ename}: ${event.error.evalue.split("\n")[0]}${at}`;
    }
    console.log(line);
  };
}

async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      out: { type: "string" },
      p: { type: "string", multiple: true },
      parameter: { type: "string", multiple: true },
      timeout: { type: "string" },
      "notebook-timeout": { type: "string" },
      "allow-errors": { type: "boolean" },
      "allow-net": { type: "boolean" },
      inplace: { type: "boolean" },
      memory: { type: "string" },
      "max-output": { type: "string" },
      settle: { type: "string" },
      quiet: { type: "boolean", short: "q" },
    },
  });
  if (positionals.length !== 1) {
    throw new UsageError(`nb run takes one notebook, got ${positionals.length}`);
  }
  const input = resolve(positionals[0]);
  if (values.inplace && values.out) {
    throw new UsageError("--inplace and --out cannot be used together");
  }
  const out = values.inplace ? input : resolve(values.out ?? defaultOutputPath(input));
  if (out === input && !values.inplace) {
    throw new UsageError(
      `--out ${values.out} is the input notebook; use --inplace to overwrite it`,
    );
  }
  const parameters: Record<string, unknown> = {};
  for (const p of [...(values.p ?? []), ...(values.parameter ?? [])]) {
    try {
      const [name, value] = parseParameter(p);
      parameters[name] = value;
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  }
  const timeout = positiveNumber("--timeout", values.timeout);
  const notebookTimeout = positiveNumber("--notebook-timeout", values["notebook-timeout"]);
  const memoryMb = positiveNumber("--memory", values.memory);
  const maxOutputBytes = positiveNumber("--max-output", values["max-output"]);
  const settleMs = values.settle === undefined ? undefined : Number(values.settle);
  if (settleMs !== undefined && !(settleMs >= 0)) {
    throw new UsageError(`--settle needs a number of milliseconds ≥ 0, got "${values.settle}"`);
  }

  const nb = await readNotebook(input);
  await checkOutputPath(out, values.out);
  const interrupt = new AbortController();
  let signalled: Deno.Signal | undefined;
  const listeners = STOP_SIGNALS.map((signal) => {
    const listener = () => {
      // A second signal while the run winds down ends the process (and its kernel) at once.
      if (signalled) {
        stopAllKernels();
        Deno.exit(128 + SIGNAL_NUMBERS[signal]);
      }
      signalled = signal;
      interrupt.abort();
    };
    Deno.addSignalListener(signal, listener);
    return [signal, listener] as const;
  });
  let result;
  try {
    result = await executeNotebook(nb, {
      path: display(input),
      cwd: dirname(input),
      parameters,
      timeout,
      notebookTimeout,
      allowErrors: values["allow-errors"] ?? false,
      allowNet: values["allow-net"] ?? false,
      memoryMb,
      maxOutputBytes,
      settleMs,
      onProgress: progressPrinter(values.quiet ?? false),
      signal: interrupt.signal,
    });
  } finally {
    for (const [signal, listener] of listeners) Deno.removeSignalListener(signal, listener);
  }
  try {
    await writeNotebook(out, result.notebook);
  } catch (e) {
    console.error(`error: cannot write ${display(out)}: ${(e as Error).message}`);
    return 1;
  }
  const ran = result.cells.filter((c) => c.executionCount !== undefined).length;
  const notRun = result.cells.filter((c) => c.status === "not-run").length;
  const seconds = (result.durationMs / 1000).toFixed(2);
  if (result.ok) {
    console.log(`ok: ${ran} cells ran in ${seconds} s → ${display(out)}`);
    return 0;
  }
  console.error(`FAILED: ${result.error?.message ?? "a cell failed"}`);
  console.error(
    `${ran} cells ran, ${notRun} not run, in ${seconds} s → ${display(out)}`,
  );
  return signalled ? 128 + SIGNAL_NUMBERS[signalled] : 1;
}

/** Signals that stop a run: the cell is interrupted, what ran is written, the kernel stopped. */
const STOP_SIGNALS: Deno.Signal[] = Deno.build.os === "windows"
  ? ["SIGINT"]
  : ["SIGINT", "SIGTERM", "SIGHUP"];

/** Fail before running when the output cannot be written: a folder, or a folder not creatable. */
async function checkOutputPath(out: string, given: string | undefined): Promise<void> {
  const stat = await Deno.stat(out).catch(() => undefined);
  if (stat?.isDirectory) {
    throw new UsageError(`--out ${given ?? out} is a folder; give the file to write`);
  }
  try {
    await Deno.mkdir(dirname(out), { recursive: true });
  } catch (e) {
    throw new UsageError(`cannot create the folder of ${display(out)}: ${(e as Error).message}`);
  }
}

async function clean(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { check: { type: "boolean" } },
  });
  if (positionals.length === 0) throw new UsageError("nb clean needs at least one notebook");
  let dirty = 0;
  let unreadable = 0;
  for (const path of positionals) {
    let text: string, nb;
    try {
      text = await readNotebookText(path);
      nb = parseNotebook(text, path);
    } catch (e) {
      if (!(e instanceof NotebookFormatError)) throw e;
      // Say so and go on with the others.
      console.error(`error: ${e.message}`);
      unreadable++;
      continue;
    }
    const cleaned = serializeNotebook(cleanNotebook(nb));
    if (cleaned === text) {
      if (!values.check) console.log(`clean: ${path}`);
      continue;
    }
    dirty++;
    if (values.check) console.error(`not clean: ${path} (run: deno task nb clean ${path})`);
    else {
      await writeFileAtomic(path, cleaned);
      console.log(`cleaned: ${path}`);
    }
  }
  if (unreadable > 0) return 2;
  return values.check && dirty > 0 ? 1 : 0;
}

async function check(args: string[]): Promise<number> {
  const { positionals } = parseArgs({ args, allowPositionals: true, options: {} });
  if (positionals.length === 0) throw new UsageError("nb check needs at least one notebook");
  let errors = 0;
  let unreadable = 0;
  for (const path of positionals) {
    let report;
    try {
      report = await checkNotebook(path);
    } catch (e) {
      if (!(e instanceof NotebookFormatError)) throw e;
      console.error(`error: ${e.message}`);
      unreadable++;
      continue;
    }
    for (const d of report.diagnostics) {
      errors++;
      console.error(d.message);
    }
    if (report.diagnostics.length === 0) console.log(`ok: ${report.path}`);
  }
  if (errors > 0) console.error(`${errors} type error${errors === 1 ? "" : "s"} found`);
  return unreadable > 0 ? 2 : errors > 0 ? 1 : 0;
}

/** Run the CLI with arguments; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  // `nb run --help` and the like: the usage, not an unknown-option error.
  if (command && rest.some((a) => a === "--help" || a === "-h") && !rest.includes("--")) {
    console.log(USAGE);
    return 0;
  }
  try {
    switch (command) {
      case "run":
        return await run(rest);
      case "clean":
        return await clean(rest);
      case "check":
        return await check(rest);
      case undefined:
      case "help":
      case "--help":
      case "-h":
        console.log(USAGE);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (e) {
    if (
      e instanceof UsageError ||
      (e instanceof TypeError && (e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS"))
    ) {
      console.error(`error: ${(e as Error).message}\n\n${USAGE}`);
      return 2;
    }
    if (e instanceof NotebookFormatError) {
      console.error(`error: ${e.message}`);
      return 2;
    }
    if (e instanceof KernelStartError) {
      console.error(`error: ${e.message}`);
      return 1;
    }
    throw e;
  }
}

if (import.meta.main) {
  enterCallerFolder();
  Deno.exit(await main(Deno.args));
}
