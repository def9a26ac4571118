/// <reference lib="dom" />
/**
 * The README's screenshots of the two apps, taken in Debian's chromium (offline):
 *
 * ```sh
 * deno run -A tests/apps/readme_screenshots.ts   # → data/readme/app-digits.png, app-classify.png
 * ```
 *
 * It starts the digits app as a fresh clone would (an empty model cache in a temporary folder: the
 * shipped LeNet-5) and draws five real MNIST test digits (the postal code 04524); then it starts the
 * classify app without models, lets it train lesson 04's model with its default settings (about
 * half a minute) and opens a Fashion-MNIST test picture (a sneaker, enlarged to 224×224).
 */
import { join } from "node:path";
import * as cl from "../../lib/mod.ts";
import { startClassifyApp } from "../../lessons/apps/classify.ts";
import { startDigitsApp } from "../../lessons/apps/digits.ts";
import { launchOffline } from "../render/_chromium.ts";
import { drawDigit } from "./_draw.ts";
import { ROOT } from "./_process.ts";

const OUT = join(ROOT, "data", "readme");
const CODE = [0, 4, 5, 2, 4];

async function trainThroughPage(page: import("playwright-core").Page): Promise<void> {
  await page.waitForSelector("#model-panel[data-state]");
  if (await page.$("#model-panel[data-state=missing]")) {
    await page.click("#model-panel [data-action=train]");
  }
  await page.waitForSelector("body[data-model=ready]", { timeout: 30 * 60_000 });
}

await Deno.mkdir(OUT, { recursive: true });
const cache = await Deno.makeTempDir({ prefix: "convlab-readme-apps-" });
const browser = await launchOffline();
try {
  const mnist = await cl.datasets.mnist({ quiet: true });
  const digits = await startDigitsApp({ port: 0, cacheRoot: cache });
  try {
    const { page } = await browser.open({ viewport: { width: 1100, height: 900 } });
    await page.goto(digits.url);
    await trainThroughPage(page);
    const labels = Array.from(mnist.arrays.yTest);
    for (const [box, digit] of CODE.entries()) {
      const index = labels.indexOf(digit, box * 50); // a different drawing of each 4
      await drawDigit(page, box, mnist.arrays.xTest.subarray(index * 784, (index + 1) * 784));
    }
    await page.keyboard.press("r");
    await page.waitForSelector(".result[data-digit]");
    await page.keyboard.press("s");
    await page.waitForSelector("#inputs:not([hidden]) canvas");
    await page.screenshot({ path: join(OUT, "app-digits.png"), fullPage: true });
    console.log(
      `data/readme/app-digits.png: read ${await page.getAttribute("#code", "data-code")}`,
    );
  } finally {
    await digits.shutdown();
    mnist.dispose();
  }

  const fashion = await cl.datasets.fashionMnist({ quiet: true });
  const classify = await startClassifyApp({ port: 0, cacheRoot: cache, shippedModels: false });
  try {
    const sneaker = Array.from(fashion.arrays.yTest).indexOf(7);
    const picture = cl.tf.tidy(() => {
      const x = cl.tf.tensor3d(
        fashion.arrays.xTest.slice(sneaker * 784, (sneaker + 1) * 784),
        [28, 28, 1],
        "int32",
      );
      const big = cl.image.resize(x, [224, 224], { method: "bicubic" });
      return cl.tf.cast(cl.tf.clipByValue(cl.tf.round(big), 0, 255), "int32");
    });
    const file = join(cache, "sneaker.png");
    await cl.image.writeImage(file, picture);
    picture.dispose();
    const { page } = await browser.open({ viewport: { width: 1200, height: 900 } });
    await page.goto(classify.url);
    await trainThroughPage(page);
    await page.setInputFiles("#file", file);
    await page.waitForSelector("#top5 li");
    await page.waitForFunction(() =>
      (document.getElementById("overlay") as HTMLImageElement).naturalWidth > 0
    );
    await page.screenshot({ path: join(OUT, "app-classify.png"), fullPage: true });
    console.log(
      `data/readme/app-classify.png: top class ${await page.textContent("#top5 li .name")}`,
    );
  } finally {
    await classify.shutdown();
    fashion.dispose();
  }
} finally {
  await browser.close();
  await Deno.remove(cache, { recursive: true });
}
