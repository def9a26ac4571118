// cl.saveModel / cl.loadModel: real files, atomic and checked; bad files give clear errors.
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import * as cl from "../../lib/mod.ts";

await tf.setBackend("cpu");

async function listDir(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) names.push(entry.name);
  return names.sort();
}

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "convlab-save-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("saveModel() writes model.json + weights.bin that loadModel() reads back, compiled", async () => {
  await withTempDir(async (dir) => {
    cl.seed(2);
    const model = cl.models.lenet5();
    cl.compile(model, {
      optimizer: cl.optimizers.Adam({ learningRate: 0.002 }),
      loss: "categorical_crossentropy",
      metrics: ["accuracy"],
    });
    const result = await cl.saveModel(model, `${dir}/lenet5`);
    assert.deepEqual(await listDir(`${dir}/lenet5`), ["model.json", "weights.bin"]);
    assert.equal(result.weightsBytes, 61706 * 4);
    const json = JSON.parse(await Deno.readTextFile(`${dir}/lenet5/model.json`));
    assert.deepEqual(json.weightsManifest[0].paths, ["weights.bin"]);
    assert.equal(json.format, "layers-model");
    assert.match(json.convlab.weightsSha256, /^[0-9a-f]{64}$/);

    const loaded = await cl.loadModel(`${dir}/lenet5`);
    const input = tf.randomUniform([3, 28, 28, 1], 0, 1, "float32", 4);
    const a = model.predict(input) as tf.Tensor;
    const b = loaded.predict(input) as tf.Tensor;
    assert.deepEqual(await a.data(), await b.data());
    assert.equal(cl.summary(loaded).totalParams, 61706);
    // Compiled as saved: evaluate works at once and reports the same metrics.
    const labels = tf.oneHot(tf.tensor1d([1, 2, 3], "int32"), 10);
    assert.deepEqual(
      await cl.evaluate(loaded, input, labels, { returnDict: true }),
      await cl.evaluate(model, input, labels, { returnDict: true }),
    );
    assert.equal(cl.optimizers.getLearningRate(loaded.optimizer), 0.002);
    assert.equal(loaded.optimizer.getClassName(), "Adam");
    tf.dispose([input, a, b, labels]);
    model.dispose();
    loaded.dispose();
  });
});

Deno.test("loadModel() accepts the folder, its model.json or a file:// URL", async () => {
  await withTempDir(async (dir) => {
    const model = cl.models.mnistConvnet();
    await cl.saveModel(model, `${dir}/m`);
    for (const path of [`${dir}/m`, `${dir}/m/model.json`, `file://${dir}/m`]) {
      const loaded = await cl.loadModel(path);
      assert.equal(cl.summary(loaded).totalParams, 34826, path);
      loaded.dispose();
    }
    model.dispose();
  });
});

