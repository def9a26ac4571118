import assert from "node:assert/strict";
import * as cl from "../../lib/mod.ts";
import {
  applyTransforms,
  transformMatrix,
  type TransformParams,
} from "../../lib/augment/affine.ts";
import { RandomStream } from "../../lib/random.ts";

const { tf } = cl;
const NONE: TransformParams = {
  theta: 0,
  tx: 0,
  ty: 0,
  shear: 0,
  zx: 1,
  zy: 1,
  flipHorizontal: false,
  flipVertical: false,
};

/** A batch whose pixel values are all different: value = image·1000 + row·w + col (+ channel). */
function indexed(n: number, h: number, w: number, c = 1) {
  return tf.tidy(() =>
    tf.add(tf.reshape(tf.range(0, n * h * w * c), [n, h, w, c]), 0).cast(
      "float32",
    ) as cl.tf.Tensor4D
  );
}

async function same(a: cl.tf.Tensor, b: cl.tf.Tensor, tol = 1e-4): Promise<boolean> {
  const [x, y] = [await a.data(), await b.data()];
  return x.length === y.length && x.every((v, i) => Math.abs(v - y[i]) <= tol);
}

Deno.test("ImageDataGenerator with zero ranges is the identity (Keras defaults)", async () => {
  const x = indexed(3, 5, 6, 3);
  const before = tf.memory().numTensors;
  const out = new cl.ImageDataGenerator().augment(x, { seed: 1 });
  assert.equal(tf.memory().numTensors, before + 1, "only the result is kept");
  assert.equal(out.dtype, "float32");
  assert.ok(await same(out, x));
  const gen = new cl.ImageDataGenerator({ rotationRange: 0, zoomRange: 0, widthShiftRange: 0 });
  assert.equal(gen.options.fillMode, "nearest");
  assert.ok(await same(gen.augment(x, { seed: 2 }), x));
  tf.dispose([x, out]);
});

Deno.test("a horizontal flip applied twice is the identity; vertical flips rows", async () => {
  const x = indexed(2, 4, 5);
  const flip = transformMatrix({ ...NONE, flipHorizontal: true }, 4, 5);
  const once = applyTransforms(x, [flip, flip]);
  assert.ok(await same(once, tf.reverse(x, 2)), "one flip mirrors columns");
  const twice = applyTransforms(once, [flip, flip]);
  assert.ok(await same(twice, x), "two flips restore the image");
  const v = applyTransforms(x, [transformMatrix({ ...NONE, flipVertical: true }, 4, 5), flip]);
  assert.ok(await same(v.slice(0, 1), tf.reverse(x.slice(0, 1), 1)));
});

Deno.test("horizontalFlip gives each image either itself or its mirror", async () => {
  const x = indexed(16, 3, 4);
  const out = new cl.ImageDataGenerator({ horizontalFlip: true }).augment(x, { seed: 5 });
  let flipped = 0;
  for (let i = 0; i < 16; i++) {
    const xi = x.slice(i, 1), oi = out.slice(i, 1);
    if (await same(oi, tf.reverse(xi, 2))) flipped++;
    else assert.ok(await same(oi, xi), `image ${i} is neither`);
  }
  assert.ok(flipped > 2 && flipped < 14, `about half flipped, got ${flipped}`);
});

Deno.test("rotation by 90° with reflect preserves the pixel histogram", async () => {
  const x = indexed(1, 6, 6);
  const r = applyTransforms(x, [transformMatrix({ ...NONE, theta: 90 }, 6, 6)], {
    fillMode: "reflect",
  });
  const sorted = async (t: cl.tf.Tensor) =>
    [...await t.data()].map(Math.round).sort((a, b) => a - b);
  assert.deepEqual(await sorted(r), await sorted(x));
  assert.ok(!(await same(r, x)), "but the picture changed");
  // Four quarter turns come back to the start.
  const m = transformMatrix({ ...NONE, theta: 90 }, 6, 6);
  let y = x;
  for (let i = 0; i < 4; i++) y = applyTransforms(y, [m], { fillMode: "reflect" });
  assert.ok(await same(y, x, 1e-3));
});

