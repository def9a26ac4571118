import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { checkNotebook } from "../../kernel/check.ts";
import { writeNotebook } from "../../kernel/notebook.ts";
import { notebookOf } from "./_helpers.ts";

const fixture = (path: string) =>
  fileURLToPath(new URL(`../fixtures/kernel/${path}`, import.meta.url));

Deno.test("nb check reports each type error by cell number and line", async () => {
  const report = await checkNotebook(fixture("check/type_errors.ipynb"));
  const found = report.diagnostics.map((d) => [d.cell, d.line, d.column, d.code]);
  assert.deepEqual(found, [
    [3, 1, 7, "TS2322"], // string assigned to number: `label` flowed in from cell 1
    [4, 1, 15, "TS2345"], // path (imported in cell 1) used in cell 4
  ]);
  assert.match(
    report.diagnostics[0].message,
    /type_errors\.ipynb: cell 3, line 1, column 7: TS2322 Type 'string' is not assignable to type 'number'\./,
  );
});

Deno.test("nb check accepts re-declarations across cells, as the kernel runs them", async () => {
  const report = await checkNotebook(fixture("redeclaration.ipynb"));
  assert.deepEqual(report.diagnostics, []);
});

Deno.test("nb check reports a syntax error by cell and line and still checks the other cells", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "syntax.ipynb");
    await writeNotebook(
      path,
      notebookOf(
        "const a: number = 1;",
        "// a typo\nconst b = ;",
        "const c: string = a;",
        "{ x: a, y: 2 }", // an object literal, as the kernel runs it
      ),
    );
    const report = await checkNotebook(path);
    const found = report.diagnostics.map((d) => [d.cell, d.line, d.column, d.code]);
    assert.deepEqual(found, [[2, 2, 11, "SyntaxError"], [3, 1, 7, "TS2322"]]);
    assert.match(
      report.diagnostics[0].message,
      /syntax\.ipynb: cell 2, line 2, column 11: SyntaxError /,
    );
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["syntax.ipynb"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
