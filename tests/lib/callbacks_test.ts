// cl.callbacks: Keras's EarlyStopping / ModelCheckpoint / ReduceLROnPlateau / … semantics, with
// scripted logs (exact) and in real fit() runs (cl's and tfjs's), with no tensor leaks.
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import * as cl from "../../lib/mod.ts";

await tf.setBackend("cpu");

/** A compiled one-weight model whose kernel we set to mark "the weights of epoch e". */
function marker(): tf.Sequential {
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ units: 1, inputShape: [1], useBias: false, kernelInitializer: "zeros" }),
    ],
  });
  cl.compile(model, { optimizer: "sgd", loss: "mse" });
  return model;
}

async function kernelOf(model: tf.LayersModel): Promise<number> {
  return (await model.layers[0].getWeights()[0].data())[0];
}

/** Play epochs through a callback: before epoch e the kernel is set to e. */
async function play(
  callback: cl.callbacks.Callback,
  model: tf.LayersModel,
  logs: cl.callbacks.Logs[],
) {
  callback.setModel(model);
  model.stopTraining = false;
  await callback.onTrainBegin();
  let epoch = 0;
  for (; epoch < logs.length; epoch++) {
    const mark = tf.tensor2d([[epoch]]);
    model.layers[0].setWeights([mark]);
    mark.dispose();
    await callback.onEpochEnd(epoch, { ...logs[epoch] });
    if (model.stopTraining) break;
  }
  await callback.onTrainEnd();
  return epoch;
}

const losses = (...values: number[]) => values.map((v) => ({ val_loss: v }));

Deno.test("EarlyStopping stops after `patience` epochs without improvement, as Keras", async () => {
  const model = marker();
  const stop = new cl.callbacks.EarlyStopping({ patience: 2 });
  const last = await play(stop, model, losses(1, 0.5, 0.6, 0.55, 0.4, 0.3));
  assert.equal(last, 3);
  assert.equal(stop.stoppedEpoch, 3);
  assert.equal(stop.best, 0.5);
  assert.equal(stop.bestEpoch, 1);
  assert.equal(await kernelOf(model), 3, "weights are not restored by default");
  model.dispose();
});

Deno.test("EarlyStopping restoreBestWeights puts back the best epoch's weights, leaking nothing", async () => {
  const model = marker();
  const stop = new cl.callbacks.EarlyStopping({ patience: 2, restoreBestWeights: true });
  const before = tf.memory().numTensors;
  await play(stop, model, losses(1, 0.5, 0.6, 0.55, 0.4));
  assert.equal(await kernelOf(model), 1);
  // play() made one tensor per epoch for the marker weights; those replaced the kernel's value.
  assert.equal(tf.memory().numTensors, before);
  model.dispose();
});

Deno.test("EarlyStopping does not restore when training runs all its epochs (Keras's rule)", async () => {
  const model = marker();
  const stop = new cl.callbacks.EarlyStopping({ patience: 5, restoreBestWeights: true });
  await play(stop, model, losses(1, 0.5, 0.6));
  assert.equal(stop.stoppedEpoch, 0);
  assert.equal(await kernelOf(model), 2);
  model.dispose();
});

Deno.test("EarlyStopping minDelta: smaller changes are not improvements", async () => {
  const model = marker();
  const logs = losses(1, 0.95, 0.92, 0.5);
  const stop = new cl.callbacks.EarlyStopping({ patience: 2, minDelta: 0.1 });
  assert.equal(await play(stop, model, logs), 2);
  assert.equal(await play(new cl.callbacks.EarlyStopping({ patience: 2 }), model, logs), 4);
  model.dispose();
});

Deno.test("EarlyStopping maximises accuracy-like monitors in auto mode", async () => {
  const model = marker();
  const stop = new cl.callbacks.EarlyStopping({ monitor: "val_accuracy", patience: 1 });
  const logs = [0.5, 0.7, 0.8, 0.75].map((v) => ({ val_accuracy: v }));
  assert.equal(await play(stop, model, logs), 3);
  assert.equal(stop.best, 0.8);
  const min = new cl.callbacks.EarlyStopping({ monitor: "val_accuracy", patience: 1, mode: "min" });
  assert.equal(await play(min, model, logs), 1);
  model.dispose();
});

