// cl.compile / cl.fit / cl.evaluate / cl.predict: Keras's semantics, hand-computed losses, batch
// sources, multi-output models, reproducibility and no tensor leaks.
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import * as cl from "../../lib/mod.ts";

await tf.setBackend("cpu");

/** A Dense softmax layer with fixed weights: every sample gets probabilities softmax(bias). */
function fixedSoftmax(bias: number[], inputs = 2): tf.Sequential {
  const layer = tf.layers.dense({
    units: bias.length,
    activation: "softmax",
    inputShape: [inputs],
  });
  const model = tf.sequential({ layers: [layer] });
  layer.setWeights([tf.zeros([inputs, bias.length]), tf.tensor1d(bias)]);
  return model;
}

/** Two Gaussian blobs in 2-D, labelled 0/1, as one-hot targets. */
function blobs(n: number, seed: number): { x: tf.Tensor2D; y: tf.Tensor2D; labels: tf.Tensor1D } {
  return tf.tidy(() => {
    const labels = tf.cast(tf.greater(tf.randomUniform([n], 0, 1, "float32", seed), 0.5), "int32");
    const centre = tf.sub(tf.mul(tf.cast(tf.expandDims(labels, 1), "float32"), 2), 1);
    const x = tf.add(
      tf.mul(centre, tf.ones([n, 2])),
      tf.randomNormal([n, 2], 0, 0.5, "float32", seed + 1),
    );
    return {
      x: x as tf.Tensor2D,
      y: tf.oneHot(labels, 2) as tf.Tensor2D,
      labels: labels as tf.Tensor1D,
    };
  });
}

function mlp(): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.dense({ units: 8, activation: "relu", inputShape: [2] }),
      tf.layers.dropout({ rate: 0.2 }),
      tf.layers.dense({ units: 2, activation: "softmax" }),
    ],
  });
}

Deno.test("evaluate() gives hand-computed categorical cross-entropy and accuracy", async () => {
  // softmax([0, ln 3]) = [0.25, 0.75]: loss -ln 0.75 for class 1, -ln 0.25 for class 0.
  const model = fixedSoftmax([0, Math.log(3)]);
  cl.compile(model, { optimizer: "sgd", loss: "categorical_crossentropy", metrics: ["accuracy"] });
  const x = tf.zeros([4, 2]);
  const y = tf.tensor2d([[0, 1], [0, 1], [0, 1], [1, 0]]);
  const [loss, accuracy] = await cl.evaluate(model, x, y, { batchSize: 3 }) as number[];
  assert.ok(Math.abs(loss - (3 * -Math.log(0.75) - Math.log(0.25)) / 4) < 1e-5);
  assert.equal(accuracy, 0.75);
  const asDict = await cl.evaluate(model, x, y, { returnDict: true });
  assert.deepEqual(Object.keys(asDict), ["loss", "accuracy"]);
  tf.dispose([x, y]);
  model.dispose();
});

Deno.test("evaluate() returns the loss alone without metrics, as Keras", async () => {
  const model = fixedSoftmax([0, 0]);
  cl.compile(model, { loss: "sparse_categorical_crossentropy" });
  const result = await cl.evaluate(model, tf.zeros([2, 2]), tf.tensor1d([0, 1]));
  assert.equal(typeof result, "number");
  assert.ok(Math.abs((result as number) - Math.log(2)) < 1e-6);
  model.dispose();
});