Deno.test("a width shift of one pixel moves the picture left, edges filled as fillMode says", async () => {
  const row = [[0], [10], [20], [30]];
  const x = tf.tensor4d([[row, row]]); // 1 image, 2×4, values by column
  const shift = (fillMode: "nearest" | "constant" | "wrap" | "reflect") =>
    new cl.ImageDataGenerator({ widthShiftRange: [1], fillMode, cval: -1 }).augment(x, { seed: 1 });
  assert.deepEqual([...(await shift("nearest").data()).slice(0, 4)], [10, 20, 30, 30]);
  assert.deepEqual([...(await shift("constant").data()).slice(0, 4)], [10, 20, 30, -1]);
  assert.deepEqual([...(await shift("wrap").data()).slice(0, 4)], [10, 20, 30, 0]);
  assert.deepEqual([...(await shift("reflect").data()).slice(0, 4)], [10, 20, 30, 30]);
});

Deno.test("randomParams follow Keras's units: fractions vs pixels, degrees, zoom range", () => {
  const gen = new cl.ImageDataGenerator({
    rotationRange: 40,
    widthShiftRange: 3,
    heightShiftRange: 0.25,
    shearRange: 10,
    zoomRange: 0.2,
  });
  const rng = new RandomStream(9);
  for (let i = 0; i < 200; i++) {
    const p = gen.randomParams(32, 64, rng);
    assert.ok(Math.abs(p.theta) <= 40);
    assert.ok(Number.isInteger(p.ty) && Math.abs(p.ty) <= 3, `whole pixels: ${p.ty}`);
    assert.ok(Math.abs(p.tx) <= 8, `a quarter of the height: ${p.tx}`);
    assert.ok(Math.abs(p.shear) <= 10);
    assert.ok(p.zx >= 0.8 && p.zx <= 1.2 && p.zy >= 0.8 && p.zy <= 1.2);
  }
});

Deno.test("brightness and channel shift scale and clip values; rescale comes last", async () => {
  const x = tf.tensor4d([[[[0.3], [0.7]]]]);
  const bright = new cl.ImageDataGenerator({ brightnessRange: [2, 2] }).augment(x, { seed: 1 });
  assert.deepEqual([...await bright.data()].map((v) => Number(v.toFixed(4))), [0.6, 1]);
  const x255 = tf.tensor4d([[[[100], [200]]]]);
  const b255 = new cl.ImageDataGenerator({ brightnessRange: [1.5, 1.5], rescale: 1 / 255 }).augment(
    x255,
  );
  assert.deepEqual([...await b255.data()].map((v) => Number(v.toFixed(4))), [0.5882, 1]);
  const shifted = await new cl.ImageDataGenerator({ channelShiftRange: 50 }).augment(x255, {
    seed: 3,
  })
    .data();
  assert.ok(shifted[0] >= 100 && shifted[1] <= 200, "clipped to the image's own range");
  assert.ok(
    Math.abs(shifted[1] - shifted[0] - 100) < 1e-3 || shifted[0] === 100 || shifted[1] === 200,
  );
});

Deno.test("fit() gives featurewise statistics that standardize uses", async () => {
  const x = tf.randomNormal([50, 4, 4, 3], 5, 2, "float32", 7);
  const gen = new cl.ImageDataGenerator({
    featurewiseCenter: true,
    featurewiseStdNormalization: true,
  });
  assert.throws(() => gen.standardize(x), /call generator.fit\(xTrain\) first/);
  await gen.fit(x);
  assert.equal(gen.mean!.length, 3);
  assert.ok(gen.mean!.every((m) => Math.abs(m - 5) < 0.5));
  const z = gen.standardize(x);
  const { mean, variance } = tf.moments(z, [0, 1, 2]);
  assert.ok((await mean.data()).every((m) => Math.abs(m) < 1e-4));
  assert.ok((await variance.data()).every((v) => Math.abs(v - 1) < 1e-3));
  tf.dispose([x, z, mean, variance]);
});

