/**
 * Images as tensors: decode/encode PNG and JPEG, resize (TF2 semantics), crop and pad, OpenCV-style
 * `filter2D`, grayscale, colormaps and overlays, SVG rasterising and offline test pictures.
 *
 * @example
 * ```ts
 * import * as cl from "convlab";
 * const card = await cl.image.testCard();
 * const small = cl.image.resize(card, [120, 160], { antialias: true });
 * console.log(small.shape); // [120, 160, 3]
 * ```
 *
 * @module
 */

export * from "./codec.ts";
export * from "./resize.ts";
export * from "./filter.ts";
export * from "./color.ts";
export * from "./svg.ts";
export * from "./samples.ts";
export * from "./boxes.ts";
