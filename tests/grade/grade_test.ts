/**
 * The fixture submissions of both assignments, graded for real (sandboxed kernel sessions) and
 * checked one by one: status, score, tampered flag and reason. Both batches start when the module
 * loads and run side by side; each test waits for its batch.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { releaseAssignment } from "../../kernel/grade/assign.ts";
import { gradeAssignment, type GradeOptions } from "../../kernel/grade/grade.ts";
import type { GradesFile, SubmissionResult } from "../../kernel/grade/results.ts";
import { readNotebook } from "../../kernel/notebook.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const FIXTURES = join(ROOT, "tests/fixtures/grade");

interface Batch {
  dir: string;
  grades: GradesFile;
}

async function gradeFixtures(
  assignment: string,
  options: Partial<GradeOptions>,
): Promise<Batch> {
  const dir = await Deno.makeTempDir({ prefix: `convlab-grade-${assignment}-` });
  // release/ beside out/: a prying notebook in out/.work/<student>/ tries ../../../release/key.
  await releaseAssignment(join(ROOT, "lessons/assignments", `${assignment}.ipynb`), {
    out: join(dir, "release"),
  });
  const grades = await gradeAssignment({
    release: join(dir, "release"),
    submissions: join(FIXTURES, assignment),
    out: join(dir, "out"),
    jobs: 2,
    ...options,
  });
  return { dir, grades };
}

/** Every file under the fixtures with its bytes' hash, and the folders (empty ones too). */
async function fixtureDigest(): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string) => {
    for await (const e of Deno.readDir(dir)) {
      const path = join(dir, e.name);
      if (e.isDirectory) {
        out.push(`${path}/`);
        await walk(path);
      } else {
        const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(path));
        out.push(`${path} ${btoa(String.fromCharCode(...new Uint8Array(digest)))}`);
      }
    }
  };
  await walk(FIXTURES);
  return out.sort();
}
const fixturesBefore = fixtureDigest();

// Every fixture but the infinite loops ends on its own (done, crashed, or stopped by a memory
// limit), so their batches get time limits that leave room for a loaded machine and cost nothing
// on an idle one. The infinite loops are graded apart, with a short limit: a busy loop burns a
// core until then, so the limit is most of what these tests cost (the cells before the loop take
// a few seconds at most, even on a loaded machine).
const imageFiltering = gradeFixtures("image_filtering", {
  students: [
    "full-marks",
    "partial",
    "wrong",
    "syntax-error",
    "memory-bomb",
    "exit-midway",
    "buffer-bomb",
    "edited-test",
    "deleted-test",
    "missing-answer",
    "hostile-helpers",
    "sneaky-errors",
    "prying",
    "huge-output",
    "invalid-json",
    "nbformat3",
    "empty-folder",
    "zipped",
  ],
  timeout: 240,
  notebookTimeout: 600,
  memoryMb: 512,
});
const imageFilteringLoop = gradeFixtures("image_filtering", {
  students: ["infinite-loop"],
  timeout: 15,
  notebookTimeout: 300,
  memoryMb: 512,
});
const digits = gradeFixtures("digits_cnn", {
  students: [
    "full-marks",
    "partial",
    "wrong",
    "syntax-error",
    "memory-bomb",
    "exit-midway",
    "edited-test",
    "deleted-test",
    "missing-answer",
    "hostile-helpers",
    "prying",
    "huge-output",
    "invalid-json",
    "nbformat3",
    "empty-folder",
  ],
  timeout: 240,
  notebookTimeout: 600,
  memoryMb: 1024,
});
const digitsLoop = gradeFixtures("digits_cnn", {
  students: ["infinite-loop"],
  timeout: 15,
  notebookTimeout: 300,
  memoryMb: 1024,
});

function student(batch: Batch, name: string): SubmissionResult {
  const found = batch.grades.students.find((s) => s.student === name);
  assert.ok(found, `${name} was not graded`);
  return found;
}

function expectGrade(
  batch: Promise<Batch>,
  name: string,
  expected: { status: string; total: number; tampered?: boolean; reason: RegExp },
) {
  return async () => {
    const s = student(await batch, name);
    const summary = `${s.status} ${s.total}/${s.max} tampered=${s.tampered}: ${s.reason}`;
    assert.equal(s.status, expected.status, summary);
    assert.equal(s.total, expected.total, summary);
    assert.equal(s.tampered, expected.tampered ?? false, summary);
    assert.match(s.reason, expected.reason, summary);
    assert.ok(!s.reason.includes("\n"), "the reason is one line");
  };
}

const A1 = "image_filtering: ";

Deno.test(
  A1 + "full marks: 10/10, graded",
  expectGrade(imageFiltering, "full-marks", {
    status: "graded",
    total: 10,
    reason: /^all 4 tests passed$/,
  }),
);

