/**
 * Whether Deno's own Jupyter kernel can run notebooks here: `jupyter nbconvert` is installed and
 * a kernelspec named `deno` exists — installed with the documented setup step,
 * `deno jupyter --install`, when it is missing. Used by the tests that run notebooks through
 * Deno's kernel (`tests/kernel/deno_kernel_compare_test.ts`, `tests/lessons/deno_kernel_test.ts`).
 *
 * @example
 * ```ts
 * import { denoKernelInstalled } from "./_deno_kernel.ts";
 * console.log(denoKernelInstalled() ? "nbconvert can use --ExecutePreprocessor.kernel_name=deno" : "no");
 * ```
 *
 * @module
 */
import { hasCommand } from "./_skip.ts";

/** Whether Jupyter lists a kernelspec named `deno` (installs nothing). */
export function denoKernelspecExists(): boolean {
  try {
    const list = new Deno.Command("jupyter", {
      args: ["kernelspec", "list", "--json"],
      stdout: "piped",
      stderr: "null",
    }).outputSync();
    return list.success &&
      "deno" in (JSON.parse(new TextDecoder().decode(list.stdout)).kernelspecs ?? {});
  } catch {
    return false;
  }
}

/** Whether nbconvert can run notebooks with `--ExecutePreprocessor.kernel_name=deno`. */
export function denoKernelInstalled(): boolean {
  if (!hasCommand("jupyter-nbconvert")) return false;
  if (denoKernelspecExists()) return true;
  try {
    return new Deno.Command(Deno.execPath(), {
      args: ["jupyter", "--install"],
      stdout: "null",
      stderr: "null",
    }).outputSync().success;
  } catch {
    return false;
  }
}

/** Why a test that needs Deno's kernel is skipped. */
export const NO_DENO_KERNEL =
  "jupyter-nbconvert or Deno's Jupyter kernel (deno jupyter --install) is not available";
