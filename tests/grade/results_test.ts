import assert from "node:assert/strict";
import {
  canvasCsv,
  gradesCsv,
  type GradesFile,
  type SubmissionResult,
} from "../../kernel/grade/results.ts";
import { summaryHtml } from "../../kernel/grade/summary.ts";
import { scoreRun } from "../../kernel/grade/score.ts";
import { makeRelease } from "../../kernel/grade/assign.ts";
import { prepareSubmission } from "../../kernel/grade/restore.ts";
import { miniAssignment } from "./_helpers.ts";

function result(student: string, total: number, reason: string): SubmissionResult {
  return {
    student,
    status: "graded",
    tampered: false,
    reason,
    total,
    max: 2,
    tests: [{
      gradeId: "double-test",
      points: total,
      maxPoints: 2,
      passed: total === 2,
      outcome: total === 2 ? "passed" : "failed",
      message: total === 2 ? "passed" : reason,
      duration: 0.1,
      hidden: true,
      cell: 4,
    }],
    submission: { path: `subs/${student}`, kind: "folder" },
    details: [],
    cached: false,
    seconds: 1,
    gradedAt: "2026-01-01T00:00:00.000Z",
    feedback: `feedback/${student}.html`,
  };
}

function grades(students: SubmissionResult[]): GradesFile {
  return {
    format: "convlab-grades",
    version: 1,
    assignment: "mini",
    keySha256: "ab".repeat(32),
    maxPoints: 2,
    questions: [{ gradeId: "double-test", points: 2, hidden: true }],
    settings: { timeout: 60, notebookTimeout: 600, memoryMb: 2048 },
    shard: null,
    generatedAt: "2026-01-01T00:00:00.000Z",
    students,
    skipped: [],
  };
}

Deno.test("grades.csv and the Canvas export escape formula-like cells from student ids and reasons", () => {
  const g = grades([
    result('=HYPERLINK("http://x")', 0, '+1 reasons, "quoted"'),
    result("ann", 2, "all 1 tests passed"),
  ]);
  const csv = gradesCsv(g);
  assert.equal(csv.split("\n")[0], "student,total,max,double-test,status,tampered,reason");
  assert.match(csv, /^"'=HYPERLINK\(""http:\/\/x""\)",0,2,0,graded,,"'\+1 reasons, ""quoted"""$/m);
  assert.match(csv, /^ann,2,2,2,graded,,all 1 tests passed$/m);
  const canvas = canvasCsv(g, "Assignment 1 (123)").split("\n");
  assert.equal(canvas[0], "Student,ID,SIS User ID,SIS Login ID,Section,Assignment 1 (123)");
  assert.equal(canvas[1], "    Points Possible,,,,,2");
  assert.equal(canvas[3], "ann,,,ann,,2");
});

Deno.test("summary.html escapes student text and shows the histogram and pass rates", () => {
  const html = summaryHtml(
    grades([
      result("<img src=x onerror=alert(1)>", 0, "<script>alert(1)</script>"),
      result("ann", 2, "ok"),
    ]),
  );
  assert.doesNotMatch(html, /<script>|<img src=x/);
  assert.match(html, /&lt;img src=x onerror=alert\(1\)&gt;/);
  assert.match(html, /<td class="num">1 \/ 2<\/td>/, "pass rate of the question");
  assert.equal((html.match(/<rect class="b"/g) ?? []).length, 3, "one bar per possible score 0..2");
});

Deno.test("scoreRun() awards points only to test cells that ran without error, decided per cell", async () => {
  const { student, key } = await makeRelease(miniAssignment(), { notebook: "mini.ipynb" });
  const prepared = await prepareSubmission(student, key);
  const limits = { timeout: 5, notebookTimeout: 60, memoryMb: 512 };
  const ok = scoreRun(prepared, {
    cells: prepared.cells.map(() => ({ status: "ok" as const })),
    limits,
  });
  assert.deepEqual([ok.status, ok.total, ok.reason], ["graded", 2, "all 1 tests passed"]);
  const crashedBefore = scoreRun(prepared, {
    cells: [{ status: "ok" }, { status: "ok" }, {
      status: "crashed",
      message: "Deno.exit(0) was called",
    }, {
      status: "ok",
    }],
    crashCause: "Deno.exit(0) was called",
    limits,
  });
  assert.equal(
    crashedBefore.total,
    0,
    "a test after the session died earns nothing, whatever it says",
  );
  assert.equal(crashedBefore.status, "crashed");
  const failing = scoreRun(prepared, {
    cells: [{ status: "ok" }, { status: "ok" }, { status: "ok" }, {
      status: "error",
      message: "AssertionError: no",
    }],
    limits,
  });
  assert.deepEqual([failing.total, failing.reason], [
    0,
    "0 of 1 tests passed; first failure: double-test: AssertionError: no",
  ]);
});
