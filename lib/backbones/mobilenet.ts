/**
 * The online backbone: Keras's MobileNet v1 (α 0.25, 224×224, ImageNet) as the tfjs team hosts
 * it, converted to tfjs's layers format — downloaded once into `<cache>/models/mobilenet/`
 * (`model.json`, its weight shards, and `classes.json` with the 1,000 ImageNet class names from
 * Keras's `imagenet_class_index.json`), then checked on every load.
 *
 * Checksums: `data/manifest.json` (`models.mobilenet`) lists the URLs and, per file, the
 * published SHA-256 where one is known (the class index has Keras's MD5). Files without a
 * recorded checksum are pinned on first download: their SHA-256 go into `checksums.json` in the
 * cache folder, and every later load refuses bytes that differ. Everything is written to a
 * temporary folder first and renamed into place only when complete.
 *
 * Introduced in lesson 04 (transfer learning, online variant); the classify app uses the cached
 * model when there is one.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { join } from "node:path";
import manifestJson from "../../data/manifest.json" with { type: "json" };
import { cacheDir } from "../data/cache.ts";
import { MODEL_NAMES } from "../model_dirs.ts";
import type { DownloadProgress } from "../data/download.ts";

/** A file checksum as `data/manifest.json` records it. */
export interface PinnedFile {
  sha256?: string | null;
  md5?: string | null;
  size?: number | null;
}

/** `data/manifest.json`'s `models.mobilenet`. */
export interface MobilenetManifest {
  title: string;
  homepage: string;
  /** The converted model's `model.json`; weight shards are fetched beside it. */
  url: string;
  /** Known checksums by file name (`model.json`, `group1-shard1of1`, …). */
  files: Record<string, PinnedFile>;
  /** Keras's ImageNet class index (`{"0": ["n01440764", "tench"], …}`). */
  classIndex: { url: string } & PinnedFile;
}

const MODELS = (manifestJson as unknown as { models: Record<string, MobilenetManifest> }).models;

/** What Convlab knows about the online MobileNet. */
export const MOBILENET = {
  name: "mobilenet",
  /** Folder name in the cache's `models/` (`MODEL_NAMES.mobilenet`). */
  folder: MODEL_NAMES.mobilenet,
  title: "MobileNet v1 (α 0.25, 224×224) trained on ImageNet: Keras's model in tfjs layers format",
  /** The last layer of the convolutional base (7×7×256 at 224×224). */
  baseOutput: "conv_pw_13_relu",
  /** First layer of the top block, for fine-tuning. */
  topBlockStart: "conv_dw_13",
  /** MobileNet's `preprocess_input`: pixels scaled to [-1, 1]. */
  inputRange: [-1, 1] as [number, number],
  manifest: MODELS.mobilenet,
} as const;

/** Options of {@linkcode fetchMobilenet}. */
export interface MobilenetOptions {
  /** Convlab's cache folder (default `$CONVLAB_CACHE`, `$XDG_CACHE_HOME/convlab`, `~/.cache/convlab`). */
  cacheDir?: string;
  /**
   * Download when not cached (default true, as Keras's `weights="imagenet"`); false: only use
   * the cache, and say how to fill it when empty.
   */
  download?: boolean;
  /** The `model.json` URL (default: the manifest's). Its shards are fetched beside it. */
  url?: string;
  /** The class index URL (default: the manifest's). */
  classIndexUrl?: string;
  /** Progress of each file (default: a line per file). */
  onProgress?: (progress: DownloadProgress) => void;
  signal?: AbortSignal;
}

/** A cached, checked MobileNet. */
export interface FetchedMobilenet {
  /** The folder holding `model.json`, the shards and `classes.json`. */
  dir: string;
  /** The 1,000 ImageNet class names, index = output. */
  classNames: string[];
  /** Where it came from and how its bytes were checked. */
  origin: string;
}

