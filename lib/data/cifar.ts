/**
 * The CIFAR-10 binary format (Krizhevsky, "CIFAR-10 binary version"): files of 3,073-byte
 * records, each a label byte (0–9) and a 32×32 colour image as 1,024 red, 1,024 green and 1,024
 * blue bytes (rows top to bottom). The published archive `cifar-10-binary.tar.gz` holds
 * `cifar-10-batches-bin/data_batch_1.bin` … `data_batch_5.bin` (10,000 records each),
 * `test_batch.bin` and `batches.meta.txt` (the class names).
 *
 * Introduced in lesson 03 (the CIFAR-10 CNN).
 *
 * @module
 */

import { createTarDecoder } from "modern-tar";
import type { ImageSplit } from "./dataset.ts";
import { DatasetFormatError } from "./errors.ts";
import { formatCount } from "./files.ts";

/** Bytes per record: one label byte and 32·32·3 pixel bytes. */
export const CIFAR_RECORD_BYTES = 1 + 32 * 32 * 3;

const PLANE = 32 * 32;

/**
 * Parse one CIFAR-10 binary batch into images in NHWC order (channels last, as Keras and tfjs
 * expect) and labels.
 *
 * @param bytes The file's bytes.
 * @param file The file name, for errors.
 * @param classes The number of classes (10; labels must be below it).
 * @throws {DatasetFormatError} When the size is not a whole number of records, or a label is
 *   out of range.
 * @example
 * ```ts
 * import { CIFAR_RECORD_BYTES, parseCifarBatch } from "./cifar.ts";
 * const record = new Uint8Array(CIFAR_RECORD_BYTES);
 * record[0] = 3; // label
 * record[1] = 255; // red of the top-left pixel
 * const { images, labels } = parseCifarBatch(record, "one.bin");
 * console.log(labels[0], images[0], images[1]); // 3 255 0
 * ```
 */
export function parseCifarBatch(bytes: Uint8Array, file: string, classes = 10): ImageSplit {
  if (bytes.length === 0 || bytes.length % CIFAR_RECORD_BYTES !== 0) {
    const whole = Math.floor(bytes.length / CIFAR_RECORD_BYTES);
    throw new DatasetFormatError(
      file,
      bytes.length === 0
        ? "empty file (expected 3,073-byte CIFAR-10 records)"
        : `truncated or not a CIFAR-10 batch: ${formatCount(bytes.length)} bytes is not a whole ` +
          `number of 3,073-byte records (${formatCount(whole)} records and ` +
          `${formatCount(bytes.length - whole * CIFAR_RECORD_BYTES)} bytes left over)`,
    );
  }
  const count = bytes.length / CIFAR_RECORD_BYTES;
  const images = new Uint8Array(count * PLANE * 3);
  const labels = new Uint8Array(count);
  for (let r = 0; r < count; r++) {
    const at = r * CIFAR_RECORD_BYTES;
    const label = bytes[at];
    if (label >= classes) {
      throw new DatasetFormatError(
        file,
        `record ${r} (byte ${formatCount(at)}) has label ${label}; CIFAR-10 labels are 0–${
          classes - 1
        } (not a CIFAR-10 batch, or corrupt)`,
      );
    }
    labels[r] = label;
    const out = r * PLANE * 3;
    for (let p = 0; p < PLANE; p++) {
      images[out + 3 * p] = bytes[at + 1 + p];
      images[out + 3 * p + 1] = bytes[at + 1 + PLANE + p];
      images[out + 3 * p + 2] = bytes[at + 1 + 2 * PLANE + p];
    }
  }
  return { images, labels };
}

/** The batch files of the published archive, in the order Keras concatenates them. */
export const CIFAR_TRAIN_FILES = [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`);
/** The test batch file. */
export const CIFAR_TEST_FILE = "test_batch.bin";

/**
 * Read the published `cifar-10-binary.tar.gz`, streaming (the archive is never held whole in
 * memory), into the training split (data batches 1–5 in order, 50,000 images) and the test split.
 *
 * @param path The archive.
 * @param options `onBytes` sees every stored byte in order (to checksum the archive on the way).
 * @returns The splits and the class names from `batches.meta.txt`.
 * @throws {DatasetFormatError} When the archive is corrupt or lacks a batch file, naming both.
 */
export async function readCifarArchive(
  path: string,
  options: { onBytes?: (chunk: Uint8Array) => void } = {},
): Promise<{ train: ImageSplit; test: ImageSplit; classNames?: string[] }> {
  const batches = new Map<string, ImageSplit>();
  let classNames: string[] | undefined;
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path);
  } catch (error) {
    throw new DatasetFormatError(path, `cannot open (${(error as Error).message})`);
  }
  try {
    // The stored bytes pass by `onBytes` (a checksum) on their way to the decompressor.
    const tap = new TransformStream<Uint8Array, Uint8Array<ArrayBuffer>>({
      transform(chunk, controller) {
        options.onBytes?.(chunk);
        controller.enqueue(chunk as Uint8Array<ArrayBuffer>);
      },
    });
    const entries = file.readable
      .pipeThrough(tap)
      .pipeThrough(new DecompressionStream("gzip"))
      .pipeThrough(createTarDecoder());
    for await (const entry of entries) {
      const base = entry.header.name.split("/").pop() ?? "";
      const wanted = CIFAR_TRAIN_FILES.includes(base) || base === CIFAR_TEST_FILE;
      if (!wanted && base !== "batches.meta.txt") {
        await entry.body.cancel();
        continue;
      }
      const bytes = new Uint8Array(await new Response(entry.body).arrayBuffer());
      if (wanted) batches.set(base, parseCifarBatch(bytes, `${path} › ${entry.header.name}`));
      else {
        classNames = new TextDecoder().decode(bytes).split("\n").map((s) => s.trim())
          .filter(Boolean);
      }
    }
  } catch (error) {
    if (error instanceof DatasetFormatError) throw error;
    throw new DatasetFormatError(
      path,
      `not a valid .tar.gz archive (${(error as Error).message}); the file is truncated or ` +
        `corrupt — delete it and download it again`,
    );
  }
  const missing = [...CIFAR_TRAIN_FILES, CIFAR_TEST_FILE].filter((f) => !batches.has(f));
  if (missing.length > 0) {
    throw new DatasetFormatError(
      path,
      `the archive lacks ${missing.join(", ")} (expected cifar-10-batches-bin/ with ` +
        `${[...CIFAR_TRAIN_FILES, CIFAR_TEST_FILE].join(", ")})`,
    );
  }
  return {
    train: concatSplits(CIFAR_TRAIN_FILES.map((f) => batches.get(f)!)),
    test: batches.get(CIFAR_TEST_FILE)!,
    classNames,
  };
}

/** Concatenate splits in order. */
export function concatSplits(splits: ImageSplit[]): ImageSplit {
  const images = new Uint8Array(splits.reduce((n, s) => n + s.images.length, 0));
  const labels = new Uint8Array(splits.reduce((n, s) => n + s.labels.length, 0));
  let i = 0;
  let l = 0;
  for (const split of splits) {
    images.set(split.images, i);
    labels.set(split.labels, l);
    i += split.images.length;
    l += split.labels.length;
  }
  return { images, labels };
}
