/**
 * nbgrader's overwrite step, Convlab style: match a submission's cells to the key by
 * `grade_id`, restore locked and test cells from the key (hidden tests included), re-add the
 * deleted ones, and say which were edited.
 *
 * @module
 */
import { type Cell, newCellId, type Notebook } from "../notebook.ts";
import type { GradingKey, KeyCell } from "./key.ts";
import { cellChecksum, type CellRole, cellRole, gradeId, nbgraderMetadata } from "./nbgrader.ts";

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
        cells.push(keyVersion(keyCell, cell.id));
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
      cells.splice(at, 0, keyVersion(keyCell));
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

  const notebook: Notebook = {
    nbformat: 4,
    nbformat_minor: submitted.nbformat_minor,
    // The submission's own metadata is not trusted (it could carry run settings).
    metadata: structuredClone(key.notebookMetadata),
    cells,
  };
  return { notebook, cells: info, tampered, missing, notes };
}