Deno.test("EarlyStopping with a baseline keeps waiting until the baseline is beaten", async () => {
  const model = marker();
  // Improvements that do not beat the baseline do not reset the wait, so the first epoch that
  // does not improve stops training.
  const logs = losses(1, 0.9, 0.8, 0.85);
  const stop = new cl.callbacks.EarlyStopping({ patience: 2, baseline: 0.3 });
  assert.equal(await play(stop, model, logs), 3);
  assert.equal(await play(new cl.callbacks.EarlyStopping({ patience: 2 }), model, logs), 4);
  model.dispose();
});

Deno.test("EarlyStopping warns once when the monitored key is missing and never stops", async () => {
  const model = marker();
  const stop = new cl.callbacks.EarlyStopping({ monitor: "val_los" });
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (m: string) => warnings.push(m);
  try {
    assert.equal(await play(stop, model, losses(1, 2, 3, 4)), 4);
  } finally {
    console.warn = warn;
  }
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /"val_los", which is not available. Available metrics are: val_loss/);
  model.dispose();
});

Deno.test("formatFilepath() fills Keras placeholders like {epoch:02d} and {val_loss:.2f}", () => {
  const f = cl.callbacks.formatFilepath;
  assert.equal(
    f("ckpt/{epoch:02d}-{val_loss:.2f}", { epoch: 3, val_loss: 0.12345 }),
    "ckpt/03-0.12",
  );
  assert.equal(f("m{epoch}", { epoch: 12 }), "m12");
  assert.equal(f("{val_loss:.3e}", { val_loss: 0.000123 }), "1.230e-04");
  assert.equal(f("{epoch:4d}", { epoch: 7 }), "   7");
  assert.throws(() => f("{val_acc:.2f}", { epoch: 1 }), /no value "val_acc" \(available: epoch\)/);
});

Deno.test("ModelCheckpoint saveBestOnly saves only improvements, as loadable models", async () => {
  const dir = await Deno.makeTempDir();
  const model = marker();
  const checkpoint = new cl.callbacks.ModelCheckpoint(`${dir}/ckpt-{epoch:02d}`, {
    saveBestOnly: true,
  });
  await play(checkpoint, model, losses(1, 0.5, 0.6, 0.4));
  assert.deepEqual(checkpoint.saved, [`${dir}/ckpt-01`, `${dir}/ckpt-02`, `${dir}/ckpt-04`]);
  const names = [];
  for await (const entry of Deno.readDir(dir)) names.push(entry.name);
  assert.deepEqual(names.sort(), ["ckpt-01", "ckpt-02", "ckpt-04"]);
  const loaded = await cl.loadModel(`${dir}/ckpt-04`);
  assert.equal(await kernelOf(loaded), 3);
  loaded.dispose();
  model.dispose();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("ModelCheckpoint in fit() keeps the best epoch in one folder (the course's use)", async () => {
  const dir = await Deno.makeTempDir();
  cl.seed(3);
  const x = tf.randomNormal([64, 4], 0, 1, "float32", 1);
  const y = tf.tidy(() => tf.sum(x, 1, true));
  const model = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [4] })] });
  cl.compile(model, { optimizer: cl.optimizers.SGD({ learningRate: 0.05 }), loss: "mse" });
  let bestKernel: Float32Array | null = null;
  let best = Infinity;
  const tracker = {
    onEpochEnd: async (_epoch: number, logs?: cl.callbacks.Logs) => {
      if (logs!.val_loss < best) {
        best = logs!.val_loss;
        bestKernel = await model.layers[0].getWeights()[0].data() as Float32Array;
      }
    },
  };
  const checkpoint = new cl.callbacks.ModelCheckpoint(`${dir}/best`, {
    saveBestOnly: true,
    verbose: 0,
  });
  await cl.fit(model, x, y, {
    epochs: 6,
    validationSplit: 0.25,
    verbose: 0,
    callbacks: [checkpoint, tracker],
  });
  const loaded = await cl.loadModel(`${dir}/best`);
  assert.deepEqual(await loaded.layers[0].getWeights()[0].data(), bestKernel);
  assert.equal(checkpoint.best, best);
  tf.dispose([x, y]);
  model.dispose();
  loaded.dispose();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("EarlyStopping(restoreBestWeights) in fit() stops early and restores, leaking nothing", async () => {
  cl.seed(4);
  const x = tf.randomNormal([40, 3], 0, 1, "float32", 2);
  const y = tf.randomNormal([40, 1], 0, 1, "float32", 3); // noise: validation stops improving
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ units: 32, activation: "relu", inputShape: [3] }),
      tf.layers.dense({ units: 1 }),
    ],
  });
  cl.compile(model, { optimizer: cl.optimizers.Adam({ learningRate: 0.05 }), loss: "mse" });
  await cl.fit(model, x, y, { epochs: 1, verbose: 0 }); // optimizer slots exist from here on
  const before = tf.memory().numTensors;
  const stop = new cl.callbacks.EarlyStopping({ patience: 2, restoreBestWeights: true });
  let weightsAtBest: Float32Array[] = [];
  const history = await cl.fit(model, x, y, {
    epochs: 200,
    validationSplit: 0.5,
    verbose: 0,
    callbacks: [stop, {
      onEpochEnd: async (epoch: number) => {
        if (epoch === stop.bestEpoch) {
          weightsAtBest = await Promise.all(
            model.getWeights().map((w) => w.data() as Promise<Float32Array>),
          );
        }
      },
    }],
  });
  assert.ok(history.epoch.length < 200);
  assert.equal(stop.stoppedEpoch, history.epoch.at(-1));
  assert.equal(history.history.val_loss.length, history.epoch.length);
  const now = await Promise.all(model.getWeights().map((w) => w.data()));
  assert.deepEqual(now, weightsAtBest);
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([x, y]);
  model.dispose();
});

