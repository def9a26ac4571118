/**
 * `cl.datasets.cifar10()`: Keras's `cifar10.load_data()` for Deno — the published binary archive
 * from the cache (downloaded on request), or, offline, a procedural stand-in of the same shape
 * that every output labels as such.
 *
 * Introduced in lesson 03 (the CIFAR-10 CNN).
 *
 * @module
 */

import { createHash } from "node:crypto";
import { buildDataset, type DatasetMeta, type LoadedData } from "./build.ts";
import { readCifarArchive } from "./cifar.ts";
import {
  generateStandin,
  STANDIN_CLASSES,
  STANDIN_SEED,
  STANDIN_SIZES,
  standinLabels,
} from "./cifar_standin.ts";
import type { ImageDataset } from "./dataset.ts";
import { ChecksumError } from "./errors.ts";
import { findOrFetch } from "./fetch.ts";
import { manifestEntry } from "./manifest.ts";
import { LOAD_OPTION_NAMES, type LoadOptions } from "./mnist.ts";
import { currentSeed, randomStream } from "../random.ts";
import { checkedSeed, stratifiedSample, subsetSizes } from "./subset.ts";
import { rejectUnknownOptions } from "../_options.ts";

/** CIFAR-10's class names, as in its `batches.meta.txt`. */
export const CIFAR10_CLASSES: string[] = [
  "airplane",
  "automobile",
  "bird",
  "cat",
  "deer",
  "dog",
  "frog",
  "horse",
  "ship",
  "truck",
];

/** Options of {@link cifar10}. */
export interface Cifar10Options extends LoadOptions {
  /** "auto" (default): the real set when cached, else the stand-in; "full": the real set,
   * downloading it (170 MB) when missing, or an error; "standin": always the stand-in. */
  source?: "auto" | "full" | "standin";
  /** Seed of the stand-in's images (default 0: the same stand-in everywhere, whatever
   * `cl.seed`). The subset draw uses `seed` as for every loader. */
  standinSeed?: number;
}

const SHAPE: [number, number, number] = [32, 32, 3];

/**
 * Load CIFAR-10: 50,000 training and 10,000 test 32×32 colour photos in 10 classes
 * ({@link CIFAR10_CLASSES}).
 *
 * The real set is a 170 MB download (`deno task data fetch cifar10`). Without it (the default
 * offline), this returns Convlab's procedural stand-in: 32×32×3 images of 10 shape classes
 * (disc, ring, square, …, see `cifar_standin.ts` and the README), the same tensor shapes and
 * sizes, generated in about 0.3 ms per image — so pass `subset` for quick runs. The summary line,
 * `info.source === "standin"` and the class names say which one you have.
 *
 * Labels are `[n]` (Keras gives `(50000, 1)` for CIFAR-10; Convlab keeps MNIST's `[n]`).
 *
 * @param options Source, stand-in seed, tensor format, subset, cache folder.
 * @throws {DatasetUnavailableError} With `source: "full"` when the archive can be neither found
 *   nor downloaded; the message gives the URL and the folder for it.
 * @throws {ChecksumError} When the cached archive is not the published one.
 * @example
 * ```ts
 * import * as cl from "convlab";
 * const data = await cl.datasets.cifar10({ subset: { train: 500, test: 100 }, quiet: true });
 * console.log(data.info.source, data.xTrain.shape); // "standin" [500, 32, 32, 3] when offline
 * data.dispose();
 * ```
 */
export async function cifar10(options: Cifar10Options = {}): Promise<ImageDataset> {
  rejectUnknownOptions("Cannot load CIFAR-10", options, [...LOAD_OPTION_NAMES, "standinSeed"]);
  const source = options.source ?? "auto";
  if (!["auto", "full", "standin"].includes(source)) {
    throw new RangeError(
      `Cannot load CIFAR-10: source must be "auto", "full" or "standin", got "${source}"`,
    );
  }
  subsetSizes(options.subset); // validate before any work
  checkedSeed(options.seed, "Cannot load CIFAR-10");
  if (source !== "standin") {
    const real = await loadArchive(options, source === "full");
    if (real) {
      return buildDataset(
        { name: "cifar10", title: "CIFAR-10", classNames: CIFAR10_CLASSES, imageShape: SHAPE },
        real,
        options,
      );
    }
  }
  return standin(
    options,
    source === "auto"
      ? "CIFAR-10 itself is not cached (170 MB): `deno task data fetch cifar10` gets it"
      : undefined,
  );
}

async function loadArchive(
  options: Cifar10Options,
  required: boolean,
): Promise<LoadedData | undefined> {
  const located = await findOrFetch("cifar10", options, required);
  if (!located) return undefined;
  const file = manifestEntry("cifar10").files[0];
  const path = located.paths.get(file.role)!;
  const hash = createHash("sha256");
  const { train, test } = await readCifarArchive(path, { onBytes: (b) => hash.update(b) });
  const sha256 = hash.digest("hex");
  if (sha256 !== file.sha256) {
    throw new ChecksumError(
      path,
      file.sha256,
      sha256,
      `The file is damaged or not the published ${file.name}; delete it and download it ` +
        `again from ${file.urls[0]}`,
    );
  }
  return {
    train,
    test,
    source: "full",
    origin: located.dir,
    verified: "sha256 as published",
  };
}

function standin(options: Cifar10Options, note: string | undefined): ImageDataset {
  const standinSeed = options.standinSeed ?? STANDIN_SEED;
  if (!Number.isInteger(standinSeed) || standinSeed < 0) {
    throw new RangeError(
      `Cannot make the CIFAR-10 stand-in: standinSeed must be a non-negative integer, got ${standinSeed}`,
    );
  }
  const sizes = subsetSizes(options.subset);
  const subsetSeed = options.seed ?? currentSeed();
  let drawn = false;
  const indices = (split: "train" | "test") => {
    const nominal = STANDIN_SIZES[split];
    const size = sizes[split];
    if (size === undefined || size >= nominal) return Array.from({ length: nominal }, (_, i) => i);
    drawn = true;
    const stream = randomStream(`datasets.subset.cifar10.${split}`, subsetSeed);
    return stratifiedSample(standinLabels(standinSeed, split, nominal), size, stream);
  };
  const [trainIndices, testIndices] = [indices("train"), indices("test")];
  const total = trainIndices.length + testIndices.length;
  if (total > 10000 && !options.quiet) {
    console.log(
      `Generating ${total.toLocaleString("en-US")} CIFAR-10 stand-in images (about ${
        Math.ceil(total * 0.3 / 1000)
      } s); pass subset for quicker runs.`,
    );
  }
  const train = generateStandin(standinSeed, "train", trainIndices);
  const test = generateStandin(standinSeed, "test", testIndices);
  const meta: DatasetMeta = {
    name: "cifar10",
    title: "CIFAR-10 stand-in",
    classNames: STANDIN_CLASSES,
    imageShape: SHAPE,
  };
  return buildDataset(meta, {
    train,
    test,
    source: "standin",
    origin: `Convlab's procedural shapes (lib/data/cifar_standin.ts), standinSeed ${standinSeed}`,
    note,
    presubset: {
      availableTrain: STANDIN_SIZES.train,
      availableTest: STANDIN_SIZES.test,
      seed: drawn ? subsetSeed : undefined,
    },
  }, options);
}
