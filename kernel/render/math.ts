/**
 * LaTeX math rendered at build time with KaTeX, so pages need no MathJax and no network.
 *
 * @module
 */
import katex from "katex";
import { escapeHtml } from "./html.ts";

/** State shared by all math on one page: `\newcommand` macros flow from cell to cell. */
export interface MathContext {
  /** KaTeX macros defined so far on the page. */
  macros: Record<string, string>;
  /** Problems found, e.g. `$\frac{1}$: Expected group after '\frac'`. */
  warnings: string[];
  /** Where the math is, for warnings (e.g. "lesson.ipynb cell 3"). */
  where?: string;
  /** Set once any math was rendered (the page then links KaTeX's CSS). */
  used: boolean;
}

/** A fresh {@linkcode MathContext}. */
export function newMathContext(): MathContext {
  return { macros: {}, warnings: [], used: false };
}

/**
 * Render TeX to HTML (with MathML for screen readers). A TeX error does not stop the build: the
 * source is shown in a `cl-math-error` span and a warning is recorded.
 *
 * @example
 * ```ts
 * import { newMathContext, renderMath } from "./math.ts";
 * const html = renderMath("x^2", false, newMathContext());
 * console.log(html.includes('class="katex"')); // true
 * ```
 */
export function renderMath(tex: string, displayMode: boolean, context: MathContext): string {
  context.used = true;
  try {
    return katex.renderToString(tex, {
      displayMode,
      throwOnError: true,
      globalGroup: true,
      macros: context.macros,
      strict: "ignore",
      trust: false,
      output: "htmlAndMathml",
    });
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    context.warnings.push(
      `${context.where ? context.where + ": " : ""}math error in ${
        JSON.stringify(tex)
      }: ${message}`,
    );
    const tag = displayMode ? "div" : "span";
    return `<${tag} class="cl-math-error" title="${escapeHtml(message)}">${
      escapeHtml(displayMode ? `$$${tex}$$` : `$${tex}$`)
    }</${tag}>`;
  }
}