/** The record of a download, `checksums.json` in the model's folder. */
interface ChecksumRecord {
  source: string;
  downloadedAt: string;
  files: Record<string, { sha256: string; size: number; pinnedBy: "manifest" | "first download" }>;
}

/** A cached model file differs from its recorded checksum. */
export class ModelChecksumError extends Error {
  /** The file at fault. */
  readonly file: string;

  constructor(file: string, message: string) {
    super(message);
    this.name = "ModelChecksumError";
    this.file = file;
  }
}

/** The model cannot be had: not cached and not downloadable (offline, or `download: false`). */
export class ModelUnavailableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ModelUnavailableError";
  }
}

function digest(algorithm: "sha256" | "md5", bytes: Uint8Array): string {
  return createHash(algorithm).update(bytes).digest("hex");
}

/** The cache folder of the MobileNet files. */
export function mobilenetDir(root: string | undefined = cacheDir()): string {
  if (root === undefined) {
    throw new ModelUnavailableError(
      "Cannot locate MobileNet's cache folder: no CONVLAB_CACHE, XDG_CACHE_HOME or HOME " +
        "(set CONVLAB_CACHE to a writable folder)",
    );
  }
  return join(root, "models", MOBILENET.folder);
}

function howToGet(dir: string, url: string): string {
  return `Run \`await cl.backbones.fetchMobilenet()\` on a machine with network access (it ` +
    `downloads ${url}, its weight shards and Keras's imagenet_class_index.json into ${dir}), or ` +
    `copy such a folder there; offline, use the shipped backbone ("fashion-backbone")`;
}

function checkAgainstManifest(name: string, bytes: Uint8Array, pins: PinnedFile | undefined) {
  if (!pins) return false;
  let pinned = false;
  if (pins.size != null && pins.size !== bytes.length) {
    throw new ModelChecksumError(
      name,
      `MobileNet file ${name} has ${bytes.length} bytes, data/manifest.json says ${pins.size}`,
    );
  }
  for (const algorithm of ["sha256", "md5"] as const) {
    const expected = pins[algorithm];
    if (!expected) continue;
    const actual = digest(algorithm, bytes);
    if (actual !== expected) {
      throw new ModelChecksumError(
        name,
        `Checksum mismatch for MobileNet file ${name}: expected ${algorithm} ${expected} ` +
          `(data/manifest.json), got ${actual}`,
      );
    }
    pinned = true;
  }
  return pinned;
}

async function readRecord(dir: string): Promise<ChecksumRecord | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(join(dir, "checksums.json"));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
  try {
    return JSON.parse(text) as ChecksumRecord;
  } catch {
    throw new ModelChecksumError(
      join(dir, "checksums.json"),
      `${join(dir, "checksums.json")} is not valid JSON; delete ${dir} to download MobileNet again`,
    );
  }
}

/** Check every file of a cached download against its record (and the manifest's pins). */
async function verifyCached(dir: string, record: ChecksumRecord): Promise<string[]> {
  const modelJson = JSON.parse(await Deno.readTextFile(join(dir, "model.json")));
  const shards: string[] = (modelJson.weightsManifest ?? []).flatMap((group: { paths: string[] }) =>
    group.paths
  );
  for (const name of ["model.json", ...shards, "classes.json"]) {
    const expected = record.files[name];
    const path = join(dir, name);
    if (!expected) {
      throw new ModelChecksumError(
        path,
        `${path} has no recorded checksum in ${join(dir, "checksums.json")}; delete ${dir} to ` +
          "download MobileNet again",
      );
    }
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(path);
    } catch {
      throw new ModelChecksumError(path, `${path} is missing; delete ${dir} to download again`);
    }
    const actual = digest("sha256", bytes);
    if (actual !== expected.sha256) {
      throw new ModelChecksumError(
        path,
        `Checksum mismatch for ${path}: expected sha256 ${expected.sha256} (recorded when it was ` +
          `downloaded), got ${actual}. The file was changed or damaged; delete ${dir} to ` +
          "download MobileNet again",
      );
    }
    if (name !== "classes.json" && record.source === MOBILENET.manifest.url) {
      checkAgainstManifest(name, bytes, MOBILENET.manifest.files[name]);
    }
  }
  const names = JSON.parse(await Deno.readTextFile(join(dir, "classes.json")));
  if (!Array.isArray(names) || !names.every((n) => typeof n === "string")) {
    throw new ModelChecksumError(join(dir, "classes.json"), "classes.json is not a list of names");
  }
  return names;
}

