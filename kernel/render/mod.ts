/**
 * Rendering executed notebooks as HTML that works offline: single pages (lessons, or untrusted
 * student notebooks with `sanitize: true`), whole course sites, the execution cache.
 *
 * For a grader's feedback page:
 *
 * ```ts ignore
 * import { renderNotebookPage, writeSiteAssets } from "./mod.ts";
 * const page = await renderNotebookPage(executedSubmission, {
 *   sanitize: true, // student HTML/Markdown: no scripts, no event handlers, no styles
 *   path: "submissions/s001/assignment1.ipynb",
 *   title: "s001 — assignment 1",
 *   beforeContent: "<p class='score'>7 / 10</p>", // trusted HTML from the grader
 *   afterCell: (cell, i) => verdicts.get(i), // trusted HTML after a test cell
 * });
 * await Deno.writeTextFile("grades/feedback/s001.html", page.html);
 * await writeSiteAssets("grades/feedback", page.needs); // or pass singleFile: true
 * ```
 *
 * @module
 */
export {
  type NavLink,
  notebookLinkToPage,
  notebookSummary,
  notebookTitle,
  type PageOptions,
  type RenderedPage,
  renderNotebookPage,
} from "./page.ts";
export {
  type ExecutionSource,
  findNotebooks,
  type PageProgress,
  renderIndexPage,
  renderSite,
  SiteInputError,
  type SiteOptions,
  type SitePage,
  type SiteResult,
} from "./site.ts";
export {
  applyCachedOutputs,
  type CacheKeyOptions,
  ExecutionCache,
  executionCacheKey,
  findProjectRoot,
  projectDigest,
} from "./cache.ts";
export {
  type ExecutionOutcome,
  type ExecutionRequest,
  kernelExecutor,
  type NotebookExecutor,
} from "./execute.ts";
export { type AssetNeeds, writeSiteAssets } from "./assets.ts";
export { chooseMime, MIME_PRIORITY, PLOTLY_MIME, renderBundle, renderOutput } from "./outputs.ts";
export { loadSanitizer, newRenderContext, type RenderContext } from "./context.ts";
export { type SanitizeOptions, sanitizeUntrustedHtml } from "./sanitize.ts";
export { ansiToHtml, collapseCarriageReturns } from "./ansi.ts";
export { escapeHtml } from "./html.ts";
export { type Heading, markdownPlainText, renderMarkdown, slugify } from "./markdown.ts";
export { cellDuration, formatDuration, renderCell } from "./cells.ts";
