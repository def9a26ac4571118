import assert from "node:assert/strict";
import {
  activationModel,
  activations,
  deprocessImage,
  findLayer,
  gradCam,
  gradCamLayer,
  visualizeFilter,
} from "../../lib/explain.ts";
import { RandomStream } from "../../lib/random.ts";
import { tf } from "../../lib/backend.ts";
import { kerasName, summary } from "../../lib/summary.ts";

const SIZE = 24;
const SQUARE = 6;

interface Squares {
  x: tf.Tensor4D;
  labels: number[];
  corners: [number, number][];
}

/** Grey noise images; odd-numbered ones carry a bright SQUARE×SQUARE square at a random place. */
function squares(count: number, seed: number): Squares {
  const random = new RandomStream(seed);
  const pixels = new Float32Array(count * SIZE * SIZE);
  const labels: number[] = [];
  const corners: [number, number][] = [];
  for (let i = 0; i < count; i++) {
    const base = i * SIZE * SIZE;
    for (let p = 0; p < SIZE * SIZE; p++) pixels[base + p] = random.uniform(0, 0.6);
    const label = i % 2;
    const top = random.int(SIZE - SQUARE + 1);
    const left = random.int(SIZE - SQUARE + 1);
    if (label === 1) {
      for (let y = top; y < top + SQUARE; y++) {
        for (let x = left; x < left + SQUARE; x++) {
          pixels[base + y * SIZE + x] = random.uniform(0.9, 1);
        }
      }
    }
    labels.push(label);
    corners.push([top, left]);
  }
  return { x: tf.tensor4d(pixels, [count, SIZE, SIZE, 1]), labels, corners };
}

/** Fresh, seeded layers of a small convnet (conv, pool, conv, global max pool, softmax). */
function squareFinderLayers(): tf.layers.Layer[] {
  const init = (seed: number) => tf.initializers.glorotUniform({ seed });
  const conv = (name: string, filters: number, seed: number, first = false) =>
    tf.layers.conv2d({
      ...(first ? { inputShape: [SIZE, SIZE, 1] } : {}),
      filters,
      kernelSize: 3,
      padding: "same",
      activation: "relu",
      kernelInitializer: init(seed),
      name,
    });
  return [
    conv("conv1", 8, 1, true),
    tf.layers.maxPooling2d({ poolSize: 2, name: "pool1" }),
    conv("conv2", 16, 2),
    tf.layers.globalMaxPooling2d({ name: "gmp" }),
    tf.layers.dense({ units: 2, activation: "softmax", kernelInitializer: init(3), name: "out" }),
  ];
}

/** A detector of the bright square, as a Sequential model. */
function squareFinder(): tf.Sequential {
  return tf.sequential({ name: "square_finder", layers: squareFinderLayers() });
}

let trained: Promise<tf.Sequential> | undefined;
/** The square finder, trained once for all tests of this file (≈ 100% training accuracy). */
function trainedSquareFinder(): Promise<tf.Sequential> {
  trained ??= (async () => {
    const train = squares(256, 1);
    const labels = tf.tensor1d(train.labels, "float32");
    const model = squareFinder();
    model.compile({ optimizer: tf.train.adam(0.01), loss: "sparseCategoricalCrossentropy" });
    await model.fit(train.x, labels, { epochs: 6, batchSize: 32, shuffle: false, verbose: 0 });
    tf.dispose([train.x, labels]);
    return model;
  })();
  return trained;
}

/** The square finder's layers applied again as a functional model, and with a nested base. */
function functionalTwins(model: tf.Sequential) {
  const [conv1, pool1, conv2, gmp, out] = ["conv1", "pool1", "conv2", "gmp", "out"].map((n) =>
    model.getLayer(n)
  );
  const features = (x: tf.SymbolicTensor) =>
    conv2.apply(pool1.apply(conv1.apply(x))) as tf.SymbolicTensor;
  const input = tf.input({ shape: [SIZE, SIZE, 1] });
  const functional = tf.model({
    inputs: input,
    outputs: out.apply(gmp.apply(features(input))) as tf.SymbolicTensor,
    name: "functional_finder",
  });
  const baseInput = tf.input({ shape: [SIZE, SIZE, 1] });
  const base = tf.model({
    inputs: baseInput,
    outputs: features(baseInput),
    name: "base",
  });
  const outerInput = tf.input({ shape: [SIZE, SIZE, 1] });
  const nested = tf.model({
    inputs: outerInput,
    outputs: out.apply(gmp.apply(base.apply(outerInput))) as tf.SymbolicTensor,
    name: "nested_finder",
  });
  return { functional, nested };
}

