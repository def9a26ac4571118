/**
 * `cl.show.table(rows)`: a table as a display object (HTML in notebooks, aligned text in
 * terminals).
 *
 * Introduced in lesson 02 (comparing runs).
 *
 * @module
 */

import { DISPLAY, type MimeBundle } from "../display.ts";
import { escapeXml } from "./chart.ts";

/** Options of {@linkcode table}. */
export interface TableOptions {
  /** Column order and headers (default: keys of the rows in first-seen order). */
  columns?: string[];
  title?: string;
  /** Significant digits for numbers (default 4). */
  digits?: number;
}

/** A table display object. */
export class Table {
  readonly columns: string[];
  readonly rows: string[][];
  readonly title?: string;

  constructor(columns: string[], rows: string[][], title?: string) {
    this.columns = columns;
    this.rows = rows;
    this.title = title;
  }

  /** Aligned plain text. */
  toString(): string {
    const widths = this.columns.map((c, i) =>
      Math.max(c.length, ...this.rows.map((r) => (r[i] ?? "").length))
    );
    const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd();
    return [
      ...(this.title ? [this.title] : []),
      line(this.columns),
      widths.map((w) => "-".repeat(w)).join("  "),
      ...this.rows.map(line),
    ].join("\n");
  }

  /** An HTML table. */
  toHtml(): string {
    const num = (v: string) => /^-?[\d.]+(e[-+]?\d+)?%?$/i.test(v);
    const cell = (tag: string, v: string) =>
      `<${tag} style="padding:2px 10px;text-align:${num(v) ? "right" : "left"}">${
        escapeXml(v)
      }</${tag}>`;
    return `<table style="border-collapse:collapse;font-family:sans-serif;font-size:13px">` +
      (this.title
        ? `<caption style="font-weight:bold;padding:4px">${escapeXml(this.title)}</caption>`
        : "") +
      `<thead><tr style="border-bottom:1px solid #888">${
        this.columns.map((c) => cell("th", c)).join("")
      }</tr></thead>` +
      `<tbody>${
        this.rows.map((r) => `<tr>${r.map((v) => cell("td", v)).join("")}</tr>`).join("")
      }</tbody></table>`;
  }

  [DISPLAY](): MimeBundle {
    return { "text/html": this.toHtml(), "text/plain": this.toString() };
  }
}

function format(value: unknown, digits: number): string {
  if (typeof value === "number") {
    return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(digits)));
  }
  if (value === undefined || value === null) return "";
  if (Array.isArray(value)) return `[${value.map((v) => format(v, digits)).join(", ")}]`;
  return String(value);
}

/**
 * A table from records (`[{model: "lenet5", accuracy: 0.99}]`) or arrays with `columns`.
 *
 * @example
 * ```ts
 * import { table } from "./table.ts";
 * console.log(String(table([{ model: "LeNet-5", params: 61706, accuracy: 0.9912 }])));
 * ```
 */
export function table(
  rows: Record<string, unknown>[] | unknown[][],
  options: TableOptions = {},
): Table {
  if (!Array.isArray(rows)) throw new TypeError("Cannot make table: rows must be an array");
  const digits = options.digits ?? 4;
  if (rows.every(Array.isArray)) {
    const arrays = rows as unknown[][];
    const width = Math.max(0, ...arrays.map((r) => r.length));
    const columns = options.columns ?? Array.from({ length: width }, (_, i) => String(i));
    return new Table(
      columns,
      arrays.map((r) => columns.map((_, i) => format(r[i], digits))),
      options.title,
    );
  }
  const records = rows as Record<string, unknown>[];
  records.forEach((r, i) => {
    if (typeof r !== "object" || r === null || Array.isArray(r)) {
      throw new TypeError(`Cannot make table: row ${i} is not an object`);
    }
  });
  const columns = options.columns ?? [...new Set(records.flatMap((r) => Object.keys(r)))];
  return new Table(
    columns,
    records.map((r) => columns.map((c) => format(r[c], digits))),
    options.title,
  );
}
