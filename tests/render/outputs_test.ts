import assert from "node:assert/strict";
import type { CodeCell, Notebook, Output } from "../../kernel/notebook.ts";
import {
  ansiToHtml,
  cellDuration,
  chooseMime,
  collapseCarriageReturns,
  formatDuration,
  newRenderContext,
  PLOTLY_MIME,
  renderBundle,
  renderCell,
  renderNotebookPage,
  renderOutput,
} from "../../kernel/render/mod.ts";

const PNG_1X1 =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

function trusted() {
  return newRenderContext({ sanitize: false, where: "t.ipynb cell 1" });
}

function codeCell(outputs: Output[], extra: Partial<CodeCell> = {}): CodeCell {
  return {
    cell_type: "code",
    metadata: {},
    source: "const x = 1;",
    execution_count: 3,
    outputs,
    ...extra,
  };
}

Deno.test("chooseMime() prefers Plotly, then HTML, Markdown, SVG, images, LaTeX, JSON, text", () => {
  const all: Record<string, unknown> = {
    [PLOTLY_MIME]: { data: [] },
    "text/html": "<b>x</b>",
    "text/markdown": "**x**",
    "image/svg+xml": "<svg/>",
    "image/png": PNG_1X1,
    "text/latex": "$x$",
    "application/json": {},
    "text/plain": "x",
  };
  const order = [];
  const bundle = { ...all };
  while (Object.keys(bundle).length > 0) {
    const mime = chooseMime(bundle, { sanitize: false })!;
    order.push(mime);
    delete bundle[mime];
  }
  assert.deepEqual(order, [
    PLOTLY_MIME,
    "text/html",
    "text/markdown",
    "image/svg+xml",
    "image/png",
    "text/latex",
    "application/json",
    "text/plain",
  ]);
});

Deno.test("chooseMime() never picks application/javascript for untrusted pages", () => {
  const bundle = { "application/javascript": "alert(1)", "text/plain": "js" };
  assert.equal(chooseMime(bundle, { sanitize: false }), "application/javascript");
  assert.equal(chooseMime(bundle, { sanitize: true }), "text/plain");
});