async function download(
  url: string,
  name: string,
  onProgress: (progress: DownloadProgress) => void,
  signal?: AbortSignal,
): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetch(url, { signal });
  } catch (cause) {
    const reason = cause instanceof Deno.errors.NotCapable
      ? "network access is not permitted here"
      : `no connection (${cause instanceof Error ? cause.message : cause}) — offline?`;
    throw new ModelUnavailableError(`Cannot download ${url}: ${reason}`, { cause });
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new ModelUnavailableError(
      `Cannot download ${url}: HTTP ${response.status} ${response.statusText}`,
    );
  }
  const total = Number(response.headers.get("content-length") ?? 0);
  const bytes = new Uint8Array(await response.arrayBuffer());
  onProgress({ file: name, url, received: bytes.length, total: total || bytes.length, done: true });
  return bytes;
}

function checkShardName(path: unknown, url: string): string {
  if (
    typeof path !== "string" || path.length === 0 || path.includes("/") || path.includes("\\") ||
    path.startsWith(".") || path === "checksums.json" || path === "classes.json"
  ) {
    throw new ModelChecksumError(url, `${url} lists a weight file with a bad name: ${path}`);
  }
  return path;
}

function classNamesFromIndex(bytes: Uint8Array, url: string): string[] {
  let index: Record<string, [string, string]>;
  try {
    index = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new ModelChecksumError(url, `${url} is not JSON`);
  }
  const count = Object.keys(index).length;
  const names = Array.from({ length: count }, (_, i) => index[String(i)]?.[1]);
  if (count === 0 || names.some((n) => typeof n !== "string")) {
    throw new ModelChecksumError(url, `${url} is not a class index {"0": [id, name], …}`);
  }
  return names as string[];
}

/**
 * Make sure MobileNet is in the cache, downloading it when missing (unless `download: false`),
 * and check its files: against `data/manifest.json` where it records a checksum, else against
 * the SHA-256 pinned in `checksums.json` at the first download.
 *
 * Introduced in lesson 04 (transfer learning, online variant).
 *
 * @param options Cache folder, whether to download, URLs, progress.
 * @returns The folder, the class names and where they came from.
 * @throws {ModelUnavailableError} when not cached and not downloadable (offline or
 *   `download: false`): the message names the URL, the folder and what to do.
 * @throws {ModelChecksumError} when a cached or downloaded file is not the recorded one.
 * @example
 * ```ts ignore
 * import * as cl from "convlab";
 * const { dir, classNames } = await cl.backbones.fetchMobilenet(); // needs the network once
 * console.log(dir, classNames[386]); // …/models/mobilenet African_elephant
 * ```
 */