/** The share of a heatmap's mass inside the square at `[top, left]`. */
async function massInside(heatmap: tf.Tensor, [top, left]: [number, number]): Promise<number> {
  const rows = await heatmap.array() as number[][];
  let inside = 0;
  let total = 0;
  rows.forEach((row, y) =>
    row.forEach((value, x) => {
      total += value;
      if (y >= top && y < top + SQUARE && x >= left && x < left + SQUARE) inside += value;
    })
  );
  return inside / total;
}

Deno.test("gradCam() puts most of the heatmap mass inside the bright square the model found", async () => {
  const model = await trainedSquareFinder();
  const test = squares(10, 99);
  const before = tf.memory().numTensors;
  const shares: number[] = [];
  for (let i = 1; i < 10; i += 2) {
    const image = tf.tidy(() => test.x.slice([i, 0, 0, 0], [1, -1, -1, -1]).squeeze([0]));
    const cam = await gradCam(model, image);
    assert.deepEqual(cam.heatmap.shape, [SIZE, SIZE]);
    assert.deepEqual(cam.classIndices, [1], `image ${i} has a square: the model must say so`);
    assert.ok(cam.probabilities[0] > 0.5);
    assert.equal(cam.layerName, "conv2");
    shares.push(await massInside(cam.heatmap, test.corners[i]));
    tf.dispose([cam.heatmap, image]);
  }
  assert.equal(tf.memory().numTensors, before, "gradCam leaked tensors");
  // The square is 36 of 576 pixels (6%); "most" of the mass must fall inside it, every time.
  for (const share of shares) assert.ok(share > 0.5, `mass inside the square: ${shares}`);
  test.x.dispose();
});

Deno.test("gradCam() gives the same heatmap for Sequential, functional and nested-base models", async () => {
  const model = await trainedSquareFinder();
  const { functional, nested } = functionalTwins(model);
  const test = squares(4, 5);
  const image = tf.tidy(() => test.x.slice([3, 0, 0, 0], [1, -1, -1, -1]));
  const maps: tf.Tensor[] = [];
  for (const m of [model, functional, nested]) {
    const cam = await gradCam(m, image, { layerName: "conv2", classIndex: 1 });
    assert.deepEqual(cam.heatmap.shape, [1, SIZE, SIZE], "a batch in gives a batch of heatmaps");
    maps.push(cam.heatmap);
  }
  for (const other of maps.slice(1)) {
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(maps[0], other))));
    assert.ok((await diff.data())[0] < 1e-5);
    diff.dispose();
  }
  assert.equal(gradCamLayer(nested).name, "conv2", "default layer is found inside the base");
  tf.dispose([...maps, image, test.x]);
});

Deno.test("gradCam() explains each image of a batch for its own class, in logit or probability mode", async () => {
  const model = await trainedSquareFinder();
  const test = squares(4, 11);
  const before = tf.memory().numTensors;
  const chosen = await gradCam(model, test.x, { classIndex: [0, 1, 0, 1] });
  assert.deepEqual(chosen.heatmap.shape, [4, SIZE, SIZE]);
  assert.deepEqual(chosen.classIndices, [0, 1, 0, 1]);
  const predicted = await gradCam(model, test.x, { score: "probability", upsample: false });
  assert.deepEqual(predicted.classIndices, test.labels, "the model finds every square");
  assert.deepEqual(predicted.heatmap.shape, [4, SIZE / 2, SIZE / 2], "conv2's size, after pool1");
  const values = await chosen.heatmap.data();
  assert.ok(values.every((v) => v >= 0 && v <= 1), "heatmaps are scaled to [0, 1]");
  tf.dispose([chosen.heatmap, predicted.heatmap]);
  assert.equal(tf.memory().numTensors, before, "gradCam leaked tensors");
  test.x.dispose();
});

Deno.test("gradCam() rejects bad images, layers and classes with precise messages", async () => {
  const model = await trainedSquareFinder();
  const before = tf.memory().numTensors;
  const wrong = tf.zeros([28, 28, 1]);
  await assert.rejects(
    gradCam(model, wrong),
    /expects images of shape \[24,24,1\], got \[28,28,1\]/,
  );
  const image = tf.zeros([SIZE, SIZE, 1]);
  await assert.rejects(gradCam(model, image, { classIndex: 2 }), /integer in \[0, 1\], got 2/);
  await assert.rejects(
    gradCam(model, image, { layerName: "nope" }),
    /layers are conv1, pool1, conv2/,
  );
  await assert.rejects(gradCam(model, image, { layerName: "out" }), /choose a conv layer/);
  await assert.rejects(gradCam(model, tf.zeros([4])), /got shape \[4\]/);
  tf.dispose([wrong, image]);
  // The rank-1 tensor above is the test's own; only explain's tensors must be gone.
  assert.equal(tf.memory().numTensors, before + 1);
});

