/**
 * The IDX file format of MNIST and Fashion-MNIST (LeCun et al.): a 4-byte magic number
 * (two zero bytes, a type code, the number of dimensions), one big-endian uint32 per dimension,
 * then the values, big-endian, row-major.
 *
 * Introduced in lesson 02 (LeNet-5 on MNIST), where the loader reads these files.
 *
 * @module
 */

import { DatasetFormatError } from "./errors.ts";
import { formatCount, readMaybeGzip } from "./files.ts";

/** The element types IDX files can hold, by type code. */
const IDX_TYPES = {
  0x08: { name: "uint8", size: 1 },
  0x09: { name: "int8", size: 1 },
  0x0b: { name: "int16", size: 2 },
  0x0c: { name: "int32", size: 4 },
  0x0d: { name: "float32", size: 4 },
  0x0e: { name: "float64", size: 8 },
} as const;

/** The element type of an IDX file. */
export type IdxType = (typeof IDX_TYPES)[keyof typeof IDX_TYPES]["name"];

/** A parsed IDX array. */
export interface IdxArray {
  /** The element type stored in the file. */
  type: IdxType;
  /** The dimensions, e.g. `[60000, 28, 28]`. */
  shape: number[];
  /** The values, row-major. `uint8` data is a view of the input bytes (no copy). */
  data: Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;
}

/**
 * Parse the bytes of an (uncompressed) IDX file.
 *
 * @param bytes The file's bytes (gunzip `.gz` files first, or use {@link readIdxFile}).
 * @param file The file name, used in error messages.
 * @returns The type, shape and values.
 * @throws {DatasetFormatError} On a bad magic number, a truncated header or body, or
 *   trailing bytes.
 * @example
 * ```ts
 * import { parseIdx } from "./idx.ts";
 * // A 1-D uint8 IDX file holding [7, 2, 1]:
 * const bytes = new Uint8Array([0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 1]);
 * const { shape, data } = parseIdx(bytes, "labels.idx");
 * console.log(shape, [...data]); // [3] [7, 2, 1]
 * ```
 */
export function parseIdx(bytes: Uint8Array, file: string): IdxArray {
  if (bytes.length < 4) {
    throw new DatasetFormatError(
      file,
      `not an IDX file: ${bytes.length} bytes is shorter than the 4-byte header`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0);
  const typeCode = bytes[2];
  const rank = bytes[3];
  const type = IDX_TYPES[typeCode as keyof typeof IDX_TYPES];
  if (bytes[0] !== 0 || bytes[1] !== 0 || type === undefined || rank === 0) {
    throw new DatasetFormatError(
      file,
      `not an IDX file: bad magic number 0x${magic.toString(16).padStart(8, "0")} ` +
        `(expected 0x000008NN for uint8 data with NN dimensions, e.g. 0x00000803 for images)`,
    );
  }
  const headerSize = 4 + 4 * rank;
  if (bytes.length < headerSize) {
    throw new DatasetFormatError(
      file,
      `truncated header: ${rank} dimensions need ${headerSize} bytes, the file has ${bytes.length}`,
    );
  }
  const shape: number[] = [];
  for (let i = 0; i < rank; i++) shape.push(view.getUint32(4 + 4 * i));
  const count = shape.reduce((a, b) => a * b, 1);
  const expected = headerSize + count * type.size;
  const shapeText = shape.join("×");
  if (bytes.length < expected) {
    throw new DatasetFormatError(
      file,
      `truncated: a ${shapeText} ${type.name} array needs ${formatCount(expected)} bytes, ` +
        `the file has ${formatCount(bytes.length)}`,
    );
  }
  if (bytes.length > expected) {
    throw new DatasetFormatError(
      file,
      `${formatCount(bytes.length - expected)} unexpected bytes after the ${shapeText} ` +
        `${type.name} array (header and size disagree)`,
    );
  }
  return { type: type.name, shape, data: readValues(view, headerSize, count, type) };
}

function readValues(
  view: DataView,
  offset: number,
  count: number,
  { name: type, size }: { name: IdxType; size: number },
): IdxArray["data"] {
  const bytes = new Uint8Array(view.buffer, view.byteOffset + offset, count * size);
  switch (type) {
    case "uint8":
      return bytes;
    case "int8":
      return new Int8Array(bytes.buffer, bytes.byteOffset, count);
    default: {
      // Multi-byte values are big-endian in IDX: read them one by one.
      const out = type === "int16"
        ? new Int16Array(count)
        : type === "int32"
        ? new Int32Array(count)
        : type === "float32"
        ? new Float32Array(count)
        : new Float64Array(count);
      for (let i = 0; i < count; i++) {
        const at = offset + i * size;
        out[i] = type === "int16"
          ? view.getInt16(at)
          : type === "int32"
          ? view.getInt32(at)
          : type === "float32"
          ? view.getFloat32(at)
          : view.getFloat64(at);
      }
      return out;
    }
  }
}

/**
 * Read an IDX file from disk, gzip-compressed or raw (detected from its bytes).
 *
 * @param path The file.
 * @returns The parsed array.
 * @throws {DatasetFormatError} When the file is corrupt, naming it.
 */
export async function readIdxFile(path: string): Promise<IdxArray> {
  const { content } = await readMaybeGzip(path);
  return parseIdx(content, path);
}

/**
 * Check that a parsed IDX array holds uint8 images (`[n, h, w]`) or labels (`[n]`) and return
 * its data.
 *
 * @param array The parsed array.
 * @param kind "images" or "labels".
 * @param file The file, for error messages.
 */
export function expectUint8(
  array: IdxArray,
  kind: "images" | "labels",
  file: string,
): Uint8Array {
  const rank = kind === "images" ? 3 : 1;
  if (array.type !== "uint8" || array.shape.length !== rank) {
    throw new DatasetFormatError(
      file,
      `expected ${kind} as a ${rank}-D uint8 IDX array, found a ${array.shape.length}-D ` +
        `${array.type} array of shape ${array.shape.join("×")}`,
    );
  }
  return array.data as Uint8Array;
}
