/**
 * Hostile students against a small TypeScript assignment ("vectors": no tensors, so sessions
 * start fast): each fixture in tests/fixtures/grade/vectors/ attacks the sandbox or the scoring
 * one way, and must end with the right status, no points it did not earn and a clear reason,
 * while the rest of the batch grades normally. One batch, graded when the module loads.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { releaseAssignment } from "../../kernel/grade/assign.ts";
import { gradeAssignment } from "../../kernel/grade/grade.ts";
import type { SubmissionResult } from "../../kernel/grade/results.ts";
import { readNotebook } from "../../kernel/notebook.ts";

const FIXTURES = new URL("../fixtures/grade/", import.meta.url).pathname;

const batch = (async () => {
  const dir = await Deno.makeTempDir({ prefix: "convlab-grade-hostile-" });
  await releaseAssignment(join(FIXTURES, "vectors.ipynb"), { out: join(dir, "release") });
  const grades = await gradeAssignment({
    release: join(dir, "release"),
    submissions: join(FIXTURES, "vectors"),
    out: join(dir, "out"),
    jobs: 2,
    timeout: 10,
    notebookTimeout: 120,
    memoryMb: 256,
  });
  return { dir, out: join(dir, "out"), grades };
})();

async function student(name: string): Promise<SubmissionResult> {
  const { grades } = await batch;
  const found = grades.students.find((s) => s.student === name);
  assert.ok(found, `${name} was not graded`);
  return found;
}

async function expectGrade(
  name: string,
  expected: { status: string; total: number; tampered?: boolean; reason: RegExp },
): Promise<SubmissionResult> {
  const s = await student(name);
  const summary = `${s.status} ${s.total}/${s.max} tampered=${s.tampered}: ${s.reason}`;
  assert.equal(s.status, expected.status, summary);
  assert.equal(s.total, expected.total, summary);
  assert.equal(s.max, 5, summary);
  assert.equal(s.tampered, expected.tampered ?? false, summary);
  assert.match(s.reason, expected.reason, summary);
  return s;
}

/** Everything the executed submission printed. */
async function printedBy(name: string): Promise<string> {
  const executed = await readNotebook(join((await batch).out, "executed", `${name}.ipynb`));
  return executed.cells.flatMap((c) => c.cell_type === "code" ? c.outputs : [])
    .map((o) => o.output_type === "stream" ? o.text : "").join("");
}

const V = "vectors: ";

Deno.test(V + "full marks, also for a student who declares the setup's names again", async () => {
  await expectGrade("full-marks", { status: "graded", total: 5, reason: /^all 3 tests passed$/ });
  await expectGrade("copies-setup", { status: "graded", total: 5, reason: /^all 3 tests passed$/ });
});

