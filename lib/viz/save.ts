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
import { rasterizeSvg } from "../image/svg.ts";
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
      throw new TypeError(`${what}: this visual has no picture to save as PNG (it has ${have})`);
    }
    case ".svg":
      if (svg) return await writeFileAtomic(path, svg);
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
