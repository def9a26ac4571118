import assert from "node:assert/strict";
import { join } from "node:path";
import { serializeNotebook } from "../../kernel/notebook.ts";
import { main } from "../../kernel/cli.ts";
import { notebookOf, processesIn, ROOT } from "./_helpers.ts";

async function nb(args: string[], cwd = ROOT, env: Record<string, string> = {}) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(ROOT, "kernel/cli.ts"), ...args],
    cwd,
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("nb run prints a line per cell, writes <name>.out.ipynb and leaves the input as it was", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const input = join(dir, "demo.ipynb");
    const text = serializeNotebook(
      notebookOf("let x = 2;", "x * 21", "throw new RangeError('nope')", "x"),
    );
    await Deno.writeTextFile(input, text);
    const r = await nb(["run", input]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /\[1\/4\] cell 1 +\d+\.\d\d s {2}ok/);
    assert.match(
      r.stdout,
      /\[3\/4\] cell 3 +\d+\.\d\d s {2}error {2}RangeError: nope \(line 1, column \d+\)/,
    );
    assert.match(r.stderr, /FAILED: .*demo\.ipynb: cell 3 \(id c3\), line 1/);
    assert.match(r.stderr, /3 cells ran, 1 not run/);
    assert.equal(await Deno.readTextFile(input), text);
    const out = JSON.parse(await Deno.readTextFile(join(dir, "demo.out.ipynb")));
    assert.deepEqual(out.cells[1].outputs[0].data["text/plain"], ["42"]);
    assert.deepEqual(out.cells[3].metadata.convlab, { status: "not-run" });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("nb run refuses to overwrite its input without --inplace, and -p injects parameters", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const input = join(dir, "p.ipynb");
    await Deno.writeTextFile(
      input,
      serializeNotebook(
        notebookOf({ code: "let n = 1;\nlet s = 'a';", tags: ["parameters"] }, "[n, s]"),
      ),
    );
    const refused = await nb(["run", input, "--out", input]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /use --inplace/);
    const r = await nb(["run", input, "-p", "n=5", "-p", "s=hello", "--inplace"]);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(await Deno.readTextFile(input));
    assert.deepEqual(out.cells[1].metadata.tags, ["injected-parameters"]);
    assert.deepEqual(out.cells[2].outputs[0].data["text/plain"], ['[ 5, "hello" ]']);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("nb run explains an invalid notebook and exits 2", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const input = join(dir, "bad.ipynb");
    await Deno.writeTextFile(input, '{"nbformat": 4, "cells": [}');
    const r = await nb(["run", input]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /bad\.ipynb: line 1 column \d+: not valid JSON/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("nb run and clean take paths relative to the folder `deno task` was started in", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const text = serializeNotebook(notebookOf(
      { code: "throw new Error('skipped')", tags: ["skip-execution"] },
      "1 + 1",
      "throw new Error('stop')",
      "2",
    ));
    await Deno.writeTextFile(join(dir, "rel.ipynb"), text);
    // `deno task` runs its command in the project root and says where it was started in INIT_CWD.
    const r = await nb(["run", "rel.ipynb"], ROOT, { INIT_CWD: dir });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /FAILED: rel\.ipynb: cell 3 /);
    // one progress line per code cell: skipped and not-run cells too
    assert.match(r.stdout, /\[1\/4\] cell 1 +0\.00 s {2}skipped\n/);
    assert.match(r.stdout, /\[4\/4\] cell 4 +- {2}not run\n/);
    assert.equal(r.stdout.match(/^\[\d\/4\]/gm)?.length, 4, r.stdout);
    await Deno.stat(join(dir, "rel.out.ipynb"));
    const c = await nb(["clean", "--check", "rel.ipynb"], ROOT, { INIT_CWD: dir });
    assert.equal(c.code, 0, c.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("nb run refuses a folder as --out or as the notebook before running anything", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const input = join(dir, "w.ipynb");
    const text = serializeNotebook(notebookOf('Deno.writeTextFileSync("ran.txt", "x")'));
    await Deno.writeTextFile(input, text);
    const r = await nb(["run", input, "--out", dir]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--out .* is a folder/);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["w.ipynb"], "it ran or wrote");
    const d = await nb(["run", dir]);
    assert.equal(d.code, 2);
    assert.match(d.stderr, /^error: .*: is a folder, not a notebook file$/m);
    assert.doesNotMatch(d.stderr, /Uncaught/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("nb run stopped by SIGTERM interrupts the cell, writes what ran and leaves no kernel", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const input = join(dir, "busy.ipynb");
    const text = serializeNotebook(notebookOf('console.log("started")', "while (true) {}", "1"));
    await Deno.writeTextFile(input, text);
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", join(ROOT, "kernel/cli.ts"), "run", input],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const stderr = new Response(child.stderr).text();
    let stdout = "";
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    while (!stdout.includes("[1/3]")) {
      const { value, done } = await reader.read();
      if (done) break;
      stdout += value;
    }
    await new Promise((r) => setTimeout(r, 300)); // cell 2 is spinning now
    const sent = performance.now();
    child.kill("SIGTERM");
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
      stdout += chunk.value;
    }
    const { code } = await child.status;
    assert.ok(performance.now() - sent < 20_000, "it took too long to stop");
    assert.equal(code, 143, stdout + (await stderr));
    assert.match(stdout, /\[2\/3\] cell 2 .* interrupted/);
    assert.equal(await Deno.readTextFile(input), text);
    const out = JSON.parse(await Deno.readTextFile(join(dir, "busy.out.ipynb")));
    assert.deepEqual(out.cells[0].outputs[0].text, ["started\n"]);
    assert.deepEqual(out.cells[2].metadata.convlab, { status: "not-run" });
    assert.deepEqual(processesIn(dir), [], "a kernel process is still running");
  } finally {
    for (const pid of processesIn(dir)) Deno.kill(pid, "SIGKILL"); // never leave one spinning
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("nb clean cleans every notebook it can and names the ones it cannot read", async () => {
  const dir = await Deno.makeTempDir();
  const errors: string[] = [];
  const originalError = console.error, originalLog = console.log;
  console.error = (...args: unknown[]) => errors.push(args.join(" "));
  console.log = () => {};
  try {
    const bad = join(dir, "bad.ipynb"), good = join(dir, "good.ipynb");
    await Deno.writeTextFile(bad, "{ not json");
    const executed = notebookOf("1");
    Object.assign(executed.cells[0], {
      execution_count: 1,
      outputs: [{ output_type: "stream", name: "stdout", text: "1\n" }],
    });
    await Deno.writeTextFile(good, serializeNotebook(executed));
    assert.equal(await main(["run", "--help"]), 0, "nb run --help shows the usage");
    assert.equal(await main(["clean", bad, good]), 2);
    assert.match(errors.join("\n"), /bad\.ipynb: line 1 column 3: not valid JSON/);
    const cleaned = JSON.parse(await Deno.readTextFile(good));
    assert.deepEqual([cleaned.cells[0].outputs, cleaned.cells[0].execution_count], [[], null]);
    assert.equal(await Deno.readTextFile(bad), "{ not json");
  } finally {
    console.error = originalError;
    console.log = originalLog;
    await Deno.remove(dir, { recursive: true });
  }
});
