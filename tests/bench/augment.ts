/**
 * `deno task bench augment [--batches N] [--backend wasm|cpu|webgpu]`: augmented images per second
 * for 32×32×3 batches of 128 with every ImageDataGenerator transform on, and — in the same run,
 * on the same backend — training images per second of the course's CIFAR CNN on batches of 128,
 * so the ratio says whether augmentation could be the bottleneck (it must stay well above 1×).
 * Also the preprocessing layers (RandomFlip + RandomRotation + RandomZoom + RandomTranslation)
 * in training mode.
 */
import { parseArgs } from "node:util";
import * as cl from "../../lib/mod.ts";

const { tf } = cl;

async function timeIt(label: string, repeats: number, images: number, step: () => Promise<void>) {
  await step(); // warm-up: kernels compile, caches fill
  const start = performance.now();
  for (let i = 0; i < repeats; i++) await step();
  const seconds = (performance.now() - start) / 1000;
  const rate = (repeats * images) / seconds;
  console.log(
    `${label.padEnd(46)} ${rate.toFixed(0).padStart(8)} images/s  (${
      (seconds / repeats * 1000).toFixed(1)
    } ms/batch)`,
  );
  return rate;
}

export default async function bench(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { batches: { type: "string", default: "20" }, backend: { type: "string" } },
  });
  if (values.backend) await cl.useBackend(values.backend as cl.BackendName);
  const repeats = Number(values.batches);
  const batch = 128;
  console.log(
    `backend ${tf.getBackend()}, batch ${batch} of 32×32×3, ${repeats} batches per figure`,
  );

  const x = tf.randomUniform([batch * 4, 32, 32, 3], 0, 255, "float32", 1);
  const y = tf.oneHot(tf.randomUniform([batch * 4], 0, 10, "int32", 2), 10);
  const gen = new cl.ImageDataGenerator({
    rotationRange: 40,
    widthShiftRange: 0.2,
    heightShiftRange: 0.2,
    shearRange: 20,
    zoomRange: 0.2,
    horizontalFlip: true,
    verticalFlip: true,
    brightnessRange: [0.8, 1.2],
    channelShiftRange: 20,
    fillMode: "nearest",
    rescale: 1 / 255,
  });
  const flow = gen.flow(x, y, { batchSize: batch, seed: 1 });
  const augmentRate = await timeIt(
    "ImageDataGenerator.flow, all transforms",
    repeats,
    batch,
    async () => {
      const { xs, ys } = flow.nextBatch();
      await xs.data(); // wait for the backend to finish the batch
      tf.dispose([xs, ys!]);
    },
  );

  const layers = [
    cl.layers.randomFlip({ seed: 1 }),
    cl.layers.randomRotation({ factor: 0.1, seed: 2 }),
    cl.layers.randomZoom({ heightFactor: 0.2, seed: 3 }),
    cl.layers.randomTranslation({ heightFactor: 0.1, widthFactor: 0.1, seed: 4 }),
  ];
  const xb = x.slice(0, batch);
  const layerRate = await timeIt(
    "preprocessing layers (training mode)",
    repeats,
    batch,
    async () => {
      const out = tf.tidy(() =>
        layers.reduce((t, l) => l.apply(t, { training: true }) as cl.tf.Tensor, xb as cl.tf.Tensor)
      );
      await out.data();
      out.dispose();
    },
  );

  const model = cl.models.cifarCnn();
  cl.compile(model, { optimizer: "adam", loss: "categorical_crossentropy", metrics: ["accuracy"] });
  const xs = tf.div(xb, 255), ys = y.slice(0, batch);
  const trainRate = await timeIt(
    "training step, course CIFAR CNN (8-2)",
    Math.max(3, Math.ceil(repeats / 4)),
    batch,
    async () => {
      const loss = await model.trainOnBatch(xs, ys);
      void loss;
    },
  );

  console.log(
    `ratio augmentation / training: ${(augmentRate / trainRate).toFixed(1)}× ` +
      `(preprocessing layers: ${(layerRate / trainRate).toFixed(1)}×) — augmentation ${
        augmentRate > trainRate ? "is not" : "IS"
      } the bottleneck`,
  );
  tf.dispose([x, y, xb, xs, ys]);
  model.dispose();
}
