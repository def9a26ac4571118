/**
 * `cl.save(visual, path)`: write any Convlab visual (or an image tensor) to a file, so lessons
 * run as scripts still leave their pictures behind. The format comes from the extension:
 * `.png` (charts and grids rasterised with their text), `.svg`, `.html` (a standalone page; Plotly
 * charts stay interactive, with plotly.js inlined so the page works offline), `.json` (Plotly
 * figure), `.jpg` (image tensors). Writes are atomic.
 *
 * Introduced in lesson 02 (saving the training curves).
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import { extname } from "node:path";
import { fileURLToPath } from "node:url";
import { writeFileAtomic } from "../_fs.ts";
import { type Displayable, isDisplayable, mimeBundle } from "../display.ts";
import { writeImage } from "../image/codec.ts";
import { MONO_FONT_FAMILY, rasterizeSvg } from "../image/svg.ts";
import { decodeBase64 } from "./_base64.ts";
import { Chart, escapeXml } from "./chart.ts";

/** Options of {@linkcode save}. */
export interface SaveOptions {
  /** PNG only: scale factor of the drawing (default 1; 2 for high-DPI pictures). */
  scale?: number;
  /** JPEG only: quality 1–100. */
  quality?: number;
}

interface SvgSource {
  toSvg(): string;
}

const hasSvg = (v: unknown): v is SvgSource =>
  typeof v === "object" && v !== null && typeof (v as SvgSource).toSvg === "function";

async function plotlyScript(): Promise<string> {
  try {
    await import("plotly.js-dist/package.json", { with: { type: "json" } });
    return await Deno.readTextFile(fileURLToPath(import.meta.resolve("plotly.js-dist")));
  } catch (error) {
    throw new Error(
      `Cannot save as HTML: plotly.js could not be read (${
        error instanceof Error ? error.message : error
      }); run \`deno install\` in the project, or save as .png or .svg`,
    );
  }
}

/** Lines of text drawn in a monospace font: the picture of a visual that is only text (a table). */
function textSvg(text: string): string {
  const lines = text.replace(/\s+$/, "").split("\n");
  const charWidth = 7.8, lineHeight = 17, pad = 10;
  const width = Math.ceil(Math.max(1, ...lines.map((l) => l.length)) * charWidth + 2 * pad);
  const height = lines.length * lineHeight + 2 * pad;
  const rows = lines.map((line, i) =>
    `<text x="${pad}" y="${pad + (i + 1) * lineHeight - 4}" xml:space="preserve">${
      escapeXml(line)
    }</text>`
  );
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
    `viewBox="0 0 ${width} ${height}"><rect width="100%" height="100%" fill="#fff"/>` +
    `<g font-family="${MONO_FONT_FAMILY}" font-size="13" fill="#222">${rows.join("")}</g></svg>`;
}

/** The width `textSvg` gives a text. */
function textWidth(text: string): number {
  return Number(/width="(\d+)"/.exec(textSvg(text))![1]);
}

/** An SVG showing a PNG (base64) at its own size. */
function pngSvg(base64: string): string {
  const bytes = decodeBase64(base64);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const width = view.getUint32(16), height = view.getUint32(20); // the IHDR chunk
  return `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" ` +
    `width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">` +
    `<image width="${width}" height="${height}" href="data:image/png;base64,${base64}"/></svg>`;
}

function page(title: string, body: string, head = ""): string {
  return `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>${
    escapeXml(title)
  }</title>${head}</head><body style="font-family:sans-serif">${body}</body></html>\n`;
}

/**
 * Save a visual or an image tensor.
 *
 * @param visual A chart, image grid, table, any display object, or an image tensor.
 * @param path Target file; the extension picks the format.
 * @example
 * ```ts
 * import { save } from "./save.ts";
 * import { line } from "./plot.ts";
 * const path = (await Deno.makeTempDir()) + "/loss.svg";
 * await save(line([3, 2, 1], { title: "loss" }), path);
 * ```
 */
export async function save(
  visual: Displayable | tf.Tensor,
  path: string,
  options: SaveOptions = {},
): Promise<void> {
  const ext = extname(path).toLowerCase();
  const what = `Cannot save ${path}`;
  if (visual instanceof tf.Tensor) {
    if (![".png", ".jpg", ".jpeg"].includes(ext)) {
      throw new RangeError(
        `${what}: an image tensor saves as .png, .jpg or .jpeg, not ${ext || "no extension"}`,
      );
    }
    return await writeImage(path, visual, { quality: options.quality });
  }
  if (!isDisplayable(visual) && !hasSvg(visual)) {
    throw new TypeError(`${what}: expected a Convlab visual, a display object or an image tensor`);
  }
  const bundle = isDisplayable(visual) ? await mimeBundle(visual) : {};
  const svg = hasSvg(visual) ? visual.toSvg() : bundle["image/svg+xml"] as string | undefined;
  const png = bundle["image/png"] as string | undefined;
  const text = bundle["text/plain"] === undefined ? undefined : String(bundle["text/plain"]);
  const have = Object.keys(bundle).join(", ") || "nothing";
  switch (ext) {
    case ".png": {
      const scale = options.scale ?? 1;
      if (!(scale > 0 && scale <= 8)) {
        throw new RangeError(`${what}: scale must be in (0, 8], got ${scale}`);
      }
      if (svg) {
        const width = Number(/width="([\d.]+)"/.exec(svg)?.[1] ?? 0);
        return await writeFileAtomic(
          path,
          await rasterizeSvg(svg, { width: width ? Math.round(width * scale) : undefined }),
        );
      }
      if (png) return await writeFileAtomic(path, decodeBase64(png));
      if (text !== undefined) {
        return await writeFileAtomic(
          path,
          await rasterizeSvg(textSvg(text), { width: Math.round(textWidth(text) * scale) }),
        );
      }
      throw new TypeError(`${what}: this visual has no picture to save as PNG (it has ${have})`);
    }
    case ".svg":
      if (svg) return await writeFileAtomic(path, svg);
      if (png) return await writeFileAtomic(path, pngSvg(png));
      if (text !== undefined) return await writeFileAtomic(path, textSvg(text));
      throw new TypeError(
        `${what}: this visual has no SVG form (it has ${have}); save it as .png or .html`,
      );
    case ".json":
      if (visual instanceof Chart) {
        return await writeFileAtomic(path, JSON.stringify(visual.toPlotly()));
      }
      throw new TypeError(`${what}: only charts save as Plotly JSON`);
    case ".html": {
      const plotly = bundle["application/vnd.plotly.v1+json"] as
        | { data: unknown; layout: unknown }
        | undefined;
      const title = visual instanceof Chart ? visual.spec.title ?? "Convlab chart" : "Convlab";
      if (plotly) {
        const script = (await plotlyScript()).replaceAll("</script", "<\\/script");
        const figure = JSON.stringify(plotly).replaceAll("</", "<\\/");
        return await writeFileAtomic(
          path,
          page(
            title,
            `<div id="chart"></div><script>Plotly.newPlot("chart", ${figure}.data, ${figure}.layout);</script>`,
            `<script>${script}</script>`,
          ),
        );
      }
      const body = (bundle["text/html"] as string | undefined) ?? svg ??
        (png ? `<img src="data:image/png;base64,${png}">` : undefined) ??
        `<pre>${escapeXml(String(bundle["text/plain"] ?? ""))}</pre>`;
      return await writeFileAtomic(path, page(title, body));
    }
    default:
      throw new RangeError(
        `${what}: unknown extension ${ext || "(none)"}; use .png, .svg, .html or .json`,
      );
  }
}
