/**
 * Downloading dataset files: streamed to a temporary file beside the target while hashing,
 * checked against the manifest's size and SHA-256, then renamed into place (atomic: a cache
 * never holds a partial or unverified file under its real name).
 *
 * @module
 */

import { createHash } from "node:crypto";
import { join } from "node:path";
import { displayable, inNotebook, show } from "../display.ts";
import { ChecksumError } from "./errors.ts";
import { formatBytes, formatCount } from "./files.ts";
import type { ManifestFile } from "./manifest.ts";

/** Progress of one file's download. */
export interface DownloadProgress {
  file: string;
  url: string;
  /** Bytes received so far. */
  received: number;
  /** Bytes expected (from the manifest). */
  total: number;
  /** True on the last call for this file. */
  done: boolean;
}

/** Options of {@link downloadFile}. */
export interface DownloadOptions {
  /** A base URL tried before the canonical ones (`<mirror>/<file name>`); default
   * `$CONVLAB_DATA_MIRROR`. Files from it are checked against the same SHA-256. */
  mirror?: string;
  /** Also try the canonical URLs after the mirror (default true); false for a closed network
   * with its own mirror. */
  canonicalUrls?: boolean;
  /** Called as bytes arrive; default: a progress line (or a live display in a notebook). */
  onProgress?: (progress: DownloadProgress) => void;
  /** Abort the download. */
  signal?: AbortSignal;
}

function envMirror(): string | undefined {
  try {
    return Deno.env.get("CONVLAB_DATA_MIRROR") || undefined;
  } catch {
    return undefined;
  }
}

/** The URLs to try for a file, mirror first. */
export function candidateUrls(
  file: ManifestFile,
  mirror = envMirror(),
  canonicalUrls = true,
): string[] {
  const urls = canonicalUrls ? [...file.urls] : [];
  if (mirror) urls.unshift(`${mirror.replace(/\/+$/, "")}/${file.name}`);
  return urls;
}

/** The default progress reporter: a live display in a notebook, a few lines elsewhere. */
export function defaultProgress(): (progress: DownloadProgress) => void {
  let lastShown = 0;
  let lastPercent = -1;
  const displayId = `convlab-download-${crypto.randomUUID()}`;
  const notebook = inNotebook();
  return (p) => {
    const percent = p.total > 0 ? Math.floor((100 * p.received) / p.total) : 0;
    const now = performance.now();
    const text = `Downloading ${p.url}: ${formatBytes(p.received)} of ${formatBytes(p.total)} ` +
      `(${percent}%)${p.done ? " — done, checksum ok" : ""}`;
    if (notebook) {
      if (p.done || now - lastShown > 250) {
        lastShown = now;
        show(displayable({ "text/plain": text }), {
          displayId,
          update: lastPercent >= 0,
        }).catch(() => {});
        lastPercent = percent;
      }
    } else if (p.done || lastPercent < 0 || percent >= lastPercent + 25) {
      lastPercent = percent;
      console.log(text);
    }
  };
}

/**
 * Download one manifest file into `dir` (created if needed), verifying size and SHA-256,
 * trying the mirror and then each canonical URL until one gives the right bytes.
 *
 * @param file The manifest entry.
 * @param dir The folder to put it in (the dataset's cache folder).
 * @param options Mirror, progress callback, abort signal.
 * @returns The path of the verified file.
 * @throws {Error} Listing every URL tried and why it failed (offline, HTTP status, checksum).
 */
export async function downloadFile(
  file: ManifestFile,
  dir: string,
  options: DownloadOptions = {},
): Promise<string> {
  await Deno.mkdir(dir, { recursive: true });
  const target = join(dir, file.name);
  const onProgress = options.onProgress ?? defaultProgress();
  const failures: string[] = [];
  const urls = candidateUrls(file, options.mirror, options.canonicalUrls);
  if (urls.length === 0) throw new Error(`Cannot download ${file.name}: no URL to try`);
  for (const url of urls) {
    const temp = join(dir, `.${file.name}.${crypto.randomUUID().slice(0, 8)}.part`);
    try {
      await fetchTo(url, temp, file, onProgress, options.signal);
      await Deno.rename(temp, target);
      return target;
    } catch (error) {
      await Deno.remove(temp).catch(() => {});
      if (options.signal?.aborted) throw error;
      failures.push(`${url}: ${describeFailure(error)}`);
    }
  }
  throw new Error(`Cannot download ${file.name}:\n  ${failures.join("\n  ")}`);
}

function describeFailure(error: unknown): string {
  if (error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied) {
    return `network access is not permitted here (${error.message})`;
  }
  if (error instanceof TypeError && /fetch|dns|connect|network/i.test(error.message)) {
    return `no connection (${error.message}) — offline?`;
  }
  return error instanceof Error ? error.message : String(error);
}

async function fetchTo(
  url: string,
  temp: string,
  file: ManifestFile,
  onProgress: (progress: DownloadProgress) => void,
  signal?: AbortSignal,
): Promise<void> {
  const response = await fetch(url, { signal });
  if (!response.ok || !response.body) {
    await response.body?.cancel();
    throw new Error(`HTTP ${response.status} ${response.statusText}`.trim());
  }
  const hash = createHash("sha256");
  const maxSize = Math.max(file.size, ...(file.alternates ?? []).map((a) => a.size));
  let received = 0;
  const out = await Deno.open(temp, { write: true, createNew: true });
  const body = response.body.getReader();
  try {
    for (;;) {
      let next: ReadableStreamReadResult<Uint8Array>;
      try {
        next = await body.read();
      } catch (error) {
        if (signal?.aborted) throw error;
        // Not "offline": the server answered, then the transfer broke off.
        throw new Error(
          `the connection dropped after ${formatCount(received)} of ${
            formatCount(file.size)
          } bytes (${(error as Error).message}); try again`,
        );
      }
      if (next.done) break;
      const chunk = next.value;
      received += chunk.length;
      if (received > maxSize) {
        throw new Error(`server sent more than the ${file.size} bytes of ${file.name}`);
      }
      hash.update(chunk);
      for (let written = 0; written < chunk.length;) {
        written += await out.write(chunk.subarray(written));
      }
      onProgress({ file: file.name, url, received, total: file.size, done: false });
    }
    await out.sync();
  } finally {
    out.close();
    // Stops the transfer when it ended in an error (too many bytes, a failed write).
    await body.cancel().catch(() => {});
  }
  const sha256 = hash.digest("hex");
  // A known repackaged copy (e.g. Debian's, served by a course mirror) is as good.
  const copies = [file, ...(file.alternates ?? [])];
  if (!copies.some((copy) => copy.size === received)) {
    throw new Error(
      `incomplete: received ${received} of ${file.size} bytes (connection dropped?)`,
    );
  }
  if (!copies.some((copy) => copy.sha256 === sha256)) {
    throw new ChecksumError(url, file.sha256, sha256, "The download is not the published file");
  }
  onProgress({ file: file.name, url, received, total: file.size, done: true });
}