Deno.test("'accuracy' becomes binary, sparse or categorical accuracy from the shapes, as Keras", async () => {
  const binary = tf.sequential({
    layers: [tf.layers.dense({ units: 1, activation: "sigmoid", inputShape: [1] })],
  });
  binary.layers[0].setWeights([tf.tensor2d([[10]]), tf.tensor1d([0])]);
  cl.compile(binary, { loss: "binary_crossentropy", metrics: ["acc"] });
  // x > 0 → p ≈ 1; labels [1, 0, 0, 1] for x [1, 1, -1, -1]: half right.
  const logs = await cl.evaluate(
    binary,
    tf.tensor2d([[1], [1], [-1], [-1]]),
    tf.tensor1d([1, 0, 0, 1]),
    {
      returnDict: true,
    },
  ) as Record<string, number>;
  assert.deepEqual(Object.keys(logs), ["loss", "acc"]);
  assert.equal(logs.acc, 0.5);
  const sparse = fixedSoftmax([0, 1, 0]);
  cl.compile(sparse, { loss: "sparse_categorical_crossentropy", metrics: ["accuracy"] });
  const [, accuracy] = await cl.evaluate(
    sparse,
    tf.zeros([3, 2]),
    tf.tensor2d([[1], [1], [2]]),
  ) as number[];
  assert.ok(Math.abs(accuracy - 2 / 3) < 1e-6);
  binary.dispose();
  sparse.dispose();
});

Deno.test("fit() returns a History with Keras's keys loss/accuracy/val_loss/val_accuracy", async () => {
  const { x, y } = blobs(200, 1);
  const model = mlp();
  cl.compile(model, { optimizer: "adam", loss: "categorical_crossentropy", metrics: ["accuracy"] });
  const history = await cl.fit(model, x, y, {
    epochs: 3,
    batchSize: 32,
    validationSplit: 0.25,
    verbose: 0,
  });
  assert.deepEqual(Object.keys(history.history), ["loss", "accuracy", "val_loss", "val_accuracy"]);
  assert.deepEqual(history.epoch, [0, 1, 2]);
  assert.equal(history.history.loss.length, 3);
  assert.equal(history.params.samples, 150);
  assert.equal(history.params.steps, 5);
  assert.match(String(history), /epoch\s+loss\s+accuracy\s+val_loss\s+val_accuracy\n\s+1\s/);
  tf.dispose([x, y]);
  model.dispose();
});

Deno.test("validationSplit validates on the last fraction of the samples, before shuffling", async () => {
  // A frozen model that always predicts 0: val_loss (mse) is the mean square of the validation
  // targets, which are 10 for the last 25 % of samples and 1 for the rest.
  const model = tf.sequential({
    layers: [tf.layers.dense({ units: 1, inputShape: [1], kernelInitializer: "zeros" })],
  });
  model.layers[0].trainable = false;
  cl.compile(model, { optimizer: "sgd", loss: "mse" });
  const y = tf.concat([tf.ones([12, 1]), tf.fill([4, 1], 10)]);
  const history = await cl.fit(model, tf.zeros([16, 1]), y, {
    epochs: 2,
    batchSize: 5,
    validationSplit: 0.25,
    shuffle: true,
    verbose: 0,
  });
  assert.deepEqual(history.history.val_loss, [100, 100]);
  assert.deepEqual(history.history.loss, [1, 1]);
  model.dispose();
});

Deno.test("fit() learns: two blobs reach ≥ 95 % validation accuracy with seed 1", async () => {
  cl.seed(1);
  const { x, y } = blobs(400, 2);
  const model = mlp();
  cl.compile(model, {
    optimizer: cl.optimizers.Adam({ learningRate: 0.05 }),
    loss: "categorical_crossentropy",
    metrics: ["accuracy"],
  });
  const history = await cl.fit(model, x, y, {
    epochs: 5,
    batchSize: 32,
    validationSplit: 0.2,
    verbose: 0,
  });
  assert.ok(history.history.val_accuracy.at(-1)! >= 0.95, String(history.history.val_accuracy));
  assert.ok(history.history.loss.at(-1)! < history.history.loss[0]);
  tf.dispose([x, y]);
  model.dispose();
});

Deno.test("cl.seed() makes fit() repeat exactly (initialisers, dropout, shuffling)", async () => {
  const run = async (seed: number) => {
    cl.seed(seed);
    const { x, y } = blobs(96, 3);
    const model = mlp();
    cl.compile(model, {
      optimizer: "adam",
      loss: "categorical_crossentropy",
      metrics: ["accuracy"],
    });
    const history = await cl.fit(model, x, y, { epochs: 2, batchSize: 16, verbose: 0 });
    const weights = await Promise.all(model.getWeights().map((w) => w.data()));
    tf.dispose([x, y]);
    model.dispose();
    return { loss: history.history.loss, weights };
  };
  const a = await run(11);
  const b = await run(11);
  const c = await run(12);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.loss, c.loss);
});

