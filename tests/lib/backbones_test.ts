import assert from "node:assert/strict";
import { join } from "node:path";
import * as cl from "../../lib/mod.ts";
import { skipUnless } from "../_skip.ts";

const haveFashion = await cl.datasets.locateDataset("fashion-mnist") !== undefined;

const tf = cl.tf;

Deno.test("miniVgg() is a small VGG with Keras's VGG layer names and any-size input", () => {
  const base = cl.backbones.miniVgg();
  assert.deepEqual(base.inputs[0].shape, [null, null, null, 1]);
  assert.deepEqual(
    base.layers.map((l) => l.name),
    [
      "input_1",
      "block1_conv1",
      "block1_conv2",
      "block1_pool",
      "block2_conv1",
      "block2_conv2",
      "block2_pool",
      "block3_conv1",
      "block3_conv2",
      "block3_pool",
    ],
  );
  assert.equal(cl.summary(base).totalParams, 18_040);
  const top = cl.backbones.miniVgg({ inputShape: [28, 28, 1], includeTop: true, numClasses: 5 });
  assert.deepEqual(top.outputs[0].shape, [null, 5]);
  assert.equal(cl.summary(top).totalParams, 18_040 + 32 * 5 + 5);
  const out = top.predict(tf.zeros([2, 28, 28, 1])) as cl.tf.Tensor;
  assert.deepEqual(out.shape, [2, 5]);
  tf.dispose([out]);
  base.dispose();
  top.dispose();
});

Deno.test("miniVgg() explains impossible shapes", () => {
  assert.throws(
    () => cl.backbones.miniVgg({ inputShape: [6, 6, 1] }),
    /at least 8×8, got 6×6/,
  );
  assert.throws(
    () => cl.backbones.miniVgg({ inputShape: [28, 28] as never }),
    /inputShape must be/,
  );
  assert.throws(() => cl.backbones.miniVgg({ filters: [8, 0] }), /filters must be positive/);
});

