/**
 * The model an app runs: where it is, whether its files are whole, and what its
 * `userDefinedMetadata` says (class names, input range, where it came from).
 *
 * A model folder is what `cl.saveModel` writes (`model.json` + weight files). The apps read these
 * optional fields of `model.json`'s `userDefinedMetadata` (`model.setUserDefinedMetadata({…})`
 * before saving):
 *
 * | field | meaning | default |
 * |---|---|---|
 * | `classNames` | one name per output | `"0"`, `"1"`, … |
 * | `inputRange` | pixel values the model expects, `[low, high]` for 0–255 | `[0, 1]` |
 * | `description` | one line shown on the page | the folder name |
 * | `inputSize` | `[height, width]` for a model whose input takes any size (a convolutional base) | 224×224 |
 * | `invertLightBackground` | the model was trained on light things on black: photos with a light background are inverted (classify app) | false |
 *
 * Converted models whose `model.json` should stay untouched can have these fields in a
 * `metadata.json` beside it (it fills what `userDefinedMetadata` leaves out) and their class names in
 * a `classes.json` (a JSON array of strings). A Keras-converted MobileNet whose metadata says
 * nothing about its input gets Keras's `preprocess_input` range for it, `[-1, 1]`.
 * @module
 */

import { basename, join } from "node:path";
import { findModel, type FoundModel } from "../../lib/model_dirs.ts";

/** What an app knows about its model without running it. */
export interface ModelInfo {
  /** The folder holding `model.json`. */
  dir: string;
  /** How it got there: "--model", "saved" (cache) or "shipped" (data/models/). */
  origin: "--model" | FoundModel["origin"];
  /** Files the browser may fetch: `model.json` and the weight files it lists. */
  files: Set<string>;
  /** Last modification of `model.json` (ms), to bust browser caches after retraining. */
  version: number;
  classNames?: string[];
  inputRange: [number, number];
  /** `[height, width]` to resize pictures to when the model's input takes any size. */
  inputSize?: [number, number];
  description: string;
  /** Invert images with a light background before classifying them. */
  invertLightBackground: boolean;
}

/** Why a model folder cannot be used, with the file at fault. */
export class ModelFolderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ModelFolderError";
  }
}

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, float16: 2 };

interface WeightGroup {
  paths: string[];
  weights: { name: string; shape: number[]; dtype: string; quantization?: { dtype: string } }[];
}

function stringList(value: unknown): string[] | undefined {
  return Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === "string")
    ? value
    : undefined;
}

/** A JSON file beside `model.json`, if there is one; `undefined` when absent. */
async function sidecar(dir: string, name: string, expected: string): Promise<unknown> {
  const path = join(dir, name);
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch {
    return undefined;
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new ModelFolderError(`${path} must be ${expected}`);
  }
}

/** Class names from a `classes.json` beside `model.json`, if there is one. */
async function sidecarClassNames(dir: string): Promise<string[] | undefined> {
  const value = await sidecar(dir, "classes.json", "a JSON array of class names");
  if (value === undefined) return undefined;
  const names = stringList(value);
  if (!names) {
    throw new ModelFolderError(`${join(dir, "classes.json")} must be a JSON array of class names`);
  }
  return names;
}

/** Whether a topology is a Keras MobileNet (its model name says so, as Keras names it). */
function isMobileNet(topology: unknown): boolean {
  const config = topology as {
    model_config?: { config?: { name?: unknown } };
    config?: { name?: unknown };
  };
  const name = config?.model_config?.config?.name ?? config?.config?.name;
  return typeof name === "string" && /mobilenet/i.test(name);
}

/**
 * Read and check a model folder: `model.json` parses, has a topology, and every weight file it
 * lists exists with the bytes the manifest implies.
 *
 * @throws {ModelFolderError} naming the file at fault.
 */
