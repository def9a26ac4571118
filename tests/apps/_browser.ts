/** What the apps' browser tests share: the skip when chromium is missing, and where pictures go. */
import { join } from "node:path";
import { skipUnless } from "../_skip.ts";
import { hasChromium } from "../render/_chromium.ts";
import { ROOT } from "./_process.ts";

export { launchOffline } from "../render/_chromium.ts";

/** Screenshots of the apps' tests. */
export const ARTIFACTS = join(ROOT, "test-artifacts", "apps");

/** Test options: skipped (with the reason printed) without chromium; the app outlives a step. */
export const BROWSER_TEST = {
  ...skipUnless(
    hasChromium(),
    "chromium is not installed (/usr/bin/chromium): apt-get install chromium",
  ),
  sanitizeResources: false,
  sanitizeOps: false,
};
