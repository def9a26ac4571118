import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { encode as encodePngRaw } from "fast-png";
import { image } from "../../lib/mod.ts";
import { hasCommand, skipUnless } from "../_skip.ts";

/** Assert `fn` leaves no tensors behind besides the ones it returns (which it disposes). */
async function noLeak<T>(fn: () => T | Promise<T>): Promise<T> {
  const before = tf.memory().numTensors;
  const result = await fn();
  const kept = result instanceof tf.Tensor ? 1 : 0;
  assert.equal(tf.memory().numTensors, before + kept, "tensor leak");
  return result;
}

/** A [h, w, 1] float tensor from rows. */
const grey = (rows: number[][], dtype: "float32" | "int32" = "float32") =>
  tf.tensor3d(rows.map((r) => r.map((v) => [v])), undefined, dtype);

async function rows(t: tf.Tensor): Promise<number[][]> {
  const a = await t.array() as number[][][];
  return a.map((r) => r.map((p) => p[0]));
}

function assertClose(actual: number[][], expected: number[][], tol = 1e-4) {
  assert.equal(actual.length, expected.length, "row count");
  actual.forEach((row, y) =>
    row.forEach((v, x) =>
      assert.ok(
        Math.abs(v - expected[y][x]) <= tol,
        `at [${y}, ${x}]: got ${v}, expected ${expected[y][x]}`,
      )
    )
  );
}

Deno.test("resize() bilinear uses half-pixel centres (2×2 → 4×4 by hand)", async () => {
  const input = grey([[0, 4], [8, 12]]);
  const out = await noLeak(() => image.resize(input, [4, 4]));
  assertClose(await rows(out), [
    [0, 1, 3, 4],
    [2, 3, 5, 6],
    [6, 7, 9, 10],
    [8, 9, 11, 12],
  ]);
  tf.dispose([input, out]);
});

Deno.test("resize() nearest picks TF2's half-pixel sources and keeps int32", async () => {
  const up = image.resize(grey([[0, 1], [2, 3]], "int32"), [4, 4], { method: "nearest" });
  assert.equal(up.dtype, "int32");
  assert.deepEqual(await rows(up), [[0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 3, 3], [2, 2, 3, 3]]);
  // Downscaling 4 → 2 samples source pixels 1 and 3 (floor((o + 0.5) · 2)), not 0 and 2.
  const down = image.resize(grey([[0, 1, 2, 3]]), [1, 2], { method: "nearest" });
  assert.deepEqual(await rows(down), [[1, 3]]);
  tf.dispose([up, down]);
});

Deno.test("resize() area averages exact overlaps (4→2 and 3→2)", async () => {
  const half = image.resize(grey([[0, 1, 2, 3]]), [1, 2], { method: "area" });
  assertClose(await rows(half), [[0.5, 2.5]]);
  // 3 → 2: cells [0, 1.5) and [1.5, 3): (0 + 0.5·3)/1.5 = 1 and (0.5·3 + 6)/1.5 = 5.
  const odd = image.resize(grey([[0, 3, 6]]), [1, 2], { method: "area" });
  assertClose(await rows(odd), [[1, 5]]);
  tf.dispose([half, odd]);
});

Deno.test("resize() antialias widens the triangle kernel by the scale (4→2 by hand)", async () => {
  const out = image.resize(grey([[0, 1, 2, 3]]), [1, 2], { antialias: true });
  // Output 0 samples at 1.0 with a triangle of half-width 2 over pixels 0, 1, 2: weights
  // .75, .75, .25 → 1.25/1.75; output 1 at 3.0 over pixels 1, 2, 3: .25, .75, .75 → 4/1.75.
  assertClose(await rows(out), [[1.25 / 1.75, 4 / 1.75]]);
  const plain = image.resize(grey([[0, 1, 2, 3]]), [1, 2]);
  assertClose(await rows(plain), [[0.5, 2.5]]);
  tf.dispose([out, plain]);
});

