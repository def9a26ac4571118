/**
 * `deno task bench output [--mb 50]`: a cell that floods its output, in three shapes (one huge
 * string, 1 KB lines, 64 KB raw writes to `Deno.stdout`), through a real kernel session with the
 * default 1 MiB cap. Prints wall time and the host's CPU time for each: the host reads and caps
 * the flood, so its cost must grow linearly with the size, not with its square.
 */
import { parseArgs } from "node:util";
import { Session } from "../../kernel/session/session.ts";

function cpuSeconds(pid: number | "self"): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

export default async function bench(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { mb: { type: "string", default: "50" } } });
  const mb = Number(values.mb);
  const shapes: [string, string][] = [
    ["one string", `console.log("x".repeat(${mb} * 1024 * 1024))`],
    [
      "1 KB lines",
      `const line = "y".repeat(1023); for (let i = 0; i < ${mb} * 1024; i++) console.log(line)`,
    ],
    [
      "64 KB writes",
      `const b = new TextEncoder().encode("z".repeat(65536));` +
      `for (let i = 0; i < ${mb} * 16; i++) Deno.stdout.writeSync(b)`,
    ],
  ];
  console.log(`output bench: ${mb} MB printed by one cell, 1 MiB output cap`);
  await using session = await Session.start({});
  for (const [name, code] of shapes) {
    const pid = session.pid!;
    const started = performance.now(), host = cpuSeconds("self"), child = cpuSeconds(pid);
    const reply = await session.execute(code, { timeout: 600 });
    const kept = reply.outputs.reduce(
      (n, o) => n + (o.output_type === "stream" ? o.text.length : 0),
      0,
    );
    console.log(
      `  ${name.padEnd(13)} ${
        ((performance.now() - started) / 1000).toFixed(1).padStart(5)
      } s wall, ` +
        `host ${(cpuSeconds("self") - host).toFixed(1)} CPU-s, kernel ${
          (cpuSeconds(pid) - child).toFixed(1)
        } CPU-s; ${reply.error?.ename ?? reply.status}, ${(kept / 1024).toFixed(0)} KiB kept`,
    );
  }
  console.log(
    `  machine       ${navigator.hardwareConcurrency} cores, load ${
      (await Deno.readTextFile("/proc/loadavg")).split(" ").slice(0, 3).join(" ")
    }`,
  );
}
