/**
 * nbgrader's overwrite step, Convlab style: match a submission's cells to the key by
 * `grade_id`, restore locked and test cells from the key (hidden tests included), re-add the
 * deleted ones, and say which were edited. Test cells also get one line of the grader's at
 * their start (fresh imports of the helpers, and the names earlier read-only and test cells
 * declared, see `keep.ts`), and read-only and test cells one at their end that keeps their names.
 *
 * @module
 */
import { type Cell, newCellId, type Notebook } from "../notebook.ts";
import type { GradingKey, KeyCell } from "./key.ts";
import { cellChecksum, type CellRole, cellRole, gradeId, nbgraderMetadata } from "./nbgrader.ts";
import { topLevelDeclarations, usedNames } from "./declarations.ts";
import { keepLine, type KeptStore, randomName, takeStatements } from "./keep.ts";

/** Where a cell of the notebook to run came from. */
export type CellOrigin =
  /** the student's own cell */
  | "student"
  /** a locked or test cell, taken from the key */
  | "key"
  /** a locked or test cell the student deleted, re-added from the key */
  | "restored"
  /** an answer cell the student deleted, re-added as released (the stub) */
  | "stub";

/** What the grader knows about one cell of the notebook to run. */
export interface PreparedCell {
  origin: CellOrigin;
  role?: CellRole;
  gradeId?: string;
  /** The key's cell, for cells matched to it. */
  keyCell?: KeyCell;
  /** 1-based cell number in the submitted notebook. */
  submittedNumber?: number;
}

/** A submission made ready to run. */
export interface PreparedSubmission {
  notebook: Notebook;
  /** Parallel to `notebook.cells`. */
  cells: PreparedCell[];
  /** Locked or test cells that were edited or deleted, one sentence each. */
  tampered: string[];
  /** grade_ids of answer cells that are not in the submission. */
  missing: string[];
  /** Other things worth telling (duplicated cells, cells claiming to be tests). */
  notes: string[];
  /** Global name of the keeper the prelude defines (see `keep.ts`). */
  keeper: string;
}

/** A binding an import declaration makes: `local` from module `from` (`*`, `default` or a name). */
interface ImportBinding {
  local: string;
  imported: string;
  from: string;
}

const IMPORT_DECLARATION =
  /^[ \t]*import\s+(?!type\b)([\w$*{},\s]+?)\s+from\s*(["'])([^"'\n]+)\2/gm;

/** The bindings of the import declarations in a source (instructor code: simple forms). */
export function importBindings(source: string): ImportBinding[] {
  const bindings: ImportBinding[] = [];
  for (const m of source.matchAll(IMPORT_DECLARATION)) {
    const clause = m[1].trim(), from = m[3];
    const namespace = clause.match(/\*\s*as\s+([\w$]+)/);
    if (namespace) bindings.push({ local: namespace[1], imported: "*", from });
    const named = clause.match(/\{([^}]*)\}/);
    if (named) {
      for (const part of named[1].split(",")) {
        const [imported, local] = part.trim().split(/\s+as\s+/);
        if (imported && !imported.startsWith("type ")) {
          bindings.push({ local: local ?? imported, imported, from });
        }
      }
    }
    const fallback = clause.replace(/\{[^}]*\}/, "").replace(/\*\s*as\s+[\w$]+/, "")
      .replace(/,/g, " ").trim();
    if (fallback) bindings.push({ local: fallback, imported: "default", from });
  }
  return bindings;
}

/** Whether `source` mentions the identifier `name` (not as a property: `x.name`). */
export function mentions(source: string, name: string): boolean {
  return new RegExp(`(?<![\\w$.])${name.replace(/\$/g, "\\$")}(?![\\w$])`).test(source);
}

/**
 * The import bindings to re-bind in a test cell: every name the key's read-only and test cells
 * import that this cell uses without importing it itself. In a REPL session a later cell may
 * re-declare any earlier name — a student's `const assertClose = () => {}` would otherwise
 * replace the helper the test cells call. A fresh `const` from the (frozen) module wins.
 */
function freshImportBindings(source: string, bindings: ImportBinding[]): ImportBinding[] {
  const own = new Set(importBindings(source).map((b) => b.local));
  return bindings.filter((b, i) =>
    !own.has(b.local) && bindings.findIndex((o) => o.local === b.local) === i &&
    mentions(source, b.local)
  );
}

