/**
 * The kernel processes this process has started, so that a command-line tool stopped by a signal
 * can take them with it. Kept apart from `session.ts` so that tools load it without the kernel.
 *
 * @module
 */

/** Kernel processes of this process's sessions that are running (sessions add and remove them). */
export const runningKernels: Set<Deno.ChildProcess> = new Set();

/**
 * Kill every kernel process this process started that is still running, at once. For a
 * command-line tool about to exit on a signal: a kernel busy in a loop would outlive it.
 */
export function stopAllKernels(): void {
  for (const child of runningKernels) {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  }
  runningKernels.clear();
}

/** The numbers of the signals that stop a run (exit status 128 + number). */
export const SIGNAL_NUMBERS: Readonly<Record<string, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGTERM: 15,
};

/**
 * For a command-line tool that runs notebooks: on Ctrl-C, SIGTERM or SIGHUP, kill its kernels
 * and exit with 128 + the signal's number (a kernel busy in a loop would otherwise outlive it).
 *
 * @example
 * ```ts ignore
 * import { exitOnSignals } from "./kernels.ts";
 * if (import.meta.main) exitOnSignals();
 * ```
 */
export function exitOnSignals(): void {
  if (Deno.build.os === "windows") return;
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    Deno.addSignalListener(signal, () => {
      stopAllKernels();
      Deno.exit(128 + SIGNAL_NUMBERS[signal]);
    });
  }
}
