/**
 * Reading data files: gzip detection, decompression with errors that name the file, hashing.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { DatasetFormatError } from "./errors.ts";

/** Whether bytes start with the gzip magic number (1f 8b). */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Decompress gzip bytes. A truncated or corrupt stream throws a {@link DatasetFormatError}
 * naming `file`.
 *
 * @param bytes The gzip bytes.
 * @param file Where the bytes came from, for the error message.
 * @returns The decompressed bytes.
 * @example
 * ```ts
 * import { gunzip } from "./files.ts";
 * const zipped = new Uint8Array(
 *   await new Response(new Blob(["hi"]).stream().pipeThrough(new CompressionStream("gzip")))
 *     .arrayBuffer(),
 * );
 * console.log(new TextDecoder().decode(await gunzip(zipped, "hi.gz"))); // "hi"
 * ```
 */
export async function gunzip(bytes: Uint8Array, file: string): Promise<Uint8Array> {
  try {
    const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream()
      .pipeThrough(new DecompressionStream("gzip"));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new DatasetFormatError(
      file,
      `not a valid gzip stream (${reason}); the file is truncated or corrupt — delete it and ` +
        `download it again`,
    );
  }
}

/**
 * Read a file and decompress it when it is gzip (by its magic bytes, not its name).
 *
 * @param path The file to read.
 * @returns The raw bytes as stored, and the decompressed content.
 */
export async function readMaybeGzip(
  path: string,
): Promise<{ stored: Uint8Array; content: Uint8Array; gzipped: boolean }> {
  const stored = await Deno.readFile(path);
  if (!isGzip(stored)) return { stored, content: stored, gzipped: false };
  return { stored, content: await gunzip(stored, path), gzipped: true };
}

/** Hex digest of bytes (`sha256` or `md5`), via node:crypto (streams large inputs fast). */
export function hexDigest(algorithm: "sha256" | "md5", bytes: Uint8Array): string {
  return createHash(algorithm).update(bytes).digest("hex");
}

/** Whether a path exists (a file or folder). Missing permission counts as missing. */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotCapable) {
      return false;
    }
    if (error instanceof Deno.errors.PermissionDenied) return false;
    throw error;
  }
}

/** Format a byte count for people: "9.9 MB". */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ["kB", "MB", "GB"];
  let value = bytes;
  let unit = -1;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** Format a count with thousands separators: 60000 → "60,000". */
export function formatCount(n: number): string {
  return n.toLocaleString("en-US");
}