Deno.test(
  A1 + "partial (zero-padded blur) loses the blur points to hidden tests",
  expectGrade(imageFiltering, "partial", {
    status: "graded",
    total: 7,
    reason:
      /3 of 4 tests passed; first failure: blur-test: AssertionError: boxBlur\(\) of a 9×11 image with size 3/,
  }),
);

Deno.test(
  A1 + "wrong answers earn nothing",
  expectGrade(imageFiltering, "wrong", {
    status: "graded",
    total: 0,
    reason:
      /0 of 4 tests passed; first failure: halve-test: AssertionError: halve\(\) of a 2×2 image/,
  }),
);

Deno.test(
  A1 + "a syntax error fails only its question",
  expectGrade(imageFiltering, "syntax-error", {
    status: "graded",
    total: 8,
    reason: /first failure: halve-test: ReferenceError: halve is not defined/,
  }),
);

Deno.test(
  A1 + "an infinite loop times out; the other questions count",
  expectGrade(imageFilteringLoop, "infinite-loop", {
    status: "timeout",
    total: 7,
    reason:
      /^test cell "sobel-test" \(cell \d+\) ran past the 15 s cell time limit and was stopped; 3 of 4 tests passed$/,
  }),
);

Deno.test(
  A1 + "a memory bomb crashes the session; tests after it earn nothing",
  expectGrade(imageFiltering, "memory-bomb", {
    status: "crashed",
    total: 4,
    reason:
      /the session died in answer cell "blur" \(cell \d+\): .*out of memory.*; 2 of 4 tests passed/,
  }),
);

Deno.test(
  A1 + "memory outside the V8 heap is stopped by the resident-memory watchdog",
  expectGrade(imageFiltering, "buffer-bomb", {
    status: "crashed",
    total: 4,
    reason:
      /^the session died in answer cell "blur" \(cell \d+\): it used more than 1024 MiB of memory \(\d+ MiB resident\) and was stopped; 2 of 4 tests passed$/,
  }),
);

Deno.test(
  A1 + "Deno.exit(0) midway is a crash, not a pass",
  expectGrade(imageFiltering, "exit-midway", {
    status: "crashed",
    total: 4,
    reason:
      /the session died in answer cell "blur" \(cell \d+\): Deno\.exit\(0\) was called; 2 of 4 tests passed/,
  }),
);

Deno.test(
  A1 + "a test cell edited to `// nothing` is restored and flagged",
  expectGrade(imageFiltering, "edited-test", {
    status: "graded",
    total: 8,
    tampered: true,
    reason:
      /^3 of 4 tests passed; tampered: test cell "gray-test" \(cell \d+\) was edited; the original was restored; first failure: gray-test: AssertionError: toGray\(\)/,
  }),
);

Deno.test(
  A1 + "a deleted test cell is re-added from the key and flagged",
  expectGrade(imageFiltering, "deleted-test", {
    status: "graded",
    total: 7,
    tampered: true,
    reason:
      /^3 of 4 tests passed; tampered: test cell "sobel-test" was deleted \(or its grade_id changed\); it was restored from the key; first failure: sobel-test: AssertionError: sobelX\(\)/,
  }),
);

Deno.test(
  A1 + "a deleted answer cell is reported missing",
  expectGrade(imageFiltering, "missing-answer", {
    status: "missing-cells",
    total: 2,
    reason:
      /^answer cell "gray" is missing \(deleted, or the grade_id changed\); 1 of 4 tests passed$/,
  }),
);

/** A hostile submission earns nothing and every one of its attacks was blocked. */
function expectAttacksBlocked(batch: Promise<Batch>, attacks: number) {
  return async () => {
    await expectGrade(batch, "hostile-helpers", {
      status: "graded",
      total: 0,
      reason: /0 of 4 tests passed/,
    })();
    const printed = await printedBy(await batch, "hostile-helpers");
    assert.doesNotMatch(printed, /attack went through/);
    assert.equal(printed.match(/attack blocked/g)?.length, attacks, printed);
  };
}

/** Everything a graded submission printed. */
async function printedBy(batch: Batch, name: string): Promise<string> {
  const executed = await readNotebook(join(batch.dir, `out/executed/${name}.ipynb`));
  return executed.cells.flatMap((c) => c.cell_type === "code" ? c.outputs : [])
    .map((o) => o.output_type === "stream" ? o.text : "").join("");
}

Deno.test(
  A1 + "redefining assertion helpers and built-ins earns nothing",
  expectAttacksBlocked(imageFiltering, 12),
);