export async function fetchMobilenet(options: MobilenetOptions = {}): Promise<FetchedMobilenet> {
  const dir = mobilenetDir(options.cacheDir ?? cacheDir());
  const url = options.url ?? MOBILENET.manifest.url;
  const record = await readRecord(dir);
  if (record) {
    const classNames = await verifyCached(dir, record);
    return {
      dir,
      classNames,
      origin: `${dir} (downloaded from ${record.source} on ${record.downloadedAt.slice(0, 10)}; ` +
        "every file checked against its SHA-256)",
    };
  }
  if (options.download === false) {
    throw new ModelUnavailableError(
      `MobileNet is not in the cache (${dir}) and downloading was not allowed. ${
        howToGet(dir, url)
      }`,
    );
  }
  const onProgress = options.onProgress ??
    ((p: DownloadProgress) => console.log(`Downloaded ${p.url} (${p.received} bytes)`));
  const files = new Map<string, Uint8Array>();
  const pinnedBy = new Map<string, "manifest" | "first download">();
  try {
    const modelBytes = await download(url, "model.json", onProgress, options.signal);
    let modelJson: { modelTopology?: unknown; weightsManifest?: { paths: unknown[] }[] };
    try {
      modelJson = JSON.parse(new TextDecoder().decode(modelBytes));
    } catch {
      throw new ModelChecksumError(url, `${url} is not JSON (not a tfjs model.json)`);
    }
    if (!modelJson.modelTopology || !Array.isArray(modelJson.weightsManifest)) {
      throw new ModelChecksumError(url, `${url} is not a tfjs layers model.json`);
    }
    // The manifest's checksums are those of the manifest's URLs; other URLs are pinned on
    // first download.
    const canonical = url === MOBILENET.manifest.url;
    const record = (name: string, bytes: Uint8Array) => {
      const byManifest = canonical &&
        checkAgainstManifest(name, bytes, MOBILENET.manifest.files[name]);
      files.set(name, bytes);
      pinnedBy.set(name, byManifest ? "manifest" : "first download");
    };
    record("model.json", modelBytes);
    for (const group of modelJson.weightsManifest) {
      for (const path of group.paths ?? []) {
        const name = checkShardName(path, url);
        const shardUrl = new URL(name, url).href;
        record(name, await download(shardUrl, name, onProgress, options.signal));
      }
    }
    const indexUrl = options.classIndexUrl ?? MOBILENET.manifest.classIndex.url;
    const indexBytes = await download(
      indexUrl,
      "imagenet_class_index.json",
      onProgress,
      options.signal,
    );
    if (indexUrl === MOBILENET.manifest.classIndex.url) {
      checkAgainstManifest("imagenet_class_index.json", indexBytes, MOBILENET.manifest.classIndex);
    }
    const classNames = classNamesFromIndex(indexBytes, indexUrl);
    record("classes.json", new TextEncoder().encode(JSON.stringify(classNames, null, 1) + "\n"));
  } catch (error) {
    if (error instanceof ModelUnavailableError) {
      throw new ModelUnavailableError(
        `Cannot get MobileNet: ${error.message}. ${howToGet(dir, url)}`,
        { cause: error },
      );
    }
    throw error;
  }

  // Write everything to a fresh folder, then rename it into place: never a half-written model.
  const parent = join(dir, "..");
  await Deno.mkdir(parent, { recursive: true });
  const temp = await Deno.makeTempDir({ dir: parent, prefix: `.${MOBILENET.folder}-` });
  try {
    const checksums: ChecksumRecord = {
      source: url,
      downloadedAt: new Date().toISOString(),
      files: {},
    };
    for (const [name, bytes] of files) {
      await Deno.writeFile(join(temp, name), bytes);
      checksums.files[name] = {
        sha256: digest("sha256", bytes),
        size: bytes.length,
        pinnedBy: pinnedBy.get(name)!,
      };
    }
    await Deno.writeTextFile(
      join(temp, "checksums.json"),
      JSON.stringify(checksums, null, 2) + "\n",
    );
    // A folder left by an interrupted copy (no checksums.json) is replaced.
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    await Deno.rename(temp, dir);
  } catch (error) {
    await Deno.remove(temp, { recursive: true }).catch(() => {});
    throw error;
  }
  const classNames = JSON.parse(await Deno.readTextFile(join(dir, "classes.json")));
  return {
    dir,
    classNames,
    origin: `${dir} (downloaded just now from ${url}; SHA-256 recorded in checksums.json)`,
  };
}
