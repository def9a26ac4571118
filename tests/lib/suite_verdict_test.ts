/**
 * tests/run.ts's verdict: a crash in runtime teardown after every test passed (Mesa's software
 * WebGPU adapter, see README "Backends") does not turn CI red; any other non-zero exit does.
 */
import assert from "node:assert/strict";
import { suiteVerdict } from "../_verdict.ts";

const PASSED =
  "running 1 test from ./a_test.ts\nx ... ok (1ms)\n\nok | 12 passed | 0 failed | 1 ignored (4s)\n\n";

Deno.test("suiteVerdict() passes a clean run and counts passed, failed and ignored tests", () => {
  assert.deepEqual(suiteVerdict(PASSED, { code: 0, signal: null }), {
    passed: 12,
    failed: 0,
    ignored: 1,
    finished: true,
    ok: true,
  });
});

Deno.test("suiteVerdict() passes, with a warning, a run killed by a signal after its clean summary", () => {
  const verdict = suiteVerdict(PASSED, { code: 134, signal: "SIGABRT" });
  assert.equal(verdict.ok, true);
  assert.equal(verdict.crashedAtExit, "SIGABRT");
});

Deno.test("suiteVerdict() fails failed tests, crashes before the summary and non-signal exits", () => {
  const failedRun = "FAILED | 11 passed | 1 failed (4s)\n";
  assert.equal(suiteVerdict(failedRun, { code: 1, signal: null }).ok, false);
  assert.equal(suiteVerdict(failedRun, { code: 134, signal: "SIGABRT" }).ok, false);
  const midRun = "running 3 tests from ./a_test.ts\nx ... ok (1ms)\n";
  const crashed = suiteVerdict(midRun, { code: 139, signal: "SIGSEGV" });
  assert.equal(crashed.ok, false);
  assert.equal(crashed.finished, false);
  // A summary that is not the last line (a nested run's output) does not excuse a crash.
  const nested = "ok | 2 passed | 0 failed (1s)\nrunning 1 test from ./b_test.ts\n";
  assert.equal(suiteVerdict(nested, { code: 134, signal: "SIGABRT" }).ok, false);
  // A clean summary with a plain non-zero exit code (no signal) is a failure.
  assert.equal(suiteVerdict(PASSED, { code: 1, signal: null }).ok, false);
  assert.equal(
    suiteVerdict("ok | 0 passed | 0 failed (0ms)\n", { code: 134, signal: "SIGABRT" }).ok,
    false,
  );
});