Deno.test(
  A1 + "a prying student reads nothing outside the sandbox, and still earns its points",
  async () => {
    const batch = await imageFiltering;
    await expectGrade(imageFiltering, "prying", {
      status: "graded",
      total: 10,
      reason: /^all 4/,
    })();
    const printed = await printedBy(batch, "prying");
    for (
      const what of [
        "etc-passwd",
        "grading-key",
        "other-students",
        "grading-folders",
        "environment",
        "home",
        "spawn-sh",
        "ffi",
        "hostname",
        "write-outside",
        "network",
        "dynamic-import-remote",
      ]
    ) {
      assert.match(
        printed,
        new RegExp(`^${what}: denied \\((NotCapable|PermissionDenied|TypeError)\\)$`, "m"),
        printed,
      );
    }
    assert.doesNotMatch(printed, /GOT/);
    await assert.rejects(() => Deno.stat("/tmp/convlab-pwned.txt"));
  },
);

Deno.test(A1 + "50 MB of output is capped and the answers still count", async () => {
  const batch = await imageFiltering;
  await expectGrade(imageFiltering, "huge-output", {
    status: "graded",
    total: 10,
    reason: /^all 4/,
  })();
  const size = (await Deno.stat(join(batch.dir, "out/executed/huge-output.ipynb"))).size;
  assert.ok(size < 5 * 1024 * 1024, `executed notebook is ${size} bytes`);
});

Deno.test(
  A1 + "invalid JSON is an invalid notebook, with line and column",
  expectGrade(imageFiltering, "invalid-json", {
    status: "invalid-notebook",
    total: 0,
    reason: /^image_filtering\.ipynb: line \d+ column \d+: not valid JSON/,
  }),
);

Deno.test(
  A1 + "an nbformat 3 file is an invalid notebook that says how to convert it",
  expectGrade(imageFiltering, "nbformat3", {
    status: "invalid-notebook",
    total: 0,
    reason:
      /nbformat 3 is not supported: convert it with `jupyter nbconvert --to notebook --nbformat 4`/,
  }),
);

Deno.test(
  A1 + "an empty folder is an invalid notebook",
  expectGrade(imageFiltering, "empty-folder", {
    status: "invalid-notebook",
    total: 0,
    reason: /^the submission is empty \(expected image_filtering\.ipynb\)$/,
  }),
);

Deno.test(
  A1 + "a .zip submission grades like a folder",
  expectGrade(imageFiltering, "zipped", {
    status: "graded",
    total: 10,
    reason: /^all 4 tests passed$/,
  }),
);

Deno.test(A1 + "the batch writes every report, and feedback pages are sanitised", async () => {
  const batch = await imageFiltering;
  const out = join(batch.dir, "out");
  assert.equal(batch.grades.students.length, 18);
  const csv = await Deno.readTextFile(join(out, "grades.csv"));
  assert.match(
    csv.split("\n")[0],
    /^student,total,max,halve-test,gray-test,blur-test,sobel-test,status,tampered,reason$/,
  );
  assert.match(csv, /^full-marks,10,10,2,2,3,3,graded,,all 4 tests passed$/m);
  const canvas = await Deno.readTextFile(join(out, "grades_canvas.csv"));
  assert.match(canvas, /^ {4}Points Possible,,,,,10$/m);
  assert.match(canvas, /^partial,,,partial,,7$/m);
  const json = JSON.parse(await Deno.readTextFile(join(out, "grades.json")));
  const hidden = json.students.find((s: SubmissionResult) => s.student === "partial").tests
    .find((t: { gradeId: string }) => t.gradeId === "blur-test");
  assert.equal(hidden.passed, false);
  assert.equal(hidden.hidden, true);
  assert.equal(typeof hidden.duration, "number");
  const summary = await Deno.readTextFile(join(out, "summary.html"));
  assert.match(summary, /image_filtering — grades/);
  assert.match(summary, /<svg[^>]*aria-label="score histogram"/);
  const feedback = await Deno.readTextFile(join(out, "feedback/partial.html"));
  assert.match(feedback, /7 \/ 10 points/);
  assert.match(feedback, /✗ blur-test: 0 \/ 3 points, failed/);
  assert.match(feedback, /lines of hidden tests ran here/);
  assert.doesNotMatch(feedback, /reflect101 = /, "hidden test code is not shown");
  for (const name of batch.grades.students.filter((s) => s.feedback).map((s) => s.student)) {
    const html = await Deno.readTextFile(join(out, `feedback/${name}.html`));
    assert.doesNotMatch(html, /<script(?![^>]*type="application\/json")[^>]*>[^<]*(alert|fetch)/i);
  }
  const left = [...Deno.readDirSync(out)].map((e) => e.name).sort();
  assert.deepEqual(left, [
    ".cache",
    "executed",
    "feedback",
    "grades.csv",
    "grades.json",
    "grades_canvas.csv",
    "summary.html",
  ]);
});