Deno.test("activationModel() returns every conv and pooling output, like the course's Keras model", () => {
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 6, kernelSize: 5, name: "c1" }),
      tf.layers.maxPooling2d({ poolSize: 2, name: "p1" }),
      tf.layers.conv2d({ filters: 16, kernelSize: 5, name: "c2" }),
      tf.layers.flatten({ name: "f" }),
      tf.layers.dense({ units: 10, name: "d" }),
    ],
  });
  const probe = activationModel(model);
  assert.deepEqual(probe.outputNames, ["c1", "p1", "c2"]);
  const before = tf.memory().numTensors;
  const outputs = tf.tidy(() => probe.predict(tf.ones([2, 28, 28, 1]))) as tf.Tensor[];
  assert.deepEqual(outputs.map((t) => t.shape), [[2, 24, 24, 6], [2, 12, 12, 6], [2, 8, 8, 16]]);
  tf.dispose(outputs);
  assert.equal(tf.memory().numTensors, before);
  assert.deepEqual(activationModel(model, { layers: ["d", "c1"] }).outputNames, ["d", "c1"]);
  assert.throws(() => activationModel(model, { layers: ["x"] }), /Cannot find layer 'x'/);
});

Deno.test("activations() reads the same feature maps through a nested base model", async () => {
  const model = await trainedSquareFinder();
  const { nested } = functionalTwins(model);
  const image = tf.randomUniform([SIZE, SIZE, 1], 0, 1, "float32", 3);
  const before = tf.memory().numTensors;
  const direct = activations(model, image, { layers: ["conv1", "conv2"] });
  const throughBase = activations(nested, image, { layers: ["conv1", "conv2"] });
  assert.deepEqual(direct.map((a) => [a.name, a.className]), [["conv1", "Conv2D"], [
    "conv2",
    "Conv2D",
  ]]);
  assert.deepEqual(throughBase[1].value.shape, [1, SIZE / 2, SIZE / 2, 16]);
  for (let i = 0; i < 2; i++) {
    const a = await direct[i].value.data();
    const b = await throughBase[i].value.data();
    assert.ok(a.every((v, j) => Math.abs(v - b[j]) < 1e-5));
  }
  tf.dispose([...direct, ...throughBase].map((a) => a.value));
  assert.equal(tf.memory().numTensors, before);
  image.dispose();
  assert.equal(findLayer(nested, "conv1"), model.getLayer("conv1"));
});

Deno.test("visualizeFilter() raises the filter's activation over 40 steps and de-processes to 0–255", async () => {
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({
        inputShape: [20, 20, 3],
        filters: 4,
        kernelSize: 3,
        activation: "relu",
        kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }),
        name: "c1",
      }),
      tf.layers.conv2d({
        filters: 4,
        kernelSize: 3,
        kernelInitializer: tf.initializers.glorotUniform({ seed: 5 }),
        name: "c2",
      }),
    ],
  });
  const before = tf.memory().numTensors;
  const first = await visualizeFilter(model, "c2", 3, { seed: 1 });
  assert.equal(first.losses.length, 41, "40 steps: one loss before each and one after the last");
  const rises = first.losses.slice(1).filter((loss, i) => loss > first.losses[i]).length;
  assert.ok(rises >= 36 && first.losses[40] > first.losses[0], `ascent: ${first.losses}`);
  assert.deepEqual(first.image.shape, [20, 20, 3]);
  assert.equal(first.image.dtype, "int32");
  const pixels = await first.image.data();
  assert.ok(pixels.every((v) => v >= 0 && v <= 255));
  const again = await visualizeFilter(model, "c2", 3, { seed: 1 });
  assert.deepEqual(await again.image.data(), pixels, "same seed, same pattern");
  tf.dispose([first.image, again.image]);
  assert.equal(tf.memory().numTensors, before, "visualizeFilter leaked tensors");
  await assert.rejects(visualizeFilter(model, "c2", 4), /it has 4 filters \(0 to 3\)/);
});

Deno.test("deprocessImage() maps any float image to mean 127.5 and spread 25.5 in 0–255", async () => {
  const image = tf.tensor1d([-3, -1, 1, 3]);
  const shown = deprocessImage(image);
  const values = Array.from(await shown.data());
  // mean 0, std √5 → (v/√5)·0.1·255 + 127.5
  assert.deepEqual(
    values,
    [-3, -1, 1, 3].map((v) => Math.round((v / Math.sqrt(5)) * 25.5 + 127.5)),
  );
  tf.dispose([image, shown]);
});