Deno.test("resize() bicubic reproduces a linear ramp inside and keeps constants", async () => {
  const ramp = image.resize(grey([[0, 10, 20, 30, 40, 50, 60, 70]]), [1, 16], {
    method: "bicubic",
  });
  const values = (await rows(ramp))[0];
  // Keys cubic is exact on linear data away from the borders: sample at (o + 0.5)/2 − 0.5.
  for (let o = 4; o < 12; o++) {
    assert.ok(Math.abs(values[o] - 10 * ((o + 0.5) / 2 - 0.5)) < 1e-3, `at ${o}: ${values[o]}`);
  }
  const flat = image.resize(tf.fill([5, 7, 3], 0.3), [3, 11], { method: "bicubic" });
  assert.ok((await flat.data()).every((v) => Math.abs(v - 0.3) < 1e-5));
  tf.dispose([ramp, flat]);
});

Deno.test("resize() handles batches, keeps aspect on request and rejects bad sizes", () => {
  const batch = image.resize(tf.zeros([2, 10, 20, 3]), [5, 5]);
  assert.deepEqual(batch.shape, [2, 5, 5, 3]);
  const kept = image.resize(tf.zeros([10, 20, 3]), [8, 8], { preserveAspectRatio: true });
  assert.deepEqual(kept.shape, [4, 8, 3]);
  assert.throws(
    () => image.resize(tf.zeros([4, 4, 3]), [-3, 4]),
    /Cannot resize image: height must be a positive integer, got -3/,
  );
  assert.throws(() => image.resize(tf.zeros([4, 4]) as never, [2, 2]), /got shape \[4, 4\]/);
  assert.throws(
    () => image.resize(tf.zeros([4, 4, 1]), [2, 2], { method: "lanczos" as never }),
    /method must be one of/,
  );
  tf.dispose([batch, kept]);
});

