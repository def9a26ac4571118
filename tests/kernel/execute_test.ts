import assert from "node:assert/strict";
import { executeNotebook } from "../../kernel/execute.ts";
import { CellExecutionError } from "../../kernel/errors.ts";
import type { CodeCell } from "../../kernel/notebook.ts";
import { notebookOf } from "./_helpers.ts";

const NO_PERMISSIONS = { permissions: {} };

Deno.test("executeNotebook() gives each cell its outputs and execution count", async () => {
  const nb = notebookOf({ md: "# title" }, "let a: number = 40;", "console.log('hi'); a + 2");
  const result = await executeNotebook(nb, NO_PERMISSIONS);
  assert.equal(result.ok, true);
  const [, first, second] = result.notebook.cells as CodeCell[];
  assert.equal(first.execution_count, 1);
  assert.deepEqual(first.outputs, []);
  assert.equal(second.execution_count, 2);
  assert.deepEqual(second.outputs, [
    { output_type: "stream", name: "stdout", text: "hi\n" },
    {
      output_type: "execute_result",
      data: { "text/plain": "42" },
      metadata: {},
      execution_count: 2,
    },
  ]);
  assert.deepEqual(result.cells.map((c) => c.status), ["text", "ok", "ok"]);
  // the input is not changed
  assert.equal((nb.cells[2] as CodeCell).execution_count, null);
});

Deno.test("executeNotebook() stops at the first error and marks the rest not run", async () => {
  const nb = notebookOf("1", "function f() {\n  throw new TypeError('bad');\n}\nf()", "2");
  const result = await executeNotebook(nb, NO_PERMISSIONS);
  assert.equal(result.ok, false);
  assert.deepEqual(result.cells.map((c) => c.status), ["ok", "error", "not-run"]);
  assert.ok(result.error instanceof CellExecutionError);
  assert.equal(result.error.location.cell, 2);
  assert.equal(result.error.location.line, 2);
  assert.match(result.error.message, /cell 2 \(id c2\), line 2, column \d+: TypeError: bad/);
  const failed = result.notebook.cells[1] as CodeCell;
  assert.equal(failed.outputs[0].output_type, "error");
  assert.deepEqual((result.notebook.cells[2] as CodeCell).metadata.convlab, { status: "not-run" });
});

Deno.test("executeNotebook() with allowErrors runs every cell but is not ok", async () => {
  const nb = notebookOf("throw new Error('x')", "3");
  const result = await executeNotebook(nb, { ...NO_PERMISSIONS, allowErrors: true });
  assert.equal(result.ok, false);
  assert.deepEqual(result.cells.map((c) => c.status), ["error", "ok"]);
});

Deno.test("a session granted nothing cannot read files, one granted a folder can", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/x.txt`, "secret");
    const nb = notebookOf(`Deno.readTextFileSync(${JSON.stringify(`${dir}/x.txt`)})`);
    const denied = await executeNotebook(nb, { cwd: dir, permissions: {} });
    assert.equal(denied.cells[0].error?.ename, "NotCapable");
    const granted = await executeNotebook(nb, { cwd: dir, permissions: { read: [dir] } });
    const out = (granted.notebook.cells[0] as CodeCell).outputs[0];
    assert.equal(out.output_type === "execute_result" && out.data["text/plain"], '"secret"');
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
