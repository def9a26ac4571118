/**
 * `deno task assign <source.ipynb> --out <release-dir> [--file <name>]... [--check]`
 *
 * Validates an instructor's source notebook and releases it: the student notebook (and support
 * files) in `<release-dir>/student/`, the grading key in `<release-dir>/key/` (never give that to
 * students). `--check` only validates. Exit status: 0 released (or valid), 1 problems, 2 usage.
 *
 * @module
 */
import { relative } from "node:path";
import { NotebookFormatError, readNotebook } from "../notebook.ts";
import { AssignmentError, releaseAssignment } from "./assign.ts";
import { parseCommandLine } from "./command_line.ts";
import { formatProblem, validateAssignment } from "./validate.ts";

const USAGE = `usage: deno task assign <source.ipynb> --out <release-dir> [options]

Release an nbgrader-style source notebook as a student notebook plus a grading key.

options:
  --out <dir>        release folder: student/ (give to students) and key/ (keep private)
  --file <name>      support file beside the source to release with it (repeatable)
  --name <name>      assignment name (default: the notebook's file name without .ipynb)
  --check            validate only; write nothing
  -h, --help         this help`;

/** Run the assign command; returns the exit status. */
export async function main(args: string[]): Promise<number> {
  const parsed = parseCommandLine(args, {
    out: { type: "string" },
    file: { type: "string", multiple: true },
    name: { type: "string" },
    check: { type: "boolean" },
  }, USAGE);
  if (typeof parsed === "number") return parsed;
  const { values, positionals } = parsed;
  if (positionals.length !== 1 || (!values.check && !values.out)) {
    console.error(
      positionals.length !== 1
        ? `expected one source notebook, got ${positionals.length}\n\n${USAGE}`
        : `--out <release-dir> is required (or --check)\n\n${USAGE}`,
    );
    return 2;
  }
  const source = positionals[0];
  try {
    if (values.check) {
      const problems = validateAssignment(await readNotebook(source));
      for (const p of problems) console.log(formatProblem(p, source));
      const errors = problems.filter((p) => p.severity === "error").length;
      console.log(errors ? `${source}: ${errors} error(s)` : `${source}: ready to release`);
      return errors ? 1 : 0;
    }
    const result = await releaseAssignment(source, {
      out: values.out!,
      files: values.file,
      assignment: values.name,
    });
    for (const p of result.problems) console.log(formatProblem(p, source));
    const tests = result.key.cells.filter((c) => c.role === "test");
    const hidden = tests.filter((c) => (c.hiddenTestLines ?? 0) > 0).length;
    const rel = (p: string) => relative(Deno.cwd(), p) || ".";
    console.log(
      `released ${result.key.assignment}: ${tests.length} test cells (${hidden} with hidden ` +
        `tests), ${result.key.totalPoints} points`,
    );
    console.log(`  for students: ${rel(result.studentNotebook)}`);
    for (const f of result.files) console.log(`                ${rel(f)}`);
    console.log(`  grader only:  ${rel(result.keyFile)}  (keep private)`);
    return 0;
  } catch (e) {
    if (e instanceof AssignmentError) {
      console.error(e.message);
      return 1;
    }
    if (e instanceof NotebookFormatError) {
      console.error(e.message);
      return 1;
    }
    throw e;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
