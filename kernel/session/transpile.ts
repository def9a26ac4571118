/**
 * Cell transpilation, done on the host so that a sandboxed child never needs a compiler:
 * TypeScript → JavaScript with types stripped (sucrase keeps line numbers; columns are found
 * by aligning each line with its source), then every `import` declaration becomes an awaited
 * dynamic import
 * and `export` keywords are dropped, as Deno's own kernel does (`var_decl_imports`).
 * Relative specifiers are resolved against the notebook's folder because a script evaluated
 * through the inspector resolves them against the child's main module otherwise.
 *
 * @module
 */
import { transform } from "sucrase";
import { parse as parseJs } from "acorn";

/** A cell's source could not be parsed. `line`/`column` are 1-based, in the cell's source. */
export class CellSyntaxError extends Error {
  override name = "SyntaxError";
  /** The reason without the position, e.g. `Unexpected token`. */
  readonly reason: string;
  /** 1-based line in the cell. */
  readonly line: number;
  /** 1-based column in the cell. */
  readonly column: number;
  constructor(reason: string, line: number, column: number) {
    super(`${reason} (line ${line}, column ${column})`);
    this.reason = reason;
    this.line = line;
    this.column = column;
  }
}

/** A 1-based position in a cell's source. */
export interface CellPosition {
  line: number;
  column: number;
}

/** The result of {@linkcode transpileCell}. */
export interface TranspiledCell {
  /** JavaScript for a REPL-mode `Runtime.evaluate`; same line count as the source. */
  code: string;
  /** Number of lines of `code`. */
  lineCount: number;
  /** Whether a leading `{…}` was taken as an object literal (the cell was wrapped in parens). */
  wrapped: boolean;
  /** Map a 1-based line/column of `code` back to the cell's source. */
  originalPosition(line: number, column: number): CellPosition;
}

/** Options of {@linkcode transpileCell}. */
export interface TranspileOptions {
  /** Folder URL (ending in `/`) that relative import specifiers resolve against. */
  importBase?: string;
}

interface Edit {
  start: number;
  end: number;
  text: string;
}

// deno-lint-ignore no-explicit-any
type AnyNode = any;

const SUCRASE_OPTIONS = {
  transforms: ["typescript" as const],
  keepUnusedImports: true,
  disableESTransforms: true,
};

function stripPosition(message: string): string {
  return message.replace(/^Error transforming [^:]*: /, "").replace(/\s*\(\d+:\d+\)\s*$/, "");
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === "\n") starts.push(i + 1);
  return starts;
}

function offsetOf(starts: number[], line: number, column: number): number {
  return (starts[Math.min(line, starts.length) - 1] ?? 0) + column - 1;
}

function positionOf(starts: number[], offset: number): CellPosition {
  let lo = 0, hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, column: offset - starts[lo] + 1 };
}

/** Resolve a relative or absolute-path specifier against `base`; leave bare ones alone. */
export function resolveSpecifier(specifier: string, base: string | undefined): string {
  if (!base) return specifier;
  if (specifier.startsWith("./") || specifier.startsWith("../") || specifier.startsWith("/")) {
    return new URL(specifier, base).href;
  }
  return specifier;
}

function newlines(text: string): string {
  return "\n".repeat(text.split("\n").length - 1);
}

function propertyKey(node: AnyNode): string {
  return node.type === "Identifier" ? node.name : JSON.stringify(node.value);
}

function importCall(node: AnyNode, base: string | undefined, js: string): string {
  const spec = JSON.stringify(resolveSpecifier(String(node.source.value), base));
  const attributes = (node.attributes ?? []) as AnyNode[];
  if (attributes.length === 0) return `await import(${spec})`;
  const pairs = attributes.map((a) =>
    `${propertyKey(a.key)}: ${js.slice(a.value.start, a.value.end)}`
  );
  return `await import(${spec}, { with: { ${pairs.join(", ")} } })`;
}

function rewriteImport(node: AnyNode, base: string | undefined, js: string): string {
  const call = importCall(node, base, js);
  let namespace: string | undefined;
  const fields: string[] = [];
  for (const s of node.specifiers as AnyNode[]) {
    if (s.type === "ImportNamespaceSpecifier") namespace = s.local.name;
    else if (s.type === "ImportDefaultSpecifier") fields.push(`default: ${s.local.name}`);
    else {
      const imported = propertyKey(s.imported);
      fields.push(imported === s.local.name ? imported : `${imported}: ${s.local.name}`);
    }
  }
  const original = js.slice(node.start, node.end);
  let text: string;
  if (namespace && fields.length) {
    text = `const ${namespace} = ${call}, { ${fields.join(", ")} } = ${namespace};`;
  } else if (namespace) text = `const ${namespace} = ${call};`;
  else if (fields.length) text = `const { ${fields.join(", ")} } = ${call};`;
  else text = `${call};`;
  return text + newlines(original);
}

