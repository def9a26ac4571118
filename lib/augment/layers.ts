/**
 * Keras preprocessing layers for tfjs: `RandomFlip`, `RandomRotation`, `RandomZoom`,
 * `RandomTranslation`, `RandomCrop` (random only while training; at inference they pass images
 * through, or centre-crop for `RandomCrop`), plus `Resizing` and `Rescaling`. All are registered
 * with `tf.serialization`, so a model that contains them saves and loads with them.
 *
 * tfjs 4.22 has none of the random ones, and its own `Resizing` computes a wrong output shape
 * (it drops the batch dimension, so a model with it cannot be built); Convlab's `Resizing`
 * replaces it under the same class name.
 *
 * Introduced in lesson 03 (augmentation inside the model, as the course's slides show).
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import { nextSeed, RandomStream } from "../random.ts";
import { resize } from "../image/resize.ts";
import { applyTransforms, FILL_MODES, type FillMode, type Matrix3, multiply } from "./affine.ts";

type Kwargs = Record<string, unknown>;
type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;

/** Options every random layer takes. */
export interface RandomLayerArgs extends LayerArgs {
  /** Seed of the layer's random stream (default: drawn from `cl.seed`, saved with the model). */
  seed?: number;
}

/** Options of the layers that resample (rotation, zoom, translation). */
export interface ResampleArgs extends RandomLayerArgs {
  /** Default `"reflect"`, as Keras. */
  fillMode?: FillMode;
  /** For `"constant"` (default 0). */
  fillValue?: number;
  interpolation?: "bilinear" | "nearest";
}

/** `factor` or `[low, high]` → `[low, high]` (a single value v means [−v, v]). */
function bounds(name: string, layer: string, v: number | [number, number]): [number, number] {
  const [lo, hi] = Array.isArray(v) ? v : [-Math.abs(v), Math.abs(v)];
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || lo > hi) {
    throw new RangeError(
      `Cannot make ${layer}: ${name} must be a number or [low, high], got ${JSON.stringify(v)}`,
    );
  }
  return [lo, hi];
}

function inputImages(inputs: tf.Tensor | tf.Tensor[], layer: string): tf.Tensor4D {
  const x = Array.isArray(inputs) ? inputs[0] : inputs;
  if (x.rank !== 4) {
    throw new RangeError(
      `${layer}: expected [batch, height, width, channels] inputs, got [${x.shape.join(", ")}]`,
    );
  }
  return x as tf.Tensor4D;
}

const isTraining = (kwargs: Kwargs) => kwargs?.training === true;

/** Common base: a seeded stream, the seed saved in the config, pass-through at inference. */
abstract class RandomLayer extends tf.layers.Layer {
  readonly seed: number;
  protected readonly rng: RandomStream;

  constructor(args: RandomLayerArgs) {
    super(args);
    this.seed = args.seed ?? nextSeed(this.getClassName());
    this.rng = new RandomStream(this.seed);
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    const x = inputImages(inputs, this.getClassName());
    if (!isTraining(kwargs)) return tf.clone(x);
    return tf.tidy(() => this.augment(tf.cast(x, "float32") as tf.Tensor4D));
  }

  protected abstract augment(x: tf.Tensor4D): tf.Tensor4D;

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), seed: this.seed };
  }
}

/** Base of the layers that draw one affine matrix per image. */
abstract class AffineLayer extends RandomLayer {
  readonly fillMode: FillMode;
  readonly fillValue: number;
  readonly interpolation: "bilinear" | "nearest";

  constructor(args: ResampleArgs) {
    super(args);
    this.fillMode = args.fillMode ?? "reflect";
    if (!FILL_MODES.includes(this.fillMode)) {
      throw new RangeError(
        `Cannot make ${this.getClassName()}: fillMode must be one of ${
          FILL_MODES.join(", ")
        }, got ${this.fillMode}`,
      );
    }
    this.fillValue = args.fillValue ?? 0;
    this.interpolation = args.interpolation ?? "bilinear";
  }

  /** One output→input matrix (row, col) for an image of this size. */
  protected abstract matrix(height: number, width: number): Matrix3;

