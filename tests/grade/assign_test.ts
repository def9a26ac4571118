import assert from "node:assert/strict";
import { join } from "node:path";
import { readNotebook, writeNotebook } from "../../kernel/notebook.ts";
import {
  AssignmentError,
  importedModules,
  makeRelease,
  releaseAssignment,
} from "../../kernel/grade/assign.ts";
import { readGradingKey } from "../../kernel/grade/key.ts";
import { cellChecksum } from "../../kernel/grade/nbgrader.ts";
import { parseMarkers, studentSource } from "../../kernel/grade/markers.ts";
import { formatProblem, validateAssignment } from "../../kernel/grade/validate.ts";
import { main as assignMain } from "../../kernel/grade/assign_cli.ts";
import { code, markdown, miniAssignment, notebook } from "./_helpers.ts";

Deno.test("makeRelease() stubs solutions, removes hidden tests and keeps them in the key", async () => {
  const { student, key } = await makeRelease(miniAssignment(), { notebook: "mini.ipynb" });
  const answer = student.cells[2].source;
  assert.match(answer, /throw new Error\("Not implemented yet"\);/);
  assert.doesNotMatch(answer, /return 2 \* x/);
  assert.doesNotMatch(JSON.stringify(student), /BEGIN|END SOLUTION|double\(-3\)/);
  const test = key.cells.find((c) => c.gradeId === "double-test")!;
  assert.match(test.source, /assertEquals\(double\(-3\), -6\);/);
  assert.doesNotMatch(test.source, /HIDDEN TESTS/);
  assert.equal(test.studentSource, "assertEquals(double(2), 4);");
  assert.equal(test.hiddenTestLines, 1);
  assert.equal(key.totalPoints, 2);
  assert.deepEqual(key.preload, ["convlab/testing"]);
});

Deno.test("makeRelease() records checksums of locked and test cells in both copies", async () => {
  const { student, key } = await makeRelease(miniAssignment(), { notebook: "mini.ipynb" });
  for (const i of [1, 3]) {
    const sum = await cellChecksum(student.cells[i]);
    assert.equal(key.cells[i].checksum, sum);
    assert.equal((student.cells[i].metadata.nbgrader as { checksum: string }).checksum, sum);
  }
  assert.equal(key.cells[2].checksum, undefined);
});

Deno.test("makeRelease() leaves the source notebook unchanged", async () => {
  const source = miniAssignment();
  const before = JSON.stringify(source);
  await makeRelease(source, { notebook: "mini.ipynb" });
  assert.equal(JSON.stringify(source), before);
});

Deno.test("makeRelease() replaces a solution cell without markers entirely", async () => {
  const nb = notebook([
    code("const answer = 42;", { solution: true, grade: false, grade_id: "a" }),
    markdown("It is **42**.", { solution: true, grade: true, points: 1, grade_id: "m" }),
    code("if (answer !== 42) throw new Error();", { grade: true, points: 1, grade_id: "t" }),
  ]);
  const { student, problems } = await makeRelease(nb);
  assert.equal(
    student.cells[0].source,
    '// YOUR CODE HERE\nthrow new Error("Not implemented yet");',
  );
  assert.equal(student.cells[1].source, "YOUR ANSWER HERE");
  assert.ok(problems.some((p) => p.cell === 1 && /replaced by the stub/.test(p.message)));
});

Deno.test("validateAssignment() names missing and duplicate grade_ids, points and markers by cell", () => {
  const nb = notebook([
    code("// BEGIN SOLUTION\nx = 1;", { solution: true, grade_id: "a" }),
    code("check();", { grade: true, grade_id: "a" }),
    code("check();", { grade: true, points: -1, grade_id: "bad id" }),
    code("y();", { locked: true }),
    code("// BEGIN SOLUTION\nsecret();\n// END SOLUTION"),
    code("// BEGIN HIDDEN TESTS\nh();\n// END HIDDEN TESTS", { solution: true, grade_id: "h" }),
    code("// END SOLUTION"),
  ]);
  const lines = validateAssignment(nb).filter((p) => p.severity === "error").map((p) =>
    formatProblem(p, "a.ipynb")
  );
  const expect = [
    /^error: a\.ipynb cell 1 \(grade_id a\) line 1: \/\/ BEGIN SOLUTION has no \/\/ END SOLUTION$/,
    /cell 2 \(grade_id a\): test cell has no points/,
    /cell 2 \(grade_id a\): duplicate grade_id: cell 1 has it too/,
    /cell 3 \(grade_id bad id\): grade_id "bad id" may use only letters/,
    /cell 3 \(grade_id bad id\): test cell points must be a positive number, got -1/,
    /cell 4: has nbgrader metadata but no grade_id/,
    /cell 5 line 1: \/\/ BEGIN SOLUTION in a cell that is not an answer cell/,
    /cell 6 \(grade_id h\) line 1: \/\/ BEGIN HIDDEN TESTS in a cell that is not a test cell/,
    /cell 7 line 1: \/\/ END SOLUTION without a matching BEGIN/,
  ];
  for (const re of expect) {
    assert.ok(lines.some((l) => re.test(l)), `${re} not in:\n${lines.join("\n")}`);
  }
  assert.equal(lines.length, expect.length, lines.join("\n"));
});

