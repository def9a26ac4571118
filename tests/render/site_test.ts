import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Notebook, writeNotebook } from "../../kernel/notebook.ts";
import { findNotebooks, renderSite, SiteInputError } from "../../kernel/render/mod.ts";
import { main } from "../../kernel/render/cli.ts";
import { processesIn } from "../kernel/_helpers.ts";

const fixtures = fileURLToPath(new URL("../fixtures/render/", import.meta.url));

function notebook(title: string, summary: string, extra = ""): Notebook {
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {},
    cells: [{
      cell_type: "markdown",
      metadata: {},
      source: `# ${title}\n\n${summary}\n\n${extra}`,
    }],
  };
}

async function course(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await Deno.makeTempDir({ prefix: "convlab-site-" });
  const lessons = join(dir, "lessons");
  await Deno.mkdir(join(lessons, "assignments"), { recursive: true });
  await writeNotebook(join(lessons, "10_transfer.ipynb"), notebook("10 — Transfer", "Reuse."));
  await writeNotebook(join(lessons, "2_lenet.ipynb"), notebook("2 — LeNet", "Digits."));
  await writeNotebook(join(lessons, "1_conv.ipynb"), notebook("1 — Convolution", "Kernels $k$."));
  await writeNotebook(join(lessons, "1_conv.out.ipynb"), notebook("executed copy", "skip me"));
  await writeNotebook(join(lessons, "assignments", "a1.ipynb"), notebook("Solutions", "secret"));
  return { dir, cleanup: () => Deno.remove(dir, { recursive: true }) };
}

Deno.test("findNotebooks() takes a folder's own notebooks in natural order, skipping executed copies and subfolders", async () => {
  const c = await course();
  try {
    const found = await findNotebooks([join(c.dir, "lessons")]);
    assert.deepEqual(found.map((p) => p.slice(c.dir.length + 1)), [
      "lessons/1_conv.ipynb",
      "lessons/2_lenet.ipynb",
      "lessons/10_transfer.ipynb",
    ]);
    await assert.rejects(() => findNotebooks([join(c.dir, "nope")]), SiteInputError);
    await assert.rejects(
      () => findNotebooks([join(c.dir, "lessons", "assignments", "none")]),
      /no such file/,
    );
  } finally {
    await c.cleanup();
  }
});

Deno.test("renderSite() writes an index listing the lessons in order with titles and summaries, and prev/next links", async () => {
  const c = await course();
  try {
    const site = await renderSite([join(c.dir, "lessons")], {
      outDir: join(c.dir, "site"),
      execute: false,
      notice: "Executed with smoke settings.",
    });
    assert.deepEqual(site.pages.map((p) => p.title), [
      "1 — Convolution",
      "2 — LeNet",
      "10 — Transfer",
    ]);
    const index = await Deno.readTextFile(site.index);
    const order = ["1_conv.html", "2_lenet.html", "10_transfer.html"].map((h) =>
      index.indexOf(`href="${h}"`)
    );
    assert.ok(
      order.every((i) => i > 0) && order[0] < order[1] && order[1] < order[2],
      "index in order",
    );
    assert.match(index, /<strong>2 — LeNet<\/strong><p>Digits\.<\/p>/);
    assert.doesNotMatch(index, /Solutions|executed copy/);
    assert.match(index, /<p class="cl-notice" role="note">Executed with smoke settings\.<\/p>/);
    const middle = await Deno.readTextFile(join(c.dir, "site", "2_lenet.html"));
    assert.match(middle, /<p class="cl-notice" role="note">Executed with smoke settings\.<\/p>/);
    assert.match(middle, /<a class="cl-prev" rel="prev" href="1_conv\.html">/);
    assert.match(middle, /<a class="cl-next" rel="next" href="10_transfer\.html">/);
    assert.match(middle, /<a href="2_lenet\.html" aria-current="page">2 — LeNet<\/a>/);
    // Readers can download each notebook as its author wrote it.
    assert.match(middle, /<a class="cl-download" href="notebooks\/2_lenet\.ipynb" download>/);
    assert.deepEqual(
      await Deno.readFile(join(c.dir, "site", "notebooks", "2_lenet.ipynb")),
      await Deno.readFile(join(c.dir, "lessons", "2_lenet.ipynb")),
    );
    // KaTeX is copied only because a page has math; plotly.js only when a page has a figure.
    assert.ok(site.assets.includes("assets/katex/katex.min.css"));
    assert.ok(!site.assets.includes("assets/plotly.js"));
  } finally {
    await c.cleanup();
  }
});

