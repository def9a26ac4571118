import assert from "node:assert/strict";
import { join } from "node:path";
import {
  type CodeCell,
  type Notebook,
  readNotebook,
  serializeNotebook,
  writeNotebook,
} from "../../kernel/notebook.ts";
import {
  applyCachedOutputs,
  ExecutionCache,
  executionCacheKey,
  type NotebookExecutor,
  renderSite,
} from "../../kernel/render/mod.ts";

function lesson(): Notebook {
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {},
    cells: [
      { cell_type: "markdown", id: "m1", metadata: {}, source: "# Lesson\n\nProse." },
      {
        cell_type: "code",
        id: "p1",
        metadata: { tags: ["parameters"] },
        source: "let epochs = 10;",
        execution_count: null,
        outputs: [],
      },
      {
        cell_type: "code",
        id: "c1",
        metadata: {},
        source: "console.log(epochs)",
        execution_count: null,
        outputs: [],
      },
    ],
  };
}

/** A project with deno.json, lib/ and lessons/, like Convlab's own layout. */
async function project(): Promise<{ root: string; path: string; cleanup: () => Promise<void> }> {
  const root = await Deno.makeTempDir({ prefix: "convlab-cache-" });
  await Deno.writeTextFile(join(root, "deno.json"), '{ "imports": {} }\n');
  await Deno.mkdir(join(root, "lib"));
  await Deno.writeTextFile(join(root, "lib", "mod.ts"), "export const x = 1;\n");
  await Deno.mkdir(join(root, "lessons"));
  const path = join(root, "lessons", "01_lesson.ipynb");
  await writeNotebook(path, lesson());
  return { root, path, cleanup: () => Deno.remove(root, { recursive: true }) };
}

/** An executor that records its calls and "runs" each code cell by echoing its source. */
function recordingExecutor(calls: string[]): NotebookExecutor {
  return (nb, request) => {
    calls.push(request.path);
    let count = 0;
    const cells = nb.cells.map((cell) =>
      cell.cell_type !== "code" ? cell : {
        ...cell,
        execution_count: ++count,
        outputs: [{
          output_type: "stream" as const,
          name: "stdout" as const,
          text: `ran ${cell.source}\n`,
        }],
        metadata: {
          ...cell.metadata,
          execution: { "iopub.execute_input": "2025-01-01T00:00:00Z" },
        },
      }
    );
    return Promise.resolve({ notebook: { ...nb, cells }, ok: true });
  };
}

Deno.test("cache key: changing a markdown cell or a display tag does not invalidate", async () => {
  const p = await project();
  try {
    const base = await executionCacheKey(lesson(), { path: p.path });
    const prose = lesson();
    prose.cells[0].source = "# Lesson, rewritten\n\nBetter prose.";
    prose.cells.push({ cell_type: "markdown", metadata: {}, source: "## New section" });
    assert.equal(await executionCacheKey(prose, { path: p.path }), base);
    const tagged = lesson();
    tagged.cells[2].metadata.tags = ["hide-input"];
    (tagged.cells[2] as CodeCell).outputs = [{
      output_type: "stream",
      name: "stdout",
      text: "old\n",
    }];
    (tagged.cells[2] as CodeCell).execution_count = 7;
    assert.equal(await executionCacheKey(tagged, { path: p.path }), base);
  } finally {
    await p.cleanup();
  }
});

Deno.test("cache key: changing a code cell, parameters, an execution tag or --allow-errors invalidates", async () => {
  const p = await project();
  try {
    const base = await executionCacheKey(lesson(), { path: p.path });
    const code = lesson();
    code.cells[2].source = "console.log(epochs * 2)";
    assert.notEqual(await executionCacheKey(code, { path: p.path }), base);
    assert.notEqual(
      await executionCacheKey(lesson(), { path: p.path, parameters: { epochs: 1 } }),
      base,
    );
    // Parameter order does not matter; values do.
    assert.equal(
      await executionCacheKey(lesson(), { path: p.path, parameters: { a: 1, b: 2 } }),
      await executionCacheKey(lesson(), { path: p.path, parameters: { b: 2, a: 1 } }),
    );
    assert.notEqual(await executionCacheKey(lesson(), { path: p.path, allowErrors: true }), base);
    const skip = lesson();
    skip.cells[2].metadata.tags = ["skip-execution"];
    assert.notEqual(await executionCacheKey(skip, { path: p.path }), base);
  } finally {
    await p.cleanup();
  }
});

Deno.test("cache key: changing lib, deno.json or a source file beside the notebook invalidates", async () => {
  const p = await project();
  try {
    const base = await executionCacheKey(lesson(), { path: p.path });
    await Deno.writeTextFile(join(p.root, "lib", "mod.ts"), "export const x = 2;\n");
    const afterLib = await executionCacheKey(lesson(), { path: p.path });
    assert.notEqual(afterLib, base);
    await Deno.writeTextFile(join(p.root, "lib", "new_helper.ts"), "export {};\n");
    const afterNewFile = await executionCacheKey(lesson(), { path: p.path });
    assert.notEqual(afterNewFile, afterLib);
    await Deno.writeTextFile(join(p.root, "deno.json"), '{ "imports": { "x": "./x.ts" } }\n');
    const afterConfig = await executionCacheKey(lesson(), { path: p.path });
    assert.notEqual(afterConfig, afterNewFile);
    await Deno.writeTextFile(join(p.root, "lessons", "helpers.ts"), "export const h = 1;\n");
    assert.notEqual(await executionCacheKey(lesson(), { path: p.path }), afterConfig);
  } finally {
    await p.cleanup();
  }
});

