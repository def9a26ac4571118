/**
 * Data augmentation (데이터 증식): Keras's `ImageDataGenerator` and preprocessing layers, seeded
 * through `cl.seed`.
 *
 * @example
 * ```ts
 * import * as cl from "convlab";
 * const gen = new cl.ImageDataGenerator({ rotationRange: 40, widthShiftRange: 0.2, horizontalFlip: true });
 * const augmented = gen.augment(cl.tf.zeros([4, 32, 32, 3]), { seed: 1 });
 * console.log(augmented.shape); // [4, 32, 32, 3]
 * ```
 *
 * @module
 */

export {
  type AugmentedBatch,
  type FlowOptions,
  ImageDataGenerator,
  type ImageDataGeneratorOptions,
  ImageFlow,
  type Labels,
} from "./generator.ts";
export { type FillMode, transformMatrix, type TransformParams } from "./affine.ts";
export * as layers from "./layers.ts";