Deno.test("the same seed gives the same augmented batch; another seed another", async () => {
  const gen = new cl.ImageDataGenerator({
    rotationRange: 30,
    widthShiftRange: 0.2,
    heightShiftRange: 0.2,
    shearRange: 10,
    zoomRange: 0.2,
    horizontalFlip: true,
    brightnessRange: [0.8, 1.2],
    channelShiftRange: 10,
  });
  const x = tf.randomUniform([6, 8, 8, 3], 0, 255, "float32", 1);
  const a = gen.augment(x, { seed: 42 }),
    b = gen.augment(x, { seed: 42 }),
    c = gen.augment(x, { seed: 43 });
  assert.ok(await same(a, b, 0));
  assert.ok(!(await same(a, c)));
  const f1 = gen.flow(x, undefined, { batchSize: 4, seed: 11 }).nextBatch().xs;
  const f2 = gen.flow(x, undefined, { batchSize: 4, seed: 11 }).nextBatch().xs;
  assert.ok(await same(f1, f2, 0));
  // Without a seed, cl.seed(n) makes runs repeat.
  cl.seed(3);
  const s1 = gen.augment(x);
  cl.seed(3);
  const s2 = gen.augment(x);
  assert.ok(await same(s1, s2, 0));
  tf.dispose([x, a, b, c, f1, f2, s1, s2]);
});

Deno.test("flow() covers every image once per epoch with labels aligned, then reshuffles", async () => {
  const n = 10;
  const x = tf.tidy(() =>
    tf.reshape(tf.range(0, n), [n, 1, 1, 1]).tile([1, 2, 2, 1]).cast("float32")
  );
  const y = tf.range(0, n);
  const flow = new cl.ImageDataGenerator().flow(x, y, { batchSize: 4, seed: 1 });
  assert.equal(flow.length, 3);
  const epoch = async () => {
    const seen: number[] = [];
    for (const { xs, ys } of flow) {
      const [xv, yv] = [await xs.data(), await ys!.data()];
      for (let i = 0; i < ys!.shape[0]; i++) {
        assert.equal(xv[i * 4], yv[i], "image and label stay together");
        seen.push(yv[i]);
      }
      tf.dispose([xs, ys!]);
    }
    return seen;
  };
  const first = await epoch(), second = await epoch();
  assert.deepEqual([...first].sort((a, b) => a - b), [...Array(n).keys()]);
  assert.deepEqual([...second].sort((a, b) => a - b), [...Array(n).keys()]);
  assert.notDeepEqual(first, second, "reshuffled");
  const ordered = new cl.ImageDataGenerator().flow(x, y, { batchSize: 4, shuffle: false });
  assert.deepEqual([...await ordered.nextBatch().ys!.data()], [0, 1, 2, 3]);
  assert.throws(
    () => new cl.ImageDataGenerator().flow(x, tf.zeros([3])),
    /x has 10 images but y has 3 rows/,
  );
  tf.dispose([x, y]);
});

Deno.test("flow() trains with tfjs fitDataset and Convlab's fit, leaking nothing", async () => {
  const makeModel = () => {
    const model = tf.sequential({
      layers: [
        tf.layers.flatten({ inputShape: [6, 6, 1] }),
        tf.layers.dense({ units: 2, activation: "softmax" }),
      ],
    });
    model.compile({ optimizer: "adam", loss: "categoricalCrossentropy", metrics: ["accuracy"] });
    return model;
  };
  const x = tf.randomUniform([24, 6, 6, 1], 0, 1, "float32", 2);
  const y = tf.oneHot(tf.tensor1d(Array.from({ length: 24 }, (_, i) => i % 2), "int32"), 2);
  const gen = new cl.ImageDataGenerator({ rotationRange: 10, horizontalFlip: true });
  // A first epoch creates Adam's slot variables; leaks are counted around the second call.
  const m1 = makeModel();
  const flow1 = gen.flow(x, y, { batchSize: 8, seed: 1 });
  await m1.fitDataset(flow1 as never, { epochs: 1, verbose: 0 });
  const before = tf.memory().numTensors;
  const h1 = await m1.fitDataset(flow1 as never, { epochs: 2, verbose: 0 });
  assert.equal(h1.history.loss.length, 2);
  assert.equal(tf.memory().numTensors, before, "fitDataset: no leaks");
  const m2 = makeModel();
  cl.compile(m2, { optimizer: "adam", loss: "categorical_crossentropy", metrics: ["accuracy"] });
  const flow2 = gen.flow(x, y, { batchSize: 8, seed: 1 });
  await cl.fit(m2, flow2, { epochs: 1, verbose: 0 });
  const before2 = tf.memory().numTensors;
  const h2 = await cl.fit(m2, flow2, { epochs: 2, verbose: 0 });
  assert.equal(h2.history.loss.length, 2);
  assert.equal(tf.memory().numTensors, before2, "cl.fit: no leaks");
  tf.dispose([x, y]);
  m1.dispose();
  m2.dispose();
});

