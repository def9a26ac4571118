/**
 * Fault fixtures (tests/fixtures/kernel/faults/): each must end with a clear error in the right
 * cell, the remaining cells marked not run, the kernel process gone, `nb run` exiting non-zero
 * within a bounded time, and the input file byte-identical.
 */
import assert from "node:assert/strict";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { processesIn } from "./_helpers.ts";

const FAULTS = fileURLToPath(new URL("../fixtures/kernel/faults/", import.meta.url));
const CLI = fileURLToPath(new URL("../../kernel/cli.ts", import.meta.url));
/** Generous for a loaded 2-core machine; the slowest fault (a 2 s timeout) takes ~4 s idle. */
const BOUND_S = 45;

async function nbRun(input: string, args: string[]) {
  const started = performance.now();
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, "run", input, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    seconds: (performance.now() - started) / 1000,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
  };
}

async function withCopy(name: string, fn: (input: string, dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "convlab-fault-" });
  try {
    const input = join(dir, name);
    await Deno.copyFile(join(FAULTS, name), input);
    await fn(input, dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

interface FaultSpec {
  description: string;
  args: string[];
  cell: number;
  ename: string;
  evalue: string;
}

const cellFaults = [...Deno.readDirSync(FAULTS)]
  .map((e) => e.name)
  .filter((n) => n.endsWith(".ipynb") && n !== "invalid_json.ipynb" && n !== "nbformat3.ipynb")
  .sort();

for (const name of cellFaults) {
  const spec = JSON.parse(Deno.readTextFileSync(join(FAULTS, name))).metadata
    .convlab_test as FaultSpec;
  Deno.test(`fault ${basename(name, ".ipynb")}: ${spec.description} ends cleanly in cell ${spec.cell}`, async () => {
    await withCopy(name, async (input, dir) => {
      const before = await Deno.readFile(input);
      const r = await nbRun(input, spec.args);
      assert.notEqual(r.code, 0, r.stdout + r.stderr);
      assert.ok(r.seconds < BOUND_S, `took ${r.seconds.toFixed(1)} s`);
      assert.deepEqual(await Deno.readFile(input), before, "the input notebook changed");
      assert.match(r.stderr, new RegExp(`FAILED: .*${name}: cell ${spec.cell} `));
      assert.deepEqual(processesIn(dir), [], "a kernel process is still running");

      const out = JSON.parse(await Deno.readTextFile(input.replace(/\.ipynb$/, ".out.ipynb")));
      const failed = out.cells[spec.cell - 1];
      const error = failed.outputs.find((o: { output_type: string }) => o.output_type === "error");
      assert.ok(error, `cell ${spec.cell} has no error output`);
      assert.equal(error.ename, spec.ename);
      assert.ok(error.evalue.includes(spec.evalue), `evalue: ${error.evalue}`);
      for (const later of out.cells.slice(spec.cell)) {
        assert.deepEqual(later.metadata.convlab, { status: "not-run" });
        assert.equal(later.execution_count, null);
        assert.deepEqual(later.outputs, []);
      }
      // the notebook stays small even when the cell printed 20 MB
      assert.ok((await Deno.stat(input.replace(/\.ipynb$/, ".out.ipynb"))).size < 2_000_000);
    });
  });
}

for (
  const [name, message] of [
    ["invalid_json.ipynb", /invalid_json\.ipynb: line 3 column \d+: not valid JSON/],
    [
      "nbformat3.ipynb",
      /nbformat3\.ipynb: nbformat 3 is not supported: convert it with `jupyter nbconvert --to notebook --nbformat 4`/,
    ],
  ] as const
) {
  Deno.test(`fault ${basename(name, ".ipynb")}: nb run names the file and the problem and exits 2`, async () => {
    await withCopy(name, async (input, dir) => {
      const before = await Deno.readFile(input);
      const r = await nbRun(input, []);
      assert.equal(r.code, 2);
      assert.match(r.stderr, message);
      assert.deepEqual(await Deno.readFile(input), before);
      assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), [name], "it wrote something");
    });
  });
}
