/**
 * A notebook as one HTML page: title, cells, table of contents, lessons sidebar and
 * previous/next links, styled for screens, phones and print.
 *
 * @module
 */
import { basename, dirname, extname } from "node:path";
import type { Cell, Notebook } from "../notebook.ts";
import { type AssetNeeds, assetTags, untrustedPagePolicy } from "./assets.ts";
import { type CellRenderOptions, renderCell } from "./cells.ts";
import { loadSanitizer, newRenderContext } from "./context.ts";
import { escapeHtml, noticeHtml } from "./html.ts";
import { type Heading, markdownHeadings, markdownPlainText } from "./markdown.ts";

/** A link to another page of the site. */
export interface NavLink {
  /** The page's title. */
  title: string;
  /** Its URL, relative to this page. */
  href: string;
}

/** Options of {@linkcode renderNotebookPage}. */
export interface PageOptions {
  /**
   * Treat the notebook as untrusted (a student submission): HTML and Markdown outputs and
   * Markdown cells are sanitised (no scripts, no event handlers, no styles, no remote images),
   * SVG is shown as an image, `application/javascript` is dropped. Default false: lesson pages
   * keep their scripts.
   */
  sanitize?: boolean;
  /** The notebook's file: names it in warnings, and its folder is the base of relative images. */
  path?: string;
  /** Page title (default: `metadata.title`, else the first `#` heading, else the file name). */
  title?: string;
  /** Summary for the index and `<meta name="description">` (default: from the notebook). */
  summary?: string;
  /** Name of the site, shown in the top bar and the window title (default "Convlab"). */
  siteTitle?: string;
  /** Link to the site's index page; omit for a page that stands alone. */
  homeHref?: string;
  /** Lessons for the sidebar, in order; the one whose `current` is true is this page. */
  lessons?: (NavLink & { current?: boolean })[];
  /** Previous lesson. */
  prev?: NavLink;
  /** Next lesson. */
  next?: NavLink;
  /** Inline every asset (CSS, fonts, scripts, plotly.js) so the page is one self-contained file. */
  singleFile?: boolean;
  /** URL of the assets folder, relative to the page (default `assets/`), when not single-file. */
  assetsHref?: string;
  /** Maps a relative link to another notebook to its page (default: `x.ipynb` → `x.html`). */
  resolveLink?: (href: string) => string;
  /** Trusted HTML placed after a cell, e.g. a grader's verdict next to a test cell. */
  afterCell?: CellRenderOptions["afterCell"];
  /** A plain-text notice shown above the content (e.g. "executed with smoke settings"). */
  notice?: string;
  /** Trusted HTML placed above the first cell, e.g. a score summary. */
  beforeContent?: string;
  /** Trusted HTML placed at the end of the page, before the footer. */
  afterContent?: string;
  /** URL of the notebook file to download (shown in the top bar and footer), if any. */
  downloadHref?: string;
  /** Footer text (plain text; default names the notebook file). */
  footer?: string;
  /** The page's language (`lang` attribute, default "en"). */
  lang?: string;
}

/** A rendered page and what was learnt about the notebook while rendering it. */
export interface RenderedPage {
  /** The whole HTML document. */
  html: string;
  /** The page title. */
  title: string;
  /** A one- or two-sentence summary (plain text; may be empty). */
  summary: string;
  /** Headings of the Markdown cells, in order, with their anchor ids. */
  headings: Heading[];
  /** Which assets the page uses. */
  needs: AssetNeeds;
  /** Problems found (bad math, missing images, odd outputs), each naming the cell. */
  warnings: string[];
}

