/**
 * A procedural stand-in for CIFAR-10, for when the real set (a 170 MB download) cannot be had:
 * 32×32 colour images in 10 classes of shapes, drawn by Convlab itself.
 *
 * It is NOT CIFAR-10 — no photos, no airplanes or cats — and every output says so. What it keeps
 * is what the CIFAR lessons teach with: the tensor shapes (32×32×3, 10 classes), a task a small
 * CNN learns only partly (shapes vary in position, scale, rotation, aspect, colour and contrast,
 * on gradient, striped and noisy backgrounds with clutter, sometimes cut by the border), and
 * variation that augmentation (shifts, flips, rotations) helps with.
 *
 * Each image depends only on (seed, split, index), so any subset is generated alone and the same
 * index always gives the same image. Generation is seeded through `lib/random.ts` streams and takes
 * about 0.1 ms per image.
 *
 * Introduced in lesson 03 (the CIFAR-10 CNN).
 *
 * @module
 */

import { type RandomStream, randomStream } from "../random.ts";
import type { ImageSplit } from "./dataset.ts";

/** The stand-in's classes (index = label). */
export const STANDIN_CLASSES: string[] = [
  "disc",
  "ring",
  "square",
  "triangle",
  "cross",
  "star",
  "crescent",
  "heart",
  "arrow",
  "bars",
];

/** Images per split when no subset is asked for: CIFAR-10's 50,000 and 10,000. */
export const STANDIN_SIZES = { train: 50000, test: 10000 } as const;

/** The default seed of the stand-in (a fixed dataset, independent of `cl.seed`). */
export const STANDIN_SEED = 0;

const SIZE = 32;
const PIXELS = SIZE * SIZE;
/** Samples per pixel side for anti-aliased edges. */
const SUPERSAMPLE = 2;

type Shape = (u: number, v: number) => boolean;

/** The knobs of the stand-in's difficulty (the defaults are what the README's accuracy was
 * measured on). */
export interface StandinParams {
  /** Chance of a striped background, and the stripes' amplitude range (0–255 units). */
  stripeChance: number;
  stripeAmp: [number, number];
  /** Range of the per-image noise level (std, 0–255 units). */
  noise: [number, number];
  /** Clutter marks per image: 0 … clutterMax-1. */
  clutterMax: number;
  /** Range of the minimum luminance contrast between object and background. */
  contrast: [number, number];
  /** Range of the object's radius in pixels. */
  radius: [number, number];
  /** Chance that the object's hue is near its class's own hue (else any hue): a partial colour
   * cue, as sky and grass are in CIFAR-10 photos. */
  objectHueCue: number;
  /** Chance that the background's hue is near its class's background hue. */
  backgroundHueCue: number;
}

/** The default difficulty. */
export const STANDIN_PARAMS: StandinParams = {
  stripeChance: 0.25,
  stripeAmp: [8, 30],
  noise: [2, 14],
  clutterMax: 3,
  contrast: [35, 100],
  radius: [6, 13],
  objectHueCue: 0.6,
  backgroundHueCue: 0.3,
};

/** Each class's object hue and background hue (in [0, 1)), spread around the colour wheel. */
const OBJECT_HUES = Array.from({ length: 10 }, (_, c) => (c + 0.5) / 10);
const BACKGROUND_HUES = Array.from({ length: 10 }, (_, c) => ((c * 3) % 10 + 0.2) / 10);

/** The image being drawn, in float (reused: generation is synchronous). */
const scratch = new Float32Array(PIXELS * 3);

function polygon(points: [number, number][]): Shape {
  return (u, v) => {
    let inside = false;
    for (let i = 0, j = points.length - 1; i < points.length; j = i++) {
      const [xi, yi] = points[i];
      const [xj, yj] = points[j];
      if ((yi > v) !== (yj > v) && u < ((xj - xi) * (v - yi)) / (yj - yi) + xi) inside = !inside;
    }
    return inside;
  };
}

const STAR = polygon(
  Array.from({ length: 10 }, (_, k) => {
    const r = k % 2 === 0 ? 1 : 0.42;
    const a = -Math.PI / 2 + (k * Math.PI) / 5;
    return [r * Math.cos(a), r * Math.sin(a)] as [number, number];
  }),
);
const ARROW = polygon([[-0.95, -0.22], [0.15, -0.22], [0.15, -0.6], [0.95, 0], [0.15, 0.6], [
  0.15,
  0.22,
], [-0.95, 0.22]]);

/** Shapes in a unit frame (radius about 1), by class index. */
const SHAPES: Shape[] = [
  (u, v) => u * u + v * v <= 0.85,
  (u, v) => {
    const r2 = u * u + v * v;
    return r2 <= 1 && r2 >= 0.36;
  },
  (u, v) => Math.abs(u) <= 0.78 && Math.abs(v) <= 0.78,
  (u, v) => v <= 0.5 && Math.sqrt(3) * Math.abs(u) <= v + 1,
  (u, v) =>
    (Math.abs(u) <= 0.3 && Math.abs(v) <= 0.95) || (Math.abs(v) <= 0.3 && Math.abs(u) <= 0.95),
  STAR,
  (u, v) => u * u + v * v <= 1 && (u - 0.45) ** 2 + v * v > 0.6,
  (u, v) => {
    const x = u * 1.25;
    const y = -v * 1.25 + 0.25;
    const a = x * x + y * y - 1;
    return a * a * a - x * x * y * y * y <= 0;
  },
  ARROW,
  (u, v) => Math.abs(u) <= 0.9 && Math.abs(Math.abs(v) - 0.42) <= 0.2,
];

