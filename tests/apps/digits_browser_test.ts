/// <reference lib="dom" />
/**
 * The digits app in a real browser (Debian chromium, headless, offline). Started as a user does on
 * a fresh clone (`deno task app digits`, empty cache), it runs the LeNet-5 shipped in
 * data/models/digits-lenet5: five real MNIST test digits are drawn into the boxes as mouse strokes
 * that trace their ink, and `r` must read at least four of them. Without any model (the shipped
 * one hidden), the page offers to train one and shows its progress (a short run: 4,000 digits, one
 * epoch). Screenshots go to test-artifacts/apps/.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import * as cl from "../../lib/mod.ts";
import { startDigitsApp } from "../../lessons/apps/digits.ts";
import { ARTIFACTS, BROWSER_TEST, launchOffline } from "./_browser.ts";
import { drawDigit } from "./_draw.ts";
import { startAppProcess } from "./_process.ts";

Deno.test({
  name:
    "digits app on a fresh clone runs its shipped LeNet-5 and reads ≥ 4 of 5 MNIST test digits drawn with the mouse",
  ...BROWSER_TEST,
  async fn() {
    await Deno.mkdir(ARTIFACTS, { recursive: true });
    const cache = await Deno.makeTempDir({ prefix: "convlab-apps-digits-" });
    const data = await cl.datasets.mnist({ quiet: true, source: "embedded" });
    const app = await startAppProcess(["digits", "--port", "0"], { CONVLAB_CACHE: cache });
    const browser = await launchOffline();
    try {
      const { page, problems } = await browser.open({ viewport: { width: 1100, height: 900 } });
      await page.goto(app.url);
      await page.waitForSelector("body[data-model=ready]");
      const panel = await page.textContent("#model-panel") ?? "";
      assert.match(panel, /LeNet-5 trained on 8,000 MNIST images/);
      assert.match(panel, /Shipped with Convlab: .*data\/models\/digits-lenet5/);

      // An empty drawing gets a clear message, not a guess.
      await page.keyboard.press("r");
      await page.waitForSelector("#message[data-kind=error]");
      assert.match(await page.textContent("#message") ?? "", /Nothing to recognise/);

      // Five real test digits, drawn as strokes.
      const labels: number[] = [];
      for (let box = 0; box < 5; box++) {
        const pixels = data.arrays.xTest.subarray(box * 784, (box + 1) * 784);
        labels.push(data.arrays.yTest[box]);
        assert.ok(await drawDigit(page, box, pixels) > 3);
      }
      await page.keyboard.press("r");
      await page.waitForSelector(".result[data-digit]");
      const read = await page.$$eval(
        ".result",
        (els) => els.map((e) => e.getAttribute("data-digit")),
      );
      const right = read.filter((digit, i) => digit === String(labels[i])).length;
      await page.keyboard.press("s");
      await page.waitForSelector("#inputs:not([hidden]) .input-cell canvas");
      await page.screenshot({ path: join(ARTIFACTS, "digits.png"), fullPage: true });
      assert.ok(right >= 4, `read ${read.join("")} for ${labels.join("")}`);
      assert.equal(await page.$$eval("#inputs canvas", (c) => c.length), 10, "two inputs per box");
      assert.equal(await page.getAttribute("#code", "data-code"), read.join(""));

      // e erases: the boxes are blank again and the answers are gone.
      await page.keyboard.press("e");
      assert.equal(await page.$$eval(".result[data-digit]", (els) => els.length), 0);
      assert.deepEqual(problems, { consoleErrors: [], failedRequests: [], blockedRequests: [] });
    } finally {
      await browser.close();
      const { code, output } = await app.stop();
      data.dispose();
      await Deno.remove(cache, { recursive: true });
      assert.equal(code, 0, output);
      assert.match(output, /Stopped\./, "Ctrl-C shuts the app down gracefully");
    }
  },
});

Deno.test({
  name:
    "digits app without any model offers to train one, shows the progress bar moving, then uses the trained model",
  ...BROWSER_TEST,
  async fn() {
    await Deno.mkdir(ARTIFACTS, { recursive: true });
    const cache = await Deno.makeTempDir({ prefix: "convlab-apps-digits-train-" });
    const app = await startDigitsApp({
      port: 0,
      cacheRoot: cache,
      shippedModels: false,
      // Long enough (about a second here) that the page, which subscribes to the progress
      // stream after its POST returns, sees several values; 400 digits were done before that.
      training: { epochs: 1, trainSize: 4000, testSize: 200 },
    });
    const browser = await launchOffline();
    try {
      const { page, problems } = await browser.open({ viewport: { width: 1100, height: 900 } });
      await page.goto(app.url);
      await page.waitForSelector("#model-panel[data-state=missing]");
      const offer = await page.textContent("#model-panel") ?? "";
      assert.match(offer, /No digit model yet/);
      assert.match(offer, /Train LeNet-5 on MNIST now/);
      // The page's own record of the bar: every value it shows, however short the run.
      await page.evaluate(() => {
        const seen: number[] = [];
        (globalThis as unknown as { progressSeen: number[] }).progressSeen = seen;
        new MutationObserver(() => {
          const bar = document.querySelector("#model-panel progress") as HTMLProgressElement | null;
          if (bar && seen.at(-1) !== bar.value) seen.push(bar.value);
        }).observe(document.getElementById("model-panel")!, {
          subtree: true,
          childList: true,
          attributes: true,
        });
      });
      await page.click("#model-panel [data-action=train]");
      await page.waitForSelector("body[data-model=ready]", { timeout: 60_000 });
      const seen = await page.evaluate(() =>
        (globalThis as unknown as { progressSeen: number[] }).progressSeen
      );
      assert.ok(seen.length >= 2, `the progress bar moved: ${seen}`);
      assert.ok(seen.every((v, i) => i === 0 || v >= seen[i - 1]), `it only moved on: ${seen}`);
      const panel = await page.textContent("#model-panel") ?? "";
      assert.match(panel, /LeNet-5 trained on 4,000 MNIST images .* 1 epoch/);
      assert.match(panel, new RegExp(`Saved in ${cache}`));
      await page.screenshot({ path: join(ARTIFACTS, "digits-trained.png"), fullPage: true });
      assert.deepEqual(problems, { consoleErrors: [], failedRequests: [], blockedRequests: [] });
    } finally {
      await browser.close();
      await app.shutdown();
      await Deno.remove(cache, { recursive: true });
    }
  },
});
