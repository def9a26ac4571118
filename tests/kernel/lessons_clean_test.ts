import assert from "node:assert/strict";
import { join } from "node:path";
import { findLessons } from "../../kernel/course.ts";
import { cleanNotebook, readNotebook, serializeNotebook } from "../../kernel/notebook.ts";
import { ROOT } from "./_helpers.ts";

Deno.test("every lesson in lessons/ is committed clean (no outputs, no execution counts)", async () => {
  const lessons = await findLessons(join(ROOT, "lessons"));
  assert.ok(lessons.length > 0, "no lessons found");
  const dirty: string[] = [];
  for (const path of lessons) {
    const text = await Deno.readTextFile(path);
    if (serializeNotebook(cleanNotebook(await readNotebook(path))) !== text) dirty.push(path);
  }
  assert.deepEqual(dirty, [], `not clean (run: deno task nb clean ${dirty.join(" ")})`);
});
