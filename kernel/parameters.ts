/**
 * Papermill-style parameters: a cell tagged `parameters` holds the defaults; a run's values
 * are injected as a new cell tagged `injected-parameters` right after it (replacing an earlier
 * injected cell), so re-declaring them overrides the defaults.
 *
 * @module
 */
import { type Cell, cellTags, type CodeCell, newCellId, type Notebook } from "./notebook.ts";
import { type DeclarationKind, topLevelDeclarations } from "./session/transpile.ts";

/** Tag of the cell holding parameter defaults. */
export const PARAMETERS_TAG = "parameters";
/** Tag of the cell a run's parameter values are injected as. */
export const INJECTED_PARAMETERS_TAG = "injected-parameters";

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
/** Words that cannot name a variable in strict-mode code (the kernel's cells are strict). */
const RESERVED = new Set(
  ("break case catch class const continue debugger default delete do else enum export extends " +
    "false finally for function if import in instanceof new null return super switch this throw " +
    "true try typeof var void while with yield let static implements interface package private " +
    "protected public await arguments eval").split(" "),
);

/** A `-p name=value` argument or a parameter name that cannot be used. */
export class ParameterError extends RangeError {
  override name = "ParameterError";
  /** What is wrong, without the argument (e.g. `expected name=value`). */
  readonly reason: string;
  constructor(message: string, reason: string) {
    super(message);
    this.reason = reason;
  }
}

/**
 * Parse one `-p name=value` argument: the value is JSON when it parses as JSON, else a string.
 *
 * @example
 * ```ts
 * import { parseParameter } from "./parameters.ts";
 * console.log(parseParameter("epochs=2"));   // ["epochs", 2]
 * console.log(parseParameter("name=cat"));   // ["name", "cat"]
 * console.log(parseParameter("flags=[1,2]")); // ["flags", [1, 2]]
 * ```
 * @throws {ParameterError} when there is no `=` or the name cannot name a variable.
 */
export function parseParameter(argument: string): [string, unknown] {
  const eq = argument.indexOf("=");
  if (eq <= 0) {
    throw new ParameterError(
      `Cannot parse parameter "${argument}": expected name=value`,
      "expected name=value",
    );
  }
  const name = argument.slice(0, eq).trim();
  checkName(name);
  const raw = argument.slice(eq + 1);
  try {
    return [name, JSON.parse(raw)];
  } catch {
    return [name, raw];
  }
}

function checkName(name: string): void {
  if (!IDENTIFIER.test(name)) {
    const reason = "a parameter name must be a JavaScript identifier";
    throw new ParameterError(`Cannot use parameter "${name}": ${reason}`, reason);
  }
  if (RESERVED.has(name)) {
    const reason = `"${name}" is a reserved word and cannot name a variable`;
    throw new ParameterError(`Cannot use parameter "${name}": ${reason}`, reason);
  }
}

/** A JavaScript literal for a JSON-like value; numbers JSON cannot write keep their value. */
function literalOf(value: unknown): string | undefined {
  if (typeof value === "number" && (!Number.isFinite(value) || Object.is(value, -0))) {
    return Object.is(value, -0) ? "-0" : String(value);
  }
  return JSON.stringify(value);
}

/**
 * The source of an injected-parameters cell. Each parameter is declared the way `declared` says
 * (how the parameters cell declares it; `let` otherwise): the kernel lets a later cell
 * re-declare a name only with the same kind of declaration (`const` after `const`, …).
 */
export function parametersSource(
  parameters: Record<string, unknown>,
  declared: ReadonlyMap<string, DeclarationKind> = new Map(),
): string {
  const lines = ["// Parameters injected for this run"];
  for (const [name, value] of Object.entries(parameters)) {
    checkName(name);
    const literal = literalOf(value);
    if (literal === undefined) {
      throw new ParameterError(
        `Cannot inject parameter "${name}": its value is not JSON`,
        "its value is not JSON",
      );
    }
    const kind = declared.get(name);
    const keyword = kind === "const" || kind === "var" ? kind : kind === "function" ? "var" : "let";
    lines.push(`${keyword} ${name} = ${literal};`);
  }
  return lines.join("\n");
}

/** What {@linkcode injectParameters} did. */
export interface Injection {
  /** The notebook with the injected cell (a new object; the input is not changed). */
  notebook: Notebook;
  /** Index of the injected cell, or -1 when there were no parameters. */
  index: number;
  /** Things worth telling the user (papermill's warnings). */
  warnings: string[];
}

/**
 * Inject parameter values as a code cell tagged `injected-parameters` after the cell tagged
 * `parameters` (at the top when there is none), replacing an earlier injected cell.
 *
 * @example
 * ```ts
 * import { injectParameters } from "./parameters.ts";
 * import { parseNotebook } from "./notebook.ts";
 * const nb = parseNotebook(JSON.stringify({
 *   nbformat: 4, nbformat_minor: 5, metadata: {},
 *   cells: [{ cell_type: "code", id: "p", metadata: { tags: ["parameters"] },
 *             source: "let epochs = 5;", outputs: [], execution_count: null }],
 * }));
 * const { notebook } = injectParameters(nb, { epochs: 1 });
 * console.log(notebook.cells[1].source); // "// Parameters injected for this run\nlet epochs = 1;"
 * ```
 */
export function injectParameters(nb: Notebook, parameters: Record<string, unknown>): Injection {
  const warnings: string[] = [];
  const cells: Cell[] = nb.cells.filter((c) => !cellTags(c).includes(INJECTED_PARAMETERS_TAG));
  if (Object.keys(parameters).length === 0) {
    return { notebook: { ...nb, cells }, index: -1, warnings };
  }
  const at = cells.findIndex((c) => c.cell_type === "code" && cellTags(c).includes(PARAMETERS_TAG));
  const declared = at < 0 ? new Map() : topLevelDeclarations(cells[at].source);
  if (at < 0) {
    warnings.push(
      'no cell is tagged "parameters"; the parameters are injected at the top of the notebook',
    );
  } else {
    for (const name of Object.keys(parameters)) {
      if (!declared.has(name)) {
        warnings.push(
          `parameter "${name}" is not declared in the parameters cell (cell ${at + 1})`,
        );
      }
    }
  }
  const injected: CodeCell = {
    cell_type: "code",
    metadata: { tags: [INJECTED_PARAMETERS_TAG] },
    source: parametersSource(parameters, declared),
    outputs: [],
    execution_count: null,
  };
  if (nb.nbformat_minor >= 5 || cells.some((c) => c.id !== undefined)) {
    const taken = new Set(cells.map((c) => c.id));
    let id = newCellId();
    while (taken.has(id)) id = newCellId();
    injected.id = id;
  }
  const index = at + 1;
  cells.splice(index, 0, injected);
  return { notebook: { ...nb, cells }, index, warnings };
}
