/**
 * GitHub-flavoured Markdown of notebook cells as HTML: markdown-it (tables, strikethrough,
 * autolinks) with task lists, GitHub alerts, heading anchors for the table of contents, TeX math
 * rendered by KaTeX at build time, and highlighted code blocks.
 *
 * @module
 */
// @ts-types="npm:@types/markdown-it@14.1.2"
import MarkdownIt from "markdown-it";
import anchor from "markdown-it-anchor";
import { tex } from "@mdit/plugin-tex";
import { tasklist } from "@mdit/plugin-tasklist";
import { alert } from "@mdit/plugin-alert";
import { highlightCode } from "./highlight.ts";
import { escapeHtml } from "./html.ts";
import { type MathContext, renderMath } from "./math.ts";

/** A heading found in Markdown, for the table of contents. */
export interface Heading {
  /** 1 for `#`, 2 for `##`, … */
  level: number;
  /** The heading's plain text. */
  text: string;
  /** The anchor id (unique on the page). */
  id: string;
}

/** Per-page state carried through every Markdown render on that page. */
export interface MarkdownEnv {
  /** Math state (macros shared across cells, warnings). */
  math: MathContext;
  /** Headings collected for the table of contents (only while `collectHeadings` is true). */
  headings: Heading[];
  /** Whether headings rendered now go into the table of contents (false for outputs). */
  collectHeadings: boolean;
  /** Turns an image `src` into the URL to use (attachments, local files), or leaves it. */
  resolveImage?: (src: string) => string;
  /** Turns a link `href` into the URL to use (e.g. `02_lenet.ipynb` → `02_lenet.html`). */
  resolveLink?: (href: string) => string;
  /**
   * Set when the output will be sanitised: trusted HTML the renderer made itself (math,
   * highlighted code) is swapped for a placeholder that survives sanitising.
   */
  protect?: (html: string) => string;
  /** markdown-it-anchor's slug registry (keeps ids unique across the cells of a page). */
  markdownItAnchor?: unknown;
  [key: string]: unknown;
}

/**
 * A heading's anchor id as GitHub makes it: lower case, letters (any script) and digits kept,
 * spaces to `-`, other punctuation dropped.
 *
 * @example
 * ```ts
 * import { slugify } from "./markdown.ts";
 * console.log(slugify("2. Padding (패딩) & Stride")); // "2-padding-패딩--stride"
 * ```
 */
export function slugify(text: string): string {
  const slug = text.trim().toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
  return slug || "section";
}

function protect(env: MarkdownEnv, html: string): string {
  return env.protect ? env.protect(html) : html;
}

function createMarkdownIt(): MarkdownIt {
  const md: MarkdownIt = new MarkdownIt({ html: true, linkify: true, typographer: false });
  md.options.highlight = null;
  md.use(tex, {
    delimiters: "all",
    mathFence: true,
    render: (content: string, displayMode: boolean, env: unknown) => {
      const e = env as MarkdownEnv;
      return protect(e, renderMath(content, displayMode, e.math));
    },
  });
  md.use(tasklist, { disabled: true, label: false });
  md.use(alert);
  md.use(anchor, {
    level: [1, 2, 3, 4, 5, 6],
    slugify,
    tabIndex: false,
    permalink: anchor.permalink.linkInsideHeader({
      symbol: "#",
      placement: "after",
      class: "cl-anchor",
      ariaHidden: true,
    }),
    callback: (token, info) => {
      // The callback gets no env; rendering is synchronous, so collect into a module list.
      pendingHeadings.push({ level: Number(token.tag.slice(1)), text: info.title, id: info.slug });
    },
  });

  const defaultFence = md.renderer.rules.fence!;
  md.renderer.rules.fence = (tokens, idx, options, env, self) => {
    const token = tokens[idx];
    const lang = token.info.trim().split(/\s+/)[0];
    if (lang === "math") return defaultFence(tokens, idx, options, env, self);
    const html = `<pre class="cl-code"><code class="hljs${
      lang ? ` language-${escapeHtml(lang)}` : ""
    }">${highlightCode(token.content, lang)}</code></pre>\n`;
    return protect(env as MarkdownEnv, html);
  };

  const defaultImage = md.renderer.rules.image!;
  md.renderer.rules.image = (tokens, idx, options, env, self) => {
    const token = tokens[idx];
    const e = env as MarkdownEnv;
    const src = token.attrGet("src");
    if (src !== null && e.resolveImage) token.attrSet("src", e.resolveImage(src));
    return defaultImage(tokens, idx, options, env, self);
  };

  const defaultLinkOpen = md.renderer.rules.link_open ??
    ((tokens, idx, options, _env, self) => self.renderToken(tokens, idx, options));
  md.renderer.rules.link_open = (tokens, idx, options, env, self) => {
    const token = tokens[idx];
    const e = env as MarkdownEnv;
    const href = token.attrGet("href");
    if (href !== null && e.resolveLink) token.attrSet("href", e.resolveLink(href));
    return defaultLinkOpen(tokens, idx, options, env, self);
  };
  return md;
}