  protected augment(x: tf.Tensor4D): tf.Tensor4D {
    const [n, h, w] = x.shape;
    const matrices = Array.from({ length: n }, () => this.matrix(h, w));
    return applyTransforms(x, matrices, {
      fillMode: this.fillMode,
      cval: this.fillValue,
      interpolation: this.interpolation,
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      fillMode: this.fillMode,
      fillValue: this.fillValue,
      interpolation: this.interpolation,
    };
  }
}

/** Options of {@linkcode RandomFlip}. */
export interface RandomFlipArgs extends RandomLayerArgs {
  /** `"horizontal"`, `"vertical"` or `"horizontal_and_vertical"` (default, as Keras). */
  mode?: "horizontal" | "vertical" | "horizontal_and_vertical";
}

/** Flip each image left–right and/or top–bottom with probability ½ while training. */
export class RandomFlip extends RandomLayer {
  static className = "RandomFlip";
  readonly mode: NonNullable<RandomFlipArgs["mode"]>;

  constructor(args: RandomFlipArgs = {}) {
    super(args);
    this.mode = args.mode ?? "horizontal_and_vertical";
    if (!["horizontal", "vertical", "horizontal_and_vertical"].includes(this.mode)) {
      throw new RangeError(`Cannot make RandomFlip: unknown mode "${this.mode}"`);
    }
  }

  protected augment(x: tf.Tensor4D): tf.Tensor4D {
    const n = x.shape[0];
    const flips = (axis: boolean) =>
      Array.from({ length: n }, () => (axis && this.rng.next() < 0.5 ? 1 : 0));
    const h = flips(this.mode !== "vertical"), v = flips(this.mode !== "horizontal");
    // out = x + m·(mirror − x) with m ∈ {0, 1} per image: plain broadcast arithmetic (a
    // broadcasting tf.where is far slower on the wasm backend).
    let out = x;
    const blend = (mask: number[], mirrored: tf.Tensor4D) =>
      tf.add(out, tf.mul(tf.tensor4d(mask, [n, 1, 1, 1]), tf.sub(mirrored, out))) as tf.Tensor4D;
    if (h.some(Boolean)) out = blend(h, tf.reverse(out, 2));
    if (v.some(Boolean)) out = blend(v, tf.reverse(out, 1));
    return out;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), mode: this.mode };
  }
}

/** Options of {@linkcode RandomRotation}. */
export interface RandomRotationArgs extends ResampleArgs {
  /** Fraction of a full turn: `0.1` means ±36°; or `[low, high]`. Positive is counter-clockwise. */
  factor: number | [number, number];
}

/** Rotate each image by a random angle while training (Keras's `RandomRotation`). */
export class RandomRotation extends AffineLayer {
  static className = "RandomRotation";
  readonly factor: [number, number];

  constructor(args: RandomRotationArgs) {
    super(args);
    this.factor = bounds("factor", "RandomRotation", args?.factor);
  }

  protected matrix(h: number, w: number): Matrix3 {
    const angle = this.rng.uniform(this.factor[0], this.factor[1]) * 2 * Math.PI;
    // About the centre; in (row, col) coordinates a counter-clockwise turn on screen.
    const c = Math.cos(angle), s = Math.sin(angle);
    const oy = (h - 1) / 2, ox = (w - 1) / 2;
    const rot: Matrix3 = [c, s, 0, -s, c, 0, 0, 0, 1];
    return multiply(multiply([1, 0, oy, 0, 1, ox, 0, 0, 1], rot), [1, 0, -oy, 0, 1, -ox, 0, 0, 1]);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), factor: this.factor };
  }
}

/** Options of {@linkcode RandomZoom}. */
export interface RandomZoomArgs extends ResampleArgs {
  /**
   * Vertical zoom as a fraction: positive zooms out, negative zooms in (Keras's convention);
   * `0.2` means ±20 %; or `[low, high]`.
   */
  heightFactor: number | [number, number];
  /** Horizontal zoom; default: the same zoom as vertical (keeps the aspect ratio). */
  widthFactor?: number | [number, number];
}

/** Zoom each image in or out by a random amount while training (Keras's `RandomZoom`). */
export class RandomZoom extends AffineLayer {
  static className = "RandomZoom";
  readonly heightFactor: [number, number];
  readonly widthFactor?: [number, number];

