/**
 * Save and load models as files in Deno (`cl.saveModel`, `cl.loadModel`): a folder with
 * `model.json` (topology, weight manifest, and how the model was compiled) and `weights.bin` —
 * the layout tfjs-node's `file://` handler writes, so either side can read the other's models,
 * and `loadModel` also reads converter output (`group1-shard1of3.bin`, …).
 *
 * Saving is atomic per file (temporary file + rename) and `model.json` is written last with the
 * size and SHA-256 of `weights.bin`: a reader sees the old model or the new one, and a save cut
 * off between the two renames is reported clearly instead of loading mismatched weights.
 *
 * Introduced in lesson 02 (saving LeNet-5 and loading it back), used by ModelCheckpoint.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import { dirname, isAbsolute, join, normalize, resolve } from "node:path";
import { writeFileAtomic } from "./_fs.ts";
import { rejectUnknownOptions } from "./_options.ts";
import { compiledConfig, compileFromConfig, type SerializedCompile } from "./compile.ts";

/** What Convlab adds to `model.json`. */
interface ConvlabMetadata {
  /** Layout version of this block. */
  format: 1;
  savedAt: string;
  weightsBytes: number;
  weightsSha256: string;
  compile: SerializedCompile | null;
}

/** A `model.json` as tfjs writes it, with Convlab's additions. */
interface ModelJson {
  modelTopology: object;
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  trainingConfig?: tf.io.TrainingConfig;
  userDefinedMetadata?: tf.io.ModelArtifacts["userDefinedMetadata"];
  convlab?: ConvlabMetadata;
}

/** Raised when a saved model cannot be read back (missing file, corrupt JSON, wrong sizes). */
export class ModelFileError extends Error {
  /** The file at fault. */
  readonly path: string;

  constructor(path: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ModelFileError";
    this.path = path;
  }
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** `file://` URLs and paths to a folder or its `model.json` → the folder (not a file). */
async function modelFolder(path: string, action: string): Promise<string> {
  if (typeof path !== "string" || path.length === 0) {
    throw new TypeError(`Cannot ${action} model: expected a folder path, got ${path}`);
  }
  const plain = path.startsWith("file://") ? decodeURIComponent(new URL(path).pathname) : path;
  const folder = resolve(plain.endsWith(".json") ? dirname(plain) : plain);
  const info = await Deno.stat(folder).catch(() => null);
  if (info && !info.isDirectory) {
    throw new ModelFileError(
      folder,
      `Cannot ${action} model: ${folder} is a file, not a folder (a model is a folder holding ` +
        "model.json and weights.bin; give the folder or its model.json)",
    );
  }
  return folder;
}

/** Options of {@linkcode saveModel}. */
export interface SaveModelOptions {
  /** Record how the model was compiled so that `loadModel` can recompile it (default true). */
  includeCompile?: boolean;
}

/** What {@linkcode saveModel} wrote. */
export interface SaveModelResult {
  /** Absolute path of `model.json`. */
  modelPath: string;
  /** Absolute path of `weights.bin`. */
  weightsPath: string;
  /** Bytes of weights written. */
  weightsBytes: number;
}

/**
 * Save a model to a folder as `model.json` + `weights.bin` (created if missing; an existing model
 * there is replaced). Other files in the folder are left alone. Keras-style names such as
 * `"cnn_v2.h5"` work too: they name the folder (load it back with the same path).
 *
 * Introduced in lesson 02 (LeNet-5 and MNIST).
 *
 * @param model The model.
 * @param path A folder, its `model.json`, or a `file://` URL.
 * @returns Where the files went.
 * @example
 * ```ts
 * import * as cl from "convlab";
 * const model = cl.models.lenet5();
 * await cl.saveModel(model, "models/lenet5");
 * const again = await cl.loadModel("models/lenet5");
 * ```
 */
export async function saveModel(
  model: tf.LayersModel,
  path: string,
  options: SaveModelOptions = {},
): Promise<SaveModelResult> {
  if (!(model instanceof tf.LayersModel)) {
    throw new TypeError("Cannot save model: expected a tf.LayersModel (tf.sequential or tf.model)");
  }
  rejectUnknownOptions("Cannot save model", options, ["includeCompile"]);
  const folder = await modelFolder(path, "save");
  await Deno.mkdir(folder, { recursive: true });
  const modelPath = join(folder, "model.json");
  const weightsPath = join(folder, "weights.bin");
  let written: SaveModelResult | null = null;
  const handler: tf.io.IOHandler = {
    save: async (artifacts) => {
      if (artifacts.modelTopology instanceof ArrayBuffer) {
        throw new TypeError("Cannot save model: binary (protobuf) topologies are not supported");
      }
      const weights = new Uint8Array(
        artifacts.weightData ? tf.io.CompositeArrayBuffer.join(artifacts.weightData) : [],
      );
      const json: ModelJson = {
        modelTopology: artifacts.modelTopology as object,
        format: artifacts.format ?? "layers-model",
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        weightsManifest: [{ paths: ["weights.bin"], weights: artifacts.weightSpecs ?? [] }],
        ...(artifacts.userDefinedMetadata
          ? { userDefinedMetadata: artifacts.userDefinedMetadata }
          : {}),
        convlab: {
          format: 1,
          savedAt: new Date().toISOString(),
          weightsBytes: weights.byteLength,
          weightsSha256: await sha256Hex(weights),
          compile: options.includeCompile === false ? null : compiledConfig(model),
        },
      };
      await writeFileAtomic(weightsPath, weights);
      await writeFileAtomic(modelPath, JSON.stringify(json));
      written = { modelPath, weightsPath, weightsBytes: weights.byteLength };
      return {
        modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts),
      };
    },
  };
  await model.save(handler, { includeOptimizer: false });
  return written!;
}