Deno.test("renderSite() removes the pages of lessons that are gone, and nothing else", async () => {
  const c = await course();
  try {
    const options = { outDir: join(c.dir, "site"), execute: false } as const;
    await renderSite([join(c.dir, "lessons")], options);
    await Deno.writeTextFile(join(c.dir, "site", "about.html"), "<p>the author's own page</p>");
    await Deno.rename(
      join(c.dir, "lessons", "2_lenet.ipynb"),
      join(c.dir, "lessons", "2_cnn.ipynb"),
    );
    const site = await renderSite([join(c.dir, "lessons")], options);
    assert.deepEqual(site.removed.map((p) => p.slice(c.dir.length + 1)).sort(), [
      "site/2_lenet.html",
      "site/notebooks/2_lenet.ipynb",
    ]);
    const left = [...Deno.readDirSync(join(c.dir, "site"))].map((e) => e.name).sort();
    assert.deepEqual(left, [
      "10_transfer.html",
      "1_conv.html",
      "2_cnn.html",
      "about.html",
      "assets",
      "index.html",
      "notebooks",
    ]);
  } finally {
    await c.cleanup();
  }
});

Deno.test("renderSite() refuses two notebooks that would write the same page", async () => {
  const c = await course();
  try {
    await Deno.mkdir(join(c.dir, "more"));
    await writeNotebook(join(c.dir, "more", "2_lenet.ipynb"), notebook("Other", "x"));
    await assert.rejects(
      () =>
        renderSite([join(c.dir, "lessons"), join(c.dir, "more")], {
          outDir: join(c.dir, "s"),
          execute: false,
        }),
      /would both be written to 2_lenet\.html/,
    );
  } finally {
    await c.cleanup();
  }
});

