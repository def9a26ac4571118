/**
 * Kernel sessions: one sandboxed Deno child process per notebook, driven through its V8
 * inspector.
 *
 * @example
 * ```ts ignore
 * import { Session } from "./mod.ts";
 * await using session = await Session.start({ permissions: {} });
 * const reply = await session.execute("1 + 1");
 * console.log(reply.outputs[0]); // execute_result with text/plain "2"
 * ```
 *
 * @module
 */
export * from "./session.ts";
export * from "./permissions.ts";
export { CellSyntaxError, transpileCell, type TranspiledCell } from "./transpile.ts";
export { CellOutputs, formatBytes } from "./outputs.ts";
export { exitOnSignals, stopAllKernels } from "./kernels.ts";
