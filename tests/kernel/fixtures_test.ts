/**
 * Every semantic fixture in tests/fixtures/kernel/ re-runs from a clean copy to the outputs it
 * stores (after normalising timing, paths and addresses).
 */
import assert from "node:assert/strict";
import { basename } from "node:path";
import { readNotebook } from "../../kernel/notebook.ts";
import { fixtureOptions, fixturePaths, normalize, runFixture } from "./_fixtures.ts";

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

for (const path of fixturePaths()) {
  const stored = await readNotebook(path);
  const { description } = fixtureOptions(stored);
  Deno.test(`fixture ${basename(path, ".ipynb")}: ${description}`, async () => {
    const result = await runFixture(path);
    const actual = normalize(result.notebook);
    const expected = normalize(stored);
    assert.equal(actual.cells.length, expected.cells.length);
    actual.cells.forEach((cell, i) => {
      assert.deepEqual(cell, expected.cells[i], `cell ${i + 1} differs`);
    });
    // nbclient-style timing metadata on every cell that ran
    for (const cell of result.notebook.cells) {
      if (cell.cell_type !== "code" || cell.execution_count === null) continue;
      const t = cell.metadata.execution as Record<string, string>;
      for (
        const key of [
          "iopub.execute_input",
          "iopub.status.busy",
          "iopub.status.idle",
          "shell.execute_reply",
        ]
      ) {
        assert.match(t[key], ISO, `${key} of cell ${cell.id}`);
      }
      assert.ok(t["iopub.status.busy"] <= t["iopub.status.idle"]);
    }
  });
}
