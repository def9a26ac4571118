/// <reference lib="dom" />
/**
 * The classify app in a real browser (Debian chromium, headless, offline), started with the CLI:
 * a text file and a 50 MB file get clear messages on the page; a PNG gives the model's view, a top-5 bar chart
 * and a Grad-CAM overlay, and picking another class redraws the overlay; a JPEG dropped on the
 * page works too. No console errors. A screenshot goes to test-artifacts/apps/.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { ARTIFACTS, BROWSER_TEST, launchOffline } from "./_browser.ts";
import { saveTinyClassifier, writeTestPictures } from "./_fixtures.ts";
import { startAppProcess } from "./_process.ts";

Deno.test({
  name:
    "classify app shows the model's view, top-5 bars and a Grad-CAM overlay for an upload, and a clear message for a text file",
  ...BROWSER_TEST,
  async fn() {
    await Deno.mkdir(ARTIFACTS, { recursive: true });
    const work = await Deno.makeTempDir({ prefix: "convlab-apps-classify-" });
    const model = await saveTinyClassifier(join(work, "model"));
    const files = await writeTestPictures(work);
    const app = await startAppProcess(["classify", "--port", "0", "--model", model]);
    const browser = await launchOffline();
    try {
      const { page, problems } = await browser.open({ viewport: { width: 1200, height: 900 } });
      await page.goto(app.url);
      await page.waitForSelector("body[data-model=ready]");

      // Not an image: a message on the page, nothing else shown.
      await page.setInputFiles("#file", files.text);
      await page.waitForSelector("#message[data-kind=error]");
      assert.match(
        await page.textContent("#message") ?? "",
        /“notes\.txt” is not a PNG or JPEG image/,
      );
      assert.equal(await page.isHidden("#results"), true);

      // A 50 MB file dropped on the page (made in the page: sending 50 MB through the test
      // protocol would take longer than the app): refused before it is sent.
      const huge = await page.evaluateHandle(() => {
        const transfer = new DataTransfer();
        transfer.items.add(
          new File([new Uint8Array(50_000_000)], "huge.jpg", { type: "image/jpeg" }),
        );
        return transfer;
      });
      await page.dispatchEvent("#drop", "drop", { dataTransfer: huge });
      await page.waitForFunction(() =>
        document.getElementById("message")?.textContent?.includes("huge.jpg")
      );
      assert.match(
        await page.textContent("#message") ?? "",
        /“huge\.jpg” is 50 MB; the limit is 20 MB\. Choose a smaller image\./,
      );

      // A PNG: model's view, five bars, an overlay.
      await page.setInputFiles("#file", files.png);
      await page.waitForSelector("#top5 li:nth-child(5)");
      await page.waitForFunction(() => {
        const img = document.getElementById("overlay") as HTMLImageElement;
        return img.complete && img.naturalWidth > 0;
      });
      assert.equal(await page.textContent("#message"), "", "the error went away");
      const bars = await page.$$eval("#top5 li", (items) =>
        items.map((li) => ({
          name: li.querySelector(".name")?.textContent,
          probability: Number(li.getAttribute("data-probability")),
        })));
      assert.equal(bars.length, 5);
      assert.ok(bars.every((bar, i) => i === 0 || bar.probability <= bars[i - 1].probability));
      const overlaySize = await page.$eval("#overlay", (img) => {
        const image = img as HTMLImageElement;
        return [image.naturalWidth, image.naturalHeight];
      });
      assert.deepEqual(overlaySize, [320, 240], "the overlay covers the picture");
      const view = await page.$eval(
        "#input-view",
        (img) => (img as HTMLImageElement).naturalWidth,
      );
      assert.equal(view, 28, "the picture as the model sees it");

      // Another class: the overlay is redrawn for it.
      const first = await page.getAttribute("#overlay", "src");
      const third = await page.getAttribute("#top5 li:nth-child(3)", "data-class");
      await page.click("#top5 li:nth-child(3) button");
      await page.waitForSelector(`#overlay[data-class="${third}"]`);
      assert.notEqual(await page.getAttribute("#overlay", "src"), first);
      assert.match(await page.textContent("#cam-title") ?? "", new RegExp(`“${bars[2].name}”`));
      await page.screenshot({ path: join(ARTIFACTS, "classify.png"), fullPage: true });

      // A JPEG dropped on the drop zone.
      const jpeg = Array.from(await Deno.readFile(files.jpeg));
      const dataTransfer = await page.evaluateHandle((bytes) => {
        const transfer = new DataTransfer();
        transfer.items.add(
          new File([new Uint8Array(bytes)], "dropped.jpg", { type: "image/jpeg" }),
        );
        return transfer;
      }, jpeg);
      await page.dispatchEvent("#drop", "drop", { dataTransfer });
      await page.waitForFunction(() =>
        document.getElementById("input-note")?.textContent?.includes("320×240")
      );
      assert.equal(await page.$$eval("#top5 li", (items) => items.length), 5);

      assert.deepEqual(problems, { consoleErrors: [], failedRequests: [], blockedRequests: [] });
    } finally {
      await browser.close();
      const { code, output } = await app.stop();
      await Deno.remove(work, { recursive: true });
      assert.equal(code, 0, output);
    }
  },
});
