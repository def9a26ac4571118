/**
 * The rendered course in a real browser (Debian chromium, headless, network off): every page
 * loads with no console error and no failed request, Plotly figures draw, math renders, images
 * decode, ToC and navigation links resolve; a screenshot of each page goes to
 * test-artifacts/render/.
 */
import assert from "node:assert/strict";
import { basename, dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { renderSite, type SiteResult } from "../../kernel/render/mod.ts";
import { skipUnless } from "../_skip.ts";
import { hasChromium, launchOffline } from "./_chromium.ts";
import {
  assertClean,
  checkRenderedPage,
  inspect,
  openPage,
  type PageReport,
} from "./_page_checks.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const fixtures = join(root, "tests", "fixtures", "render");
const artifacts = join(root, "test-artifacts", "render");

const chromium = skipUnless(
  hasChromium(),
  "chromium is not installed (/usr/bin/chromium): apt-get install chromium",
);

Deno.test({
  name: "every page of the rendered course works offline in chromium",
  ...chromium,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const out = await Deno.makeTempDir({ prefix: "convlab-site-" });
    await Deno.mkdir(artifacts, { recursive: true });
    const browser = await launchOffline();
    try {
      const site: SiteResult = await renderSite(
        [join(fixtures, "showcase.ipynb"), join(fixtures, "visuals.ipynb"), join(root, "lessons")],
        { outDir: join(out, "site"), execute: false },
      );
      const files = [site.index, ...site.pages.map((p) => p.output)];
      const reports = new Map<string, PageReport>();
      for (const file of files) {
        await t.step(
          `${basename(file)} loads cleanly, plots draw, math renders, links resolve`,
          async () => {
            const report = await checkRenderedPage(browser, file, {
              screenshot: join(artifacts, basename(file, ".html") + ".png"),
            });
            assert.equal(report.pwned, null);
            reports.set(basename(file), report);
          },
        );
      }

      await t.step("the showcase and visuals pages show what their notebooks hold", () => {
        const showcase = reports.get("showcase.html")!;
        assert.equal(showcase.plots, 2);
        assert.ok(showcase.images >= 3, `PNG, JPEG and Markdown image (got ${showcase.images})`);
        assert.ok(showcase.anchors.length >= 8, "the ToC lists the sections");
        const visuals = reports.get("visuals.html")!;
        assert.equal(visuals.plots, 3, "line chart, history, confusion matrix");
        assert.ok(visuals.images >= 1, "the image grid");
      });

      await t.step(
        "a phone reader in dark mode: one column, lessons menu, dark theme; print hides navigation",
        async () => {
          const { page, problems } = await openPage(browser, join(out, "site", "showcase.html"), {
            viewport: { width: 390, height: 844 },
            colorScheme: "dark",
          });
          const report = await inspect(page);
          assert.ok(
            report.horizontalOverflow <= 1,
            `page overflows by ${report.horizontalOverflow}px`,
          );
          const background = await page.evaluate(() =>
            getComputedStyle(document.body).backgroundColor
          );
          assert.equal(background, "rgb(13, 17, 23)", "dark theme");
          assert.equal(await page.locator(".cl-sidebar").isVisible(), false);
          await page.click(".cl-menu-button");
          assert.equal(await page.locator(".cl-sidebar").isVisible(), true);
          await page.screenshot({ path: join(artifacts, "showcase-phone-dark.png") });
          await page.setViewportSize({ width: 1360, height: 900 });
          await page.emulateMedia({ colorScheme: "dark" });
          await page.screenshot({ path: join(artifacts, "showcase-dark.png") });
          await page.emulateMedia({ media: "print", colorScheme: "light" });
          assert.equal(await page.locator(".cl-sidebar").isVisible(), false);
          assert.equal(await page.locator(".cl-toc").isVisible(), false);
          assert.equal(await page.locator(".cl-topbar").isVisible(), false);
          await page.close();
          assertClean("phone, dark", problems);
        },
      );

      await t.step("a sanitised student page runs none of the student's scripts", async () => {
        const feedback = await renderSite([join(fixtures, "untrusted.ipynb")], {
          outDir: join(out, "feedback"),
          execute: false,
          sanitize: true,
        });
        const { page, problems } = await openPage(browser, feedback.pages[0].output);
        const report = await inspect(page);
        await page.screenshot({ path: join(artifacts, "untrusted-sanitized.png"), fullPage: true });
        await page.close();
        assert.equal(report.pwned, null, "no student script ran");
        assert.equal(report.drawnPlots, 1, "the student's Plotly figure still draws");
        assertClean("sanitised page", problems);
      });

      await t.step(
        "a single-file feedback page's CSP stops a script the sanitiser would have missed",
        async () => {
          const single = await renderSite([join(fixtures, "untrusted.ipynb")], {
            outDir: join(out, "feedback-single"),
            execute: false,
            sanitize: true,
            singleFile: true,
          });
          const file = single.pages[0].output;
          // Simulate a sanitiser miss: put a handler and a script into the page as written.
          const html = await Deno.readTextFile(file);
          await Deno.writeTextFile(
            file,
            html.replace(
              "<article",
              `<img src="data:image/gif;base64,R0lGOD" onerror="window.__pwned='onerror'">` +
                `<script>window.__pwned = "inline";</script><article`,
            ),
          );
          const { page, problems } = await openPage(browser, file);
          const report = await inspect(page);
          await page.close();
          assert.equal(report.pwned, null, "the policy blocked the injected script and handler");
          assert.equal(report.drawnPlots, 1, "the page's own (hashed) scripts still run");
          assert.ok(
            problems.consoleErrors.some((e) => /Content Security Policy/i.test(e)),
            "the browser reports the blocked script",
          );
          assert.deepEqual(problems.failedRequests, []);
        },
      );

      await t.step("--single-file pages load with no other file", async () => {
        const single = await renderSite([join(fixtures, "showcase.ipynb")], {
          outDir: join(out, "single"),
          execute: false,
          singleFile: true,
        });
        assert.deepEqual(single.assets, []);
        const file = single.pages[0].output;
        const { page, problems } = await browser.open();
        const requested: string[] = [];
        page.on("request", (r) => {
          if (!r.url().startsWith("data:")) requested.push(r.url());
        });
        await page.goto(pathToFileURL(file).href, { waitUntil: "load" });
        const report = await inspect(page);
        await page.close();
        assert.deepEqual(requested, [pathToFileURL(file).href]);
        assert.equal(report.drawnPlots, 2);
        assert.ok(report.katexFontsLoaded > 0);
        assertClean("single file", problems);
        assert.deepEqual([...Deno.readDirSync(dirname(file))].map((e) => e.name).sort(), [
          "index.html",
          "showcase.html",
        ]);
      });
    } finally {
      await browser.close();
      await Deno.remove(out, { recursive: true });
    }
  },
});
