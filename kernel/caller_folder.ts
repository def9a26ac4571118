/**
 * `deno task` runs its command in the project root, so `deno task nb run 01.ipynb` typed in
 * `lessons/` would look for the notebook in the root. Deno says where the user was in
 * `INIT_CWD`; the command-line tools work there, as a user expects.
 *
 * @module
 */
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

function realPath(path: string): string | undefined {
  try {
    return Deno.realPathSync(path);
  } catch {
    return undefined;
  }
}

/**
 * Under `deno task`, change to the folder the task was started from (`INIT_CWD`), so relative
 * paths on the command line mean what the user typed. A process not started by `deno task`
 * (its working directory is not the project root) is left where it is.
 *
 * @example
 * ```ts ignore
 * import { enterCallerFolder } from "./caller_folder.ts";
 * if (import.meta.main) enterCallerFolder();
 * ```
 */
export function enterCallerFolder(): void {
  const from = Deno.env.get("INIT_CWD");
  if (!from) return;
  const here = realPath(Deno.cwd());
  if (here === undefined || here !== realPath(PROJECT_ROOT)) return;
  try {
    Deno.chdir(from);
  } catch { /* a folder that is gone: stay in the project root */ }
}
