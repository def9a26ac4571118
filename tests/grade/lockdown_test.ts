import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const PROBE = fileURLToPath(new URL("../fixtures/grade/lockdown_probe.ts", import.meta.url));

Deno.test("lockdown() stops redefinition of built-ins and helpers, and ordinary code still runs", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", "--allow-read", PROBE],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.ok(out.success, stderr);
  const { report, results, every } = JSON.parse(new TextDecoder().decode(out.stdout));
  const blocked = [
    "Array.prototype.every",
    "Object.prototype.toString",
    "Object.is",
    "Math.abs",
    "globalThis.Math",
    "defineProperty map",
    "ArrayIterator next",
    "testing.assertEquals",
    "assert.equal",
    "AssertionError.prototype.name",
    "delete JSON",
  ];
  for (const name of blocked) {
    assert.match(results[name], /^TypeError: /, `${name} should be blocked, got ${results[name]}`);
  }
  for (
    const name of [
      "instance toString",
      "error message",
      "prototype constructor",
      "helpers still fail wrong answers",
    ]
  ) {
    assert.equal(results[name], "allowed", `${name}: ${results[name]}`);
  }
  assert.equal(every, false, "Array.prototype.every still works");
  assert.ok(report.frozen > 500 && report.tamed > 300, JSON.stringify(report));
});