Deno.test("explain finds layers by the Keras names cl.summary shows (conv2d_1) and reports those", async () => {
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [12, 12, 1], filters: 2, kernelSize: 3, activation: "relu" }),
      tf.layers.conv2d({ filters: 3, kernelSize: 3, activation: "relu" }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 2, activation: "softmax" }),
    ],
  });
  const [first, second] = model.layers;
  const shown = summary(model).rows.map((row) => row.name); // e.g. ["conv2d_4", "conv2d_5", …]
  assert.equal(kerasName(second), shown[1]);
  assert.notEqual(second.name, shown[1], "tfjs's own name differs (conv2d_Conv2D6)");
  assert.equal(findLayer(model, shown[1]), second);
  assert.equal(findLayer(model, second.name), second, "tfjs's names work too");
  const image = tf.randomUniform([12, 12, 1], 0, 1, "float32", 4);
  const cam = await gradCam(model, image, { layerName: shown[0] });
  assert.equal(cam.layerName, kerasName(first));
  cam.heatmap.dispose();
  const pattern = await visualizeFilter(model, shown[1], 2, { steps: 2 });
  assert.equal(pattern.layerName, shown[1]);
  pattern.image.dispose();
  const maps = activations(model, image);
  assert.deepEqual(maps.map((a) => a.name), shown.slice(0, 2));
  tf.dispose(maps.map((a) => a.value));
  assert.throws(() => findLayer(model, "nope"), new RegExp(`its layers are ${shown.join(", ")}`));
  image.dispose();
  model.dispose();
});

/** The square finder as a functional model of its own layers (the same seeded weights). */
function functionalSquareFinder(): tf.LayersModel {
  const input = tf.input({ shape: [SIZE, SIZE, 1] });
  const output = squareFinderLayers().reduce(
    (x, layer) => layer.apply(x) as tf.SymbolicTensor,
    input,
  );
  return tf.model({ inputs: input, outputs: output, name: "functional_square_finder" });
}

Deno.test("activationModel() and visualizeFilter() give functional and nested-base models the same results as the Sequential twin", async () => {
  const sequential = squareFinder();
  const functional = functionalSquareFinder();
  const image = tf.randomUniform([1, SIZE, SIZE, 1], 0, 1, "float32", 7);
  const before = tf.memory().numTensors;
  const probes = [activationModel(sequential), activationModel(functional)];
  assert.deepEqual(probes[1].outputNames, ["conv1", "pool1", "conv2"]); // global pooling: no map
  assert.deepEqual(probes[1].outputNames, probes[0].outputNames);
  const [fromSequential, fromFunctional] = probes.map((probe) =>
    tf.tidy(() => probe.predict(image)) as tf.Tensor[]
  );
  for (let i = 0; i < fromSequential.length; i++) {
    assert.deepEqual(fromFunctional[i].shape, fromSequential[i].shape);
    const a = await fromSequential[i].data();
    const b = await fromFunctional[i].data();
    assert.ok(a.every((v, j) => Math.abs(v - b[j]) < 1e-5), `output ${i} differs`);
  }
  tf.dispose([...fromSequential, ...fromFunctional]);
  // The functional model's feature layers as a base nested inside another model (lesson 04's shape).
  const base = tf.model({
    inputs: functional.inputs,
    outputs: functional.getLayer("conv2").output as tf.SymbolicTensor,
    name: "base",
  });
  const outer = tf.input({ shape: [SIZE, SIZE, 1] });
  const head = (x: tf.SymbolicTensor) =>
    functional.getLayer("out").apply(functional.getLayer("gmp").apply(x)) as tf.SymbolicTensor;
  const nested = tf.model({
    inputs: outer,
    outputs: head(base.apply(outer) as tf.SymbolicTensor),
    name: "nested",
  });
  const patterns = [];
  for (const model of [sequential, functional, nested]) {
    patterns.push(await visualizeFilter(model, "conv2", 3, { steps: 10, seed: 2 }));
  }
  assert.ok(patterns[0].losses[10] > patterns[0].losses[0], `ascent: ${patterns[0].losses}`);
  for (const other of patterns.slice(1)) {
    assert.deepEqual(other.losses, patterns[0].losses);
    assert.deepEqual(await other.image.data(), await patterns[0].image.data());
  }
  tf.dispose(patterns.map((p) => p.image));
  assert.equal(tf.memory().numTensors, before, "activationModel/visualizeFilter leaked tensors");
  image.dispose();
  sequential.dispose();
  functional.dispose();
});
