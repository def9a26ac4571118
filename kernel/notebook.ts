/**
 * Notebook documents: read, validate and write nbformat 4 (`.ipynb`) JSON.
 *
 * In memory every multi-line string (cell `source`, stream `text`, text-like MIME data) is one
 * string; on disk it is written the way Jupyter writes it (keys sorted, 1-space indent, trailing
 * newline, multi-line strings as lists of lines) so that a run-then-save round trip gives a clean
 * git diff. Fields this module does not know are kept as they are.
 *
 * @module
 */
import { parse as parseJsonc, type ParseError, printParseErrorCode } from "jsonc-parser";
import { basename, dirname, join } from "node:path";

/** A MIME bundle: MIME type → value (string for text and base64 images, JSON for `+json`). */
export type MimeBundle = Record<string, unknown>;

/** `stream` output: what the cell wrote to stdout or stderr. */
export interface StreamOutput {
  output_type: "stream";
  name: "stdout" | "stderr";
  text: string;
  [key: string]: unknown;
}

/** `display_data` output: a rich value shown by `display()` or a display object. */
export interface DisplayDataOutput {
  output_type: "display_data";
  data: MimeBundle;
  metadata: Record<string, unknown>;
  transient?: { display_id?: string };
  [key: string]: unknown;
}

/** `execute_result` output: the completion value of the cell's last statement. */
export interface ExecuteResultOutput {
  output_type: "execute_result";
  data: MimeBundle;
  metadata: Record<string, unknown>;
  execution_count: number | null;
  [key: string]: unknown;
}

/** `error` output: an uncaught exception. */
export interface ErrorOutput {
  output_type: "error";
  ename: string;
  evalue: string;
  traceback: string[];
  [key: string]: unknown;
}

/** Any nbformat 4 output. */
export type Output = StreamOutput | DisplayDataOutput | ExecuteResultOutput | ErrorOutput;

/** Cell metadata: `tags` and the rest, unknown keys preserved. */
export interface CellMetadata {
  tags?: string[];
  [key: string]: unknown;
}

interface BaseCell {
  /** Cell id (nbformat ≥ 4.5). */
  id?: string;
  metadata: CellMetadata;
  /** The whole source as one string. */
  source: string;
  [key: string]: unknown;
}

/** A code cell. */
export interface CodeCell extends BaseCell {
  cell_type: "code";
  execution_count: number | null;
  outputs: Output[];
}

/** A Markdown cell. */
export interface MarkdownCell extends BaseCell {
  cell_type: "markdown";
  attachments?: Record<string, MimeBundle>;
}

/** A raw cell. */
export interface RawCell extends BaseCell {
  cell_type: "raw";
  attachments?: Record<string, MimeBundle>;
}

/** Any nbformat 4 cell. */
export type Cell = CodeCell | MarkdownCell | RawCell;

/** A notebook (nbformat 4). */
export interface Notebook {
  nbformat: 4;
  nbformat_minor: number;
  metadata: Record<string, unknown>;
  cells: Cell[];
  [key: string]: unknown;
}

/** Thrown for a notebook that cannot be read: the message names the file and what is wrong. */
export class NotebookFormatError extends Error {
  override name = "NotebookFormatError";
  /** The file, when the notebook came from one. */
  readonly file?: string;
  /** 1-based cell number the problem is in, if it is in a cell. */
  readonly cell?: number;
  constructor(message: string, options: { file?: string; cell?: number } = {}) {
    super(options.file ? `${options.file}: ${message}` : message);
    this.file = options.file;
    this.cell = options.cell;
  }
}

/** MIME types whose string values Jupyter stores as lists of lines besides `text/*`. */
const SPLIT_NON_TEXT_MIMES = new Set(["application/javascript", "image/svg+xml"]);

function isSplitMime(mime: string): boolean {
  return mime.startsWith("text/") || SPLIT_NON_TEXT_MIMES.has(mime);
}

