import assert from "node:assert/strict";
import { join } from "node:path";
import { zipSync } from "fflate";
import {
  chooseNotebook,
  findSubmissions,
  parseShard,
  readSubmission,
  selectShard,
  shardOf,
  SubmissionError,
} from "../../kernel/grade/submissions.ts";

const text = (s: string) => new TextEncoder().encode(s);

async function withDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "convlab-subs-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("findSubmissions() takes folders and zips, prefers a folder, and says what it skipped", () =>
  withDir(async (dir) => {
    await Deno.mkdir(join(dir, "bob"));
    await Deno.mkdir(join(dir, "alice"));
    await Deno.writeFile(join(dir, "carol.zip"), zipSync({ "a.ipynb": text("{}") }));
    await Deno.writeFile(join(dir, "alice.zip"), zipSync({ "a.ipynb": text("{}") }));
    await Deno.writeTextFile(join(dir, "notes.txt"), "x");
    await Deno.mkdir(join(dir, ".hidden"));
    const { submissions, skipped } = await findSubmissions(dir);
    assert.deepEqual(submissions.map((s) => `${s.student}:${s.kind}`), [
      "alice:folder",
      "bob:folder",
      "carol:zip",
    ]);
    assert.deepEqual(skipped.map((s) => s.name), ["alice.zip", "notes.txt"]);
  }));

Deno.test("readSubmission() leaves out symlinks and module configuration files", () =>
  withDir(async (dir) => {
    const sub = join(dir, "eve");
    await Deno.mkdir(join(sub, "node_modules"), { recursive: true });
    await Deno.writeTextFile(join(sub, "hw.ipynb"), "{}");
    await Deno.writeTextFile(join(sub, "deno.json"), '{"imports":{"convlab/testing":"./fake.ts"}}');
    await Deno.writeTextFile(join(sub, "node_modules", "x.js"), "");
    await Deno.symlink("/etc/passwd", join(sub, "passwd.txt"));
    const contents = await readSubmission({ student: "eve", path: sub, kind: "folder" });
    assert.deepEqual(contents.files.map((f) => f.path), ["hw.ipynb"]);
    assert.deepEqual(contents.ignored.sort(), [
      "deno.json",
      "node_modules",
      "passwd.txt (symbolic link)",
    ]);
  }));

Deno.test("readSubmission() unzips safely: no paths outside, a single top folder unwrapped", () =>
  withDir(async (dir) => {
    const zip = join(dir, "mallory.zip");
    await Deno.writeFile(
      zip,
      zipSync({
        "mallory/hw.ipynb": text("{}"),
        "mallory/img/a.png": text("png"),
        "../../escape.txt": text("x"),
      }),
    );
    const contents = await readSubmission({ student: "mallory", path: zip, kind: "zip" });
    assert.deepEqual(contents.files.map((f) => f.path), ["hw.ipynb", "img/a.png"]);
    assert.match(contents.ignored[0], /escape\.txt \(path outside the submission\)/);
  }));

Deno.test("readSubmission() refuses a zip that unpacks past the size limit without unpacking it", () =>
  withDir(async (dir) => {
    const zip = join(dir, "bomb.zip");
    await Deno.writeFile(
      zip,
      zipSync({ "big.bin": new Uint8Array(4 * 1024 * 1024) }, { level: 9 }),
    );
    await assert.rejects(
      () =>
        readSubmission({ student: "bomb", path: zip, kind: "zip" }, {
          maxBytes: 1024 * 1024,
          maxFiles: 10,
        }),
      (e) =>
        e instanceof SubmissionError &&
        /more than the limit \(10 files, 1\.0 MiB\)/.test(e.message),
    );
    await Deno.writeTextFile(join(dir, "junk.zip"), "not a zip");
    await assert.rejects(
      () => readSubmission({ student: "junk", path: join(dir, "junk.zip"), kind: "zip" }),
      (e) => e instanceof SubmissionError && /not a readable zip file/.test(e.message),
    );
  }));

Deno.test("readSubmission() hashes content: same files same hash, one byte changes it", () =>
  withDir(async (dir) => {
    for (const [name, body] of [["a", "1"], ["b", "1"], ["c", "2"]]) {
      await Deno.mkdir(join(dir, name));
      await Deno.writeTextFile(join(dir, name, "hw.ipynb"), body);
    }
    const hash = async (s: string) =>
      (await readSubmission({ student: s, path: join(dir, s), kind: "folder" })).hash;
    assert.equal(await hash("a"), await hash("b"));
    assert.notEqual(await hash("a"), await hash("c"));
  }));

Deno.test("chooseNotebook() prefers the released name, accepts a single other notebook, else explains", () => {
  assert.deepEqual(chooseNotebook(["x/hw.ipynb", "hw.ipynb"], "hw.ipynb"), { path: "hw.ipynb" });
  assert.deepEqual(chooseNotebook(["mine.ipynb"], "hw.ipynb"), {
    path: "mine.ipynb",
    note: "graded mine.ipynb (expected hw.ipynb)",
  });
  assert.deepEqual(chooseNotebook(["a.txt"], "hw.ipynb"), {
    reason: "no notebook in the submission (expected hw.ipynb)",
  });
  assert.deepEqual(chooseNotebook(["a.ipynb", "b.ipynb"], "hw.ipynb"), {
    reason: "2 notebooks (a.ipynb, b.ipynb) and none is named hw.ipynb",
  });
});

Deno.test("--shard partitions students deterministically and completely", async () => {
  const students = Array.from(
    { length: 60 },
    (_, i) => ({ student: `s${i}`, path: "", kind: "folder" as const }),
  );
  const shards = await Promise.all(
    [1, 2, 3].map((index) => selectShard(students, { index, count: 3 })),
  );
  const all = shards.flat().map((s) => s.student).sort();
  assert.deepEqual(all, students.map((s) => s.student).sort());
  assert.ok(shards.every((s) => s.length >= 10), shards.map((s) => s.length).join(","));
  assert.equal(await shardOf("s7", 3), await shardOf("s7", 3));
  assert.deepEqual(parseShard("2/4"), { index: 2, count: 4 });
  assert.throws(
    () => parseShard("0/4"),
    /counts from 1 to 4 \(for a 0-based index such as JOB_COMPLETION_INDEX, add 1\)/,
  );
  assert.throws(() => parseShard("2-4"), /must look like i\/n/);
});
