/**
 * The files a rendered page needs besides its HTML — the page stylesheet and script, KaTeX's
 * stylesheet and fonts, plotly.js — taken from this folder and the installed npm packages (never
 * a CDN), written once into a site's `assets/` folder or inlined into a single-file page.
 *
 * @module
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { bytesToBase64 } from "./html.ts";
import { writeFileAtomic } from "../notebook.ts";

/** What a page uses, and so which assets it needs. */
export interface AssetNeeds {
  /** KaTeX's stylesheet and fonts. */
  math: boolean;
  /** plotly.js. */
  plotly: boolean;
}

/** Paths of the assets inside a site folder (relative to its `assets/`). */
export const ASSET_FILES = {
  css: "convlab.css",
  js: "convlab.js",
  katexCss: "katex/katex.min.css",
  plotly: "plotly.js",
} as const;

function packageFile(specifier: string): string {
  const url = import.meta.resolve(specifier);
  if (!url.startsWith("file:")) {
    throw new Error(
      `Cannot find ${specifier} in node_modules: run \`deno install\` in the project root`,
    );
  }
  return fileURLToPath(url);
}

const cache = new Map<string, Promise<string>>();

function memo(key: string, load: () => Promise<string>): Promise<string> {
  let value = cache.get(key);
  if (!value) {
    value = load();
    cache.set(key, value);
  }
  return value;
}

/** The page stylesheet: Convlab's CSS plus highlight.js's GitHub themes (light, and dark). */
export function siteStylesheet(): Promise<string> {
  return memo("css", async () => {
    const own = await Deno.readTextFile(new URL("./static/convlab.css", import.meta.url));
    const light = await Deno.readTextFile(packageFile("highlight.js/styles/github.min.css"));
    const dark = await Deno.readTextFile(packageFile("highlight.js/styles/github-dark.min.css"));
    return `${own}\n/* highlight.js GitHub themes */\n${light}\n` +
      `@media (prefers-color-scheme: dark) {\n${dark}\n}\n` +
      `@media print {\n${light}\n}\n`;
  });
}

/** The page script (Plotly drawing, ToC highlight, phone menu). */
export function siteScript(): Promise<string> {
  return memo(
    "js",
    () => Deno.readTextFile(new URL("./static/convlab.js", import.meta.url)),
  );
}

function katexDist(): string {
  return dirname(packageFile("katex"));
}

/** KaTeX's font files (woff2: every browser that runs the page reads it). */
async function katexFonts(): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(join(katexDist(), "fonts"))) {
    if (entry.name.endsWith(".woff2")) names.push(entry.name);
  }
  return names.sort();
}

/**
 * KaTeX's stylesheet, referring to woff2 fonts only; with `inlineFonts` the fonts are embedded
 * as data URIs (for single-file pages).
 */
export function katexStylesheet(options: { inlineFonts: boolean }): Promise<string> {
  return memo(`katex-${options.inlineFonts}`, async () => {
    const css = await Deno.readTextFile(join(katexDist(), "katex.min.css"));
    // Keep only the woff2 source of each @font-face: no requests for files not shipped.
    const woff2Only = css.replace(
      /src:url\((fonts\/[^)]+\.woff2)\) format\("woff2"\)(?:,url\([^)]+\) format\("[^"]+"\))*/g,
      (_, file: string) => `src:url(${file}) format("woff2")`,
    );
    if (!options.inlineFonts) return woff2Only;
    const fonts = new Map<string, string>();
    for (const name of await katexFonts()) {
      const bytes = await Deno.readFile(join(katexDist(), "fonts", name));
      fonts.set(`fonts/${name}`, `data:font/woff2;base64,${bytesToBase64(bytes)}`);
    }
    return woff2Only.replace(
      /url\((fonts\/[^)]+\.woff2)\)/g,
      (_, file: string) => `url(${fonts.get(file) ?? file})`,
    );
  });
}

/** Where plotly.js is (from the `plotly.js-dist` package that deno.json pins). */
export function plotlyScriptPath(): string {
  return packageFile("plotly.js-dist");
}

/** plotly.js source, for single-file pages. */
export function plotlyScript(): Promise<string> {
  return memo("plotly", () => Deno.readTextFile(plotlyScriptPath()));
}

async function sameSize(a: string, b: string): Promise<boolean> {
  try {
    const [sa, sb] = await Promise.all([Deno.stat(a), Deno.stat(b)]);
    return sa.size === sb.size;
  } catch {
    return false;
  }
}