Deno.test("ImageDataGenerator rejects unknown and out-of-range options clearly", () => {
  assert.throws(
    () => new cl.ImageDataGenerator({ rotation_range: 10 } as never),
    /unknown option "rotation_range" \(options are camelCase: rotationRange\)/,
  );
  assert.throws(
    () => new cl.ImageDataGenerator({ zoomRange: 1.5 }),
    /zoomRange 1.5 would allow zero/,
  );
  assert.throws(
    () => new cl.ImageDataGenerator({ fillMode: "mirror" as never }),
    /fillMode must be one of/,
  );
  assert.throws(
    () => new cl.ImageDataGenerator({ rotationRange: -5 }),
    /rotationRange must be a number ≥ 0/,
  );
  assert.throws(
    () => new cl.ImageDataGenerator().augment(tf.zeros([4, 4])),
    /expected \[batch, height, width, channels\] or \[height, width, channels\], got \[4, 4\]/,
  );
});

Deno.test("random layers pass images through at inference and augment while training", async () => {
  const x = indexed(4, 6, 6);
  const layers = [
    cl.layers.randomFlip({ mode: "horizontal", seed: 1 }),
    cl.layers.randomRotation({ factor: 0.2, seed: 1 }),
    cl.layers.randomZoom({ heightFactor: 0.3, seed: 1 }),
    cl.layers.randomTranslation({ heightFactor: 0.3, widthFactor: 0.3, seed: 1 }),
  ];
  for (const layer of layers) {
    const before = tf.memory().numTensors;
    const inference = layer.apply(x, { training: false }) as cl.tf.Tensor;
    assert.ok(await same(inference, x), `${layer.getClassName()} at inference`);
    const trained = layer.apply(x, { training: true }) as cl.tf.Tensor;
    assert.deepEqual(trained.shape, x.shape);
    assert.ok(!(await same(trained, x)), `${layer.getClassName()} while training`);
    tf.dispose([inference, trained]);
    assert.equal(tf.memory().numTensors, before, `${layer.getClassName()} leaks`);
  }
  x.dispose();
});

Deno.test("RandomCrop crops windows while training and centre-crops at inference", async () => {
  const x = indexed(2, 6, 8);
  const crop = cl.layers.randomCrop({ height: 4, width: 4, seed: 3 });
  const train = crop.apply(x, { training: true }) as cl.tf.Tensor;
  assert.deepEqual(train.shape, [2, 4, 4, 1]);
  // Each crop is a contiguous window: values step by 1 along a row and by 8 down a column.
  const v = await train.data();
  assert.equal(v[1] - v[0], 1);
  assert.equal(v[4] - v[0], 8);
  const infer = crop.apply(x, { training: false }) as cl.tf.Tensor;
  // Centre 6×6 window (aspect 1:1) of the 6×8 image, resized to 4×4.
  assert.deepEqual(infer.shape, [2, 4, 4, 1]);
  assert.deepEqual(crop.computeOutputShape([null, 6, 8, 1]), [null, 4, 4, 1]);
  tf.dispose([x, train, infer]);
});

Deno.test("Resizing builds inside a model (tfjs's own drops the batch dimension) and Rescaling scales", async () => {
  const model = tf.sequential({
    layers: [
      cl.layers.resizing({ height: 4, width: 5, inputShape: [8, 8, 3] }),
      cl.layers.rescaling({ scale: 1 / 255, offset: -1 }),
      tf.layers.flatten(),
    ],
  });
  assert.deepEqual(model.outputs[0].shape, [null, 60]);
  const out = model.predict(tf.fill([2, 8, 8, 3], 255)) as cl.tf.Tensor;
  assert.deepEqual(out.shape, [2, 60]);
  assert.ok((await out.data()).every((v) => Math.abs(v) < 1e-5));
  model.dispose();
});

