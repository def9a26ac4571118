/**
 * The batch around the sandbox: the cache, --student, --shard and merge, the CLI — on a tiny
 * assignment whose sessions start in a fraction of a second.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { releaseAssignment } from "../../kernel/grade/assign.ts";
import { main as gradeMain } from "../../kernel/grade/cli.ts";
import { gradeAssignment, GradeError } from "../../kernel/grade/grade.ts";
import { MergeError, mergeGrades } from "../../kernel/grade/merge.ts";
import {
  assertKeyOutsideSandbox,
  PROJECT_ROOT,
  sandboxPermissions,
} from "../../kernel/grade/sandbox.ts";
import { type Notebook, serializeNotebook, writeNotebook } from "../../kernel/notebook.ts";
import { makeRelease } from "../../kernel/grade/assign.ts";
import { gradeId } from "../../kernel/grade/nbgrader.ts";
import { miniAssignment } from "./_helpers.ts";

async function setup(): Promise<{ dir: string; release: string; subs: string; student: Notebook }> {
  const dir = await Deno.makeTempDir({ prefix: "convlab-batch-" });
  await writeNotebook(join(dir, "mini.ipynb"), miniAssignment());
  await releaseAssignment(join(dir, "mini.ipynb"), { out: join(dir, "release") });
  const { student } = await makeRelease(miniAssignment(), { notebook: "mini.ipynb" });
  const subs = join(dir, "subs");
  const write = async (name: string, answer: string) => {
    const nb = structuredClone(student);
    nb.cells.find((c) => gradeId(c) === "double")!.source = answer;
    await Deno.mkdir(join(subs, name), { recursive: true });
    await Deno.writeTextFile(join(subs, name, "mini.ipynb"), serializeNotebook(nb));
  };
  await write("ada", "const double = (x: number) => 2 * x;");
  await write("bob", "const double = (x: number) => x + 2;");
  await write("cy", "const double = (x: number) => x * 2;");
  await Deno.mkdir(join(subs, "dee"));
  await Deno.writeTextFile(join(subs, "dee", "mini.ipynb"), "{ not json");
  return { dir, release: join(dir, "release"), subs, student };
}

Deno.test("re-grading is incremental: unchanged submissions come from the cache", async () => {
  const { dir, release, subs } = await setup();
  try {
    const out = join(dir, "out");
    const first = await gradeAssignment({ release, submissions: subs, out, jobs: 2 });
    assert.deepEqual(
      first.students.map((s) => `${s.student} ${s.total}/${s.max} ${s.status} ${s.cached}`),
      [
        "ada 2/2 graded false",
        "bob 0/2 graded false",
        "cy 2/2 graded false",
        "dee 0/2 invalid-notebook false",
      ],
    );
    const second = await gradeAssignment({ release, submissions: subs, out, jobs: 2 });
    assert.deepEqual(second.students.map((s) => s.cached), [true, true, true, true]);
    assert.deepEqual(second.students.map((s) => s.total), first.students.map((s) => s.total));
    // A changed submission is graded again; the others stay cached.
    const bob = join(subs, "bob", "mini.ipynb");
    await Deno.writeTextFile(bob, (await Deno.readTextFile(bob)).replace("x + 2", "x * 2"));
    const third = await gradeAssignment({ release, submissions: subs, out, jobs: 2 });
    assert.deepEqual(third.students.map((s) => `${s.student} ${s.total} ${s.cached}`), [
      "ada 2 true",
      "bob 2 false",
      "cy 2 true",
      "dee 0 true",
    ]);
    const forced = await gradeAssignment({
      release,
      submissions: subs,
      out,
      force: true,
      students: ["ada"],
    });
    assert.deepEqual(forced.students.map((s) => `${s.student} ${s.cached}`), ["ada false"]);
    // The class's reports still list everyone: re-grading one student updates its row only.
    const csv = await Deno.readTextFile(join(out, "grades.csv"));
    assert.deepEqual(
      csv.trim().split("\n").slice(1).map((l) => l.split(",").slice(0, 2).join(" ")),
      [
        "ada 2",
        "bob 2",
        "cy 2",
        "dee 0",
      ],
    );
    const json = JSON.parse(await Deno.readTextFile(join(out, "grades.json")));
    assert.equal(json.students.find((s: { student: string }) => s.student === "ada").cached, false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--shard 1/2 and 2/2 split the class, and merge gives what one run gives", async () => {
  const { dir, release, subs } = await setup();
  try {
    const whole = await gradeAssignment({
      release,
      submissions: subs,
      out: join(dir, "whole"),
      jobs: 2,
    });
    const shards = [];
    for (const index of [1, 2]) {
      shards.push(
        await gradeAssignment({
          release,
          submissions: subs,
          out: join(dir, `shard-${index}`),
          shard: { index, count: 2 },
          jobs: 2,
        }),
      );
    }
    const names = shards.flatMap((s) => s.students.map((r) => r.student)).sort();
    assert.deepEqual(names, ["ada", "bob", "cy", "dee"], "every student in exactly one shard");
    assert.deepEqual(shards.map((s) => s.shard), ["1/2", "2/2"]);
    const merged = await mergeGrades(
      [join(dir, "shard-1"), join(dir, "shard-2")],
      join(dir, "merged"),
    );
    assert.deepEqual(
      merged.students.map((s) => [s.student, s.total, s.status]),
      whole.students.map((s) => [s.student, s.total, s.status]),
    );
    assert.equal(merged.shard, null);
    const csv = await Deno.readTextFile(join(dir, "merged", "grades.csv"));
    assert.equal(csv.trim().split("\n").length, 5);
    for (const s of merged.students.filter((s) => s.feedback)) {
      await Deno.stat(join(dir, "merged", s.feedback!));
    }
    // Shards of another assignment do not merge.
    const other = structuredClone(miniAssignment());
    other.cells[3].source += "\nassertEquals(double(0), 0);";
    await writeNotebook(join(dir, "mini.ipynb"), other);
    await releaseAssignment(join(dir, "mini.ipynb"), { out: join(dir, "release2") });
    await gradeAssignment({
      release: join(dir, "release2"),
      submissions: subs,
      out: join(dir, "other"),
      students: ["dee"],
    });
    await assert.rejects(
      () => mergeGrades([join(dir, "shard-1"), join(dir, "other")], join(dir, "bad")),
      (e) => e instanceof MergeError && /was graded with a different key/.test(e.message),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--student for a missing submission and a key inside the sandbox are refused", async () => {
  const { dir, release, subs } = await setup();
  try {
    await assert.rejects(
      () => gradeAssignment({ release, submissions: subs, out: join(dir, "o"), students: ["zed"] }),
      (e) => e instanceof GradeError && e.message.startsWith("no submission for --student zed"),
    );
    await assert.rejects(
      () => gradeAssignment({ release, submissions: subs, out: join(subs, "grades") }),
      (e) => e instanceof GradeError && /inside the submissions folder/.test(e.message),
    );
    const permissions = await sandboxPermissions(join(dir, "scratch"));
    assert.throws(
      () => assertKeyOutsideSandbox(join(PROJECT_ROOT, "lib", "mine.key.json"), permissions),
      /which every grading session can read/,
    );
    assert.ok(
      !permissions.read.some((p) => p === PROJECT_ROOT),
      "the project root is not readable",
    );
    assert.deepEqual(permissions.write, [join(dir, "scratch")]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("grade CLI: exit 2 for usage errors, 1 for a bad release, 0 for a graded batch", async () => {
  const { dir, release, subs } = await setup();
  const printed: string[] = [];
  const { log, error } = console;
  console.log = console.error = (...args: unknown[]) => printed.push(args.join(" "));
  try {
    assert.equal(await gradeMain([release, subs]), 2);
    assert.match(printed.join("\n"), /--out <grades-dir> is required/);
    assert.equal(await gradeMain([release, subs, "--out", join(dir, "o"), "--shard", "3/2"]), 2);
    assert.match(printed.join("\n"), /--shard 3\/2: the shard index counts from 1 to 2/);
    assert.equal(await gradeMain([join(dir, "nowhere"), subs, "--out", join(dir, "o")]), 1);
    assert.match(printed.join("\n"), /no such release folder or key file/);
    printed.length = 0;
    assert.equal(await gradeMain([release, subs, "--out", join(dir, "o"), "--student", "dee"]), 0);
    assert.match(printed.join("\n"), /\[1\/1\] dee {2}0\/2 {2}invalid-notebook/);
  } finally {
    console.log = log;
    console.error = error;
    await Deno.remove(dir, { recursive: true });
  }
});