Deno.test({
  name: "load() gives the shipped backbone's base and top, trained as its metadata says",
  ...skipUnless(haveFashion, "Fashion-MNIST is not available (Debian dataset-fashion-mnist)"),
}, async () => {
  const before = tf.memory().numTensors;
  const backbone = await cl.backbones.load("fashion-backbone");
  assert.equal(backbone.topBlockStart, "block3_conv1");
  assert.deepEqual(backbone.inputRange, [0, 1]);
  assert.deepEqual(backbone.model.outputs[0].shape, [null, null, null, 32]);
  assert.equal(backbone.model.layers.at(-1)!.name, "block3_pool");
  assert.deepEqual(backbone.classNames, ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat"]);
  const accuracy = backbone.metadata.testAccuracy as number;
  assert.ok(accuracy > 0.8, `shipped backbone's recorded accuracy ${accuracy}`);
  assert.match(JSON.stringify(backbone.metadata.training), /deno task pretrain/);

  const full = await cl.backbones.load("fashion-backbone", { includeTop: true });
  assert.deepEqual(full.model.outputs[0].shape, [null, 5]);
  // It really recognises its source classes: a few Fashion-MNIST trousers (class 1).
  const fashion = await cl.datasets.fashionMnist({ quiet: true, subset: { train: 10, test: 200 } });
  const trousers = cl.datasets.selectClasses(fashion, [1]);
  const predicted = tf.tidy(() => (full.model.predict(trousers.xTest) as cl.tf.Tensor).argMax(1));
  const values = Array.from(await predicted.data());
  assert.ok(values.filter((v) => v === 1).length >= 0.8 * values.length, `${values}`);
  tf.dispose(predicted);
  trousers.dispose();
  fashion.dispose();
  backbone.model.dispose();
  full.model.dispose();
  assert.equal(tf.memory().numTensors, before, "tensor leak");
});

Deno.test("load() refuses unknown names and says which exist", async () => {
  await assert.rejects(
    () => cl.backbones.load("vgg16" as never),
    /Unknown backbone "vgg16": use one of fashion-backbone, mobilenet/,
  );
  await assert.rejects(
    () => cl.backbones.load("fashion-backbone", { dir: "/nonexistent/backbone" }),
    /model\.json is missing; rebuild it with `deno task pretrain`/,
  );
});

Deno.test("prepareImages() resizes, repeats grey to RGB and scales to the backbone's range", async () => {
  const backbone = {
    name: "mobilenet",
    inputShape: [32, 32, 3],
    inputRange: [-1, 1],
  } as unknown as cl.backbones.Backbone;
  const images = tf.concat([tf.zeros([1, 28, 28, 1]), tf.ones([1, 28, 28, 1])]);
  const before = tf.memory().numTensors;
  const x = cl.backbones.prepareImages(backbone, images);
  assert.deepEqual(x.shape, [2, 32, 32, 3]);
  const extremes = tf.tidy(() => tf.stack([x.slice(0, 1).max(), x.slice(1, 1).min()]));
  const [low, high] = await extremes.data();
  extremes.dispose();
  assert.equal(low, -1);
  assert.equal(high, 1);
  const single = tf.zeros([28, 28, 1]);
  assert.throws(
    () => cl.backbones.prepareImages(backbone, single),
    /expected \[n, height, width, channels\]/,
  );
  tf.dispose([x, single]);
  assert.equal(tf.memory().numTensors, before, "tensor leak");
  images.dispose();
});

// ---------------------------------------------------------------------------------------------
// The online MobileNet path, against a real HTTP server on the loopback interface that serves a
// small model in the tfjs converter's layout (several weight shards) with MobileNet's layer names.

/** A tiny model named like MobileNet's layers, as converter files (model.json + 2 shards). */
async function converterFiles(): Promise<Map<string, Uint8Array>> {
  const input = tf.input({ shape: [32, 32, 3], name: "input_1" });
  let x = tf.layers.conv2d({ filters: 4, kernelSize: 3, strides: 2, name: "conv1" })
    .apply(input) as cl.tf.SymbolicTensor;
  x = tf.layers.reLU({ maxValue: 6, name: "conv1_relu" }).apply(x) as cl.tf.SymbolicTensor;
  x = tf.layers.depthwiseConv2d({ kernelSize: 3, name: "conv_dw_13" }).apply(
    x,
  ) as cl.tf.SymbolicTensor;
  x = tf.layers.conv2d({ filters: 8, kernelSize: 1, name: "conv_pw_13" }).apply(
    x,
  ) as cl.tf.SymbolicTensor;
  x = tf.layers.reLU({ maxValue: 6, name: "conv_pw_13_relu" }).apply(x) as cl.tf.SymbolicTensor;
  x = tf.layers.globalAveragePooling2d({ name: "global_average_pooling2d_1" })
    .apply(x) as cl.tf.SymbolicTensor;
  x = tf.layers.dense({ units: 3, activation: "softmax", name: "conv_preds" })
    .apply(x) as cl.tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: x, name: "mobilenet_1.00_224" });
  const files = new Map<string, Uint8Array>();
  await model.save(tf.io.withSaveHandler((artifacts) => {
    const data = new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts.weightData!));
    const specs = artifacts.weightSpecs!;
    // Split the weights in two groups, as the converter writes one group per few layers.
    const bytesOf = (s: cl.tf.io.WeightsManifestEntry) => 4 * s.shape.reduce((a, b) => a * b, 1);
    const half = Math.ceil(specs.length / 2);
    const firstBytes = specs.slice(0, half).reduce((n, s) => n + bytesOf(s), 0);
    files.set("group1-shard1of1", data.slice(0, firstBytes));
    files.set("group2-shard1of1", data.slice(firstBytes));
    const json = {
      modelTopology: artifacts.modelTopology,
      format: "layers-model",
      generatedBy: "keras v2.1.4",
      convertedBy: "TensorFlow.js Converter",
      weightsManifest: [
        { paths: ["group1-shard1of1"], weights: specs.slice(0, half) },
        { paths: ["group2-shard1of1"], weights: specs.slice(half) },
      ],
    };
    files.set("model.json", new TextEncoder().encode(JSON.stringify(json)));
    return Promise.resolve({
      modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" },
    });
  }));
  model.dispose();
  const index = { "0": ["n0", "zero"], "1": ["n1", "one"], "2": ["n2", "two"] };
  files.set("imagenet_class_index.json", new TextEncoder().encode(JSON.stringify(index)));
  return files;
}

/** Serve `files` on 127.0.0.1 (a missing name is a 404); returns the base URL and a stopper. */
function serve(files: Map<string, Uint8Array>) {
  const requests: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const name = new URL(req.url).pathname.slice(1);
    requests.push(name);
    const body = files.get(name);
    return body
      ? new Response(body as Uint8Array<ArrayBuffer>)
      : new Response("not found", { status: 404 });
  });
  const base = `http://127.0.0.1:${server.addr.port}/`;
  return { base, requests, stop: () => server.shutdown() };
}

const quiet = { onProgress: () => {} };

