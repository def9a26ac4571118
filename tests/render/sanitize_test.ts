import assert from "node:assert/strict";
import { join } from "node:path";
import type { CodeCell, Notebook } from "../../kernel/notebook.ts";
import {
  newRenderContext,
  renderBundle,
  renderNotebookPage,
  sanitizeUntrustedHtml,
} from "../../kernel/render/mod.ts";

Deno.test("sanitizeUntrustedHtml() removes script tags and their content", () => {
  const out = sanitizeUntrustedHtml(
    '<p>ok</p><script>alert("x")</script><SCRIPT src="e.js"></SCRIPT>',
  );
  assert.equal(out, "<p>ok</p>");
});

Deno.test("sanitizeUntrustedHtml() removes onerror and every other event handler", () => {
  const out = sanitizeUntrustedHtml(
    '<img src="data:image/png;base64,AAAA" onerror="alert(1)"><b onclick="x()" onmouseover="y()">b</b>',
  );
  assert.equal(out, '<img src="data:image/png;base64,AAAA" /><b>b</b>');
  assert.doesNotMatch(out, /on\w+=/i);
});

Deno.test("sanitizeUntrustedHtml() removes javascript: URLs, frames, forms, styles and SVG", () => {
  const out = sanitizeUntrustedHtml(
    `<a href="javascript:alert(1)">a</a><a href="jav&#x09;ascript:alert(1)">b</a>` +
      `<iframe src="https://example.com"></iframe><form action="/x"><input name="q"></form>` +
      `<div style="position:fixed">s</div><style>body{display:none}</style>` +
      `<svg onload="alert(1)"><circle r="2"/></svg><object data="x.swf"></object>`,
  );
  assert.equal(out, "<a>a</a><a>b</a><div>s</div>");
});

Deno.test("sanitizeUntrustedHtml() drops remote and relative images, keeps embedded ones", () => {
  const out = sanitizeUntrustedHtml(
    '<img src="https://tracker.example/p.gif"><img src="../key.png"><img src="data:image/gif;base64,R0lGOD" alt="ok">',
  );
  assert.equal(out, '<img src="data:image/gif;base64,R0lGOD" alt="ok" />');
});

Deno.test("sanitizeUntrustedHtml() keeps formatting and tables but not the page's own classes or ids", () => {
  const out = sanitizeUntrustedHtml(
    '<table class="summary cl-test-passed"><tr><td colspan="2">1</td></tr></table>' +
      '<h2 id="Plotly">t</h2><h2 id="ok">u</h2><p id="x">p</p>',
    { headingIds: new Set(["ok"]) },
  );
  assert.equal(
    out,
    '<table class="summary"><tr><td colspan="2">1</td></tr></table><h2>t</h2><h2 id="ok">u</h2><p>p</p>',
  );
});

Deno.test("sanitised Markdown outputs keep KaTeX math and drop raw HTML attacks", () => {
  const context = newRenderContext({ sanitize: true });
  const html = renderBundle(
    {
      "text/markdown": '$x^2$ <img src=x onerror="alert(1)"> <script>alert(2)</script> **b**',
    },
    {},
    context,
  );
  assert.match(html, /class="katex"/);
  assert.match(html, /<strong>b<\/strong>/);
  assert.doesNotMatch(html, /onerror|<script|src="x"/);
});

Deno.test("untrusted text cannot forge the placeholders that carry trusted fragments", () => {
  const context = newRenderContext({ sanitize: true });
  // A guess at the placeholder format: without the page's random nonce it stays text.
  const html = renderBundle({ "text/html": "CLSAFE0X0X <b>x</b>" }, {}, context);
  assert.equal(html, '<div class="cl-html">CLSAFE0X0X <b>x</b></div>');
});

Deno.test("renderNotebookPage({sanitize: true}) leaves no script or handler from the notebook", async () => {
  const nb: Notebook = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {},
    cells: [
      {
        cell_type: "markdown",
        metadata: {},
        source:
          "# Sub\n\n<script>alert(1)</script> <img src=x onerror=alert(2)>\n\n```ts\nconst a = 1;\n```",
      },
      {
        cell_type: "code",
        metadata: {},
        source: "x",
        execution_count: 1,
        outputs: [
          {
            output_type: "display_data",
            metadata: {},
            data: { "text/html": "<svg onload=alert(3)></svg><b>fine</b>" },
          },
          {
            output_type: "execute_result",
            metadata: {},
            execution_count: 1,
            data: { "application/javascript": "alert(4)", "text/plain": "js" },
          },
        ],
      },
    ],
  };
  const page = await renderNotebookPage(nb, { sanitize: true });
  const body = page.html.slice(page.html.indexOf("<main"), page.html.indexOf("</main>"));
  assert.doesNotMatch(body, /<script|onerror|onload|alert\(/);
  assert.match(body, /<b>fine<\/b>/);
  assert.match(body, /hljs-keyword/, "highlighted code survives sanitising");
  assert.match(body, /<h1 id="sub">/, "the heading keeps its anchor");
  // A Content-Security-Policy lets only the page's own scripts run (a wall behind the sanitiser).
  const policy = page.html.match(/<meta http-equiv="Content-Security-Policy" content="([^"]+)">/);
  assert.ok(policy, "untrusted pages carry a CSP");
  assert.match(policy[1], /default-src 'none'/);
  // Without figures an untrusted page carries no script at all, and forbids every script.
  assert.match(policy[1], /script-src 'none'/);
  assert.doesNotMatch(page.html, /<script/i);
  const plotly = structuredClone(nb);
  (plotly.cells[1] as CodeCell).outputs.push({
    output_type: "display_data",
    metadata: {},
    data: { "application/vnd.plotly.v1+json": { data: [{ y: [1, 2] }], layout: {} } },
  });
  const withFigure = await renderNotebookPage(plotly, { sanitize: true });
  assert.match(withFigure.html, /script-src 'self' file:;/);
  assert.doesNotMatch(withFigure.html, /script-src[^;]*unsafe-inline/);
  const single = await renderNotebookPage(plotly, { sanitize: true, singleFile: true });
  assert.match(single.html, /script-src 'sha256-[A-Za-z0-9+/=]+' 'sha256-[A-Za-z0-9+/=]+';/);
  // The same notebook as a trusted lesson keeps its scripts and has no policy.
  const lesson = await renderNotebookPage(nb);
  assert.match(lesson.html, /<script>alert\(1\)<\/script>/);
  assert.doesNotMatch(lesson.html, /Content-Security-Policy/);
});

Deno.test("local images are inlined only from inside the notebook's folder", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const inner = join(dir, "course");
    await Deno.mkdir(inner);
    const png = Uint8Array.from(
      atob(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==",
      ),
      (c) => c.charCodeAt(0),
    );
    await Deno.writeFile(join(inner, "inside.png"), png);
    await Deno.writeFile(join(dir, "secret.png"), png);
    const nb: Notebook = {
      nbformat: 4,
      nbformat_minor: 5,
      metadata: {},
      cells: [{
        cell_type: "markdown",
        metadata: {},
        source: "![in](inside.png) ![out](../secret.png) ![gone](missing.png)",
      }],
    };
    const page = await renderNotebookPage(nb, { path: join(inner, "n.ipynb") });
    assert.match(page.html, /<img src="data:image\/png;base64,iVBOR[^"]*" alt="in">/);
    assert.match(page.html, /<img src="\.\.\/secret\.png" alt="out">/);
    assert.deepEqual(page.warnings.map((w) => w.replace(/^n\.ipynb cell 1: /, "")), [
      "image ../secret.png is outside the notebook's folder; not included",
      "image not found: missing.png",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
