/**
 * `deno task pretrain`: train Convlab's shipped backbone — the "pretrained network" of lesson 04.
 *
 * The source task is Fashion-MNIST restricted to five classes (T-shirt/top, Trouser, Pullover,
 * Dress, Coat: all 30,000 of their training images); lesson 04's target task is the other five classes
 * (Sandal, Shirt, Sneaker, Bag, Ankle boot), which the backbone never sees. The model is
 * `cl.backbones.miniVgg({includeTop: true})`, trained with Adam, and saved with `cl.saveModel`
 * (model.json + weights.bin, the weights' SHA-256 recorded) in `data/models/fashion-backbone/`,
 * with the training settings and its test accuracy in `model.json`'s `userDefinedMetadata` and in
 * a README beside it.
 *
 * ```sh
 * deno task pretrain [--epochs 6] [--seed 42] [--batch-size 64] [--train-size 30000] [--test-size N]
 *                    [--classes 0,1,2,3,4] [--quiet]
 *                    [--out data/models/fashion-backbone] [--backend wasm]
 * ```
 *
 * Reproducible: the seed fixes the initial weights and the order of the batches; the same seed
 * on the same backend gives the same weights.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { positiveInt } from "./_args.ts";
import * as cl from "../../lib/mod.ts";
import { writeFileAtomic } from "../../lib/_fs.ts";
import { FASHION_BACKBONE, FASHION_SOURCE_CLASSES } from "../../lib/backbones/mod.ts";

const ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));

const USAGE = `Usage: deno task pretrain [--epochs N] [--seed N] [--batch-size N] [--train-size N]
                         [--test-size N] [--out DIR] [--backend wasm|cpu|webgpu] [--quiet]

Trains Convlab's shipped backbone (a small VGG) on Fashion-MNIST classes
${FASHION_SOURCE_CLASSES.join(", ")} and saves it to data/models/${FASHION_BACKBONE}/.`;

/** Train and save the backbone; returns what was written. */
export async function pretrain(args: string[]): Promise<{ dir: string; testAccuracy: number }> {
  const { values } = parseArgs({
    args,
    options: {
      epochs: { type: "string" },
      seed: { type: "string" },
      "batch-size": { type: "string" },
      "train-size": { type: "string" },
      "test-size": { type: "string" },
      classes: { type: "string" },
      quiet: { type: "boolean" },
      out: { type: "string" },
      backend: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return { dir: "", testAccuracy: NaN };
  }
  const epochs = positiveInt(values.epochs, "epochs", 6);
  const seed = positiveInt(values.seed, "seed", 42);
  const batchSize = positiveInt(values["batch-size"], "batch-size", 64);
  const trainSize = positiveInt(values["train-size"], "train-size", 30_000);
  const testSize = values["test-size"] === undefined
    ? undefined
    : positiveInt(values["test-size"], "test-size", 1);
  const log = values.quiet ? () => {} : console.log;
  const sourceClasses = values.classes === undefined
    ? FASHION_SOURCE_CLASSES
    : values.classes.split(",").map((c) => positiveInt(String(Number(c) + 1), "classes", 1) - 1);
  const dir = resolve(values.out ?? join(ROOT, "data", "models", FASHION_BACKBONE));
  if (values.backend) await cl.useBackend(values.backend as cl.BackendName);
  await cl.ready();

  cl.seed(seed);
  const fashion = await cl.datasets.fashionMnist({ quiet: values.quiet });
  const source = cl.datasets.selectClasses(fashion, sourceClasses, {
    name: "fashion-mnist-source",
    subset: { train: trainSize, ...(testSize ? { test: testSize } : {}) },
  });
  fashion.dispose();
  log(`Source task: ${source.summary()}`);
  log(
    `Target task (lesson 04, never seen here): Fashion-MNIST classes ` +
      Array.from({ length: 10 }, (_, c) => c).filter((c) => !sourceClasses.includes(c)).join(", "),
  );

  const model = cl.backbones.miniVgg({
    includeTop: true,
    numClasses: source.classNames.length,
    name: "fashion_backbone",
  });
  log(String(cl.summary(model)));
  cl.compile(model, {
    optimizer: cl.optimizers.Adam({ learningRate: 1e-3 }),
    loss: "sparse_categorical_crossentropy",
    metrics: ["accuracy"],
  });
  const started = performance.now();
  await cl.fit(model, () => source.batches("train", { batchSize, seed }), {
    epochs,
    validationData: () => source.batches("test", { batchSize: 500 }),
    verbose: values.quiet ? 0 : 2,
  });
  const seconds = (performance.now() - started) / 1000;
  const [, testAccuracy] = await cl.evaluate(
    model,
    source.batches("test", { batchSize: 500 }),
  ) as number[];
  const params = cl.summary(model).totalParams;
  const backend = cl.tf.getBackend();
  const command =
    `deno task pretrain --epochs ${epochs} --seed ${seed} --batch-size ${batchSize} ` +
    `--train-size ${trainSize}` + (testSize ? ` --test-size ${testSize}` : "") +
    (values.classes === undefined ? "" : ` --classes ${sourceClasses.join(",")}`);
  model.setUserDefinedMetadata({
    description: `Small VGG trained on Fashion-MNIST classes ${
      source.classNames.join(", ")
    } (lesson 04's pretrained backbone)`,
    classNames: source.classNames,
    inputRange: [0, 1],
    invertLightBackground: true,
    sourceTask: {
      dataset: "fashion-mnist",
      classes: sourceClasses,
      trainImages: source.count("train"),
      testImages: source.count("test"),
    },
    training: {
      command,
      seed,
      epochs,
      batchSize,
      optimizer: "Adam(learningRate 0.001)",
      backend,
      seconds: Math.round(seconds),
    },
    testAccuracy: Math.round(testAccuracy * 10000) / 10000,
    params,
  });
  const saved = await cl.saveModel(model, dir);
  const bytes = saved.weightsBytes;
  const readme = `# ${FASHION_BACKBONE}

Convlab's pretrained backbone for lesson 04 (transfer learning): a small VGG
(\`cl.backbones.miniVgg({includeTop: true, numClasses: 5})\`, ${params.toLocaleString("en-US")}
parameters, ${(bytes / 1024).toFixed(0)} KiB of float32 weights) trained on the **source task**:
Fashion-MNIST classes ${sourceClasses.map((c, i) => `${c} (${source.classNames[i]})`).join(", ")}.
Lesson 04's target task is the other classes, which this model never saw.

| | |
|---|---|
| training images | ${source.count("train").toLocaleString("en-US")} of the ${
    source.info.availableTrain.toLocaleString("en-US")
  } training images of the five classes (stratified, seed ${seed}) |
| test accuracy (source classes, ${source.count("test").toLocaleString("en-US")} images) | **${
    (testAccuracy * 100).toFixed(2)
  } %** |
| optimizer, batch size, epochs | Adam 0.001, ${batchSize}, ${epochs} |
| seed | ${seed} (\`cl.seed\`: initial weights and batch order) |
| backend | ${backend} |
| training time | ${Math.round(seconds)} s on the machine that made it |

Rebuild it with:

\`\`\`sh
${command}
\`\`\`

The same seed on the same backend gives the same weights. \`model.json\` holds the same figures in
\`userDefinedMetadata\` and the SHA-256 of \`weights.bin\`, which \`cl.loadModel\` checks. Load it
with \`cl.backbones.load("${FASHION_BACKBONE}")\` (the convolutional base, up to \`block3_pool\`) or
\`{includeTop: true}\` (the five-class classifier).
`;
  await writeFileAtomic(join(dir, "README.md"), new TextEncoder().encode(readme));
  log(
    `Saved ${relative(Deno.cwd(), dir) || dir}: test accuracy ${
      (testAccuracy * 100).toFixed(2)
    } % on the source classes, ${params} parameters, ${bytes} bytes of weights, ${
      Math.round(seconds)
    } s`,
  );
  source.dispose();
  model.dispose();
  return { dir, testAccuracy };
}

if (import.meta.main) {
  try {
    await pretrain(Deno.args);
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    console.error(USAGE);
    Deno.exit(2);
  }
}