async function readJson(path: string): Promise<ModelJson> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new ModelFileError(
        path,
        `Cannot load model: ${path} does not exist (save one with cl.saveModel(model, folder))`,
        { cause: error },
      );
    }
    throw new ModelFileError(path, `Cannot load model: cannot read ${path} (${error})`, {
      cause: error,
    });
  }
  let json: ModelJson;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ModelFileError(path, `Cannot load model: ${path} is not valid JSON`, {
      cause: error,
    });
  }
  if (typeof json !== "object" || json === null || typeof json.modelTopology !== "object") {
    throw new ModelFileError(path, `Cannot load model: ${path} has no "modelTopology"`);
  }
  if (!Array.isArray(json.weightsManifest)) {
    throw new ModelFileError(path, `Cannot load model: ${path} has no "weightsManifest"`);
  }
  json.weightsManifest.forEach((group, i) => {
    const where = `Cannot load model: ${path} has a broken "weightsManifest" (group ${i}`;
    if (typeof group !== "object" || group === null) {
      throw new ModelFileError(path, `${where} is not an object)`);
    }
    if (!Array.isArray(group.paths) || !group.paths.every((p) => typeof p === "string")) {
      throw new ModelFileError(path, `${where}: "paths" must be a list of file names)`);
    }
    for (const file of group.paths) {
      // Weight files live beside model.json: a manifest must not reach elsewhere.
      if (isAbsolute(file) || normalize(file).split(/[\\/]/).includes("..")) {
        throw new ModelFileError(
          path,
          `${where}: weight file "${file}" is outside the model's folder)`,
        );
      }
    }
    if (!Array.isArray(group.weights)) {
      throw new ModelFileError(path, `${where}: "weights" must be a list)`);
    }
    for (const spec of group.weights) {
      const ok = typeof spec === "object" && spec !== null && typeof spec.name === "string" &&
        Array.isArray(spec.shape) && spec.shape.every((d) => Number.isInteger(d) && d >= 0) &&
        typeof spec.dtype === "string";
      if (!ok) {
        throw new ModelFileError(
          path,
          `${where}: weight ${JSON.stringify(spec)} needs a name, a shape and a dtype)`,
        );
      }
    }
  });
  return json;
}

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1 };

function expectedBytes(specs: tf.io.WeightsManifestEntry[]): number {
  return specs.reduce((sum, spec) => {
    const size = spec.shape.reduce((a, b) => a * b, 1);
    const dtype = spec.quantization?.dtype ?? spec.dtype;
    return sum + size * (DTYPE_BYTES[dtype] ?? 4);
  }, 0);
}

