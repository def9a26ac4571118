/**
 * SVG → PNG / pixels with resvg (WebAssembly: no FFI, no permission for the engine itself).
 * Text needs a font: Convlab reads DejaVu Sans (Debian's `fonts-dejavu-core`) or another common
 * system font, or the file named by `CONVLAB_FONT`. Where none can be read (a sandbox that
 * denies reads), shapes still render and text is left out, with one warning.
 *
 * Used by `cl.save(visual, "x.png")`, the README gallery and the test card.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import { decodeImage } from "./codec.ts";

/** Fonts tried in order (the first readable one is used). */
export const FONT_CANDIDATES = [
  "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
  "/usr/share/fonts/TTF/DejaVuSans.ttf",
  "/usr/share/fonts/dejavu/DejaVuSans.ttf",
  "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
  "/System/Library/Fonts/Supplemental/Arial.ttf",
  "/Library/Fonts/Arial.ttf",
  "C:\\Windows\\Fonts\\arial.ttf",
];

/** Monospace fonts tried in order (for text tables saved as pictures), beside the main font. */
export const MONO_FONT_CANDIDATES = [
  "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
  "/usr/share/fonts/TTF/DejaVuSansMono.ttf",
  "/usr/share/fonts/dejavu/DejaVuSansMono.ttf",
  "/usr/share/fonts/truetype/liberation/LiberationMono-Regular.ttf",
  "/System/Library/Fonts/Supplemental/Courier New.ttf",
  "C:\\Windows\\Fonts\\cour.ttf",
];

/** The font family name SVG text should use to match the font Convlab loads. */
export const FONT_FAMILY = "DejaVu Sans, Liberation Sans, Arial, sans-serif";

/** The font family of monospace text (aligned columns of text tables). */
export const MONO_FONT_FAMILY = "DejaVu Sans Mono, Liberation Mono, Courier New, monospace";

type ResvgModule = typeof import("@resvg/resvg-wasm");

let engine: Promise<ResvgModule> | undefined;
let fonts: Promise<{ buffers: Uint8Array[]; path?: string }> | undefined;
let warned = false;

function loadEngine(): Promise<ResvgModule> {
  engine ??= (async () => {
    const [resvg, wasm] = await Promise.all([
      import("@resvg/resvg-wasm"),
      import("./_resvg_wasm.js"),
    ]);
    await resvg.initWasm(wasm.default);
    return resvg;
  })();
  return engine;
}

function envFont(): string | undefined {
  try {
    return Deno.env.get("CONVLAB_FONT") || undefined;
  } catch {
    return undefined; // no env permission
  }
}

function loadFonts(): Promise<{ buffers: Uint8Array[]; path?: string }> {
  fonts ??= (async () => {
    const firstReadable = async (paths: (string | undefined)[]) => {
      for (const path of paths) {
        if (!path) continue;
        try {
          return { buffer: await Deno.readFile(path), path };
        } catch {
          // missing or not permitted: try the next one
        }
      }
      return undefined;
    };
    const main = await firstReadable([envFont(), ...FONT_CANDIDATES]);
    if (!main) return { buffers: [] };
    const mono = await firstReadable(MONO_FONT_CANDIDATES);
    return { buffers: mono ? [main.buffer, mono.buffer] : [main.buffer], path: main.path };
  })();
  return fonts;
}

/** Which font file text is drawn with, or undefined when none could be read. */
export async function fontPath(): Promise<string | undefined> {
  return (await loadFonts()).path;
}

/** Options of {@linkcode rasterizeSvg}. */
export interface RasterOptions {
  /** Output width in pixels (height follows the SVG's aspect ratio); default the SVG's width. */
  width?: number;
  /** Background colour (CSS); default transparent. */
  background?: string;
}

async function render(svg: string, options: RasterOptions) {
  if (typeof svg !== "string" || !svg.includes("<svg")) {
    throw new TypeError("Cannot rasterise SVG: expected SVG markup");
  }
  const [resvg, font] = await Promise.all([loadEngine(), loadFonts()]);
  if (!font.path && !warned && svg.includes("<text")) {
    warned = true;
    console.warn(
      "Convlab: no font could be read, so text is left out of PNG output " +
        "(install fonts-dejavu-core or set CONVLAB_FONT to a .ttf file)",
    );
  }
  const renderer = new resvg.Resvg(svg, {
    background: options.background,
    fitTo: options.width ? { mode: "width", value: options.width } : { mode: "original" },
    font: {
      fontBuffers: font.buffers,
      loadSystemFonts: false,
      defaultFontFamily: "DejaVu Sans",
      sansSerifFamily: "DejaVu Sans",
      monospaceFamily: "DejaVu Sans Mono",
    },
  });
  try {
    return renderer.render();
  } finally {
    renderer.free();
  }
}

/**
 * Rasterise SVG markup to PNG bytes.
 *
 * @example
 * ```ts
 * import { rasterizeSvg } from "./svg.ts";
 * const png = await rasterizeSvg('<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>');
 * console.log(png[1] === 0x50); // "P" of the PNG signature
 * ```
 */
export async function rasterizeSvg(svg: string, options: RasterOptions = {}): Promise<Uint8Array> {
  const image = await render(svg, options);
  try {
    return image.asPng();
  } finally {
    image.free();
  }
}

/** Rasterise SVG markup to an `[h, w, 4]` int32 RGBA tensor. */
export async function svgToTensor(svg: string, options: RasterOptions = {}): Promise<tf.Tensor3D> {
  return decodeImage(await rasterizeSvg(svg, options), { channels: 4 });
}