Deno.test("saveModel() replaces a saved model in place, leaves other files and no temporaries", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/notes.txt`, "mine");
    const a = cl.models.mnistConvnet();
    const b = cl.models.lenet5();
    await cl.saveModel(a, dir);
    await cl.saveModel(b, dir);
    assert.deepEqual(await listDir(dir), ["model.json", "notes.txt", "weights.bin"]);
    const loaded = await cl.loadModel(dir);
    assert.equal(cl.summary(loaded).totalParams, 61706);
    [a, b, loaded].forEach((m) => m.dispose());
  });
});

Deno.test("loadModel() reports a truncated weights.bin with the byte counts", async () => {
  await withTempDir(async (dir) => {
    const model = cl.models.mnistConvnet();
    await cl.saveModel(model, dir);
    const bytes = await Deno.readFile(`${dir}/weights.bin`);
    await Deno.writeFile(`${dir}/weights.bin`, bytes.slice(0, 1000));
    await assert.rejects(
      cl.loadModel(dir),
      (e: Error) =>
        e instanceof cl.ModelFileError &&
        /hold 1000 bytes but model.json describes 139304 bytes/.test(e.message),
    );
    model.dispose();
  });
});

Deno.test("loadModel() refuses weights.bin from another save (a save cut off between files)", async () => {
  await withTempDir(async (dir) => {
    cl.seed(1);
    const a = cl.models.mnistConvnet();
    cl.seed(2);
    const b = cl.models.mnistConvnet();
    await cl.saveModel(a, `${dir}/a`);
    await cl.saveModel(b, `${dir}/b`);
    await Deno.copyFile(`${dir}/b/weights.bin`, `${dir}/a/weights.bin`);
    await assert.rejects(
      cl.loadModel(`${dir}/a`),
      /does not match model.json \(its SHA-256 differs/,
    );
    a.dispose();
    b.dispose();
  });
});

Deno.test("loadModel() says what is missing or broken, naming the file", async () => {
  await withTempDir(async (dir) => {
    await assert.rejects(
      cl.loadModel(`${dir}/nothing`),
      new RegExp(`${dir}/nothing/model.json does not exist`),
    );
    await Deno.mkdir(`${dir}/bad`);
    await Deno.writeTextFile(`${dir}/bad/model.json`, "{ not json");
    await assert.rejects(cl.loadModel(`${dir}/bad`), /bad\/model.json is not valid JSON/);
    await Deno.writeTextFile(`${dir}/bad/model.json`, JSON.stringify({ modelTopology: {} }));
    await assert.rejects(cl.loadModel(`${dir}/bad`), /has no "weightsManifest"/);
    const model = cl.models.mnistConvnet();
    await cl.saveModel(model, `${dir}/gone`);
    await Deno.remove(`${dir}/gone/weights.bin`);
    await assert.rejects(
      cl.loadModel(`${dir}/gone`),
      /gone\/weights.bin \(named in .*model.json\) does not exist/,
    );
    model.dispose();
  });
});

Deno.test("loadModel() reads tfjs-converter output split into weight shards", async () => {
  await withTempDir(async (dir) => {
    const model = cl.models.mnistConvnet();
    await cl.saveModel(model, dir);
    const json = JSON.parse(await Deno.readTextFile(`${dir}/model.json`));
    const bytes = await Deno.readFile(`${dir}/weights.bin`);
    await Deno.writeFile(`${dir}/group1-shard1of2.bin`, bytes.slice(0, 50000));
    await Deno.writeFile(`${dir}/group1-shard2of2.bin`, bytes.slice(50000));
    json.weightsManifest[0].paths = ["group1-shard1of2.bin", "group1-shard2of2.bin"];
    delete json.convlab; // converter output has no Convlab block
    await Deno.writeTextFile(`${dir}/model.json`, JSON.stringify(json));
    await Deno.remove(`${dir}/weights.bin`);
    const loaded = await cl.loadModel(dir);
    const w1 = await model.layers[0].getWeights()[0].data();
    const w2 = await loaded.layers[0].getWeights()[0].data();
    assert.deepEqual(w1, w2);
    model.dispose();
    loaded.dispose();
  });
});

Deno.test("a model compiled with a custom loss function loads uncompiled (functions are not saved)", async () => {
  await withTempDir(async (dir) => {
    const model = cl.models.mnistConvnet();
    cl.compile(model, { loss: (t: tf.Tensor, p: tf.Tensor) => tf.mean(tf.abs(tf.sub(t, p)), -1) });
    await cl.saveModel(model, dir);
    const loaded = await cl.loadModel(dir);
    await assert.rejects(
      cl.evaluate(loaded, tf.zeros([1, 28, 28, 1]), tf.zeros([1, 10])),
      /compile the model first/,
    );
    model.dispose();
    loaded.dispose();
  });
});

Deno.test("saveModel() and loadModel() leave no tensors behind", async () => {
  await withTempDir(async (dir) => {
    const model = cl.models.mnistConvnet();
    cl.compile(model, { loss: "categorical_crossentropy", metrics: ["accuracy"] });
    const before = tf.memory().numTensors;
    await cl.saveModel(model, dir);
    assert.equal(tf.memory().numTensors, before);
    const loaded = await cl.loadModel(dir);
    loaded.dispose();
    assert.equal(tf.memory().numTensors, before);
    model.dispose();
  });
});

Deno.test("loadModel() names model.json when its manifest, layers or compile settings are broken, leaking nothing", async () => {
  await withTempDir(async (dir) => {
    const model = tf.sequential({
      layers: [tf.layers.dense({ units: 2, inputShape: [3], activation: "softmax" })],
    });
    cl.compile(model, { optimizer: "adam", loss: "categorical_crossentropy" });
    await cl.saveModel(model, `${dir}/good`);
    model.dispose();
    const good = JSON.parse(await Deno.readTextFile(`${dir}/good/model.json`));
    const broken: [string, (json: typeof good) => void, RegExp][] = [
      ["no-shape", (j) => delete j.weightsManifest[0].weights[0].shape, /weightsManifest/],
      ["null-group", (j) => (j.weightsManifest = [null]), /weightsManifest/],
      ["outside", (j) => (j.weightsManifest[0].paths = ["../good/weights.bin"]), /outside/],
      ["layer", (j) => (j.modelTopology.config.layers[0].class_name = "FancyDense"), /FancyDense/],
      ["optimizer", (j) => (j.convlab.compile.optimizer.className = "Nope"), /Nope/],
      ["loss", (j) => (j.convlab.compile.loss = ["nope"]), /nope/],
    ];
    const before = tf.memory().numTensors;
    for (const [name, breakIt, reason] of broken) {
      await Deno.mkdir(`${dir}/${name}`);
      await Deno.copyFile(`${dir}/good/weights.bin`, `${dir}/${name}/weights.bin`);
      const json = structuredClone(good);
      breakIt(json);
      await Deno.writeTextFile(`${dir}/${name}/model.json`, JSON.stringify(json));
      await assert.rejects(cl.loadModel(`${dir}/${name}`), (error: Error) => {
        assert.ok(error instanceof cl.ModelFileError, `${name}: ${error}`);
        assert.match(error.message, new RegExp(`${name}/model.json`), name);
        assert.match(error.message, reason, name);
        return true;
      });
      assert.equal(tf.memory().numTensors, before, `${name} leaks`);
    }
  });
});

Deno.test("saveModel() and loadModel() say so when the path is a file, not a model folder", async () => {
  await withTempDir(async (dir) => {
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [1] })] });
    await Deno.writeTextFile(`${dir}/old.h5`, "an old Keras file");
    await assert.rejects(cl.saveModel(model, `${dir}/old.h5`), /old\.h5 is a file, not a folder/);
    await cl.saveModel(model, `${dir}/saved`);
    await assert.rejects(
      cl.loadModel(`${dir}/saved/weights.bin`),
      /saved\/weights\.bin is a file, not a folder/,
    );
    model.dispose();
  });
});

Deno.test("a model compiled with a focal loss (its gamma and alpha) or Huber's delta loads compiled alike", async () => {
  await withTempDir(async (dir) => {
    const model = tf.sequential({
      layers: [tf.layers.dense({ units: 3, inputShape: [2], activation: "softmax" })],
    });
    const x = tf.tensor2d([[1, 2], [3, -1]]);
    const y = tf.tensor2d([[1, 0, 0], [0, 0, 1]]);
    for (
      const loss of [
        cl.losses.categoricalFocalCrossentropy({ gamma: 3, alpha: 0.5 }),
        cl.losses.binaryFocalCrossentropy({ gamma: 1, applyClassBalancing: true }),
        cl.losses.huber(0.3),
      ]
    ) {
      cl.compile(model, { optimizer: "adam", loss, metrics: ["accuracy"] });
      await cl.saveModel(model, `${dir}/m`);
      const loaded = await cl.loadModel(`${dir}/m`);
      const [a, b] = [
        await cl.evaluate(model, x, y, { returnDict: true }),
        await cl.evaluate(loaded, x, y, { returnDict: true }),
      ] as Record<string, number>[];
      assert.deepEqual(Object.keys(b), ["loss", "accuracy"], loss.name);
      assert.ok(Math.abs(a.loss - b.loss) < 1e-6, `${loss.name}: ${a.loss} vs ${b.loss}`);
      loaded.dispose();
    }
    tf.dispose([x, y]);
    model.dispose();
  });
});