/** Import declarations (on one line) for the given bindings. */
function freshImportLines(needed: ImportBinding[]): string {
  const lines: string[] = [];
  const byModule = new Map<string, ImportBinding[]>();
  for (const b of needed) {
    if (b.imported === "*") lines.push(`import * as ${b.local} from ${JSON.stringify(b.from)};`);
    else byModule.set(b.from, [...(byModule.get(b.from) ?? []), b]);
  }
  for (const [from, list] of byModule) {
    const names = list.map((b) =>
      b.imported === b.local
        ? b.local
        : `${b.imported === "default" ? "default" : b.imported} as ${b.local}`
    );
    lines.push(`import { ${names.join(", ")} } from ${JSON.stringify(from)};`);
  }
  return lines.join(" ");
}

function keyVersion(keyCell: KeyCell, id = newCellId()): Cell {
  const base = { id, metadata: structuredClone(keyCell.metadata), source: keyCell.source };
  return keyCell.cellType === "code"
    ? { ...base, cell_type: "code", outputs: [], execution_count: null }
    : { ...base, cell_type: keyCell.cellType };
}

function releasedVersion(keyCell: KeyCell): Cell {
  return { ...keyVersion(keyCell), source: keyCell.studentSource };
}

function withoutNbgrader(cell: Cell): Cell {
  const metadata = { ...cell.metadata };
  delete metadata.nbgrader;
  return { ...cell, metadata };
}

function cleared(cell: Cell): Cell {
  return cell.cell_type === "code" ? { ...cell, outputs: [], execution_count: null } : cell;
}

const ROLE_NAMES: Record<CellRole, string> = {
  test: "test cell",
  locked: "read-only cell",
  answer: "answer cell",
  manual: "manually graded cell",
};

/**
 * Prepare a submitted notebook for grading.
 *
 * @example
 * ```ts ignore
 * const prepared = await prepareSubmission(submitted, key);
 * console.log(prepared.tampered); // ["test cell \"gray-test\" (cell 7) was edited; …"]
 * ```
 */
export async function prepareSubmission(
  submitted: Notebook,
  key: GradingKey,
): Promise<PreparedSubmission> {
  const byId = new Map<string, KeyCell>();
  for (const c of key.cells) if (c.role && c.gradeId) byId.set(c.gradeId, c);
  const bindings = key.cells
    .filter((c) => c.role === "test" || c.role === "locked")
    .flatMap((c) => importBindings(c.source));
  const testVersion = (keyCell: KeyCell, id?: string) => keyVersion(keyCell, id);
  const matched = new Set<string>();
  const cells: Cell[] = [];
  const info: PreparedCell[] = [];
  const tampered: string[] = [];
  const notes: string[] = [];

  for (const [i, cell] of submitted.cells.entries()) {
    const n = i + 1;
    const id = nbgraderMetadata(cell) ? gradeId(cell) : undefined;
    const keyCell = id !== undefined ? byId.get(id) : undefined;
    if (keyCell && !matched.has(keyCell.gradeId!)) {
      matched.add(keyCell.gradeId!);
      const what = `${ROLE_NAMES[keyCell.role!]} "${keyCell.gradeId}" (cell ${n})`;
      if (keyCell.role === "test" || keyCell.role === "locked") {
        if (await cellChecksum(cell) !== keyCell.checksum) {
          tampered.push(`${what} was edited; the original was restored`);
        }
        cells.push(testVersion(keyCell, cell.id));
        info.push({ origin: "key", role: keyCell.role, gradeId: id, keyCell, submittedNumber: n });
      } else {
        // The student's code, under the key's grading metadata.
        cells.push(cleared({
          ...cell,
          metadata: { ...cell.metadata, nbgrader: structuredClone(keyCell.metadata.nbgrader) },
        }));
        info.push({
          origin: "student",
          role: keyCell.role,
          gradeId: id,
          keyCell,
          submittedNumber: n,
        });
      }
      continue;
    }
    if (keyCell) {
      notes.push(
        `cell ${n} repeats the grade_id "${id}" of an earlier cell; it ran as ordinary code`,
      );
    } else if (cellRole(cell) === "test") {
      notes.push(
        `cell ${n} claims to be a test cell ("${
          id ?? "no grade_id"
        }") that is not in the key; it ran as ordinary code`,
      );
    }
    cells.push(cleared(withoutNbgrader(cell)));
    info.push({ origin: "student", submittedNumber: n });
  }

  // Re-add what was deleted, after the nearest earlier key cell that is present.
  const missing: string[] = [];
  const positionOf = (gid: string) => info.findIndex((c) => c.gradeId === gid && c.keyCell);
  let after = -1;
  for (const keyCell of key.cells) {
    if (!keyCell.role || !keyCell.gradeId) continue;
    if (matched.has(keyCell.gradeId)) {
      after = positionOf(keyCell.gradeId);
      continue;
    }
    const at = after + 1;
    const what = `${ROLE_NAMES[keyCell.role]} "${keyCell.gradeId}"`;
    if (keyCell.role === "test" || keyCell.role === "locked") {
      cells.splice(at, 0, testVersion(keyCell));
      info.splice(at, 0, {
        origin: "restored",
        role: keyCell.role,
        gradeId: keyCell.gradeId,
        keyCell,
      });
      tampered.push(`${what} was deleted (or its grade_id changed); it was restored from the key`);
    } else {
      cells.splice(at, 0, releasedVersion(keyCell));
      info.splice(at, 0, { origin: "stub", role: keyCell.role, gradeId: keyCell.gradeId, keyCell });
      missing.push(keyCell.gradeId);
    }
    after = at;
  }

  const keeper = randomName("__convlab_keeper_");
  addGraderLines(cells, info, bindings, keeper);
  const notebook: Notebook = {
    nbformat: 4,
    nbformat_minor: submitted.nbformat_minor,
    // The submission's own metadata is not trusted (it could carry run settings).
    metadata: structuredClone(key.notebookMetadata),
    cells,
  };
  return { notebook, cells: info, tampered, missing, notes, keeper };
}

