/**
 * Lesson 05 explains the models that lessons 02 and 04 saved. The smoke runs of the other tests
 * do not save (they must never replace a model trained in full), so this test runs lessons 02
 * and 04 in their smoke setting but with saving on, into a temporary cache folder
 * (`CONVLAB_CACHE`), and then lesson 05 against that cache: the load path a learner takes after
 * working through the course, which CI would otherwise never run.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { smokeParameters } from "../../kernel/course.ts";
import { executeNotebook } from "../../kernel/execute.ts";
import { readNotebook, writeNotebook } from "../../kernel/notebook.ts";
import { exists } from "../../lib/data/files.ts";
import { errorOutputs, LESSONS_DIR, ROOT } from "./_lessons.ts";

const ARTIFACTS = join(ROOT, "test-artifacts", "lessons", "saved-models");

/** Runs a lesson in its smoke setting plus `extra` parameters; returns its stream text. */
async function runLesson(
  file: string,
  extra: Record<string, unknown>,
  cache: string,
): Promise<string> {
  const path = join(LESSONS_DIR, file);
  const nb = await readNotebook(path);
  const result = await executeNotebook(nb, {
    path,
    parameters: { ...smokeParameters(nb), ...extra },
    env: { CONVLAB_CACHE: cache },
    timeout: 300,
    notebookTimeout: 600,
  });
  await Deno.mkdir(ARTIFACTS, { recursive: true });
  await writeNotebook(join(ARTIFACTS, file), result.notebook);
  const problems = errorOutputs(result.notebook).map((p) => `cell ${p.cell}: ${p.message}`);
  assert.deepEqual(problems, [], `${file} (executed copy in test-artifacts/lessons/saved-models/)`);
  assert.ok(result.ok, result.error?.message ?? file);
  return result.notebook.cells.flatMap((cell) =>
    cell.cell_type === "code"
      ? cell.outputs.flatMap((o) => o.output_type === "stream" ? [o.text] : [])
      : []
  ).join("");
}

Deno.test({
  name:
    "lesson 05 loads and explains the models lessons 02 and 04 saved (integer labels on models trained one-hot)",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    // Under the temp folder: lesson sessions may write there whatever the parent's cache is.
    const cache = await Deno.makeTempDir({ prefix: "convlab-saved-models-" });
    try {
      await runLesson("02_lenet.ipynb", { saveModels: true }, cache);
      assert.ok(
        await exists(join(cache, "models", "mnist-cnn-v2", "model.json")),
        "lesson 02 saved CNN v2 into the cache",
      );
      await runLesson("04_transfer_learning.ipynb", { saveForApp: true }, cache);
      assert.ok(
        await exists(join(cache, "models", "transfer-learning", "model.json")),
        "lesson 04 saved its model into the cache",
      );
      const text = await runLesson("05_cam.ipynb", {}, cache);
      assert.match(text, /Loading mnist-cnn-v2 \(saved\)/);
      assert.match(text, /Loading transfer-learning \(saved\)/);
      assert.doesNotMatch(text, /No saved (digit|lesson 04) model/);
    } finally {
      await Deno.remove(cache, { recursive: true });
    }
  },
});
