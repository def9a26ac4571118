/**
 * Deno permission grants for a session's child process, chosen by the caller.
 *
 * Nothing is granted unless asked: `{}` gives a child that can compute, print and display but
 * cannot read, write, connect, read the environment, run programs, load native code or query
 * the system. The child never needs `--allow-sys` for the kernel itself (the host drives its V8
 * inspector over a WebSocket), so a grading sandbox can grant nothing but what it lists.
 *
 * @module
 */
import { dirname, join, resolve } from "node:path";
import { cacheDir } from "../../lib/data/cache.ts";

/** A permission: `true` for all, a list for only those paths/hosts/names, absent for none. */
export type Grant = boolean | readonly string[];

/** Granular Deno permissions for a session's child process. */
export interface SessionPermissions {
  /** File system read access (`--allow-read`). */
  read?: Grant;
  /** File system write access (`--allow-write`). */
  write?: Grant;
  /** Network access (`--allow-net`): `true` or hosts like `"example.com:443"`. */
  net?: Grant;
  /** Environment variables (`--allow-env`). */
  env?: Grant;
  /** Running subprocesses (`--allow-run`). */
  run?: Grant;
  /** Loading native libraries (`--allow-ffi`). */
  ffi?: Grant;
  /** System information such as hostname or network interfaces (`--allow-sys`). */
  sys?: Grant;
  /** Hosts that remote modules may be imported from (`--allow-import`). */
  import?: Grant;
  /** Paths never readable, even inside a granted folder (`--deny-read`). */
  denyRead?: readonly string[];
  /** Paths never writable (`--deny-write`). */
  denyWrite?: readonly string[];
  /** Hosts never reachable (`--deny-net`). */
  denyNet?: readonly string[];
}

const GRANTS = ["read", "write", "net", "env", "run", "ffi", "sys", "import"] as const;
const DENIES = [["denyRead", "read"], ["denyWrite", "write"], ["denyNet", "net"]] as const;
const PATH_GRANTS = new Set(["read", "write", "ffi", "denyRead", "denyWrite"]);

function listValue(kind: string, items: readonly string[]): string {
  for (const item of items) {
    if (item.includes(",")) {
      throw new RangeError(`Cannot grant ${kind} access to "${item}": names must not contain ","`);
    }
  }
  const values = PATH_GRANTS.has(kind) ? items.map((p) => resolve(p)) : items;
  return [...new Set(values)].join(",");
}

/**
 * The Deno command-line flags for a permission set.
 *
 * @example
 * ```ts
 * import { permissionFlags } from "./permissions.ts";
 * console.log(permissionFlags({ read: ["/data"], net: true }));
 * // ["--allow-read=/data", "--allow-net"]
 * ```
 */
export function permissionFlags(permissions: SessionPermissions): string[] {
  const flags: string[] = [];
  for (const kind of GRANTS) {
    const grant = permissions[kind];
    if (grant === true) flags.push(`--allow-${kind}`);
    else if (Array.isArray(grant) && grant.length > 0) {
      flags.push(`--allow-${kind}=${listValue(kind, grant)}`);
    }
  }
  for (const [key, kind] of DENIES) {
    const items = permissions[key];
    if (items && items.length > 0) flags.push(`--deny-${kind}=${listValue(key, items)}`);
  }
  return flags;
}

/** Deno's cache folder (`DENO_DIR`), where npm and remote modules are kept. */
export function denoCacheDir(): string {
  const fromEnv = Deno.env.get("DENO_DIR");
  if (fromEnv) return resolve(fromEnv);
  const xdg = Deno.env.get("XDG_CACHE_HOME");
  if (xdg) return join(xdg, "deno");
  const home = Deno.env.get("HOME") ?? Deno.env.get("USERPROFILE") ?? "/";
  return Deno.build.os === "darwin"
    ? join(home, "Library", "Caches", "deno")
    : join(home, ".cache", "deno");
}

/** The nearest folder at or above `start` that holds a `deno.json`/`deno.jsonc`, if any. */
export function findProjectRoot(start: string): string | undefined {
  let dir = resolve(start);
  while (true) {
    for (const name of ["deno.json", "deno.jsonc"]) {
      try {
        if (Deno.statSync(join(dir, name)).isFile) return dir;
      } catch { /* keep looking */ }
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

function existing(paths: string[]): string[] {
  return paths.filter((p) => {
    try {
      Deno.statSync(p);
      return true;
    } catch {
      return false;
    }
  });
}

function tempDir(): string {
  return Deno.env.get("TMPDIR") ?? "/tmp";
}

/**
 * Convlab's cache folder, the one the lib uses (`cacheDir()` of `lib/data/cache.ts`), made
 * absolute: `$CONVLAB_CACHE`, else `$XDG_CACHE_HOME/convlab`, else `~/.cache/convlab`
 * (`%LOCALAPPDATA%\convlab` on Windows).
 * Lessons read cached datasets there and save trained models there for the apps.
 */
export function convlabCacheDir(): string | undefined {
  const dir = cacheDir();
  return dir === undefined ? undefined : resolve(dir);
}

/**
 * The default grants for a lesson notebook: read the project, Deno's module cache and the
 * system dataset folder; read and write Convlab's cache folder (cached datasets, saved models);
 * write the notebook's folder, the project's `.cache/` and the temp folder; environment and
 * system information; network only when `net` is asked for.
 */
export function lessonPermissions(
  notebookDir: string,
  options: { net?: Grant; projectRoot?: string } = {},
): SessionPermissions {
  const root = options.projectRoot ?? findProjectRoot(notebookDir) ?? resolve(notebookDir);
  // The cache folder may not exist yet (a lesson creates it); Deno grants a path either way.
  const convlabCache = convlabCacheDir();
  const cache = convlabCache ? [convlabCache] : [];
  return {
    read: [
      ...existing([root, resolve(notebookDir), denoCacheDir(), "/usr/share/datasets", tempDir()]),
      ...cache,
    ],
    // `.cache/` may not exist yet; Deno grants a path whether or not it exists.
    write: [resolve(notebookDir), join(root, ".cache"), tempDir(), ...cache],
    env: true,
    sys: true,
    net: options.net ?? false,
  };
}

/**
 * Grants for an untrusted notebook (a student's submission): read only the listed folders
 * (plus Deno's module cache, so imports of cached npm packages work), write only `scratchDir`,
 * nothing else.
 */
export function sandboxPermissions(
  options: { read: readonly string[]; scratchDir: string },
): SessionPermissions {
  return {
    read: [...options.read, options.scratchDir, denoCacheDir()],
    write: [options.scratchDir],
  };
}