/** The artifacts of a saved model, read and checked. */
async function readArtifacts(folder: string): Promise<[tf.io.ModelArtifacts, ModelJson]> {
  const modelPath = join(folder, "model.json");
  const json = await readJson(modelPath);
  const chunks: Uint8Array[] = [];
  const specs: tf.io.WeightsManifestEntry[] = [];
  for (const group of json.weightsManifest) {
    for (const file of group.paths) {
      const filePath = join(folder, file);
      try {
        chunks.push(await Deno.readFile(filePath));
      } catch (error) {
        const why = error instanceof Deno.errors.NotFound
          ? "does not exist"
          : `cannot be read (${error})`;
        throw new ModelFileError(
          filePath,
          `Cannot load model: ${filePath} (named in ${modelPath}) ${why}`,
          { cause: error },
        );
      }
    }
    specs.push(...group.weights);
  }
  const weights = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let offset = 0;
  for (const chunk of chunks) {
    weights.set(chunk, offset);
    offset += chunk.byteLength;
  }
  const expected = expectedBytes(specs);
  if (weights.byteLength !== expected) {
    throw new ModelFileError(
      folder,
      `Cannot load model: the weight files in ${folder} hold ${weights.byteLength} bytes but ` +
        `model.json describes ${expected} bytes (an interrupted save, or files from different models)`,
    );
  }
  if (json.convlab?.weightsSha256 && json.convlab.weightsSha256 !== await sha256Hex(weights)) {
    throw new ModelFileError(
      folder,
      `Cannot load model: weights.bin in ${folder} does not match model.json (its SHA-256 differs: ` +
        "an interrupted save, or files from different saves); save the model again",
    );
  }
  const artifacts: tf.io.ModelArtifacts = {
    modelTopology: json.modelTopology,
    format: json.format,
    generatedBy: json.generatedBy,
    convertedBy: json.convertedBy ?? undefined,
    weightSpecs: specs,
    weightData: weights.buffer,
    ...(json.userDefinedMetadata ? { userDefinedMetadata: json.userDefinedMetadata } : {}),
  };
  return [artifacts, json];
}

/** Options of {@linkcode loadModel}. */
export interface LoadModelOptions {
  /**
   * Compile the model as it was when saved, if that can be recorded (names, not functions), as
   * Keras's `load_model` does (default true). The optimizer starts afresh.
   */
  compile?: boolean;
}

/**
 * Load a model saved by {@linkcode saveModel} (or by tfjs-node, or converted from Keras).
 *
 * Introduced in lesson 02 (LeNet-5 and MNIST).
 *
 * @param path A folder, its `model.json`, or a `file://` URL.
 * @returns The model, compiled as saved when possible.
 * @example
 * ```ts
 * import * as cl from "convlab";
 * const model = await cl.loadModel("models/lenet5");
 * ```
 */
export async function loadModel(
  path: string,
  options: LoadModelOptions = {},
): Promise<tf.LayersModel> {
  rejectUnknownOptions("Cannot load model", options, ["compile"]);
  const folder = await modelFolder(path, "load");
  const modelPath = join(folder, "model.json");
  const [artifacts, json] = await readArtifacts(folder);
  const failed = (error: unknown, what: string) =>
    new ModelFileError(
      modelPath,
      `Cannot load model from ${modelPath}: ${what}: ${
        error instanceof Error ? error.message : error
      }`,
      { cause: error },
    );
  // tfjs leaves the weights of the layers it built before failing: dispose those.
  const variablesBefore = new Set(Object.keys(tf.engine().registeredVariables));
  let model: tf.LayersModel;
  try {
    model = await tf.loadLayersModel({ load: () => Promise.resolve(artifacts) });
  } catch (error) {
    const registered = tf.engine().registeredVariables;
    for (const name of Object.keys(registered)) {
      if (!variablesBefore.has(name)) registered[name].dispose();
    }
    throw failed(error, "its layers cannot be built");
  }
  if (options.compile !== false && json.convlab?.compile) {
    try {
      compileFromConfig(model, json.convlab.compile);
    } catch (error) {
      model.dispose();
      throw failed(error, "its compile settings are broken (load with {compile: false})");
    }
  }
  return model;
}
