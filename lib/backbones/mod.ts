/**
 * `cl.backbones`: pretrained networks for transfer learning (lesson 04) — Convlab's shipped small
 * VGG (offline) and Keras's MobileNet (downloaded once, cached and checked), loaded the same way.
 *
 * @example
 * ```ts
 * import * as cl from "convlab";
 * const backbone = await cl.backbones.load(); // the shipped "fashion-backbone"
 * cl.summary(backbone.model);
 * ```
 *
 * @module
 */

export { miniVgg, type MiniVggOptions } from "./mini_vgg.ts";
export {
  type Backbone,
  BACKBONE_NAMES,
  type BackboneName,
  BackboneUnavailableError,
  FASHION_BACKBONE,
  FASHION_SOURCE_CLASSES,
  FASHION_TARGET_CLASSES,
  load,
  type LoadBackboneOptions,
  prepareImages,
} from "./load.ts";
export {
  type FetchedMobilenet,
  fetchMobilenet,
  MOBILENET,
  mobilenetDir,
  type MobilenetOptions,
  ModelChecksumError,
  ModelUnavailableError,
} from "./mobilenet.ts";
