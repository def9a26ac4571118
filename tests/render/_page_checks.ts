/**
 * Checks of a rendered page in the offline browser, shared by the render tests and usable by
 * any test that renders notebooks (e.g. executed lessons):
 *
 * ```ts ignore
 * const browser = await launchOffline();
 * await checkRenderedPage(browser, "site/01_convolution.html", { screenshot: "test-artifacts/x.png" });
 * ```
 */
import assert from "node:assert/strict";
import { basename } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Page } from "playwright-core";
import type { OfflineBrowser, PageProblems } from "./_chromium.ts";

export interface PageReport {
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

export async function inspect(page: Page): Promise<PageReport> {
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

export function assertClean(name: string, problems: PageProblems) {
  assert.deepEqual(problems.consoleErrors, [], `${name}: console errors`);
  assert.deepEqual(problems.failedRequests, [], `${name}: failed requests`);
  assert.deepEqual(problems.blockedRequests, [], `${name}: requests to the network`);
}

export async function assertLinksExist(name: string, links: string[]) {
  for (const link of new Set(links)) {
    const path = fileURLToPath(link);
    const info = await Deno.stat(path).catch(() => undefined);
    assert.ok(info?.isFile, `${name}: link to ${path} resolves to a file`);
  }
}

export async function openPage(browser: OfflineBrowser, file: string, options = {}) {
  const { page, problems } = await browser.open(options);
  await page.goto(pathToFileURL(file).href, { waitUntil: "load" });
  return { page, problems };
}

/**
 * Open a rendered page and assert it works: no console error, no failed or network request,
 * every Plotly output drew an SVG, math laid out with KaTeX's fonts (when the page has math),
 * images decode, in-page anchors and local links resolve. Saves a full-page screenshot when asked.
 */
export async function checkRenderedPage(
  browser: OfflineBrowser,
  file: string,
  options: { screenshot?: string } = {},
): Promise<PageReport> {
  const html = await Deno.readTextFile(file);
  const { page, problems } = await openPage(browser, file);
  const report = await inspect(page);
  if (options.screenshot) await page.screenshot({ path: options.screenshot, fullPage: true });
  await page.close();
  const name = basename(file);
  assertClean(name, problems);
  assert.equal(report.drawnPlots, report.plots, `${name}: every Plotly output drew an SVG`);
  if (/class="katex"/.test(html)) {
    assert.ok(report.katex > 0, `${name}: math is laid out`);
    assert.ok(report.katexFontsLoaded > 0, `${name}: KaTeX fonts loaded from the site`);
  }
  assert.deepEqual(report.brokenImages, [], `${name}: images decode`);
  assert.deepEqual(report.missingAnchors, [], `${name}: ToC and heading links resolve`);
  await assertLinksExist(name, report.localLinks);
  return report;
}
