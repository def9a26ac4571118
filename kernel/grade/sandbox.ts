/**
 * The grading sandbox: what a submission's kernel session may touch, and the guards the host
 * keeps around it.
 *
 * A session may read only its own scratch copy of the submission, the lib, the data, the npm
 * packages and Deno's module cache, and write only its scratch folder. It gets no network, no
 * environment (but the two variables the grader sets for the lib), no subprocesses, no FFI and
 * no system information — Deno's permission system enforces that inside the process. Around the
 * process the host keeps a time limit per cell and per notebook, a V8 heap cap, a cap on output,
 * and (on Linux) a watchdog on the process: its resident memory, which the heap cap does not
 * cover (typed arrays, WebAssembly memory), and its threads (no workers).
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
  /** Only the variables of {@linkcode SESSION_ENV}. */
  env: string[];
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

/**
 * The environment of a grading session: the lib's backend chosen without probing for a GPU
 * (grades must not depend on the machine) and run on one thread (results are the same for any
 * thread count, but `--jobs` runs sessions side by side and the threaded build would also start
 * workers, which the watchdog forbids). Faster too:
 * no WebGPU probe and no pool of eight workers to start in each session.
 */
export const SESSION_ENV: Readonly<Record<string, string>> = Object.freeze({
  CONVLAB_BACKEND: "wasm",
  CONVLAB_THREADS: "1",
});

/**
 * Statements the grader's prelude runs once the realm is locked down: `new Worker()` fails at
 * once with a clear error (a worker from `node:worker_threads` gets the session stopped by the
 * watchdog instead).
 */
export const SESSION_PRELUDE =
  'Object.defineProperty(globalThis, "Worker", { value: function Worker() { throw new TypeError(' +
  '"Workers are not available while grading"); }, writable: false, enumerable: false, ' +
  "configurable: false });";

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
    env: Object.keys(SESSION_ENV),
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

/** What the watchdog saw of a process (Linux `/proc`). */
interface ProcessState {
  /** Resident memory in MiB. */
  rssMb: number;
  /** Threads. */
  threads: number;
}

async function processState(pid: number): Promise<ProcessState | undefined> {
  try {
    const status = await Deno.readTextFile(`/proc/${pid}/status`);
    const rss = status.match(/^VmRSS:\s+(\d+)\s+kB/m);
    const threads = status.match(/^Threads:\s+(\d+)/m);
    if (!rss || !threads) return undefined;
    return { rssMb: Number(rss[1]) / 1024, threads: Number(threads[1]) };
  } catch {
    return undefined;
  }
}

/** Whether one of a process's threads runs a JavaScript worker (Deno names them `worker-N`). */
async function hasWorkerThread(pid: number): Promise<boolean> {
  try {
    for await (const task of Deno.readDir(`/proc/${pid}/task`)) {
      const name = await Deno.readTextFile(`/proc/${pid}/task/${task.name}/comm`).catch(() => "");
      if (/^worker-\d+\s*$/.test(name)) return true;
    }
  } catch {
    // The process is gone.
  }
  return false;
}

/** Why the watchdog stopped a process. */
export type WatchdogCause =
  | { kind: "memory"; rssMb: number; limitMb: number }
  | { kind: "workers" };

/**
 * Watch a grading session's process and call `onExceeded` once when its resident memory passes
 * `limitMb` or it starts a worker thread (a worker could keep cores busy for other students'
 * sessions, or multiply the memory). Returns a function that stops watching.
 */
export function watchProcess(
  pid: number,
  limitMb: number,
  onExceeded: (cause: WatchdogCause) => void,
  intervalMs = 100,
): () => void {
  let stopped = false, checking = false, threadsSeen = 0;
  const timer = setInterval(async () => {
    if (stopped || checking) return;
    checking = true;
    try {
      const state = await processState(pid);
      if (!state || stopped) return;
      let cause: WatchdogCause | undefined;
      if (state.rssMb > limitMb) cause = { kind: "memory", rssMb: state.rssMb, limitMb };
      else if (state.threads !== threadsSeen) {
        // Threads came or went: look at their names (Deno's own pools change size; workers are
        // named).
        threadsSeen = state.threads;
        if (await hasWorkerThread(pid)) cause = { kind: "workers" };
      }
      if (cause && !stopped) {
        stopped = true;
        clearInterval(timer);
        onExceeded(cause);
      }
    } finally {
      checking = false;
    }
  }, intervalMs);
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
