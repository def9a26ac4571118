/**
 * Finding a dataset's published files (cache folder, then operating-system packages) and
 * downloading the missing ones into the cache.
 *
 * @module
 */

import { datasetDir } from "./cache.ts";
import { downloadFile, type DownloadOptions } from "./download.ts";
import { DatasetUnavailableError } from "./errors.ts";
import { locateFiles, manifestEntry } from "./manifest.ts";

/** Where a loader may look for and put files. */
export interface CacheOptions {
  /** The cache folder (default `$CONVLAB_CACHE`, `$XDG_CACHE_HOME/convlab` or
   * `~/.cache/convlab`); files go to `<cacheDir>/datasets/<name>/`. */
  cacheDir?: string;
}

/** A dataset's files found on disk. */
export interface LocatedFiles {
  dir: string;
  /** File path by role ("trainImages", …). */
  paths: Map<string, string>;
  /** "cache" or the system package that installed them. */
  where: "cache" | "system";
}

/**
 * Look for all of a dataset's files: in its cache folder first, then in the folders of
 * operating-system packages listed in the manifest (Debian's `dataset-fashion-mnist`).
 *
 * @param name The dataset ("mnist", "fashion-mnist", "cifar10").
 * @param options The cache folder.
 */
export async function locateDataset(
  name: string,
  options: CacheOptions = {},
): Promise<LocatedFiles | undefined> {
  const entry = manifestEntry(name);
  const cache = datasetDir(name, options.cacheDir);
  if (cache !== undefined) {
    const found = await locateFiles(entry, [cache]);
    if (found) return { ...found, where: "cache" };
  }
  const found = await locateFiles(entry, entry.systemDirs ?? []);
  return found ? { ...found, where: "system" } : undefined;
}

/**
 * A dataset's files on disk, downloading them first when missing and allowed
 * (`options.download`, default `required`). Missing and not required: undefined.
 *
 * @throws {DatasetUnavailableError} When required and neither found nor downloadable.
 */
export async function findOrFetch(
  name: string,
  options: CacheOptions & DownloadOptions & { download?: boolean },
  required: boolean,
): Promise<LocatedFiles | undefined> {
  let located = await locateDataset(name, options);
  if (!located && (options.download ?? required)) {
    await fetchDataset(name, options);
    located = await locateDataset(name, options);
  }
  if (!located && required) {
    throw new DatasetUnavailableError(
      name,
      unavailableMessage(
        name,
        options.download === false
          ? "it is not in the cache and download is false"
          : "it is not in the cache",
        options.cacheDir,
      ),
    );
  }
  return located;
}

/**
 * Download a dataset's files that are not in its cache folder yet, each checked against
 * `data/manifest.json`. Needs network access (`--allow-net`) and write access to the cache.
 * `deno task data fetch <name>` runs this from the command line.
 *
 * @param name The dataset ("mnist", "fashion-mnist", "cifar10").
 * @param options Cache folder, mirror, progress callback.
 * @returns The dataset's cache folder.
 * @throws {DatasetUnavailableError} When a file cannot be had, saying how to get it by hand.
 * @example
 * ```ts ignore
 * import { fetchDataset } from "./fetch.ts";
 * await fetchDataset("mnist"); // ~11 MB into ~/.cache/convlab/datasets/mnist
 * ```
 */
export async function fetchDataset(
  name: string,
  options: CacheOptions & DownloadOptions = {},
): Promise<string> {
  const entry = manifestEntry(name);
  const dir = datasetDir(name, options.cacheDir);
  if (dir === undefined) {
    throw new DatasetUnavailableError(name, unavailableMessage(name, "no cache folder is known"));
  }
  const present = await locateFiles(entry, [dir]);
  for (const file of entry.files) {
    if (present?.paths.has(file.role)) continue;
    try {
      await downloadFile(file, dir, options);
    } catch (error) {
      if (options.signal?.aborted) throw error;
      throw new DatasetUnavailableError(
        name,
        unavailableMessage(name, (error as Error).message, options.cacheDir),
      );
    }
  }
  return dir;
}

/** Whether this process may read `path` (without prompting). */
function readable(path: string): boolean {
  try {
    return Deno.permissions.querySync({ name: "read", path }).state === "granted";
  } catch {
    return false;
  }
}

/**
 * The explanation given when a dataset is not available: what failed, which URLs to fetch,
 * where to put the files, and the offline alternatives.
 */
export function unavailableMessage(name: string, reason: string, cacheDir?: string): string {
  const entry = manifestEntry(name);
  const dir = datasetDir(name, cacheDir) ?? `<cache folder>/datasets/${name}`;
  const lines = [
    reason.includes("\n")
      ? `${entry.title} is not available.\n${reason}`
      : `${entry.title} is not available: ${reason}.`,
    `To get it, download ${entry.files.length === 1 ? "this file" : "these files"}:`,
    ...entry.files.map((f) => `  ${f.urls[0]}`),
    `into ${dir}/ (the folder follows $CONVLAB_CACHE, else $XDG_CACHE_HOME/convlab, else ` +
    `~/.cache/convlab), or run \`deno task data fetch ${name}\` where the network is reachable.`,
  ];
  const denied = (entry.systemDirs ?? []).filter((dir) => !readable(dir));
  if (denied.length) {
    lines.push(
      `Reading ${denied.join(", ")} is not permitted here, so an installed copy cannot be ` +
        `seen: run with --allow-read=${denied[0]}.`,
    );
  }
  if (entry.systemDirs?.length && entry.systemPackage) {
    lines.push(
      `Or install the ${entry.systemPackage} package (\`apt-get install ` +
        `${entry.systemPackage.split(" ").pop()}\`), which puts it in ${entry.systemDirs[0]}, ` +
        `where Convlab finds it.`,
    );
  }
  if (name === "mnist") {
    lines.push(`Offline, mnist() with source "auto" or "embedded" uses 10,000 embedded digits.`);
  }
  if (name === "cifar10") {
    lines.push(`Offline, cifar10() with source "auto" or "standin" uses a generated stand-in.`);
  }
  return lines.join("\n");
}