Deno.test("fit(), evaluate() and predict() leave no tensors behind", async () => {
  const { x, y } = blobs(100, 4);
  const model = mlp();
  cl.compile(model, { optimizer: "adam", loss: "categorical_crossentropy", metrics: ["accuracy"] });
  // The first step creates the optimizer's slots (Adam's moments), as in Keras.
  await cl.fit(model, x, y, { epochs: 1, verbose: 0 });
  const before = tf.memory().numTensors;
  await cl.fit(model, x, y, { epochs: 2, batchSize: 7, validationSplit: 0.2, verbose: 0 });
  assert.equal(tf.memory().numTensors, before, "fit");
  await cl.evaluate(model, x, y, { batchSize: 9 });
  assert.equal(tf.memory().numTensors, before, "evaluate");
  const out = await cl.predict(model, x, { batchSize: 9 }) as tf.Tensor;
  assert.deepEqual(out.shape, [100, 2]);
  out.dispose();
  assert.equal(tf.memory().numTensors, before, "predict");
  const wrong = tf.zeros([100, 3]);
  await assert.rejects(cl.fit(model, x, wrong, { verbose: 0 }));
  wrong.dispose();
  assert.equal(tf.memory().numTensors, before, "failed fit");
  tf.dispose([x, y]);
  model.dispose();
});

Deno.test("fit() and evaluate() with sparse integer labels leave no tensors behind", async () => {
  // sparse_categorical_crossentropy checks the labels' range before running: that check too.
  const { x, y, labels } = blobs(60, 6);
  const model = mlp();
  cl.compile(model, { optimizer: "adam", loss: "sparse_categorical_crossentropy" });
  await cl.fit(model, x, labels, { epochs: 1, verbose: 0 });
  const before = tf.memory().numTensors;
  await cl.fit(model, x, labels, { epochs: 1, batchSize: 16, verbose: 0 });
  assert.equal(tf.memory().numTensors, before, "fit");
  await cl.evaluate(model, x, labels, { batchSize: 16 });
  assert.equal(tf.memory().numTensors, before, "evaluate");
  tf.dispose([x, y, labels]);
  model.dispose();
});

Deno.test("predict() runs in inference mode and batches give the same result as one call", async () => {
  const model = mlp();
  const x = tf.randomNormal([20, 2], 0, 1, "float32", 9);
  const a = await cl.predict(model, x, { batchSize: 3 }) as tf.Tensor;
  const b = model.predict(x) as tf.Tensor;
  assert.ok((await tf.max(tf.abs(tf.sub(a, b))).data())[0] < 1e-6);
  tf.dispose([a, b, x]);
  model.dispose();
});

Deno.test("a two-output model trains with lossWeights [0.8, 0.2] and Keras's per-output keys", async () => {
  const input = tf.input({ shape: [3] });
  const label = tf.layers.dense({ units: 2, activation: "softmax", name: "class_output" }).apply(
    input,
  );
  const box = tf.layers.dense({ units: 4, name: "box_output" }).apply(input);
  const model = tf.model({ inputs: input, outputs: [label, box] as tf.SymbolicTensor[] });
  model.getLayer("class_output").setWeights([tf.zeros([3, 2]), tf.tensor1d([0, Math.log(3)])]);
  model.getLayer("box_output").setWeights([tf.zeros([3, 4]), tf.zeros([4])]);
  cl.compile(model, {
    optimizer: cl.optimizers.SGD({ learningRate: 1e-9 }),
    loss: ["sparse_categorical_crossentropy", "mse"],
    lossWeights: [0.8, 0.2],
    metrics: ["accuracy"],
  });
  const x = tf.zeros([4, 3]);
  const labels = tf.tensor1d([1, 1, 1, 1]);
  const boxes = tf.fill([4, 4], 0.5); // mse = 0.25
  const history = await cl.fit(model, x, { class_output: labels, box_output: boxes }, {
    epochs: 1,
    batchSize: 2,
    verbose: 0,
    shuffle: false,
  });
  assert.deepEqual(Object.keys(history.history), [
    "loss",
    "class_output_loss",
    "box_output_loss",
    "class_output_accuracy",
    "box_output_accuracy",
  ]);
  const h = history.history;
  assert.ok(Math.abs(h.class_output_loss[0] + Math.log(0.75)) < 1e-5);
  assert.ok(Math.abs(h.box_output_loss[0] - 0.25) < 1e-6);
  assert.ok(Math.abs(h.loss[0] - (0.8 * -Math.log(0.75) + 0.2 * 0.25)) < 1e-5);
  assert.equal(h.class_output_accuracy[0], 1);
  tf.dispose([x, labels, boxes]);
  model.dispose();
});

