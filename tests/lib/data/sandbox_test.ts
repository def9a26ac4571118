/**
 * Lessons run in sandboxed kernels when graded, often with no permission at all: the offline
 * datasets must load there, and what cannot load must say why.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { skipUnless } from "../../_skip.ts";
import { hasDebianFashionMnist } from "./_fixtures.ts";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

const SCRIPT = `
import * as cl from "convlab";
const out = {};
if (Deno.args[0] !== "fashion") {
  const m = await cl.datasets.mnist({ subset: 100, quiet: true });
  out.mnist = [m.info.source, m.xTrain.shape];
  const c = await cl.datasets.cifar10({ subset: 20, quiet: true });
  out.cifar = [c.info.source, c.xTrain.shape];
}
try {
  const f = await cl.datasets.fashionMnist({ subset: 10, quiet: true });
  out.fashion = [f.info.source, f.info.availableTrain];
} catch (e) {
  out.fashion = [e.name, e.message];
}
console.log(JSON.stringify(out));
`;

async function runChild(dir: string, permissions: string[], part = "all") {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", "--quiet", ...permissions, `${dir}/check.ts`, part],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.ok(out.success, `child failed:\n${stderr.slice(-2000)}`);
  return JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)!);
}

Deno.test({
  name: "datasets load offline in a child with no permissions, or say which permission is missing",
  ...skipUnless(hasDebianFashionMnist(), "Debian dataset-fashion-mnist is not installed"),
  async fn() {
    const dir = await Deno.makeTempDir({ dir: ROOT, prefix: ".sandbox-" });
    try {
      await Deno.writeTextFile(`${dir}/check.ts`, SCRIPT);
      const none = await runChild(dir, []);
      assert.deepEqual(none.mnist, ["embedded", [100, 28, 28, 1]]);
      assert.deepEqual(none.cifar, ["standin", [20, 32, 32, 3]]);
      assert.equal(none.fashion[0], "DatasetUnavailableError");
      assert.match(
        none.fashion[1],
        /Reading \/usr\/share\/datasets\/fashion-mnist is not permitted here.*--allow-read=/s,
      );
      const granted = await runChild(dir, ["--allow-read=/usr/share/datasets"], "fashion");
      assert.deepEqual(granted.fashion, ["full", 60000]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
