/**
 * How `tests/run.ts` reads `deno test`'s end: the counts from its summary line, and whether the
 * run passed.
 */

/** The counts and the verdict of one `deno test` run. */
export interface SuiteVerdict {
  passed: number;
  failed: number;
  ignored: number;
  /** Whether deno test printed its summary (it does once every test has finished). */
  finished: boolean;
  ok: boolean;
  /** Set when the process died by a signal after a clean summary (runtime teardown). */
  crashedAtExit?: string;
}

// deno test ends with e.g. "ok | 12 passed (3 steps) | 0 failed | 1 ignored (4s)".
const SUMMARY = /^(ok|FAILED) \| (\d+) passed[^|]*\| (\d+) failed(?: \| (\d+) ignored)?/;

/**
 * Judge a run from the tail of its stdout (colours off) and its exit status. A process killed
 * by a signal after a clean summary as its last line died in runtime teardown, not in a test:
 * Mesa's software WebGPU adapter (which some tests start on purpose) can corrupt the heap at exit
 * ("corrupted size vs. prev_size in fastbins", SIGABRT). That run passed, with `crashedAtExit`.
 */
export function suiteVerdict(
  stdoutTail: string,
  status: { code: number; signal: string | null },
): SuiteVerdict {
  const last = stdoutTail.trimEnd().split("\n").at(-1) ?? "";
  const lastSummary = last.match(SUMMARY);
  const summary = lastSummary ?? stdoutTail.match(new RegExp(SUMMARY.source, "m"));
  const passed = summary ? Number(summary[2]) : 0;
  const failed = summary ? Number(summary[3]) : (status.code === 0 ? 0 : 1);
  const ignored = summary?.[4] ? Number(summary[4]) : 0;
  const passedCleanly = lastSummary?.[1] === "ok" && failed === 0 && passed > 0;
  if (status.code !== 0 && status.signal !== null && passedCleanly) {
    return { passed, failed, ignored, finished: true, ok: true, crashedAtExit: status.signal };
  }
  return {
    passed,
    failed,
    ignored,
    finished: summary !== null,
    ok: status.code === 0 && failed === 0,
  };
}