/** Default link mapping: a relative `x.ipynb` (with optional `#anchor`) becomes `x.html`. */
export function notebookLinkToPage(href: string): string {
  if (/^(?:[a-z][a-z0-9+.-]*:|\/\/|#)/i.test(href)) return href;
  return href.replace(/\.ipynb(?=$|[?#])/, ".html");
}

function isExecuted(nb: Notebook): boolean {
  return nb.cells.some((c) => c.cell_type === "code" && c.execution_count !== null);
}

function metadataString(nb: Notebook, key: string): string | undefined {
  const value = nb.metadata[key] ??
    (nb.metadata.convlab as Record<string, unknown> | undefined)?.[key];
  return typeof value === "string" && value.trim() ? value.trim() : undefined;
}

function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max);
  return cut.slice(0, Math.max(cut.lastIndexOf(" "), max - 20)).replace(/[\s,;:.]+$/, "") + "…";
}

/**
 * A notebook's title: `metadata.title`, else its first `#` heading, else the file name.
 *
 * @example
 * ```ts
 * import { notebookTitle } from "./page.ts";
 * const nb = { nbformat: 4 as const, nbformat_minor: 5, metadata: {},
 *   cells: [{ cell_type: "markdown" as const, metadata: {}, source: "# 01 — *Convolution*" }] };
 * console.log(notebookTitle(nb, "lessons/01_convolution.ipynb")); // 01 — Convolution
 * ```
 */
export function notebookTitle(nb: Notebook, path?: string): string {
  const fromMetadata = metadataString(nb, "title");
  if (fromMetadata) return fromMetadata;
  for (const cell of nb.cells) {
    if (cell.cell_type !== "markdown") continue;
    const h1 = markdownHeadings(cell.source).find((h) => h.level === 1);
    if (h1) return h1.text;
  }
  return path ? basename(path, extname(path)) : "Notebook";
}

/**
 * A notebook's summary: `metadata.summary`/`description`, else a paragraph that starts with
 * "Summary:", else the first paragraph of prose.
 */
export function notebookSummary(nb: Notebook): string {
  const fromMetadata = metadataString(nb, "summary") ?? metadataString(nb, "description");
  if (fromMetadata) return truncate(fromMetadata, 280);
  const paragraphs = nb.cells
    .filter((c): c is Cell & { cell_type: "markdown" } => c.cell_type === "markdown")
    .slice(0, 3)
    .flatMap((c) => markdownPlainText(c.source));
  const labelled = paragraphs.find((p) => /^summary\s*[:：]/i.test(p));
  if (labelled) {
    const text = labelled.replace(/^summary\s*[:：]\s*/i, "");
    return truncate(text.charAt(0).toUpperCase() + text.slice(1), 280);
  }
  return truncate(paragraphs[0] ?? "", 280);
}

function tocHtml(headings: Heading[]): string {
  // The first level-1 heading is the page title; the ToC lists the sections under it.
  const firstH1 = headings.findIndex((h) => h.level === 1);
  const items = headings.filter((h, i) => i !== firstH1 && h.level <= 3);
  if (items.length === 0) return "";
  const top = Math.min(...items.map((h) => h.level));
  let html = "<ol>";
  let depth = 0;
  let open = false;
  for (const h of items) {
    const level = Math.min(h.level - top, 1);
    while (depth < level) {
      html += "<ol>";
      depth++;
      open = false;
    }
    while (depth > level) {
      html += "</li></ol>";
      depth--;
    }
    if (open) html += "</li>";
    html += `<li><a href="#${escapeHtml(h.id)}">${escapeHtml(h.text)}</a>`;
    open = true;
  }
  while (depth > 0) {
    html += "</li></ol>";
    depth--;
  }
  return html + "</li></ol>";
}

function sidebarHtml(lessons: NonNullable<PageOptions["lessons"]>): string {
  const items = lessons.map((l) =>
    `<li><a href="${escapeHtml(l.href)}"${l.current ? ' aria-current="page"' : ""}>${
      escapeHtml(l.title)
    }</a></li>`
  ).join("");
  return `<nav class="cl-sidebar" id="lessons" aria-label="Lessons"><h2>Lessons</h2><ol>${items}</ol></nav>`;
}

function pagerHtml(prev?: NavLink, next?: NavLink): string {
  if (!prev && !next) return "";
  const link = (l: NavLink, rel: "prev" | "next") =>
    `<a class="cl-${rel}" rel="${rel}" href="${escapeHtml(l.href)}"><small>${
      rel === "prev" ? "← Previous" : "Next →"
    }</small>${escapeHtml(l.title)}</a>`;
  return `<nav class="cl-pager" aria-label="Lessons">${prev ? link(prev, "prev") : ""}${
    next ? link(next, "next") : ""
  }</nav>`;
}

/** The shared frame of every page: head, top bar, sidebar, main column, ToC. */
export async function pageShell(parts: {
  title: string;
  siteTitle: string;
  description: string;
  homeHref?: string;
  lessons?: PageOptions["lessons"];
  toc: string;
  main: string;
  needs: AssetNeeds;
  singleFile: boolean;
  assetsHref: string;
  lang: string;
  downloadHref?: string;
  /** Add a Content-Security-Policy that lets only the page's own scripts run. */
  untrusted?: boolean;
}): Promise<string> {
  // An untrusted page without figures needs no script at all (its phone menu works by CSS).
  const scripts = !parts.untrusted || parts.needs.plotly;
  const assets = await assetTags(parts.needs, {
    inline: parts.singleFile,
    href: parts.assetsHref,
    scripts,
  });
  const policy = parts.untrusted
    ? `<meta http-equiv="Content-Security-Policy" content="${
      // Our own words and base64 hashes: only a double quote could end the attribute.
      untrustedPagePolicy(assets, { inline: parts.singleFile, scripts }).replaceAll(
        '"',
        "&quot;",
      )}">\n`
    : "";
  const sidebar = parts.lessons && parts.lessons.length > 0 ? sidebarHtml(parts.lessons) : "";
  const layoutClass = ["cl-layout", sidebar ? "" : "cl-no-sidebar", parts.toc ? "" : "cl-no-toc"]
    .filter(Boolean).join(" ");
  const windowTitle = parts.title === parts.siteTitle
    ? parts.title
    : `${parts.title} · ${parts.siteTitle}`;
  const home = parts.homeHref
    ? `<a class="cl-site-title" href="${escapeHtml(parts.homeHref)}">${
      escapeHtml(parts.siteTitle)
    }</a>`
    : `<span class="cl-site-title">${escapeHtml(parts.siteTitle)}</span>`;
  return `<!doctype html>
<html lang="${escapeHtml(parts.lang)}">
<head>
<meta charset="utf-8">
${policy}<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="generator" content="Convlab">
<title>${escapeHtml(windowTitle)}</title>
<meta name="description" content="${escapeHtml(parts.description)}">
${assets.head}
</head>
<body>
<a class="cl-skip" href="#content">Skip to content</a>
<header class="cl-topbar">${home}${
    parts.downloadHref
      ? `<a class="cl-download" href="${escapeHtml(parts.downloadHref)}" download>Notebook ⤓</a>`
      : ""
  }${
    sidebar
      ? `<a class="cl-menu-button" href="#lessons" aria-controls="lessons" aria-expanded="false">Lessons</a>`
      : ""
  }</header>
<div class="${layoutClass}">
${sidebar}
<main class="cl-main" id="content">
${parts.main}
</main>
${
    parts.toc
      ? `<aside class="cl-toc"><nav aria-label="On this page"><h2>On this page</h2>${parts.toc}</nav></aside>`
      : ""
  }
</div>
${assets.body}
</body>
</html>
`;
}

/**
 * Render a notebook as one HTML page. Lesson pages are trusted; for untrusted notebooks
 * (student submissions shown as feedback) pass `sanitize: true`. Unless `singleFile` is set, the
 * page links its assets under `assetsHref` (default `assets/`): write them with
 * `writeSiteAssets(dir, page.needs)`.
 *
 * @example
 * ```ts
 * import { renderNotebookPage } from "./page.ts";
 * import { parseNotebook } from "../notebook.ts";
 * const nb = parseNotebook(JSON.stringify({
 *   nbformat: 4, nbformat_minor: 5, metadata: {},
 *   cells: [{ cell_type: "markdown", metadata: {}, source: "# Hello\n\nMath: $x^2$" }],
 * }));
 * const page = await renderNotebookPage(nb, { sanitize: true });
 * console.log(page.title, page.needs.math); // Hello true
 * ```
 */
export async function renderNotebookPage(
  nb: Notebook,
  options: PageOptions = {},
): Promise<RenderedPage> {
  const file = options.path ? basename(options.path) : "notebook";
  if (options.sanitize) await loadSanitizer();
  const context = newRenderContext({ sanitize: options.sanitize ?? false, where: file });
  const language = String(
    (nb.metadata.language_info as Record<string, unknown> | undefined)?.name ??
      (nb.metadata.kernelspec as Record<string, unknown> | undefined)?.language ?? "typescript",
  );
  const cellOptions: CellRenderOptions = {
    baseDir: options.path ? dirname(options.path) : undefined,
    language,
    resolveLink: options.resolveLink ?? notebookLinkToPage,
    executed: isExecuted(nb),
    afterCell: options.afterCell,
  };
  const cells: string[] = [];
  nb.cells.forEach((cell, i) => {
    context.where = `${file} cell ${i + 1}`;
    cells.push(renderCell(cell, i, context, cellOptions));
  });
  const headings = context.env.headings;
  const title = options.title ?? notebookTitle(nb, options.path);
  const summary = options.summary ?? notebookSummary(nb);
  const needs: AssetNeeds = { math: context.env.math.used, plotly: context.usesPlotly };
  const footerText = options.footer ?? (options.path ? `Rendered by Convlab from ${file}.` : "");
  const footer = footerText && options.downloadHref
    ? `${escapeHtml(footerText)} <a href="${
      escapeHtml(options.downloadHref)
    }" download>Download the notebook</a>.`
    : escapeHtml(footerText);
  const notice = options.notice ? `${noticeHtml(options.notice)}\n` : "";
  const main = `<article class="cl-article">
${notice}${options.beforeContent ?? ""}${cells.join("")}${options.afterContent ?? ""}</article>
${pagerHtml(options.prev, options.next)}
${footer ? `<footer class="cl-footer">${footer}</footer>` : ""}`;
  const html = await pageShell({
    title,
    siteTitle: options.siteTitle ?? "Convlab",
    description: summary,
    homeHref: options.homeHref,
    lessons: options.lessons,
    toc: tocHtml(headings),
    main,
    needs,
    singleFile: options.singleFile ?? false,
    assetsHref: options.assetsHref ?? "assets/",
    lang: options.lang ?? "en",
    downloadHref: options.downloadHref,
    untrusted: options.sanitize ?? false,
  });
  return {
    html,
    title,
    summary,
    headings,
    needs,
    warnings: [...context.warnings, ...context.env.math.warnings],
  };
}