/** Collect the edits that turn module syntax into REPL script syntax. */
function moduleEdits(js: string, program: AnyNode, base: string | undefined): Edit[] {
  const edits: Edit[] = [];
  for (const node of program.body as AnyNode[]) {
    const original = js.slice(node.start, node.end);
    switch (node.type) {
      case "ImportDeclaration":
        edits.push({ start: node.start, end: node.end, text: rewriteImport(node, base, js) });
        break;
      case "ExportNamedDeclaration":
        if (node.declaration) {
          edits.push({ start: node.start, end: node.declaration.start, text: "" });
        } else edits.push({ start: node.start, end: node.end, text: newlines(original) });
        break;
      case "ExportDefaultDeclaration": {
        const d = node.declaration;
        const anonymous = (d.type === "FunctionDeclaration" || d.type === "ClassDeclaration") &&
          !d.id;
        if (anonymous) {
          edits.push({ start: node.start, end: d.start, text: "(" });
          edits.push({ start: d.end, end: d.end, text: ")" });
        } else edits.push({ start: node.start, end: d.start, text: "" });
        break;
      }
      case "ExportAllDeclaration":
        edits.push({ start: node.start, end: node.end, text: newlines(original) });
        break;
    }
  }
  // `import("./x.ts")` anywhere: resolve relative specifiers against the notebook folder too.
  const visit = (node: AnyNode) => {
    if (!node || typeof node.type !== "string") return;
    if (
      node.type === "ImportExpression" && node.source?.type === "Literal" &&
      typeof node.source.value === "string"
    ) {
      const resolved = resolveSpecifier(node.source.value, base);
      if (resolved !== node.source.value) {
        edits.push({
          start: node.source.start,
          end: node.source.end,
          text: JSON.stringify(resolved),
        });
      }
    }
    for (const key in node) {
      if (key === "type" || key === "start" || key === "end") continue;
      const value = node[key];
      if (Array.isArray(value)) value.forEach(visit);
      else if (value && typeof value === "object") visit(value);
    }
  };
  visit(program);
  return edits.sort((a, b) => a.start - b.start);
}

/**
 * The column in `sourceLine` of column `column` (0-based) of `jsLine`, the same line after
 * type stripping. Sucrase keeps lines and mostly deletes (annotations, `as T`, `!`), so the JS
 * line is usually a subsequence of the source line: align greedily. (Sucrase's own source map
 * is unreliable after template literals.) Where it inserts code too (enums, parameter
 * properties), the longest common subsequence of the two lines aligns them.
 */
export function alignColumn(jsLine: string, sourceLine: string, column: number): number {
  if (jsLine === sourceLine) return column;
  let s = 0;
  let mapped = -1;
  for (let j = 0; j < jsLine.length; j++) {
    while (s < sourceLine.length && sourceLine[s] !== jsLine[j]) s++;
    if (s >= sourceLine.length) return alignByCommonSubsequence(jsLine, sourceLine, column);
    if (j === column) mapped = s;
    s++;
  }
  return mapped >= 0 ? mapped : Math.min(sourceLine.length, s + (column - jsLine.length));
}

/** Lines longer than this (minified code) keep the column rather than cost a quadratic table. */
const MAX_ALIGNED_CELLS = 4_000_000;

function alignByCommonSubsequence(jsLine: string, sourceLine: string, column: number): number {
  const n = jsLine.length, m = sourceLine.length;
  if (n * m > MAX_ALIGNED_CELLS) return Math.min(column, m);
  // lcs[i * (m + 1) + k]: length of the longest common subsequence of jsLine[i:], sourceLine[k:].
  const lcs = new Uint16Array((n + 1) * (m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let k = m - 1; k >= 0; k--) {
      lcs[i * (m + 1) + k] = jsLine[i] === sourceLine[k]
        ? lcs[(i + 1) * (m + 1) + k + 1] + 1
        : Math.max(lcs[(i + 1) * (m + 1) + k], lcs[i * (m + 1) + k + 1]);
    }
  }
  // Walk the table: each JavaScript character gets the source column it matched, or (inserted
  // code) the column of the next source character that is matched.
  let i = 0, k = 0;
  while (i < n && k < m) {
    if (jsLine[i] === sourceLine[k]) {
      if (i === column) return k;
      i++;
      k++;
    } else if (lcs[(i + 1) * (m + 1) + k] >= lcs[i * (m + 1) + k + 1]) {
      if (i === column) return k;
      i++;
    } else k++;
  }
  return Math.min(m, k + Math.max(0, column - i));
}

function stripTypes(source: string): { code: string } {
  return { code: transform(source, SUCRASE_OPTIONS).code };
}