/** HSV (h in [0,1), s, v in [0,1]) to RGB in 0–255. */
function hsv(h: number, s: number, v: number): [number, number, number] {
  const i = Math.floor(h * 6) % 6;
  const f = h * 6 - Math.floor(h * 6);
  const p = v * (1 - s);
  const q = v * (1 - f * s);
  const t = v * (1 - (1 - f) * s);
  const [r, g, b] = [[v, t, p], [q, v, p], [p, v, t], [p, q, v], [t, p, v], [v, p, q]][i];
  return [r * 255, g * 255, b * 255];
}

function luminance([r, g, b]: [number, number, number]): number {
  return 0.299 * r + 0.587 * g + 0.114 * b;
}

/** The label of stand-in image `index` of a split (cheap: no drawing). */
export function standinLabel(seed: number, split: "train" | "test", index: number): number {
  return imageStream(seed, split, index).int(10);
}

function imageStream(seed: number, split: "train" | "test", index: number): RandomStream {
  return randomStream(`cifar10-standin/${split}/${index}`, seed);
}

/**
 * Draw stand-in image `index` of a split into `out` (32·32·3 bytes, HWC).
 *
 * @returns The label.
 */
export function drawStandinImage(
  seed: number,
  split: "train" | "test",
  index: number,
  out: Uint8Array,
  params: StandinParams = STANDIN_PARAMS,
): number {
  const rng = imageStream(seed, split, index);
  const label = rng.int(10); // first draw: standinLabel() repeats it without drawing
  const hueNear = (centre: number) => (centre + 0.06 * rng.normal() + 1) % 1;
  // Background: a two-colour gradient, sometimes with stripes, then noise.
  const bgHue = rng.next() < params.backgroundHueCue ? hueNear(BACKGROUND_HUES[label]) : rng.next();
  const bgA = hsv(bgHue, rng.uniform(0, 0.8), rng.uniform(0.15, 0.95));
  const bgB = hsv(
    (bgHue + rng.uniform(-0.15, 0.15) + 1) % 1,
    rng.uniform(0, 0.8),
    rng.uniform(0.15, 0.95),
  );
  const gradAngle = rng.uniform(0, 2 * Math.PI);
  const gx = Math.cos(gradAngle) / SIZE;
  const gy = Math.sin(gradAngle) / SIZE;
  const stripes = rng.next() < params.stripeChance;
  const stripeAngle = rng.uniform(0, Math.PI);
  const stripeFreq = rng.uniform(0.3, 1.2);
  const stripeAmp = stripes ? rng.uniform(...params.stripeAmp) : 0;
  const sx = Math.cos(stripeAngle) * stripeFreq;
  const sy = Math.sin(stripeAngle) * stripeFreq;
  const noise = rng.uniform(...params.noise);
  const bg = scratch;
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      const t = Math.min(1, Math.max(0, 0.5 + (x - SIZE / 2) * gx + (y - SIZE / 2) * gy));
      const s = stripeAmp * Math.sin(x * sx + y * sy);
      const p = (y * SIZE + x) * 3;
      for (let c = 0; c < 3; c++) bg[p + c] = bgA[c] * (1 - t) + bgB[c] * t + s;
    }
  }
  // Clutter: small blobs and strokes that belong to no class.
  const clutter = rng.int(params.clutterMax);
  for (let k = 0; k < clutter; k++) {
    const colour = hsv(rng.next(), rng.uniform(0.2, 1), rng.uniform(0.2, 1));
    const cx = rng.uniform(0, SIZE);
    const cy = rng.uniform(0, SIZE);
    const stroke = rng.next() < 0.5;
    const a = rng.uniform(0, Math.PI);
    const len = rng.uniform(3, 9);
    const r = rng.uniform(1, 2.5);
    for (let y = Math.max(0, Math.floor(cy - len)); y < Math.min(SIZE, cy + len + 1); y++) {
      for (let x = Math.max(0, Math.floor(cx - len)); x < Math.min(SIZE, cx + len + 1); x++) {
        const dx = x + 0.5 - cx;
        const dy = y + 0.5 - cy;
        const along = dx * Math.cos(a) + dy * Math.sin(a);
        const across = -dx * Math.sin(a) + dy * Math.cos(a);
        const hit = stroke
          ? Math.abs(across) <= 0.6 && Math.abs(along) <= len / 2
          : dx * dx + dy * dy <= r * r;
        if (hit) bg.set(colour, (y * SIZE + x) * 3);
      }
    }
  }
  // The object: colour with a contrast drawn from a range that includes faint ones.
  const meanBg = luminance([
    (bgA[0] + bgB[0]) / 2,
    (bgA[1] + bgB[1]) / 2,
    (bgA[2] + bgB[2]) / 2,
  ]);
  const hue = rng.next() < params.objectHueCue ? hueNear(OBJECT_HUES[label]) : rng.next();
  const saturation = rng.uniform(0.3, 1);
  let colour = hsv(hue, saturation, rng.uniform(0.1, 1));
  const minContrast = rng.uniform(...params.contrast);
  for (let tries = 0; tries < 8 && Math.abs(luminance(colour) - meanBg) < minContrast; tries++) {
    colour = hsv(hue, saturation, meanBg > 128 ? rng.uniform(0, 0.45) : rng.uniform(0.6, 1));
  }
  const shade = rng.uniform(0, 0.5); // a light-to-dark gradient across the object
  const radius = rng.uniform(...params.radius);
  const margin = radius * 0.55; // lets a big object be cut by the border now and then
  const cx = rng.uniform(margin, SIZE - margin);
  const cy = rng.uniform(margin, SIZE - margin);
  const angle = rng.uniform(0, 2 * Math.PI);
  const stretch = rng.uniform(0.8, 1.25);
  const flip = rng.next() < 0.5 ? -1 : 1;
  const cos = Math.cos(angle) / radius;
  const sin = Math.sin(angle) / radius;
  const shape = SHAPES[label];
  const step = 1 / SUPERSAMPLE;
  // Only the object's bounding box needs testing (1.5 radius covers stretch and rotation).
  const reach = radius * 1.5;
  const [x0, x1] = [Math.max(0, Math.floor(cx - reach)), Math.min(SIZE, Math.ceil(cx + reach))];
  const [y0, y1] = [Math.max(0, Math.floor(cy - reach)), Math.min(SIZE, Math.ceil(cy + reach))];
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      let cover = 0;
      for (let sy = 0; sy < SUPERSAMPLE; sy++) {
        for (let sx = 0; sx < SUPERSAMPLE; sx++) {
          const dx = x + (sx + 0.5) * step - cx;
          const dy = y + (sy + 0.5) * step - cy;
          const u = (dx * cos + dy * sin) * stretch * flip;
          const v = (-dx * sin + dy * cos) / stretch;
          if (u * u + v * v <= 2.2 && shape(u, v)) cover++;
        }
      }
      if (cover === 0) continue;
      const alpha = cover / (SUPERSAMPLE * SUPERSAMPLE);
      const light = 1 - shade * ((y - cy) / radius + 1) / 2;
      const p = (y * SIZE + x) * 3;
      for (let c = 0; c < 3; c++) bg[p + c] = bg[p + c] * (1 - alpha) + colour[c] * light * alpha;
    }
  }
  // Sensor noise, then clamp to bytes.
  // Triangular noise (sum of two uniforms, std 1 after scaling) from a local mulberry32 seeded
  // by the image's stream: thousands of draws per image, and a local int32 state allocates
  // nothing.
  const spread = noise * Math.sqrt(6);
  let state = rng.seed32() | 0;
  const uniform = () => {
    state = (state + 0x6d2b79f5) | 0;
    let z = Math.imul(state ^ (state >>> 15), 1 | state);
    z = (z + Math.imul(z ^ (z >>> 7), 61 | z)) ^ z;
    return ((z ^ (z >>> 14)) >>> 0) / 4294967296;
  };
  for (let p = 0; p < PIXELS * 3; p++) {
    const value = bg[p] + spread * (uniform() + uniform() - 1);
    out[p] = value <= 0 ? 0 : value >= 255 ? 255 : Math.round(value);
  }
  return label;
}

