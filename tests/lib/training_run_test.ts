// A tiny model trained with cl.fit on every backend available here, to a stated accuracy on a
// fixed seed: the end-to-end check that compile/fit/evaluate work on each engine.
import assert from "node:assert/strict";
import * as cl from "../../lib/mod.ts";
import { probeWebGpu } from "../../lib/backend/webgpu.ts";
import { RandomStream } from "../../lib/random.ts";
import { skipUnless } from "../_skip.ts";

const tf = cl.tf;

/** 12×12 noisy images with a bright 4×4 square in one of the four quadrants (the class). */
function quadrants(n: number, seed: number): { x: cl.tf.Tensor; y: cl.tf.Tensor } {
  const rng = new RandomStream(seed);
  const pixels = new Float32Array(n * 144);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const label = rng.int(4);
    labels[i] = label;
    for (let p = 0; p < 144; p++) pixels[i * 144 + p] = rng.uniform(0, 0.3);
    const top = (label >> 1) * 6 + 1 + rng.int(2);
    const left = (label & 1) * 6 + 1 + rng.int(2);
    for (let r = top; r < top + 4; r++) {
      for (let c = left; c < left + 4; c++) pixels[i * 144 + r * 12 + c] = rng.uniform(0.7, 1);
    }
  }
  return {
    x: tf.tensor4d(pixels, [n, 12, 12, 1]),
    y: tf.tidy(() => tf.oneHot(tf.tensor1d(labels, "int32"), 4)),
  };
}

/** Two Gaussian blobs in 2-D (class 0 around (-1, -1), class 1 around (1, 1)). */
function blobs(n: number, seed: number): { x: cl.tf.Tensor; y: cl.tf.Tensor } {
  const rng = new RandomStream(seed);
  const points = new Float32Array(n * 2);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = rng.int(2);
    const centre = labels[i] === 1 ? 1 : -1;
    points[2 * i] = rng.normal(centre, 0.5);
    points[2 * i + 1] = rng.normal(centre, 0.5);
  }
  return {
    x: tf.tensor2d(points, [n, 2]),
    y: tf.tidy(() => tf.oneHot(tf.tensor1d(labels, "int32"), 2)),
  };
}

interface Run {
  backend: cl.BackendName;
  task: "cnn" | "mlp";
  samples: number;
  epochs: number;
}

async function train(run: Run): Promise<{ accuracy: number; seconds: number }> {
  await cl.useBackend(run.backend);
  cl.seed(1);
  const make = run.task === "cnn" ? quadrants : blobs;
  const trainSet = make(run.samples, 1);
  const testSet = make(100, 2);
  const model = run.task === "cnn"
    ? tf.sequential({
      layers: [
        tf.layers.conv2d({
          filters: 8,
          kernelSize: 3,
          activation: "relu",
          inputShape: [12, 12, 1],
        }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 4, activation: "softmax" }),
      ],
    })
    : tf.sequential({
      layers: [
        tf.layers.dense({ units: 8, activation: "relu", inputShape: [2] }),
        tf.layers.dense({ units: 2, activation: "softmax" }),
      ],
    });
  cl.compile(model, {
    optimizer: cl.optimizers.Adam({ learningRate: run.task === "cnn" ? 0.01 : 0.05 }),
    loss: "categorical_crossentropy",
    metrics: ["accuracy"],
  });
  const start = performance.now();
  await cl.fit(model, trainSet.x, trainSet.y, { epochs: run.epochs, batchSize: 32, verbose: 0 });
  const seconds = (performance.now() - start) / 1000;
  const [, accuracy] = await cl.evaluate(model, testSet.x, testSet.y) as number[];
  tf.dispose([trainSet.x, trainSet.y, testSet.x, testSet.y]);
  model.dispose();
  return { accuracy, seconds };
}

const probe = await probeWebGpu();
const softwareGpu = probe.ok && probe.description.isSoftware;

const runs: Run[] = [
  // tfjs's cpu backend computes convolution gradients in plain JavaScript: a smaller run.
  { backend: "cpu", task: "cnn", samples: 160, epochs: 3 },
  { backend: "wasm", task: "cnn", samples: 320, epochs: 4 },
  // A software WebGPU adapter compiles a shader per new op shape (seconds each): an MLP there.
  {
    backend: "webgpu",
    task: softwareGpu ? "mlp" : "cnn",
    samples: softwareGpu ? 64 : 320,
    epochs: 4,
  },
];

for (const run of runs) {
  const what = run.task === "cnn" ? "a tiny CNN (quadrant task)" : "an MLP (two blobs)";
  Deno.test({
    name: `${what} trained with cl.fit on ${run.backend} reaches ≥ 95 % test accuracy (seed 1)`,
    ...(run.backend === "webgpu"
      ? skipUnless(probe.ok, `no WebGPU adapter here (${probe.ok ? "" : probe.problem})`)
      : {}),
    async fn() {
      const before = cl.tf.getBackend() as cl.BackendName;
      try {
        const { accuracy, seconds } = await train(run);
        console.log(`${run.backend}: accuracy ${accuracy.toFixed(3)}, fit ${seconds.toFixed(2)} s`);
        assert.ok(accuracy >= 0.95, `${run.backend}: accuracy ${accuracy}`);
      } finally {
        await cl.useBackend(before);
      }
    },
  });
}

Deno.test("cl.seed() makes CNN training with dropout repeat exactly on wasm", async () => {
  const before = cl.tf.getBackend() as cl.BackendName;
  await cl.useBackend("wasm");
  const run = async () => {
    cl.seed(5);
    const data = quadrants(64, 3);
    const model = cl.models.mnistConvnet({ inputShape: [12, 12, 1], numClasses: 4 });
    cl.compile(model, { optimizer: "adam", loss: "categorical_crossentropy" });
    const history = await cl.fit(model, data.x, data.y, { epochs: 2, batchSize: 16, verbose: 0 });
    const kernel = await model.layers[0].getWeights()[0].data();
    tf.dispose([data.x, data.y]);
    model.dispose();
    return { loss: history.history.loss, kernel: Array.from(kernel) };
  };
  try {
    assert.deepEqual(await run(), await run());
  } finally {
    await cl.useBackend(before);
  }
});
