/**
 * Where trained models live, so that lessons, apps and `deno task pretrain` agree:
 *
 * - **Shipped models** — committed to the repository, made by a documented task (e.g. the
 *   backbone of `deno task pretrain`): `data/models/<name>/`.
 * - **Saved models** — written by lessons and apps when they train (lesson 02 saves its LeNet-5,
 *   the digits app trains one when none is there): `<cache>/models/<name>/`, where `<cache>` is
 *   Convlab's cache folder (`$CONVLAB_CACHE`, else `$XDG_CACHE_HOME/convlab`, else
 *   `~/.cache/convlab`; the same folder the datasets use). They are rebuilt by re-running the
 *   lesson, so they are not committed.
 *
 * A model folder holds `model.json` and its weight files (`cl.saveModel` writes them). Class
 * names and input conventions go in `model.json`'s `userDefinedMetadata` (see the README,
 * "Apps", for the fields the apps read).
 *
 * Introduced in lesson 02 (saving LeNet-5), used by lesson 04 and the apps.
 *
 * @example
 * ```ts
 * import { findModel, modelDir } from "./model_dirs.ts";
 * console.log(modelDir("mnist-lenet5")); // e.g. /home/me/.cache/convlab/models/mnist-lenet5
 * console.log(await findModel("mnist-lenet5")); // undefined until lesson 02 has saved it
 * ```
 *
 * @module
 */

import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { cacheDir } from "./data/cache.ts";

/** The models the lessons save and the apps look for, by name. */
export const MODEL_NAMES = {
  /** Lesson 02's LeNet-5 trained on MNIST (the digits app's default). */
  lenet5Mnist: "mnist-lenet5",
  /** Lesson 02's improved CNN ("CNN v2", course code 8-3) trained on MNIST. */
  cnnV2Mnist: "mnist-cnn-v2",
  /** Lesson 04's transfer-learned classifier (the classify app's default). */
  transfer: "transfer-learning",
  /**
   * A Keras-converted MobileNet (tfjs layers format) cached by lesson 04's online loader, with its
   * class names in `classes.json` beside `model.json`.
   */
  mobilenet: "mobilenet",
} as const;

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

function checkName(name: string, what: string): void {
  if (typeof name !== "string" || !NAME_PATTERN.test(name) || name.includes("..")) {
    throw new RangeError(
      `Cannot locate ${what}: a model name is letters, digits, '.', '_' and '-', got ${
        JSON.stringify(name)
      }`,
    );
  }
}

/**
 * The folder where lessons and apps save a model: `<cache>/models/<name>` (it need not exist).
 *
 * @param name A model name such as {@linkcode MODEL_NAMES}`.lenet5Mnist`.
 * @param options `root`: a cache folder other than Convlab's.
 * @throws {Error} when no cache folder can be found (no `$CONVLAB_CACHE`, `$XDG_CACHE_HOME` or
 *   `$HOME`, e.g. in a sandbox without environment access).
 * @example
 * ```ts
 * import { modelDir } from "./model_dirs.ts";
 * console.log(modelDir("mnist-lenet5", { root: "/tmp/cache" })); // /tmp/cache/models/mnist-lenet5
 * ```
 */
export function modelDir(name: string, options: { root?: string } = {}): string {
  checkName(name, "a saved model");
  const root = options.root ?? cacheDir();
  if (root === undefined) {
    throw new Error(
      `Cannot locate saved model '${name}': no cache folder (set CONVLAB_CACHE to a writable ` +
        "folder)",
    );
  }
  return join(root, "models", name);
}

/**
 * The folder of a model shipped with Convlab: `data/models/<name>` in the repository.
 *
 * @param name The model's name.
 * @example
 * ```ts
 * import { shippedModelDir } from "./model_dirs.ts";
 * console.log(shippedModelDir("backbone").endsWith("data/models/backbone")); // true
 * ```
 */
export function shippedModelDir(name: string): string {
  checkName(name, "a shipped model");
  return fileURLToPath(new URL(`../data/models/${name}`, import.meta.url));
}

/** A model folder found by {@linkcode findModel}. */
export interface FoundModel {
  /** The folder holding `model.json`. */
  dir: string;
  /** `"saved"` (the cache, by a lesson or an app) or `"shipped"` (`data/models/`). */
  origin: "saved" | "shipped";
}

async function hasModelJson(dir: string): Promise<boolean> {
  try {
    return (await Deno.stat(join(dir, "model.json"))).isFile;
  } catch {
    return false;
  }
}

/**
 * Find a model by name: the saved one in the cache first (the learner's own), else the shipped
 * one; `undefined` when neither folder has a `model.json`.
 *
 * @param name The model's name.
 * @param options `root`: a cache folder other than Convlab's.
 * @example
 * ```ts
 * import { findModel } from "./model_dirs.ts";
 * const found = await findModel("mnist-lenet5");
 * console.log(found ? `${found.origin}: ${found.dir}` : "not trained yet");
 * ```
 */
export async function findModel(
  name: string,
  options: { root?: string } = {},
): Promise<FoundModel | undefined> {
  checkName(name, "a model");
  const root = options.root ?? cacheDir();
  if (root !== undefined) {
    const saved = modelDir(name, { root });
    if (await hasModelJson(saved)) return { dir: saved, origin: "saved" };
  }
  const shipped = shippedModelDir(name);
  if (await hasModelJson(shipped)) return { dir: shipped, origin: "shipped" };
  return undefined;
}
