import assert from "node:assert/strict";
import { join } from "node:path";
import * as cl from "../../../lib/mod.ts";
import { tf } from "../../../lib/backend.ts";
import { encodeJpeg, encodePng } from "../../../lib/image/codec.ts";
import { tempDir } from "./_fixtures.ts";

const { DatasetFormatError, imageFolder } = cl.datasets;

/** A class folder tree: cats are red, dogs blue, of varied sizes, PNG and JPEG mixed. */
async function makeFolder(root: string, perClass = 5): Promise<void> {
  for (const [name, colour] of [["cats", [220, 30, 30]], ["dogs", [30, 30, 220]]] as const) {
    await Deno.mkdir(join(root, name, "more"), { recursive: true });
    for (let i = 0; i < perClass; i++) {
      const [h, w] = [20 + 3 * i, 30 - 2 * i];
      const image = tf.tidy(() =>
        tf.tile(tf.tensor3d([...colour], [1, 1, 3], "int32"), [h, w, 1]) as tf.Tensor3D
      );
      const bytes = i % 2 ? await encodeJpeg(image) : await encodePng(image);
      image.dispose();
      const sub = i === perClass - 1 ? "more" : ""; // one image one level deeper
      await Deno.writeFile(join(root, name, sub, `${name}.${i}.${i % 2 ? "jpg" : "png"}`), bytes);
    }
  }
  await Deno.writeTextFile(join(root, "cats", "notes.txt"), "not an image");
}

/** Every batch of one epoch, checked and disposed: labels and files in order. */
async function epoch(dataset: cl.datasets.ImageFolderDataset) {
  const labels: number[] = [];
  const files: string[] = [];
  for await (const { xs, ys, files: batchFiles } of dataset) {
    assert.equal(xs.dtype, "float32");
    const redness = tf.tidy(() => xs.slice([0, 0, 0, 0], [-1, -1, -1, 1]).mean([1, 2, 3]));
    const red = await redness.data();
    redness.dispose();
    const batchLabels = ys ? [...await ys.data()] : [];
    batchLabels.forEach((label, k) => assert.equal(label === 0, red[k] > 127, batchFiles[k]));
    labels.push(...batchLabels);
    files.push(...batchFiles);
    tf.dispose([xs, ys!].filter(Boolean));
  }
  return { labels, files };
}