let pendingHeadings: Heading[] = [];
let markdownIt: MarkdownIt | undefined;

/**
 * Render Markdown to HTML with the page's {@linkcode MarkdownEnv}; headings are appended to
 * `env.headings` when `env.collectHeadings` is true.
 *
 * @example
 * ```ts
 * import { renderMarkdown, newMarkdownEnv } from "./markdown.ts";
 * const env = newMarkdownEnv();
 * const html = renderMarkdown("## Padding\n\n$y = x^2$", env);
 * console.log(env.headings[0].id, html.includes("katex")); // padding true
 * ```
 */
export function renderMarkdown(source: string, env: MarkdownEnv): string {
  markdownIt ??= createMarkdownIt();
  pendingHeadings = [];
  const html = markdownIt.render(source, env);
  if (env.collectHeadings) env.headings.push(...pendingHeadings);
  pendingHeadings = [];
  return html;
}

/** A fresh page environment. */
export function newMarkdownEnv(init: Partial<MarkdownEnv> = {}): MarkdownEnv {
  return {
    math: { macros: {}, warnings: [], used: false },
    headings: [],
    collectHeadings: true,
    ...init,
  };
}

function inlineText(inline: { children: { type: string; content: string }[] | null }): string {
  return (inline.children ?? []).map((t) => {
    if (t.type === "softbreak" || t.type === "hardbreak") return " ";
    if (t.type === "math_inline") return `$${t.content}$`;
    return t.type === "text" || t.type === "code_inline" ? t.content : "";
  }).join("").replace(/\s+/g, " ").trim();
}

/**
 * The plain text of each paragraph of Markdown, markup removed (for summaries).
 *
 * @example
 * ```ts
 * import { markdownPlainText } from "./markdown.ts";
 * console.log(markdownPlainText("# T\n\nA **bold** `x` [link](u).")); // ["A bold x link."]
 * ```
 */
export function markdownPlainText(source: string): string[] {
  markdownIt ??= createMarkdownIt();
  const tokens = markdownIt.parse(source, newMarkdownEnv());
  const paragraphs: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    if (tokens[i].type !== "paragraph_open" || tokens[i + 1]?.type !== "inline") continue;
    const text = inlineText(tokens[i + 1]);
    if (text) paragraphs.push(text);
  }
  return paragraphs;
}

/**
 * The headings of Markdown (level and plain text; ids are given only when rendering a page).
 *
 * @example
 * ```ts
 * import { markdownHeadings } from "./markdown.ts";
 * console.log(markdownHeadings("# A *b*\n\n## C")); // [{ level: 1, text: "A b" }, { level: 2, text: "C" }]
 * ```
 */
export function markdownHeadings(source: string): { level: number; text: string }[] {
  markdownIt ??= createMarkdownIt();
  const tokens = markdownIt.parse(source, newMarkdownEnv());
  const headings: { level: number; text: string }[] = [];
  for (let i = 0; i < tokens.length; i++) {
    if (tokens[i].type !== "heading_open" || tokens[i + 1]?.type !== "inline") continue;
    headings.push({ level: Number(tokens[i].tag.slice(1)), text: inlineText(tokens[i + 1]) });
  }
  return headings;
}
