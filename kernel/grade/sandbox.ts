/**
 * The grading sandbox: what a submission's kernel session may touch, and the guards the host
 * keeps around it.
 *
 * A session may read only its own scratch copy of the submission, the lib, the data, the npm
 * packages and Deno's module cache, and write only its scratch folder. It gets no network, no
 * environment, no subprocesses, no FFI and no system information — Deno's permission system
 * enforces that inside the process. Around the process the host keeps a time limit per cell and
 * per notebook, a V8 heap cap, a cap on output, and (on Linux) a watchdog on the process's
 * resident memory, which the heap cap does not cover (typed arrays, WebAssembly memory).
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { join } from "node:path";

/** Permissions of a grading session (the kernel turns these into Deno flags). */
export interface SandboxPermissions {
  read: string[];
  write: string[];
  net: false;
  env: false;
  run: false;
  ffi: false;
  sys: false;
  import: false;
}

/** The project's root folder (where `deno.json` is). */
export const PROJECT_ROOT: string = fileURLToPath(new URL("../../", import.meta.url)).replace(
  /\/$/,
  "",
);

let denoDirCache: string | undefined;

/** Deno's cache folder (`DENO_DIR`), asked of `deno info` once. */
export async function denoDir(): Promise<string> {
  if (denoDirCache) return denoDirCache;
  const fromEnv = Deno.env.get("DENO_DIR");
  if (fromEnv) return denoDirCache = fromEnv;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json"],
    stdout: "piped",
    stderr: "null",
    env: { NO_COLOR: "1" },
  }).output();
  denoDirCache = JSON.parse(new TextDecoder().decode(out.stdout)).denoDir as string;
  return denoDirCache;
}

/** Public folders a session may read when present: Debian's datasets, and fonts (text in images). */
export const SYSTEM_DATA_DIRS = ["/usr/share/datasets", "/usr/share/fonts"];

/**
 * The permissions of one grading session.
 *
 * @param scratch the session's scratch folder (its copy of the submission)
 * @example
 * ```ts ignore
 * const permissions = await sandboxPermissions("/tmp/grade/alice-x1");
 * console.log(permissions.write); // ["/tmp/grade/alice-x1"]
 * ```
 */
export async function sandboxPermissions(scratch: string): Promise<SandboxPermissions> {
  const read = [
    scratch,
    join(PROJECT_ROOT, "lib"),
    join(PROJECT_ROOT, "data"),
    join(PROJECT_ROOT, "node_modules"),
    join(PROJECT_ROOT, "deno.json"),
    join(PROJECT_ROOT, "deno.lock"),
    join(PROJECT_ROOT, "kernel", "grade", "testing.ts"),
    await denoDir(),
  ];
  for (const dir of SYSTEM_DATA_DIRS) {
    if (await Deno.stat(dir).then((s) => s.isDirectory, () => false)) read.push(dir);
  }
  return {
    read,
    write: [scratch],
    net: false,
    env: false,
    run: false,
    ffi: false,
    sys: false,
    import: false,
  };
}

/** Whether `path` is inside (or is) `dir`. */
export function isInside(path: string, dir: string): boolean {
  const d = dir.endsWith("/") ? dir : dir + "/";
  return path === dir || path.startsWith(d);
}

/**
 * Check that the grading key is not readable from a session: a release kept inside `lib/` or
 * `data/` would hand the hidden tests to every student's code.
 *
 * @throws {Error} naming the key and the readable folder.
 */
export function assertKeyOutsideSandbox(keyFile: string, permissions: SandboxPermissions): void {
  for (const dir of permissions.read) {
    if (isInside(keyFile, dir)) {
      throw new Error(
        `the grading key ${keyFile} is inside ${dir}, which every grading session can read: ` +
          "keep releases outside lib/, data/ and node_modules/",
      );
    }
  }
}

/** Resident memory of a process in MiB (Linux `/proc`), or undefined when unknown. */
export async function residentMemoryMb(pid: number): Promise<number | undefined> {
  try {
    const status = await Deno.readTextFile(`/proc/${pid}/status`);
    const m = status.match(/^VmRSS:\s+(\d+)\s+kB/m);
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Watch a process's resident memory and call `onExceeded` once when it passes `limitMb`.
 * Returns a function that stops watching.
 */
export function watchMemory(
  pid: number,
  limitMb: number,
  onExceeded: (rssMb: number) => void,
  intervalMs = 100,
): () => void {
  let stopped = false;
  const timer = setInterval(async () => {
    if (stopped) return;
    const rss = await residentMemoryMb(pid);
    if (rss !== undefined && rss > limitMb && !stopped) {
      stopped = true;
      clearInterval(timer);
      onExceeded(rss);
    }
  }, intervalMs);
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
