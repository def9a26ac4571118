/**
 * Seeded training on wasm does not depend on the thread count: sums over images (filter and bias
 * gradients) are cut into a fixed number of chunks added in a fixed order
 * (`reduceInChunks` in lib/backend/simd.ts), so `CONVLAB_THREADS=1` trains to exactly the
 * weights a multi-core machine does. The thread count is fixed when the backend starts, so each
 * count runs in its own process (tests/fixtures/lib/seeded_training.ts).
 */
import assert from "node:assert/strict";

const SCRIPT = new URL("../fixtures/lib/seeded_training.ts", import.meta.url).pathname;
const ROOT = new URL("../../", import.meta.url).pathname;

interface Trained {
  backend: string;
  threads: number;
  hashes: Record<string, string>;
}

/** Train the fixture's seeded models on wasm with `threads` threads in a fresh Deno. */
async function trainWith(threads: number): Promise<Trained> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", SCRIPT, "lenet5", "cifar"],
    cwd: ROOT,
    env: { NO_COLOR: "1", CONVLAB_BACKEND: "wasm", CONVLAB_THREADS: String(threads) },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, `CONVLAB_THREADS=${threads}: ${stderr}`);
  const last = new TextDecoder().decode(out.stdout).trim().split("\n").at(-1) ?? "";
  return JSON.parse(last) as Trained;
}

Deno.test("seeded training on wasm gives bit-identical weights with 1, 2 and 3 threads", async () => {
  // LeNet-5 (direct filter gradients, bias sums, XNNPACK forward passes) and the CIFAR CNN
  // (Winograd filter gradients, Dropout), a few Adam steps each; batches large enough for every
  // kernel to be split across the pool when there is one.
  const runs: Trained[] = [];
  for (const threads of [1, 2, 3]) runs.push(await trainWith(threads)); // one at a time: 2 cores
  runs.forEach((run, i) => {
    assert.equal(run.backend, "wasm");
    assert.equal(run.threads, i + 1, "the backend ran with the threads asked for");
    assert.deepEqual(Object.keys(run.hashes).sort(), ["cifar", "lenet5"]);
  });
  for (const run of runs.slice(1)) {
    assert.deepEqual(run.hashes, runs[0].hashes, `${run.threads} threads vs 1 thread`);
  }
});
