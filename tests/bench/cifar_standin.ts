/**
 * `deno task bench cifar_standin [--train n] [--test n] [--epochs e] [--augment] [--torch]
 *  [--json]`
 *
 * How learnable the CIFAR-10 stand-in is (README, "Datasets"), and how fast it is made: generates
 * the stand-in (images/s), then trains the course's CIFAR CNN (code 8-2, `cl.models.cifarCnn()`)
 * on it with the course's settings — Adam 1e-3, categorical cross-entropy, batch 128 — and prints
 * test accuracy after each epoch. `--augment` trains from the course's ImageDataGenerator (8-5:
 * rotation 20°, shifts 0.2, horizontal flips). `--torch` also trains the same network in PyTorch
 * (Debian `python3-torch`, 2 threads) on the same images, which is ~5× faster on this CPU.
 */
import { parseArgs } from "node:util";
import * as cl from "../../lib/mod.ts";

const PYTHON = "/usr/bin/python3";

export default async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      train: { type: "string", default: "10000" },
      test: { type: "string", default: "2000" },
      epochs: { type: "string", default: "10" },
      augment: { type: "boolean", default: false },
      torch: { type: "boolean", default: false },
      json: { type: "boolean", default: false },
    },
  });
  const train = Number(values.train), test = Number(values.test), epochs = Number(values.epochs);
  cl.seed(1);
  const started = performance.now();
  const data = await cl.datasets.cifar10({
    source: "standin",
    subset: { train, test },
    oneHot: true,
    quiet: true,
  });
  const seconds = (performance.now() - started) / 1000;
  const rate = Math.round((train + test) / seconds);
  console.log(
    `stand-in: ${train} train + ${test} test images in ${seconds.toFixed(1)} s (${rate} images/s)`,
  );
  const results: Record<string, number[]> = {};
  const tag = values.augment ? "augment" : "plain";
  const model = cl.models.cifarCnn();
  cl.compile(model, {
    optimizer: cl.optimizers.Adam({ learningRate: 1e-3 }),
    loss: "categorical_crossentropy",
    metrics: ["accuracy"],
  });
  const generator = new cl.ImageDataGenerator({
    rotationRange: 20,
    widthShiftRange: 0.2,
    heightShiftRange: 0.2,
    horizontalFlip: true,
  });
  const source = values.augment
    ? generator.flow(data.xTrain, data.yTrain, { batchSize: 128, seed: 1 })
    : data.batches("train", { batchSize: 128, seed: 1 });
  const accuracy: number[] = [];
  for (let epoch = 1; epoch <= epochs; epoch++) {
    const t = performance.now();
    await cl.fit(model, source, { epochs: 1, verbose: 0 });
    const [, acc] = await cl.evaluate(model, data.xTest, data.yTest, {
      batchSize: 256,
    }) as number[];
    accuracy.push(acc);
    console.log(
      `convlab ${cl.tf.getBackend()} ${tag} epoch ${epoch}: test accuracy ${acc.toFixed(3)} (${
        Math.round(train / ((performance.now() - t) / 1000))
      } images/s)`,
    );
  }
  results[`convlab-${tag}`] = accuracy;
  if (values.torch) results[`torch-${tag}`] = await torch(data, epochs, values.augment);
  model.dispose();
  data.dispose();
  if (values.json) console.log(JSON.stringify({ train, test, epochs, rate, results }));
}

/** The same network and settings in PyTorch, on the same images. */
async function torch(data: cl.datasets.ImageDataset, epochs: number, augment: boolean) {
  const dir = await Deno.makeTempDir({ prefix: "convlab-standin-" });
  try {
    await Deno.writeFile(`${dir}/xtr.u8`, data.arrays.xTrain);
    await Deno.writeFile(`${dir}/ytr.u8`, data.arrays.yTrain);
    await Deno.writeFile(`${dir}/xte.u8`, data.arrays.xTest);
    await Deno.writeFile(`${dir}/yte.u8`, data.arrays.yTest);
    const script = new URL("./cifar_standin_torch.py", import.meta.url).pathname;
    const child = new Deno.Command(PYTHON, {
      args: [script, dir, String(epochs), augment ? "augment" : "plain"],
      env: { OPENBLAS_NUM_THREADS: "1" },
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const accuracy: number[] = [];
    let text = "";
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      text += chunk;
      const lines = text.split("\n");
      text = lines.pop()!;
      for (const line of lines) {
        console.log(line);
        const match = line.match(/test accuracy ([0-9.]+)/);
        if (match) accuracy.push(Number(match[1]));
      }
    }
    await child.status;
    return accuracy;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
