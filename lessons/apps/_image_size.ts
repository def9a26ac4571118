/**
 * The pixel size of a PNG or JPEG from its header, and whether a PNG's data unpacks to more than
 * its header says, read before decoding so that an app can refuse a picture too large to decode (a
 * small file can declare billions of pixels, or hold a "zip bomb" behind a small header).
 *
 * @module
 */

import { Unzlib } from "fflate";

/** Width and height in pixels, or `undefined` when the header cannot be read. */
export function imageDimensions(
  bytes: Uint8Array,
): { width: number; height: number } | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // PNG: 8-byte signature, then the IHDR chunk (length, "IHDR", width, height).
  if (bytes.length >= 24 && bytes[0] === 0x89 && bytes[1] === 0x50) {
    const isIhdr = bytes[12] === 0x49 && bytes[13] === 0x48 && bytes[14] === 0x44 &&
      bytes[15] === 0x52;
    return isIhdr ? { width: view.getUint32(16), height: view.getUint32(20) } : undefined;
  }
  // JPEG: walk the marker segments to the first start-of-frame (SOF0–SOF15 but DHT, JPG, DAC).
  if (bytes.length >= 4 && bytes[0] === 0xff && bytes[1] === 0xd8) {
    let i = 2;
    while (i + 3 < bytes.length) {
      if (bytes[i] !== 0xff) return undefined;
      const marker = bytes[i + 1];
      if (marker === 0xff) { // fill byte
        i++;
        continue;
      }
      if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd9)) { // no length
        i += 2;
        continue;
      }
      const length = view.getUint16(i + 2);
      const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 &&
        marker !== 0xcc;
      if (isFrame) {
        if (i + 9 > bytes.length) return undefined;
        return { height: view.getUint16(i + 5), width: view.getUint16(i + 7) };
      }
      i += 2 + length;
    }
  }
  return undefined;
}

/** Adam7's passes: first column, first row, column step, row step. */
const ADAM7: [number, number, number, number][] = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
];

/** Samples per pixel of each PNG colour type (grey, RGB, palette, grey+alpha, RGBA). */
const PNG_CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/**
 * How many bytes a PNG's image data must inflate to, from its header (each row's filter byte
 * included; Adam7-interlaced images row by row of each pass); `undefined` when the header is not
 * a PNG's or names an unknown colour type.
 */
export function pngRawSize(bytes: Uint8Array): number | undefined {
  const size = imageDimensions(bytes);
  if (!size || bytes[0] !== 0x89) return undefined;
  const bitDepth = bytes[24];
  const channels = PNG_CHANNELS[bytes[25]];
  if (!channels || ![1, 2, 4, 8, 16].includes(bitDepth)) return undefined;
  const rowBytes = (width: number) =>
    width === 0 ? 0 : 1 + Math.ceil(width * channels * bitDepth / 8);
  if (bytes[28] !== 1) return size.height * rowBytes(size.width);
  let total = 0;
  for (const [x0, y0, dx, dy] of ADAM7) {
    const width = Math.max(0, Math.ceil((size.width - x0) / dx));
    const height = Math.max(0, Math.ceil((size.height - y0) / dy));
    total += height * rowBytes(width);
  }
  return total;
}

/**
 * Whether a PNG's compressed image data (its IDAT chunks) inflates to more than `limit` bytes:
 * inflated a kilobyte at a time and counted, never held, so a "zip bomb" — a small file whose data
 * unpacks to gigabytes whatever its header says — is caught after `limit` bytes of work and
 * memory. Truncated or corrupt data is left to the decoder to report.
 */
export function pngInflatesBeyond(bytes: Uint8Array, limit: number): boolean {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let inflated = 0;
  const stream = new Unzlib((chunk) => {
    inflated += chunk.length;
  });
  let offset = 8;
  try {
    while (offset + 8 <= bytes.length) {
      const length = view.getUint32(offset);
      const type = String.fromCharCode(...bytes.subarray(offset + 4, offset + 8));
      const end = Math.min(bytes.length, offset + 8 + length);
      if (type === "IDAT") {
        for (let i = offset + 8; i < end; i += 1024) {
          stream.push(bytes.subarray(i, Math.min(end, i + 1024)));
          if (inflated > limit) return true;
        }
      }
      if (type === "IEND") break;
      offset = end + 4;
    }
  } catch {
    return false; // corrupt data: the decoder says what is wrong with it
  }
  return inflated > limit;
}
