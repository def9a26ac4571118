// Losses, metrics and optimizers against hand-computed values and Keras's defaults.
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import * as cl from "../../lib/mod.ts";

await tf.setBackend("cpu");

async function near(t: tf.Tensor, expected: number[], tolerance = 1e-5) {
  const actual = Array.from(await t.data());
  t.dispose();
  assert.equal(actual.length, expected.length);
  actual.forEach((v, i) =>
    assert.ok(Math.abs(v - expected[i]) <= tolerance, `${actual} vs ${expected}`)
  );
}

Deno.test("cross-entropy losses give -Σ y log p per sample (course eq. 8.1)", async () => {
  const p = tf.tensor2d([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]]);
  const oneHot = tf.tensor2d([[1, 0, 0], [0, 1, 0]]);
  await near(cl.losses.categoricalCrossentropy(oneHot, p), [-Math.log(0.7), -Math.log(0.1)]);
  await near(cl.losses.sparseCategoricalCrossentropy(tf.tensor1d([0, 1]), p), [
    -Math.log(0.7),
    -Math.log(0.1),
  ]);
  await near(cl.losses.sparseCategoricalCrossentropy(tf.tensor2d([[0], [1]]), p), [
    -Math.log(0.7),
    -Math.log(0.1),
  ]);
  // Keras normalises unnormalised predictions and clips p to [1e-7, 1 - 1e-7].
  await near(cl.losses.categoricalCrossentropy(tf.tensor2d([[1, 0]]), tf.tensor2d([[2, 2]])), [
    Math.log(2),
  ]);
  await near(cl.losses.categoricalCrossentropy(tf.tensor2d([[1, 0]]), tf.tensor2d([[0, 1]])), [
    -Math.log(1e-7),
  ], 1e-3);
  await near(
    cl.losses.binaryCrossentropy(tf.tensor2d([[1], [0]]), tf.tensor2d([[0.9], [0.2]])),
    [-Math.log(0.9), -Math.log(0.8)],
  );
});

Deno.test("regression losses: mse, mae, huber over the last axis", async () => {
  const t = tf.tensor2d([[0, 0], [1, 1]]);
  const p = tf.tensor2d([[1, 3], [1, 1]]);
  await near(cl.losses.meanSquaredError(t, p), [5, 0]);
  await near(cl.losses.meanAbsoluteError(t, p), [2, 0]);
  await near(cl.losses.huber()(t, p), [(0.5 + 2.5) / 2, 0]);
  assert.equal(cl.losses.getLoss("mse").name, "mean_squared_error");
  assert.equal(cl.losses.getLoss("categoricalCrossentropy").name, "categorical_crossentropy");
  assert.throws(() => cl.losses.getLoss("crossentropy"), /Unknown loss "crossentropy": use one of/);
});

Deno.test("focal losses down-weight easy samples by (1 - p_t)^γ (Lin et al., course 8.6)", async () => {
  const focal = cl.losses.binaryFocalCrossentropy({ gamma: 2 });
  // Easy positive p = 0.9: 0.1² · (-ln 0.9); hard positive p = 0.1: 0.9² · (-ln 0.1).
  await near(focal(tf.tensor2d([[1], [1]]), tf.tensor2d([[0.9], [0.1]])), [
    0.01 * -Math.log(0.9),
    0.81 * -Math.log(0.1),
  ]);
  // γ = 0 is plain cross-entropy.
  await near(
    cl.losses.binaryFocalCrossentropy({ gamma: 0 })(tf.tensor2d([[0]]), tf.tensor2d([[0.3]])),
    [-Math.log(0.7)],
  );
  const balanced = cl.losses.binaryFocalCrossentropy({
    gamma: 2,
    alpha: 0.25,
    applyClassBalancing: true,
  });
  await near(balanced(tf.tensor2d([[1]]), tf.tensor2d([[0.9]])), [0.25 * 0.01 * -Math.log(0.9)]);
  const categorical = cl.losses.categoricalFocalCrossentropy();
  await near(categorical(tf.tensor2d([[0, 1]]), tf.tensor2d([[0.4, 0.6]])), [
    0.25 * 0.16 * -Math.log(0.6),
  ]);
  assert.throws(() => cl.losses.binaryFocalCrossentropy({ gamma: -1 }), /gamma must be ≥ 0/);
});

