import assert from "node:assert/strict";
import {
  cleanNotebook,
  NotebookFormatError,
  parseNotebook,
  readNotebook,
  serializeNotebook,
  splitLines,
  writeNotebook,
} from "../../kernel/notebook.ts";

const LESSON = new URL("../fixtures/kernel/format/jupyter_written.ipynb", import.meta.url).pathname;

Deno.test("serializeNotebook() round-trips a Jupyter-written notebook byte for byte", async () => {
  const text = await Deno.readTextFile(LESSON);
  assert.deepEqual(serializeNotebook(parseNotebook(text, LESSON)), text);
});

Deno.test("splitLines() splits like Python's str.splitlines(True)", () => {
  assert.deepEqual(splitLines("a\nb\r\nc\rd"), ["a\n", "b\r\n", "c\r", "d"]);
  assert.deepEqual(splitLines(""), []);
  assert.deepEqual(splitLines("x\n"), ["x\n"]);
  assert.deepEqual(splitLines("p\u2028q"), ["p\u2028", "q"]);
});

Deno.test("parseNotebook() reports invalid JSON with file, line and column", () => {
  assert.throws(
    () => parseNotebook('{"nbformat": 4,\n "cells": [}', "bad.ipynb"),
    (e) =>
      e instanceof NotebookFormatError &&
      e.message.startsWith("bad.ipynb: line 2 column 12: not valid JSON"),
  );
});

Deno.test("parseNotebook() rejects nbformat 3 with the conversion command", () => {
  assert.throws(
    () =>
      parseNotebook(
        '{"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": []}',
        "old.ipynb",
      ),
    {
      name: "NotebookFormatError",
      message:
        "old.ipynb: nbformat 3 is not supported: convert it with `jupyter nbconvert --to notebook --nbformat 4`",
    },
  );
});

Deno.test("parseNotebook() names the cell that has no source", () => {
  const nb = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {},
    cells: [
      { cell_type: "markdown", id: "a1", metadata: {}, source: "" },
      { cell_type: "code", id: "b2", metadata: {}, source: "", outputs: [], execution_count: null },
      { cell_type: "markdown", id: "c3", metadata: {}, source: "" },
      { cell_type: "code", id: "abc", metadata: {}, outputs: [], execution_count: null },
    ],
  };
  assert.throws(
    () => parseNotebook(JSON.stringify(nb), "n.ipynb"),
    { name: "NotebookFormatError", message: "n.ipynb: cell 4 (id abc) has no source" },
  );
});

Deno.test("parseNotebook() keeps unknown metadata and writeNotebook() writes it back", async () => {
  const dir = await Deno.makeTempDir();
  const nb = parseNotebook(JSON.stringify({
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { custom: { z: 1, a: [1, 2] } },
    cells: [{
      cell_type: "code",
      id: "x",
      metadata: { extra: true, tags: ["t"] },
      source: ["let a = 1;\n", "a"],
      outputs: [{ output_type: "stream", name: "stdout", text: ["1\n", "2\n"] }],
      execution_count: 3,
      future_field: "kept",
    }],
  }));
  await writeNotebook(`${dir}/out.ipynb`, nb);
  const back = JSON.parse(await Deno.readTextFile(`${dir}/out.ipynb`));
  assert.deepEqual(back.metadata.custom, { a: [1, 2], z: 1 });
  assert.deepEqual(back.cells[0].future_field, "kept");
  assert.deepEqual(back.cells[0].source, ["let a = 1;\n", "a"]);
  assert.deepEqual(back.cells[0].outputs[0].text, ["1\n", "2\n"]);
  assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["out.ipynb"]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("cleanNotebook() strips outputs, counts and run metadata but not tags", () => {
  const nb = parseNotebook(JSON.stringify({
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {},
    cells: [{
      cell_type: "code",
      id: "x",
      metadata: { tags: ["parameters"], execution: { "iopub.status.busy": "t" } },
      source: "1",
      outputs: [{ output_type: "stream", name: "stdout", text: "1" }],
      execution_count: 1,
    }],
  }));
  const clean = cleanNotebook(nb);
  assert.deepEqual(clean.cells[0], {
    cell_type: "code",
    id: "x",
    metadata: { tags: ["parameters"] },
    source: "1",
    outputs: [],
    execution_count: null,
  });
});

Deno.test("readNotebook() names a missing file", async () => {
  await assert.rejects(() => readNotebook("/nonexistent/x.ipynb"), {
    name: "NotebookFormatError",
    message: "/nonexistent/x.ipynb: no such file",
  });
});

Deno.test("readNotebook() names a folder given as a notebook", async () => {
  const dir = await Deno.makeTempDir({ suffix: ".ipynb" });
  try {
    await assert.rejects(() => readNotebook(dir), {
      name: "NotebookFormatError",
      message: `${dir}: is a folder, not a notebook file`,
    });
  } finally {
    await Deno.remove(dir);
  }
});

Deno.test("parseNotebook() says an empty file is empty and a non-number nbformat is wrong", () => {
  assert.throws(() => parseNotebook("", "e.ipynb"), {
    name: "NotebookFormatError",
    message: "e.ipynb: the file is empty, not a notebook",
  });
  assert.throws(
    () =>
      parseNotebook(
        '{"nbformat": "4", "nbformat_minor": 5, "metadata": {}, "cells": []}',
        "s.ipynb",
      ),
    { name: "NotebookFormatError", message: 's.ipynb: nbformat must be a number, got "4"' },
  );
});

Deno.test("cleanNotebook() strips other tools' run times but keeps the rest of the metadata", () => {
  const nb = parseNotebook(JSON.stringify({
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { custom: 1 },
    cells: [{
      cell_type: "code",
      id: "x",
      metadata: {
        tags: ["hide-input"],
        ExecuteTime: { end_time: "2024-01-01T00:00:00Z", start_time: "2024-01-01T00:00:00Z" },
        collapsed: false,
        custom: { keep: true },
      },
      source: "1",
      outputs: [],
      execution_count: 1,
    }],
  }));
  const clean = cleanNotebook(nb);
  assert.deepEqual(clean.metadata, { custom: 1 });
  assert.deepEqual(clean.cells[0].metadata, {
    tags: ["hide-input"],
    collapsed: false,
    custom: { keep: true },
  });
});
