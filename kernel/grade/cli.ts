/**
 * `deno task grade <release-dir> <submissions-dir> --out <grades-dir> [options]`
 * `deno task grade merge <grades-dir>... --out <grades-dir>`
 *
 * Exit status: 0 when every submission was graded (whatever its score and status), 1 when the
 * batch could not run, 2 for a usage error.
 *
 * @module
 */
import { GRADE_DEFAULTS, gradeAssignment, GradeError, shown } from "./grade.ts";
import { parseCommandLine } from "./command_line.ts";
import { MergeError, mergeGrades } from "./merge.ts";
import { formatPoints } from "./results.ts";
import { parseShard, type Shard } from "./submissions.ts";

const USAGE = `usage: deno task grade <release-dir> <submissions-dir> --out <grades-dir> [options]
       deno task grade merge <grades-dir>... --out <grades-dir>

Autograde notebook submissions (one folder or .zip per student) in sandboxed sessions.

options:
  --out <dir>               where grades.csv, grades_canvas.csv, grades.json, summary.html and
                            feedback/<student>.html go (required)
  --jobs <n>                sessions at once (default: CPU cores, ${navigator.hardwareConcurrency})
  --timeout <s>             per-cell time limit (default: the key's, else ${GRADE_DEFAULTS.timeout})
  --notebook-timeout <s>    whole-notebook time limit (default: the key's, else ${GRADE_DEFAULTS.notebookTimeout})
  --memory <MiB>            memory limit of a session (default: the key's, else ${GRADE_DEFAULTS.memoryMb})
  --shard <i/n>             grade shard i of n (1-based; combine shards with \`merge\`)
  --student <id>            grade only this student (repeatable)
  --force                   re-grade even when a cached result matches
  --canvas-column <title>   assignment column of grades_canvas.csv (default: assignment name)
  -q, --quiet               no line per submission
  -h, --help                this help`;

function positiveNumber(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) {
    throw new RangeError(`${name} must be a positive number, got ${JSON.stringify(text)}`);
  }
  return n;
}

/** Run the grade command; returns the exit status. */
export async function main(args: string[]): Promise<number> {
  const parsed = parseCommandLine(args, {
    out: { type: "string" },
    jobs: { type: "string" },
    timeout: { type: "string" },
    "notebook-timeout": { type: "string" },
    memory: { type: "string" },
    shard: { type: "string" },
    student: { type: "string", multiple: true },
    force: { type: "boolean" },
    "canvas-column": { type: "string" },
    quiet: { type: "boolean", short: "q" },
  }, USAGE);
  if (typeof parsed === "number") return parsed;
  const { values, positionals } = parsed;
  if (!values.out) {
    console.error(`--out <grades-dir> is required\n\n${USAGE}`);
    return 2;
  }
  if (positionals[0] === "merge") {
    try {
      const merged = await mergeGrades(positionals.slice(1), values.out, {
        canvasColumn: values["canvas-column"],
      });
      console.log(
        `merged ${positionals.length - 1} shard folders: ${merged.students.length} students → ${
          shown(values.out)
        }/grades.csv`,
      );
      return 0;
    } catch (e) {
      if (e instanceof MergeError) {
        console.error(e.message);
        return 1;
      }
      throw e;
    }
  }
  if (positionals.length !== 2) {
    console.error(
      `expected <release-dir> <submissions-dir>, got ${positionals.length} arguments\n\n${USAGE}`,
    );
    return 2;
  }
  let jobs, timeout, notebookTimeout, memoryMb, shard: Shard | undefined;
  try {
    jobs = positiveNumber("--jobs", values.jobs);
    if (jobs !== undefined && !Number.isInteger(jobs)) {
      throw new RangeError(`--jobs must be a whole number, got ${values.jobs}`);
    }
    timeout = positiveNumber("--timeout", values.timeout);
    notebookTimeout = positiveNumber("--notebook-timeout", values["notebook-timeout"]);
    memoryMb = positiveNumber("--memory", values.memory);
    shard = values.shard !== undefined ? parseShard(values.shard) : undefined;
  } catch (e) {
    console.error(`${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const controller = new AbortController();
  const onSignal = () => {
    console.error("interrupted: stopping the running sessions (finished results are kept)");
    controller.abort();
  };
  Deno.addSignalListener("SIGINT", onSignal);
  const started = performance.now();
  try {
    const grades = await gradeAssignment({
      release: positionals[0],
      submissions: positionals[1],
      out: values.out,
      jobs,
      timeout,
      notebookTimeout,
      memoryMb,
      shard,
      force: values.force,
      students: values.student,
      canvasColumn: values["canvas-column"],
      signal: controller.signal,
      onProgress: values.quiet ? undefined : ({ done, total, result }) => {
        const width = String(total).length;
        console.log(
          `[${String(done).padStart(width)}/${total}] ${result.student}  ${
            formatPoints(result.total)
          }/${formatPoints(result.max)}  ${result.status}${result.tampered ? " (tampered)" : ""}${
            result.cached ? "  (cached)" : `  ${result.seconds.toFixed(1)} s`
          }  ${result.status === "graded" && !result.tampered ? "" : result.reason}`.trimEnd(),
        );
      },
    });
    const seconds = (performance.now() - started) / 1000;
    const counts = new Map<string, number>();
    for (const s of grades.students) counts.set(s.status, (counts.get(s.status) ?? 0) + 1);
    console.log(
      `${grades.students.length} submissions in ${seconds.toFixed(1)} s (${
        [...counts].map(([k, v]) => `${v} ${k}`).join(", ") || "none"
      })${grades.shard ? `, shard ${grades.shard}` : ""} → ${shown(values.out)}/summary.html`,
    );
    for (const e of grades.skipped) console.log(`skipped ${e.name}: ${e.reason}`);
    return 0;
  } catch (e) {
    if (e instanceof GradeError) {
      console.error(e.message);
      return 1;
    }
    throw e;
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
