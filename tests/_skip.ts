/**
 * Tests that need an optional prerequisite (a Debian package, a dataset) are skipped with a
 * printed reason, never silently.
 *
 * @example
 * ```ts
 * import { skipUnless } from "./_skip.ts";
 * Deno.test({ name: "uses chromium", ...skipUnless(false, "chromium is not installed"), fn() {} });
 * ```
 */
export function skipUnless(available: boolean, reason: string): { ignore: boolean } {
  if (!available) console.log(`SKIP: ${reason}`);
  return { ignore: !available };
}

/** Whether a command exists on PATH or at an absolute path. */
export function hasCommand(command: string): boolean {
  try {
    const out = new Deno.Command("sh", {
      args: ["-c", `command -v ${command}`],
      stdout: "null",
      stderr: "null",
    }).outputSync();
    return out.success;
  } catch {
    return false;
  }
}
