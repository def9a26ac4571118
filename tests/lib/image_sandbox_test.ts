/**
 * Grading runs lessons in sandboxed kernels without FFI (often without any permission): the image
 * path (codecs, resize), the visuals and augmentation must work there. A child Deno with no
 * permission flags at all runs them.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

const SCRIPT = `
import * as cl from "convlab";
const img = cl.tf.tensor3d(Array.from({ length: 48 }, (_, i) => i * 5), [4, 4, 3], "int32");
const png = await cl.image.encodePng(img);
const back = cl.image.decodeImage(png);
const jpg = cl.image.decodeImage(await cl.image.encodeJpeg(img));
const small = cl.image.resize(back, [2, 2], { antialias: true });
const chart = await cl.plot.line([1, 2, 3], { title: "t" })[cl.DISPLAY]();
const grid = await (await cl.show.images(img, { captions: ["a"] }))[cl.DISPLAY]();
const raster = cl.image.decodeImage(await cl.image.rasterizeSvg(chart["image/svg+xml"]));
const aug = new cl.ImageDataGenerator({ rotationRange: 10 }).augment(img, { seed: 1 });
console.log(JSON.stringify({
  same: [...await back.data()].every((v, i) => v === i * 5),
  jpg: jpg.shape, small: small.shape, chart: Object.keys(chart).sort(),
  grid: Object.keys(grid).sort(), raster: raster.shape, aug: aug.shape,
}));
`;

Deno.test("image codecs, resize, visuals and augmentation run in a child with no permissions", async () => {
  const dir = await Deno.makeTempDir({ dir: ROOT, prefix: ".sandbox-" });
  try {
    await Deno.writeTextFile(`${dir}/check.ts`, SCRIPT);
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-prompt", "--quiet", `${dir}/check.ts`],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    const stderr = new TextDecoder().decode(out.stderr);
    assert.ok(out.success, `child failed:\n${stderr.slice(-2000)}`);
    const result = JSON.parse(stdout.trim().split("\n").at(-1)!);
    assert.deepEqual(result, {
      same: true,
      jpg: [4, 4, 3],
      small: [2, 2, 3],
      chart: ["application/vnd.plotly.v1+json", "image/svg+xml", "text/plain"],
      grid: ["image/png", "text/html", "text/plain"],
      raster: [400, 640, 4],
      aug: [1, 4, 4, 3],
    });
    // Without read permission no font can be loaded: text is left out, and it says so once.
    assert.match(stderr, /no font could be read, so text is left out of PNG output/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
