/**
 * The manifest of downloadable datasets (`data/manifest.json`): canonical URLs, sizes and
 * checksums of every file, and the checks a file must pass before a loader trusts it.
 *
 * @module
 */

import { join } from "node:path";
import manifestJson from "../../data/manifest.json" with { type: "json" };
import { ChecksumError } from "./errors.ts";
import { exists, formatBytes, hexDigest } from "./files.ts";

/** Checksums of a file's decompressed bytes. */
export interface ContentChecksums {
  size: number;
  md5?: string;
  sha256?: string;
}

/** Another published or packaged copy of a file with the same content but other bytes. */
export interface AlternateCopy {
  what: string;
  size: number;
  sha256: string;
  md5?: string;
}

/** One file of a dataset as published. */
export interface ManifestFile {
  /** What the file holds for the loader, e.g. "trainImages". */
  role: string;
  /** The published file name. */
  name: string;
  /** Canonical URLs, tried in order. */
  urls: string[];
  /** Size in bytes as published. */
  size: number;
  /** SHA-256 (hex) as published. */
  sha256: string;
  md5?: string;
  content?: ContentChecksums;
  alternates?: AlternateCopy[];
}

/** A dataset's manifest entry. */
export interface ManifestDataset {
  title: string;
  homepage: string;
  checksums: Record<string, string>;
  /** Folders where an operating-system package installs the files (e.g. Debian's). */
  systemDirs?: string[];
  /** The package that installs them there, e.g. "Debian dataset-fashion-mnist". */
  systemPackage?: string;
  files: ManifestFile[];
}

/** The parsed `data/manifest.json`. */
export const MANIFEST = manifestJson as unknown as { datasets: Record<string, ManifestDataset> };

/**
 * A dataset's manifest entry.
 *
 * @param name "mnist", "fashion-mnist" or "cifar10".
 * @throws {RangeError} For a name the manifest does not list.
 */
export function manifestEntry(name: string): ManifestDataset {
  const entry = MANIFEST.datasets[name];
  if (!entry) {
    throw new RangeError(
      `Unknown dataset "${name}": data/manifest.json lists ${
        Object.keys(MANIFEST.datasets).join(", ")
      }`,
    );
  }
  return entry;
}

/** A manifest file's name without a trailing `.gz` (the name of its decompressed copy). */
export function rawName(file: ManifestFile): string {
  return file.name.replace(/\.gz$/, "");
}

/**
 * Check a file's bytes against the manifest: its SHA-256 (as published, or as an alternate
 * packaged copy), or, for a decompressed copy, the checksum of its content.
 *
 * @param file The manifest entry.
 * @param path Where the bytes were read from (for messages).
 * @param stored The bytes as stored on disk.
 * @param content The decompressed bytes (the same as `stored` for an uncompressed file).
 * @returns What matched, e.g. "sha256 as published".
 * @throws {ChecksumError} When nothing matches.
 */
export function verifyFile(
  file: ManifestFile,
  path: string,
  stored: Uint8Array,
  content: Uint8Array,
): string {
  const sha256 = hexDigest("sha256", stored);
  if (sha256 === file.sha256) return "sha256 as published";
  for (const alternate of file.alternates ?? []) {
    if (sha256 === alternate.sha256) return `sha256 of the ${alternate.what} copy`;
  }
  const expected = file.content;
  if (expected && content.length === expected.size) {
    if (expected.sha256 && hexDigest("sha256", content) === expected.sha256) {
      return "sha256 of the decompressed content";
    }
    if (!expected.sha256 && expected.md5 && hexDigest("md5", content) === expected.md5) {
      return "md5 of the decompressed content as published";
    }
  }
  throw new ChecksumError(
    path,
    file.sha256,
    sha256,
    `The file is damaged or not the published ${file.name} (${formatBytes(file.size)}); ` +
      `delete it and download it again from ${file.urls[0]}`,
  );
}

/**
 * Find a dataset's files in one of `dirs`: each file as published (`name.gz`) or decompressed.
 * Returns the first folder holding all of them, with each file's path, or undefined.
 *
 * @param entry The dataset's manifest entry.
 * @param dirs Folders to look in, in order.
 */
export async function locateFiles(
  entry: ManifestDataset,
  dirs: string[],
): Promise<{ dir: string; paths: Map<string, string> } | undefined> {
  for (const dir of dirs) {
    const paths = new Map<string, string>();
    for (const file of entry.files) {
      for (const name of [file.name, rawName(file)]) {
        const path = join(dir, name);
        if (await exists(path)) {
          paths.set(file.role, path);
          break;
        }
      }
    }
    if (paths.size === entry.files.length) return { dir, paths };
  }
  return undefined;
}
