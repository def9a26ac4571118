/**
 * `deno task bench train [--backend b] [--model lenet5|cifar|all] [--json] [--reps n]
 *  [--images n] [--no-torch]`
 *
 * Training speed of Convlab against PyTorch on the same CPU: one epoch, batch 128, Adam 1e-3,
 * categorical cross-entropy; images/s, then test accuracy after the epoch. LeNet-5 trains on
 * Fashion-MNIST (Debian `dataset-fashion-mnist`), the CIFAR CNN on 32×32×3 images. The PyTorch
 * peer (`train_torch.py`, Debian `python3-torch`, 2 threads, `OPENBLAS_NUM_THREADS=1`) trains
 * the same model on the same data in the same run, right after each Convlab run, so the ratio
 * is measured under the same load. One line per run: model, backend, images/s, ratio, accuracy.
 */
import process from "node:process";
import { parseArgs } from "node:util";
import * as cl from "../../lib/mod.ts";
import { RandomStream } from "../../lib/random.ts";

const tf = cl.tf;
const FASHION = "/usr/share/datasets/fashion-mnist";
const PYTHON = "/usr/bin/python3";
const BATCH = 128;
/** CIFAR images per "epoch" unless --images says otherwise (a full 50,000 takes minutes). */
const DEFAULT_CIFAR_IMAGES = 10_240;

interface Dataset {
  name: string;
  height: number;
  width: number;
  channels: number;
  xTrain: Float32Array;
  yTrain: Uint8Array;
  xTest: Float32Array;
  yTest: Uint8Array;
}