Deno.test("--single-file pages refer to no asset file", async () => {
  const c = await course();
  try {
    const site = await renderSite([join(fixtures, "showcase.ipynb")], {
      outDir: join(c.dir, "single"),
      execute: false,
      singleFile: true,
    });
    const html = await Deno.readTextFile(site.pages[0].output);
    assert.doesNotMatch(html, /(?:src|href)="assets\//);
    assert.match(html, /url\(data:font\/woff2;base64,/, "KaTeX fonts inlined");
    assert.match(html, /<script>[^]*Plotly/, "plotly.js inlined");
    assert.equal((html.match(/<\/script>/g) ?? []).length, (html.match(/<script/g) ?? []).length);
  } finally {
    await c.cleanup();
  }
});

Deno.test("deno task render: clear errors and exit status for bad input", async () => {
  const c = await course();
  const errors: string[] = [];
  const originalError = console.error;
  console.error = (...args: unknown[]) => errors.push(args.join(" "));
  try {
    assert.equal(await main([]), 2);
    assert.match(errors.pop()!, /No notebooks given/);
    assert.equal(await main([join(c.dir, "missing.ipynb"), "--out", join(c.dir, "o")]), 2);
    assert.match(errors.pop()!, /missing\.ipynb: no such file or folder/);
    await Deno.writeTextFile(join(c.dir, "broken.ipynb"), '{"nbformat": 4, "cells": [');
    assert.equal(await main([join(c.dir, "broken.ipynb"), "--out", join(c.dir, "o")]), 2);
    assert.match(errors.pop()!, /broken\.ipynb: line 1 column \d+: not valid JSON/);
    assert.equal(await main([join(c.dir, "lessons"), "-p", "novalue", "--no-execute"]), 2);
    assert.match(errors.pop()!, /-p novalue: expected name=value/);
    assert.equal(await main([join(c.dir, "lessons"), "--timeout", "abc"]), 2);
    assert.match(errors.pop()!, /--timeout abc: expected a positive number of seconds/);
  } finally {
    console.error = originalError;
    await c.cleanup();
  }
});

Deno.test("deno task render takes paths relative to the folder the task was started in", async () => {
  const c = await course();
  try {
    const root = fileURLToPath(new URL("../../", import.meta.url));
    // `deno task` runs the command in the project root and says where it was started in INIT_CWD.
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "kernel/render/cli.ts", "lessons/1_conv.ipynb", "--out", "web"],
      cwd: root,
      env: { INIT_CWD: c.dir },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    await Deno.stat(join(c.dir, "web", "1_conv.html"));
  } finally {
    await c.cleanup();
  }
});

Deno.test("deno task render: an --out that is a file is refused before anything runs", async () => {
  const c = await course();
  const errors: string[] = [];
  const originalError = console.error;
  console.error = (...args: unknown[]) => errors.push(args.join(" "));
  try {
    const file = join(c.dir, "taken");
    await Deno.writeTextFile(file, "not a folder");
    assert.equal(await main([join(c.dir, "lessons"), "--out", file, "--no-execute"]), 2);
    assert.match(errors.pop()!, /taken: is a file; --out needs a folder for the site/);
    assert.equal(await Deno.readTextFile(file), "not a folder");
  } finally {
    console.error = originalError;
    await c.cleanup();
  }
});

Deno.test("renderSite() links pages whose file names hold #, ? or spaces so the links resolve", async () => {
  const c = await course();
  try {
    const lessons = join(c.dir, "odd");
    await Deno.mkdir(lessons);
    await writeNotebook(join(lessons, "1 #intro?.ipynb"), notebook("One", "First."));
    await writeNotebook(join(lessons, "2 100%.ipynb"), notebook("Two", "Second."));
    const site = await renderSite([lessons], { outDir: join(c.dir, "web"), execute: false });
    const index = await Deno.readTextFile(site.index);
    const page = await Deno.readTextFile(site.pages[0].output);
    for (const html of [index, page]) {
      const hrefs = [...html.matchAll(/href="([^"#][^"]*\.(?:html|ipynb))"/g)].map((m) => m[1]);
      assert.ok(hrefs.length >= 2, html);
      for (const href of hrefs) {
        const target = new URL(href.replaceAll("&amp;", "&"), `file://${join(c.dir, "web")}/`);
        await Deno.stat(target); // throws if the link does not resolve to a file
      }
    }
  } finally {
    await c.cleanup();
  }
});

Deno.test("deno task render stopped by SIGTERM while executing leaves no kernel behind", async () => {
  const c = await course();
  try {
    const busy = join(c.dir, "busy.ipynb");
    await writeNotebook(busy, {
      nbformat: 4,
      nbformat_minor: 5,
      metadata: {},
      cells: [{
        cell_type: "code",
        metadata: {},
        source: "while (true) {}",
        outputs: [],
        execution_count: null,
      }],
    });
    const root = fileURLToPath(new URL("../../", import.meta.url));
    const host = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "kernel/render/cli.ts", busy, "--out", join(c.dir, "web"), "--no-cache"],
      cwd: root,
      stdout: "null",
      stderr: "null",
    }).spawn();
    const kernels = () => processesIn(c.dir);
    const deadline = performance.now() + 30_000;
    while (kernels().length === 0 && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(kernels().length, 1, "the kernel never started");
    host.kill("SIGTERM");
    assert.equal((await host.status).code, 143);
    const gone = performance.now() + 5_000; // SIGKILL is delivered, not waited for
    while (kernels().length > 0 && performance.now() < gone) {
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepEqual(kernels(), [], "a kernel outlived the render");
  } finally {
    for (const pid of processesIn(c.dir)) Deno.kill(pid, "SIGKILL");
    await c.cleanup();
  }
});

Deno.test("renderSite() shows a notice's `code` as code on every page and the index", async () => {
  const c = await course();
  try {
    const site = await renderSite([join(c.dir, "lessons")], {
      outDir: join(c.dir, "web"),
      execute: false,
      notice: "Quick run <smoke>: run `deno task course --full` for the rest.",
    });
    for (const file of [site.index, site.pages[0].output]) {
      const html = await Deno.readTextFile(file);
      assert.match(
        html,
        /<p class="cl-notice" role="note">Quick run &lt;smoke&gt;: run <code>deno task course --full<\/code> for the rest\.<\/p>/,
      );
    }
  } finally {
    await c.cleanup();
  }
});
