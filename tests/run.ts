/**
 * The README's test command (`deno task test`): runs the whole suite with `deno test` and ends
 * with one line CI can read, `N passed, N failed`. Extra arguments go to `deno test`
 * (e.g. `deno task test tests/kernel/`).
 */
import { suiteVerdict } from "./_verdict.ts";

const args = Deno.args.length > 0 ? Deno.args : ["tests/"];
const child = new Deno.Command(Deno.execPath(), {
  args: ["test", "--allow-all", "--parallel", ...args],
  stdout: "piped",
  stderr: "inherit",
  env: { NO_COLOR: "1" },
}).spawn();

let tail = "";
const decoder = new TextDecoder();
for await (const chunk of child.stdout) {
  await Deno.stdout.write(chunk);
  tail = (tail + decoder.decode(chunk, { stream: true })).slice(-4000);
}
const verdict = suiteVerdict(tail, await child.status);
if (verdict.ignored) console.log(`${verdict.ignored} skipped (reasons printed above)`);
if (!verdict.finished && !verdict.ok) {
  console.log("deno test failed before running the suite (see above)");
}
if (verdict.crashedAtExit) {
  console.log(
    `warning: deno test was killed by ${verdict.crashedAtExit} at exit, after all ` +
      `${verdict.passed} tests passed (runtime teardown; see README, Backends)`,
  );
}
// CI reads the last line: keep the summary last.
console.log(`${verdict.passed} passed, ${verdict.failed} failed`);
Deno.exit(verdict.ok ? 0 : 1);