const A2 = "digits_cnn: ";

Deno.test(
  A2 + "full marks: the trained, saved model passes the held-out accuracy test",
  expectGrade(digits, "full-marks", {
    status: "graded",
    total: 10,
    reason: /^all 4 tests passed$/,
  }),
);

Deno.test(
  A2 + "partial (trained on 64 digits) fails only the accuracy test",
  expectGrade(digits, "partial", {
    status: "graded",
    total: 7,
    reason:
      /^3 of 4 tests passed; first failure: accuracy-test: AssertionError: best validation accuracy 0\.\d+ is below 0\.8$/,
  }),
);

Deno.test(
  A2 + "a dense network instead of the CNN earns nothing",
  expectGrade(digits, "wrong", {
    status: "graded",
    total: 0,
    reason:
      /^0 of 4 tests passed; first failure: model-test: AssertionError: layer types, in order: value: length 3, expected 7$/,
  }),
);

Deno.test(
  A2 + "a syntax error in the training cell fails the questions after it",
  expectGrade(digits, "syntax-error", {
    status: "graded",
    total: 3,
    reason:
      /^1 of 4 tests passed; first failure: train-test: ReferenceError: earlyStopping is not defined$/,
  }),
);

Deno.test(
  A2 + "an infinite loop in training times out",
  expectGrade(digitsLoop, "infinite-loop", {
    status: "timeout",
    total: 3,
    reason:
      /^answer cell "train" \(cell \d+\) ran past the 15 s cell time limit and was stopped; 1 of 4 tests passed$/,
  }),
);

Deno.test(
  A2 + "a memory bomb crashes the session",
  expectGrade(digits, "memory-bomb", {
    status: "crashed",
    total: 3,
    reason:
      /^the session died in answer cell "train" \(cell \d+\): .*(out of memory|MiB of memory).*; 1 of 4 tests passed$/,
  }),
);

Deno.test(
  A2 + "Deno.exit(0) in training is a crash",
  expectGrade(digits, "exit-midway", {
    status: "crashed",
    total: 3,
    reason: /Deno\.exit\(0\) was called; 1 of 4 tests passed$/,
  }),
);

Deno.test(
  A2 + "an edited architecture test is restored: the wrong model still fails",
  expectGrade(digits, "edited-test", {
    status: "graded",
    total: 0,
    tampered: true,
    reason: /tampered: test cell "model-test" \(cell \d+\) was edited/,
  }),
);

Deno.test(
  A2 + "a deleted settings test is restored and flagged",
  expectGrade(digits, "deleted-test", {
    status: "graded",
    total: 3,
    tampered: true,
    reason: /tampered: test cell "train-test" was deleted/,
  }),
);

Deno.test(
  A2 + "a deleted answer cell is reported missing",
  expectGrade(digits, "missing-answer", {
    status: "missing-cells",
    total: 0,
    reason: /^answer cell "model" is missing/,
  }),
);

Deno.test(
  A2 + "redefining helpers, prototypes and lib functions earns nothing",
  expectAttacksBlocked(digits, 10),
);

Deno.test(A2 + "a prying student is denied everything and keeps the points it earned", async () => {
  const batch = await digits;
  await expectGrade(digits, "prying", {
    status: "graded",
    total: 3,
    reason: /^1 of 4 tests passed/,
  })();
  const printed = await printedBy(batch, "prying");
  assert.equal(printed.match(/: denied \(/g)?.length, 12, printed);
  assert.doesNotMatch(printed, /GOT/);
});

Deno.test(
  A2 + "50 MB of output is capped",
  expectGrade(digits, "huge-output", {
    status: "graded",
    total: 3,
    reason: /^1 of 4 tests passed/,
  }),
);

Deno.test(A2 + "invalid JSON, nbformat 3 and an empty folder are invalid notebooks", async () => {
  for (
    const [name, reason] of [
      ["invalid-json", /^digits_cnn\.ipynb: line \d+ column \d+: not valid JSON/],
      ["nbformat3", /^digits_cnn\.ipynb: nbformat 3 is not supported/],
      ["empty-folder", /^the submission is empty/],
    ] as const
  ) {
    await expectGrade(digits, name, { status: "invalid-notebook", total: 0, reason })();
  }
});

// Last in the file: it also removes the batches' temporary folders.
Deno.test("grading never modifies a submission (fixtures byte-identical before and after)", async () => {
  const batches = await Promise.all([imageFiltering, imageFilteringLoop, digits, digitsLoop]);
  try {
    assert.deepEqual(await fixtureDigest(), await fixturesBefore);
  } finally {
    for (const batch of batches) await Deno.remove(batch.dir, { recursive: true });
  }
});
