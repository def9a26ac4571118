/**
 * Convlab's cell library: the one import a lesson needs.
 *
 * @example
 * ```ts
 * import * as cl from "convlab";
 * console.log(cl.VERSION);
 * ```
 *
 * @module
 */

/** The Convlab version, shown in outputs that record how they were made. */
export const VERSION = "0.1.0";

export { currentSeed, randomStream, seed } from "./random.ts";
export {
  DISPLAY,
  type Displayable,
  displayable,
  inNotebook,
  type MimeBundle,
  show,
} from "./display.ts";
export {
  BACKEND_NAMES,
  type BackendAttempt,
  type BackendChooser,
  BackendInfo,
  backendInfo,
  type BackendName,
  type BackendReport,
  BackendUnavailableError,
  ready,
  tf,
  useBackend,
} from "./backend.ts";
export * as datasets from "./data/mod.ts";
export * as image from "./image/mod.ts";
/** Seeing what a convnet learned: activations, filter patterns, Grad-CAM (lesson 05). */
export * as explain from "./explain.ts";
