/**
 * The state of one page while it renders: sanitising on or off, the Markdown/math environment,
 * ids handed out, what the page needs (Plotly, KaTeX CSS) and the warnings found.
 *
 * @module
 */
import { type MarkdownEnv, newMarkdownEnv } from "./markdown.ts";

/** Sanitiser of untrusted HTML; sanitize.ts registers it when loaded (sanitize-html is large). */
let sanitizer: ((html: string, options: { headingIds: ReadonlySet<string> }) => string) | undefined;

/** Called by sanitize.ts when it loads. */
export function registerSanitizer(fn: NonNullable<typeof sanitizer>): void {
  sanitizer = fn;
}

/** Load the sanitiser (only pages of untrusted notebooks need it). */
export async function loadSanitizer(): Promise<void> {
  if (!sanitizer) await import("./sanitize.ts");
}

/** What renders one page. */
export interface RenderContext {
  /** Whether outputs and Markdown are untrusted and get sanitised. */
  readonly sanitize: boolean;
  /** Markdown and math state shared across the page's cells. */
  readonly env: MarkdownEnv;
  /** Set when an output needs plotly.js. */
  usesPlotly: boolean;
  /** Problems found while rendering ("lesson.ipynb cell 4: …"). */
  readonly warnings: string[];
  /** Where rendering is now, for warnings ("lesson.ipynb cell 4"). */
  where: string;
  /** A page-unique id with the given prefix. */
  nextId(prefix: string): string;
  /**
   * Sanitise untrusted HTML when the page is untrusted (else return it unchanged), keeping the
   * renderer's own protected fragments (math, highlighted code) and heading ids.
   */
  clean(html: string): string;
}

/** Create the context for one page. */
export function newRenderContext(options: { sanitize: boolean; where?: string }): RenderContext {
  const counters = new Map<string, number>();
  // Trusted fragments stand in the untrusted HTML as random tokens while it is sanitised;
  // the nonce makes the tokens unguessable, so untrusted text cannot forge one.
  const nonce = crypto.randomUUID().replaceAll("-", "");
  const fragments: string[] = [];
  const env = newMarkdownEnv(
    options.sanitize
      ? {
        protect: (html) => {
          fragments.push(html);
          return `CLSAFE${nonce}X${fragments.length - 1}X`;
        },
      }
      : {},
  );
  const context: RenderContext = {
    sanitize: options.sanitize,
    env,
    usesPlotly: false,
    warnings: [],
    where: options.where ?? "notebook",
    nextId(prefix) {
      const n = (counters.get(prefix) ?? 0) + 1;
      counters.set(prefix, n);
      return `${prefix}-${n}`;
    },
    clean(html) {
      if (!options.sanitize) return html;
      const headingIds = new Set(env.headings.map((h) => h.id));
      if (!sanitizer) {
        throw new Error("The sanitiser is not loaded: call `await loadSanitizer()` first");
      }
      const cleaned = sanitizer(html, { headingIds });
      return cleaned.replace(
        new RegExp(`CLSAFE${nonce}X(\\d+)X`, "g"),
        (_, i) => fragments[Number(i)] ?? "",
      );
    },
  };
  return context;
}