export async function readModelInfo(
  dir: string,
  origin: ModelInfo["origin"],
): Promise<ModelInfo> {
  const jsonPath = join(dir, "model.json");
  let text: string;
  let version: number;
  try {
    text = await Deno.readTextFile(jsonPath);
    version = (await Deno.stat(jsonPath)).mtime?.getTime() ?? Date.now();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new ModelFolderError(`No model in ${dir}: ${jsonPath} does not exist`);
    }
    throw new ModelFolderError(`Cannot read ${jsonPath}: ${(error as Error).message}`);
  }
  let model: {
    modelTopology?: unknown;
    weightsManifest?: WeightGroup[];
    userDefinedMetadata?: Record<string, unknown>;
  };
  try {
    model = JSON.parse(text);
  } catch (error) {
    throw new ModelFolderError(`${jsonPath} is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof model !== "object" || model === null || !model.modelTopology) {
    throw new ModelFolderError(`${jsonPath} is not a tfjs layers model (no "modelTopology")`);
  }
  if (!Array.isArray(model.weightsManifest)) {
    throw new ModelFolderError(`${jsonPath} has no "weightsManifest"`);
  }
  const files = new Set(["model.json"]);
  for (const group of model.weightsManifest) {
    let expected = 0;
    for (const weight of group.weights ?? []) {
      const dtype = weight.quantization?.dtype ?? weight.dtype;
      expected += (DTYPE_BYTES[dtype] ?? 4) * weight.shape.reduce((a, b) => a * b, 1);
    }
    let actual = 0;
    for (const path of group.paths ?? []) {
      if (path.includes("/") || path.includes("\\") || path.startsWith(".")) {
        throw new ModelFolderError(`${jsonPath} lists a weight file outside its folder: ${path}`);
      }
      try {
        actual += (await Deno.stat(join(dir, path))).size;
      } catch {
        throw new ModelFolderError(`${jsonPath} lists ${path}, which is missing from ${dir}`);
      }
      files.add(path);
    }
    if (actual !== expected) {
      throw new ModelFolderError(
        `The weight files of ${jsonPath} hold ${actual} bytes, the manifest needs ${expected} ` +
          "(a save cut off, or files from different models?)",
      );
    }
  }
  const extra = await sidecar(dir, "metadata.json", "a JSON object of metadata");
  if (
    extra !== undefined && (typeof extra !== "object" || extra === null || Array.isArray(extra))
  ) {
    throw new ModelFolderError(`${join(dir, "metadata.json")} must be a JSON object of metadata`);
  }
  const meta = { ...(extra as Record<string, unknown> | undefined), ...model.userDefinedMetadata };
  const classNames = stringList(meta.classNames) ?? await sidecarClassNames(dir);
  const range = meta.inputRange;
  const inputRange: [number, number] = Array.isArray(range) && range.length === 2 &&
      range.every(Number.isFinite) && range[1] > range[0]
    ? [range[0], range[1]]
    : isMobileNet(model.modelTopology)
    ? [-1, 1]
    : [0, 1];
  const size = meta.inputSize;
  const inputSize: [number, number] | undefined = Array.isArray(size) && size.length === 2 &&
      size.every((n) => Number.isInteger(n) && n > 0)
    ? [size[0], size[1]]
    : undefined;
  const description = typeof meta.description === "string" ? meta.description : basename(dir);
  const invertLightBackground = meta.invertLightBackground === true;
  return {
    dir,
    origin,
    files,
    version,
    classNames,
    inputRange,
    inputSize,
    description,
    invertLightBackground,
  };
}

/**
 * The model an app should use: the folder given with `--model`, else the first of `names` found
 * (saved in the cache, then shipped unless `shipped` is false), else `undefined` (the app offers
 * to train one).
 *
 * @throws {ModelFolderError} when `--model` names a folder without a usable model.
 */
export async function locateAppModel(
  explicit: string | undefined,
  names: string[],
  options: { cacheRoot?: string; shipped?: boolean } = {},
): Promise<ModelInfo | undefined> {
  if (explicit !== undefined) {
    const dir = explicit.endsWith("model.json") ? join(explicit, "..") : explicit;
    return await readModelInfo(dir, "--model");
  }
  for (const name of names) {
    const found = await findModel(name, { root: options.cacheRoot });
    if (found && (found.origin !== "shipped" || options.shipped !== false)) {
      return await readModelInfo(found.dir, found.origin);
    }
  }
  return undefined;
}