Deno.test("multi-output history keys use Keras's default layer names (dense_N_loss)", async () => {
  const input = tf.input({ shape: [2] });
  const a = tf.layers.dense({ units: 1 }).apply(input) as tf.SymbolicTensor;
  const b = tf.layers.dense({ units: 1 }).apply(input) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: [a, b] });
  cl.compile(model, { loss: "mse" });
  const names = model.outputs.map((o) => cl.kerasName(o.sourceLayer));
  const history = await cl.fit(model, tf.zeros([4, 2]), [tf.zeros([4, 1]), tf.zeros([4, 1])], {
    verbose: 0,
  });
  assert.deepEqual(Object.keys(history.history), ["loss", `${names[0]}_loss`, `${names[1]}_loss`]);
  assert.match(names[0], /^dense(_\d+)?$/);
  model.dispose();
});

Deno.test("fit() accepts batch sources: async generators with a length, tf.data, arrays", async () => {
  const { x, y } = blobs(64, 5);
  const model = mlp();
  cl.compile(model, { optimizer: "adam", loss: "categorical_crossentropy", metrics: ["accuracy"] });
  // An augmentation-style flow: re-iterable, never ends, says its length (batches per epoch).
  let made = 0;
  const flow = {
    length: 4,
    async *[Symbol.asyncIterator]() {
      for (let i = 0;; i = (i + 1) % 4) {
        made++;
        yield { xs: x.slice(i * 16, 16), ys: y.slice(i * 16, 16) };
      }
    },
  };
  await cl.fit(model, flow, { epochs: 1, verbose: 0 });
  const before = tf.memory().numTensors;
  let history = await cl.fit(model, flow, { epochs: 3, verbose: 0, validationData: [x, y] });
  assert.equal(made, 16);
  assert.deepEqual(Object.keys(history.history), ["loss", "accuracy", "val_loss", "val_accuracy"]);
  assert.equal(tf.memory().numTensors, before, "fit disposes the batches a flow makes");

  const dataset = tf.data.zip({
    xs: tf.data.array(tf.unstack(x)),
    ys: tf.data.array(tf.unstack(y)),
  })
    .batch(16);
  history = await cl.fit(model, dataset, { epochs: 2, verbose: 0, validationData: dataset });
  assert.equal(history.history.val_loss.length, 2);
  assert.equal(history.params.steps, 4);

  const batches = [{ xs: x.slice(0, 32), ys: y.slice(0, 32) }, [
    x.slice(32, 32),
    y.slice(32, 32),
  ]] as cl.BatchElement[];
  history = await cl.fit(model, batches, { epochs: 2, verbose: 0 });
  assert.equal(history.epoch.length, 2);
  assert.ok(
    !(batches[0] as { xs: tf.Tensor }).xs.isDisposed,
    "an array's batches stay the caller's",
  );
  tf.dispose([x, y]);
  model.dispose();
});