async function gunzip(path: string): Promise<Uint8Array> {
  const file = await Deno.open(path);
  const stream = file.readable.pipeThrough(new DecompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

async function idx(kind: "train" | "t10k"): Promise<{ x: Float32Array; y: Uint8Array }> {
  const images = await gunzip(`${FASHION}/${kind}-images-idx3-ubyte.gz`);
  const labels = await gunzip(`${FASHION}/${kind}-labels-idx1-ubyte.gz`);
  const pixels = images.subarray(16);
  const x = new Float32Array(pixels.length);
  for (let i = 0; i < x.length; i++) x[i] = pixels[i] / 255;
  return { x, y: labels.slice(8) };
}

async function fashionMnist(limit: number | undefined): Promise<Dataset> {
  const train = await idx("train"), test = await idx("t10k");
  const n = Math.min(limit ?? train.y.length, train.y.length);
  return {
    name: `Fashion-MNIST (${n} train / ${test.y.length} test)`,
    height: 28,
    width: 28,
    channels: 1,
    xTrain: train.x.subarray(0, n * 784),
    yTrain: train.y.subarray(0, n),
    xTest: test.x,
    yTest: test.y,
  };
}

/** Random 32×32×3 images with random labels: speed only (accuracy is chance). */
function randomCifar(n: number): Dataset {
  const rng = new RandomStream(7);
  const make = (count: number) => {
    const x = new Float32Array(count * 32 * 32 * 3);
    for (let i = 0; i < x.length; i++) x[i] = rng.next();
    const y = new Uint8Array(count);
    for (let i = 0; i < count; i++) y[i] = rng.int(10);
    return { x, y };
  };
  const train = make(n), test = make(1000);
  return {
    name: `random 32x32x3 images (${n} train; accuracy is chance)`,
    height: 32,
    width: 32,
    channels: 3,
    xTrain: train.x,
    yTrain: train.y,
    xTest: test.x,
    yTest: test.y,
  };
}

/** The course's models, from `cl.models` (what the lessons train). */
function buildModel(name: string): cl.tf.Sequential {
  return name === "lenet5" ? cl.models.lenet5() : cl.models.cifarCnn();
}

/** The model's layers as a plain list, so the PyTorch peer builds the very same network. */
function layerSpec(model: cl.tf.Sequential): Record<string, unknown>[] {
  return model.layers.map((layer) => {
    const c = layer.getConfig() as Record<string, unknown>;
    const kind = layer.getClassName();
    const pair = (v: unknown) => (Array.isArray(v) ? v : [v, v]) as number[];
    switch (kind) {
      case "Conv2D":
        return {
          kind,
          filters: c.filters,
          kernel: pair(c.kernelSize),
          strides: pair(c.strides),
          padding: c.padding,
          activation: c.activation,
        };
      case "MaxPooling2D":
        return {
          kind,
          pool: pair(c.poolSize),
          strides: pair(c.strides ?? c.poolSize),
          padding: c.padding,
        };
      case "Dropout":
        return { kind, rate: c.rate };
      case "Flatten":
        return { kind };
      case "Dense":
        return { kind, units: c.units, activation: c.activation };
      default:
        throw new Error(`bench train: the PyTorch peer has no ${kind} layer`);
    }
  });
}

/** One batch of images and one-hot labels, gathered from a permutation. */
function batchTensors(data: Dataset, order: Uint32Array, from: number, to: number) {
  const size = data.height * data.width * data.channels;
  const x = new Float32Array((to - from) * size);
  const y = new Float32Array((to - from) * 10);
  for (let i = from; i < to; i++) {
    const j = order[i];
    x.set(data.xTrain.subarray(j * size, (j + 1) * size), (i - from) * size);
    y[(i - from) * 10 + data.yTrain[j]] = 1;
  }
  return {
    xs: tf.tensor4d(x, [to - from, data.height, data.width, data.channels]),
    ys: tf.tensor2d(y, [to - from, 10]),
  };
}

async function accuracy(model: cl.tf.LayersModel, data: Dataset): Promise<number> {
  const size = data.height * data.width * data.channels;
  const n = data.yTest.length;
  let correct = 0;
  for (let i = 0; i < n; i += 1000) {
    const m = Math.min(1000, n - i);
    const predicted = tf.tidy(() =>
      (model.predict(
        tf.tensor4d(data.xTest.subarray(i * size, (i + m) * size), [
          m,
          data.height,
          data.width,
          data.channels,
        ]),
      ) as cl.tf.Tensor).argMax(1)
    );
    const labels = await predicted.data();
    predicted.dispose();
    for (let k = 0; k < m; k++) if (labels[k] === data.yTest[i + k]) correct++;
  }
  return correct / n;
}

/** Shuffled batches from host memory, as a batch source for `cl.fit` (it disposes them). */
function batchSource(data: Dataset, seed: number, limit = Infinity) {
  const n = data.yTrain.length;
  const order = new Uint32Array(n).map((_, i) => i);
  new RandomStream(seed).shuffle(order as unknown as number[]);
  const steps = Math.min(Math.ceil(n / BATCH), limit);
  return {
    length: steps,
    *[Symbol.iterator]() {
      for (let step = 0; step < steps; step++) {
        const from = step * BATCH;
        yield batchTensors(data, order, from, Math.min(from + BATCH, n));
      }
    },
  };
}

function compiled(modelName: string): cl.tf.Sequential {
  const model = buildModel(modelName);
  cl.compile(model, {
    optimizer: cl.optimizers.Adam({ learningRate: 1e-3 }),
    loss: "categorical_crossentropy",
    metrics: ["accuracy"],
  });
  return model;
}

/**
 * One epoch with `cl.fit` (the lessons' path), batches fed from host memory; returns images/s,
 * CPU seconds per image and test accuracy.
 */
async function trainConvlab(modelName: string, data: Dataset, seed: number) {
  // Warm-up on a separate model (kernel set-up, XNNPACK operators), as the PyTorch peer does.
  const warm = compiled(modelName);
  await cl.fit(warm, batchSource(data, seed, 3), { epochs: 1, verbose: 0 });
  disposeModel(warm);
  const model = compiled(modelName);
  const n = data.yTrain.length;
  const c0 = cpuMs(), t0 = performance.now();
  await cl.fit(model, batchSource(data, seed), { epochs: 1, verbose: 0 });
  const seconds = (performance.now() - t0) / 1000, cpuSeconds = (cpuMs() - c0) / 1000;
  const acc = await accuracy(model, data);
  disposeModel(model);
  return { imagesPerSecond: n / seconds, accuracy: acc, seconds, cpuSeconds, images: n };
}

function disposeModel(model: cl.tf.LayersModel): void {
  const optimizer = model.optimizer;
  model.dispose();
  optimizer?.dispose();
}

/** CPU milliseconds this process has used (user + system). */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/**
 * Per-kernel wall and CPU time of a few training steps, largest wall time first, and what is
 * left for tfjs's own bookkeeping (engine, tape, layers). Wall time says what a thread buys
 * (kernels run synchronously); CPU time counts every thread of the process, helpers' polling
 * included, and stays meaningful on a busy machine. Kernels that call other kernels are counted
 * once, at the outside.
 */
async function profileSteps(modelName: string, data: Dataset, steps: number) {
  const backendName = tf.getBackend();
  const totals = new Map<string, { ms: number; wallMs: number; calls: number }>();
  const originals = tf.getKernelsForBackend(backendName);
  let depth = 0;
  for (const config of originals) {
    tf.unregisterKernel(config.kernelName, backendName);
    tf.registerKernel({
      ...config,
      kernelFunc: (args) => {
        if (depth > 0) return config.kernelFunc(args);
        depth++;
        const c0 = cpuMs(), t0 = performance.now();
        try {
          return config.kernelFunc(args);
        } finally {
          depth--;
          const wallMs = performance.now() - t0;
          const shapes = Object.values(args.inputs).map((t) => `[${t?.shape ?? ""}]`).join("");
          const key = `${config.kernelName} ${shapes}`;
          const t = totals.get(key) ?? { ms: 0, wallMs: 0, calls: 0 };
          t.ms += cpuMs() - c0;
          t.wallMs += wallMs;
          t.calls++;
          totals.set(key, t);
        }
      },
    });
  }
  try {
    const model = buildModel(modelName);
    const optimizer = tf.train.adam(1e-3);
    model.compile({ optimizer, loss: "categoricalCrossentropy" });
    const order = new Uint32Array(data.yTrain.length).map((_, i) => i);
    const { xs, ys } = batchTensors(data, order, 0, BATCH);
    await model.trainOnBatch(xs, ys);
    totals.clear();
    const c0 = cpuMs(), t0 = performance.now();
    for (let s = 0; s < steps; s++) await model.trainOnBatch(xs, ys);
    const cpu = (cpuMs() - c0) / steps, wall = (performance.now() - t0) / steps;
    const rows = [...totals.entries()].sort((a, b) => b[1].wallMs - a[1].wallMs);
    const kernels = rows.reduce((a, [, t]) => a + t.wallMs, 0) / steps;
    const kernelsCpu = rows.reduce((a, [, t]) => a + t.ms, 0) / steps;
    const calls = rows.reduce((a, [, t]) => a + t.calls, 0) / steps;
    console.log(
      `${modelName} on ${backendName}, ${cl.backendInfo().threads} thread(s): step ${
        wall.toFixed(1)
      } ms wall (${cpu.toFixed(1)} ms CPU), kernels ${kernels.toFixed(1)} ms wall (${
        kernelsCpu.toFixed(1)
      } ms CPU) in ${calls} calls, tfjs bookkeeping ${(wall - kernels).toFixed(1)} ms wall`,
    );
    console.log("   wall ms  share    CPU ms  calls kernel [input shapes]");
    for (const [key, t] of rows.slice(0, 30)) {
      console.log(
        `  ${(t.wallMs / steps).toFixed(2).padStart(8)} ${
          (100 * t.wallMs / steps / wall).toFixed(1).padStart(5)
        }%  ${(t.ms / steps).toFixed(2).padStart(8)}  ${
          String(t.calls / steps).padStart(4)
        }x ${key}`,
      );
    }
    tf.dispose([xs, ys]);
    model.dispose();
    optimizer.dispose();
  } finally {
    for (const config of originals) {
      tf.unregisterKernel(config.kernelName, backendName);
      tf.registerKernel(config);
    }
  }
}

function peerLayers(modelName: string): Record<string, unknown>[] {
  const model = buildModel(modelName);
  try {
    return layerSpec(model);
  } finally {
    model.dispose();
  }
}

async function writePeerData(data: Dataset, modelName: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "convlab-bench-train-" });
  const bytes = (a: Float32Array | Uint8Array) =>
    new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  await Deno.writeFile(`${dir}/x_train.f32`, bytes(data.xTrain));
  await Deno.writeFile(`${dir}/y_train.u8`, data.yTrain);
  await Deno.writeFile(`${dir}/x_test.f32`, bytes(data.xTest));
  await Deno.writeFile(`${dir}/y_test.u8`, data.yTest);
  await Deno.writeTextFile(
    `${dir}/meta.json`,
    JSON.stringify({
      height: data.height,
      width: data.width,
      channels: data.channels,
      train: data.yTrain.length,
      test: data.yTest.length,
      layers: peerLayers(modelName),
    }),
  );
  return dir;
}

