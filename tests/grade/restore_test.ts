import assert from "node:assert/strict";
import { makeRelease } from "../../kernel/grade/assign.ts";
import { prepareSubmission } from "../../kernel/grade/restore.ts";
import type { Notebook } from "../../kernel/notebook.ts";
import { code, miniAssignment } from "./_helpers.ts";

async function released() {
  return await makeRelease(miniAssignment(), { notebook: "mini.ipynb" });
}

function answer(nb: Notebook, source: string): Notebook {
  const copy = structuredClone(nb);
  copy.cells[2].source = source;
  return copy;
}

Deno.test("prepareSubmission() keeps the answer, restores tests with hidden tests, flags nothing", async () => {
  const { student, key } = await released();
  const p = await prepareSubmission(answer(student, "const double = (x: number) => x * 2;"), key);
  assert.deepEqual(p.tampered, []);
  assert.deepEqual(p.missing, []);
  assert.equal(p.notebook.cells[2].source, "const double = (x: number) => x * 2;");
  assert.match(p.notebook.cells[3].source, /double\(-3\)/);
  assert.deepEqual(p.cells.map((c) => c.origin), ["student", "key", "student", "key"]);
});

Deno.test("prepareSubmission() restores a test cell edited to `// nothing` and flags it", async () => {
  const { student, key } = await released();
  const sub = structuredClone(student);
  sub.cells[3].source = "// nothing";
  const p = await prepareSubmission(sub, key);
  assert.match(p.notebook.cells[3].source, /assertEquals\(double\(2\), 4\);/);
  assert.deepEqual(p.tampered, [
    'test cell "double-test" (cell 4) was edited; the original was restored',
  ]);
});

Deno.test("prepareSubmission() flags a test cell whose points were raised", async () => {
  const { student, key } = await released();
  const sub = structuredClone(student);
  (sub.cells[3].metadata.nbgrader as { points: number }).points = 100;
  const p = await prepareSubmission(sub, key);
  assert.equal(p.tampered.length, 1);
  assert.equal((p.notebook.cells[3].metadata.nbgrader as { points: number }).points, 2);
});

Deno.test("prepareSubmission() re-adds a deleted test cell after its answer", async () => {
  const { student, key } = await released();
  const sub = structuredClone(student);
  sub.cells.splice(3, 1);
  sub.cells.push(code("console.log('mine');"));
  const p = await prepareSubmission(sub, key);
  assert.equal(p.cells[3].origin, "restored");
  assert.equal(p.cells[3].gradeId, "double-test");
  assert.equal(p.notebook.cells[4].source, "console.log('mine');");
  assert.match(p.tampered[0], /test cell "double-test" was deleted/);
});

Deno.test("prepareSubmission() puts a stub where an answer cell was deleted and reports it missing", async () => {
  const { student, key } = await released();
  const sub = structuredClone(student);
  sub.cells.splice(2, 1);
  const p = await prepareSubmission(sub, key);
  assert.deepEqual(p.missing, ["double"]);
  assert.equal(p.cells[2].origin, "stub");
  assert.match(p.notebook.cells[2].source, /Not implemented yet/);
  assert.equal(p.cells[3].gradeId, "double-test");
});

Deno.test("prepareSubmission() ignores a student's own 'test cell' and the submission's metadata", async () => {
  const { student, key } = await released();
  const sub = structuredClone(student);
  sub.metadata = { convlab: { permissions: { net: true } } };
  sub.cells.push(code("// free points", { grade: true, points: 50, grade_id: "bonus" }));
  sub.cells.push(structuredClone(sub.cells[3]));
  const p = await prepareSubmission(sub, key);
  assert.deepEqual(p.notebook.metadata, key.notebookMetadata);
  assert.equal(p.cells[4].role, undefined);
  assert.equal(p.notebook.cells[4].metadata.nbgrader, undefined);
  assert.equal(p.cells[5].role, undefined, "a second copy of a test cell is ordinary code");
  assert.equal(p.notes.length, 2);
  assert.deepEqual(p.tampered, []);
});
