/**
 * The names an instructor's cell declares at its top level, for the grader's "kept names".
 *
 * In a REPL session a later cell may declare any name again: a student's
 * `const expected = myAnswer` or `function reference() {…}` after the read-only cell that
 * defined them would replace the values test cells compare with (and, since REPL mode reuses the
 * binding, the value every earlier function sees). So the grader keeps a copy of what each
 * read-only and test cell declares right after it runs, and gives it back at the start of each
 * later test cell (see `restore.ts`).
 *
 * @module
 */
import { parse as parseJs } from "acorn";
import { transform } from "sucrase";

/** Top-level names of a cell, by how they can be given back. */
export interface Declarations {
  /** `const` bindings (re-declared with `const` in a test cell). */
  consts: string[];
  /** `function` and `class` bindings (assigned back: they cannot be re-declared as `const`). */
  assignable: string[];
  /** `let` and `var` bindings: meant to change (a student may set them), never given back. */
  mutable: string[];
}

// deno-lint-ignore no-explicit-any
type AnyNode = any;

function patternNames(node: AnyNode, out: string[]): void {
  if (!node) return;
  switch (node.type) {
    case "Identifier":
      out.push(node.name);
      break;
    case "ObjectPattern":
      for (const p of node.properties) patternNames(p.type === "RestElement" ? p : p.value, out);
      break;
    case "ArrayPattern":
      for (const e of node.elements) patternNames(e, out);
      break;
    case "RestElement":
      patternNames(node.argument, out);
      break;
    case "AssignmentPattern":
      patternNames(node.left, out);
      break;
  }
}

/** Parsed key cells: the same few sources come back for every submission of a batch. */
const parsed = new Map<string, AnyNode | undefined>();

/** A cell's source (TypeScript) parsed as a module, or undefined when it does not parse. */
function parseCell(source: string): AnyNode | undefined {
  if (parsed.has(source)) return parsed.get(source);
  if (parsed.size >= 256) parsed.clear();
  const program = parseUncached(source);
  parsed.set(source, program);
  return program;
}

function parseUncached(source: string): AnyNode | undefined {
  try {
    const js = transform(source, {
      transforms: ["typescript"],
      keepUnusedImports: true,
      disableESTransforms: true,
    }).code;
    return parseJs(js, {
      ecmaVersion: "latest",
      sourceType: "module",
      allowAwaitOutsideFunction: true,
      allowReturnOutsideFunction: true,
    });
  } catch {
    return undefined;
  }
}

/**
 * The names a cell's source (TypeScript) declares at its top level. Import bindings are left
 * out (the grader re-imports those). A source that does not parse declares nothing.
 *
 * @example
 * ```ts
 * import { topLevelDeclarations } from "./declarations.ts";
 * const d = topLevelDeclarations("const [a, { b }] = f(); function g() {} let n: number = 1;");
 * console.log(d); // { consts: ["a", "b"], assignable: ["g"], mutable: ["n"] }
 * ```
 */
export function topLevelDeclarations(source: string): Declarations {
  const result: Declarations = { consts: [], assignable: [], mutable: [] };
  const program = parseCell(source);
  if (!program) return result;
  for (let node of program.body as AnyNode[]) {
    if (node.type === "ExportNamedDeclaration" || node.type === "ExportDefaultDeclaration") {
      node = node.declaration;
      if (!node) continue;
    }
    if (node.type === "VariableDeclaration") {
      const names: string[] = [];
      for (const d of node.declarations) patternNames(d.id, names);
      (node.kind === "const" ? result.consts : result.mutable).push(...names);
    } else if (
      (node.type === "FunctionDeclaration" || node.type === "ClassDeclaration") && node.id
    ) {
      result.assignable.push(node.id.name);
    }
  }
  return result;
}

/**
 * The identifiers a cell's source uses as names (not property names such as `x.name` or
 * `{ name: 1 }`, not text in strings or comments). A source that does not parse uses nothing.
 *
 * @example
 * ```ts
 * import { usedNames } from "./declarations.ts";
 * console.log([...usedNames("f(gray.size, { gray: 1 }, 'gray')")]); // ["f", "gray"]
 * ```
 */
export function usedNames(source: string): Set<string> {
  const names = new Set<string>();
  const program = parseCell(source);
  const visit = (node: AnyNode, skip?: AnyNode) => {
    if (!node || typeof node.type !== "string" || node === skip) return;
    if (node.type === "Identifier") {
      names.add(node.name);
      return;
    }
    let skipped: AnyNode;
    if (node.type === "MemberExpression" && !node.computed) skipped = node.property;
    if (
      (node.type === "Property" || node.type === "MethodDefinition" ||
        node.type === "PropertyDefinition") && !node.computed && !node.shorthand
    ) skipped = node.key;
    if (
      node.type === "LabeledStatement" || node.type === "BreakStatement" ||
      node.type === "ContinueStatement"
    ) skipped = node.label;
    for (const key in node) {
      if (key === "type" || key === "start" || key === "end") continue;
      const value = node[key];
      if (Array.isArray(value)) { for (const v of value) visit(v, skipped); }
      else if (value && typeof value === "object") visit(value, skipped);
    }
  };
  if (program) visit(program);
  return names;
}
