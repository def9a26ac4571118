/**
 * Debian's chromium driven by playwright-core, offline: a fresh profile, the flags that work
 * without network, and every request that is not a local file (or localhost) aborted and
 * counted. Playwright never downloads a browser here: it only runs `/usr/bin/chromium`.
 */
import { type BrowserContext, chromium, type Page } from "playwright-core";

/** Debian's chromium. */
export const CHROMIUM = "/usr/bin/chromium";

/** Whether chromium is installed. */
export function hasChromium(): boolean {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
}

/** Chromium flags for headless runs with no network. */
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--no-first-run",
  "--disable-component-update",
  "--disable-sync",
];

/** What went wrong on a page. */
export interface PageProblems {
  consoleErrors: string[];
  failedRequests: string[];
  blockedRequests: string[];
}

/** An offline browser session. */
export interface OfflineBrowser {
  context: BrowserContext;
  /** Open a fresh page that records its problems. */
  open(
    options?: { colorScheme?: "light" | "dark"; viewport?: { width: number; height: number } },
  ): Promise<{
    page: Page;
    problems: PageProblems;
  }>;
  close(): Promise<void>;
}

function isLocal(url: string): boolean {
  if (url.startsWith("file:") || url.startsWith("data:") || url.startsWith("blob:")) return true;
  try {
    const host = new URL(url).hostname;
    return host === "localhost" || host === "127.0.0.1" || host === "[::1]";
  } catch {
    return false;
  }
}

/** Start chromium with a fresh profile; every non-local request is aborted and recorded. */
export async function launchOffline(): Promise<OfflineBrowser> {
  const profile = await Deno.makeTempDir({ prefix: "convlab-chromium-" });
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1360, height: 900 },
    offline: false,
  });
  const blocked: string[] = [];
  await context.route("**/*", (route) => {
    const url = route.request().url();
    if (isLocal(url)) return route.continue();
    blocked.push(url);
    return route.abort("internetdisconnected");
  });
  return {
    context,
    async open(options = {}) {
      const page = await context.newPage();
      if (options.viewport) await page.setViewportSize(options.viewport);
      await page.emulateMedia({ colorScheme: options.colorScheme ?? "light" });
      const problems: PageProblems = {
        consoleErrors: [],
        failedRequests: [],
        blockedRequests: blocked,
      };
      page.on("console", (message) => {
        if (message.type() === "error") problems.consoleErrors.push(message.text());
      });
      page.on("pageerror", (error) => problems.consoleErrors.push(`uncaught: ${error.message}`));
      page.on("requestfailed", (request) => {
        problems.failedRequests.push(`${request.url()} (${request.failure()?.errorText})`);
      });
      return { page, problems };
    },
    async close() {
      await context.close();
      await Deno.remove(profile, { recursive: true }).catch(() => {});
    },
  };
}