Deno.test("validateAssignment() refuses near-miss markers that would release hidden tests", () => {
  const nb = notebook([
    code("t();\n// BEGIN HIDDEN TEST\nh();\n// END HIDDEN TEST", {
      grade: true,
      points: 1,
      grade_id: "t",
    }),
    code("f() {\n  ### BEGIN SOLUTION\n  return 1;\n  ### END SOLUTION\n}", {
      solution: true,
      grade_id: "f",
    }),
    code("u();\n/* BEGIN HIDDEN TESTS */\nh();\n// end hidden tests", {
      grade: true,
      points: 1,
      grade_id: "u",
    }),
    code(
      "// The hidden tests begin here, after the visible ones\nv();\n//BEGIN HIDDEN TESTS\nh();\n//END HIDDEN TESTS",
      {
        grade: true,
        points: 1,
        grade_id: "v",
      },
    ),
  ]);
  const problems = validateAssignment(nb);
  assert.deepEqual(
    problems.map((p) => `${p.severity} cell ${p.cell} line ${p.line}: ${p.message}`),
    [
      'error cell 1 line 2: "// BEGIN HIDDEN TEST" looks like a marker but is not one: write // BEGIN HIDDEN TESTS alone on its line',
      'error cell 1 line 4: "// END HIDDEN TEST" looks like a marker but is not one: write // END HIDDEN TESTS alone on its line',
      'error cell 2 line 2: "### BEGIN SOLUTION" looks like a marker but is not one: write // BEGIN SOLUTION alone on its line',
      'error cell 2 line 4: "### END SOLUTION" looks like a marker but is not one: write // END SOLUTION alone on its line',
      'error cell 3 line 2: "/* BEGIN HIDDEN TESTS */" looks like a marker but is not one: write // BEGIN HIDDEN TESTS alone on its line',
      'error cell 3 line 4: "// end hidden tests" looks like a marker but is not one: write // END HIDDEN TESTS alone on its line',
    ],
  );
});

Deno.test("makeRelease() refuses a source with errors and says where", async () => {
  const nb = notebook([code("t();", { grade: true, grade_id: "t" })]);
  await assert.rejects(
    () => makeRelease(nb, { notebook: "x.ipynb" }),
    (e) =>
      e instanceof AssignmentError &&
      /x\.ipynb: 1 problem block the release:\n.*cell 1 \(grade_id t\): test cell has no points/
        .test(e.message),
  );
});

Deno.test("parseMarkers() rejects nesting and mismatched ends; studentSource() keeps indentation", () => {
  assert.deepEqual(
    parseMarkers("// BEGIN SOLUTION\n// BEGIN HIDDEN TESTS\n// END HIDDEN TESTS\n// END SOLUTION")
      .problems.map((p) => p.line),
    [2, 3],
  );
  assert.equal(
    studentSource("f() {\n    // BEGIN SOLUTION\n    return 1;\n    // END SOLUTION\n}"),
    'f() {\n    // YOUR CODE HERE\n    throw new Error("Not implemented yet");\n}',
  );
});

Deno.test("importedModules() finds bare, node: and npm: specifiers but not relative ones", () => {
  assert.deepEqual(
    importedModules(
      `import * as cl from "convlab";\nimport { a } from './x.ts';\nconst m = await import("node:assert/strict");\nimport "npm:left-pad@1";`,
    ).sort(),
    ["convlab", "node:assert/strict", "npm:left-pad@1"],
  );
});

Deno.test("releaseAssignment() writes student/ and key/ apart, atomically, with support files", async () => {
  const dir = await Deno.makeTempDir({ prefix: "convlab-assign-" });
  try {
    const src = join(dir, "src");
    await Deno.mkdir(src);
    const nb = miniAssignment();
    nb.metadata.convlab = { files: ["data.txt"], grade: { timeout: 5 } };
    await writeNotebook(join(src, "mini.ipynb"), nb);
    await Deno.writeTextFile(join(src, "data.txt"), "42");
    const out = join(dir, "release");
    const result = await releaseAssignment(join(src, "mini.ipynb"), { out });
    const released = await readNotebook(join(out, "student", "mini.ipynb"));
    assert.equal(released.metadata.convlab, undefined, "grading settings are not released");
    assert.equal(await Deno.readTextFile(join(out, "student", "data.txt")), "42");
    const { key } = await readGradingKey(out);
    assert.equal(key.settings.timeout, 5);
    assert.deepEqual(key.files, ["data.txt"]);
    assert.equal(result.keyFile, join(out, "key", "mini.key.json"));
    const names = [...Deno.readDirSync(join(out, "student"))].map((e) => e.name).sort();
    assert.deepEqual(
      names,
      ["data.txt", "mini.ipynb"],
      "no temp files, no key among student files",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("assign CLI exits 1 listing problems with cell numbers, and writes nothing", async () => {
  const dir = await Deno.makeTempDir({ prefix: "convlab-assign-" });
  try {
    const nb = notebook([code("t();", { grade: true, grade_id: "t" })]);
    await writeNotebook(join(dir, "bad.ipynb"), nb);
    const errors: string[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => errors.push(args.join(" "));
    let status;
    try {
      status = await assignMain([join(dir, "bad.ipynb"), "--out", join(dir, "release")]);
    } finally {
      console.error = original;
    }
    assert.equal(status, 1);
    assert.match(errors.join("\n"), /cell 1 \(grade_id t\): test cell has no points/);
    await assert.rejects(() => Deno.stat(join(dir, "release")));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
