/**
 * Notebook outputs as HTML: each MIME bundle is shown in its richest form the page can show
 * (Plotly figure, HTML, Markdown, SVG, images, LaTeX, JSON, then text with ANSI colours), streams
 * as text, errors as errors.
 *
 * @module
 */
import type { ErrorOutput, MimeBundle, Output, StreamOutput } from "../notebook.ts";
import { ansiToHtml } from "./ansi.ts";
import type { RenderContext } from "./context.ts";
import { highlightCode } from "./highlight.ts";
import { bytesToBase64, escapeHtml, isBase64, jsonForScript } from "./html.ts";
import { renderMarkdown } from "./markdown.ts";
import { renderMath } from "./math.ts";

/** The Plotly figure MIME type that lib's charts emit. */
export const PLOTLY_MIME = "application/vnd.plotly.v1+json";

const IMAGE_MIMES = ["image/png", "image/jpeg", "image/gif", "image/webp"];

/**
 * MIME types in the order they are preferred, for trusted pages. Untrusted (sanitised) pages
 * use the same order without `application/javascript`.
 */
export const MIME_PRIORITY: readonly string[] = [
  PLOTLY_MIME,
  "text/html",
  "text/markdown",
  "image/svg+xml",
  ...IMAGE_MIMES,
  "text/latex",
  "application/json",
  "application/javascript",
  "text/plain",
];

/**
 * The MIME type of a bundle that the page shows.
 *
 * @example
 * ```ts
 * import { chooseMime } from "./outputs.ts";
 * const bundle = { "text/plain": "<Figure>", "image/png": "iVBOR…" };
 * console.log(chooseMime(bundle, { sanitize: false })); // image/png
 * ```
 */
export function chooseMime(
  bundle: MimeBundle,
  options: { sanitize: boolean },
): string | undefined {
  return MIME_PRIORITY.find((mime) =>
    bundle[mime] !== undefined && bundle[mime] !== null &&
    !(options.sanitize && mime === "application/javascript")
  );
}

function asText(value: unknown): string {
  if (typeof value === "string") return value;
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value.join("");
  return JSON.stringify(value, null, 2);
}

function imageSize(metadata: Record<string, unknown> | undefined, mime: string): string {
  const own = metadata?.[mime];
  const size = (typeof own === "object" && own !== null ? own : metadata) as
    | Record<string, unknown>
    | undefined;
  let attrs = "";
  for (const key of ["width", "height"]) {
    const v = size?.[key];
    if (typeof v === "number" && Number.isFinite(v) && v > 0) attrs += ` ${key}="${Math.round(v)}"`;
  }
  return attrs;
}

function altText(bundle: MimeBundle): string {
  const plain = bundle["text/plain"];
  return plain === undefined ? "output image" : asText(plain).slice(0, 200);
}

function renderImage(
  mime: string,
  value: unknown,
  bundle: MimeBundle,
  metadata: Record<string, unknown> | undefined,
  context: RenderContext,
  className = "cl-image",
): string {
  const data = asText(value).replace(/\s+/g, "");
  if (!isBase64(data)) {
    context.warnings.push(`${context.where}: ${mime} output is not base64; shown as text`);
    return renderText(altText(bundle));
  }
  return `<img class="${className}" src="data:${mime};base64,${data}" alt="${
    escapeHtml(altText(bundle))
  }"${imageSize(metadata, mime)}>`;
}

function renderSvg(value: unknown, bundle: MimeBundle, context: RenderContext): string {
  const svg = asText(value).replace(/^\s*<\?xml[^>]*>\s*/, "").replace(/<!DOCTYPE[^>]*>\s*/i, "");
  if (context.sanitize) {
    // An SVG loaded as an image cannot run scripts or reach the page.
    const base64 = bytesToBase64(new TextEncoder().encode(svg));
    return `<img class="cl-image" src="data:image/svg+xml;base64,${base64}" alt="${
      escapeHtml(altText(bundle))
    }">`;
  }
  return `<div class="cl-svg">${svg}</div>`;
}

function renderText(text: string, className = "cl-text"): string {
  return `<pre class="${className}">${ansiToHtml(text)}</pre>`;
}

function stripMathDelimiters(tex: string): { tex: string; display: boolean } {
  const t = tex.trim();
  for (const [open, close] of [["$$", "$$"], ["\\[", "\\]"], ["$", "$"], ["\\(", "\\)"]]) {
    if (t.startsWith(open) && t.endsWith(close) && t.length >= open.length + close.length) {
      return { tex: t.slice(open.length, t.length - close.length), display: open !== "$" };
    }
  }
  return { tex: t, display: true };
}