Deno.test("cache key: file times alone do not invalidate", async () => {
  const p = await project();
  try {
    const base = await executionCacheKey(lesson(), { path: p.path });
    const later = new Date(Date.now() + 3600_000);
    await Deno.utime(join(p.root, "lib", "mod.ts"), later, later);
    await Deno.utime(p.path, later, later);
    assert.equal(await executionCacheKey(lesson(), { path: p.path }), base);
  } finally {
    await p.cleanup();
  }
});

Deno.test("applyCachedOutputs() keeps today's markdown and carries injected-parameters cells", () => {
  const executed = lesson();
  executed.cells.splice(2, 0, {
    cell_type: "code",
    id: "inj",
    metadata: { tags: ["injected-parameters"] },
    source: "epochs = 1;",
    execution_count: 2,
    outputs: [],
  });
  executed.cells.forEach((c, i) => {
    if (c.cell_type === "code") {
      c.execution_count = i;
      c.outputs = [{ output_type: "stream", name: "stdout", text: `out ${i}\n` }];
    }
  });
  const current = lesson();
  current.cells[0].source = "# Edited title";
  const merged = applyCachedOutputs(current, executed);
  assert.deepEqual(merged.cells.map((c) => c.id), ["m1", "p1", "inj", "c1"]);
  assert.equal(merged.cells[0].source, "# Edited title");
  assert.deepEqual((merged.cells[3] as CodeCell).outputs, [
    { output_type: "stream", name: "stdout", text: "out 3\n" },
  ]);
  const changed = lesson();
  changed.cells[2].source = "other";
  assert.throws(() => applyCachedOutputs(changed, executed), /code cells differ/);
});

Deno.test("renderSite() executes once; re-rendering an unchanged or prose-edited course runs nothing", async () => {
  const p = await project();
  const calls: string[] = [];
  try {
    const options = {
      outDir: join(p.root, "site"),
      executor: recordingExecutor(calls),
      cacheDir: join(p.root, ".cache", "render"),
    };
    const first = await renderSite([join(p.root, "lessons")], options);
    assert.equal(calls.length, 1);
    assert.equal(first.pages[0].execution, "executed");
    assert.match(await Deno.readTextFile(first.pages[0].output), /ran console\.log\(epochs\)/);

    const second = await renderSite([join(p.root, "lessons")], options);
    assert.equal(calls.length, 1, "unchanged: no execution");
    assert.equal(second.pages[0].execution, "cache");

    const edited = await readNotebook(p.path);
    edited.cells[0].source = "# Lesson\n\nNew prose that the page must show.";
    await writeNotebook(p.path, edited);
    const third = await renderSite([join(p.root, "lessons")], options);
    assert.equal(calls.length, 1, "markdown edit: no execution");
    const html = await Deno.readTextFile(third.pages[0].output);
    assert.match(html, /New prose that the page must show/);
    assert.match(html, /ran console\.log\(epochs\)/);

    edited.cells[2].source = "console.log(epochs + 1)";
    await writeNotebook(p.path, edited);
    await renderSite([join(p.root, "lessons")], options);
    assert.equal(calls.length, 2, "code edit: executed again");

    await Deno.writeTextFile(join(p.root, "lib", "mod.ts"), "export const x = 3;\n");
    await renderSite([join(p.root, "lessons")], options);
    assert.equal(calls.length, 3, "lib edit: executed again");

    await renderSite([join(p.root, "lessons")], { ...options, force: true });
    assert.equal(calls.length, 4, "--force: executed again");
  } finally {
    await p.cleanup();
  }
});

Deno.test("renderSite() never writes to the input notebook and does not cache failed runs", async () => {
  const p = await project();
  try {
    const before = await Deno.readFile(p.path);
    let runs = 0;
    const failing: NotebookExecutor = (nb) => {
      runs++;
      return Promise.resolve({ notebook: nb, ok: false });
    };
    const options = {
      outDir: join(p.root, "site"),
      executor: failing,
      cacheDir: join(p.root, ".cache", "render"),
    };
    const site = await renderSite([p.path], options);
    assert.equal(site.ok, false);
    assert.equal(site.pages[0].execution, "failed");
    await renderSite([p.path], options);
    assert.equal(runs, 2, "a failed run is not cached");
    assert.deepEqual(await Deno.readFile(p.path), before);
  } finally {
    await p.cleanup();
  }
});

Deno.test("ExecutionCache treats a damaged entry as a miss", async () => {
  const p = await project();
  try {
    const cache = new ExecutionCache({ root: p.root });
    const nb = lesson();
    const key = await cache.key(nb, { path: p.path });
    assert.equal(await cache.get(key, nb), undefined);
    await cache.put(key, nb, p.path);
    assert.ok(await cache.get(key, nb));
    await Deno.writeTextFile(join(cache.dir, `${key}.json`), "{ broken");
    assert.equal(await cache.get(key, nb), undefined);
    assert.ok(serializeNotebook(nb));
  } finally {
    await p.cleanup();
  }
});

Deno.test("renderSite() never executes untrusted (sanitised) notebooks", async () => {
  const p = await project();
  const calls: string[] = [];
  try {
    const site = await renderSite([p.path], {
      outDir: join(p.root, "site"),
      sanitize: true,
      executor: recordingExecutor(calls),
    });
    assert.equal(site.pages[0].execution, "stored");
    assert.deepEqual(calls, []);
    await assert.rejects(
      () =>
        renderSite([p.path], {
          outDir: join(p.root, "site"),
          sanitize: true,
          execute: true,
          executor: recordingExecutor(calls),
        }),
      /never executed here/,
    );
    assert.deepEqual(calls, []);
  } finally {
    await p.cleanup();
  }
});