Deno.test("ReduceLROnPlateau divides the learning rate after `patience` flat epochs and logs lr", async () => {
  const model = marker();
  cl.compile(model, { optimizer: cl.optimizers.Adam({ learningRate: 0.01 }), loss: "mse" });
  const reduce = new cl.callbacks.ReduceLROnPlateau({ patience: 2, factor: 0.5, minLr: 0.003 });
  const logs = losses(1, 1, 1, 1, 1, 1, 1);
  reduce.setModel(model);
  await reduce.onTrainBegin();
  const rates: number[] = [];
  for (let epoch = 0; epoch < logs.length; epoch++) {
    const l: Record<string, number> = { ...logs[epoch] };
    await reduce.onEpochEnd(epoch, l);
    rates.push(cl.optimizers.getLearningRate(model.optimizer));
    assert.equal(typeof l.lr, "number");
  }
  assert.deepEqual(rates, [0.01, 0.01, 0.005, 0.005, 0.003, 0.003, 0.003]);
  model.dispose();
});

Deno.test("LearningRateScheduler sets the rate each epoch and fit() records it in history", async () => {
  const model = marker();
  cl.compile(model, { optimizer: cl.optimizers.SGD({ learningRate: 0.1 }), loss: "mse" });
  const schedule = new cl.callbacks.LearningRateScheduler((epoch) => 0.1 / (epoch + 1));
  const history = await cl.fit(model, tf.ones([4, 1]), tf.ones([4, 1]), {
    epochs: 3,
    verbose: 0,
    callbacks: [schedule],
  });
  assert.deepEqual(history.history.lr.map((v) => Number(v.toFixed(6))), [0.1, 0.05, 0.033333]);
  model.dispose();
});

Deno.test("TerminateOnNaN stops at the first non-finite loss", async () => {
  const model = marker();
  const nanLoss = (_t: tf.Tensor, p: tf.Tensor) => tf.mul(tf.mean(p, -1), NaN);
  cl.compile(model, { optimizer: "sgd", loss: nanLoss });
  const history = await cl.fit(model, tf.ones([8, 1]), tf.ones([8, 1]), {
    epochs: 5,
    batchSize: 2,
    verbose: 0,
    callbacks: [new cl.callbacks.TerminateOnNaN()],
  });
  assert.equal(history.epoch.length, 1);
  model.dispose();
});