Deno.test("MeanIoU accumulates one confusion matrix over an epoch, not a mean of batches", async () => {
  const iou = new cl.metrics.MeanIoU({ numClasses: 2 });
  iou.update(tf.tensor1d([0, 0]), tf.tensor1d([0, 0])); // alone: IoU 1 for class 0
  iou.update(tf.tensor1d([1, 1, 0]), tf.tensor1d([1, 0, 1]));
  // Confusion [[2, 1], [1, 1]]: IoU0 = 2 / (3 + 3 - 2) = 0.5, IoU1 = 1 / (2 + 2 - 1) = 1/3.
  await near(iou.result(), [(0.5 + 1 / 3) / 2]);
  iou.reset();
  iou.update(tf.tensor1d([1]), tf.tensor1d([1]));
  await near(iou.result(), [1]); // only class 1 occurs: classes that never occur do not count
  iou.dispose();
  const fromProbabilities = new cl.metrics.MeanIoU({
    numClasses: 3,
    sparseYPred: false,
    ignoreClass: 2,
  });
  fromProbabilities.update(
    tf.tensor1d([0, 1, 2]),
    tf.tensor2d([[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.9, 0, 0.1]]),
  );
  await near(fromProbabilities.result(), [1]);
  fromProbabilities.dispose();
  assert.throws(
    () => new cl.metrics.MeanIoU({ numClasses: 1 }),
    /numClasses must be an integer ≥ 2/,
  );
});

Deno.test("boxIoU(): overlap 1/7, identical 1, disjoint 0, in every box format", async () => {
  const a = tf.tensor2d([[0, 0, 2, 2], [0, 0, 2, 2], [0, 0, 1, 1]]);
  const b = tf.tensor2d([[1, 1, 3, 3], [0, 0, 2, 2], [2, 2, 3, 3]]);
  await near(cl.metrics.boxIoU(a, b), [1 / 7, 1, 0]);
  await near(cl.metrics.boxIoU(a, b, "xyxy"), [1 / 7, 1, 0]);
  // The same boxes as x, y, width, height and as centre, size.
  await near(cl.metrics.boxIoU(tf.tensor2d([[0, 0, 2, 2]]), tf.tensor2d([[1, 1, 2, 2]]), "xywh"), [
    1 / 7,
  ]);
  await near(
    cl.metrics.boxIoU(tf.tensor2d([[1, 1, 2, 2]]), tf.tensor2d([[2, 2, 2, 2]]), "cxcywh"),
    [1 / 7],
  );
  assert.throws(() => cl.metrics.boxIoU(tf.zeros([1, 3]), tf.zeros([1, 4])), /need 4 numbers/);
  assert.throws(() => cl.metrics.boxIoU(a, b, "ltrb" as never), /Unknown box format "ltrb"/);
});

Deno.test("BoxIoU as a metric of a box head averages over the epoch", async () => {
  const metric = new cl.metrics.BoxIoU();
  metric.update(tf.tensor2d([[0, 0, 2, 2]]), tf.tensor2d([[1, 1, 3, 3]]));
  metric.update(
    tf.tensor2d([[0, 0, 2, 2], [0, 0, 1, 1]]),
    tf.tensor2d([[0, 0, 2, 2], [5, 5, 6, 6]]),
  );
  await near(metric.result(), [(1 / 7 + 1 + 0) / 3]);
  metric.dispose();
});

Deno.test("optimizers have Keras's defaults", () => {
  const config = (o: tf.Optimizer) => o.getConfig() as Record<string, number | boolean>;
  assert.deepEqual(config(cl.optimizers.SGD()), { learningRate: 0.01 });
  assert.deepEqual(config(cl.optimizers.SGD({ momentum: 0.9, nesterov: true })), {
    learningRate: 0.01,
    momentum: 0.9,
    useNesterov: true,
  });
  assert.deepEqual(config(cl.optimizers.Adam()), {
    learningRate: 0.001,
    beta1: 0.9,
    beta2: 0.999,
    epsilon: 1e-7,
  });
  const rms = config(cl.optimizers.RMSprop());
  assert.deepEqual([rms.learningRate, rms.decay, rms.momentum, rms.epsilon, rms.centered], [
    0.001,
    0.9,
    0,
    1e-7,
    false,
  ]);
  assert.deepEqual(config(cl.optimizers.Adagrad()), {
    learningRate: 0.001,
    initialAccumulatorValue: 0.1,
  });
  assert.equal(config(cl.optimizers.RMSprop({ lr: 2e-5 })).learningRate, 2e-5); // the course's spelling
  assert.equal(cl.optimizers.getOptimizer("Adam").getClassName(), "Adam");
  assert.throws(
    () => cl.optimizers.SGD({ learningRate: -1 }),
    /learningRate must be a positive number, got -1/,
  );
  assert.throws(() => cl.optimizers.SGD({ momentum: 1.5 }), /momentum must be in \[0, 1\)/);
  assert.throws(() => cl.optimizers.Adam({ amsgrad: true }), /amsgrad is not available/);
});

