/**
 * `deno task nb check`: type-check a notebook's code cells together, with Deno's own type
 * checker (`deno check`), and report each error by cell number and line.
 *
 * The cells are laid out as one TypeScript module so declarations flow from cell to cell as
 * they do at run time. Because a kernel lets a later cell re-declare a name, a cell that
 * re-declares one opens a nested block that lasts to the end (its declarations shadow the
 * earlier ones, as re-running them does); import declarations are hoisted to the top, where
 * modules need them. The module is written beside the notebook (hidden, removed afterwards)
 * so that relative imports and `deno.json` resolve as at run time.
 *
 * @module
 */
import { basename, dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { cellTags, type Notebook, readNotebook } from "./notebook.ts";
import { SKIP_EXECUTION_TAG } from "./execute.ts";
import { CellSyntaxError, topLevelDeclarations, transpileCell } from "./session/transpile.ts";

/** One type error, placed in the notebook. */
export interface CheckDiagnostic {
  /** 1-based cell number, when the error is in a cell. */
  cell?: number;
  line?: number;
  column?: number;
  /** TypeScript's code, e.g. `TS2322`. */
  code?: string;
  /** The text, e.g. "Type 'string' is not assignable to type 'number'." */
  text: string;
  /** Ready to print: `file: cell 4, line 2, column 5: TS2322 …`. */
  message: string;
}

/** The type errors of one notebook. */
export interface CheckReport {
  path: string;
  diagnostics: CheckDiagnostic[];
}

interface LineOrigin {
  cell: number;
  line: number;
}

const IMPORT_START = /^\s*import\s+(?:type\s+)?(?:[\w$*{]|["'])/;

/** Top-level names a cell declares (values and types), for spotting re-declarations. */
function declaredNames(source: string): Set<string> {
  const names = new Set(topLevelDeclarations(source).keys());
  for (
    const m of source.matchAll(
      /^\s*(?:export\s+)?(?:declare\s+)?(?:type|interface)\s+([A-Za-z_$][\w$]*)/gm,
    )
  ) {
    names.add(m[1]);
  }
  return names;
}

/** Split a cell into its import declarations (hoisted) and the rest (imports blanked). */
function splitImports(source: string): { imports: { text: string; line: number }[]; body: string } {
  const lines = source.split("\n");
  const imports: { text: string; line: number }[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!IMPORT_START.test(lines[i])) continue;
    // An import ends at the line holding its module specifier.
    let end = i;
    while (
      end < lines.length &&
      !/(?:from\s*)?["'][^"']+["']\s*(?:with\s*\{[^}]*\}\s*)?;?\s*(?:\/\/.*)?$/.test(lines[end])
    ) {
      end++;
    }
    if (end >= lines.length) break;
    imports.push({ text: lines.slice(i, end + 1).join("\n"), line: i + 1 });
    for (let k = i; k <= end; k++) lines[k] = "";
    i = end;
  }
  return { imports, body: lines.join("\n") };
}

/** The module `deno check` sees, where each of its lines came from, and cells left out. */
export function notebookModule(
  nb: Notebook,
): { text: string; origins: (LineOrigin | undefined)[]; syntaxErrors: CheckDiagnostic[] } {
  const syntaxErrors: CheckDiagnostic[] = [];
  const importLines: string[] = [];
  const importOrigins: (LineOrigin | undefined)[] = [];
  const seenImports = new Set<string>();
  const bodyLines: string[] = [];
  const bodyOrigins: (LineOrigin | undefined)[] = [];
  const declared = new Set<string>();
  let blocks = 0;
  nb.cells.forEach((cell, index) => {
    if (cell.cell_type !== "code" || cellTags(cell).includes(SKIP_EXECUTION_TAG)) return;
    if (!cell.source.trim()) return;
    // A cell that does not parse would hide every other error: report it and leave it out.
    let objectLiteral = false;
    try {
      objectLiteral = transpileCell(cell.source).wrapped;
    } catch (e) {
      if (!(e instanceof CellSyntaxError)) throw e;
      syntaxErrors.push({
        cell: index + 1,
        line: e.line,
        column: e.column,
        code: "SyntaxError",
        text: e.reason,
        message: `cell ${index + 1}, line ${e.line}, column ${e.column}: SyntaxError ${e.reason}`,
      });
      return;
    }
    const { imports, body } = splitImports(cell.source);
    for (const imp of imports) {
      const key = imp.text.replace(/\s+/g, " ").trim();
      if (seenImports.has(key)) continue;
      seenImports.add(key);
      imp.text.split("\n").forEach((text, k) => {
        importLines.push(text);
        importOrigins.push({ cell: index + 1, line: imp.line + k });
      });
    }
    const names = declaredNames(body);
    if ([...names].some((n) => declared.has(n))) {
      bodyLines.push("{");
      bodyOrigins.push(undefined);
      blocks++;
    }
    for (const n of names) declared.add(n);
    // A leading `{…}` runs as an object literal (see transpileCell): check it as one.
    if (objectLiteral) {
      bodyLines.push("(");
      bodyOrigins.push(undefined);
    }
    // `export` is not allowed inside blocks; blank it (same columns).
    body.split("\n").forEach((text, k) => {
      bodyLines.push(text.replace(/^(\s*)export(\s+)(?!\{)/, (_, a, b) => a + "      " + b));
      bodyOrigins.push({ cell: index + 1, line: k + 1 });
    });
    bodyLines.push(objectLiteral ? ");" : ";");
    bodyOrigins.push(undefined);
  });
  for (let i = 0; i < blocks; i++) {
    bodyLines.push("}");
    bodyOrigins.push(undefined);
  }
  // `export {}` keeps the file a module even without imports (top-level await needs that).
  const lines = [...importLines, ...bodyLines, "export {};"];
  return {
    text: lines.join("\n") + "\n",
    origins: [...importOrigins, ...bodyOrigins, undefined],
    syntaxErrors,
  };
}

function parseDenoCheck(
  output: string,
  moduleUrl: string,
  origins: (LineOrigin | undefined)[],
  path: string,
): CheckDiagnostic[] {
  const diagnostics: CheckDiagnostic[] = [];
  const blocks = output.split(/\n(?=TS\d+ \[ERROR\]|error: )/);
  for (const block of blocks) {
    const head = block.match(/^(TS\d+) \[ERROR\]: ([\s\S]*?)(?:\n\s*at (\S+):(\d+):(\d+))/);
    if (!head) continue;
    const [, code, rawText, file, l, c] = head;
    // The message is followed by the offending source line and a caret line: keep the text.
    const textLines = rawText.split("\n");
    const caret = textLines.findIndex((t) => /^\s*~+\s*$/.test(t) || /^\s*\^+\s*$/.test(t));
    const text = (caret > 0 ? textLines.slice(0, caret - 1) : textLines).join("\n").trim();
    if (file === moduleUrl) {
      const origin = origins[Number(l) - 1];
      if (origin) {
        diagnostics.push({
          cell: origin.cell,
          line: origin.line,
          column: Number(c),
          code,
          text,
          message:
            `${path}: cell ${origin.cell}, line ${origin.line}, column ${c}: ${code} ${text}`,
        });
        continue;
      }
    }
    diagnostics.push({ code, text, message: `${path}: ${code} ${text} (at ${file}:${l}:${c})` });
  }
  return diagnostics;
}

/**
 * Type-check one notebook.
 *
 * @example
 * ```ts ignore
 * import { checkNotebook } from "./check.ts";
 * const report = await checkNotebook("lessons/01_convolution.ipynb");
 * for (const d of report.diagnostics) console.error(d.message);
 * ```
 */
export async function checkNotebook(path: string): Promise<CheckReport> {
  const nb = await readNotebook(path);
  const { text, origins, syntaxErrors } = notebookModule(nb);
  const located = syntaxErrors.map((d) => ({ ...d, message: `${path}: ${d.message}` }));
  const inOrder = (diagnostics: CheckDiagnostic[]) =>
    diagnostics.sort((a, b) => (a.cell ?? 0) - (b.cell ?? 0) || (a.line ?? 0) - (b.line ?? 0));
  const dir = dirname(resolve(path));
  const file = join(
    dir,
    `.${basename(path).replace(/\.ipynb$/i, "")}.check-${crypto.randomUUID().slice(0, 8)}.ts`,
  );
  await Deno.writeTextFile(file, text);
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["check", "--quiet", file],
      cwd: dir,
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const output = new TextDecoder().decode(out.stderr) + new TextDecoder().decode(out.stdout);
    if (out.success) return { path, diagnostics: located };
    const diagnostics = parseDenoCheck(output, pathToFileURL(file).href, origins, path);
    if (diagnostics.length === 0) {
      diagnostics.push({
        text: output.trim(),
        message: `${path}: deno check failed:\n${output.trim()}`,
      });
    }
    return { path, diagnostics: inOrder([...located, ...diagnostics]) };
  } finally {
    await Deno.remove(file).catch(() => {});
  }
}

/** Type-check several notebooks, one after another. */
export async function checkNotebooks(paths: string[]): Promise<CheckReport[]> {
  const reports: CheckReport[] = [];
  for (const path of paths) reports.push(await checkNotebook(path));
  return reports;
}