  constructor(args: RandomZoomArgs) {
    super(args);
    this.heightFactor = bounds("heightFactor", "RandomZoom", args?.heightFactor);
    if (this.heightFactor[0] <= -1) {
      throw new RangeError("Cannot make RandomZoom: heightFactor must be > -1");
    }
    this.widthFactor = args.widthFactor == null // null when loaded from a saved model
      ? undefined
      : bounds("widthFactor", "RandomZoom", args.widthFactor);
  }

  protected matrix(h: number, w: number): Matrix3 {
    const zy = 1 + this.rng.uniform(this.heightFactor[0], this.heightFactor[1]);
    const zx = this.widthFactor
      ? 1 + this.rng.uniform(this.widthFactor[0], this.widthFactor[1])
      : zy;
    const oy = (h - 1) / 2, ox = (w - 1) / 2;
    return [zy, 0, oy * (1 - zy), 0, zx, ox * (1 - zx), 0, 0, 1];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      heightFactor: this.heightFactor,
      widthFactor: this.widthFactor ?? null,
    };
  }
}

/** Options of {@linkcode RandomTranslation}. */
export interface RandomTranslationArgs extends ResampleArgs {
  /** Vertical shift as a fraction of the height (`0.2` = ±20 %), or `[low, high]`. */
  heightFactor: number | [number, number];
  /** Horizontal shift as a fraction of the width. */
  widthFactor: number | [number, number];
}

/** Shift each image by a random offset while training (Keras's `RandomTranslation`). */
export class RandomTranslation extends AffineLayer {
  static className = "RandomTranslation";
  readonly heightFactor: [number, number];
  readonly widthFactor: [number, number];

  constructor(args: RandomTranslationArgs) {
    super(args);
    this.heightFactor = bounds("heightFactor", "RandomTranslation", args?.heightFactor);
    this.widthFactor = bounds("widthFactor", "RandomTranslation", args?.widthFactor);
  }

  protected matrix(h: number, w: number): Matrix3 {
    const dy = this.rng.uniform(this.heightFactor[0], this.heightFactor[1]) * h;
    const dx = this.rng.uniform(this.widthFactor[0], this.widthFactor[1]) * w;
    // Moving the picture by +d means output pixel p reads input p − d.
    return [1, 0, -dy, 0, 1, -dx, 0, 0, 1];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), heightFactor: this.heightFactor, widthFactor: this.widthFactor };
  }
}

/** Options of {@linkcode RandomCrop}. */
export interface RandomCropArgs extends RandomLayerArgs {
  height: number;
  width: number;
}

function checkTarget(layer: string, height: unknown, width: unknown): void {
  for (const [name, v] of [["height", height], ["width", width]] as const) {
    if (!Number.isInteger(v) || (v as number) <= 0) {
      throw new RangeError(`Cannot make ${layer}: ${name} must be a positive integer, got ${v}`);
    }
  }
}

/** Largest centred window of the target aspect ratio, resized to the target (Keras's smart_resize). */
function centreCropResize(x: tf.Tensor4D, height: number, width: number): tf.Tensor4D {
  const [, h, w] = x.shape;
  const cropH = Math.min(h, Math.round((w * height) / width));
  const cropW = Math.min(w, Math.round((h * width) / height));
  const top = Math.floor((h - cropH) / 2), left = Math.floor((w - cropW) / 2);
  const crop = tf.slice(x, [0, top, left, 0], [-1, cropH, cropW, -1]);
  return cropH === height && cropW === width
    ? crop as tf.Tensor4D
    : resize(crop as tf.Tensor4D, [height, width]);
}

/**
 * While training, a random `height × width` window of each image; at inference (and for images
 * smaller than the target) the centred window of that aspect ratio, resized (Keras's behaviour).
 */
export class RandomCrop extends RandomLayer {
  static className = "RandomCrop";
  readonly height: number;
  readonly width: number;

  constructor(args: RandomCropArgs) {
    super(args);
    checkTarget("RandomCrop", args?.height, args?.width);
    this.height = args.height;
    this.width = args.width;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    return [s[0], this.height, this.width, s[3]];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    const x = inputImages(inputs, "RandomCrop");
    const [n, h, w] = x.shape;
    if (!isTraining(kwargs) || h < this.height || w < this.width) {
      return tf.tidy(() =>
        centreCropResize(tf.cast(x, "float32") as tf.Tensor4D, this.height, this.width)
      );
    }
    return tf.tidy(() => {
      const crops = Array.from({ length: n }, (_, i) => {
        const top = this.rng.int(h - this.height + 1), left = this.rng.int(w - this.width + 1);
        return tf.slice(x, [i, top, left, 0], [1, this.height, this.width, -1]);
      });
      return tf.cast(tf.concat(crops, 0), "float32");
    });
  }

