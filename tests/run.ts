/**
 * The README's test command (`deno task test`): runs the whole suite with `deno test` and ends
 * with one line CI can read, `N passed, N failed`. Extra arguments go to `deno test`
 * (e.g. `deno task test tests/kernel/`).
 */
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
const { code } = await child.status;

// deno test ends with e.g. "ok | 12 passed (3 steps) | 0 failed | 1 ignored (4s)".
const summary = tail.match(
  /(?:ok|FAILED) \| (\d+) passed[^|]*\| (\d+) failed(?: \| (\d+) ignored)?/,
);
const passed = summary ? Number(summary[1]) : 0;
const failed = summary ? Number(summary[2]) : (code === 0 ? 0 : 1);
if (summary?.[3]) console.log(`${summary[3]} skipped (reasons printed above)`);
if (!summary && code !== 0) console.log("deno test failed before running the suite (see above)");
console.log(`${passed} passed, ${failed} failed`);
Deno.exit(code === 0 && failed === 0 ? 0 : 1);
