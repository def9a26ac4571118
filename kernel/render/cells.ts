/**
 * Notebook cells as HTML: Markdown cells, code cells with their prompt, timing and outputs, and
 * the Jupyter Book cell tags (`remove-input`, `remove-output`, `remove-cell`, `hide-input`,
 * `hide-output`, `hide-cell`).
 *
 * @module
 */
import { extname, resolve, sep } from "node:path";
import { type Cell, cellTags, type CodeCell, type MarkdownCell } from "../notebook.ts";
import type { RenderContext } from "./context.ts";
import { highlightCode } from "./highlight.ts";
import { bytesToBase64, escapeHtml, isBase64 } from "./html.ts";
import { renderMarkdown } from "./markdown.ts";
import { mergeStreams, renderOutput } from "./outputs.ts";

/** How cells render on a page. */
export interface CellRenderOptions {
  /** Folder of the notebook: base of relative image paths in Markdown (inlined as data URIs). */
  baseDir?: string;
  /** Language of code cells, for highlighting (default `typescript`). */
  language?: string;
  /** Maps a relative link to another notebook (`02_lenet.ipynb#x`) to its page. */
  resolveLink?: (href: string) => string;
  /** Whether the notebook was executed (cells without a count are then marked "not run"). */
  executed?: boolean;
  /** Trusted HTML to place after a cell (e.g. a grader's verdict next to a test cell). */
  afterCell?: (cell: Cell, index: number) => string | undefined;
}

const IMAGE_TYPES: Record<string, string> = {
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".webp": "image/webp",
  ".svg": "image/svg+xml",
};

/** Largest local image inlined into a page. */
const MAX_INLINE_IMAGE_BYTES = 10 * 1024 * 1024;

const ABSOLUTE_URL = /^(?:[a-z][a-z0-9+.-]*:|\/\/)/i;

/**
 * Seconds a code cell took, from nbclient-style `metadata.execution` timestamps
 * (`iopub.execute_input` → `shell.execute_reply`, else busy → idle).
 *
 * @example
 * ```ts
 * import { cellDuration } from "./cells.ts";
 * const metadata = { execution: {
 *   "iopub.execute_input": "2024-01-01T00:00:00.000Z",
 *   "shell.execute_reply": "2024-01-01T00:00:01.250Z",
 * } };
 * console.log(cellDuration({ metadata })); // 1.25
 * ```
 */
export function cellDuration(cell: { metadata: Record<string, unknown> }): number | undefined {
  const execution = cell.metadata.execution as Record<string, unknown> | undefined;
  if (typeof execution !== "object" || execution === null) return undefined;
  const pairs = [
    ["iopub.execute_input", "shell.execute_reply"],
    ["iopub.status.busy", "iopub.status.idle"],
  ];
  for (const [from, to] of pairs) {
    const start = Date.parse(String(execution[from] ?? ""));
    const end = Date.parse(String(execution[to] ?? ""));
    if (Number.isFinite(start) && Number.isFinite(end) && end >= start) {
      return (end - start) / 1000;
    }
  }
  return undefined;
}

/**
 * A duration for people: `8 ms`, `1.3 s`, `2 min 5 s`.
 *
 * @example
 * ```ts
 * import { formatDuration } from "./cells.ts";
 * console.log(formatDuration(0.008), formatDuration(1.26), formatDuration(125)); // 8 ms 1.3 s 2 min 5 s
 * ```
 */
export function formatDuration(seconds: number): string {
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${Math.round(seconds - minutes * 60)} s`;
}

function attachmentUrl(cell: MarkdownCell, name: string, context: RenderContext): string {
  const bundle = cell.attachments?.[name];
  const mime = bundle && Object.keys(bundle).find((m) => m.startsWith("image/"));
  const data = mime ? String(bundle[mime]).replace(/\s+/g, "") : undefined;
  if (!mime || data === undefined || !isBase64(data)) {
    context.warnings.push(`${context.where}: attachment ${JSON.stringify(name)} not found`);
    return `attachment:${name}`;
  }
  return `data:${mime};base64,${data}`;
}

function localImageUrl(src: string, baseDir: string, context: RenderContext): string {
  const mime = IMAGE_TYPES[extname(src.split(/[?#]/)[0]).toLowerCase()];
  let relativePath: string;
  try {
    relativePath = decodeURIComponent(src.split(/[?#]/)[0]);
  } catch {
    relativePath = src;
  }
  try {
    const base = Deno.realPathSync(baseDir);
    const real = Deno.realPathSync(resolve(baseDir, relativePath));
    // Only files inside the notebook's own folder are inlined: a page must not carry files the
    // notebook's author could not show otherwise (think of a student's `../../grading-key.png`).
    if (!real.startsWith(base + sep)) {
      context.warnings.push(
        `${context.where}: image ${src} is outside the notebook's folder; not included`,
      );
      return src;
    }
    if (!mime) {
      context.warnings.push(`${context.where}: image ${src} has an unknown type; not included`);
      return src;
    }
    const bytes = Deno.readFileSync(real);
    if (bytes.length > MAX_INLINE_IMAGE_BYTES) {
      context.warnings.push(`${context.where}: image ${src} is over 10 MB; not included`);
      return src;
    }
    return `data:${mime};base64,${bytesToBase64(bytes)}`;
  } catch {
    context.warnings.push(`${context.where}: image not found: ${src}`);
    return src;
  }
}

