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
/** Seeing what a convnet learned: activations, filter patterns, Grad-CAM (lesson 05). */
export * as explain from "./explain.ts";