function tryTranspile(source: string, base: string | undefined): Omit<TranspiledCell, "wrapped"> {
  let stripped: { code: string };
  try {
    stripped = stripTypes(source);
  } catch (e) {
    const err = e as { message?: string; loc?: { line: number; column: number } };
    // sucrase's `loc.column` is already 1-based.
    const loc = err.loc ?? { line: 1, column: 1 };
    throw new CellSyntaxError(stripPosition(String(err.message ?? e)), loc.line, loc.column);
  }
  const js = stripped.code;
  let edits: Edit[] = [];
  // Most cells have no module syntax: skip the parse.
  if (/\b(?:import|export)\b/.test(js)) {
    try {
      const program = parseJs(js, {
        ecmaVersion: "latest",
        sourceType: "module",
        allowAwaitOutsideFunction: true,
        allowHashBang: true,
      });
      edits = moduleEdits(js, program, base);
    } catch (e) {
      // acorn may lag behind V8 on new syntax: hand the code to V8 unchanged, which reports
      // real syntax errors itself.
      if (!(e instanceof SyntaxError)) throw e;
    }
  }
  let code = "";
  let at = 0;
  for (const edit of edits) {
    code += js.slice(at, edit.start) + edit.text;
    at = edit.end;
  }
  code += js.slice(at);
  const codeStarts = lineStarts(code);
  const jsStarts = lineStarts(js);
  const sourceLines = source.split("\n");
  const jsLines = js.split("\n");
  return {
    code,
    lineCount: codeStarts.length,
    originalPosition(line: number, column: number): CellPosition {
      // Undo the import/export edits, then align the line with the cell's source.
      let offset = offsetOf(codeStarts, line, column);
      let delta = 0;
      for (const edit of edits) {
        const newStart = edit.start + delta;
        const newEnd = newStart + edit.text.length;
        if (offset < newStart) break;
        if (offset < newEnd) {
          offset = edit.start;
          delta = 0;
          break;
        }
        delta += edit.text.length - (edit.end - edit.start);
      }
      const inJs = positionOf(jsStarts, offset - delta);
      const sourceLine = sourceLines[inJs.line - 1];
      if (sourceLine === undefined) return inJs;
      return {
        line: inJs.line,
        column: alignColumn(jsLines[inJs.line - 1] ?? "", sourceLine, inJs.column - 1) + 1,
      };
    },
  };
}

/** How a top-level name is declared: `let`, `const`, `var`, `function` or `class`. */
export type DeclarationKind = "let" | "const" | "var" | "function" | "class";

/**
 * The names a cell declares at its top level (also inside `export`, and in destructuring
 * patterns), with how each is declared. Types are stripped first; a cell that does not parse
 * declares nothing.
 *
 * @example
 * ```ts
 * import { topLevelDeclarations } from "./transpile.ts";
 * const names = topLevelDeclarations("const n: number = 1;\nlet { a, b: [c] } = x;");
 * console.log([...names]); // [["n", "const"], ["a", "let"], ["c", "let"]]
 * ```
 */
export function topLevelDeclarations(source: string): Map<string, DeclarationKind> {
  const names = new Map<string, DeclarationKind>();
  let program: AnyNode;
  try {
    program = parseJs(stripTypes(source).code, {
      ecmaVersion: "latest",
      sourceType: "module",
      allowAwaitOutsideFunction: true,
      allowHashBang: true,
    });
  } catch {
    return names;
  }
  const addPattern = (p: AnyNode, kind: DeclarationKind) => {
    if (!p) return;
    if (p.type === "Identifier") names.set(p.name, kind);
    else if (p.type === "ObjectPattern") {
      p.properties.forEach((q: AnyNode) => addPattern(q.value ?? q.argument, kind));
    } else if (p.type === "ArrayPattern") p.elements.forEach((e: AnyNode) => addPattern(e, kind));
    else if (p.type === "RestElement") addPattern(p.argument, kind);
    else if (p.type === "AssignmentPattern") addPattern(p.left, kind);
  };
  for (let node of program.body as AnyNode[]) {
    if (node.type === "ExportNamedDeclaration" && node.declaration) node = node.declaration;
    if (node.type === "VariableDeclaration") {
      node.declarations.forEach((d: AnyNode) => addPattern(d.id, node.kind));
    } else if (node.type === "FunctionDeclaration" && node.id) {
      names.set(node.id.name, "function");
    } else if (node.type === "ClassDeclaration" && node.id) names.set(node.id.name, "class");
  }
  return names;
}

/**
 * Transpile one cell the way Deno's kernel does: types stripped without type checking, imports
 * turned into awaited dynamic imports, `export` dropped, and a leading `{…}` without a trailing
 * `;` tried first as an object literal.
 *
 * @example
 * ```ts
 * import { transpileCell } from "./transpile.ts";
 * const cell = transpileCell('import * as m from "./m.ts";\nconst n: number = 1;', {
 *   importBase: "file:///notebooks/",
 * });
 * console.log(cell.code);
 * // const m = await import("file:///notebooks/m.ts");
 * // const n = 1;
 * ```
 * @throws {CellSyntaxError} with the line and column in the cell.
 */
export function transpileCell(source: string, options: TranspileOptions = {}): TranspiledCell {
  const trimmed = source.trim();
  if (trimmed.startsWith("{") && !trimmed.endsWith(";")) {
    try {
      const inner = tryTranspile(`(${source}\n)`, options.importBase);
      return {
        ...inner,
        lineCount: inner.lineCount,
        wrapped: true,
        originalPosition(line, column) {
          const p = inner.originalPosition(line, column);
          return p.line === 1 ? { line: 1, column: Math.max(1, p.column - 1) } : p;
        },
      };
    } catch (e) {
      if (!(e instanceof CellSyntaxError)) throw e;
    }
  }
  return { ...tryTranspile(source, options.importBase), wrapped: false };
}