function renderPlotly(value: unknown, bundle: MimeBundle, context: RenderContext): string {
  let figure: unknown = value;
  if (typeof figure === "string") {
    try {
      figure = JSON.parse(figure);
    } catch {
      figure = undefined;
    }
  }
  const fig = figure as { data?: unknown; layout?: Record<string, unknown> } | undefined;
  if (typeof fig !== "object" || fig === null || !Array.isArray(fig.data)) {
    context.warnings.push(
      `${context.where}: ${PLOTLY_MIME} output is not a figure ({data: [...], layout})`,
    );
    const rest = { ...bundle };
    delete rest[PLOTLY_MIME];
    return renderBundle(rest, undefined, context);
  }
  context.usesPlotly = true;
  const id = context.nextId("cl-plot");
  const height = typeof fig.layout?.height === "number" ? fig.layout.height : 450;
  // What shows before plotly.js draws (or if it cannot): the bundle's static fallback.
  const rest = { ...bundle };
  delete rest[PLOTLY_MIME];
  const fallbackMime = chooseMime(rest, context);
  const fallback = fallbackMime && fallbackMime !== "text/plain"
    ? renderBundle(rest, undefined, context)
    : `<p class="cl-plotly-note">${
      escapeHtml(rest["text/plain"] ? asText(rest["text/plain"]) : "Interactive figure")
    }</p>`;
  const figureJson = { data: fig.data, layout: fig.layout ?? {}, ...pickFrames(fig) };
  return `<div class="cl-plotly" data-figure="${id}" style="min-height:${
    Math.min(Math.max(Math.round(height), 100), 2000)
  }px">${fallback}</div>` +
    `<script type="application/json" id="${id}">${jsonForScript(figureJson)}</script>`;
}

function pickFrames(fig: Record<string, unknown>): Record<string, unknown> {
  return Array.isArray(fig.frames) ? { frames: fig.frames } : {};
}

/**
 * A MIME bundle (`display_data`/`execute_result` data) as HTML, in its preferred form.
 *
 * @param bundle MIME type → value.
 * @param metadata The output's metadata (image sizes).
 * @param context The page being rendered.
 */
export function renderBundle(
  bundle: MimeBundle,
  metadata: Record<string, unknown> | undefined,
  context: RenderContext,
): string {
  const mime = chooseMime(bundle, context);
  if (mime === undefined) {
    const types = Object.keys(bundle).join(", ") || "none";
    return `<p class="cl-unsupported">Output not shown: no MIME type this page can show (${
      escapeHtml(types)
    }).</p>`;
  }
  const value = bundle[mime];
  switch (mime) {
    case PLOTLY_MIME:
      return renderPlotly(value, bundle, context);
    case "text/html":
      return `<div class="cl-html">${context.clean(asText(value))}</div>`;
    case "text/markdown": {
      const saved = context.env.collectHeadings;
      context.env.collectHeadings = false;
      try {
        return `<div class="cl-markdown">${
          context.clean(renderMarkdown(asText(value), context.env))
        }</div>`;
      } finally {
        context.env.collectHeadings = saved;
      }
    }
    case "image/svg+xml":
      return renderSvg(value, bundle, context);
    case "text/latex": {
      const { tex, display } = stripMathDelimiters(asText(value));
      context.env.math.where = context.where;
      return `<div class="cl-latex">${renderMath(tex, display, context.env.math)}</div>`;
    }
    case "application/json":
      return `<pre class="cl-json"><code class="hljs language-json">${
        highlightCode(JSON.stringify(value, null, 2) ?? "null", "json")
      }</code></pre>`;
    case "application/javascript": {
      const id = context.nextId("cl-js");
      return `<div class="cl-js" id="${id}"></div><script>(function (element) {\n${
        asText(value).replace(/<\/script/gi, "<\\/script")
      }\n})(document.getElementById(${JSON.stringify(id)}));</script>`;
    }
    case "text/plain":
      return renderText(asText(value));
    default:
      return renderImage(mime, value, bundle, metadata, context);
  }
}

function renderError(output: ErrorOutput): string {
  const traceback = output.traceback.length > 0
    ? output.traceback.join("\n")
    : `${output.ename}: ${output.evalue}`;
  return `<div class="cl-error" role="alert"><pre>${ansiToHtml(traceback)}</pre></div>`;
}

function renderStream(output: StreamOutput): string {
  return renderText(output.text, `cl-stream cl-${output.name}`);
}

/** Consecutive stream outputs of the same name merged, as Jupyter shows them. */
export function mergeStreams(outputs: readonly Output[]): Output[] {
  const merged: Output[] = [];
  for (const output of outputs) {
    const last = merged[merged.length - 1];
    if (
      output.output_type === "stream" && last?.output_type === "stream" &&
      last.name === output.name
    ) {
      merged[merged.length - 1] = { ...last, text: last.text + output.text };
    } else {
      merged.push(output);
    }
  }
  return merged;
}

/**
 * One output as HTML.
 *
 * @example
 * ```ts
 * import { renderOutput } from "./outputs.ts";
 * import { newRenderContext } from "./context.ts";
 * const html = renderOutput(
 *   { output_type: "stream", name: "stdout", text: "\x1b[32mok\x1b[0m\n" },
 *   newRenderContext({ sanitize: false }),
 * );
 * console.log(html); // <pre class="cl-stream cl-stdout"><span class="ansi-green-fg">ok</span>\n</pre>
 * ```
 */
export function renderOutput(output: Output, context: RenderContext): string {
  switch (output.output_type) {
    case "stream":
      return renderStream(output);
    case "error":
      return renderError(output);
    case "display_data":
    case "execute_result":
      return renderBundle(output.data, output.metadata, context);
    default: {
      const type = (output as { output_type?: unknown }).output_type;
      context.warnings.push(`${context.where}: unknown output type ${JSON.stringify(type)}`);
      return "";
    }
  }
}