Deno.test("resize() matches PyTorch's antialiased bilinear on a random image", {
  ...skipUnless(hasCommand("/usr/bin/python3"), "/usr/bin/python3 (python3-torch) not found"),
}, async () => {
  const h = 17, w = 23, oh = 5, ow = 7;
  const data = Array.from({ length: h * w }, (_, i) => (i * 7919) % 97);
  const script = `
import torch, json, sys
x = torch.tensor(json.loads(sys.argv[1]), dtype=torch.float32).reshape(1, 1, ${h}, ${w})
for aa in (False, True):
    y = torch.nn.functional.interpolate(x, size=(${oh}, ${ow}), mode="bilinear", align_corners=False, antialias=aa)
    print(json.dumps(y.flatten().tolist()))`;
  const run = await new Deno.Command("/usr/bin/python3", {
    args: ["-c", script, JSON.stringify(data)],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!run.success) {
    const err = new TextDecoder().decode(run.stderr);
    if (/No module named 'torch'/.test(err)) return console.log("SKIP: python3-torch missing");
    throw new Error(err);
  }
  const [plainRef, aaRef] = new TextDecoder().decode(run.stdout).trim().split("\n").map((l) =>
    JSON.parse(l) as number[]
  );
  const x = tf.tensor3d(data, [h, w, 1]);
  for (const [antialias, ref] of [[false, plainRef], [true, aaRef]] as const) {
    const y = await image.resize(x, [oh, ow], { antialias }).data();
    ref.forEach((v, i) => assert.ok(Math.abs(v - y[i]) < 1e-3, `antialias=${antialias} [${i}]`));
  }
  x.dispose();
});

Deno.test("resizeWithPad() keeps the aspect ratio and pads with zeros", async () => {
  const img = grey([[1, 2, 3, 4], [5, 6, 7, 8]]);
  const out = await noLeak(() => image.resizeWithPad(img, [4, 4]));
  assertClose(await rows(out), [[0, 0, 0, 0], [1, 2, 3, 4], [5, 6, 7, 8], [0, 0, 0, 0]]);
  const tall = image.resizeWithPad(tf.ones([8, 2, 3]), [4, 4]);
  // 8×2 → 4×1, centred: columns floor((4 − 1)/2) = 1 hold the image.
  assert.deepEqual((await rows(tall.slice([0, 0, 0], [-1, -1, 1]))).map((r) => r.join("")), [
    "0100",
    "0100",
    "0100",
    "0100",
  ]);
  tf.dispose([img, out, tall]);
});

Deno.test("resizeWithCropOrPad() centre-crops one axis and pads the other", async () => {
  const img = grey([[1, 2], [3, 4], [5, 6], [7, 8]], "int32");
  const out = image.resizeWithCropOrPad(img, [2, 4]);
  assert.equal(out.dtype, "int32");
  assert.deepEqual(await rows(out), [[0, 3, 4, 0], [0, 5, 6, 0]]);
  tf.dispose([img, out]);
});

Deno.test("cropAndResize() samples normalised boxes as TF does", async () => {
  const img = grey([[0, 1, 2], [3, 4, 5], [6, 7, 8]]);
  const crops = await noLeak(() =>
    image.cropAndResize(img, [[0, 0, 1, 1], [0, 0, 0.5, 0.5]], [3, 3])
  );
  assert.deepEqual(crops.shape, [2, 3, 3, 1]);
  const [full, quarter] = (await crops.array()).map((c) => c.map((r) => r.map((p) => p[0])));
  assertClose(full, [[0, 1, 2], [3, 4, 5], [6, 7, 8]]);
  // y = x = 0, 0.5, 1 of the image's (H − 1): bilinear between the top-left four pixels.
  assertClose(quarter, [[0, 0.5, 1], [1.5, 2, 2.5], [3, 3.5, 4]]);
  const centre = image.cropAndResize(img, [[0.25, 0.25, 0.75, 0.75]], [1, 1]);
  assertClose((await centre.array())[0].map((r) => r.map((p) => p[0])), [[4]]);
  assert.throws(
    () => image.cropAndResize(img, [[0, 0, 1, 1]], [2, 2], { boxIndices: [1] }),
    /box index 0 is 1, but the batch has 1 image/,
  );
  tf.dispose([img, crops, centre]);
});

const PATCH = [
  [10, 20, 30, 40],
  [50, 60, 70, 80],
  [90, 100, 110, 120],
  [130, 140, 150, 160],
];

Deno.test("filter2D() box3 averages the window and follows OpenCV's border modes", async () => {
  const img = tf.tensor2d(PATCH, undefined, "int32");
  const corner = async (border: image.BorderMode) => {
    const out = image.filter2D(img, "box3", { border });
    const v = (await out.array() as number[][])[0][0];
    out.dispose();
    return v;
  };
  // Interior (1, 1): (10+20+30+50+60+70+90+100+110)/9 = 60.
  const out = await noLeak(() => image.filter2D(img, "box3"));
  assert.equal((await out.array() as number[][])[1][1], 60);
  out.dispose();
  // Corner (0, 0), worked on paper:
  assert.equal(await corner("reflect101"), 43); // rows/cols 1,0,1: 390/9 = 43.3
  assert.equal(await corner("replicate"), 27); //  rows/cols 0,0,1: 240/9 = 26.7
  assert.equal(await corner("reflect"), 27); //    same as replicate for a 1-pixel border
  assert.equal(await corner("constant"), 16); //   zeros outside: 140/9 = 15.6
  assert.equal(await corner("wrap"), 77); //       rows/cols 3,0,1: 690/9 = 76.7
  img.dispose();
});

Deno.test("filter2D() Sobel of a step edge: 400 (float) and saturated 255 (int)", async () => {
  const step = [0, 0, 0, 100, 100, 100];
  const img = tf.tensor2d([step, step, step], undefined, "int32");
  const raw = await image.filter2D(img, "sobelX", { depth: "float32" }).array() as number[][];
  assert.deepEqual(raw[1], [0, 0, 400, 400, 0, 0]);
  const sat = await image.filter2D(img, "sobelX").array() as number[][];
  assert.deepEqual(sat[1], [0, 0, 255, 255, 0, 0]);
  const down = tf.tensor2d([step.toReversed()], undefined, "int32");
  const neg = await image.filter2D(down, "sobelX", { depth: "float32" }).array() as number[][];
  assert.deepEqual(neg[0], [0, 0, -400, -400, 0, 0]); // one row: reflect101 repeats it
  assert.throws(() => image.filter2D(img, "blur9" as never), /unknown kernel "blur9"/);
  assert.throws(() => image.filter2D(img, [[1, 2], [3]]), /kernel row 1 has a different length/);
  tf.dispose([img, down]);
});

Deno.test("filter2D() filters each channel of a colour batch alike", async () => {
  const img = tf.stack([tf.fill([5, 5, 3], 90, "int32"), tf.fill([5, 5, 3], 30, "int32")]);
  const out = image.filter2D(img, "box5");
  assert.deepEqual(out.shape, [2, 5, 5, 3]);
  const values = await out.data();
  assert.ok(values.slice(0, 75).every((v) => v === 90) && values.slice(75).every((v) => v === 30));
  tf.dispose([img, out]);
});

Deno.test("toGrayscale() weighs R, G, B by 0.299, 0.587, 0.114", async () => {
  const rgb = tf.tensor3d(
    [[[255, 0, 0], [0, 255, 0], [0, 0, 255], [10, 20, 30]]],
    undefined,
    "int32",
  );
  const g = await noLeak(() => image.toGrayscale(rgb));
  assert.deepEqual(g.shape, [1, 4, 1]);
  assert.deepEqual([...await g.data()], [76, 150, 29, 18]); // 18.15 → 18
  const f = image.toGrayscale(tf.tensor3d([[[1, 1, 1, 0.5]]]));
  assert.ok(Math.abs((await f.data())[0] - 1) < 1e-6);
  assert.throws(() => image.toGrayscale(tf.zeros([2, 2, 2])), /expected 3 \(RGB\) or 4/);
  tf.dispose([rgb, g, f]);
});

Deno.test("normalizeMinMax() maps min→0 and max→1, constants to 0", async () => {
  assert.deepEqual([...await image.normalizeMinMax(tf.tensor1d([2, 4, 6])).data()], [0, 0.5, 1]);
  assert.deepEqual([...await image.normalizeMinMax(tf.fill([3], 7)).data()], [0, 0, 0]);
  const wide = await image.normalizeMinMax(tf.tensor1d([0, 1]), { low: -1, high: 1 }).data();
  assert.deepEqual([...wide], [-1, 1]);
});

Deno.test("fillRegion() writes the course's slices and clips them like NumPy", async () => {
  const img = tf.zeros([4, 5, 3], "int32") as tf.Tensor3D;
  const white = image.fillRegion(img, { rows: [1, 3], cols: [1, 3], value: 255 });
  const a = await white.array();
  assert.deepEqual(a[1][1], [255, 255, 255]);
  assert.deepEqual(a[0][0], [0, 0, 0]);
  assert.deepEqual(a[3][2], [0, 0, 0]);
  const blue = await image.fillRegion(img, { rows: [2, 99], channel: 2, value: 255 }).array();
  assert.deepEqual(blue[3][4], [0, 0, 255]);
  assert.deepEqual(blue[1][4], [0, 0, 0]);
  assert.throws(
    () => image.fillRegion(img, { channel: 3, value: 1 }),
    /channel must be an integer in \[0, 3\)/,
  );
  assert.equal((await img.data()).every((v) => v === 0), true, "input untouched");
  tf.dispose([img, white]);
});

Deno.test("colormaps match matplotlib's jet and viridis at known points", () => {
  const jet = image.colormapTable("jet");
  assert.deepEqual([...jet.slice(0, 3)], [0, 0, 0.5]);
  assert.deepEqual([...jet.slice(255 * 3)], [0.5, 0, 0]);
  // matplotlib 3.6: cm.jet(100) = (0.13599, 1.0, 0.83175)
  [0.13598988, 1, 0.83175206].forEach((v, i) => assert.ok(Math.abs(jet[300 + i] - v) < 1e-5));
  const viridis = image.colormapTable("viridis");
  assert.deepEqual([...viridis.slice(0, 3)].map((v) => Math.round(v * 255)), [0x44, 0x01, 0x54]);
  assert.deepEqual([...viridis.slice(765)].map((v) => Math.round(v * 255)), [0xfd, 0xe7, 0x25]);
});

Deno.test("applyColormap() and overlay() give [h, w, 3] in 0–1 without leaks", async () => {
  const values = tf.tensor2d([[0, 0.5, 1, 7]]);
  const rgb = await noLeak(() => image.applyColormap(values, "jet"));
  assert.deepEqual(rgb.shape, [1, 4, 3]);
  assert.deepEqual((await rgb.array())[0][3], [0.5, 0, 0]); // clipped to the top colour
  const img = tf.fill([8, 8, 3], 255, "int32") as tf.Tensor3D;
  const heat = tf.tensor2d([[0, 1], [1, 0]]);
  const none = await noLeak(() => image.overlay(heat, img, { alpha: 0 }));
  assert.ok((await none.data()).every((v) => Math.abs(v - 1) < 1e-6));
  const full = image.overlay(heat, img, { alpha: 1 });
  const topLeft = (await full.array())[0][0];
  assert.deepEqual(topLeft.map((v) => Math.round(v * 1000) / 1000), [0, 0, 0.5]); // jet(0)
  assert.throws(() => image.overlay(heat, img, { alpha: 2 }), /alpha must be in \[0, 1\]/);
  tf.dispose([values, rgb, img, heat, none, full]);
});

Deno.test("encodePng() → decodeImage() round-trips 1, 3 and 4 channels exactly", async () => {
  for (const c of [1, 3, 4]) {
    const values = Array.from({ length: 5 * 7 * c }, (_, i) => (i * 37) % 256);
    const img = tf.tensor3d(values, [5, 7, c], "int32");
    const back = image.decodeImage(await image.encodePng(img));
    assert.deepEqual(back.shape, [5, 7, c]);
    assert.deepEqual([...await back.data()], values);
    tf.dispose([img, back]);
  }
});

Deno.test("decodeImage() converts channels and dtype on request", async () => {
  const png = await image.encodePng(tf.tensor3d([[[255, 0, 0], [0, 0, 255]]], undefined, "int32"));
  const g = image.decodeImage(png, { channels: 1 });
  assert.deepEqual([...await g.data()], [76, 29]);
  const rgba = image.decodeImage(png, { channels: 4, dtype: "float32" });
  assert.equal(rgba.dtype, "float32");
  assert.deepEqual([...await rgba.data()], [1, 0, 0, 1, 0, 0, 1, 1]);
  tf.dispose([g, rgba]);
});

Deno.test("decodeImage() reads 16-bit and 1-bit PNGs scaled to 0–255", async () => {
  const sixteen = encodePngRaw({
    width: 2,
    height: 1,
    depth: 16,
    channels: 1,
    data: new Uint16Array([0, 65535]),
  });
  assert.deepEqual([...await image.decodeImage(sixteen).data()], [0, 255]);
  const oneBit = encodePngRaw({
    width: 3,
    height: 1,
    depth: 1,
    channels: 1,
    data: new Uint8Array([0b10100000]),
  });
  assert.deepEqual([...await image.decodeImage(oneBit).data()], [255, 0, 255]);
});

Deno.test("JPEG encode → decode stays close to the original", async () => {
  const ramp = tf.tidy(() =>
    tf.cast(tf.tile(tf.reshape(tf.linspace(0, 255, 32), [1, 32, 1]), [16, 1, 3]), "int32")
  );
  const bytes = await image.encodeJpeg(ramp, { quality: 95 });
  assert.equal(image.sniffImageFormat(bytes), "jpeg");
  const back = image.decodeImage(bytes);
  assert.deepEqual(back.shape, [16, 32, 3]);
  const errT = tf.tidy(() => tf.mean(tf.abs(tf.sub(back, ramp))));
  const err = (await errT.data())[0];
  errT.dispose();
  assert.ok(err < 3, `mean abs error ${err}`);
  tf.dispose([ramp, back]);
});

Deno.test("image codecs give clear errors for bad input", async () => {
  assert.throws(
    () => image.decodeImage(new TextEncoder().encode("<html>")),
    /Cannot decode image: not a PNG or JPEG file \(first bytes: 3c 68 74 6d 6c 3e\)/,
  );
  const png = await image.encodePng(tf.zeros([4, 4, 3], "int32"));
  assert.throws(() => image.decodeImage(png.slice(0, 40)), /Cannot decode PNG/);
  await assert.rejects(
    image.encodePng(tf.fill([2, 2, 3], 255)),
    /float32 images must hold values in \[0, 1\], got \[255, 255\]; divide by 255/,
  );
  await assert.rejects(image.encodePng(tf.zeros([2, 2, 5])), /expected 1, 2, 3 or 4 channels/);
  await assert.rejects(image.encodeJpeg(tf.zeros([2, 2, 3]), { quality: 0 }), /quality/);
});

Deno.test("writeImage() → readImage() round-trips files and names missing ones", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const img = tf.tensor3d(Array.from({ length: 48 }, (_, i) => i * 5), [4, 4, 3], "int32");
    await image.writeImage(`${dir}/sub/a.png`, img);
    const back = await image.readImage(`${dir}/sub/a.png`);
    assert.deepEqual([...await back.data()], [...await img.data()]);
    assert.deepEqual([...Deno.readDirSync(`${dir}/sub`)].map((e) => e.name), ["a.png"]);
    await assert.rejects(image.writeImage(`${dir}/a.gif`, img), /unknown extension/);
    await assert.rejects(image.readImage(`${dir}/missing.png`), /no file at .*missing\.png/);
    await Deno.writeTextFile(`${dir}/bad.jpg`, "not a jpeg");
    await assert.rejects(image.readImage(`${dir}/bad.jpg`), /not a PNG or JPEG.*bad\.jpg/);
    tf.dispose([img, back]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("testCard() is deterministic and has edges, a gradient and colour", async () => {
  const a = await image.testCard();
  const b = await image.testCard();
  assert.deepEqual(a.shape, [240, 320, 3]);
  assert.equal(a.dtype, "int32");
  assert.deepEqual(await a.data(), await b.data());
  const pixels = await a.array();
  // The grey gradient band (y = 95) rises from black to white left to right.
  const band = pixels[95].map((p) => p[0]);
  assert.ok(band[2] < 20 && band[317] > 235, `gradient ends ${band[2]} ${band[317]}`);
  for (let x = 10; x < 310; x += 10) assert.ok(band[x + 10] >= band[x], `monotone at ${x}`);
  // Colour bars: the last bar is blue.
  assert.deepEqual(pixels[40][310], [0, 0, 192]);
  // Sharp edges: the Sobel response saturates somewhere.
  const edgesT = tf.tidy(() => tf.max(image.filter2D(image.toGrayscale(a), "sobelX")));
  const edges = (await edgesT.data())[0];
  edgesT.dispose();
  assert.equal(edges, 255);
  const small = await image.testCard({ size: [60, 80] });
  assert.deepEqual(small.shape, [60, 80, 3]);
  tf.dispose([a, b, small]);
});

Deno.test("rasterizeSvg() renders shapes to a PNG of the stated size", async () => {
  const png = await image.rasterizeSvg(
    '<svg xmlns="http://www.w3.org/2000/svg" width="30" height="20"><rect width="10" height="20" fill="#ff0000"/></svg>',
    { width: 60 },
  );
  const img = image.decodeImage(png, { channels: 4 });
  assert.deepEqual(img.shape, [40, 60, 4]);
  assert.deepEqual((await img.array())[10][5], [255, 0, 0, 255]);
  await assert.rejects(image.rasterizeSvg("hello"), /expected SVG markup/);
  img.dispose();
});

Deno.test("digits() gives real embedded MNIST digits, seeded, without leaks", async () => {
  const before = tf.memory().numTensors;
  const a = await image.digits({ count: 10, seed: 3 });
  assert.equal(tf.memory().numTensors, before + 1, "only the images are kept");
  assert.deepEqual(a.images.shape, [10, 28, 28, 1]);
  assert.equal(a.images.dtype, "int32");
  assert.deepEqual([...a.labels].sort(), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], "class-balanced draw");
  const values = await a.images.data();
  assert.ok(values.some((v) => v > 200) && values.some((v) => v === 0), "ink on a black ground");
  const b = await image.digits({ count: 10, seed: 3 });
  assert.deepEqual(await b.images.data(), values);
  await assert.rejects(image.digits({ count: 0 }), /count must be an integer 1–1000, got 0/);
  tf.dispose([a.images, b.images]);
});

Deno.test("decodeImage() keeps a grayscale JPEG's one channel, as tf.io.decode_jpeg does", async () => {
  // 3×4 grey JPEG written by Pillow (quality 100): [[0, 64, 128, 255], [255, 128, 64, 0], [10, …]].
  const bytes = await Deno.readFile(new URL("../fixtures/lib/gray.jpg", import.meta.url));
  const grey = image.decodeImage(bytes);
  assert.deepEqual(grey.shape, [3, 4, 1]);
  assertClose(await rows(grey), [[0, 64, 128, 255], [255, 128, 64, 0], [10, 20, 30, 40]], 2);
  const rgb = image.decodeImage(bytes, { channels: 3 });
  assert.deepEqual(rgb.shape, [3, 4, 3]);
  tf.dispose([grey, rgb]);
});

Deno.test("decodeImage() says a truncated or corrupt PNG/JPEG is truncated or corrupt", async () => {
  const noise = tf.tidy(() =>
    tf.cast(tf.randomUniform([32, 32, 3], 0, 255, "float32", 3), "int32")
  );
  const png = await image.encodePng(noise);
  const jpeg = await image.encodeJpeg(noise);
  noise.dispose();
  for (const [name, bytes] of [["PNG", png], ["JPEG", jpeg]] as const) {
    for (const cut of [bytes.slice(0, 8), bytes.slice(0, bytes.length >> 1)]) {
      assert.throws(
        () => image.decodeImage(cut),
        new RegExp(`Cannot decode ${name}: the file is truncated or corrupt`),
      );
    }
  }
  // A flipped bit in the pixel data: the chunk's CRC no longer matches (libpng refuses it too).
  const flipped = png.slice();
  flipped[png.length - 20] ^= 0x10;
  assert.throws(
    () => image.decodeImage(flipped),
    /Cannot decode PNG: the file is truncated or corrupt \(CRC mismatch for chunk IDAT/,
  );
});

Deno.test("resize() preserveAspectRatio rounds the kept size half to even, as TF's tf.round", () => {
  // [4, 6] into [3, 100]: scale 0.75, width 6 × 0.75 = 4.5 → 4 (TF), not 5; 2.5 → 2, 3.5 → 4.
  const cases: [[number, number], [number, number], [number, number]][] = [
    [[4, 6], [3, 100], [3, 4]],
    [[2, 5], [1, 100], [1, 2]],
    [[2, 7], [1, 100], [1, 4]],
  ];
  for (const [[h, w], size, expected] of cases) {
    const out = image.resize(tf.zeros([h, w, 1]), size, { preserveAspectRatio: true });
    assert.deepEqual(out.shape.slice(0, 2), expected, `[${h}, ${w}] into [${size}]`);
    out.dispose();
  }
});

Deno.test("image functions reject options they do not know (Keras/OpenCV spellings)", () => {
  const img = tf.zeros([4, 4, 3]);
  assert.throws(
    () => image.resize(img, [2, 2], { preserve_aspect_ratio: true } as never),
    /Cannot resize image: unknown option "preserve_aspect_ratio" \(options are camelCase: preserveAspectRatio\)/,
  );
  assert.throws(
    () => image.filter2D(img, "box3", { borderType: "constant" } as never),
    /Cannot filter image: unknown option "borderType" \(known: border, borderValue, depth\)/,
  );
  img.dispose();
});

Deno.test("overlay() takes an RGBA picture (a PNG with alpha) and a Grad-CAM batch of one", async () => {
  const rgba = tf.fill([6, 6, 4], 255, "int32") as tf.Tensor3D;
  const heat = tf.tensor3d([[[0, 1], [1, 0]]]); // [1, 2, 2]: gradCam's heatmap of a one-image batch
  const out = await noLeak(() => image.overlay(heat, rgba, { alpha: 0 }));
  assert.deepEqual(out.shape, [6, 6, 3]);
  assert.ok((await out.data()).every((v) => Math.abs(v - 1) < 1e-6), "alpha 0 is the picture");
  tf.dispose([rgba, heat, out]);
});
