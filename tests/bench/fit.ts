/**
 * `deno task bench fit [--backend wasm] [--samples 4096] [--repeats 3] [--json]`: what Convlab's
 * Keras-faithful `cl.fit` costs over tfjs's own `model.fit` on the same model and data (LeNet-5,
 * batch 128, Adam 1e-3, random 28×28 digits-shaped data). One line per repeat, then the median
 * ratio cl.fit / model.fit in images per second (1.0 = no overhead).
 */
import { parseArgs } from "node:util";
import * as cl from "../../lib/mod.ts";

const tf = cl.tf;

async function imagesPerSecond(
  train: (model: cl.tf.LayersModel) => Promise<unknown>,
  compile: (model: cl.tf.LayersModel) => void,
  samples: number,
): Promise<number> {
  cl.seed(1);
  const model = cl.models.lenet5();
  compile(model);
  const start = performance.now();
  await train(model);
  const seconds = (performance.now() - start) / 1000;
  model.dispose();
  return samples / seconds;
}

export default async function bench(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      backend: { type: "string", default: "wasm" },
      samples: { type: "string", default: "4096" },
      repeats: { type: "string", default: "3" },
      json: { type: "boolean", default: false },
    },
  });
  await cl.useBackend(values.backend as cl.BackendName);
  const samples = Number(values.samples);
  const x = tf.randomUniform([samples, 28, 28, 1], 0, 1, "float32", 1);
  const y = tf.oneHot(tf.randomUniform([samples], 0, 10, "int32", 2), 10);
  const options = { epochs: 1, batchSize: 128, verbose: 0 as const };
  const rows: { clFit: number; tfFit: number; ratio: number }[] = [];
  for (let i = 0; i < Number(values.repeats); i++) {
    const clFit = await imagesPerSecond(
      (m) => cl.fit(m, x, y, options),
      (m) =>
        cl.compile(m, {
          optimizer: cl.optimizers.Adam({ learningRate: 1e-3 }),
          loss: "categorical_crossentropy",
          metrics: ["accuracy"],
        }),
      samples,
    );
    const tfFit = await imagesPerSecond(
      (m) => m.fit(x, y, options),
      (m) =>
        m.compile({
          optimizer: tf.train.adam(1e-3),
          loss: "categoricalCrossentropy",
          metrics: ["accuracy"],
        }),
      samples,
    );
    rows.push({ clFit, tfFit, ratio: clFit / tfFit });
    if (!values.json) {
      console.log(
        `lenet5 ${tf.getBackend()}: cl.fit ${clFit.toFixed(0)} img/s, tfjs model.fit ` +
          `${tfFit.toFixed(0)} img/s, ratio ${(clFit / tfFit).toFixed(2)}`,
      );
    }
  }
  const ratios = rows.map((r) => r.ratio).sort((a, b) => a - b);
  const median = ratios[Math.floor(ratios.length / 2)];
  if (values.json) console.log(JSON.stringify({ backend: tf.getBackend(), rows, median }));
  else console.log(`median ratio cl.fit / model.fit: ${median.toFixed(2)}`);
  tf.dispose([x, y]);
}
