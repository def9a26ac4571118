/**
 * Convlab's notebook engine: notebook documents, headless execution, rendering and grading.
 *
 * @example
 * ```ts ignore
 * import { executeNotebook, readNotebook, writeNotebook } from "./mod.ts";
 * const path = "lessons/01_convolution.ipynb";
 * const result = await executeNotebook(await readNotebook(path), { path, parameters: { greeting: "hi" } });
 * await writeNotebook("build/01_convolution.ipynb", result.notebook);
 * if (!result.ok) throw result.error;
 * ```
 *
 * @module
 */
export * from "./notebook.ts";
export * from "./errors.ts";
export * from "./execute.ts";
export * from "./parameters.ts";
export * from "./session/mod.ts";