/**
 * Generate stand-in images of a split.
 *
 * @param seed The stand-in's seed ({@link STANDIN_SEED} by default in `cifar10()`).
 * @param split "train" or "test".
 * @param indices Which images (any subset of `0 … STANDIN_SIZES[split]-1`, in any order).
 * @returns The images (NHWC uint8) and labels, in the order of `indices`.
 * @example
 * ```ts
 * import { generateStandin } from "./cifar_standin.ts";
 * const { images, labels } = generateStandin(0, "train", [0, 1, 2]);
 * console.log(images.length, labels.length); // 9216 3
 * ```
 */
export function generateStandin(
  seed: number,
  split: "train" | "test",
  indices: ArrayLike<number>,
  params: StandinParams = STANDIN_PARAMS,
): ImageSplit {
  const images = new Uint8Array(indices.length * PIXELS * 3);
  const labels = new Uint8Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    labels[i] = drawStandinImage(
      seed,
      split,
      indices[i],
      images.subarray(i * PIXELS * 3, (i + 1) * PIXELS * 3),
      params,
    );
  }
  return { images, labels };
}

/** Labels of all nominal stand-in images of a split (for stratified subsets), without drawing. */
export function standinLabels(seed: number, split: "train" | "test", count: number): Uint8Array {
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) labels[i] = standinLabel(seed, split, i);
  return labels;
}