function renderMarkdownCell(
  cell: MarkdownCell,
  context: RenderContext,
  options: CellRenderOptions,
): string {
  const env = context.env;
  env.math.where = context.where;
  env.resolveImage = (src) => {
    if (src.startsWith("attachment:")) return attachmentUrl(cell, src.slice(11), context);
    if (ABSOLUTE_URL.test(src) || src.startsWith("#")) {
      if (/^https?:|^\/\//i.test(src)) {
        context.warnings.push(`${context.where}: remote image ${src} needs the network`);
      }
      return src;
    }
    return options.baseDir ? localImageUrl(src, options.baseDir, context) : src;
  };
  env.resolveLink = options.resolveLink;
  const html = renderMarkdown(cell.source, env);
  return `<div class="cl-cell cl-markdown-cell">${context.clean(html)}</div>`;
}

/** Badges for the kernel's cell statuses (`metadata.convlab.status`) worth pointing out. */
const STATUS_LABELS: Record<string, string> = {
  "not-run": "not run",
  skipped: "skipped",
  timeout: "timed out",
  interrupted: "interrupted",
  dead: "kernel died",
  "expected-error": "error expected",
};

function promptHtml(cell: CodeCell, options: CellRenderOptions): string {
  const count = cell.execution_count;
  const duration = cellDuration(cell);
  const recorded = (cell.metadata.convlab as { status?: unknown } | undefined)?.status;
  let label = typeof recorded === "string" ? STATUS_LABELS[recorded] : undefined;
  if (label === undefined && recorded === undefined && count === null && options.executed) {
    // Executed elsewhere (nbclient, papermill): a cell without a count did not run.
    label = cellTags(cell).includes("skip-execution") ? "skipped" : "not run";
  }
  const status = label ? `<span class="cl-status">${label}</span>` : "";
  const time = duration === undefined
    ? ""
    : `<span class="cl-time" title="execution time">${formatDuration(duration)}</span>`;
  return `<div class="cl-prompt"><span class="cl-count" title="execution count">[${
    count ?? " "
  }]</span>${time}${status}</div>`;
}

function jupyterCollapsed(cell: CodeCell, key: "source_hidden" | "outputs_hidden"): boolean {
  const jupyter = cell.metadata.jupyter as Record<string, unknown> | undefined;
  return jupyter?.[key] === true;
}

function renderCodeCell(
  cell: CodeCell,
  context: RenderContext,
  options: CellRenderOptions,
): string {
  const tags = cellTags(cell);
  const showInput = !tags.includes("remove-input");
  const showOutput = !tags.includes("remove-output");
  const hideInput = tags.includes("hide-input") || jupyterCollapsed(cell, "source_hidden");
  const hideOutput = tags.includes("hide-output") || jupyterCollapsed(cell, "outputs_hidden");

  let input = "";
  if (showInput) {
    const code = `<pre class="cl-source"><code class="hljs language-${
      escapeHtml(options.language ?? "typescript")
    }">${highlightCode(cell.source, options.language ?? "typescript")}</code></pre>`;
    input = hideInput
      ? `<details class="cl-input cl-hidden-input"><summary>Show code</summary>${code}</details>`
      : `<div class="cl-input">${code}</div>`;
  }

  let outputs = "";
  if (showOutput && cell.outputs.length > 0) {
    const parts = mergeStreams(cell.outputs).map((o) =>
      `<div class="cl-output">${renderOutput(o, context)}</div>`
    );
    outputs = hideOutput
      ? `<details class="cl-outputs"><summary>Show output</summary>${parts.join("")}</details>`
      : `<div class="cl-outputs">${parts.join("")}</div>`;
  }
  if (!input && !outputs) return "";
  const hasError = cell.outputs.some((o) => o.output_type === "error");
  return `<div class="cl-cell cl-code-cell${hasError ? " cl-has-error" : ""}">${
    showInput ? promptHtml(cell, options) : ""
  }${input}${outputs}</div>`;
}

function renderRawCell(cell: Cell, context: RenderContext): string {
  // Like nbconvert's HTML exporter: only raw cells meant for HTML are included.
  const format = String(cell.metadata.raw_mimetype ?? cell.metadata.format ?? "");
  if (format !== "text/html") return "";
  return `<div class="cl-cell cl-raw-cell">${context.clean(cell.source)}</div>`;
}

/**
 * One cell as HTML (empty for a cell tagged `remove-cell`, or a code cell with nothing left to
 * show). `index` is 0-based; warnings name the cell 1-based.
 */
export function renderCell(
  cell: Cell,
  index: number,
  context: RenderContext,
  options: CellRenderOptions = {},
): string {
  if (cellTags(cell).includes("remove-cell")) return "";
  const body = cell.cell_type === "markdown"
    ? renderMarkdownCell(cell, context, options)
    : cell.cell_type === "code"
    ? renderCodeCell(cell, context, options)
    : renderRawCell(cell, context);
  const extra = options.afterCell?.(cell, index) ?? "";
  if (!body && !extra) return "";
  const hide = cellTags(cell).includes("hide-cell");
  const content = hide
    ? `<details class="cl-hidden-cell"><summary>Show cell</summary>${body}</details>`
    : body;
  return `<section class="cl-cell-wrap" id="cell-${index + 1}"${
    cell.id ? ` data-cell-id="${escapeHtml(cell.id)}"` : ""
  }>${content}${extra}</section>\n`;
}
