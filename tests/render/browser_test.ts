/**
 * The rendered course in a real browser (Debian chromium, headless, network off): every page
 * loads with no console error and no failed request, Plotly figures draw, math renders, images
 * decode, ToC and navigation links resolve; a screenshot of each page goes to
 * test-artifacts/render/.
 */
import assert from "node:assert/strict";
import { basename, dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Page } from "playwright-core";
import { renderSite, type SiteResult } from "../../kernel/render/mod.ts";
import { skipUnless } from "../_skip.ts";
import { hasChromium, launchOffline, type OfflineBrowser, type PageProblems } from "./_chromium.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const fixtures = join(root, "tests", "fixtures", "render");
const artifacts = join(root, "test-artifacts", "render");

const chromium = skipUnless(
  hasChromium(),
  "chromium is not installed (/usr/bin/chromium): apt-get install chromium",
);

interface PageReport {
  plots: number;
  drawnPlots: number;
  katex: number;
  katexFontsLoaded: number;
  images: number;
  brokenImages: string[];
  anchors: string[];
  missingAnchors: string[];
  localLinks: string[];
  horizontalOverflow: number;
  pwned: string | null;
}

async function inspect(page: Page): Promise<PageReport> {
  // Figures out of view are drawn in idle time; wait for all of them (or fail with the count).
  await page.waitForFunction(
    () => {
      const plots = [...document.querySelectorAll(".cl-plotly")];
      return plots.every((p) => p.querySelector("svg.main-svg"));
    },
    undefined,
    { timeout: 20_000 },
  ).catch(() => {});
  return await page.evaluate(async () => {
    await document.fonts.ready;
    const images = [...document.images];
    const brokenImages: string[] = [];
    for (const img of images) {
      try {
        await img.decode();
        if (img.naturalWidth === 0) brokenImages.push(img.src.slice(0, 80));
      } catch {
        brokenImages.push(img.src.slice(0, 80));
      }
    }
    const anchors = [...document.querySelectorAll<HTMLAnchorElement>("a[href^='#']")]
      .map((a) => decodeURIComponent(a.getAttribute("href")!.slice(1)));
    const localLinks = [...document.querySelectorAll<HTMLAnchorElement>("a[href]")]
      .map((a) => a.href)
      .filter((href) => href.startsWith("file:"))
      .map((href) => href.split("#")[0]);
    return {
      plots: document.querySelectorAll(".cl-plotly").length,
      drawnPlots: document.querySelectorAll(".cl-plotly svg.main-svg").length > 0
        ? [...document.querySelectorAll(".cl-plotly")].filter((p) =>
          p.querySelector("svg.main-svg")
        ).length
        : 0,
      katex: [...document.querySelectorAll(".katex-html")]
        .filter((k) => k.getBoundingClientRect().width > 0).length,
      katexFontsLoaded: [...document.fonts]
        .filter((f) => f.family.includes("KaTeX") && f.status === "loaded").length,
      images: images.length,
      brokenImages,
      anchors,
      missingAnchors: anchors.filter((id) => id !== "content" && !document.getElementById(id)),
      localLinks,
      horizontalOverflow: document.documentElement.scrollWidth - innerWidth,
      pwned: (globalThis as unknown as { __pwned?: string }).__pwned ?? null,
    };
  });
}

function assertClean(name: string, problems: PageProblems) {
  assert.deepEqual(problems.consoleErrors, [], `${name}: console errors`);
  assert.deepEqual(problems.failedRequests, [], `${name}: failed requests`);
  assert.deepEqual(problems.blockedRequests, [], `${name}: requests to the network`);
}

async function assertLinksExist(name: string, links: string[]) {
  for (const link of new Set(links)) {
    const path = fileURLToPath(link);
    const info = await Deno.stat(path).catch(() => undefined);
    assert.ok(info?.isFile, `${name}: link to ${path} resolves to a file`);
  }
}

async function openPage(browser: OfflineBrowser, file: string, options = {}) {
  const { page, problems } = await browser.open(options);
  await page.goto(pathToFileURL(file).href, { waitUntil: "load" });
  return { page, problems };
}

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
        [join(fixtures, "showcase.ipynb"), join(root, "lessons")],
        { outDir: join(out, "site"), execute: false },
      );
      const files = [site.index, ...site.pages.map((p) => p.output)];
      for (const file of files) {
        await t.step(
          `${basename(file)} loads cleanly, plots draw, math renders, links resolve`,
          async () => {
            const html = await Deno.readTextFile(file);
            const { page, problems } = await openPage(browser, file);
            const report = await inspect(page);
            await page.screenshot({
              path: join(artifacts, basename(file, ".html") + ".png"),
              fullPage: true,
            });
            await page.close();
            assertClean(basename(file), problems);
            assert.equal(report.drawnPlots, report.plots, "every Plotly output drew an SVG");
            const expectsMath = /class="katex"/.test(html);
            if (expectsMath) {
              assert.ok(report.katex > 0, "math is laid out");
              assert.ok(report.katexFontsLoaded > 0, "KaTeX fonts loaded from the site");
            }
            assert.deepEqual(report.brokenImages, [], "images decode");
            assert.deepEqual(report.missingAnchors, [], "ToC and heading links resolve");
            await assertLinksExist(basename(file), report.localLinks);
            assert.equal(report.pwned, null);
          },
        );
      }

      await t.step("the showcase page has what the fixture holds", async () => {
        const { page } = await openPage(browser, join(out, "site", "showcase.html"));
        const report = await inspect(page);
        await page.close();
        assert.equal(report.plots, 2);
        assert.ok(report.images >= 3, `PNG, JPEG and Markdown image shown (got ${report.images})`);
        assert.ok(report.anchors.length >= 8, "the ToC lists the sections");
      });

      await t.step(
        "a phone sees one column with no horizontal scrolling, and the lessons menu opens",
        async () => {
          const { page, problems } = await openPage(browser, join(out, "site", "showcase.html"), {
            viewport: { width: 390, height: 844 },
          });
          const report = await inspect(page);
          assert.ok(
            report.horizontalOverflow <= 1,
            `page overflows by ${report.horizontalOverflow}px`,
          );
          assert.equal(await page.locator(".cl-sidebar").isVisible(), false);
          await page.click(".cl-menu-button");
          assert.equal(await page.locator(".cl-sidebar").isVisible(), true);
          await page.screenshot({ path: join(artifacts, "showcase-phone.png") });
          await page.close();
          assertClean("phone", problems);
        },
      );

      await t.step("dark readers get the dark theme; print hides navigation", async () => {
        const { page, problems } = await openPage(browser, join(out, "site", "showcase.html"), {
          colorScheme: "dark",
        });
        await inspect(page);
        const background = await page.evaluate(() =>
          getComputedStyle(document.body).backgroundColor
        );
        assert.equal(background, "rgb(13, 17, 23)");
        await page.screenshot({ path: join(artifacts, "showcase-dark.png") });
        await page.emulateMedia({ media: "print", colorScheme: "light" });
        assert.equal(await page.locator(".cl-sidebar").isVisible(), false);
        assert.equal(await page.locator(".cl-toc").isVisible(), false);
        await page.close();
        assertClean("dark", problems);
      });

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