Deno.test("plain objects of hooks and LambdaCallback get numbers; onBatchEnd gets running means", async () => {
  const model = marker();
  cl.compile(model, {
    optimizer: cl.optimizers.SGD({ learningRate: 1e-9 }),
    loss: "mse",
    metrics: ["mae"],
  });
  const events: string[] = [];
  const batchLosses: number[] = [];
  const history = await cl.fit(
    model,
    tf.zeros([6, 1]),
    tf.tensor2d([[1], [1], [3], [3], [5], [5]]),
    {
      epochs: 1,
      batchSize: 2,
      shuffle: false,
      verbose: 0,
      callbacks: [
        {
          onTrainBegin: () => {
            events.push("trainBegin");
          },
          onEpochBegin: (e: number) => {
            events.push(`epochBegin ${e}`);
          },
          onBatchEnd: (_b: number, logs?: cl.callbacks.Logs) => {
            batchLosses.push(logs!.loss);
          },
          onEpochEnd: (e: number, logs?: cl.callbacks.Logs) => {
            events.push(`epochEnd ${e} ${typeof logs!.loss} ${logs!.mae}`);
          },
          onTrainEnd: () => {
            events.push("trainEnd");
          },
        },
        new cl.callbacks.LambdaCallback({ onEpochEnd: (e) => void events.push(`lambda ${e}`) }),
      ],
    },
  );
  assert.deepEqual(events, [
    "trainBegin",
    "epochBegin 0",
    "epochEnd 0 number 3",
    "lambda 0",
    "trainEnd",
  ]);
  // Running means over the epoch: 1, (1 + 9) / 2, (1 + 9 + 25) / 3.
  assert.deepEqual(batchLosses, [1, 5, 35 / 3].map((v) => Math.fround(v)));
  assert.equal(history.history.loss[0], Math.fround(35 / 3));
  model.dispose();
});

Deno.test("cl.callbacks work in tfjs's own fitDataset, and tfjs's callbacks in cl.fit", async () => {
  const model = marker();
  cl.compile(model, { optimizer: "sgd", loss: "mse" });
  const ds = tf.data.zip({ xs: tf.data.array([[1], [2]]), ys: tf.data.array([[1], [2]]) }).batch(
    1,
  ) as unknown as tf.data.Dataset<{ xs: tf.Tensor; ys: tf.Tensor }>;
  const stop = new cl.callbacks.EarlyStopping({ monitor: "loss", patience: 0, minDelta: 100 });
  const tfHistory = await model.fitDataset(ds, { epochs: 10, callbacks: [stop], verbose: 0 });
  assert.equal(tfHistory.epoch.length, 2);
  const tfStop = tf.callbacks.earlyStopping({ monitor: "loss", patience: 0, minDelta: 100 });
  const history = await cl.fit(model, tf.ones([2, 1]), tf.ones([2, 1]), {
    epochs: 10,
    verbose: 0,
    callbacks: [tfStop],
  });
  assert.equal(history.epoch.length, 2);
  model.dispose();
});

Deno.test("History displays itself as a table of epochs", async () => {
  const model = marker();
  cl.compile(model, { optimizer: "sgd", loss: "mse" });
  const history = await cl.fit(model, tf.ones([2, 1]), tf.ones([2, 1]), { epochs: 2, verbose: 0 });
  const bundle = await (history as unknown as cl.Displayable)[cl.DISPLAY]();
  assert.match(String(bundle["text/plain"]), /^epoch\s+loss\n\s+1\s+\d\.\d{4}\n\s+2\s/);
  assert.match(String(bundle["text/html"]), /<th[^>]*>loss<\/th>/);
  model.dispose();
});

Deno.test("fit()'s progress prints one Keras-style line per epoch outside notebooks, with the seed", async () => {
  const model = marker();
  cl.compile(model, { optimizer: "sgd", loss: "mse", metrics: ["mae"] });
  cl.seed(9);
  const lines: string[] = [];
  const log = console.log;
  console.log = (line: string) => lines.push(line);
  try {
    await cl.fit(model, tf.ones([10, 1]), tf.ones([10, 1]), {
      epochs: 2,
      batchSize: 4,
      validationSplit: 0.2,
    });
  } finally {
    console.log = log;
  }
  assert.equal(lines.length, 3);
  assert.match(
    lines[0],
    /^Train sequential(_\d+)? on 8 samples, validate on 2 samples \(backend cpu, seed 9\)$/,
  );
  assert.match(
    lines[1],
    /^Epoch 1\/2 - 2\/2 - \d+s - loss: \d\.\d{4} - mae: \d\.\d{4} - val_loss: \d\.\d{4} - val_mae: \d\.\d{4} - \d+(ms|us|s)\/step$/,
  );
  model.dispose();
});

