/** Models and pictures for the app tests, made on the spot (nothing is downloaded). */
import { join } from "node:path";
import { Zlib } from "fflate";
import * as cl from "../../lib/mod.ts";

/**
 * Save an untrained (seeded) copy of the course's small convnet with Fashion-MNIST's class names:
 * enough for the classify app's top-5 and Grad-CAM to have something to show.
 */
export async function saveTinyClassifier(dir: string): Promise<string> {
  cl.seed(7);
  const model = cl.models.mnistConvnet();
  model.setUserDefinedMetadata({
    classNames: cl.datasets.FASHION_MNIST_CLASSES,
    inputRange: [0, 1],
    description: "An untrained test convnet",
    invertLightBackground: true,
  });
  await cl.saveModel(model, dir);
  model.dispose();
  return dir;
}

/** A PNG of the lib's test card (edges, gradients, text). */
export async function testCardPng(): Promise<Uint8Array<ArrayBuffer>> {
  const card = await cl.image.testCard();
  const png = await cl.image.encodePng(card);
  card.dispose();
  return new Uint8Array(png);
}

/** The same picture as a JPEG, written to `dir`. */
export async function writeTestPictures(dir: string) {
  const card = await cl.image.testCard();
  const files = {
    png: join(dir, "card.png"),
    jpeg: join(dir, "card.jpg"),
    text: join(dir, "notes.txt"),
  };
  await cl.image.writeImage(files.png, card);
  await cl.image.writeImage(files.jpeg, card);
  await Deno.writeTextFile(files.text, "These are my notes, not a picture.\n");
  card.dispose();
  return files;
}

function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? 0xedb88320 ^ (crc >>> 1) : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function pngChunk(type: string, data: Uint8Array): Uint8Array {
  const chunk = new Uint8Array(12 + data.length);
  const view = new DataView(chunk.buffer);
  view.setUint32(0, data.length);
  chunk.set(new TextEncoder().encode(type), 4);
  chunk.set(data, 8);
  view.setUint32(8 + data.length, crc32(chunk.subarray(4, 8 + data.length)));
  return chunk;
}

/**
 * A valid-looking PNG "zip bomb": a `side`×`side` grey header (a few hundred bytes of pixels)
 * whose image data unpacks to `megabytes` MB of zeros, from a file of about a thousandth of that.
 */
export function pngBomb(side: number, megabytes: number): Uint8Array<ArrayBuffer> {
  const parts: Uint8Array[] = [];
  const zlib = new Zlib({ level: 9 }, (chunk) => parts.push(chunk));
  const zeros = new Uint8Array(1_000_000);
  for (let i = 0; i < megabytes; i++) zlib.push(zeros, i === megabytes - 1);
  const header = new Uint8Array(13);
  new DataView(header.buffer).setUint32(0, side);
  new DataView(header.buffer).setUint32(4, side);
  header[8] = 8; // bit depth; colour type 0 (grey), no interlace
  const chunks = [
    new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk("IHDR", header),
    ...parts.map((part) => pngChunk("IDAT", part)),
    pngChunk("IEND", new Uint8Array(0)),
  ];
  const png = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    png.set(chunk, offset);
    offset += chunk.length;
  }
  return png;
}
