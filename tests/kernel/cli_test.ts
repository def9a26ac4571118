import assert from "node:assert/strict";
import { join } from "node:path";
import { serializeNotebook } from "../../kernel/notebook.ts";
import { notebookOf, ROOT } from "./_helpers.ts";

async function nb(args: string[], cwd = ROOT) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(ROOT, "kernel/cli.ts"), ...args],
    cwd,
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
