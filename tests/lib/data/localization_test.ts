import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { ImageDataset, placeOnCanvas } from "../../../lib/data/mod.ts";

/** 4×4 grey images: image i has one bright 2×2 block at a place that depends on i. */
function blocks(count: number): ImageDataset {
  const images = new Uint8Array(count * 16);
  for (let i = 0; i < count; i++) {
    const [r, c] = [i % 3, (i + 1) % 3];
    for (const [y, x] of [[r, c], [r, c + 1], [r + 1, c], [r + 1, c + 1]]) {
      images[i * 16 + y * 4 + x] = 255;
    }
  }
  const labels = Uint8Array.from({ length: count }, (_, i) => i % 2);
  const split = { images, labels };
  return new ImageDataset(split, split, {
    name: "blocks",
    title: "Blocks",
    source: "full",
    origin: "a test",
    trainCount: count,
    testCount: count,
    availableTrain: count,
    availableTest: count,
    imageShape: [4, 4, 1],
    classNames: ["even", "odd"],
    normalize: true,
    oneHot: false,
    flatten: false,
  });
}

Deno.test("placeOnCanvas() boxes are the tightest boxes around the object's pixels", async () => {
  const before = tf.memory().numTensors;
  const scenes = placeOnCanvas(blocks(6), {
    count: 12,
    canvasSize: 20,
    sizeRange: [4, 12],
    noise: 0,
    seed: 3,
  });
  assert.deepEqual(scenes.images.shape, [12, 20, 20, 1]);
  assert.deepEqual(scenes.boxes.shape, [12, 4]);
  assert.deepEqual(scenes.classNames, ["even", "odd"]);
  const pictures = await scenes.images.array() as number[][][][];
  const boxes = await scenes.boxes.array() as number[][];
  pictures.forEach((picture, n) => {
    const inked: [number, number][] = [];
    picture.forEach((row, y) => row.forEach(([v], x) => v > 0.1 && inked.push([y, x])));
    assert.ok(inked.length > 0, `scene ${n} is empty`);
    const ys = inked.map(([y]) => y), xs = inked.map(([, x]) => x);
    const expected = [Math.min(...ys), Math.min(...xs), Math.max(...ys), Math.max(...xs)]
      .map((v) => v / 19);
    boxes[n].forEach((v, k) =>
      assert.ok(Math.abs(v - expected[k]) < 1e-6, `scene ${n}: ${boxes[n]} vs ${expected}`)
    );
  });
  // Labels follow the images (two classes, count repeats the six images).
  assert.deepEqual([...await scenes.labels.data()].sort(), [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1]);
  tf.dispose([scenes.images, scenes.labels, scenes.boxes]);
  assert.equal(tf.memory().numTensors, before, "tensor leak");
});

Deno.test("placeOnCanvas() is repeatable with a seed and varies sizes and places", async () => {
  const data = blocks(6);
  const a = placeOnCanvas(data, { count: 30, canvasSize: 24, seed: 9, sizeRange: [4, 16] });
  const b = placeOnCanvas(data, { count: 30, canvasSize: 24, seed: 9, sizeRange: [4, 16] });
  assert.deepEqual(await a.images.data(), await b.images.data());
  const boxes = await a.boxes.array() as number[][];
  const tops = new Set(boxes.map((box) => box[0].toFixed(3)));
  const heights = new Set(boxes.map((box) => (box[2] - box[0]).toFixed(3)));
  assert.ok(tops.size > 5 && heights.size > 3, `places ${tops.size}, sizes ${heights.size}`);
  for (const box of boxes) assert.ok(box.every((v) => v >= 0 && v <= 1) && box[0] <= box[2]);
  tf.dispose([a.images, a.labels, a.boxes, b.images, b.labels, b.boxes]);
});

Deno.test("placeOnCanvas() explains sizes that do not fit", () => {
  const data = blocks(2);
  assert.throws(
    () => placeOnCanvas(data, { canvasSize: 10, sizeRange: [4, 12] }),
    /1 ≤ min ≤ max ≤ canvasSize \(10\), got \[4, 12\]/,
  );
  assert.throws(() => placeOnCanvas(data, { count: 0 }), /count must be a positive integer, got 0/);
  assert.throws(() => placeOnCanvas(data, { noise: 2 }), /noise must be in \[0, 1\], got 2/);
});