Deno.test("every callback leaves tf.memory().numTensors unchanged across a fit()", async () => {
  const dir = await Deno.makeTempDir();
  const x = tf.randomNormal([24, 1], 0, 1, "float32", 5);
  const y = tf.tidy(() => tf.mul(x, 3));
  const model = marker();
  cl.compile(model, {
    optimizer: cl.optimizers.Adam({ learningRate: 0.01 }),
    loss: "mse",
    metrics: ["mae"],
  });
  await cl.fit(model, x, y, { epochs: 1, verbose: 0 }); // the optimizer's slots
  const callbacks: [string, () => cl.CallbackLike][] = [
    [
      "EarlyStopping",
      () => new cl.callbacks.EarlyStopping({ patience: 1, restoreBestWeights: true }),
    ],
    [
      "ModelCheckpoint",
      () => new cl.callbacks.ModelCheckpoint(`${dir}/ckpt`, { saveBestOnly: true }),
    ],
    ["ReduceLROnPlateau", () => new cl.callbacks.ReduceLROnPlateau({ patience: 1 })],
    ["LearningRateScheduler", () => new cl.callbacks.LearningRateScheduler((_e, lr) => lr * 0.9)],
    ["TerminateOnNaN", () => new cl.callbacks.TerminateOnNaN()],
    ["LambdaCallback", () => new cl.callbacks.LambdaCallback({ onBatchEnd: () => {} })],
    ["History", () => new cl.callbacks.History()],
    ["tf.callbacks.earlyStopping", () => tf.callbacks.earlyStopping({ patience: 1 })],
  ];
  for (const [name, make] of callbacks) {
    const before = tf.memory().numTensors;
    await cl.fit(model, x, y, {
      epochs: 4,
      batchSize: 8,
      validationSplit: 0.25,
      verbose: 0,
      callbacks: [make()],
    });
    assert.equal(tf.memory().numTensors, before, name);
  }
  tf.dispose([x, y]);
  model.dispose();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a fit() that fails mid-run leaves no EarlyStopping snapshot behind", async () => {
  const x = tf.randomNormal([16, 1], 0, 1, "float32", 6);
  const y = tf.tidy(() => tf.mul(x, 2));
  const model = marker();
  await cl.fit(model, x, y, { epochs: 1, verbose: 0 });
  const before = tf.memory().numTensors;
  const stop = new cl.callbacks.EarlyStopping({ monitor: "loss", restoreBestWeights: true });
  await assert.rejects(
    cl.fit(model, x, y, {
      epochs: 5,
      verbose: 0,
      callbacks: [stop, {
        onEpochEnd: (epoch: number) => {
          if (epoch === 2) throw new Error("interrupted by the learner");
        },
      }],
    }),
    /interrupted by the learner/,
  );
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([x, y]);
  model.dispose();
});

Deno.test("Keras's snake_case option names get a clear error, never silent defaults", async () => {
  const model = marker();
  const cases: [string, () => unknown, RegExp][] = [
    [
      "EarlyStopping",
      () => new cl.callbacks.EarlyStopping({ restore_best_weights: true } as never),
      /Cannot make EarlyStopping: unknown option "restore_best_weights" \(options are camelCase: restoreBestWeights\)/,
    ],
    [
      "ModelCheckpoint",
      () => new cl.callbacks.ModelCheckpoint("ckpt", { save_best_only: true } as never),
      /Cannot make ModelCheckpoint: unknown option "save_best_only" .*saveBestOnly/,
    ],
    [
      "ReduceLROnPlateau",
      () => new cl.callbacks.ReduceLROnPlateau({ min_lr: 1e-5 } as never),
      /Cannot make ReduceLROnPlateau: unknown option "min_lr" .*minLr/,
    ],
    [
      "compile",
      () => cl.compile(model, { loss: "mse", loss_weights: [1] } as never),
      /Cannot compile: unknown option "loss_weights" .*lossWeights/,
    ],
  ];
  for (const [name, make, message] of cases) assert.throws(make, message, name);
  const x = tf.zeros([2, 1]);
  await assert.rejects(
    cl.evaluate(model, x, x, { batch_size: 1 } as never),
    /Cannot evaluate: unknown option "batch_size" .*batchSize/,
  );
  await assert.rejects(
    cl.predict(model, x, { batch_size: 1 } as never),
    /Cannot predict: unknown option "batch_size" .*batchSize/,
  );
  x.dispose();
  model.dispose();
});