Deno.test("fetchMobilenet() downloads model, shards and class names once, pins them, and loads offline", async () => {
  const cacheDir = await Deno.makeTempDir();
  const files = await converterFiles();
  const server = serve(files);
  const urls = {
    url: `${server.base}model.json`,
    classIndexUrl: `${server.base}imagenet_class_index.json`,
  };
  try {
    const fetched = await cl.backbones.fetchMobilenet({ cacheDir, ...urls, ...quiet });
    assert.equal(fetched.dir, join(cacheDir, "models", "mobilenet"));
    assert.deepEqual(fetched.classNames, ["zero", "one", "two"]);
    assert.deepEqual(server.requests.sort(), [
      "group1-shard1of1",
      "group2-shard1of1",
      "imagenet_class_index.json",
      "model.json",
    ]);
    const record = JSON.parse(await Deno.readTextFile(join(fetched.dir, "checksums.json")));
    assert.deepEqual(Object.keys(record.files).sort(), [
      "classes.json",
      "group1-shard1of1",
      "group2-shard1of1",
      "model.json",
    ]);
    assert.equal(record.files["model.json"].pinnedBy, "first download");
    assert.deepEqual(
      await Deno.readFile(join(fetched.dir, "group2-shard1of1")),
      files.get("group2-shard1of1"),
    );
  } finally {
    await server.stop();
  }
  // The server is gone: loading now must come from the cache alone.
  const before = tf.memory().numTensors;
  const backbone = await cl.backbones.load("mobilenet", { cacheDir, ...urls, download: false });
  assert.equal(backbone.model.layers.at(-1)!.name, "conv_pw_13_relu");
  assert.deepEqual(backbone.inputShape, [32, 32, 3]);
  assert.deepEqual(backbone.inputRange, [-1, 1]);
  assert.equal(backbone.topBlockStart, "conv_dw_13");
  assert.ok(backbone.model.getLayer(backbone.topBlockStart));
  assert.deepEqual(backbone.classNames, ["zero", "one", "two"]);
  assert.match(backbone.origin, /checked against its SHA-256/);
  // The same transfer-learning code path as the shipped backbone: prepare, extract, classify.
  const digits = tf.zeros([2, 28, 28, 1]);
  const x = cl.backbones.prepareImages(backbone, digits);
  const features = backbone.model.predict(x) as cl.tf.Tensor;
  assert.deepEqual(features.shape, [2, 13, 13, 8]);
  tf.dispose([digits, x, features]);
  backbone.model.dispose();
  const full = await cl.backbones.load("mobilenet", {
    cacheDir,
    includeTop: true,
    download: false,
  });
  assert.deepEqual(full.model.outputs[0].shape, [null, 3]);
  full.model.dispose();
  assert.equal(tf.memory().numTensors, before, "tensor leak");
  await Deno.remove(cacheDir, { recursive: true });
});

Deno.test("fetchMobilenet() refuses a cached shard that changed since it was downloaded", async () => {
  const cacheDir = await Deno.makeTempDir();
  const server = serve(await converterFiles());
  try {
    await cl.backbones.fetchMobilenet({
      cacheDir,
      url: `${server.base}model.json`,
      classIndexUrl: `${server.base}imagenet_class_index.json`,
      ...quiet,
    });
  } finally {
    await server.stop();
  }
  const shard = join(cacheDir, "models", "mobilenet", "group1-shard1of1");
  const bytes = await Deno.readFile(shard);
  bytes[0] ^= 0xff;
  await Deno.writeFile(shard, bytes);
  await assert.rejects(
    () => cl.backbones.fetchMobilenet({ cacheDir, download: false }),
    (error: Error) => {
      assert.equal(error.name, "ModelChecksumError");
      assert.match(
        error.message,
        /Checksum mismatch for .*group1-shard1of1: expected sha256 [0-9a-f]{64}/,
      );
      assert.match(error.message, /delete .*mobilenet to download MobileNet again/);
      return true;
    },
  );
  await Deno.remove(cacheDir, { recursive: true });
});

Deno.test("fetchMobilenet() offline or not allowed to download: a clear error, nothing half-written", async () => {
  const cacheDir = await Deno.makeTempDir();
  await assert.rejects(
    () => cl.backbones.fetchMobilenet({ cacheDir, download: false }),
    (error: Error) => {
      assert.equal(error.name, "ModelUnavailableError");
      assert.match(error.message, /MobileNet is not in the cache \(.*models\/mobilenet\)/);
      assert.match(error.message, /downloading was not allowed/);
      assert.match(error.message, /fashion-backbone/);
      return true;
    },
  );
  // A port nobody listens on: the connection is refused, as offline.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  await assert.rejects(
    () =>
      cl.backbones.fetchMobilenet({
        cacheDir,
        url: `http://127.0.0.1:${port}/model.json`,
        ...quiet,
      }),
    (error: Error) => {
      assert.equal(error.name, "ModelUnavailableError");
      assert.match(
        error.message,
        new RegExp(`Cannot download http://127.0.0.1:${port}/model.json`),
      );
      assert.match(error.message, /offline\?/);
      return true;
    },
  );
  // A shard missing on the server: the download fails and leaves no model folder behind.
  const files = await converterFiles();
  files.delete("group2-shard1of1");
  const server = serve(files);
  try {
    await assert.rejects(
      () => cl.backbones.fetchMobilenet({ cacheDir, url: `${server.base}model.json`, ...quiet }),
      /group2-shard1of1: HTTP 404/,
    );
  } finally {
    await server.stop();
  }
  assert.deepEqual([...Deno.readDirSync(cacheDir)].map((e) => e.name), []);
  await Deno.remove(cacheDir, { recursive: true });
});
