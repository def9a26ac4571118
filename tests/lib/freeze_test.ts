// Freezing as in Keras: trainable = false + recompile, and frozen BatchNormalization in inference
// mode during fit (which tfjs 4.22 alone does not do).
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import * as cl from "../../lib/mod.ts";

await tf.setBackend("cpu");

const ROOT = new URL("../../", import.meta.url).pathname;

/** Dense → BatchNormalization → Dense, on 4 inputs. */
function withBatchNorm(): { model: tf.Sequential; bn: tf.layers.Layer } {
  const bn = tf.layers.batchNormalization();
  const model = tf.sequential({
    layers: [tf.layers.dense({ units: 3, inputShape: [4] }), bn, tf.layers.dense({ units: 1 })],
  });
  return { model, bn };
}

async function values(layer: tf.layers.Layer): Promise<number[][]> {
  return await Promise.all(layer.getWeights().map(async (w) => Array.from(await w.data())));
}

const x = tf.randomNormal([32, 4], 3, 2, "float32", 1); // far from mean 0 / variance 1
const y = tf.randomNormal([32, 1], 0, 1, "float32", 2);

Deno.test("tfjs 4.22 on its own updates a frozen BatchNormalization's statistics in fit (why lib/freeze.ts exists)", async () => {
  const script = `
    import * as tf from "@tensorflow/tfjs";
    await tf.setBackend("cpu");
    const bn = tf.layers.batchNormalization();
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 3, inputShape: [4] }), bn] });
    bn.trainable = false;
    model.compile({ optimizer: "sgd", loss: "meanSquaredError" });
    const before = Array.from(await bn.getWeights()[2].data());
    await model.fit(tf.randomNormal([16, 4], 3, 2), tf.zeros([16, 3]), { epochs: 1, verbose: 0 });
    const after = Array.from(await bn.getWeights()[2].data());
    console.log(JSON.stringify(before.some((v, i) => v !== after[i])));
  `;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--ext=ts", script],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const last = new TextDecoder().decode(out.stdout).trim().split("\n").at(-1);
  assert.equal(last, "true", new TextDecoder().decode(out.stderr));
});

Deno.test("cl.fit leaves a frozen BatchNormalization's weights and statistics unchanged", async () => {
  const { model, bn } = withBatchNorm();
  bn.trainable = false;
  cl.compile(model, { optimizer: cl.optimizers.SGD({ learningRate: 0.1 }), loss: "mse" });
  const before = await values(bn);
  const dense = await values(model.layers[0]);
  await cl.fit(model, x, y, { epochs: 2, batchSize: 8, verbose: 0 });
  assert.deepEqual(await values(bn), before);
  assert.notDeepEqual(await values(model.layers[0]), dense, "the other layers still train");
  model.dispose();
});

Deno.test("an unfrozen BatchNormalization does update its statistics in cl.fit", async () => {
  const { model, bn } = withBatchNorm();
  cl.compile(model, { optimizer: "sgd", loss: "mse" });
  const [, , mean] = await values(bn);
  await cl.fit(model, x, y, { epochs: 1, batchSize: 8, verbose: 0 });
  assert.notDeepEqual((await values(bn))[2], mean);
  model.dispose();
});

Deno.test("a frozen base model inside a new model keeps its BatchNormalization in inference mode", async () => {
  for (const freeze of ["base.trainable", "setTrainable", "outer.trainable"] as const) {
    const { model: base, bn } = withBatchNorm();
    const outer = tf.sequential({ layers: [base, tf.layers.dense({ units: 1 })] });
    if (freeze === "base.trainable") base.trainable = false;
    if (freeze === "setTrainable") cl.setTrainable(base, false);
    const wrapper = freeze === "outer.trainable"
      ? tf.sequential({ layers: [outer] }) // frozen two levels up
      : outer;
    if (freeze === "outer.trainable") outer.trainable = false;
    const head = freeze === "outer.trainable"
      ? tf.sequential({ layers: [wrapper, tf.layers.dense({ units: 1 })] })
      : wrapper;
    cl.compile(head, { optimizer: cl.optimizers.SGD({ learningRate: 0.1 }), loss: "mse" });
    const before = await values(bn);
    await cl.fit(head, x, y, { epochs: 1, batchSize: 8, verbose: 0 });
    assert.deepEqual(await values(bn), before, freeze);
    head.dispose();
  }
});

Deno.test("tfjs's own model.fit also keeps a frozen BatchNormalization in inference mode once convlab is imported", async () => {
  const { model, bn } = withBatchNorm();
  bn.trainable = false;
  model.compile({ optimizer: "sgd", loss: "meanSquaredError" });
  const before = await values(bn);
  await model.fit(x, y, { epochs: 1, batchSize: 8, verbose: 0 });
  assert.deepEqual(await values(bn), before);
  model.dispose();
});

Deno.test("trainable changes need a new compile, as in Keras (with a warning), then take effect", async () => {
  const model = tf.sequential({
    layers: [tf.layers.dense({ units: 3, inputShape: [4] }), tf.layers.dense({ units: 1 })],
  });
  cl.compile(model, { optimizer: "sgd", loss: "mse" });
  assert.equal(cl.summary(model).trainableParams, 15 + 4);
  cl.setTrainable(model.layers[0], false);
  // Keras counts the weights collected at compile time until the next compile.
  assert.equal(cl.summary(model).trainableParams, 15 + 4);
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (m: string) => warnings.push(m);
  try {
    await cl.fit(model, x, y, { epochs: 1, verbose: 0 });
  } finally {
    console.warn = warn;
  }
  assert.match(warnings.join("\n"), /trainable weights changed since cl.compile\(\)/);
  cl.compile(model, { optimizer: "sgd", loss: "mse" });
  assert.equal(cl.summary(model).trainableParams, 4);
  assert.equal(cl.summary(model).nonTrainableParams, 15);
  const frozen = await values(model.layers[0]);
  const head = await values(model.layers[1]);
  await cl.fit(model, x, y, { epochs: 1, verbose: 0 });
  assert.deepEqual(await values(model.layers[0]), frozen);
  assert.notDeepEqual(await values(model.layers[1]), head);
  model.dispose();
});

Deno.test("setTrainable() freezes nested models recursively and unfreezes them again", () => {
  const { model: base } = withBatchNorm();
  const outer = tf.sequential({ layers: [base, tf.layers.dense({ units: 2 })] });
  cl.setTrainable(outer, false);
  assert.ok(base.layers.every((l) => !l.trainable));
  assert.equal(cl.summary(outer).trainableParams, 0);
  cl.setTrainable(outer, true);
  assert.ok(base.layers.every((l) => l.trainable));
  assert.equal(cl.summary(outer).trainableParams, 15 + 6 + 4 + 4);
  assert.throws(() => cl.setTrainable(outer, "no" as never), /expected true or false/);
  outer.dispose();
});
