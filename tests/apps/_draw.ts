/** Drawing real MNIST digits into the digits app as mouse strokes. */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";

/** An MNIST pixel becomes this many CSS pixels of the 140-pixel box. */
const SCALE = 5;
/** Pixels darker than this (of 255) are not traced. */
const INK = 128;

/**
 * Trace a 28×28 MNIST digit's ink into box `box` of the page: one mouse stroke (down, move along,
 * up) per horizontal run of ink, through the page's own pointer handling.
 *
 * @returns The number of strokes drawn.
 */
export async function drawDigit(page: Page, box: number, pixels: Uint8Array): Promise<number> {
  const canvas = await page.locator(`canvas[data-box='${box}']`).boundingBox();
  assert.ok(canvas, `box ${box} is on the page`);
  let strokes = 0;
  for (let y = 0; y < 28; y++) {
    let x = 0;
    while (x < 28) {
      if (pixels[y * 28 + x] < INK) {
        x++;
        continue;
      }
      const start = x;
      while (x < 28 && pixels[y * 28 + x] >= INK) x++;
      const at = (column: number) => canvas.x + (column + 0.5) * SCALE;
      const row = canvas.y + (y + 0.5) * SCALE;
      await page.mouse.move(at(start), row);
      await page.mouse.down();
      await page.mouse.move(at(x - 1), row, { steps: Math.max(1, x - 1 - start) });
      await page.mouse.up();
      strokes++;
    }
  }
  return strokes;
}
