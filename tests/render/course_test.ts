/**
 * `deno task course` end to end with the real kernel: lessons are executed (smoke parameters
 * unless --full), cached, written to the build folder and rendered as the site.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Notebook, readNotebook, writeNotebook } from "../../kernel/notebook.ts";
import { runCourse } from "../../kernel/course.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));

function lesson(): Notebook {
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { convlab: { smoke: { epochs: 1 } } },
    cells: [
      { cell_type: "markdown", metadata: {}, source: "# 01 — Epochs\n\nHow many epochs ran." },
      {
        cell_type: "code",
        metadata: { tags: ["parameters"] },
        source: "let epochs = 10;",
        execution_count: null,
        outputs: [],
      },
      {
        cell_type: "code",
        metadata: {},
        source: 'import * as cl from "convlab";\nconsole.log(`epochs=${epochs} v${cl.VERSION}`);',
        execution_count: null,
        outputs: [],
      },
    ],
  };
}

function broken(): Notebook {
  const code = (source: string) => ({
    cell_type: "code" as const,
    metadata: {},
    source,
    execution_count: null,
    outputs: [],
  });
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {},
    cells: [
      { cell_type: "markdown", metadata: {}, source: "# 02 — Broken" },
      code('console.log("before");'),
      code('throw new RangeError("Cannot resize image: width must be positive, got -3");'),
      code('console.log("after");'),
    ],
  };
}

Deno.test({
  name: "deno task course executes lessons with smoke parameters, caches them and renders the site",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    // The lesson lives inside the project (its deno.json maps "convlab"), in a git-ignored folder.
    await Deno.mkdir(join(root, ".cache"), { recursive: true });
    const dir = await Deno.makeTempDir({ dir: join(root, ".cache"), prefix: "course-test-" });
    try {
      const lessons = join(dir, "lessons");
      await Deno.mkdir(lessons);
      const path = join(lessons, "01_epochs.ipynb");
      await writeNotebook(path, lesson());
      const before = await Deno.readFile(path);
      const options = {
        inputs: [lessons],
        siteDir: join(dir, "site"),
        outDir: join(dir, "build"),
        cacheDir: join(dir, "cache"),
      };

      await writeNotebook(join(lessons, "02_broken.ipynb"), broken());
      const first = await runCourse(options);
      assert.equal(first.lessons.length, 2);
      assert.ok(first.lessons[0].ok, `lesson failed: ${first.lessons[0].failure}`);
      assert.equal(first.lessons[0].cached, false);
      const page = await Deno.readTextFile(join(dir, "site", "01_epochs.html"));
      assert.match(page, /epochs=1 v\d/, "smoke parameter injected and output rendered");
      assert.match(page, /cl-notice[^>]*>The outputs on these pages come from a quick run/);
      const executed = await readNotebook(join(dir, "build", "01_epochs.ipynb"));
      assert.ok(executed.cells.some((c) => c.metadata.tags?.includes("injected-parameters")));
      assert.deepEqual(await Deno.readFile(path), before, "the lesson file is not modified");

      // A failing lesson: reported with its cell, its page shows the error and what did not run.
      assert.equal(first.lessons[1].ok, false);
      assert.match(first.lessons[1].failure ?? "", /02_broken\.ipynb.*cell 3.*RangeError/s);
      const brokenPage = await Deno.readTextFile(join(dir, "site", "02_broken.html"));
      assert.match(brokenPage, /class="cl-error" role="alert"><pre>[^<]*RangeError/);
      assert.match(brokenPage, /<span class="cl-status">not run<\/span>/);
      assert.doesNotMatch(brokenPage, />after\n</);
      await Deno.remove(join(lessons, "02_broken.ipynb"));

      const second = await runCourse(options);
      assert.equal(second.lessons[0].cached, true, "unchanged lesson: outputs from the cache");

      const full = await runCourse({ ...options, full: true });
      assert.equal(full.lessons[0].cached, false, "--full is another parameter set");
      const fullPage = await Deno.readTextFile(join(dir, "site", "01_epochs.html"));
      assert.match(fullPage, /epochs=10 v\d/);
      assert.doesNotMatch(fullPage, /cl-notice/);

      const forced = await runCourse({ ...options, full: true, force: true });
      assert.equal(forced.lessons[0].cached, false, "--force executes again");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
