import assert from "node:assert/strict";
import { CellSyntaxError, transpileCell } from "../../kernel/session/transpile.ts";
import { CellOutputs } from "../../kernel/session/outputs.ts";
import { injectParameters, parseParameter } from "../../kernel/parameters.ts";
import { notebookOf } from "./_helpers.ts";

Deno.test("transpileCell() strips types, keeps lines, and turns imports into awaited dynamic imports", () => {
  const cell = transpileCell(
    'import * as ns from "npm:x@1";\nimport d, { a, b as c } from "./m.ts";\nimport type { T } from "./t.ts";\nimport "./side.ts";\nexport const n: number = 1;\nn',
    { importBase: "file:///nb/" },
  );
  assert.deepEqual(cell.code.split("\n"), [
    'const ns = await import("npm:x@1");',
    'const { default: d, a, b: c } = await import("file:///nb/m.ts");',
    "",
    'await import("file:///nb/side.ts");',
    "const n = 1;",
    "n",
  ]);
});

Deno.test("transpileCell() tries a leading {…} as an object literal, else as a block", () => {
  assert.equal(transpileCell("{ a: 1 }").wrapped, true);
  assert.equal(transpileCell("{ let a = 1; a }").wrapped, false);
  assert.equal(transpileCell("{ a: 1 };").wrapped, false);
});

Deno.test("transpileCell() maps positions back into the cell's TypeScript source", () => {
  const source = "const a: Array<number> = [1];\nconst s: string = `x ${a}`;\nthrow new Error(s);";
  const cell = transpileCell(source);
  const line3 = cell.code.split("\n")[2];
  assert.deepEqual(cell.originalPosition(3, line3.indexOf("new") + 1), { line: 3, column: 7 });
  const line1 = cell.code.split("\n")[0];
  assert.deepEqual(cell.originalPosition(1, line1.indexOf("[1]") + 1), {
    line: 1,
    column: source.indexOf("[1]") + 1,
  });
});

Deno.test("transpileCell() maps columns on lines where type stripping inserts code", () => {
  for (
    const source of [
      "enum E { A = 1, B } const r: any = E; r.C.boom",
      "class C { constructor(public readonly q: string) {} } const c: any = new C('x'); c.n.boom",
      "class D { constructor(private p: number) {} }; const d: { x?: any } = {}; d.x.boom",
    ]
  ) {
    const cell = transpileCell(source);
    const at = cell.code.lastIndexOf("boom") + 1;
    assert.deepEqual(cell.originalPosition(1, at), {
      line: 1,
      column: source.lastIndexOf("boom") + 1,
    }, source);
  }
});

Deno.test("transpileCell() reports a syntax error with the line and column in the cell", () => {
  const error = assert.throws(
    () => transpileCell("let ok = 1;\nlet x = ;"),
    CellSyntaxError,
  ) as unknown;
  void error;
  try {
    transpileCell("let ok = 1;\nlet x = ;");
  } catch (e) {
    assert.ok(e instanceof CellSyntaxError);
    assert.equal(e.line, 2);
    assert.equal(e.column, 9);
  }
});

Deno.test("CellOutputs caps stream text: head and tail kept, the gap counted", () => {
  const sink = new CellOutputs(100);
  for (let i = 0; i < 100; i++) {
    sink.add({
      output_type: "stream",
      name: "stdout",
      text: `line ${String(i).padStart(3, "0")}\n`,
    });
  }
  const text = sink.outputs.map((o) => o.output_type === "stream" ? o.text : "").join("");
  assert.ok(text.startsWith("line 000\nline 001\n"));
  assert.ok(text.endsWith("line 099\n"));
  const dropped = Number(text.match(/\[… (\d+) B of output dropped/)?.[1]);
  assert.equal(sink.totalBytes, 900);
  assert.equal(sink.droppedBytes, dropped);
  // what is kept is at most the cap (plus the kept tail's start moved to a line boundary)
  const kept = text.replace(/\n\[….*…\]\n/, "");
  assert.ok(kept.length <= 100 && kept.length >= 90, `kept ${kept.length}`);
  assert.equal(kept.length + dropped, 900);
});

Deno.test("parseParameter() types values as JSON when they parse, strings otherwise", () => {
  assert.deepEqual(parseParameter("epochs=3"), ["epochs", 3]);
  assert.deepEqual(parseParameter("lr=1e-3"), ["lr", 0.001]);
  assert.deepEqual(parseParameter("name=cat"), ["name", "cat"]);
  assert.deepEqual(parseParameter('name="3"'), ["name", "3"]);
  assert.deepEqual(parseParameter("flags=[true]"), ["flags", [true]]);
  assert.deepEqual(parseParameter("empty="), ["empty", ""]);
  assert.throws(() => parseParameter("noequals"), /expected name=value/);
  assert.throws(() => parseParameter("bad-name=1"), /JavaScript identifier/);
  assert.throws(() => parseParameter("class=1"), /reserved word/);
});

Deno.test("injectParameters() re-declares each parameter as the parameters cell declares it", () => {
  const nb = notebookOf({
    code: "const epochs: number = 5; // full run\n" +
      "var name = 'a', other: number = 2;\n" +
      "let { x, y } = { x: 1, y: 2 };\n" +
      "export const lr = 0.1;",
    tags: ["parameters"],
  }, "epochs");
  const { notebook, warnings } = injectParameters(nb, {
    epochs: 2,
    other: 3,
    y: 9,
    lr: 1e400,
    extra: -0,
  });
  assert.equal(
    notebook.cells[1].source,
    [
      "// Parameters injected for this run",
      "const epochs = 2;",
      "var other = 3;",
      "let y = 9;",
      "const lr = Infinity;",
      "let extra = -0;",
    ].join("\n"),
  );
  assert.deepEqual(warnings, ['parameter "extra" is not declared in the parameters cell (cell 1)']);
});

Deno.test("injectParameters() inserts one injected cell after the parameters cell, with a cell id", () => {
  const nb = notebookOf({ code: "let a = 1;", tags: ["parameters"] }, {
    code: "let a = 0;",
    tags: ["injected-parameters"],
  }, "a");
  const { notebook, index, warnings } = injectParameters(nb, { a: 5, b: "x" });
  assert.equal(index, 1);
  assert.equal(notebook.cells.length, 3);
  assert.equal(
    notebook.cells[1].source,
    '// Parameters injected for this run\nlet a = 5;\nlet b = "x";',
  );
  assert.match(notebook.cells[1].id!, /^[0-9a-f]{8}$/);
  assert.deepEqual(warnings, ['parameter "b" is not declared in the parameters cell (cell 1)']);
  assert.equal(nb.cells.length, 3, "the input notebook is unchanged");
});

Deno.test("CellOutputs drops rich outputs past their budget, whole, and counts them", () => {
  const sink = new CellOutputs(10); // rich budget: 16 × 10 bytes
  const image = (n: number) => ({
    output_type: "display_data" as const,
    data: { "image/png": "A".repeat(n) },
    metadata: {},
  });
  sink.add(image(100));
  sink.add(image(100));
  assert.equal(sink.outputs.length, 1);
  assert.ok(sink.droppedRichBytes > 100);
});