Deno.test("imageFolder() reads class subfolders as labelled, resized batches, like Keras", async () => {
  await using dir = await tempDir();
  await makeFolder(dir.path);
  const before = tf.memory().numTensors;
  const lines: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => lines.push(a.join(" "));
  let data;
  try {
    data = await imageFolder(dir.path, { imageSize: [16, 24], batchSize: 4, seed: 3 });
  } finally {
    console.log = log;
  }
  assert.deepEqual(lines, [
    "Found 10 files belonging to 2 classes. Ignored 1 files that are not PNG or JPEG.",
  ]);
  assert.deepEqual(data.classNames, ["cats", "dogs"]);
  assert.equal(data.count, 10);
  assert.equal(data.length, 3);
  const first = await data.batchAt([0, 1]);
  assert.deepEqual(first.xs.shape, [2, 16, 24, 3]);
  const max = tf.tidy(() => first.xs.max());
  assert.ok((await max.data())[0] > 200); // 0–255 values, as Keras gives
  tf.dispose([first.xs, first.ys!, max]);
  const one = await epoch(data);
  assert.equal(one.labels.length, 10);
  assert.deepEqual(one.labels.filter((l) => l === 0).length, 5);
  assert.ok(one.files.some((f) => f.startsWith(join("cats", "more"))));
  const two = await epoch(data);
  assert.notDeepEqual(two.files, one.files); // reshuffled each epoch
  assert.deepEqual([...two.files].sort(), [...one.files].sort());
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("imageFolder() validation split: disjoint subsets that the seed reproduces", async () => {
  await using dir = await tempDir();
  await makeFolder(dir.path, 10);
  const options = {
    imageSize: [8, 8] as [number, number],
    validationSplit: 0.3,
    seed: 7,
    quiet: true,
  };
  const [train, val] = await imageFolder(dir.path, { ...options, subset: "both" });
  assert.equal(train.count, 14);
  assert.equal(val.count, 6);
  assert.equal(new Set([...train.files, ...val.files]).size, 20);
  const again = await imageFolder(dir.path, { ...options, subset: "validation" });
  assert.deepEqual(again.files, val.files);
  const other = await imageFolder(dir.path, { ...options, seed: 8, subset: "validation" });
  assert.notDeepEqual(other.files, val.files);
  assert.match(val.summary(), /6 images \(validation subset, seed 7\), 2 classes: cats, dogs/);
});

Deno.test("imageFolder() label modes, colour modes, normalisation and aspect-ratio crop", async () => {
  await using dir = await tempDir();
  await makeFolder(dir.path, 3);
  const base = { imageSize: [10, 10] as [number, number], quiet: true, shuffle: false };
  const categorical = await imageFolder(dir.path, { ...base, labelMode: "categorical" });
  const batch = await categorical.batchAt([0, 5]);
  assert.deepEqual(await batch.ys!.array(), [[1, 0], [0, 1]]);
  const binary = await imageFolder(dir.path, { ...base, labelMode: "binary" });
  const b2 = await binary.batchAt([0, 5]);
  assert.deepEqual(b2.ys!.shape, [2, 1]);
  const grey = await imageFolder(dir.path, {
    ...base,
    colorMode: "grayscale",
    normalize: true,
    labelMode: null,
    cropToAspectRatio: true,
  });
  const b3 = await grey.batchAt([0]);
  assert.deepEqual(b3.xs.shape, [1, 10, 10, 1]);
  assert.equal(b3.ys, undefined);
  const max = tf.tidy(() => b3.xs.max());
  assert.ok((await max.data())[0] <= 1);
  tf.dispose([batch.xs, batch.ys!, b2.xs, b2.ys!, b3.xs, max]);
});

Deno.test("imageFolder() names the file that cannot be decoded", async () => {
  await using dir = await tempDir();
  await makeFolder(dir.path, 2);
  await Deno.writeFile(join(dir.path, "dogs", "broken.png"), new Uint8Array([0x89, 0x50, 1, 2]));
  const data = await imageFolder(dir.path, { imageSize: [8, 8], quiet: true, shuffle: false });
  const before = tf.memory().numTensors;
  const broken = data.files.indexOf(join("dogs", "broken.png"));
  await assert.rejects(() => data.batchAt([0, broken]), (e: unknown) => {
    assert.ok(e instanceof DatasetFormatError);
    assert.equal(e.file, join(dir.path, "dogs", "broken.png"));
    assert.match(e.message, /not a PNG or JPEG file/);
    return true;
  });
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("imageFolder() explains a missing folder, no classes, no images and bad options", async () => {
  await using dir = await tempDir();
  await assert.rejects(
    () => imageFolder(join(dir.path, "nope")),
    /Cannot read image folder .*nope/,
  );
  await assert.rejects(() => imageFolder(dir.path), /no class subfolders found/);
  await Deno.mkdir(join(dir.path, "a"));
  await Deno.mkdir(join(dir.path, "b"));
  await Deno.mkdir(join(dir.path, "c"));
  await Deno.writeTextFile(join(dir.path, "a", "x.gif"), "GIF89a");
  await assert.rejects(
    () => imageFolder(dir.path, { quiet: true }),
    /no PNG or JPEG images found \(1 other files ignored, e\.g\. a\/x\.gif\)/,
  );
  await makeFolder(dir.path, 1);
  await assert.rejects(
    () => imageFolder(dir.path, { quiet: true, labelMode: "binary" }),
    /labelMode "binary" needs exactly 2 classes, found 5/,
  );
  await assert.rejects(
    () => imageFolder(dir.path, { classNames: ["cats", "horses"] }),
    /classNames lists horses, which is not a subfolder/,
  );
  await assert.rejects(
    () => imageFolder(dir.path, { validationSplit: 0.2 }),
    /with validationSplit, say which subset/,
  );
  await assert.rejects(
    () => imageFolder(dir.path, { validationSplit: 1.5, subset: "training" }),
    /between 0 and 1/,
  );
  await assert.rejects(() => imageFolder(dir.path, { imageSize: [0, 5] }), /imageSize must be/);
});

Deno.test("imageFolder() refuses Keras's snake_case options and a split that leaves no validation images", async () => {
  await using dir = await tempDir();
  await makeFolder(dir.path, 2); // 4 images
  await assert.rejects(
    // deno-lint-ignore no-explicit-any
    () => imageFolder(dir.path, { image_size: [8, 8], quiet: true } as any),
    /unknown option "image_size" \(options are camelCase: imageSize\)/,
  );
  await assert.rejects(
    () => imageFolder(dir.path, { validationSplit: 0.1, subset: "both", seed: 1, quiet: true }),
    /validationSplit 0\.1 of 4 images leaves no validation images/,
  );
});

Deno.test("imageFolder() resizes as TF2's tf.image.resize (bilinear and bicubic)", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(join(dir.path, "a"));
  const image = tf.tidy(() =>
    tf.tensor3d(Array.from({ length: 6 * 9 * 3 }, (_, i) => (i * 37) % 256), [6, 9, 3], "int32")
  );
  await Deno.writeFile(join(dir.path, "a", "x.png"), await encodePng(image));
  for (const interpolation of ["bilinear", "bicubic"] as const) {
    const data = await imageFolder(dir.path, { imageSize: [13, 7], interpolation, quiet: true });
    const { xs, ys } = await data.batchAt([0]);
    const expected = tf.tidy(() => cl.image.resize(image, [13, 7], { method: interpolation }));
    const diff = tf.tidy(() => xs.squeeze([0]).sub(expected).abs().max());
    assert.ok((await diff.data())[0] < 1e-3, interpolation);
    tf.dispose([xs, ys!, expected, diff]);
  }
  image.dispose();
});