/**
 * Write the assets a site needs into `<outDir>/assets/` (plotly.js and KaTeX only if some page
 * uses them) and return the files written, relative to `outDir`.
 */
export async function writeSiteAssets(outDir: string, needs: AssetNeeds): Promise<string[]> {
  const assets = join(outDir, "assets");
  await Deno.mkdir(assets, { recursive: true });
  const written: string[] = [];
  const put = async (name: string, data: string | Uint8Array) => {
    const path = join(assets, name);
    await Deno.mkdir(dirname(path), { recursive: true });
    await writeFileAtomic(path, data);
    written.push(`assets/${name}`);
  };
  await put(ASSET_FILES.css, await siteStylesheet());
  await put(ASSET_FILES.js, await siteScript());
  if (needs.math) {
    await put(ASSET_FILES.katexCss, await katexStylesheet({ inlineFonts: false }));
    for (const name of await katexFonts()) {
      await put(`katex/fonts/${name}`, await Deno.readFile(join(katexDist(), "fonts", name)));
    }
  }
  if (needs.plotly) {
    // Copied once per site (11 MB): skipped when an identical copy is already there.
    const target = join(assets, ASSET_FILES.plotly);
    if (!await sameSize(plotlyScriptPath(), target)) {
      await put(ASSET_FILES.plotly, await Deno.readFile(plotlyScriptPath()));
    } else {
      written.push(`assets/${ASSET_FILES.plotly}`);
    }
  }
  return written;
}

async function sha256Base64(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return bytesToBase64(new Uint8Array(digest));
}

/** Nothing inside an inlined script may close its element early. */
function scriptText(source: string): string {
  return source.replace(/<\/script/gi, "<\\/script").replace(/<!--/g, "<\\!--");
}

/** What a page needs in its `<head>` and at the end of its `<body>` for its assets. */
export interface AssetTags {
  head: string;
  body: string;
  /** CSP hashes (`'sha256-…'`) of the inline scripts, for a Content-Security-Policy. */
  scriptHashes: string[];
}

/** `<head>` and end-of-`<body>` HTML for a page, linking or inlining its assets. */
export async function assetTags(
  needs: AssetNeeds,
  options: { inline: boolean; href: string; scripts?: boolean },
): Promise<AssetTags> {
  const withScripts = options.scripts ?? true;
  if (!options.inline) {
    const h = options.href;
    return {
      head: `<link rel="stylesheet" href="${h}${ASSET_FILES.css}">` +
        (needs.math ? `\n<link rel="stylesheet" href="${h}${ASSET_FILES.katexCss}">` : ""),
      body: !withScripts
        ? ""
        : (needs.plotly
          ? `<script src="${h}${ASSET_FILES.plotly}" charset="utf-8"></script>\n`
          : "") +
          `<script src="${h}${ASSET_FILES.js}"></script>`,
      scriptHashes: [],
    };
  }
  const css = await siteStylesheet();
  const katex = needs.math ? await katexStylesheet({ inlineFonts: true }) : "";
  const scripts = !withScripts ? [] : [
    ...(needs.plotly ? [scriptText(await plotlyScript())] : []),
    scriptText(await siteScript()),
  ];
  return {
    head: `<style>\n${css}\n${katex}\n</style>`,
    body: scripts.map((s) => `<script>${s}</script>`).join("\n"),
    scriptHashes: await Promise.all(scripts.map(async (s) => `'sha256-${await sha256Base64(s)}'`)),
  };
}

/**
 * A Content-Security-Policy for pages of untrusted notebooks: only the page's own scripts run
 * (its asset files, or its inline scripts by hash), never inline handlers or injected scripts;
 * images only as data URIs; no connections, frames, forms or plugins. A second wall behind the
 * sanitiser.
 */
export function untrustedPagePolicy(
  tags: AssetTags,
  options: { inline: boolean; scripts: boolean },
): string {
  const own = options.inline ? "" : " 'self' file:";
  const scripts = !options.scripts
    ? " 'none'"
    : options.inline
    ? " " + tags.scriptHashes.join(" ")
    : own;
  return [
    "default-src 'none'",
    `script-src${scripts}`,
    `style-src 'unsafe-inline'${own}`,
    `font-src data:${own}`,
    "img-src data: blob:",
    "connect-src 'none'",
    "frame-src 'none'",
    "object-src 'none'",
    "form-action 'none'",
    "base-uri 'none'",
  ].join("; ");
}