Deno.test(
  V + "re-declaring or mutating the read-only cell's values does not reach the tests",
  async () => {
    const s = await expectGrade("redefines-locked", {
      status: "graded",
      total: 0,
      reason:
        /^0 of 3 tests passed; first failure: scale-test: AssertionError: scale\(\[4, 5, 6\]\)/,
    });
    // Each test failed on its hidden check: the visible ones were passed by hard-coding.
    assert.deepEqual(s.tests.map((t) => t.message.match(/^AssertionError: ([a-z]+\()/)?.[1]), [
      "scale(",
      "dot(",
      "total(",
    ]);
    assert.match(s.tests[1].message, /got 7, expected 32/);
    assert.match(s.tests[2].message, /got 6, expected 12/);
  },
);

Deno.test(
  V + "redefining built-ins, the helpers and globalThis's prototype earns nothing",
  async () => {
    await expectGrade("hostile-globals", {
      status: "graded",
      total: 0,
      reason: /^0 of 3 tests passed; first failure: scale-test: AssertionError/,
    });
    const printed = await printedBy("hostile-globals");
    assert.doesNotMatch(printed, /went through/, printed);
    assert.equal(printed.match(/: attack blocked \(TypeError\)$/gm)?.length, 15, printed);
  },
);

Deno.test(V + "a proxy posing as an array and objects posing as numbers fail", async () => {
  const s = await expectGrade("proxy-answers", {
    status: "graded",
    total: 0,
    reason: /^0 of 3 tests passed/,
  });
  assert.match(s.tests[0].message, /scale\(\[4, 5, 6\]\): value\[0\]: got 1, expected 4/);
  assert.match(s.tests[1].message, /got an object, expected 5/);
});

Deno.test(V + "timers left running cannot change what tests compare with", async () => {
  await expectGrade("timers-after", {
    status: "graded",
    total: 3,
    reason: /^2 of 3 tests passed; first failure: dot-test: AssertionError: dot\(\[1, 0, 0\]/,
  });
  // Its fake verdicts are output, not verdicts: the page shows the grader's two passes only.
  const html = await Deno.readTextFile(join((await batch).out, "feedback/timers-after.html"));
  assert.match(html, /✓ dot-test: 2 \/ 2 points, passed/);
  assert.equal(html.match(/class="cl-grade-verdict cl-grade-pass"/g)?.length, 2);
  assert.equal(html.match(/class="cl-grade-verdict cl-grade-fail"/g)?.length, 1);
});

Deno.test(V + "Deno.exit() inside a function a test calls is a crash, caught or not", async () => {
  await expectGrade("exit-in-test", {
    status: "crashed",
    total: 0,
    reason:
      /^the session died in test cell "scale-test" \(cell 4\): Deno\.exit\(0\) was called; 0 of 3 tests passed$/,
  });
});

Deno.test(V + "a busy loop cannot catch its timeout; later tests still count", async () => {
  await expectGrade("uncatchable-loop", {
    status: "timeout",
    total: 3,
    reason:
      /^test cell "dot-test" \(cell 6\) ran past the 10 s cell time limit and was stopped; 2 of 3 tests passed$/,
  });
});

Deno.test(V + "workers are refused (web) or stop the session (node:worker_threads)", async () => {
  await expectGrade("worker-bomb", {
    status: "crashed",
    total: 4,
    reason:
      /^the session died in answer cell "total" \(cell 7\): it started a worker thread, which grading does not allow, and was stopped; 2 of 3 tests passed$/,
  });
  assert.doesNotMatch(await printedBy("worker-bomb"), /ran for 5 s|web worker: started/);
});

Deno.test(V + "WebAssembly memory outside the heap stops the session", async () => {
  await expectGrade("wasm-bomb", {
    status: "crashed",
    total: 4,
    reason:
      /^the session died in answer cell "total" \(cell 7\): it used more than 640 MiB of memory \(\d+ MiB resident\) and was stopped; 2 of 3 tests passed$/,
  });
});

Deno.test(
  V + "JSON nested 100,000 levels deep is an invalid notebook, not a grader crash",
  async () => {
    await expectGrade("deep-json", {
      status: "invalid-notebook",
      total: 0,
      reason: /^vectors\.ipynb: nested more than 100 levels deep/,
    });
  },
);

Deno.test(
  V + "cell ids that repeat grade_ids and each other are replaced, and it grades",
  async () => {
    const s = await expectGrade("duplicate-ids", {
      status: "graded",
      total: 5,
      reason: /^all 3 tests passed$/,
    });
    assert.ok(
      s.details.includes(
        "cell 3 had the same id as an earlier cell (scale-test); it was given a new one",
      ),
      s.details.join("\n"),
    );
  },
);

Deno.test(V + "metadata that claims points, locks or tests counts for nothing", async () => {
  const s = await expectGrade("claims", {
    status: "graded",
    total: 5,
    tampered: true,
    reason: /^all 3 tests passed; tampered: test cell "scale-test" \(cell 4\) was edited/,
  });
  assert.deepEqual(s.tests.map((t) => t.maxPoints), [2, 2, 1]);
  assert.ok(s.details.some((d) => /claims to be a test cell \("bonus"\)/.test(d)));
});

Deno.test(
  V + "a zip with ../ and absolute paths, symbolic links and a deno.json unpacks safely",
  async () => {
    const s = await expectGrade("zip-slip", {
      status: "graded",
      total: 5,
      reason: /^all 3 tests passed$/,
    });
    for (
      const path of ["../../evil.txt", "/tmp/convlab-zip-slip.txt", "zip-slip/a/../../../evil2.txt"]
    ) {
      assert.ok(
        s.details.includes(`ignored ${path} (path outside the submission)`),
        s.details.join("\n"),
      );
    }
    assert.ok(s.details.includes("ignored zip-slip/deno.json"));
    await assert.rejects(() => Deno.stat("/tmp/convlab-zip-slip.txt"));
    for (
      const dir of [
        (await batch).dir,
        join((await batch).dir, ".."),
        FIXTURES,
        join(FIXTURES, ".."),
      ]
    ) {
      await assert.rejects(() => Deno.stat(join(dir, "evil.txt")));
      await assert.rejects(() => Deno.stat(join(dir, "evil2.txt")));
    }
    // A link arrives as a plain file holding its target's name; the helpers are the grader's.
    const printed = await printedBy("zip-slip");
    assert.match(printed, /^passwd-link: \/etc\/passwd$/m);
    assert.match(printed, /^key-link: \.\.\/\.\.\/\.\.\/release\/key\/vectors\.key\.json$/m);
    assert.doesNotMatch(printed, /root:/);
  },
);

Deno.test(V + "feedback pages keep student HTML inert", async () => {
  await expectGrade("xss", { status: "graded", total: 5, reason: /^all 3 tests passed$/ });
  const html = await Deno.readTextFile(join((await batch).out, "feedback/xss.html"));
  assert.match(
    html,
    /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'none'/,
  );
  assert.doesNotMatch(html, /<script(?![^>]*type="application\/json")/i);
  assert.doesNotMatch(html, /<(iframe|form|base|object|embed)\b/i);
  assert.doesNotMatch(html, /<meta[^>]*http-equiv="refresh"/i);
  assert.doesNotMatch(html, /<[a-z][^>]*\son[a-z]+\s*=/i, "no event handler attributes");
  assert.doesNotMatch(html, /href="javascript:/i);
  assert.equal(html.match(/class="cl-grade-verdict cl-grade-pass"/g)?.length, 3);
});

// Last in the file: it also removes the batch's temporary folder.
Deno.test(V + "the batch grades every student and writes every report", async () => {
  const { grades, out } = await batch;
  try {
    assert.equal(grades.students.length, 15);
    assert.deepEqual(
      Object.fromEntries(
        ["graded", "crashed", "timeout", "invalid-notebook"].map((status) => [
          status,
          grades.students.filter((s) => s.status === status).length,
        ]),
      ),
      { graded: 10, crashed: 3, timeout: 1, "invalid-notebook": 1 },
    );
    const csv = (await Deno.readTextFile(join(out, "grades.csv"))).split("\n");
    assert.equal(csv[0], "student,total,max,scale-test,dot-test,total-test,status,tampered,reason");
    assert.match(
      csv.find((l) => l.startsWith("redefines-locked,"))!,
      /^redefines-locked,0,5,0,0,0,graded,,/,
    );
    for (const s of grades.students) assert.ok(!s.reason.includes("\n"), s.reason);
  } finally {
    await Deno.remove((await batch).dir, { recursive: true });
  }
});
