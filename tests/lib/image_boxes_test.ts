import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { image } from "../../lib/mod.ts";

/** Which pixels of an [h, w, 3] image equal `rgb`, as a picture of "#" and ".". */
async function painted(t: tf.Tensor, rgb: number[]): Promise<string[]> {
  const a = await t.array() as number[][][];
  return a.map((row) => row.map((p) => p.every((v, k) => v === rgb[k]) ? "#" : ".").join(""));
}

Deno.test("drawBoxes() outlines a normalised yxyx box as tf.image.draw_bounding_boxes places it", async () => {
  const before = tf.memory().numTensors;
  const img = tf.zeros([6, 6, 1], "int32");
  // y 0.2·5 = 1, x 0.2·5 = 1, y 0.8·5 = 4, x 1·5 = 5 (as TF places them).
  const out = await image.drawBoxes(img, [[0.2, 0.2, 0.8, 1]], { colors: [255, 0, 0] });
  assert.deepEqual(out.shape, [6, 6, 3]);
  assert.equal(out.dtype, "int32");
  assert.deepEqual(await painted(out, [255, 0, 0]), [
    "......",
    ".#####",
    ".#...#",
    ".#...#",
    ".#####",
    "......",
  ]);
  img.dispose();
  out.dispose();
  assert.equal(tf.memory().numTensors, before, "tensor leak");
});

Deno.test("drawBoxes() keeps float images in 0–1 and leaves pixels off the outline unchanged", async () => {
  const img = tf.fill([5, 5, 3], 0.5);
  const out = await image.drawBoxes(img, tf.tensor2d([[1, 1, 3, 3]]), {
    normalized: false,
    colors: [[0, 255, 0]],
  });
  assert.equal(out.dtype, "float32");
  const a = await out.array() as number[][][];
  assert.deepEqual(a[1][1], [0, 1, 0]); // corner: green as 0–1
  assert.deepEqual(a[2][2], [0.5, 0.5, 0.5]); // inside: untouched
  assert.deepEqual(a[0][0], [0.5, 0.5, 0.5]); // outside: untouched
  tf.dispose([img, out]);
});

Deno.test("drawBoxes() reads every box format the same way", async () => {
  const img = tf.zeros([10, 10, 3], "int32");
  const same = { normalized: false, colors: [255, 255, 255] as [number, number, number] };
  const reference = await painted(
    await image.drawBoxes(img, [[2, 3, 6, 8]], { ...same, format: "yxyx" }),
    [255, 255, 255],
  );
  for (
    const [format, box] of [
      ["xyxy", [3, 2, 8, 6]],
      ["xywh", [3, 2, 5, 4]],
      ["cxcywh", [5.5, 4, 5, 4]],
    ] as const
  ) {
    const out = await image.drawBoxes(img, [[...box]], { ...same, format });
    assert.deepEqual(await painted(out, [255, 255, 255]), reference, format);
    out.dispose();
  }
  img.dispose();
});

Deno.test("drawBoxes() gives each box its colour, clips boxes at the border and skips boxes outside", async () => {
  const img = tf.zeros([4, 4, 3], "int32");
  const out = await image.drawBoxes(
    img,
    [[-2, -2, 1, 1], [10, 10, 12, 12], [2, 2, 9, 9]],
    { normalized: false, colors: [[255, 0, 0], [0, 255, 0], [0, 0, 255]] },
  );
  assert.deepEqual(await painted(out, [255, 0, 0]), [".#..", "##..", "....", "...."]);
  assert.deepEqual(await painted(out, [0, 255, 0]), ["....", "....", "....", "...."]);
  assert.deepEqual(await painted(out, [0, 0, 255]), ["....", "....", "..##", "..#."]);
  tf.dispose([img, out]);
});

Deno.test("drawBoxes() draws thick outlines inwards", async () => {
  const img = tf.zeros([6, 6, 1]);
  const out = await image.drawBoxes(img, [[0, 0, 5, 5]], {
    normalized: false,
    lineWidth: 2,
    colors: [255, 255, 255],
  });
  assert.deepEqual(await painted(out, [1, 1, 1]), [
    "######",
    "######",
    "##..##",
    "##..##",
    "######",
    "######",
  ]);
  tf.dispose([img, out]);
});

Deno.test("drawBoxes() explains bad input", async () => {
  const img = tf.zeros([4, 4, 2]);
  await assert.rejects(() => image.drawBoxes(img, [[0, 0, 1, 1]]), /1 or 3 channels, got 2/);
  const rgb = tf.zeros([4, 4, 3]);
  await assert.rejects(() => image.drawBoxes(rgb, [[0, 0, 1]]), /box 0 must be 4 finite numbers/);
  await assert.rejects(
    () => image.drawBoxes(rgb, [[0, 0, 1, 1]], { colors: [300, 0, 0] }),
    /values 0–255/,
  );
  await assert.rejects(
    () => image.drawBoxes(rgb, [[0, 0, 1, 1]], { lineWidth: 0 }),
    /lineWidth must be a positive integer, got 0/,
  );
  await assert.rejects(
    () => image.drawBoxes(rgb, [[0, 0, 1, 1]], { format: "ltrb" as never }),
    /unknown box format "ltrb"/,
  );
  tf.dispose([img, rgb]);
});
