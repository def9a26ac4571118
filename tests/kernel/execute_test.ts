import assert from "node:assert/strict";
import { executeNotebook } from "../../kernel/execute.ts";
import { CellExecutionError } from "../../kernel/errors.ts";
import { type CodeCell, serializeNotebook } from "../../kernel/notebook.ts";
import { join } from "node:path";
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

Deno.test("executeNotebook() injects parameters over a parameters cell that declares them const", async () => {
  const nb = notebookOf(
    { code: "const epochs = 5;\nconst name: string = 'full';", tags: ["parameters"] },
    "[epochs, name]",
  );
  const result = await executeNotebook(nb, {
    ...NO_PERMISSIONS,
    parameters: { epochs: 1, name: "smoke" },
  });
  assert.equal(result.ok, true, String(result.error?.message));
  const shown = (result.notebook.cells[2] as CodeCell).outputs[0];
  assert.deepEqual(shown.output_type === "execute_result" && shown.data, {
    "text/plain": '[ 1, "smoke" ]',
  });
});

Deno.test("a syntax error that V8 finds (not the transpiler) points into the cell's source", async () => {
  const nb = notebookOf(
    "// the next line is valid TypeScript but not valid JavaScript at run time\n" +
      "class A {\n  constructor() {\n    super();\n  }\n}",
    "let once = 1;\nlet once = 2;",
  );
  const result = await executeNotebook(nb, { ...NO_PERMISSIONS, allowErrors: true });
  assert.deepEqual(result.cells.map((c) => c.status), ["error", "error"]);
  assert.deepEqual(
    [result.cells[0].error, result.cells[1].error].map((e) => [e?.ename, e?.line, e?.column]),
    [["SyntaxError", 4, 5], ["SyntaxError", 2, 5]],
  );
  assert.ok(result.error instanceof CellExecutionError);
  assert.match(result.error.message, /cell 1 \(id c1\), line 4, column 5: SyntaxError: 'super'/);
  const traceback = (result.notebook.cells[1] as CodeCell).outputs[0];
  assert.ok(
    traceback.output_type === "error" && traceback.traceback.includes("    at <cell 2>:2:5"),
  );
});

Deno.test("an error thrown by a timer after its cell finished is an error of that cell", async () => {
  const nb = notebookOf(
    "'one'",
    "setTimeout(() => { throw new RangeError('late'); }, 300); 'two'",
    "await new Promise((resolve) => setTimeout(resolve, 700)); 'three'",
    "'four'",
  );
  const result = await executeNotebook(nb, { ...NO_PERMISSIONS, settleMs: 50 });
  assert.deepEqual(result.cells.map((c) => c.status), ["ok", "error", "ok", "not-run"]);
  assert.ok(result.error instanceof CellExecutionError);
  assert.equal(result.error.location.cell, 2);
  assert.equal(result.error.ename, "RangeError");
  const [, second, third] = result.notebook.cells as CodeCell[];
  assert.deepEqual(second.outputs.map((o) => o.output_type), ["execute_result", "error"]);
  assert.deepEqual(third.outputs.map((o) => o.output_type), ["execute_result"]);
});

Deno.test("a whole-notebook timeout says so in the cell it stopped, in plain seconds", async () => {
  const nb = notebookOf(
    "await new Promise((resolve) => setTimeout(resolve, 300)); 1",
    "await new Promise((resolve) => setTimeout(resolve, 5000)); 2",
    "3",
  );
  const result = await executeNotebook(nb, { ...NO_PERMISSIONS, notebookTimeout: 1 });
  assert.deepEqual(result.cells.map((c) => c.status), ["ok", "timeout", "not-run"]);
  const error = (result.notebook.cells[1] as CodeCell).outputs[0];
  assert.ok(error.output_type === "error");
  assert.match(error.evalue, /^the notebook did not finish within 1 s; it was waiting/);
  assert.match(result.error!.message, /cell 2 \(id c2\): the notebook did not finish within 1 s; /);
  assert.doesNotMatch(result.error!.message, /\d\.\d{3}/);
});

Deno.test("tracebacks show the cell's frames, never the kernel's own code", async () => {
  const nb = notebookOf(
    "({ [Symbol.for('Jupyter.display')]() {\n  throw new Error('display broke');\n} })",
    "setTimeout(() => { throw new Error('timer broke'); }, 0);",
  );
  const result = await executeNotebook(nb, { ...NO_PERMISSIONS, allowErrors: true });
  for (const cell of result.notebook.cells as CodeCell[]) {
    const error = cell.outputs.find((o) => o.output_type === "error");
    assert.ok(error?.output_type === "error", `cell ${cell.id} has no error`);
    assert.match(error.traceback.join("\n"), /<cell [12]>:\d+:\d+/);
    assert.doesNotMatch(error.traceback.join("\n"), /kernel\/session\//);
  }
});

Deno.test("a notebook's code can write beside the notebook but never over the notebook itself", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "self.ipynb");
    const nb = notebookOf(
      'Deno.writeTextFileSync("other.txt", "fine")',
      'Deno.writeTextFileSync("self.ipynb", "{}")',
    );
    const text = serializeNotebook(nb);
    await Deno.writeTextFile(path, text);
    const result = await executeNotebook(nb, { path, allowErrors: true });
    assert.deepEqual(result.cells.map((c) => [c.status, c.error?.ename]), [
      ["ok", undefined],
      ["error", "NotCapable"],
    ]);
    assert.equal(await Deno.readTextFile(join(dir, "other.txt")), "fine");
    assert.equal(await Deno.readTextFile(path), text);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
