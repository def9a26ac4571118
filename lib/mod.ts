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
export { DISPLAY, type Displayable, displayable, inNotebook, type MimeBundle } from "./display.ts";
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

// Keras-faithful training (lib/train.ts and friends).
export * as models from "./models.ts";
export {
  countParams,
  kerasName,
  ModelSummary,
  type ParamCounts,
  summary,
  type SummaryOptions,
  type SummaryRow,
} from "./summary.ts";
export { compile, type CompileOptions, type LossSpec } from "./compile.ts";
export {
  type CallbackLike,
  evaluate,
  type EvaluateOptions,
  fit,
  type FitOptions,
  predict,
  type PredictOptions,
} from "./train.ts";
export {
  type BatchElement,
  type BatchSource,
  type DatasetLike,
  type NumberArrays,
  type Tensors,
} from "./batches.ts";
export * as losses from "./losses.ts";
export * as metrics from "./metrics.ts";
export * as optimizers from "./optimizers.ts";
export * as callbacks from "./callbacks.ts";
export {
  loadModel,
  type LoadModelOptions,
  ModelFileError,
  saveModel,
  type SaveModelOptions,
  type SaveModelResult,
} from "./save.ts";
export { markFrozen, setTrainable } from "./freeze.ts";
/** Pretrained backbones for transfer learning: the shipped small VGG and MobileNet (lesson 04). */
export * as backbones from "./backbones/mod.ts";
export { type ProgressFactory, type ProgressInfo, setProgressFactory } from "./progress.ts";
// `show` is display.ts's `show(value, {displayId, update})` with the `cl.show.*` visuals on it.
export { Chart, ImageGrid, plot, save, show, Table, TrainingProgress } from "./viz/mod.ts";
/** A lesson's headline numbers, as a table and as JSON for tools (lesson 02). */
export {
  Results,
  results,
  RESULTS_MIME,
  type ResultsJson,
  type ResultsOptions,
  type ResultValue,
} from "./results.ts";
/** Data augmentation: ImageDataGenerator and the Keras preprocessing layers (lesson 03). */
export { ImageDataGenerator, ImageFlow, layers } from "./augment/mod.ts";
/** Where saved (cache) and shipped (data/models/) models live, by name (lesson 02 on). */
export {
  findModel,
  type FoundModel,
  MODEL_NAMES,
  modelDir,
  shippedModelDir,
} from "./model_dirs.ts";
