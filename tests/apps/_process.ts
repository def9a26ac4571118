/**
 * Run an app as a user does — `deno run … lessons/apps/cli.ts <app> --port 0` — read its URL from
 * the console line, and stop it with Ctrl-C (SIGINT), collecting what it printed.
 */
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** A running app process. */
export interface AppProcess {
  url: string;
  /** Everything printed so far (stdout and stderr). */
  output(): string;
  /** Send SIGINT (Ctrl-C) and wait for the exit. */
  stop(): Promise<{ code: number; output: string }>;
}

/** Start an app; resolves when it prints its URL (or rejects with its output if it exits). */
export async function startAppProcess(
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 60_000,
): Promise<AppProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "lessons/apps/cli.ts", ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let output = "";
  const { promise: urlSeen, resolve, reject } = Promise.withResolvers<string>();
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      output += decoder.decode(chunk, { stream: true });
      const match = output.match(/running at (http:\/\/\S+\/)/);
      if (match) resolve(match[1]);
    }
  };
  const pumps = Promise.all([pump(child.stdout), pump(child.stderr)]);
  const status = child.status.then(async (s) => {
    await pumps;
    reject(new Error(`The app exited (${s.code}) before listening:\n${output}`));
    return s;
  });
  const timer = setTimeout(() => reject(new Error(`The app did not start:\n${output}`)), timeoutMs);
  let url: string;
  try {
    url = await urlSeen;
  } catch (error) {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
    await status;
    throw error;
  } finally {
    clearTimeout(timer);
  }
  return {
    url,
    output: () => output,
    async stop() {
      try {
        child.kill("SIGINT");
      } catch { /* already gone */ }
      const killer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      const { code } = await status;
      clearTimeout(killer);
      return { code, output };
    },
  };
}
