/**
 * The digits app in a real browser (Debian chromium, headless, offline), started as a user does:
 * with no model, the page offers to train LeNet-5 and shows its progress; then five real MNIST test
 * digits are drawn into the boxes as mouse strokes that trace their ink, and `r` must read at
 * least four of them. Screenshots go to test-artifacts/apps/.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import * as cl from "../../lib/mod.ts";
import { ARTIFACTS, BROWSER_TEST, launchOffline } from "./_browser.ts";
import { drawDigit } from "./_draw.ts";
import { startAppProcess } from "./_process.ts";

Deno.test({
  name:
    "digits app trains its missing model with a progress bar, then reads ≥ 4 of 5 MNIST digits drawn with the mouse",
  ...BROWSER_TEST,
  async fn() {
    await Deno.mkdir(ARTIFACTS, { recursive: true });
    const cache = await Deno.makeTempDir({ prefix: "convlab-apps-digits-" });
    const data = await cl.datasets.mnist({ quiet: true });
    const app = await startAppProcess(["digits", "--port", "0", "--epochs", "2"], {
      CONVLAB_CACHE: cache,
    });
    const browser = await launchOffline();
    try {
      const { page, problems } = await browser.open({ viewport: { width: 1100, height: 900 } });
      await page.goto(app.url);
      await page.waitForSelector("#model-panel[data-state=missing]");
      assert.match(await page.textContent("#model-panel") ?? "", /No digit model yet/);

      // Train, watching the progress bar move.
      await page.click("#model-panel [data-action=train]");
      await page.waitForSelector("#model-panel progress");
      const seen = new Set<string>();
      while (!(await page.$("body[data-model=ready]"))) {
        const value = await page.$eval(
          "#model-panel progress",
          (p) => Number((p as unknown as { value: number }).value),
        )
          .catch(() => undefined);
        if (value !== undefined) seen.add(value.toFixed(2));
        await page.waitForTimeout(250);
        assert.ok(!(await page.$("#model-panel .training[data-state=failed]")), app.output());
      }
      assert.ok(seen.size >= 2, `the progress bar moved: ${[...seen]}`);
      assert.match(await page.textContent("#model-panel") ?? "", /LeNet-5 trained on/);

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
