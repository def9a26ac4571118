/**
 * Display formatting inside the kernel's child process, in the order Deno's own kernel uses
 * (`ext:cli/40_jupyter.js`): the `Symbol.for("Jupyter.display")` method; primitives through
 * Deno's inspector; canvas-like objects through `toDataURL()`; Vega-like specs; Polars-like data
 * frames; JPEG and PNG bytes; SVG and HTML elements through `outerHTML`; everything else through
 * Deno's inspector (`%o`, coloured unless `NO_COLOR`). Written from that behaviour, not copied.
 *
 * Runs in the child only: it reads `Deno[Deno.internal].inspectArgs`, which the host does not
 * need.
 *
 * @module
 */
import { escapeHtml } from "../render/html.ts";

/** A MIME bundle: MIME type → value. */
export type MimeBundle = Record<string, unknown>;

/** The symbol display objects implement. */
export const $display: unique symbol = Symbol.for("Jupyter.display") as never;

type InspectArgs = (args: unknown[], options: { colors: boolean }) => string;

// deno-lint-ignore no-explicit-any
const internals = (Deno as any)[(Deno as any).internal] as { inspectArgs: InspectArgs };

/** Deno's `%o` inspection, coloured unless `NO_COLOR` is set, as Deno's kernel does. */
export function inspectValue(value: unknown): string {
  return internals.inspectArgs(["%o", value], { colors: !Deno.noColor });
}

function isObject(value: unknown): value is Record<string | symbol, unknown> {
  return value !== null && typeof value === "object";
}

function hasDisplaySymbol(value: unknown): value is { [$display](): unknown } {
  return isObject(value) && $display in value && typeof value[$display] === "function";
}

function vegaBundle(value: { toSpec(): unknown }): MimeBundle | null {
  const spec = value.toSpec() as Record<string, unknown>;
  if (!isObject(spec) || !("$schema" in spec)) return null;
  let mime = "application/vnd.vega.v5+json";
  if (spec.$schema === "https://vega.github.io/schema/vega-lite/v4.json") {
    mime = "application/vnd.vegalite.v4+json";
  } else if (spec.$schema === "https://vega.github.io/schema/vega-lite/v5.json") {
    mime = "application/vnd.vegalite.v5+json";
  }
  return { [mime]: spec };
}

interface DataFrameLike {
  schema: Record<string, { toJSON(): Record<string, string> }>;
  head(n: number): { toRecords(): Record<string, unknown>[] };
}

function isDataFrameLike(value: unknown): value is DataFrameLike {
  return isObject(value) && isObject(value.schema) && typeof value.head === "function" &&
    typeof value.toRecords === "function";
}

const POLARS_JSON_TYPES: Record<string, string> = {
  Null: "null",
  Bool: "boolean",
  Int8: "integer",
  Int16: "integer",
  Int32: "integer",
  Int64: "integer",
  UInt8: "integer",
  UInt16: "integer",
  UInt32: "integer",
  UInt64: "integer",
  Float32: "number",
  Float64: "number",
  Date: "string",
  Datetime: "string",
  Utf8: "string",
  Categorical: "string",
  List: "array",
  Struct: "object",
};

function dataFrameBundle(frame: DataFrameLike): MimeBundle {
  const fields = Object.entries(frame.schema).map(([name, type]) => ({
    name,
    type: POLARS_JSON_TYPES[type.toJSON()["DataType"]] ?? "string",
  }));
  const head = fields.map((f) => `<th>${escapeHtml(String(f.name))}</th>`).join("");
  const rows = frame.head(10).toRecords().map((row) =>
    `<tr>${fields.map((f) => `<td>${escapeHtml(String(row[f.name]))}</td>`).join("")}</tr>`
  ).join("");
  return {
    "application/vnd.dataresource+json": { data: frame.head(50).toRecords(), schema: { fields } },
    "text/html": `<table><thead><tr>${head}</tr></thead><tbody>${rows}</tbody></table>`,
  };
}

/** Whether bytes are a complete JPEG file (FF D8 … FF D9), as Deno checks. */
export function isJpeg(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array && value.length >= 2 && value[0] === 0xff &&
    value[1] === 0xd8 && value[value.length - 2] === 0xff && value[value.length - 1] === 0xd9;
}

const PNG_SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];

/** Whether bytes start with the PNG signature. */
export function isPng(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array && value.length >= PNG_SIGNATURE.length &&
    PNG_SIGNATURE.every((b, i) => value[i] === b);
}

/** Base64 of bytes. */
export function base64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/**
 * The MIME bundle Deno's kernel would show for a value.
 *
 * @example
 * ```ts ignore
 * import { format } from "./format.ts";
 * console.log(await format({ a: 1 })); // { "text/plain": "{ a: 1 }" }
 * ```
 */
export async function format(value: unknown): Promise<MimeBundle> {
  if (hasDisplaySymbol(value)) return await value[$display]() as MimeBundle;
  if (typeof value !== "object") return { "text/plain": inspectValue(value) };
  if (isObject(value)) {
    if ("toDataURL" in value && typeof value.toDataURL === "function") {
      const url = String(value.toDataURL());
      const comma = url.indexOf(",");
      const mime = url.slice(0, comma).split(":")[1]?.split(";")[0] ?? "image/png";
      return { [mime]: url.slice(comma + 1) };
    }
    if ("toSpec" in value && typeof value.toSpec === "function") {
      const vega = vegaBundle(value as { toSpec(): unknown });
      if (vega) return vega;
    }
    if (isDataFrameLike(value)) return dataFrameBundle(value);
    if (isJpeg(value)) return { "image/jpeg": base64(value) };
    if (isPng(value)) return { "image/png": base64(value) };
    if ("outerHTML" in value && typeof value.outerHTML === "string") {
      return value.outerHTML.startsWith("<svg")
        ? { "image/svg+xml": value.outerHTML }
        : { "text/html": value.outerHTML };
    }
  }
  return { "text/plain": inspectValue(value) };
}

/** Whether a value can be sent as a MIME bundle as it is (`display(obj, { raw: true })`). */
export function isMediaBundle(value: unknown): value is MimeBundle {
  return isObject(value) && !Array.isArray(value);
}

function taggedTemplate(mime: string) {
  return (strings: TemplateStringsArray, ...values: unknown[]) => {
    const text = strings.reduce(
      (acc, s, i) => acc + s + (values[i] !== undefined ? values[i] : ""),
      "",
    );
    return { [$display]: () => ({ [mime]: text }) };
  };
}

/** `Deno.jupyter.md`…: tagged templates making display objects. */
export const md = taggedTemplate("text/markdown");
/** `Deno.jupyter.html`. */
export const html = taggedTemplate("text/html");
/** `Deno.jupyter.svg`. */
export const svg = taggedTemplate("image/svg+xml");

/**
 * `Deno.jupyter.image`: a display object for JPEG/PNG bytes or the path of such a file.
 * Reading a path needs read permission, as in Deno.
 */
export function image(value: string | Uint8Array): { [$display](): MimeBundle } {
  let bytes: unknown = value;
  if (typeof value === "string") {
    try {
      bytes = Deno.readFileSync(value);
    } catch { /* reported below as not an image, as Deno does */ }
  }
  if (isJpeg(bytes)) {
    const data = base64(bytes);
    return { [$display]: () => ({ "image/jpeg": data }) };
  }
  if (isPng(bytes)) {
    const data = base64(bytes);
    return { [$display]: () => ({ "image/png": data }) };
  }
  throw new TypeError(
    "Object is not a valid image or a path to an image. `Deno.jupyter.image` supports " +
      "displaying JPG or PNG images.",
  );
}