Deno.test("fit() with stepsPerEpoch continues a generator across epochs and warns when it runs out", async () => {
  const model = mlp();
  cl.compile(model, { loss: "categorical_crossentropy" });
  function* finite() {
    for (let i = 0; i < 5; i++) {
      yield [tf.zeros([2, 2]), tf.tensor2d([[1, 0], [0, 1]])] as [tf.Tensor, tf.Tensor];
    }
  }
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (message: string) => warnings.push(message);
  try {
    const history = await cl.fit(model, finite(), { epochs: 4, stepsPerEpoch: 2, verbose: 0 });
    // 5 batches: epochs 1 and 2 take 2 each, epoch 3 gets 1 and stops.
    assert.equal(history.epoch.length, 3);
  } finally {
    console.warn = warn;
  }
  assert.match(warnings.join("\n"), /ran out of data/);
  model.dispose();
});

Deno.test("fit() explains bad input: uncompiled, wrong shapes, wrong targets, unknown options", async () => {
  const model = cl.models.mnistConvnet();
  const x = tf.zeros([4, 28, 28, 1]);
  await assert.rejects(cl.fit(model, x, tf.zeros([4, 10])), /compile the model first/);
  cl.compile(model, { optimizer: "adam", loss: "categorical_crossentropy", metrics: ["accuracy"] });
  await assert.rejects(
    cl.fit(model, tf.zeros([4, 28, 28]), tf.zeros([4, 10])),
    /expects shape \[batch, 28, 28, 1\], got \[4, 28, 28\] \(add the channel axis/,
  );
  await assert.rejects(
    cl.fit(model, x, tf.tensor1d([1, 2, 3, 4])),
    /one-hot targets of shape \[n, 10\], got \[4\] \(integer labels\?/,
  );
  await assert.rejects(cl.fit(model, x, tf.zeros([3, 10])), /x has 4 samples but y has 3/);
  await assert.rejects(
    cl.fit(model, x, tf.zeros([4, 10]), { batch_size: 2 } as never),
    /unknown option "batch_size" \(options are camelCase: batchSize\)/,
  );
  await assert.rejects(
    cl.fit(model, x, tf.zeros([4, 10]), { validationSplit: 1 }),
    /validationSplit must be in \[0, 1\)/,
  );
  await assert.rejects(
    cl.fit(model, x, tf.zeros([4, 10]), { epochs: 0 }),
    /epochs must be a positive integer/,
  );
  cl.compile(model, { loss: "sparse_categorical_crossentropy" });
  await assert.rejects(
    cl.fit(model, x, tf.tensor1d([0, 1, 2, 10])),
    /labels must be in \[0, 9\], got values from 0 to 10/,
  );
  assert.throws(
    () => cl.compile(model, { loss: "categorical_crossentropie" }),
    /Unknown loss "categorical_crossentropie"/,
  );
  assert.throws(
    () => cl.compile(model, { loss: "mse", optimizer: "adamw" }),
    /Unknown optimizer "adamw"/,
  );
  assert.throws(
    () => cl.compile(model, { loss: "mse", metrics: ["precision"] }),
    /Unknown metric "precision"/,
  );
  assert.throws(
    () => cl.compile(model, { loss: ["mse", "mse"] }),
    /loss has 2 entries but the model has 1 output/,
  );
  x.dispose();
  model.dispose();
});

Deno.test("classWeight scales each sample's loss by its class's weight", async () => {
  const model = fixedSoftmax([0, 0]); // p = 0.5 everywhere: each sample's loss is ln 2
  model.layers[0].trainable = false;
  cl.compile(model, { optimizer: "sgd", loss: "categorical_crossentropy" });
  const y = tf.tensor2d([[1, 0], [0, 1], [0, 1], [0, 1]]);
  const history = await cl.fit(model, tf.zeros([4, 2]), y, {
    classWeight: { 0: 5, 1: 1 },
    verbose: 0,
    shuffle: false,
  });
  // Keras: mean over the batch of weighted losses = (5 + 1 + 1 + 1) / 4 · ln 2.
  assert.ok(Math.abs(history.history.loss[0] - 2 * Math.log(2)) < 1e-5);
  model.dispose();
});

Deno.test("fit() trains from an ImageDataGenerator flow (augmented batches, disposed after use)", async () => {
  cl.seed(8);
  const x = tf.randomUniform([24, 8, 8, 1], 0, 1, "float32", 1);
  const y = tf.oneHot(tf.tensor1d([...Array(24).keys()].map((i) => i % 2), "int32"), 2);
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({ filters: 2, kernelSize: 3, inputShape: [8, 8, 1] }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 2, activation: "softmax" }),
    ],
  });
  cl.compile(model, { optimizer: "adam", loss: "categorical_crossentropy", metrics: ["accuracy"] });
  const flow = new cl.ImageDataGenerator({ horizontalFlip: true, rotationRange: 10 }).flow(x, y, {
    batchSize: 8,
  });
  await cl.fit(model, flow, { epochs: 1, verbose: 0 });
  const before = tf.memory().numTensors;
  const history = await cl.fit(model, flow, { epochs: 2, verbose: 0, validationData: [x, y] });
  assert.equal(history.params.steps, 3);
  assert.deepEqual(Object.keys(history.history), ["loss", "accuracy", "val_loss", "val_accuracy"]);
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([x, y]);
  model.dispose();
});

