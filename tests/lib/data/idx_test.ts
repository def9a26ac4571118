import assert from "node:assert/strict";
import { join } from "node:path";
import { DatasetFormatError, parseIdx, readIdxFile } from "../../../lib/data/mod.ts";
import { gzip, idxBytes, tempDir } from "./_fixtures.ts";

Deno.test("parseIdx() reads the shape and values of a uint8 image file", () => {
  const data = Uint8Array.from({ length: 2 * 3 * 4 }, (_, i) => i * 10);
  const parsed = parseIdx(idxBytes([2, 3, 4], data), "x.idx");
  assert.equal(parsed.type, "uint8");
  assert.deepEqual(parsed.shape, [2, 3, 4]);
  assert.deepEqual([...parsed.data], [...data]);
});

Deno.test("parseIdx() reads big-endian int16 and float32 values", () => {
  const int16 = new Uint8Array([0, 0, 0x0b, 1, 0, 0, 0, 2, 0xff, 0xfe, 0x01, 0x00]);
  assert.deepEqual([...parseIdx(int16, "s.idx").data], [-2, 256]);
  const float = new Uint8Array([0, 0, 0x0d, 1, 0, 0, 0, 1, 0x3f, 0xc0, 0, 0]);
  const parsed = parseIdx(float, "f.idx");
  assert.equal(parsed.type, "float32");
  assert.deepEqual([...parsed.data], [1.5]);
});

Deno.test("parseIdx() rejects a bad magic number, naming the file", () => {
  const bytes = new Uint8Array([0x50, 0x4b, 3, 4, 0, 0, 0, 0]); // a ZIP header
  assert.throws(() => parseIdx(bytes, "train-images-idx3-ubyte"), (e: unknown) => {
    assert.ok(e instanceof DatasetFormatError);
    assert.match(
      e.message,
      /train-images-idx3-ubyte: not an IDX file: bad magic number 0x504b0304/,
    );
    return true;
  });
});

Deno.test("parseIdx() rejects a truncated header and a truncated body with the sizes", () => {
  assert.throws(() => parseIdx(new Uint8Array([0, 0, 8, 3, 0, 0]), "h.idx"), /truncated header/);
  const full = idxBytes([10, 28, 28], new Uint8Array(10 * 784));
  assert.throws(
    () => parseIdx(full.subarray(0, 1000), "t10k-images-idx3-ubyte"),
    /t10k-images-idx3-ubyte: truncated: a 10×28×28 uint8 array needs 7,856 bytes, the file has 1,000/,
  );
});

Deno.test("parseIdx() rejects bytes after the array (header and size disagree)", () => {
  const bytes = idxBytes([3], new Uint8Array([1, 2, 3, 4]));
  assert.throws(() => parseIdx(bytes, "l.idx"), /1 unexpected bytes after the 3 uint8 array/);
});

Deno.test("readIdxFile() reads gzip and raw files alike", async () => {
  await using dir = await tempDir();
  const bytes = idxBytes([4], new Uint8Array([3, 1, 4, 1]));
  await Deno.writeFile(join(dir.path, "a.gz"), await gzip(bytes));
  await Deno.writeFile(join(dir.path, "a"), bytes);
  assert.deepEqual([...(await readIdxFile(join(dir.path, "a.gz"))).data], [3, 1, 4, 1]);
  assert.deepEqual([...(await readIdxFile(join(dir.path, "a"))).data], [3, 1, 4, 1]);
});

Deno.test("readIdxFile() reports a truncated gzip file by name", async () => {
  await using dir = await tempDir();
  const zipped = await gzip(idxBytes([100], new Uint8Array(100).fill(7)));
  const path = join(dir.path, "train-labels-idx1-ubyte.gz");
  await Deno.writeFile(path, zipped.subarray(0, zipped.length - 6));
  await assert.rejects(() => readIdxFile(path), (e: unknown) => {
    assert.ok(e instanceof DatasetFormatError);
    assert.equal(e.file, path);
    assert.match(e.message, /not a valid gzip stream .*truncated or corrupt/);
    return true;
  });
});
