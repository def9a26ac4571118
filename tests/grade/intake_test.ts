import assert from "node:assert/strict";
import { parseSubmittedNotebook } from "../../kernel/grade/intake.ts";
import { topLevelDeclarations, usedNames } from "../../kernel/grade/declarations.ts";
import { NotebookFormatError } from "../../kernel/notebook.ts";

const notebookText = (cells: unknown[]) =>
  JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells });

Deno.test("parseSubmittedNotebook() drops saved outputs and repairs cell ids, saying so", () => {
  const { notebook, notes } = parseSubmittedNotebook(
    notebookText([
      { cell_type: "code", id: "a", source: "1", metadata: {}, outputs: [{ broken: true }] },
      { cell_type: "code", id: "a", source: "2", metadata: {}, execution_count: "x" },
      { cell_type: "markdown", id: "not valid!", source: "hi", metadata: {} },
    ]),
    "hw.ipynb",
  );
  assert.equal(notebook.cells.length, 3);
  assert.deepEqual(notebook.cells[0].cell_type === "code" && notebook.cells[0].outputs, []);
  assert.equal(new Set(notebook.cells.map((c) => c.id)).size, 3);
  assert.equal(notebook.cells[0].id, "a");
  assert.deepEqual(notes, [
    "cell 2 had the same id as an earlier cell (a); it was given a new one",
    "cell 3 had an id nbformat does not allow; it was given a new one",
  ]);
});

Deno.test("parseSubmittedNotebook() refuses deep nesting and bad JSON with the kernel's messages", () => {
  const deep = notebookText([{
    cell_type: "code",
    source: "",
    metadata: { x: JSON.parse("[".repeat(5000) + "]".repeat(5000)) },
  }]);
  assert.throws(
    () => parseSubmittedNotebook(deep, "hw.ipynb"),
    (e) =>
      e instanceof NotebookFormatError && /hw\.ipynb: nested more than 100 levels/.test(e.message),
  );
  assert.throws(
    () => parseSubmittedNotebook('{"cells": [', "hw.ipynb"),
    /hw\.ipynb: line 1 column \d+: not valid JSON/,
  );
  assert.throws(
    () => parseSubmittedNotebook('{"nbformat": 3}', "hw.ipynb"),
    /nbformat 3 is not supported/,
  );
});

Deno.test("topLevelDeclarations() finds const, function and class names, not inner ones", () => {
  const d = topLevelDeclarations(`import { x } from "y";
const [a, { b, c: [d] }, ...rest] = f();
export const e: number = 1;
let counter = 0;
var legacy = 1;
function g<T>(t: T): T { const inner = t; return inner; }
class Shape { area(): number { return 0; } }
interface Ignored { n: number }
type AlsoIgnored = string;
if (true) { const hidden = 1; }`);
  assert.deepEqual(d, {
    consts: ["a", "b", "d", "rest", "e"],
    assignable: ["g", "Shape"],
    mutable: ["counter", "legacy"],
  });
  assert.deepEqual(topLevelDeclarations("const = ;"), { consts: [], assignable: [], mutable: [] });
});

Deno.test("usedNames() finds names a cell uses, not property names, strings or comments", () => {
  const used = usedNames(`// gray is mentioned here
assertShape(boxBlur(toGray(photo), 3), [1], "boxBlur(gray photo)");
const o = { gray: 1, [key]: 2, half };
o.gray; label: for (;;) break label;`);
  assert.deepEqual([...used].sort(), [
    "assertShape",
    "boxBlur",
    "half",
    "key",
    "o",
    "photo",
    "toGray",
  ]);
});