Deno.test("fit(), evaluate() and predict() take plain number arrays too (as Keras takes NumPy)", async () => {
  cl.seed(3);
  const model = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [2] })] });
  cl.compile(model, { optimizer: cl.optimizers.SGD({ learningRate: 0.2 }), loss: "mse" });
  const x = [[0, 1], [1, 0], [1, 1], [0, 0]];
  const y = [1, 1, 2, 0];
  await cl.fit(model, x, y, { epochs: 1, verbose: 0 });
  const before = tf.memory().numTensors;
  const history = await cl.fit(model, x, y, { epochs: 300, verbose: 0, validationData: [x, y] });
  assert.ok(history.history.val_loss.at(-1)! < 0.01);
  assert.ok((await cl.evaluate(model, x, y) as number) < 0.01);
  assert.equal(tf.memory().numTensors, before, "the tensors made from arrays are disposed");
  const out = await cl.predict(model, [[1, 1]]) as tf.Tensor;
  assert.ok(Math.abs((await out.data())[0] - 2) < 0.1);
  out.dispose();
  await assert.rejects(
    cl.fit(model, [[1, 2], [3]], [1, 2], { verbose: 0 }),
    /entry \[1\] has shape \[1\] but entry \[0\] has \[2\]/,
  );
  model.dispose();
});

Deno.test("per-output metrics: accuracy on the class head, BoxIoU on the box head (lesson 04)", async () => {
  const input = tf.input({ shape: [2] });
  const label = tf.layers.dense({ units: 3, activation: "softmax", name: "label" }).apply(input);
  const box = tf.layers.dense({ units: 4, name: "box" }).apply(input);
  const model = tf.model({ inputs: input, outputs: [label, box] as tf.SymbolicTensor[] });
  // The box head predicts [0, 0, 2, 2] whatever the input; the class head always class 2.
  model.getLayer("box").setWeights([tf.zeros([2, 4]), tf.tensor1d([0, 0, 2, 2])]);
  model.getLayer("label").setWeights([tf.zeros([2, 3]), tf.tensor1d([0, 0, 5])]);
  cl.compile(model, {
    loss: { label: "sparse_categorical_crossentropy", box: "mse" },
    lossWeights: { label: 0.8, box: 0.2 },
    metrics: { label: "accuracy", box: [new cl.metrics.BoxIoU({ format: "xyxy" })] },
  });
  const boxes = tf.tensor2d([[0, 0, 2, 2], [1, 1, 3, 3]]); // IoU 1 and 1/7
  const logs = await cl.evaluate(model, tf.zeros([2, 2]), [tf.tensor1d([2, 0]), boxes], {
    returnDict: true,
  }) as Record<string, number>;
  assert.deepEqual(Object.keys(logs), [
    "loss",
    "label_loss",
    "box_loss",
    "label_accuracy",
    "box_box_iou",
  ]);
  assert.equal(logs.label_accuracy, 0.5);
  assert.ok(Math.abs(logs.box_box_iou - (1 + 1 / 7) / 2) < 1e-6);
  assert.ok(Math.abs(logs.loss - (0.8 * logs.label_loss + 0.2 * logs.box_loss)) < 1e-5);
  model.dispose();
});

