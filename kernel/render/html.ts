/**
 * Small HTML string helpers shared by the renderer.
 *
 * @module
 */

const HTML_ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/**
 * Escape text for use in HTML content or a quoted attribute value.
 *
 * @example
 * ```ts
 * import { escapeHtml } from "./html.ts";
 * console.log(escapeHtml(`<a href="x">`)); // &lt;a href=&quot;x&quot;&gt;
 * ```
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
}

/**
 * JSON for a `<script type="application/json">` element: `<` is escaped so that no
 * `</script>` or `<!--` inside the data can end the element early.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

/** Whether a string is plausible base64 (what image outputs must be). */
export function isBase64(text: string): boolean {
  return /^[A-Za-z0-9+/=\s]*$/.test(text);
}

/** Base64 of bytes (chunked, so large files do not overflow the call stack). */
export function bytesToBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/**
 * A one-line plain-text notice as HTML: escaped, with `backquoted` spans shown as code.
 *
 * @example
 * ```ts
 * import { noticeHtml } from "./html.ts";
 * console.log(noticeHtml("Run `deno task course --full`.")); // Run <code>deno task course --full</code>.
 * ```
 */
export function noticeHtml(text: string): string {
  return `<p class="cl-notice" role="note">${
    escapeHtml(text).replace(/`([^`]+)`/g, "<code>$1</code>")
  }</p>`;
}
