import assert from "node:assert/strict";
import { join } from "node:path";
import { pretrain } from "../../lessons/tools/pretrain.ts";
import { locateDataset } from "../../lib/data/mod.ts";
import { skipUnless } from "../_skip.ts";

const haveFashion = await locateDataset("fashion-mnist") !== undefined;

const small = ["--epochs", "1", "--train-size", "200", "--test-size", "100", "--quiet"];

Deno.test({
  name: "deno task pretrain: the same seed writes the same weights, and says how it was made",
  ...skipUnless(haveFashion, "Fashion-MNIST is not available (Debian dataset-fashion-mnist)"),
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const a = await pretrain([...small, "--seed", "7", "--out", join(dir, "a")]);
      const b = await pretrain([...small, "--seed", "7", "--out", join(dir, "b")]);
      const c = await pretrain([...small, "--seed", "8", "--out", join(dir, "c")]);
      const weights = (name: string) => Deno.readFile(join(dir, name, "weights.bin"));
      assert.deepEqual(await weights("a"), await weights("b"));
      assert.notDeepEqual(await weights("a"), await weights("c"));
      assert.equal(a.testAccuracy, b.testAccuracy);
      const meta =
        JSON.parse(await Deno.readTextFile(join(dir, "a", "model.json"))).userDefinedMetadata;
      assert.equal(
        meta.training.command,
        "deno task pretrain --epochs 1 --seed 7 --batch-size 64 --train-size 200 --test-size 100",
      );
      assert.deepEqual(meta.classNames, ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat"]);
      assert.equal(meta.testAccuracy, Math.round(a.testAccuracy * 10000) / 10000);
      const readme = await Deno.readTextFile(join(dir, "a", "README.md"));
      assert.match(readme, /deno task pretrain --epochs 1 --seed 7/);
      assert.match(readme, /200 of the 30,000 training images/);
      assert.notEqual(c.dir, a.dir);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("deno task pretrain refuses bad options with the option's name", async () => {
  await assert.rejects(
    () => pretrain(["--epochs", "0"]),
    /--epochs must be a positive integer, got "0"/,
  );
  await assert.rejects(
    () => pretrain(["--train-size", "lots"]),
    /--train-size must be a positive integer/,
  );
});
