/**
 * Terminal text (ANSI colours, carriage-return progress bars) as styled HTML, via ansi_up.
 *
 * @module
 */
import { AnsiUp } from "ansi_up";

/**
 * Apply what a terminal does with `\r` and `\b`: a line rewritten with `\r` (progress bars)
 * shows only its last state, and a backspace erases the character before it. Jupyter does the
 * same before showing a stream.
 *
 * @example
 * ```ts
 * import { collapseCarriageReturns } from "./ansi.ts";
 * console.log(collapseCarriageReturns("10%\r50%\r100%\ndone")); // "100%\ndone"
 * ```
 */
export function collapseCarriageReturns(text: string): string {
  if (!text.includes("\r") && !text.includes("\x08")) return text;
  return text.replace(/\r+\n/g, "\n").split("\n").map((line) => {
    const last = line.lastIndexOf("\r");
    let kept = last >= 0 ? line.slice(last + 1) : line;
    // deno-lint-ignore no-control-regex -- the backspace character is what is matched
    while (kept.includes("\x08")) kept = kept.replace(/[^\x08]?\x08/, "");
    return kept;
  }).join("\n");
}

/**
 * Convert text with ANSI escape codes to HTML: the text is escaped, the 16 colours become
 * Jupyter's `ansi-*-fg`/`ansi-*-bg` classes (themed by the page CSS for light and dark), 256 and
 * true colours become inline styles, OSC 8 links become links (http/https only).
 *
 * @example
 * ```ts
 * import { ansiToHtml } from "./ansi.ts";
 * console.log(ansiToHtml("\x1b[31mred\x1b[0m <b>")); // <span class="ansi-red-fg">red</span> &lt;b&gt;
 * ```
 */
export function ansiToHtml(text: string): string {
  const converter = new AnsiUp();
  converter.use_classes = true;
  converter.escape_html = true;
  return converter.ansi_to_html(collapseCarriageReturns(text));
}