Deno.test("fit() takes over a model compiled with tfjs's own model.compile", async () => {
  const model = fixedSoftmax([0, Math.log(3)]);
  model.compile({ optimizer: "sgd", loss: "categoricalCrossentropy", metrics: ["accuracy"] });
  const history = await cl.fit(
    model,
    tf.zeros([4, 2]),
    tf.tensor2d([[0, 1], [0, 1], [0, 1], [1, 0]]),
    {
      verbose: 0,
    },
  );
  assert.deepEqual(Object.keys(history.history), ["loss", "accuracy"]);
  assert.equal(history.history.accuracy[0], 0.75);
  model.dispose();
});

Deno.test("a second fit() on a model that is still training is refused", async () => {
  const model = fixedSoftmax([0, 0]);
  cl.compile(model, { loss: "categorical_crossentropy" });
  const x = tf.zeros([64, 2]);
  const y = tf.oneHot(tf.zeros([64], "int32"), 2);
  const first = cl.fit(model, x, y, { epochs: 3, batchSize: 1, verbose: 0 });
  await assert.rejects(cl.fit(model, x, y, { verbose: 0 }), /this model is already training/);
  await first;
  await cl.fit(model, x, y, { verbose: 0 }); // and accepted again afterwards
  tf.dispose([x, y]);
  model.dispose();
});

Deno.test("the first fit() keeps only the optimizer's state; metric state is freed", async () => {
  const model = fixedSoftmax([0, 0]);
  cl.compile(model, {
    optimizer: cl.optimizers.SGD({ learningRate: 0.1 }), // plain SGD keeps no state
    loss: "categorical_crossentropy",
    metrics: [
      "accuracy",
      "mse",
      new cl.metrics.MeanIoU({ numClasses: 2, sparseYTrue: false, sparseYPred: false }),
    ],
  });
  const x = tf.zeros([8, 2]);
  const y = tf.oneHot(tf.zeros([8], "int32"), 2);
  const before = tf.memory().numTensors;
  await cl.fit(model, x, y, { epochs: 2, batchSize: 3, validationSplit: 0.25, verbose: 0 });
  await cl.evaluate(model, x, y);
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([x, y]);
  model.dispose();
});

Deno.test("a loss that fails mid-step leaves no tensors behind", async () => {
  const model = fixedSoftmax([0, 0]);
  cl.compile(model, {
    loss: (_t: tf.Tensor, p: tf.Tensor) => {
      throw new Error(`broken loss on ${p.shape}`);
    },
  });
  const x = tf.zeros([4, 2]);
  const y = tf.zeros([4, 2]);
  const before = tf.memory().numTensors;
  await assert.rejects(cl.fit(model, x, y, { verbose: 0 }), /broken loss on 4,2/);
  await assert.rejects(cl.evaluate(model, x, y), /broken loss/);
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([x, y]);
  model.dispose();
});

Deno.test("batches from a source are checked like tensors (shapes, targets), leaking nothing", async () => {
  const model = cl.models.mnistConvnet();
  cl.compile(model, { loss: "categorical_crossentropy" });
  const before = tf.memory().numTensors;
  const source = () => [{ xs: tf.zeros([2, 28, 28]), ys: tf.zeros([2, 10]) }][Symbol.iterator]();
  await assert.rejects(
    cl.fit(model, () => ({ [Symbol.iterator]: source }), { verbose: 0 }),
    /expects shape \[batch, 28, 28, 1\]/,
  );
  const labels = () =>
    [{ xs: tf.zeros([2, 28, 28, 1]), ys: tf.tensor1d([3, 4]) }][Symbol.iterator]();
  await assert.rejects(
    cl.evaluate(model, () => ({ [Symbol.iterator]: labels })),
    /one-hot targets of shape \[n, 10\], got \[2\]/,
  );
  assert.equal(tf.memory().numTensors, before);
  model.dispose();
});

