/**
 * `deno task bench datasets [--json]`: how long the loaders take and how much they hold —
 * embedded MNIST, full Fashion-MNIST (Debian's files, when installed), the CIFAR-10 stand-in
 * (images/s), tensors from the uint8 arrays, batches, and an image folder (images/s).
 * Figures depend on the machine's load: compare lines of one run.
 */
import { join } from "node:path";
import * as cl from "../../lib/mod.ts";

async function timed<T>(fn: () => Promise<T> | T): Promise<[T, number]> {
  const started = performance.now();
  const value = await fn();
  return [value, (performance.now() - started) / 1000];
}

export default async function main(args: string[]): Promise<void> {
  const tf = cl.tf;
  const rows: Record<string, unknown>[] = [];
  const report = (what: string, seconds: number, extra: Record<string, unknown> = {}) => {
    rows.push({ what, seconds: Number(seconds.toFixed(3)), ...extra });
    const more = Object.entries(extra).map(([k, v]) => `${k} ${v}`).join(", ");
    console.log(
      `${what.padEnd(44)} ${seconds.toFixed(2).padStart(7)} s${more ? `  (${more})` : ""}`,
    );
  };

  const [mnist, mnistSeconds] = await timed(() => cl.datasets.mnist({ quiet: true }));
  report(
    `mnist() ${mnist.info.source} ${mnist.info.trainCount}+${mnist.info.testCount}`,
    mnistSeconds,
  );
  const [, again] = await timed(() => cl.datasets.mnist({ quiet: true }));
  report("mnist() again (parsed digits kept)", again);
  const [, tensorSeconds] = await timed(() => mnist.xTrain);
  report("mnist xTrain tensor from uint8", tensorSeconds, {
    MB: (mnist.xTrain.size * 4 / 1e6).toFixed(0),
  });
  const [batches, batchSeconds] = await timed(() => {
    let n = 0;
    for (const { xs, ys } of mnist.batches("train", { batchSize: 128 })) {
      n += xs.shape[0];
      tf.dispose([xs, ys]);
    }
    return n;
  });
  report("mnist one epoch of batches (128)", batchSeconds, {
    "images/s": Math.round(batches / batchSeconds),
  });
  mnist.dispose();

  try {
    const [fashion, seconds] = await timed(() => cl.datasets.fashionMnist({ quiet: true }));
    report(`fashionMnist() ${fashion.info.source} 60000+10000 (gunzip, sha256)`, seconds);
    fashion.dispose();
  } catch (error) {
    console.log(`fashionMnist(): skipped (${(error as Error).message.split("\n")[0]})`);
  }

  const [standin, standinSeconds] = await timed(() =>
    cl.datasets.cifar10({ source: "standin", subset: { train: 5000, test: 1000 }, quiet: true })
  );
  report("cifar10() stand-in 5000+1000", standinSeconds, {
    "images/s": Math.round(6000 / standinSeconds),
  });

  const dir = await Deno.makeTempDir({ prefix: "convlab-bench-folder-" });
  try {
    for (const [k, name] of standin.classNames.slice(0, 2).entries()) {
      await Deno.mkdir(join(dir, name));
      for (let i = 0; i < 100; i++) {
        const index = standin.arrays.yTrain.findIndex((l, j) => l === k && j >= i * 10);
        const image = tf.tensor3d(
          standin.arrays.xTrain.slice(index * 3072, (index + 1) * 3072),
          [32, 32, 3],
          "int32",
        );
        await Deno.writeFile(join(dir, name, `${i}.png`), await cl.image.encodePng(image));
        image.dispose();
      }
    }
    const folder = await cl.datasets.imageFolder(dir, {
      imageSize: [150, 150],
      batchSize: 20,
      quiet: true,
    });
    const [count, seconds] = await timed(async () => {
      let n = 0;
      for await (const { xs, ys } of folder) {
        n += xs.shape[0];
        tf.dispose([xs, ys!]);
      }
      return n;
    });
    report("imageFolder() 200 PNGs → 150×150, one epoch", seconds, {
      "images/s": Math.round(count / seconds),
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  standin.dispose();
  console.log(`tensors left: ${tf.memory().numTensors} (backend ${tf.getBackend()})`);
  if (args.includes("--json")) console.log(JSON.stringify(rows));
}
