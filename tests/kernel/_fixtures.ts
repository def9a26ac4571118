/**
 * Kernel fixtures: stored notebooks under `tests/fixtures/kernel/`, each showing one semantic.
 * A fixture holds its expected outputs; tests re-run it from a clean copy and compare after
 * normalising (timing, absolute paths and addresses). `metadata.convlab_test` holds the run's
 * options (`parameters`, `allowErrors`) and a description.
 *
 * To re-record after a reviewed change: `deno run -A tests/kernel/_fixtures.ts [name...]`.
 */
import { basename, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { executeNotebook, type ExecuteResult } from "../../kernel/execute.ts";
import {
  cleanNotebook,
  type Notebook,
  readNotebook,
  serializeNotebook,
  writeFileAtomic,
} from "../../kernel/notebook.ts";

export const FIXTURES = fileURLToPath(new URL("../fixtures/kernel/", import.meta.url)).replace(
  /\/$/,
  "",
);
const ROOT = fileURLToPath(new URL("../../", import.meta.url)).replace(/\/$/, "");

/** The test options a fixture carries. */
export interface FixtureOptions {
  description: string;
  parameters?: Record<string, unknown>;
  allowErrors?: boolean;
}

export function fixtureOptions(nb: Notebook): FixtureOptions {
  return nb.metadata.convlab_test as FixtureOptions;
}

/** The semantic fixtures (not the fault fixtures), by path. */
export function fixturePaths(): string[] {
  return [...Deno.readDirSync(FIXTURES)]
    .filter((e) => e.isFile && e.name.endsWith(".ipynb") && !e.name.startsWith("."))
    .map((e) => join(FIXTURES, e.name))
    .sort();
}

/** Run a fixture from a clean copy, as its metadata says. */
export async function runFixture(path: string): Promise<ExecuteResult> {
  const stored = await readNotebook(path);
  const options = fixtureOptions(stored);
  return await executeNotebook(cleanNotebook(stored), {
    path,
    parameters: options.parameters,
    allowErrors: options.allowErrors,
    timeout: 60,
  });
}

function normalizeText(text: string): string {
  return text
    .replaceAll(pathToFileURL(FIXTURES).href, "file://<FIXTURES>")
    .replaceAll(FIXTURES, "<FIXTURES>")
    .replaceAll(pathToFileURL(ROOT).href, "file://<ROOT>")
    .replaceAll(ROOT, "<ROOT>")
    .replace(/ws:\/\/[\d.]+:\d+\/[\w-]+/g, "ws://<ADDRESS>")
    .replace(/0x[0-9a-f]{6,}/g, "0x<ADDRESS>");
}

function normalizeValue(value: unknown): unknown {
  if (typeof value === "string") return normalizeText(value);
  if (Array.isArray(value)) return value.map(normalizeValue);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalizeValue(v)]));
  }
  return value;
}

/** A notebook without what changes from run to run: timing metadata, paths, addresses. */
export function normalize(nb: Notebook): Notebook {
  const copy = normalizeValue(structuredClone(nb)) as Notebook;
  for (const cell of copy.cells) {
    delete cell.metadata.execution;
    // an injected-parameters cell gets a fresh id on every run
    if (cell.metadata.tags?.includes("injected-parameters")) cell.id = "injected";
    if (cell.cell_type === "code") {
      for (const out of cell.outputs) delete out.transient;
    }
  }
  return copy;
}

if (import.meta.main) {
  const names = Deno.args;
  for (const path of fixturePaths()) {
    if (names.length && !names.includes(basename(path, ".ipynb"))) continue;
    const result = await runFixture(path);
    await writeFileAtomic(path, serializeNotebook(normalize(result.notebook)));
    console.log(`${result.ok ? "ok    " : "failed"} ${basename(path)}`);
  }
}