Deno.test("model.dispose() frees the optimizer cl.compile made from a name, as tfjs's compile does", async () => {
  const dense = () =>
    tf.sequential({
      layers: [tf.layers.dense({ units: 2, activation: "softmax", inputShape: [2] })],
    });
  const x = tf.zeros([4, 2]);
  const y = tf.oneHot(tf.tensor1d([0, 1, 0, 1], "int32"), 2);
  const before = tf.memory().numTensors;
  for (const optimizer of ["adam", "sgd", "rmsprop", "adagrad"]) {
    const model = dense();
    cl.compile(model, { optimizer, loss: "categorical_crossentropy" });
    await cl.fit(model, x, y, { verbose: 0 });
    // A second compile replaces the optimizer it made: the first one's state goes too.
    cl.compile(model, { optimizer, loss: "categorical_crossentropy" });
    await cl.fit(model, x, y, { verbose: 0 });
    model.dispose();
    assert.equal(tf.memory().numTensors, before, optimizer);
  }
  // A compile that fails (unknown loss) makes no optimizer to leak.
  const model = dense();
  assert.throws(() => cl.compile(model, { optimizer: "adam", loss: "bogus" }), /Unknown loss/);
  model.dispose();
  assert.equal(tf.memory().numTensors, before, "failed compile");
  // tfjs's own compile("adam") made the model's optimizer: handed to cl.compile, it stays the model's.
  const viaTfjs = dense();
  viaTfjs.compile({ optimizer: "adam", loss: "categoricalCrossentropy" });
  cl.compile(viaTfjs, { optimizer: viaTfjs.optimizer, loss: "categorical_crossentropy" });
  await cl.fit(viaTfjs, x, y, { verbose: 0 });
  viaTfjs.dispose();
  assert.equal(tf.memory().numTensors, before, "tfjs's compile, then cl.compile");
  // An optimizer object stays the caller's, as in tfjs: usable after the model is gone.
  const own = cl.optimizers.Adam();
  const first = dense();
  cl.compile(first, { optimizer: own, loss: "categorical_crossentropy" });
  await cl.fit(first, x, y, { verbose: 0 });
  first.dispose();
  assert.ok(tf.memory().numTensors > before, "the caller's optimizer keeps its state");
  own.dispose();
  tf.dispose([x, y]);
});

Deno.test("fit() names disposed data and a validationData that is not [xVal, yVal]", async () => {
  const model = fixedSoftmax([0, 0]);
  cl.compile(model, { loss: "categorical_crossentropy" });
  const x = tf.zeros([4, 2]);
  const y = tf.oneHot(tf.tensor1d([0, 1, 0, 1], "int32"), 2);
  await assert.rejects(
    cl.fit(model, x, y, { verbose: 0, validationData: [x] as never }),
    /validationData must be \[xVal, yVal\], got a list of 1 tensor/,
  );
  const gone = tf.zeros([4, 2]);
  gone.dispose();
  await assert.rejects(cl.fit(model, gone, y, { verbose: 0 }), /the x tensor has been disposed/);
  await assert.rejects(cl.predict(model, gone), /the x tensor has been disposed/);
  tf.dispose([x, y]);
  model.dispose();
});

Deno.test("predict() on one image without the batch axis says to add the batch axis", async () => {
  const model = cl.models.lenet5();
  const one = tf.zeros([28, 28, 1]);
  await assert.rejects(
    cl.predict(model, one),
    /expects shape \[batch, 28, 28, 1\], got \[28, 28, 1\] \(one sample\? add the batch axis: x\.expandDims\(0\)\)/,
  );
  const noChannel = tf.zeros([5, 28, 28]);
  await assert.rejects(cl.predict(model, noChannel), /add the channel axis/);
  tf.dispose([one, noChannel]);
  model.dispose();
});
