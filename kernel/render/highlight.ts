/**
 * Syntax highlighting of code cells and Markdown code blocks with highlight.js (core plus the
 * languages a course uses, so the build stays fast).
 *
 * @module
 */
import hljs from "highlight.js/lib/core";
import typescript from "highlight.js/lib/languages/typescript";
import javascript from "highlight.js/lib/languages/javascript";
import json from "highlight.js/lib/languages/json";
import bash from "highlight.js/lib/languages/bash";
import shell from "highlight.js/lib/languages/shell";
import python from "highlight.js/lib/languages/python";
import xml from "highlight.js/lib/languages/xml";
import css from "highlight.js/lib/languages/css";
import markdown from "highlight.js/lib/languages/markdown";
import yaml from "highlight.js/lib/languages/yaml";
import diff from "highlight.js/lib/languages/diff";
import { escapeHtml } from "./html.ts";

for (
  const [name, language] of Object.entries({
    typescript,
    javascript,
    json,
    bash,
    shell,
    python,
    xml,
    css,
    markdown,
    yaml,
    diff,
  })
) {
  hljs.registerLanguage(name, language);
}

/**
 * Highlight code as HTML (`<span class="hljs-…">`); unknown languages are escaped as plain
 * text. Aliases work (`ts`, `js`, `sh`, `html`, …).
 *
 * @example
 * ```ts
 * import { highlightCode } from "./highlight.ts";
 * console.log(highlightCode("const x = 1;", "ts").includes("hljs-keyword")); // true
 * ```
 */
export function highlightCode(code: string, language: string | undefined): string {
  const lang = (language ?? "").trim().toLowerCase().split(/\s+/)[0];
  if (lang && hljs.getLanguage(lang)) {
    return hljs.highlight(code, { language: lang, ignoreIllegals: true }).value;
  }
  return escapeHtml(code);
}

/** Whether highlight.js knows the language (or alias). */
export function isKnownLanguage(language: string): boolean {
  return hljs.getLanguage(language.toLowerCase()) !== undefined;
}
