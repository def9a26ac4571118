import assert from "node:assert/strict";
import { join } from "node:path";
import { executeNotebook } from "../../kernel/execute.ts";
import type { CodeCell } from "../../kernel/notebook.ts";
import { convlabCacheDir, lessonPermissions } from "../../kernel/session/permissions.ts";
import { cacheDir } from "../../lib/data/cache.ts";
import { notebookOf } from "./_helpers.ts";

Deno.test("convlabCacheDir() finds the cache folder the lib uses for datasets and models", () => {
  assert.equal(convlabCacheDir(), cacheDir());
});

Deno.test("a lesson session may write and read Convlab's cache folder (saved models)", async () => {
  const cache = convlabCacheDir();
  assert.ok(cache, "a cache folder is found from the environment");
  const notebookDir = await Deno.makeTempDir({ prefix: "convlab-perm-" });
  const probe = join(cache, "models", `permission-probe-${crypto.randomUUID()}`);
  try {
    const permissions = lessonPermissions(notebookDir);
    assert.ok((permissions.read as string[]).includes(cache));
    assert.ok((permissions.write as string[]).includes(cache));
    const nb = notebookOf(
      `await Deno.mkdir(${JSON.stringify(probe)}, { recursive: true });\n` +
        `await Deno.writeTextFile(${JSON.stringify(join(probe, "model.json"))}, "{}");\n` +
        `await Deno.readTextFile(${JSON.stringify(join(probe, "model.json"))})`,
    );
    const result = await executeNotebook(nb, { cwd: notebookDir, permissions });
    assert.equal(result.ok, true, result.error?.message ?? "");
    const out = (result.notebook.cells[0] as CodeCell).outputs[0];
    assert.equal(out.output_type, "execute_result");
    // A folder outside the grants stays closed.
    const outside = notebookOf(
      `await Deno.writeTextFile("/root-not-granted-${crypto.randomUUID()}", "x")`,
    );
    const denied = await executeNotebook(outside, { cwd: notebookDir, permissions });
    assert.equal(denied.cells[0].error?.ename, "NotCapable");
  } finally {
    await Deno.remove(probe, { recursive: true }).catch(() => {});
    await Deno.remove(notebookDir, { recursive: true });
  }
});
