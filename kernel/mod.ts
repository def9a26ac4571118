/**
 * Convlab's notebook engine: notebook documents, headless execution, rendering and grading.
 *
 * @module
 */
export * from "./notebook.ts";
