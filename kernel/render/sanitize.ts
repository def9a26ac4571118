/**
 * Sanitising of untrusted HTML (student submissions rendered as feedback pages) with
 * sanitize-html: an allowlist of formatting tags and attributes; no scripts, no event handlers,
 * no styles, no forms, no frames, no remote images.
 *
 * @module
 */
// @ts-types="npm:@types/sanitize-html@2.16.0"
import sanitizeHtml from "sanitize-html";
import { registerSanitizer } from "./context.ts";

/** Options of {@linkcode sanitizeUntrustedHtml}. */
export interface SanitizeOptions {
  /**
   * Heading ids the renderer generated itself (ToC anchors) that may stay; every other `id` is
   * removed, so untrusted HTML cannot clobber names the page's scripts use.
   */
  headingIds?: ReadonlySet<string>;
}

const HEADINGS = ["h1", "h2", "h3", "h4", "h5", "h6"];

const ALLOWED_TAGS = [
  ...HEADINGS,
  "p",
  "div",
  "span",
  "br",
  "hr",
  "blockquote",
  "pre",
  "code",
  "kbd",
  "samp",
  "var",
  "b",
  "strong",
  "i",
  "em",
  "u",
  "s",
  "del",
  "ins",
  "mark",
  "small",
  "sub",
  "sup",
  "abbr",
  "cite",
  "q",
  "dfn",
  "ul",
  "ol",
  "li",
  "dl",
  "dt",
  "dd",
  "table",
  "caption",
  "colgroup",
  "col",
  "thead",
  "tbody",
  "tfoot",
  "tr",
  "th",
  "td",
  "figure",
  "figcaption",
  "details",
  "summary",
  "a",
  "img",
  "input",
];

const OPTIONS: sanitizeHtml.IOptions = {
  allowedTags: ALLOWED_TAGS,
  allowedAttributes: {
    "*": ["class", "title", "lang", "dir", "aria-hidden", "align"],
    a: ["href"],
    img: ["src", "alt", "width", "height"],
    td: ["colspan", "rowspan"],
    th: ["colspan", "rowspan", "scope"],
    col: ["span"],
    ol: ["start", "reversed"],
    details: ["open"],
    // Task-list checkboxes from Markdown only.
    input: [
      { name: "type", multiple: false, values: ["checkbox"] },
      "checked",
      "disabled",
    ],
    ...Object.fromEntries(HEADINGS.map((h) => [h, ["id"]])),
  },
  // The page's own classes start with `cl-`: untrusted content may not borrow them (it could
  // otherwise dress up as a passed test or as page chrome). `cl-anchor` is the heading link.
  allowedClasses: { "*": [/^(?!cl-)[A-Za-z0-9_-]+$/, "cl-anchor"] },
  allowedSchemes: ["http", "https", "mailto"],
  // Images only as data URIs: opening a feedback page contacts no one.
  allowedSchemesByTag: { img: ["data"] },
  allowProtocolRelative: false,
  disallowedTagsMode: "discard",
  nonTextTags: ["script", "style", "textarea", "option", "noscript", "title", "iframe", "xmp"],
};

/**
 * Remove everything from untrusted HTML that could run code or reach out: `<script>`, event
 * handler attributes (`onerror`, `onload`, …), `javascript:` URLs, `<iframe>`, `<object>`,
 * `<form>`, `<style>` and `style` attributes, SVG and MathML, remote images, and `id`s other
 * than the renderer's own heading ids.
 *
 * @example
 * ```ts
 * import { sanitizeUntrustedHtml } from "./sanitize.ts";
 * console.log(sanitizeUntrustedHtml('<b>hi</b><img src="x" onerror="alert(1)"><script>alert(2)</script>'));
 * // <b>hi</b>
 * ```
 */
export function sanitizeUntrustedHtml(html: string, options: SanitizeOptions = {}): string {
  const headingIds = options.headingIds ?? new Set<string>();
  return sanitizeHtml(html, {
    ...OPTIONS,
    transformTags: {
      ...Object.fromEntries(
        HEADINGS.map((h) => [h, (tagName: string, attribs: sanitizeHtml.Attributes) => {
          const { id, ...rest } = attribs;
          return {
            tagName,
            attribs: id !== undefined && headingIds.has(id) ? { ...rest, id } : rest,
          };
        }]),
      ),
      input: (tagName, attribs) => ({ tagName, attribs: { ...attribs, disabled: "disabled" } }),
    },
    // Relative image URLs would load files beside the page: only embedded images stay.
    // Inputs only as the disabled checkboxes of Markdown task lists.
    exclusiveFilter: (frame) =>
      (frame.tag === "img" && !/^data:image\//i.test(frame.attribs.src ?? "")) ||
      (frame.tag === "input" && frame.attribs.type !== "checkbox"),
  });
}

registerSanitizer(sanitizeUntrustedHtml);