  protected augment(x: tf.Tensor4D): tf.Tensor4D {
    return x; // unused: call() is overridden
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), height: this.height, width: this.width };
  }
}

/** Options of {@linkcode Resizing}. */
export interface ResizingArgs extends LayerArgs {
  height: number;
  width: number;
  /** `"bilinear"` (default), `"nearest"`, `"bicubic"` or `"area"` (TF2 semantics). */
  interpolation?: "bilinear" | "nearest" | "bicubic" | "area";
  /** Centre-crop to the target aspect ratio before resizing (default false). */
  cropToAspectRatio?: boolean;
}

/** Resize images to `height × width` (training and inference alike), with TF2 semantics. */
export class Resizing extends tf.layers.Layer {
  static className = "Resizing";
  readonly height: number;
  readonly width: number;
  readonly interpolation: NonNullable<ResizingArgs["interpolation"]>;
  readonly cropToAspectRatio: boolean;

  constructor(args: ResizingArgs) {
    super(args);
    checkTarget("Resizing", args?.height, args?.width);
    this.height = args.height;
    this.width = args.width;
    this.interpolation = args.interpolation ?? "bilinear";
    this.cropToAspectRatio = args.cropToAspectRatio ?? false;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    return [s[0], this.height, this.width, s[3]];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = inputImages(inputs, "Resizing");
    return tf.tidy(() => {
      const f = tf.cast(x, "float32") as tf.Tensor4D;
      if (this.cropToAspectRatio) return centreCropResize(f, this.height, this.width);
      return resize(f, [this.height, this.width], { method: this.interpolation });
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      height: this.height,
      width: this.width,
      interpolation: this.interpolation,
      cropToAspectRatio: this.cropToAspectRatio,
    };
  }
}

/** Options of {@linkcode Rescaling}. */
export interface RescalingArgs extends LayerArgs {
  /** Multiply by this (e.g. `1 / 255`). */
  scale: number;
  /** Then add this (default 0). */
  offset?: number;
}

/** `x · scale + offset` (training and inference alike). */
export class Rescaling extends tf.layers.Layer {
  static className = "Rescaling";
  readonly scale: number;
  readonly offset: number;

  constructor(args: RescalingArgs) {
    super(args);
    if (!Number.isFinite(args?.scale)) {
      throw new RangeError(
        `Cannot make Rescaling: scale must be a finite number, got ${args?.scale}`,
      );
    }
    this.scale = args.scale;
    this.offset = args.offset ?? 0;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    return tf.tidy(() => tf.add(tf.mul(tf.cast(x, "float32"), this.scale), this.offset));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), scale: this.scale, offset: this.offset };
  }
}

for (
  const cls of [
    RandomFlip,
    RandomRotation,
    RandomZoom,
    RandomTranslation,
    RandomCrop,
    Resizing,
    Rescaling,
  ]
) {
  tf.serialization.registerClass(
    cls as unknown as tf.serialization.SerializableConstructor<tf.layers.Layer>,
  );
}

/** `new RandomFlip(args)`, tfjs style. */
export const randomFlip = (args?: RandomFlipArgs): RandomFlip => new RandomFlip(args);
/** `new RandomRotation(args)`, tfjs style. */
export const randomRotation = (args: RandomRotationArgs): RandomRotation =>
  new RandomRotation(args);
/** `new RandomZoom(args)`, tfjs style. */
export const randomZoom = (args: RandomZoomArgs): RandomZoom => new RandomZoom(args);
/** `new RandomTranslation(args)`, tfjs style. */
export const randomTranslation = (args: RandomTranslationArgs): RandomTranslation =>
  new RandomTranslation(args);
/** `new RandomCrop(args)`, tfjs style. */
export const randomCrop = (args: RandomCropArgs): RandomCrop => new RandomCrop(args);
/** `new Resizing(args)`, tfjs style. */
export const resizing = (args: ResizingArgs): Resizing => new Resizing(args);
/** `new Rescaling(args)`, tfjs style. */
export const rescaling = (args: RescalingArgs): Rescaling => new Rescaling(args);