Deno.test("renderBundle() embeds a Plotly figure as JSON that cannot close its script element", () => {
  const context = trusted();
  const html = renderBundle(
    {
      [PLOTLY_MIME]: {
        data: [{ y: [1, 2], name: "</script><script>alert(1)</script>" }],
        layout: { height: 300 },
      },
      "image/png": PNG_1X1,
      "text/plain": "<Figure>",
    },
    {},
    context,
  );
  assert.ok(context.usesPlotly);
  const json = html.match(/<script type="application\/json" id="(cl-plot-1)">(.*?)<\/script>/s);
  assert.ok(json, html);
  assert.match(html, /class="cl-plotly" data-figure="cl-plot-1" style="min-height:300px"/);
  assert.equal(JSON.parse(json[2]).data[0].name, "</script><script>alert(1)</script>");
  // The static fallback shows until plotly.js draws.
  assert.match(html, /<img class="cl-image" src="data:image\/png;base64,/);
});

Deno.test("renderBundle() falls back when Plotly data is not a figure, with a warning", () => {
  const context = trusted();
  const html = renderBundle({ [PLOTLY_MIME]: "not json", "text/plain": "fallback" }, {}, context);
  assert.match(html, /<pre class="cl-text">fallback<\/pre>/);
  assert.equal(context.usesPlotly, false);
  assert.match(context.warnings[0], /t\.ipynb cell 1: .*not a figure/);
});

Deno.test("renderBundle() shows images with their metadata size and text/plain as alt text", () => {
  const html = renderBundle(
    { "image/png": PNG_1X1 + "\n", "text/plain": "<Image 1×1>" },
    { "image/png": { width: 40, height: 20 } },
    trusted(),
  );
  assert.equal(
    html,
    `<img class="cl-image" src="data:image/png;base64,${PNG_1X1}" alt="&lt;Image 1×1&gt;" width="40" height="20">`,
  );
});

Deno.test("renderBundle() refuses image data that is not base64", () => {
  const context = trusted();
  const html = renderBundle({ "image/png": '" onerror="alert(1)' }, {}, context);
  assert.doesNotMatch(html, /onerror="alert/);
  assert.match(context.warnings[0], /not base64/);
});

Deno.test("renderBundle() inlines SVG on trusted pages and shows it as an image when sanitising", () => {
  const svg = '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><circle r="3"/></svg>';
  assert.match(renderBundle({ "image/svg+xml": svg }, {}, trusted()), /^<div class="cl-svg"><svg /);
  const untrusted = renderBundle(
    { "image/svg+xml": svg },
    {},
    newRenderContext({ sanitize: true }),
  );
  assert.match(untrusted, /^<img class="cl-image" src="data:image\/svg\+xml;base64,/);
  assert.doesNotMatch(untrusted, /<svg/);
});

Deno.test("renderBundle() renders Markdown, LaTeX and JSON outputs", () => {
  const context = trusted();
  const md = renderBundle({ "text/markdown": "**bold** and $\\alpha$" }, {}, context);
  assert.match(md, /<strong>bold<\/strong>/);
  assert.match(md, /class="katex"/);
  const latex = renderBundle({ "text/latex": "$$\\frac{a}{b}$$" }, {}, context);
  assert.match(latex, /class="katex-display"/);
  const json = renderBundle({ "application/json": { a: [1] } }, {}, context);
  assert.match(json, /<pre class="cl-json"><code class="hljs language-json">/);
  assert.match(json, /hljs-attr/);
  // Headings inside outputs are not part of the page's table of contents.
  renderBundle({ "text/markdown": "## Inside an output" }, {}, context);
  assert.deepEqual(context.env.headings, []);
});

Deno.test("renderBundle() says what it cannot show instead of dropping the output", () => {
  const html = renderBundle({ "application/x-unknown": 1 }, {}, trusted());
  assert.match(html, /Output not shown: .*application\/x-unknown/);
});

Deno.test("text/plain and streams turn ANSI colours into classes and escape HTML", () => {
  const html = renderOutput(
    { output_type: "stream", name: "stderr", text: "\x1b[31merror\x1b[0m <b>&</b>\n" },
    trusted(),
  );
  assert.equal(
    html,
    '<pre class="cl-stream cl-stderr"><span class="ansi-red-fg">error</span> &lt;b&gt;&amp;&lt;/b&gt;\n</pre>',
  );
  assert.equal(
    ansiToHtml("\x1b[1;32mok\x1b[0m"),
    '<span style="font-weight:bold" class="ansi-green-fg">ok</span>',
  );
});

Deno.test("progress bars rewritten with \\r show only their last state", () => {
  assert.equal(collapseCarriageReturns("10%\r50%\r100%\ndone\r\n"), "100%\ndone\n");
  assert.equal(collapseCarriageReturns("abc\x08\x08x"), "ax");
});

Deno.test("errors render as errors, with the traceback or else ename: evalue", () => {
  const withTraceback = renderOutput({
    output_type: "error",
    ename: "RangeError",
    evalue: "bad",
    traceback: ["\x1b[31mRangeError\x1b[0m: bad", "    at <anonymous>:2:3"],
  }, trusted());
  assert.match(withTraceback, /^<div class="cl-error" role="alert"><pre>/);
  assert.match(
    withTraceback,
    /<span class="ansi-red-fg">RangeError<\/span>: bad\n {4}at &lt;anonymous&gt;:2:3/,
  );
  const bare = renderOutput(
    { output_type: "error", ename: "TypeError", evalue: "x is <undefined>", traceback: [] },
    trusted(),
  );
  assert.match(bare, /TypeError: x is &lt;undefined&gt;/);
});

Deno.test("consecutive stream outputs of the same name are merged", () => {
  const html = renderCell(
    codeCell([
      { output_type: "stream", name: "stdout", text: "a\n" },
      { output_type: "stream", name: "stdout", text: "b\n" },
      { output_type: "stream", name: "stderr", text: "c\n" },
    ]),
    0,
    trusted(),
  );
  assert.equal(html.match(/cl-stdout/g)?.length, 1);
  assert.match(html, /a\nb\n/);
  assert.match(html, /cl-stderr">c/);
});

Deno.test("a code cell shows its execution count and time from metadata.execution", () => {
  const cell = codeCell([], {
    metadata: {
      execution: {
        "iopub.execute_input": "2025-01-01T10:00:00.000Z",
        "shell.execute_reply": "2025-01-01T10:00:02.340Z",
      },
    },
  });
  assert.equal(cellDuration(cell), 2.34);
  const html = renderCell(cell, 4, trusted());
  assert.match(html, /<section class="cl-cell-wrap" id="cell-5">/);
  assert.match(html, /<span class="cl-count" title="execution count">\[3\]<\/span>/);
  assert.match(html, /<span class="cl-time" title="execution time">2\.3 s<\/span>/);
  assert.equal(formatDuration(0.0042), "4 ms");
  assert.equal(formatDuration(75), "1 min 15 s");
});

Deno.test("cells that did not run, timed out or were skipped say so", () => {
  const html = renderCell(codeCell([], { execution_count: null }), 0, trusted(), {
    executed: true,
  });
  assert.match(html, /<span class="cl-status">not run<\/span>/);
  const skipped = renderCell(
    codeCell([], { execution_count: null, metadata: { tags: ["skip-execution"] } }),
    0,
    trusted(),
    { executed: true },
  );
  assert.match(skipped, /skipped/);
  const timedOut = renderCell(
    codeCell([], { metadata: { convlab: { status: "timeout" } } }),
    0,
    trusted(),
    { executed: true },
  );
  assert.match(timedOut, /<span class="cl-status">timed out<\/span>/);
  const fine = renderCell(codeCell([], { metadata: { convlab: { status: "ok" } } }), 0, trusted(), {
    executed: true,
  });
  assert.doesNotMatch(fine, /cl-status/);
});

Deno.test("cell tags remove-input, remove-output, remove-cell and hide-input work as in Jupyter Book", () => {
  const out: Output[] = [{ output_type: "stream", name: "stdout", text: "OUTPUT\n" }];
  const tagged = (tag: string) =>
    renderCell(codeCell(out, { source: "SOURCE", metadata: { tags: [tag] } }), 0, trusted());
  assert.doesNotMatch(tagged("remove-input"), /SOURCE/);
  assert.match(tagged("remove-input"), /OUTPUT/);
  assert.match(tagged("remove-output"), /SOURCE/);
  assert.doesNotMatch(tagged("remove-output"), /OUTPUT/);
  assert.equal(tagged("remove-cell"), "");
  const hidden = tagged("hide-input");
  assert.match(
    hidden,
    /<details class="cl-input cl-hidden-input"><summary>Show code<\/summary>.*SOURCE/s,
  );
  assert.match(hidden, /OUTPUT/);
  assert.match(tagged("hide-output"), /<details class="cl-outputs"><summary>Show output/);
});

Deno.test("renderNotebookPage() builds a ToC with unique anchors from the Markdown headings", async () => {
  const nb: Notebook = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {},
    cells: [
      {
        cell_type: "markdown",
        metadata: {},
        source: "# Lesson\n\nIntro text.\n\n## Padding (패딩)",
      },
      { cell_type: "markdown", metadata: {}, source: "### Example\n\n### Example\n\n## Stride" },
    ],
  };
  const page = await renderNotebookPage(nb, { path: "lesson.ipynb" });
  assert.equal(page.title, "Lesson");
  assert.equal(page.summary, "Intro text.");
  assert.deepEqual(page.headings.map((h) => h.id), [
    "lesson",
    "padding-패딩",
    "example",
    "example-1",
    "stride",
  ]);
  const toc = page.html.match(/<aside class="cl-toc">(.*?)<\/aside>/s)?.[1] ?? "";
  for (const id of ["padding-패딩", "example", "example-1", "stride"]) {
    assert.ok(toc.includes(`href="#${id}"`), `ToC links #${id}`);
    assert.ok(page.html.includes(`id="${id}"`), `heading #${id} exists`);
  }
  assert.ok(!toc.includes('href="#lesson"'), "the title is not a ToC entry");
});

Deno.test("renderNotebookPage() links notebooks' pages and reports math errors by cell", async () => {
  const nb: Notebook = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {},
    cells: [
      { cell_type: "markdown", metadata: {}, source: "# A\n\nSee [next](02_b.ipynb#x)." },
      { cell_type: "markdown", metadata: {}, source: "Bad: $\\frac{1}$" },
    ],
  };
  const page = await renderNotebookPage(nb, { path: "01_a.ipynb" });
  assert.match(page.html, /<a href="02_b\.html#x">next<\/a>/);
  assert.equal(page.warnings.length, 1);
  assert.match(page.warnings[0], /^01_a\.ipynb cell 2: math error/);
  assert.match(page.html, /class="cl-math-error"/);
});
