/**
 * `deno task bench kernel [--runs N]`: the kernel's start-up and per-cell overhead, and the same
 * notebooks through `jupyter nbconvert --execute` with Deno's own kernel when it is installed.
 *
 * Figures (medians of N runs, default 5):
 * - cold start: `Session.start()` (spawn of the child) to the first cell done;
 * - per-cell overhead: median duration of the trivial cells of a 100-cell notebook run by
 *   `executeNotebook()`, and (total − start) / 100;
 * - end to end: `deno task nb run` (a new process: Deno start, module load, kernel, write) on a
 *   1-, 16- and 100-cell notebook, beside `jupyter nbconvert --execute` on the same files, with
 *   the ratio.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Session } from "../../kernel/session/session.ts";
import { executeNotebook } from "../../kernel/execute.ts";
import { type Notebook, serializeNotebook } from "../../kernel/notebook.ts";
import { denoKernelspecExists } from "../_deno_kernel.ts";

const CLI = fileURLToPath(new URL("../../kernel/cli.ts", import.meta.url));

/** CPU time (user + system) of a process in ms, from /proc (Linux; 10 ms ticks). */
function cpuMs(pid: number | "self"): number {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function trivialNotebook(cells: number): Notebook {
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { display_name: "Deno", language: "typescript", name: "deno" } },
    cells: Array.from({ length: cells }, (_, i) => ({
      cell_type: "code" as const,
      id: `c${i}`,
      metadata: {},
      source: `const v${i}: number = ${i};\nv${i} * 2`,
      outputs: [],
      execution_count: null,
    })),
  };
}

async function timeCommand(command: string, args: string[], env: Record<string, string> = {}) {
  const started = performance.now();
  const out = await new Deno.Command(command, { args, env, stdout: "null", stderr: "piped" })
    .output();
  const ms = performance.now() - started;
  if (!out.success) {
    throw new Error(
      `${command} ${args.join(" ")} failed:\n${new TextDecoder().decode(out.stderr)}`,
    );
  }
  return ms;
}

const fmt = (ms: number) =>
  ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(ms < 10 ? 2 : 0)} ms`;

export default async function bench(args: string[]): Promise<void> {
  const runsAt = args.indexOf("--runs");
  const runs = runsAt >= 0 ? Number(args[runsAt + 1]) : 5;
  const dir = await Deno.makeTempDir({ prefix: "convlab-bench-kernel-" });
  try {
    // Cold start: spawn → first cell done.
    const starts: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      const session = await Session.start({ cwd: dir });
      await session.execute("1 + 1");
      starts.push(performance.now() - t0);
      await session.close();
    }

    // Per-cell overhead on 100 trivial cells.
    const perCellMedians: number[] = [];
    const perCellAverages: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      let kernelReady = 0;
      const result = await executeNotebook(trivialNotebook(100), {
        cwd: dir,
        permissions: {},
        onProgress: (e) => {
          if (e.type === "kernel") kernelReady = performance.now();
        },
      });
      const total = performance.now() - t0;
      if (!result.ok) throw result.error;
      perCellMedians.push(median(result.cells.map((c) => c.durationMs!)));
      perCellAverages.push((total - (kernelReady - t0)) / 100);
    }

    // CPU per cell, host and kernel together: less sensitive to a busy machine than wall time.
    const cpuSession = await Session.start({ cwd: dir });
    await cpuSession.execute("0");
    const host0 = cpuMs("self"), kernel0 = cpuMs(cpuSession.pid!);
    for (let i = 0; i < 500; i++) {
      await cpuSession.execute(`const w${i}: number = ${i};\nw${i} * 2`);
    }
    const cpuPerCell = (cpuMs("self") - host0 + cpuMs(cpuSession.pid!) - kernel0) / 500;
    await cpuSession.close();

    const load = (() => {
      try {
        return Deno.readTextFileSync("/proc/loadavg").split(" ")[0];
      } catch {
        return "?";
      }
    })();
    console.log(
      `Kernel benchmark (Deno ${Deno.version.deno}, median of ${runs} runs, load average ${load})`,
    );
    console.log(
      `  cold start (spawn → first cell done):   ${fmt(median(starts))}   target < 500 ms`,
    );
    console.log(
      `  per-cell overhead (median cell, 100):   ${fmt(median(perCellMedians))}   target < 2 ms`,
    );
    console.log(`  per-cell, (total − start) / 100:         ${fmt(median(perCellAverages))}`);
    console.log(`  CPU per cell (host + kernel, 500 cells): ${fmt(cpuPerCell)}`);

    // End to end: `deno task nb run` vs nbconvert + Deno's kernel.
    const withNbconvert = denoKernelspecExists();
    if (!withNbconvert) {
      console.log("  (jupyter nbconvert with Deno's kernel is not installed: no comparison)");
    }
    console.log("\n  notebook   nb run (ours)   nbconvert + Deno kernel   ratio");
    for (const cells of [1, 16, 100]) {
      const path = join(dir, `trivial-${cells}.ipynb`);
      await Deno.writeTextFile(path, serializeNotebook(trivialNotebook(cells)));
      const ours: number[] = [];
      const theirs: number[] = [];
      for (let i = 0; i < runs; i++) {
        ours.push(await timeCommand(Deno.execPath(), ["run", "-A", CLI, "run", "--quiet", path]));
        if (withNbconvert) {
          theirs.push(
            await timeCommand("jupyter", [
              "nbconvert",
              "--to",
              "notebook",
              "--execute",
              "--ExecutePreprocessor.kernel_name=deno",
              "--output-dir",
              dir,
              "--output",
              `nbconvert-${cells}`,
              path,
            ], { NO_COLOR: "1" }),
          );
        }
      }
      const a = median(ours);
      const b = withNbconvert ? median(theirs) : NaN;
      console.log(
        `  ${String(cells).padStart(3)} cells  ${fmt(a).padStart(12)}   ${
          (withNbconvert ? fmt(b) : "—").padStart(22)
        }   ${withNbconvert ? `${(b / a).toFixed(1)}×` : "—"}`,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