/**
 * The grader's lines in key cells: at the start of each test cell, fresh imports of the helpers
 * it uses and the names earlier read-only and test cells declared (all of a read-only cell's,
 * those of a test cell that this one mentions); at the end of each read-only and test cell, one
 * line that keeps what it declares (see `keep.ts`).
 */
function addGraderLines(
  cells: Cell[],
  info: PreparedCell[],
  bindings: ImportBinding[],
  keeper: string,
): void {
  const stores: KeptStore[] = [];
  info.forEach((c, i) => {
    const keyCell = c.keyCell;
    if (
      !keyCell || c.origin === "student" || c.origin === "stub" ||
      (c.role !== "test" && c.role !== "locked") || cells[i].cell_type !== "code"
    ) return;
    const own = topLevelDeclarations(keyCell.source);
    let preamble = "";
    if (c.role === "test") {
      const used = usedNames(keyCell.source);
      const imports = freshImportBindings(keyCell.source, bindings);
      const taken = new Set([
        ...own.consts,
        ...own.assignable,
        ...own.mutable,
        ...importBindings(keyCell.source).map((b) => b.local),
        ...imports.map((b) => b.local),
      ]);
      // The latest cell that declares a name is where it comes from.
      const takes = new Map<KeptStore, { consts: string[]; assignable: string[] }>();
      for (let k = stores.length - 1; k >= 0; k--) {
        const kept = stores[k];
        const wanted = (name: string) => !taken.has(name) && (kept.readOnly || used.has(name));
        const consts = kept.consts.filter(wanted);
        const assignable = kept.assignable.filter(wanted);
        for (const name of [...kept.consts, ...kept.assignable]) taken.add(name);
        if (consts.length || assignable.length) takes.set(kept, { consts, assignable });
      }
      const parts = [
        freshImportLines(imports),
        takeStatements(keeper, [...takes].reverse().map(([kept, names]) => ({ kept, ...names }))),
      ].filter(Boolean);
      if (parts.length) preamble = `${parts.join(" ")} // re-bound by the grader\n`;
    }
    let suffix = "";
    if (own.consts.length || own.assignable.length) {
      const kept: KeptStore = {
        store: randomName("__convlab_kept_"),
        where: `${ROLE_NAMES[c.role]} ${i + 1} ("${c.gradeId}")`,
        readOnly: c.role === "locked",
        consts: own.consts,
        assignable: own.assignable,
      };
      stores.push(kept);
      suffix = `\n${keepLine(keeper, kept)}`;
    }
    cells[i] = { ...cells[i], source: preamble + keyCell.source + suffix };
  });
}