/**
 * Split like Python's `str.splitlines(keepends=True)`, which is what Jupyter uses to store
 * multi-line strings; keeping the same boundaries keeps diffs of saved notebooks clean.
 *
 * @example
 * ```ts
 * import { splitLines } from "./notebook.ts";
 * console.log(splitLines("a\nb")); // ["a\n", "b"]
 * ```
 */
export function splitLines(text: string): string[] {
  const lines: string[] = [];
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // \n \v \f \r \x1c \x1d \x1e \x85 \u2028 \u2029
    if (
      c === 10 || c === 11 || c === 12 || c === 13 || (c >= 28 && c <= 30) || c === 0x85 ||
      c === 0x2028 || c === 0x2029
    ) {
      if (c === 13 && text.charCodeAt(i + 1) === 10) i++;
      lines.push(text.slice(start, i + 1));
      start = i + 1;
    }
  }
  if (start < text.length) lines.push(text.slice(start));
  return lines;
}

function describeCell(index: number, cell: Record<string, unknown>): string {
  return typeof cell.id === "string" ? `cell ${index + 1} (id ${cell.id})` : `cell ${index + 1}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Join a multi-line string field: a string or a list of strings. */
function joinMultiline(value: unknown, where: string, file?: string, cell?: number): string {
  if (typeof value === "string") return value;
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value.join("");
  throw new NotebookFormatError(`${where} must be a string or a list of strings`, { file, cell });
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1, lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text[i] === "\n") {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

function parseJsonWithPosition(text: string, file?: string): unknown {
  if (text.trim() === "") {
    throw new NotebookFormatError("the file is empty, not a notebook", { file });
  }
  try {
    return JSON.parse(text);
  } catch {
    const errors: ParseError[] = [];
    parseJsonc(text, errors, { disallowComments: true, allowTrailingComma: false });
    const first = errors[0];
    const at = first ? lineAndColumn(text, first.offset) : lineAndColumn(text, text.length);
    const why = first ? ` (${printParseErrorCode(first.error)})` : "";
    throw new NotebookFormatError(
      `line ${at.line} column ${at.column}: not valid JSON${why}`,
      { file },
    );
  }
}

function validateOutput(
  raw: unknown,
  where: string,
  file: string | undefined,
  cell: number,
): Output {
  if (!isRecord(raw)) throw new NotebookFormatError(`${where} is not an object`, { file, cell });
  const out = { ...raw };
  switch (out.output_type) {
    case "stream":
      if (out.name !== "stdout" && out.name !== "stderr") {
        throw new NotebookFormatError(`${where}: stream name must be "stdout" or "stderr"`, {
          file,
          cell,
        });
      }
      out.text = joinMultiline(out.text, `${where} text`, file, cell);
      return out as StreamOutput;
    case "display_data":
    case "execute_result": {
      if (!isRecord(out.data)) {
        throw new NotebookFormatError(`${where} has no data bundle`, { file, cell });
      }
      const data: MimeBundle = {};
      for (const [mime, value] of Object.entries(out.data)) {
        data[mime] = Array.isArray(value) && value.every((v) => typeof v === "string")
          ? value.join("")
          : value;
      }
      out.data = data;
      if (out.metadata === undefined) out.metadata = {};
      if (out.output_type === "execute_result" && out.execution_count === undefined) {
        out.execution_count = null;
      }
      return out as DisplayDataOutput | ExecuteResultOutput;
    }
    case "error":
      if (typeof out.ename !== "string" || typeof out.evalue !== "string") {
        throw new NotebookFormatError(`${where}: error output needs ename and evalue strings`, {
          file,
          cell,
        });
      }
      if (!Array.isArray(out.traceback)) out.traceback = [];
      return out as ErrorOutput;
    default:
      throw new NotebookFormatError(
        `${where} has unknown output_type ${JSON.stringify(out.output_type)}`,
        { file, cell },
      );
  }
}

/**
 * Check a parsed JSON value and turn it into a {@linkcode Notebook}.
 *
 * @param json The parsed `.ipynb` content.
 * @param file The file name used in error messages.
 * @returns The notebook, multi-line strings joined.
 * @throws {NotebookFormatError} naming the file, the cell and what is wrong.
 */
export function validateNotebook(json: unknown, file?: string): Notebook {
  if (!isRecord(json)) {
    throw new NotebookFormatError("not a notebook: top level is not an object", { file });
  }
  if (json.nbformat === undefined) {
    throw new NotebookFormatError("not a notebook: no nbformat field", { file });
  }
  if (typeof json.nbformat !== "number") {
    throw new NotebookFormatError(
      `nbformat must be a number, got ${JSON.stringify(json.nbformat)}`,
      { file },
    );
  }
  if (json.nbformat !== 4) {
    throw new NotebookFormatError(
      `nbformat ${json.nbformat} is not supported: convert it with ` +
        "`jupyter nbconvert --to notebook --nbformat 4`",
      { file },
    );
  }
  if (!Array.isArray(json.cells)) {
    throw new NotebookFormatError("notebook has no cells list", { file });
  }
  const nb: Notebook = {
    ...json,
    nbformat: 4,
    nbformat_minor: typeof json.nbformat_minor === "number" ? json.nbformat_minor : 0,
    metadata: isRecord(json.metadata) ? json.metadata : {},
    cells: [],
  };
  const seenIds = new Set<string>();
  json.cells.forEach((raw: unknown, i: number) => {
    const cellNo = i + 1;
    if (!isRecord(raw)) {
      throw new NotebookFormatError(`cell ${cellNo} is not an object`, { file, cell: cellNo });
    }
    const name = describeCell(i, raw);
    const type = raw.cell_type;
    if (type !== "code" && type !== "markdown" && type !== "raw") {
      throw new NotebookFormatError(
        `${name} has unknown cell_type ${JSON.stringify(type)}`,
        { file, cell: cellNo },
      );
    }
    if (raw.source === undefined) {
      throw new NotebookFormatError(`${name} has no source`, { file, cell: cellNo });
    }
    if (raw.id !== undefined) {
      if (typeof raw.id !== "string" || !/^[a-zA-Z0-9-_]{1,64}$/.test(raw.id)) {
        throw new NotebookFormatError(
          `${name}: id must be 1-64 letters, digits, '-' or '_'`,
          { file, cell: cellNo },
        );
      }
      if (seenIds.has(raw.id)) {
        throw new NotebookFormatError(`${name}: duplicate cell id`, { file, cell: cellNo });
      }
      seenIds.add(raw.id);
    }
    const cell: Record<string, unknown> = {
      ...raw,
      metadata: isRecord(raw.metadata) ? raw.metadata : {},
      source: joinMultiline(raw.source, `${name} source`, file, cellNo),
    };
    const tags = (cell.metadata as CellMetadata).tags;
    if (tags !== undefined && !(Array.isArray(tags) && tags.every((t) => typeof t === "string"))) {
      throw new NotebookFormatError(`${name}: metadata.tags must be a list of strings`, {
        file,
        cell: cellNo,
      });
    }
    if (type === "code") {
      const outputs = raw.outputs === undefined ? [] : raw.outputs;
      if (!Array.isArray(outputs)) {
        throw new NotebookFormatError(`${name}: outputs must be a list`, { file, cell: cellNo });
      }
      cell.outputs = outputs.map((o, k) =>
        validateOutput(o, `${name} output ${k + 1}`, file, cellNo)
      );
      if (cell.execution_count === undefined) cell.execution_count = null;
    }
    nb.cells.push(cell as unknown as Cell);
  });
  return nb;
}

/**
 * Parse `.ipynb` text.
 *
 * @example
 * ```ts
 * import { parseNotebook } from "./notebook.ts";
 * const nb = parseNotebook('{"nbformat":4,"nbformat_minor":5,"metadata":{},"cells":[]}');
 * console.log(nb.cells.length); // 0
 * ```
 */
export function parseNotebook(text: string, file?: string): Notebook {
  return validateNotebook(parseJsonWithPosition(text, file), file);
}

/** Why a notebook file could not be read, as a {@linkcode NotebookFormatError} naming it. */
function readError(error: unknown, path: string): unknown {
  if (error instanceof Deno.errors.NotFound) {
    return new NotebookFormatError("no such file", { file: path });
  }
  if (error instanceof Deno.errors.IsADirectory) {
    return new NotebookFormatError("is a folder, not a notebook file", { file: path });
  }
  if (error instanceof Deno.errors.PermissionDenied || error instanceof Deno.errors.NotCapable) {
    return new NotebookFormatError("cannot be read (permission denied)", { file: path });
  }
  if (error instanceof Deno.errors.InvalidData) {
    return new NotebookFormatError("is not a text file", { file: path });
  }
  return error;
}

/**
 * Read a notebook file's text.
 *
 * @throws {NotebookFormatError} naming the file when it is missing, a folder or unreadable.
 */
export async function readNotebookText(path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    throw readError(e, path);
  }
}

/** Read and validate a notebook file. */
export async function readNotebook(path: string): Promise<Notebook> {
  return parseNotebook(await readNotebookText(path), path);
}

function sortKeysDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeysDeep);
  if (isRecord(value)) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      if (value[key] !== undefined) out[key] = sortKeysDeep(value[key]);
    }
    return out;
  }
  return value;
}

function toDiskOutput(output: Output): Record<string, unknown> {
  const out: Record<string, unknown> = { ...output };
  if (output.output_type === "stream") out.text = splitLines(output.text);
  if (output.output_type === "display_data" || output.output_type === "execute_result") {
    const data: MimeBundle = {};
    for (const [mime, value] of Object.entries(output.data)) {
      data[mime] = typeof value === "string" && isSplitMime(mime) ? splitLines(value) : value;
    }
    out.data = data;
    // `transient` is a message-level field, never stored in a notebook.
    delete out.transient;
  }
  return out;
}

/**
 * Serialise a notebook exactly as Jupyter does (`json.dumps(nb, sort_keys=True, indent=1,
 * ensure_ascii=False)` plus a newline, multi-line strings as lists of lines).
 */
export function serializeNotebook(nb: Notebook): string {
  const disk = {
    ...nb,
    cells: nb.cells.map((cell) => {
      const out: Record<string, unknown> = { ...cell, source: splitLines(cell.source) };
      if (cell.cell_type === "code") out.outputs = cell.outputs.map(toDiskOutput);
      return out;
    }),
  };
  return JSON.stringify(sortKeysDeep(disk), null, 1) + "\n";
}

/**
 * Write text to a file atomically: a temporary file in the same folder, then a rename, so a
 * reader never sees half a file and a crash never destroys the old one.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${crypto.randomUUID().slice(0, 8)}.tmp`);
  try {
    if (typeof data === "string") await Deno.writeTextFile(tmp, data);
    else await Deno.writeFile(tmp, data);
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}

/** Write a notebook to a file, atomically, in Jupyter's layout. */
export async function writeNotebook(path: string, nb: Notebook): Promise<void> {
  await writeFileAtomic(path, serializeNotebook(nb));
}

/** A fresh cell id in Jupyter's style (8 hex characters). */
export function newCellId(): string {
  return crypto.randomUUID().replaceAll("-", "").slice(0, 8);
}

/** The cell's tags (empty when none). */
export function cellTags(cell: Cell): string[] {
  return cell.metadata.tags ?? [];
}

/**
 * A copy of the notebook with outputs, execution counts and run metadata removed, as lessons
 * are committed (`deno task nb clean`).
 */
export function cleanNotebook(nb: Notebook): Notebook {
  return {
    ...nb,
    cells: nb.cells.map((cell) => {
      const metadata = { ...cell.metadata };
      delete metadata.execution;
      delete metadata.convlab;
      delete metadata.ExecuteTime; // run times of Jupyter's ExecuteTime extension
      if (cell.cell_type !== "code") return { ...cell, metadata };
      return { ...cell, metadata, outputs: [], execution_count: null };
    }),
  };
}