/** The PyTorch peer on this data, written to a fresh temporary folder (removed afterwards). */
async function trainTorchOn(data: Dataset, modelName: string, seed: number, threads: number) {
  const dir = await writePeerData(data, modelName);
  try {
    return await trainTorch(dir, modelName, seed, threads);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

async function torchAvailable(): Promise<boolean> {
  try {
    const out = await new Deno.Command(PYTHON, { args: ["-c", "import torch"], stderr: "null" })
      .output();
    return out.success;
  } catch {
    return false;
  }
}

async function trainTorch(dir: string, modelName: string, seed: number, threads: number) {
  const script = new URL("./train_torch.py", import.meta.url).pathname;
  const out = await new Deno.Command(PYTHON, {
    args: [script, dir, modelName, "--threads", String(threads), "--seed", String(seed)],
    env: { OPENBLAS_NUM_THREADS: "1", OMP_NUM_THREADS: String(threads) },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`PyTorch peer failed: ${new TextDecoder().decode(out.stderr).slice(-2000)}`);
  }
  const line = new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)!;
  return JSON.parse(line) as {
    imagesPerSecond: number;
    accuracy: number;
    seconds: number;
    cpuSeconds: number;
    images: number;
  };
}

/** The 1-minute load average (Linux), to judge timings taken on a shared machine. */
function loadAverage(): number | undefined {
  try {
    return Number(Deno.readTextFileSync("/proc/loadavg").split(" ")[0]);
  } catch {
    return undefined;
  }
}

const USAGE =
  "usage: deno task bench train [--backend webgpu|wasm|cpu] [--model lenet5|cifar|all] " +
  "[--json] [--reps n] [--images n] [--no-torch] [--torch-threads n] [--profile steps]\n" +
  "(Convlab's threads: CONVLAB_THREADS=n; --torch-threads 1 with CONVLAB_THREADS=1 compares one " +
  "core each, which a busy machine disturbs least)";

export default async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      backend: { type: "string" },
      model: { type: "string", default: "all" },
      json: { type: "boolean", default: false },
      reps: { type: "string", default: "1" },
      images: { type: "string" },
      "no-torch": { type: "boolean", default: false },
      profile: { type: "string" },
      "torch-threads": { type: "string", default: "2" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (values.backend) await cl.useBackend(values.backend as cl.BackendName);
  const models = values.model === "all" ? ["lenet5", "cifar"] : [values.model!];
  for (const m of models) {
    if (m !== "lenet5" && m !== "cifar") {
      throw new RangeError(
        `Cannot run bench train: --model must be lenet5, cifar or all, got "${m}"`,
      );
    }
  }
  const positive = (name: string, value: string | undefined) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) {
      throw new RangeError(
        `Cannot run bench train: --${name} must be a positive integer, got ${value}`,
      );
    }
    return n;
  };
  if (values.profile) {
    const steps = positive("profile", values.profile);
    for (const m of models) {
      const data = m === "lenet5" ? await fashionMnist(BATCH) : randomCifar(BATCH);
      await profileSteps(m, data, steps);
    }
    return;
  }
  const reps = positive("reps", values.reps);
  const torchThreads = positive("torch-threads", values["torch-threads"]);
  const limit = values.images ? positive("images", values.images) : undefined;
  const withTorch = !values["no-torch"] && await torchAvailable();
  const info = cl.backendInfo();
  if (!values.json) {
    console.log(
      `backend: ${info.backend} (${info.device}; SIMD ${info.simd}, threads ${info.threads})`,
    );
    console.log(
      withTorch
        ? `PyTorch peer: ${torchThreads} thread(s), OPENBLAS_NUM_THREADS=1`
        : "PyTorch peer: not run (no torch for /usr/bin/python3, or --no-torch)",
    );
    console.log(
      "model    backend   images/s   pytorch  ratio  accuracy  torch acc  cpu ratio  load  data",
    );
  }
  for (const modelName of models) {
    const data = modelName === "lenet5"
      ? await fashionMnist(limit)
      : randomCifar(limit ?? DEFAULT_CIFAR_IMAGES);
    for (let rep = 0; rep < reps; rep++) {
      const ours = await trainConvlab(modelName, data, rep);
      const peer = withTorch ? await trainTorchOn(data, modelName, rep, torchThreads) : undefined;
      const ratio = peer ? ours.imagesPerSecond / peer.imagesPerSecond : undefined;
      // Images per CPU-second, ours over PyTorch's: less sensitive to other processes.
      const cpuRatio = peer ? peer.cpuSeconds / ours.cpuSeconds : undefined;
      const load = loadAverage();
      const row = {
        model: modelName,
        backend: info.backend,
        imagesPerSecond: ours.imagesPerSecond,
        accuracy: ours.accuracy,
        pytorchImagesPerSecond: peer?.imagesPerSecond,
        pytorchAccuracy: peer?.accuracy,
        ratio,
        cpuRatio,
        images: ours.images,
        data: data.name,
        simd: info.simd,
        threads: info.threads,
        loadAverage: load,
      };
      if (values.json) {
        console.log(JSON.stringify(row));
      } else {
        const f = (v: number | undefined, digits = 0) => v === undefined ? "-" : v.toFixed(digits);
        console.log(
          `${modelName.padEnd(8)} ${String(info.backend).padEnd(8)} ${
            f(ours.imagesPerSecond).padStart(9)
          } ${f(peer?.imagesPerSecond).padStart(9)} ${f(ratio, 2).padStart(6)} ${
            f(ours.accuracy, 4).padStart(9)
          } ${f(peer?.accuracy, 4).padStart(10)} ${f(cpuRatio, 2).padStart(10)} ${
            f(load, 1).padStart(5)
          }  ${data.name}`,
        );
      }
    }
  }
}
