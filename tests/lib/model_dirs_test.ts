import assert from "node:assert/strict";
import { join } from "node:path";
import { findModel, MODEL_NAMES, modelDir, shippedModelDir } from "../../lib/model_dirs.ts";

Deno.test("modelDir() puts saved models in <cache>/models/<name> and refuses names that leave it", () => {
  assert.equal(
    modelDir("mnist-lenet5", { root: "/tmp/c" }),
    join("/tmp/c", "models", "mnist-lenet5"),
  );
  for (const bad of ["../x", "a/b", "", ".hidden", "a..b"]) {
    assert.throws(() => modelDir(bad, { root: "/tmp/c" }), /a model name is letters, digits/);
  }
  assert.match(shippedModelDir("backbone"), /data[/\\]models[/\\]backbone$/);
});

Deno.test("findModel() prefers the learner's saved model and needs a model.json", async () => {
  const root = await Deno.makeTempDir({ prefix: "convlab-model-dirs-" });
  try {
    assert.equal(await findModel(MODEL_NAMES.lenet5Mnist, { root }), undefined);
    const dir = modelDir(MODEL_NAMES.lenet5Mnist, { root });
    await Deno.mkdir(dir, { recursive: true });
    assert.equal(await findModel(MODEL_NAMES.lenet5Mnist, { root }), undefined, "empty folder");
    await Deno.writeTextFile(join(dir, "model.json"), "{}");
    assert.deepEqual(await findModel(MODEL_NAMES.lenet5Mnist, { root }), { dir, origin: "saved" });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