/** Minimise f(w) = w² from w = 1 for a few steps and return w after each. */
async function steps(optimizer: tf.Optimizer, n: number): Promise<number[]> {
  const w = tf.variable(tf.scalar(1));
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    optimizer.minimize(() => tf.square(w) as tf.Scalar, false, [w]);
    out.push((await w.data())[0]);
  }
  w.dispose();
  optimizer.dispose();
  return out;
}

function close(actual: number[], expected: number[], tolerance = 1e-6) {
  actual.forEach((v, i) =>
    assert.ok(Math.abs(v - expected[i]) <= tolerance, `${actual} vs ${expected}`)
  );
}

Deno.test("optimizer steps follow Keras's update rules", async () => {
  // SGD: w ← w − η·2w.
  close(await steps(cl.optimizers.SGD({ learningRate: 0.1 }), 2), [0.8, 0.64]);
  // Momentum (Keras): v ← αv − η g; w ← w + v.
  {
    let w = 1, v = 0;
    const expected = [];
    for (let i = 0; i < 3; i++) {
      v = 0.9 * v - 0.1 * 2 * w;
      w = w + v;
      expected.push(w);
    }
    close(await steps(cl.optimizers.SGD({ learningRate: 0.1, momentum: 0.9 }), 3), expected);
  }
  // Nesterov (Keras): v ← αv − η g; w ← w + αv − η g.
  {
    let w = 1, v = 0;
    const expected = [];
    for (let i = 0; i < 3; i++) {
      const g = 2 * w;
      v = 0.9 * v - 0.1 * g;
      w = w + 0.9 * v - 0.1 * g;
      expected.push(w);
    }
    close(
      await steps(cl.optimizers.SGD({ learningRate: 0.1, momentum: 0.9, nesterov: true }), 3),
      expected,
    );
  }
  // Adam's first step moves by η (m̂/√v̂ = 1).
  close(await steps(cl.optimizers.Adam({ learningRate: 0.01 }), 1), [0.99], 1e-5);
  // Adagrad: accumulator 0.1 + g² = 4.1; w ← 1 − η·2/√4.1.
  close(await steps(cl.optimizers.Adagrad({ learningRate: 0.1 }), 1), [
    1 - 0.1 * 2 / Math.sqrt(4.1),
  ]);
  // RMSprop: ms = 0.1·g² = 0.4; w ← 1 − η·2/√0.4.
  close(await steps(cl.optimizers.RMSprop({ learningRate: 0.01 }), 1), [
    1 - 0.01 * 2 / Math.sqrt(0.4),
  ], 1e-5);
  // Centred RMSprop (Keras): √(ms − mg² + ε) = √(0.4 − 0.04).
  close(
    await steps(cl.optimizers.RMSprop({ learningRate: 0.01, centered: true }), 1),
    [1 - 0.01 * 2 / Math.sqrt(0.36)],
    1e-5,
  );
});

Deno.test("MeanIoU explains probabilities given where class indices are expected", () => {
  const iou = new cl.metrics.MeanIoU({ numClasses: 2 });
  const labels = tf.tensor1d([0, 1, 1]);
  const probabilities = tf.tensor2d([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]]);
  const before = tf.memory().numTensors;
  assert.throws(
    () => iou.update(labels, probabilities),
    /MeanIoU: 3 true labels but 6 predicted classes .*sparseYPred: false/,
  );
  assert.equal(tf.memory().numTensors, before);
  iou.dispose();
  tf.dispose([labels, probabilities]);
});

Deno.test("a NaN prediction gives a NaN loss on every backend, as Keras (wasm's clip would hide it)", async () => {
  const previous = tf.getBackend();
  try {
    for (const backend of ["cpu", "wasm"] as const) {
      await cl.useBackend(backend);
      const yTrue = tf.tensor2d([[1, 0], [0, 1]]);
      const yPred = tf.tensor2d([[NaN, NaN], [0.3, 0.7]]);
      const names = [
        "categorical_crossentropy",
        "binary_crossentropy",
        "binary_focal_crossentropy",
        "categorical_focal_crossentropy",
      ];
      for (const name of names) {
        const loss = cl.losses.getLoss(name)(yTrue, yPred);
        const [nan, fine] = await loss.data();
        assert.ok(Number.isNaN(nan), `${backend} ${name}: ${nan}`);
        assert.ok(Number.isFinite(fine) && fine > 0, `${backend} ${name}: ${fine}`);
        loss.dispose();
      }
      const sparse = cl.losses.getLoss("sparse_categorical_crossentropy")(
        tf.tensor1d([0, 1]),
        yPred,
      );
      assert.ok(Number.isNaN((await sparse.data())[0]), `${backend} sparse`);
      tf.dispose([yTrue, yPred, sparse]);
    }
  } finally {
    await cl.useBackend(previous as cl.BackendName);
  }
});
