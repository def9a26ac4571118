import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { packTar } from "modern-tar";
import * as cl from "../../../lib/mod.ts";
import { tf } from "../../../lib/backend.ts";
import { gzip, tempDir } from "./_fixtures.ts";

const {
  CIFAR_RECORD_BYTES,
  ChecksumError,
  DatasetFormatError,
  DatasetUnavailableError,
  generateStandin,
  parseCifarBatch,
  readCifarArchive,
  STANDIN_CLASSES,
} = cl.datasets;

/** CIFAR records: record r has label labels[r] and every red byte r, green 100+r, blue 200+r. */
function records(labels: number[]): Uint8Array {
  const out = new Uint8Array(labels.length * CIFAR_RECORD_BYTES);
  labels.forEach((label, r) => {
    const at = r * CIFAR_RECORD_BYTES;
    out[at] = label;
    out.fill(r, at + 1, at + 1 + 1024);
    out.fill(100 + r, at + 1 + 1024, at + 1 + 2048);
    out.fill(200 + r, at + 1 + 2048, at + CIFAR_RECORD_BYTES);
  });
  return out;
}

/** A cifar-10-binary.tar.gz with two records per batch (batch b holds labels b, b+1). */
async function archive(options: { omit?: string } = {}): Promise<Uint8Array> {
  const names = [1, 2, 3, 4, 5].map((b) => `data_batch_${b}.bin`).concat("test_batch.bin");
  const entries = names.filter((n) => n !== options.omit).map((name, b) => ({
    header: { name: `cifar-10-batches-bin/${name}`, size: 2 * CIFAR_RECORD_BYTES },
    body: records([b, b + 1]),
  }));
  const meta = new TextEncoder().encode(cl.datasets.CIFAR10_CLASSES.join("\n") + "\n");
  entries.push({
    header: { name: "cifar-10-batches-bin/batches.meta.txt", size: meta.length },
    body: meta,
  });
  return await gzip(await packTar(entries));
}

Deno.test("parseCifarBatch() turns planar RGB records into NHWC images and labels", () => {
  const { images, labels } = parseCifarBatch(records([3, 7]), "b.bin");
  assert.deepEqual([...labels], [3, 7]);
  assert.equal(images.length, 2 * 32 * 32 * 3);
  assert.deepEqual([...images.subarray(0, 6)], [0, 100, 200, 0, 100, 200]);
  const second = 32 * 32 * 3;
  assert.deepEqual([...images.subarray(second, second + 3)], [1, 101, 201]);
});

Deno.test("parseCifarBatch() rejects a truncated file and out-of-range labels, naming the file", () => {
  const bytes = records([1, 2]);
  assert.throws(() => parseCifarBatch(bytes.subarray(0, 5000), "data_batch_1.bin"), (e) => {
    assert.ok(e instanceof DatasetFormatError);
    assert.match(
      e.message,
      /data_batch_1\.bin: truncated or not a CIFAR-10 batch: 5,000 bytes is not a whole number of 3,073-byte records \(1 records and 1,927 bytes left over\)/,
    );
    return true;
  });
  bytes[CIFAR_RECORD_BYTES] = 200;
  assert.throws(
    () => parseCifarBatch(bytes, "test_batch.bin"),
    /test_batch\.bin: record 1 \(byte 3,073\) has label 200; CIFAR-10 labels are 0–9/,
  );
  assert.throws(() => parseCifarBatch(new Uint8Array(0), "e.bin"), /empty file/);
});

Deno.test("readCifarArchive() streams the tar.gz: batches 1–5 in order, the test batch, the bytes", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "cifar-10-binary.tar.gz");
  const bytes = await archive();
  await Deno.writeFile(path, bytes);
  const hash = createHash("sha256");
  const { train, test, classNames } = await readCifarArchive(path, {
    onBytes: (b) => hash.update(b),
  });
  assert.deepEqual([...train.labels], [0, 1, 1, 2, 2, 3, 3, 4, 4, 5]);
  assert.deepEqual([...test.labels], [5, 6]);
  assert.equal(train.images.length, 10 * 3072);
  assert.deepEqual(classNames, cl.datasets.CIFAR10_CLASSES);
  assert.equal(hash.digest("hex"), createHash("sha256").update(bytes).digest("hex"));
});

Deno.test("readCifarArchive() names a missing batch and a truncated archive", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "cifar-10-binary.tar.gz");
  await Deno.writeFile(path, await archive({ omit: "data_batch_3.bin" }));
  await assert.rejects(() => readCifarArchive(path), /the archive lacks data_batch_3\.bin/);
  const whole = await archive();
  await Deno.writeFile(path, whole.subarray(0, whole.length - 100));
  await assert.rejects(() => readCifarArchive(path), (e: unknown) => {
    assert.ok(e instanceof DatasetFormatError);
    assert.equal(e.file, path);
    assert.match(e.message, /not a valid \.tar\.gz archive .*truncated or corrupt/);
    return true;
  });
});

