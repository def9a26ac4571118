/**
 * `deno task bench lessons [--smoke] [--only 02,03] [--out dir] [--timeout s]`
 *
 * Runs every lesson (`lessons/*.ipynb`) in Convlab's kernel in its FULL setting (the defaults of
 * its `parameters` cell; `--smoke` uses `metadata.convlab.smoke` instead) and prints, per lesson,
 * the wall time, the CPU time of the kernel process (less sensitive to other jobs on a shared
 * machine than wall time), the machine's load average, and the headline numbers the lesson shows
 * with `cl.results(...)`. Executed copies and `summary.json` go to `build/bench-lessons/`
 * (git-ignored); the last lines are Markdown rows for the README's lessons table.
 */
import { parseArgs } from "node:util";
import { basename, join } from "node:path";
import { smokeParameters } from "../../kernel/course.ts";
import { executeNotebook } from "../../kernel/execute.ts";
import { readNotebook, writeNotebook } from "../../kernel/notebook.ts";
import { errorOutputs, lessonPaths, lessonResults, ROOT } from "../lessons/_lessons.ts";

/** One lesson's measurement. */
interface LessonRun {
  lesson: string;
  setting: "full" | "smoke";
  ok: boolean;
  failure?: string;
  wallSeconds: number;
  /** User + system CPU seconds of the kernel process (undefined where /proc is unavailable). */
  cpuSeconds?: number;
  loadBefore?: number;
  loadAfter?: number;
  results: Record<string, number | string | null>;
}

/** 1-minute load average, where Linux tells it. */
function loadAverage(): number | undefined {
  try {
    return Number(Deno.readTextFileSync("/proc/loadavg").split(" ")[0]);
  } catch {
    return undefined;
  }
}

/** CPU seconds (user + system) a live process has used, from /proc/<pid>/stat. */
function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // Fields after the ")" that closes the command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]);
    return ticks / 100; // USER_HZ is 100 on Linux
  } catch {
    return undefined;
  }
}

function formatValue(value: number | string | null): string {
  if (value === null) return "NaN";
  if (typeof value === "string") return value;
  if (Number.isInteger(value)) return String(value);
  return value > 0 && value <= 1 ? `${(100 * value).toFixed(2)} %` : value.toPrecision(4);
}

function minutes(seconds: number): string {
  return seconds < 90 ? `${seconds.toFixed(0)} s` : `${(seconds / 60).toFixed(1)} min`;
}

async function runLesson(
  path: string,
  setting: "full" | "smoke",
  outDir: string,
  timeout: number,
): Promise<LessonRun> {
  const nb = await readNotebook(path);
  const parameters = setting === "smoke" ? smokeParameters(nb) : undefined;
  let pid: number | undefined;
  let cpu: number | undefined;
  const loadBefore = loadAverage();
  const started = performance.now();
  const result = await executeNotebook(nb, {
    path,
    parameters,
    timeout,
    onProgress: (event) => {
      if (event.type === "kernel") pid = event.pid;
      if (event.type === "cell-end" && pid !== undefined) cpu = cpuSeconds(pid) ?? cpu;
      if (event.type === "cell-end" && event.durationMs > 30_000) {
        console.log(
          `  ${basename(path)}: cell ${event.cell} took ${(event.durationMs / 1000).toFixed(0)} s`,
        );
      }
    },
  });
  const wallSeconds = (performance.now() - started) / 1000;
  await Deno.mkdir(outDir, { recursive: true });
  await writeNotebook(join(outDir, basename(path)), result.notebook);
  const problems = errorOutputs(result.notebook);
  const results: LessonRun["results"] = {};
  for (const table of lessonResults(result.notebook)) Object.assign(results, table.metrics);
  return {
    lesson: basename(path),
    setting,
    ok: result.ok && problems.length === 0,
    ...(problems.length ? { failure: `cell ${problems[0].cell}: ${problems[0].message}` } : {}),
    wallSeconds,
    cpuSeconds: cpu,
    loadBefore,
    loadAfter: loadAverage(),
    results,
  };
}

export default async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      smoke: { type: "boolean" },
      only: { type: "string" },
      out: { type: "string" },
      timeout: { type: "string" },
    },
  });
  const setting = values.smoke ? "smoke" : "full";
  const only = values.only?.split(",").map((s) => s.trim()).filter(Boolean);
  const outDir = values.out ?? join(ROOT, "build", "bench-lessons");
  const timeout = Number(values.timeout ?? 7200);
  const paths = lessonPaths().filter((p) => !only || only.some((o) => basename(p).startsWith(o)));
  if (paths.length === 0) throw new Error(`No lessons match --only ${values.only}`);
  console.log(
    `Running ${paths.length} lesson(s) in the ${setting} setting; ${Deno.build.os}, ` +
      `${navigator.hardwareConcurrency} cores, load average ${loadAverage() ?? "unknown"}`,
  );
  const runs: LessonRun[] = [];
  for (const path of paths) {
    console.log(`${basename(path)} …`);
    const run = await runLesson(path, setting, outDir, timeout);
    runs.push(run);
    const numbers = Object.entries(run.results).map(([k, v]) => `${k}: ${formatValue(v)}`);
    console.log(
      `${run.ok ? "ok    " : "FAILED"} ${run.lesson}  wall ${minutes(run.wallSeconds)}, ` +
        `kernel CPU ${run.cpuSeconds === undefined ? "?" : minutes(run.cpuSeconds)}, load ` +
        `${run.loadBefore ?? "?"} → ${run.loadAfter ?? "?"}${
          run.failure ? `\n       ${run.failure}` : ""
        }\n       ${numbers.join("; ") || "(no cl.results table)"}`,
    );
  }
  await Deno.writeTextFile(
    join(outDir, `summary-${setting}.json`),
    JSON.stringify({ date: new Date().toISOString(), setting, runs }, null, 2) + "\n",
  );
  console.log(`\nMarkdown rows (lesson | wall | kernel CPU | result):`);
  for (const run of runs) {
    const numbers = Object.entries(run.results).map(([k, v]) => `${k} ${formatValue(v)}`);
    console.log(
      `| ${run.lesson} | ${minutes(run.wallSeconds)} | ${
        run.cpuSeconds === undefined ? "?" : minutes(run.cpuSeconds)
      } | ${run.ok ? numbers.join("; ") : `FAILED: ${run.failure}`} |`,
    );
  }
  if (runs.some((r) => !r.ok)) Deno.exitCode = 1;
}