Deno.test("preprocessing layers save and load with the model", async () => {
  const model = tf.sequential({
    layers: [
      cl.layers.resizing({ height: 8, width: 8, inputShape: [10, 10, 1] }),
      cl.layers.randomFlip({ mode: "horizontal", seed: 5 }),
      cl.layers.randomRotation({ factor: [-0.1, 0.1], fillMode: "nearest", seed: 6 }),
      cl.layers.randomZoom({ heightFactor: 0.1, seed: 7 }),
      cl.layers.randomTranslation({ heightFactor: 0.1, widthFactor: 0.2, seed: 8 }),
      cl.layers.randomCrop({ height: 6, width: 6, seed: 9 }),
      cl.layers.rescaling({ scale: 0.5 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 2 }),
    ],
  });
  let saved: cl.tf.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler((artifacts) => {
    saved = artifacts;
    return Promise.resolve({
      modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" },
    });
  }));
  const json = JSON.stringify(saved!.modelTopology);
  for (
    const name of [
      "Resizing",
      "RandomFlip",
      "RandomRotation",
      "RandomZoom",
      "RandomTranslation",
      "RandomCrop",
      "Rescaling",
    ]
  ) {
    assert.ok(json.includes(`"class_name":"${name}"`), `${name} in the saved topology`);
  }
  const loaded = await tf.loadLayersModel(tf.io.fromMemory(saved!));
  // Convlab's layers (the first seven) come back with the same configuration.
  const configs = (m: cl.tf.LayersModel) =>
    m.layers.slice(0, 7).map((l) => JSON.stringify({ ...l.getConfig(), name: "" }));
  assert.deepEqual(configs(loaded), configs(model));
  const x = tf.randomUniform([3, 10, 10, 1], 0, 1, "float32", 4);
  assert.ok(await same(loaded.predict(x) as cl.tf.Tensor, model.predict(x) as cl.tf.Tensor));
  model.dispose();
  loaded.dispose();
});

Deno.test("shift ranges in pixels follow Keras: integer N → whole pixels in (−N, N), lists get a random sign", () => {
  const seen = (widthShiftRange: number | number[], size = 64) => {
    const gen = new cl.ImageDataGenerator({ widthShiftRange });
    const rng = new RandomStream(4);
    const values = new Set<number>();
    for (let i = 0; i < 400; i++) values.add(gen.randomParams(32, size, rng).ty);
    return values;
  };
  // Keras's docs: "With width_shift_range=2 possible values are integers [-1, 0, +1]".
  assert.deepEqual([...seen(2)].sort((a, b) => a - b), [-1, 0, 1]);
  // A list is np.random.choice(list) times a random sign.
  assert.deepEqual([...seen([5, 10])].sort((a, b) => a - b), [-10, -5, 5, 10]);
  // Fractions in a list are of the width: ±0.25·64.
  assert.deepEqual([...seen([0.25], 64)].sort((a, b) => a - b), [-16, 16]);
  // A non-integer ≥ 1 is a uniform shift in ±range pixels (np.random.uniform), not whole pixels.
  const real = [...seen(2.5)];
  assert.ok(real.every((v) => Math.abs(v) <= 2.5) && real.some((v) => !Number.isInteger(v)));
});

Deno.test("flow() takes labels as a plain array (as Keras takes NumPy) and explains images without a channel axis", async () => {
  const gen = new cl.ImageDataGenerator({});
  const x = indexed(5, 1, 1);
  const before = tf.memory().numTensors;
  const flow = gen.flow(x, [10, 11, 12, 13, 14], { batchSize: 2, shuffle: false });
  assert.equal(tf.memory().numTensors, before, "the flow holds no extra tensor");
  const seen: number[][] = [];
  for (const { xs, ys } of flow) {
    const labels = await ys!.data();
    seen.push([...await xs.data()].map((v, i) => v + 10 - labels[i]));
    tf.dispose([xs, ys!]);
  }
  assert.deepEqual(seen, [[0, 0], [0, 0], [0]], "labels stay with their images");
  assert.equal(tf.memory().numTensors, before);
  const oneHot = gen.flow(x, [[1, 0], [0, 1], [1, 0], [0, 1], [1, 0]], { batchSize: 5 });
  const { xs, ys } = oneHot.nextBatch();
  assert.deepEqual(ys!.shape, [5, 2]);
  tf.dispose([xs, ys!]);
  assert.throws(() => gen.flow(x, [1, 2]), /x has 5 images but y has 2 rows/);
  const mnist = tf.zeros([10, 28, 28]);
  assert.throws(
    () => gen.flow(mnist, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]),
    /expected \[batch, height, width, channels\], got \[10, 28, 28\] \(add the channel axis/,
  );
  tf.dispose([x, mnist]);
});