Deno.test("cifar10() refuses a cached archive that is not the published one", async () => {
  await using cache = await tempDir();
  const dir = join(cache.path, "datasets", "cifar10");
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeFile(join(dir, "cifar-10-binary.tar.gz"), await archive());
  await assert.rejects(() => cl.datasets.cifar10({ cacheDir: cache.path, quiet: true }), (e) => {
    assert.ok(e instanceof ChecksumError);
    assert.match(
      e.message,
      /expected sha256 c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd/,
    );
    assert.match(e.message, /cs\.toronto\.edu\/~kriz\/cifar-10-binary\.tar\.gz/);
    return true;
  });
});

Deno.test("cifar10({source: 'full', download: false}) offline says where to get the archive", async () => {
  await using cache = await tempDir();
  await assert.rejects(
    () => cl.datasets.cifar10({ source: "full", download: false, cacheDir: cache.path }),
    (e: unknown) => {
      assert.ok(e instanceof DatasetUnavailableError);
      assert.match(e.message, /https:\/\/www\.cs\.toronto\.edu\/~kriz\/cifar-10-binary\.tar\.gz/);
      assert.ok(e.message.includes(join(cache.path, "datasets", "cifar10")));
      assert.match(e.message, /stand-in/);
      return true;
    },
  );
});

Deno.test("cifar10() offline gives the stand-in, labelled as such, with CIFAR's shapes", async () => {
  await using cache = await tempDir();
  const before = tf.memory().numTensors;
  const data = await cl.datasets.cifar10({
    cacheDir: cache.path,
    subset: { train: 300, test: 100 },
    seed: 5,
    oneHot: true,
    quiet: true,
  });
  assert.equal(data.info.source, "standin");
  assert.deepEqual(data.classNames, STANDIN_CLASSES);
  assert.match(data.summary(), /STAND-IN \(generated images, not the real dataset\)/);
  assert.match(data.summary(), /deno task data fetch cifar10/);
  assert.equal(data.info.availableTrain, 50000);
  assert.deepEqual(data.xTrain.shape, [300, 32, 32, 3]);
  assert.deepEqual(data.yTest.shape, [100, 10]);
  const counts = new Array(10).fill(0);
  for (const label of data.arrays.yTrain) counts[label]++;
  assert.ok(counts.every((c) => c >= 25 && c <= 35), `class counts ${counts}`);
  data.dispose();
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("stand-in images depend only on (standinSeed, split, index)", async () => {
  const some = generateStandin(0, "train", [7, 3]);
  const many = generateStandin(0, "train", [0, 1, 2, 3, 4, 5, 6, 7]);
  const image = (split: { images: Uint8Array }, k: number) =>
    split.images.subarray(k * 3072, (k + 1) * 3072);
  assert.deepEqual(image(some, 0), image(many, 7));
  assert.deepEqual(image(some, 1), image(many, 3));
  assert.notDeepEqual(image(generateStandin(1, "train", [7]), 0), image(some, 0));
  assert.notDeepEqual(image(generateStandin(0, "test", [7]), 0), image(some, 0));
  const a = await cl.datasets.cifar10({ source: "standin", subset: 50, seed: 1, quiet: true });
  const b = await cl.datasets.cifar10({ source: "standin", subset: 50, seed: 1, quiet: true });
  assert.deepEqual(a.arrays.xTrain, b.arrays.xTrain);
});

Deno.test("stand-in images vary in colour within a class and use the whole byte range", () => {
  const { images, labels } = generateStandin(0, "train", Array.from({ length: 200 }, (_, i) => i));
  const ofClass = [...labels.keys()].filter((i) => labels[i] === 0).slice(0, 10);
  const meanColour = (k: number) => {
    const sums = [0, 0, 0];
    for (let p = 0; p < 1024; p++) {
      for (let c = 0; c < 3; c++) sums[c] += images[k * 3072 + 3 * p + c];
    }
    return sums.map((s) => Math.round(s / 1024)).join(",");
  };
  assert.ok(new Set(ofClass.map(meanColour)).size >= 9, "images of one class look alike");
  // Pixels use the whole byte range across the set.
  assert.equal(images.reduce((a, b) => Math.min(a, b)), 0);
  assert.equal(images.reduce((a, b) => Math.max(a, b)), 255);
});

Deno.test("cifar10() rejects a bad source and a bad standinSeed", async () => {
  // deno-lint-ignore no-explicit-any
  await assert.rejects(() => cl.datasets.cifar10({ source: "real" as any }), /got "real"/);
  await assert.rejects(
    () => cl.datasets.cifar10({ source: "standin", standinSeed: -1, subset: 10 }),
    /standinSeed must be a non-negative integer, got -1/,
  );
});
