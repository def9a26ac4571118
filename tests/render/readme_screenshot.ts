/**
 * The README's screenshot of a lesson page, taken in Debian's chromium (offline):
 *
 * ```sh
 * deno task course                                   # renders the site to site/
 * deno run -A tests/render/readme_screenshot.ts      # → data/readme/lesson-page.png
 * deno run -A tests/render/readme_screenshot.ts site/02_lenet.html --out data/readme/x.png
 * ```
 *
 * Without a page argument it takes the lesson page of `site/` with the most Plotly figures and
 * math (the first lesson on a tie).
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";
import { launchOffline } from "./_chromium.ts";

async function pickPage(siteDir: string): Promise<string> {
  const pages = [...Deno.readDirSync(siteDir)]
    .filter((e) => e.isFile && e.name.endsWith(".html") && e.name !== "index.html")
    .map((e) => e.name).sort();
  if (pages.length === 0) {
    throw new Error(`No lesson pages in ${siteDir}: run deno task course first`);
  }
  let best = pages[0], bestScore = -1;
  for (const name of pages) {
    const html = await Deno.readTextFile(join(siteDir, name));
    const score = (html.match(/class="cl-plotly"/g)?.length ?? 0) * 3 +
      Math.min(html.match(/class="katex"/g)?.length ?? 0, 5);
    if (score > bestScore) [best, bestScore] = [name, score];
  }
  return join(siteDir, best);
}

const { values, positionals } = parseArgs({
  args: Deno.args,
  allowPositionals: true,
  options: {
    out: { type: "string", default: "data/readme/lesson-page.png" },
    width: { type: "string", default: "1360" },
    height: { type: "string", default: "2250" },
  },
});
const page = positionals[0] ?? await pickPage("site");
const browser = await launchOffline();
try {
  const { page: tab, problems } = await browser.open({
    viewport: { width: Number(values.width), height: Number(values.height) },
  });
  await tab.goto(pathToFileURL(page).href, { waitUntil: "load" });
  await tab.waitForFunction(() =>
    [...document.querySelectorAll(".cl-plotly")].every((p) => p.querySelector("svg.main-svg"))
  );
  await tab.evaluate(() => document.fonts.ready);
  await Deno.mkdir(join(values.out, ".."), { recursive: true });
  await tab.screenshot({ path: values.out });
  if (problems.consoleErrors.length || problems.failedRequests.length) {
    console.error("The page had problems:", problems);
  }
  console.log(`${page} → ${values.out}`);
} finally {
  await browser.close();
}
