import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { ImageDataset, selectClasses } from "../../../lib/data/mod.ts";

/** A 2×1×1 dataset whose pixel value encodes the original label (label·10 + index). */
function toy(trainLabels: number[], testLabels: number[]): ImageDataset {
  const split = (labels: number[]) => ({
    images: Uint8Array.from(labels.flatMap((l, i) => [l * 10 + i, l * 10 + i])),
    labels: Uint8Array.from(labels),
  });
  return new ImageDataset(split(trainLabels), split(testLabels), {
    name: "toy",
    title: "Toy",
    source: "full",
    origin: "a test",
    trainCount: trainLabels.length,
    testCount: testLabels.length,
    availableTrain: trainLabels.length,
    availableTest: testLabels.length,
    imageShape: [2, 1, 1],
    classNames: ["zero", "one", "two", "three"],
    normalize: false,
    oneHot: false,
    flatten: false,
  });
}

Deno.test("selectClasses() keeps only the given classes, relabelled in the order given", async () => {
  const data = toy([0, 1, 2, 3, 2, 1], [3, 0, 2]);
  const picked = selectClasses(data, [2, 1]);
  assert.deepEqual(picked.classNames, ["two", "one"]);
  assert.deepEqual([...picked.arrays.yTrain], [1, 0, 0, 1]); // 1→1, 2→0, 2→0, 1→1
  // The images that came along are the right ones (first pixel = old label·10 + index).
  assert.deepEqual([...picked.arrays.xTrain].filter((_, i) => i % 2 === 0), [11, 22, 24, 15]);
  assert.deepEqual([...picked.arrays.yTest], [0]);
  assert.equal(picked.info.trainCount, 4);
  assert.match(picked.summary(), /Toy, classes 2, 1 \(two, one\)/);
  // Tensors follow the source's options and the source is untouched.
  assert.deepEqual(await picked.yTrain.data(), Int32Array.from([1, 0, 0, 1]));
  assert.deepEqual([...data.arrays.yTrain], [0, 1, 2, 3, 2, 1]);
  picked.dispose();
  data.dispose();
});

Deno.test("selectClasses() draws a stratified, seeded subset and says so", () => {
  const labels = Array.from({ length: 40 }, (_, i) => i % 4);
  const data = toy(labels, labels);
  const a = selectClasses(data, [0, 3], { subset: { train: 6 }, seed: 7 });
  const b = selectClasses(data, [0, 3], { subset: { train: 6 }, seed: 7 });
  assert.equal(a.count("train"), 6);
  assert.equal(a.count("test"), 20);
  assert.deepEqual([...a.arrays.yTrain].sort(), [0, 0, 0, 1, 1, 1]);
  assert.deepEqual(a.arrays.xTrain, b.arrays.xTrain);
  assert.equal(a.info.subsetSeed, 7);
  assert.equal(a.info.availableTrain, 20);
  assert.match(a.summary(), /random subset of 20\/20, seed 7/);
});

Deno.test("selectClasses() explains bad class lists", () => {
  const data = toy([0, 1], [0, 1]);
  assert.throws(() => selectClasses(data, []), /at least one class/);
  assert.throws(() => selectClasses(data, [4]), /class 4 does not exist \(it has classes 0 to 3\)/);
  assert.throws(() => selectClasses(data, [1, 1]), /classes repeat/);
  assert.throws(() => selectClasses(data, [3]), /training split has no images of classes \[3\]/);
  assert.throws(() => selectClasses(data, [0], { subset: { train: 0 } }), /positive integer/);
  assert.equal(tf.memory().numTensors, 0);
});
