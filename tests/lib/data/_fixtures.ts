/**
 * Synthetic data files for the loader tests: IDX arrays, gzip, temporary cache folders.
 */

/** Bytes of a uint8 IDX file of the given shape. */
export function idxBytes(shape: number[], data: Uint8Array): Uint8Array {
  const header = new Uint8Array(4 + 4 * shape.length);
  const view = new DataView(header.buffer);
  header[2] = 0x08;
  header[3] = shape.length;
  shape.forEach((d, i) => view.setUint32(4 + 4 * i, d));
  const out = new Uint8Array(header.length + data.length);
  out.set(header);
  out.set(data, header.length);
  return out;
}

/** Gzip bytes with the platform's CompressionStream. */
export async function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream()
    .pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** A fresh temporary folder, removed by the returned function. */
export async function tempDir(): Promise<{ path: string; [Symbol.asyncDispose](): Promise<void> }> {
  const path = await Deno.makeTempDir({ prefix: "convlab-data-test-" });
  return { path, [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }) };
}

/** Whether Debian's dataset-fashion-mnist files are installed. */
export function hasDebianFashionMnist(): boolean {
  try {
    return Deno.statSync("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz").isFile;
  } catch {
    return false;
  }
}
