/**
 * `deno task bench grade [--count 100] [--jobs 2]`: grade copies of assignment 1 (half full
 * marks, half partial) from a cold cache and print submissions per minute and peak memory (the
 * grader and its sessions together, and the largest single session). Target: at least 40
 * submissions per minute with `--jobs 2` on a 2-core machine.
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { releaseAssignment } from "../../kernel/grade/assign.ts";
import { gradeAssignment } from "../../kernel/grade/grade.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

async function rssMb(pid: number): Promise<number> {
  try {
    const status = await Deno.readTextFile(`/proc/${pid}/status`);
    return Number(status.match(/^VmRSS:\s+(\d+)/m)?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}

/** The grader's own process and every process below it, with their resident memory. */
async function processTree(root: number): Promise<Map<number, number>> {
  const parents = new Map<number, number>();
  for await (const e of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const stat = await Deno.readTextFile(`/proc/${e.name}/stat`);
      parents.set(Number(e.name), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      // Gone already.
    }
  }
  const tree = new Map<number, number>();
  const visit = async (pid: number) => {
    tree.set(pid, await rssMb(pid));
    for (const [child, parent] of parents) if (parent === pid) await visit(child);
  };
  await visit(root);
  return tree;
}

/** CPU seconds used so far by this process and its finished children (Linux `/proc`). */
async function cpuSeconds(): Promise<number> {
  const stat = await Deno.readTextFile("/proc/self/stat");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // utime, stime, cutime, cstime: fields 14–17 of the line, 12–15 after the name.
  const ticks = fields.slice(11, 15).reduce((sum, f) => sum + Number(f), 0);
  return ticks / 100;
}

export default async function bench(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { count: { type: "string", default: "100" }, jobs: { type: "string", default: "2" } },
  });
  const count = Number(values.count), jobs = Number(values.jobs);
  const dir = await Deno.makeTempDir({ prefix: "convlab-bench-grade-" });
  try {
    await releaseAssignment(join(ROOT, "lessons/assignments/image_filtering.ipynb"), {
      out: join(dir, "release"),
    });
    const fixtures = join(ROOT, "tests/fixtures/grade/image_filtering");
    const full = await Deno.readTextFile(join(fixtures, "full-marks/image_filtering.ipynb"));
    const partial = await Deno.readTextFile(join(fixtures, "partial/image_filtering.ipynb"));
    for (let i = 0; i < count; i++) {
      const student = join(dir, "submissions", `student-${String(i + 1).padStart(3, "0")}`);
      await Deno.mkdir(student, { recursive: true });
      await Deno.writeTextFile(join(student, "image_filtering.ipynb"), i % 2 ? partial : full);
    }
    let peakTotal = 0, peakSession = 0, sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const tree = await processTree(Deno.pid);
        let total = 0;
        for (const [pid, mb] of tree) {
          total += mb;
          if (pid !== Deno.pid) peakSession = Math.max(peakSession, mb);
        }
        peakTotal = Math.max(peakTotal, total);
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    const started = performance.now();
    const cpuBefore = await cpuSeconds();
    const grades = await gradeAssignment({
      release: join(dir, "release"),
      submissions: join(dir, "submissions"),
      out: join(dir, "out"),
      jobs,
    });
    const seconds = (performance.now() - started) / 1000;
    const cpu = (await cpuSeconds()) - cpuBefore;
    const cores = navigator.hardwareConcurrency;
    sampling = false;
    await sampler;
    const statuses = new Map<string, number>();
    for (const s of grades.students) statuses.set(s.status, (statuses.get(s.status) ?? 0) + 1);
    const totals = grades.students.map((s) => s.total);
    const perSubmission = grades.students.map((s) => s.seconds).sort((a, b) => a - b);
    console.log(`grade bench: ${count} copies of assignment 1, --jobs ${jobs}, cold cache`);
    console.log(`  wall time            ${seconds.toFixed(1)} s`);
    console.log(
      `  throughput           ${
        (count / seconds * 60).toFixed(1)
      } submissions/minute (target ≥ 40)`,
    );
    console.log(
      `  per submission       median ${perSubmission[Math.floor(count / 2)].toFixed(2)} s, max ${
        perSubmission.at(-1)!.toFixed(2)
      } s`,
    );
    console.log(
      `  CPU time             ${cpu.toFixed(1)} s, ${
        (cpu / count).toFixed(2)
      } CPU-s per submission ` +
        `(the most ${cores} idle cores could do: ${
          (cores * 60 / (cpu / count)).toFixed(0)
        }/minute)`,
    );
    console.log(
      `  peak memory          ${peakTotal.toFixed(0)} MiB (grader + sessions), ${
        peakSession.toFixed(0)
      } MiB largest session`,
    );
    console.log(`  statuses             ${[...statuses].map(([k, v]) => `${v} ${k}`).join(", ")}`);
    console.log(
      `  scores               ${totals.filter((t) => t === 10).length}×10, ${
        totals.filter((t) => t === 7).length
      }×7, other ${totals.filter((t) => t !== 10 && t !== 7).length}`,
    );
    console.log(
      `  machine              ${navigator.hardwareConcurrency} cores, load ${
        (await Deno.readTextFile("/proc/loadavg")).split(" ").slice(0, 3).join(" ")
      }`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
