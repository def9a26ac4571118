/**
 * `cl.ImageDataGenerator`: Keras's on-the-fly image augmentation, with Keras's option names, units
 * and defaults. Each batch draws one random affine matrix per image (rotation, shifts, shear, zoom
 * and flips composed) and resamples the whole batch in one `tf.image.transform` call; brightness,
 * channel shift, rescale and featurewise standardisation are batch tensor ops.
 *
 * Seeded: `flow(x, y, {seed})` and `augment(x, {seed})` with the same seed give the same batches;
 * without a seed they derive one from `cl.seed(n)`.
 *
 * Introduced in lesson 03 (data augmentation, 데이터 증식, on CIFAR-10).
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import { rejectUnknownOptions } from "../_options.ts";
import { nextSeed, RandomStream, randomStream } from "../random.ts";
import {
  applyTransforms,
  FILL_MODES,
  type FillMode,
  transformMatrix,
  type TransformParams,
} from "./affine.ts";

/** Options of {@linkcode ImageDataGenerator} (Keras's names in camelCase; Keras's defaults). */
export interface ImageDataGeneratorOptions {
  /** Degrees: rotation uniform in ±rotationRange (default 0). */
  rotationRange?: number;
  /**
   * Horizontal shift, as Keras: a fraction of the width when < 1 (uniform in ±range·width); an
   * integer N ≥ 1: whole pixels in (−N, N) (so 2 gives −1, 0 or +1); another number ≥ 1: uniform
   * in ±range pixels; a list: one of its values with a random sign. Default 0.
   */
  widthShiftRange?: number | number[];
  /** Vertical shift, as {@linkcode widthShiftRange} but of the height. */
  heightShiftRange?: number | number[];
  /** Shear angle in degrees, uniform in ±shearRange (default 0). */
  shearRange?: number;
  /** Zoom: `z` means uniform in [1 − z, 1 + z] per axis; or `[low, high]`. Default 0. */
  zoomRange?: number | [number, number];
  /** Flip left–right half of the time (default false). */
  horizontalFlip?: boolean;
  /** Flip top–bottom half of the time (default false). */
  verticalFlip?: boolean;
  /** `[low, high]`: multiply pixel values by a factor drawn from it (clipped to the range). */
  brightnessRange?: [number, number];
  /** Add one value uniform in ±channelShiftRange to every channel (clipped to the image's range). */
  channelShiftRange?: number;
  /** How points outside the image are filled (default `"nearest"`). */
  fillMode?: FillMode;
  /** Fill value for `"constant"` (default 0). */
  cval?: number;
  /** Multiply every pixel by this after the random transforms (e.g. `1 / 255`). */
  rescale?: number;
  /** Subtract the dataset's per-channel mean (from {@linkcode ImageDataGenerator.fit}). */
  featurewiseCenter?: boolean;
  /** Divide by the dataset's per-channel standard deviation (from `fit`). */
  featurewiseStdNormalization?: boolean;
  /** `"bilinear"` (Keras's order 1, default) or `"nearest"`. */
  interpolation?: "bilinear" | "nearest";
}

/** Options of {@linkcode ImageDataGenerator.flow}. */
export interface FlowOptions {
  /** Images per batch (default 32). */
  batchSize?: number;
  /** Reshuffle the order every epoch (default true). */
  shuffle?: boolean;
  /** Seed of the shuffles and the transforms (default: derived from `cl.seed`). */
  seed?: number;
}

/** One batch from a flow: `ys` is absent when `flow` got no labels. */
export interface AugmentedBatch {
  xs: tf.Tensor4D;
  ys?: tf.Tensor;
}

const WHAT = "Cannot make ImageDataGenerator";

const GENERATOR_OPTIONS = [
  "rotationRange",
  "widthShiftRange",
  "heightShiftRange",
  "shearRange",
  "zoomRange",
  "horizontalFlip",
  "verticalFlip",
  "brightnessRange",
  "channelShiftRange",
  "fillMode",
  "cval",
  "rescale",
  "featurewiseCenter",
  "featurewiseStdNormalization",
  "interpolation",
];

function checkNumber(name: string, v: unknown, min = 0): number {
  if (typeof v !== "number" || !Number.isFinite(v) || v < min) {
    throw new RangeError(`${WHAT}: ${name} must be a number ≥ ${min}, got ${v}`);
  }
  return v;
}

/** Keras's on-the-fly augmentation (see the module doc). */
export class ImageDataGenerator {
  readonly options:
    & Readonly<Required<Omit<ImageDataGeneratorOptions, "brightnessRange" | "rescale">>>
    & {
      brightnessRange?: [number, number];
      rescale?: number;
    };
  /** Per-channel mean from {@linkcode fit} (featurewise centring). */
  mean?: Float32Array;
  /** Per-channel standard deviation from {@linkcode fit}. */
  std?: Float32Array;

  /**
   * @example
   * ```ts
   * import { ImageDataGenerator } from "./generator.ts";
   * const gen = new ImageDataGenerator({ rotationRange: 40, widthShiftRange: 0.2, horizontalFlip: true });
   * console.log(gen.options.fillMode); // "nearest"
   * ```
   */
  constructor(options: ImageDataGeneratorOptions = {}) {
    rejectUnknownOptions(WHAT, options, GENERATOR_OPTIONS, TypeError);
    const shift = (name: string, v: number | number[] | undefined) => {
      if (v === undefined) return 0;
      if (Array.isArray(v)) {
        if (v.length === 0) throw new RangeError(`${WHAT}: ${name} list is empty`);
        v.forEach((x) => checkNumber(name, x, -Infinity));
        return v;
      }
      return checkNumber(name, v);
    };
    let zoom = options.zoomRange ?? 0;
    if (Array.isArray(zoom)) {
      if (zoom.length !== 2 || !(zoom[0] > 0 && zoom[1] >= zoom[0])) {
        throw new RangeError(
          `${WHAT}: zoomRange must be z or [low, high] with 0 < low <= high, got [${zoom}]`,
        );
      }
    } else zoom = checkNumber("zoomRange", zoom);
    if (!Array.isArray(zoom) && zoom >= 1) {
      throw new RangeError(
        `${WHAT}: zoomRange ${zoom} would allow zero or negative zoom; use [low, high]`,
      );
    }
    const b = options.brightnessRange;
    if (b !== undefined && (!Array.isArray(b) || b.length !== 2 || !(b[0] >= 0 && b[1] >= b[0]))) {
      throw new RangeError(`${WHAT}: brightnessRange must be [low, high] with 0 <= low <= high`);
    }
    const fillMode = options.fillMode ?? "nearest";
    if (!FILL_MODES.includes(fillMode)) {
      throw new RangeError(
        `${WHAT}: fillMode must be one of ${FILL_MODES.join(", ")}, got ${fillMode}`,
      );
    }
    const interpolation = options.interpolation ?? "bilinear";
    if (interpolation !== "bilinear" && interpolation !== "nearest") {
      throw new RangeError(
        `${WHAT}: interpolation must be "bilinear" or "nearest", got ${interpolation}`,
      );
    }
    if (options.rescale !== undefined && !Number.isFinite(options.rescale)) {
      throw new RangeError(`${WHAT}: rescale must be a finite number, got ${options.rescale}`);
    }
    this.options = {
      rotationRange: checkNumber("rotationRange", options.rotationRange ?? 0),
      widthShiftRange: shift("widthShiftRange", options.widthShiftRange),
      heightShiftRange: shift("heightShiftRange", options.heightShiftRange),
      shearRange: checkNumber("shearRange", options.shearRange ?? 0),
      zoomRange: zoom,
      horizontalFlip: options.horizontalFlip ?? false,
      verticalFlip: options.verticalFlip ?? false,
      brightnessRange: b,
      channelShiftRange: checkNumber("channelShiftRange", options.channelShiftRange ?? 0),
      fillMode,
      cval: options.cval ?? 0,
      rescale: options.rescale,
      featurewiseCenter: options.featurewiseCenter ?? false,
      featurewiseStdNormalization: options.featurewiseStdNormalization ?? false,
      interpolation,
    };
  }

  /**
   * A shift in pixels for one image, Keras's way (`get_random_transform`): a fraction of the size
   * when the range is below 1; an integer N ≥ 1 is `np.random.choice(N)` (0 … N−1) times a random
   * sign, i.e. whole pixels in (−N, N); a list is a choice from it times a random sign (fractions
   * of the size when every entry is below 1); any other number ≥ 1 is uniform in ±range pixels.
   */
  #shift(range: number | number[], size: number, rng: RandomStream): number {
    if (range === 0) return 0;
    const sign = () => (rng.next() < 0.5 ? -1 : 1);
    let shift: number;
    if (Array.isArray(range)) shift = range[rng.int(range.length)] * sign();
    else if (Number.isInteger(range)) shift = rng.int(range) * sign();
    else shift = rng.uniform(-range, range);
    const max = Array.isArray(range) ? Math.max(...range) : range;
    return max < 1 ? shift * size : shift;
  }

  /**
   * Draw one image's transform parameters (Keras's `get_random_transform`).
   *
   * @param height Image height (shifts are fractions of it).
   * @param width Image width.
   * @param rng The random stream to draw from.
   */
  randomParams(height: number, width: number, rng: RandomStream): TransformParams & {
    brightness: number;
    channelShift: number;
  } {
    const o = this.options;
    const [zlo, zhi] = Array.isArray(o.zoomRange)
      ? o.zoomRange
      : [1 - o.zoomRange, 1 + o.zoomRange];
    const zoomed = zlo !== 1 || zhi !== 1;
    return {
      theta: o.rotationRange ? rng.uniform(-o.rotationRange, o.rotationRange) : 0,
      tx: this.#shift(o.heightShiftRange, height, rng),
      ty: this.#shift(o.widthShiftRange, width, rng),
      shear: o.shearRange ? rng.uniform(-o.shearRange, o.shearRange) : 0,
      zx: zoomed ? rng.uniform(zlo, zhi) : 1,
      zy: zoomed ? rng.uniform(zlo, zhi) : 1,
      flipHorizontal: o.horizontalFlip && rng.next() < 0.5,
      flipVertical: o.verticalFlip && rng.next() < 0.5,
      brightness: o.brightnessRange ? rng.uniform(o.brightnessRange[0], o.brightnessRange[1]) : 1,
      channelShift: o.channelShiftRange
        ? rng.uniform(-o.channelShiftRange, o.channelShiftRange)
        : 0,
    };
  }

  /**
   * Random transforms of a batch (Keras's `random_transform` per image), without `standardize`.
   * Returns float32 `[n, h, w, c]`.
   */
  randomTransform(images: tf.Tensor, options: { seed?: number } = {}): tf.Tensor4D {
    const rng = new RandomStream(options.seed ?? nextSeed("ImageDataGenerator"));
    return this.#transformBatch(asBatch(images, "Cannot augment images"), rng);
  }

  #transformBatch(batch: tf.Tensor4D, rng: RandomStream): tf.Tensor4D {
    const [n, h, w] = batch.shape;
    const params = Array.from({ length: n }, () => this.randomParams(h, w, rng));
    const o = this.options;
    return tf.tidy(() => {
      let x = tf.cast(batch, "float32") as tf.Tensor4D;
      x = applyTransforms(x, params.map((p) => transformMatrix(p, h, w)), {
        fillMode: o.fillMode,
        cval: o.cval,
        interpolation: o.interpolation,
      });
      if (o.channelShiftRange) {
        // Keras clips the shifted image to its own min and max. min/max are written with relu
        // (min(a, b) = a − relu(a − b)): broadcasting tf.minimum/maximum is ~30× slower on wasm.
        const lo = tf.min(x, [1, 2, 3], true), hi = tf.max(x, [1, 2, 3], true);
        const shift = tf.tensor4d(params.map((p) => p.channelShift), [n, 1, 1, 1]);
        const shifted = tf.add(x, shift);
        const capped = tf.sub(shifted, tf.relu(tf.sub(shifted, hi)));
        x = tf.add(capped, tf.relu(tf.sub(lo, capped))) as tf.Tensor4D;
      }
      if (o.brightnessRange) {
        // Brightness scales values and clips to the image scale (0–255 data, or 0–1 data).
        const top = tf.where(tf.greater(tf.max(x), 1), tf.scalar(255), tf.scalar(1));
        const factor = tf.tensor4d(params.map((p) => p.brightness), [n, 1, 1, 1]);
        const scaled = tf.relu(tf.mul(x, factor));
        x = tf.sub(scaled, tf.relu(tf.sub(scaled, top))) as tf.Tensor4D;
      }
      return x;
    });
  }

  /**
   * Rescale and featurewise standardisation (Keras's `standardize`). Returns float32.
   */
  standardize(images: tf.Tensor): tf.Tensor4D {
    const o = this.options;
    if ((o.featurewiseCenter && !this.mean) || (o.featurewiseStdNormalization && !this.std)) {
      throw new Error(
        "Cannot standardize: featurewiseCenter/featurewiseStdNormalization need statistics; " +
          "call generator.fit(xTrain) first",
      );
    }
    return tf.tidy(() => {
      let x = tf.cast(
        asBatch(images, "Cannot standardize images", false),
        "float32",
      ) as tf.Tensor4D;
      if (o.rescale !== undefined) x = tf.mul(x, o.rescale);
      if (o.featurewiseCenter) x = tf.sub(x, tf.tensor1d(this.mean!));
      if (o.featurewiseStdNormalization) x = tf.div(x, tf.add(tf.tensor1d(this.std!), 1e-6));
      return x;
    });
  }

  /**
   * Random transforms then standardisation: what `flow` yields, for one batch.
   *
   * @example
   * ```ts
   * import * as tf from "@tensorflow/tfjs";
   * import { ImageDataGenerator } from "./generator.ts";
   * const gen = new ImageDataGenerator({ horizontalFlip: true });
   * const out = gen.augment(tf.zeros([4, 8, 8, 3]), { seed: 1 });
   * console.log(out.shape); // [4, 8, 8, 3]
   * ```
   */
  augment(images: tf.Tensor, options: { seed?: number } = {}): tf.Tensor4D {
    const rng = new RandomStream(options.seed ?? nextSeed("ImageDataGenerator"));
    const batch = asBatch(images, "Cannot augment images");
    return tf.tidy(() => this.standardize(this.#transformBatch(batch, rng)));
  }

  /**
   * Compute the featurewise statistics (per-channel mean and std) from training images, as
   * Keras's `fit`. Unlike Keras, `rescale` is applied first, so `rescale` and the featurewise
   * options combine as one would expect.
   */
  async fit(images: tf.Tensor): Promise<void> {
    const batch = asBatch(images, "Cannot fit ImageDataGenerator", false);
    const stats = tf.tidy(() => {
      let x = tf.cast(batch, "float32");
      if (this.options.rescale !== undefined) x = tf.mul(x, this.options.rescale);
      const { mean, variance } = tf.moments(x, [0, 1, 2]);
      return tf.stack([mean, tf.sqrt(variance)]);
    });
    const values = await stats.data();
    stats.dispose();
    const c = batch.shape[3];
    this.mean = Float32Array.from(values.subarray(0, c));
    this.std = Float32Array.from(values.subarray(c, 2 * c));
  }

  /**
   * Batches of augmented images (and their labels) for training: pass it to Convlab's `fit`
   * (`fit(model, gen.flow(xTrain, yTrain), {epochs})`) or to tfjs's `model.fitDataset`. One pass
   * over the data is one epoch (`length` batches); each epoch reshuffles and draws new transforms.
   *
   * @param x Images `[n, h, w, c]` (int32 0–255 or float).
   * @param y Labels with n rows (a tensor, or plain numbers as Keras takes NumPy arrays), or
   *   undefined for images only.
   * @param options Batch size, shuffling, seed.
   * @example
   * ```ts
   * import * as tf from "@tensorflow/tfjs";
   * import { ImageDataGenerator } from "./generator.ts";
   * const gen = new ImageDataGenerator({ rotationRange: 20, rescale: 1 / 255 });
   * const flow = gen.flow(tf.zeros([10, 8, 8, 3]), tf.zeros([10, 2]), { batchSize: 4, seed: 1 });
   * console.log(flow.length); // 3 batches per epoch
   * for (const { xs, ys } of flow) tf.dispose([xs, ys!]);
   * ```
   */
  flow(x: tf.Tensor, y?: tf.Tensor | Labels, options: FlowOptions = {}): ImageFlow {
    return new ImageFlow(this, x, y, options);
  }

  /** @internal One augmented batch of `x[indices]` (and `y[indices]`). */
  batchAt(
    x: tf.Tensor4D,
    y: tf.Tensor | undefined,
    indices: number[],
    rng: RandomStream,
  ): AugmentedBatch {
    const picked = tf.tidy(() => tf.gather(x, indices) as tf.Tensor4D);
    try {
      const xs = tf.tidy(() => this.standardize(this.#transformBatch(picked, rng)));
      return y ? { xs, ys: tf.gather(y, indices) } : { xs };
    } finally {
      picked.dispose();
    }
  }
}

/** Labels as plain numbers: one per image, or one row (e.g. one-hot) per image. */
export type Labels = number[] | number[][];

function isLabels(y: unknown): y is Labels {
  if (!Array.isArray(y)) return false;
  if (y.every((v) => typeof v === "number")) return true;
  const width = Array.isArray(y[0]) ? y[0].length : -1;
  return y.every((row) =>
    Array.isArray(row) && row.length === width && row.every((v) => typeof v === "number")
  );
}

/** `[n, h, w, c]` view of an image or batch (a single `[h, w, c]` image becomes a batch of 1). */
function asBatch(images: tf.Tensor, what: string, allowSingle = true): tf.Tensor4D {
  if (!(images instanceof tf.Tensor)) throw new TypeError(`${what}: expected an image tensor`);
  if (images.rank === 4) return images as tf.Tensor4D;
  if (images.rank === 3 && allowSingle) return images.reshape([1, ...images.shape]) as tf.Tensor4D;
  throw new RangeError(
    `${what}: expected [batch, height, width, channels]${
      allowSingle ? " or [height, width, channels]" : ""
    }, got [${images.shape.join(", ")}]`,
  );
}

/**
 * The batches of `ImageDataGenerator.flow`: iterable (one epoch per `for…of`), async-iterable,
 * a tf.data-style dataset (`iterator()`, for `model.fitDataset`), and `nextBatch()` for taking
 * batches one at a time (endless, as Keras's `next(it)`). Tensors it yields belong to the caller
 * (training disposes them).
 */
export class ImageFlow implements Iterable<AugmentedBatch>, AsyncIterable<AugmentedBatch> {
  readonly generator: ImageDataGenerator;
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly seed: number;
  /** Images in the flow. */
  readonly size: number;
  readonly #x: tf.Tensor4D;
  readonly #y?: tf.Tensor;
  /** Plain labels: each batch's `ys` tensor is made from its rows (the flow holds no tensor). */
  readonly #labels?: Labels;
  readonly #rng: RandomStream;
  readonly #shuffler: RandomStream;
  #order: number[] = [];
  #position = 0;
  #epoch = 0;

  constructor(
    generator: ImageDataGenerator,
    x: tf.Tensor,
    y: tf.Tensor | Labels | undefined,
    options: FlowOptions,
  ) {
    const what = "Cannot flow images";
    if (x instanceof tf.Tensor && x.rank === 3) {
      throw new RangeError(
        `${what}: expected [batch, height, width, channels], got [${x.shape.join(", ")}] ` +
          "(add the channel axis: x.expandDims(-1))",
      );
    }
    const batch = asBatch(x, what, false);
    const { batchSize = 32, shuffle = true } = options;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new RangeError(`${what}: batchSize must be a positive integer, got ${batchSize}`);
    }
    if (y !== undefined && !(y instanceof tf.Tensor) && !isLabels(y)) {
      throw new TypeError(`${what}: y must be a tensor or an array of numbers (or of rows)`);
    }
    const rows = y === undefined ? undefined : y instanceof tf.Tensor ? y.shape[0] : y.length;
    if (rows !== undefined && rows !== batch.shape[0]) {
      throw new RangeError(`${what}: x has ${batch.shape[0]} images but y has ${rows} rows`);
    }
    if (batch.shape[0] === 0) throw new RangeError(`${what}: x has no images`);
    this.generator = generator;
    this.batchSize = batchSize;
    this.shuffle = shuffle;
    this.seed = options.seed ?? nextSeed("ImageDataGenerator.flow");
    this.size = batch.shape[0];
    this.#x = batch;
    if (y instanceof tf.Tensor) this.#y = y;
    else this.#labels = y;
    this.#rng = randomStream("ImageDataGenerator.transforms", this.seed);
    this.#shuffler = randomStream("ImageDataGenerator.shuffle", this.seed);
  }

  /** Batches per epoch (Keras's `len(iterator)`). */
  get length(): number {
    return Math.ceil(this.size / this.batchSize);
  }

  #newEpoch(): void {
    this.#order = Array.from({ length: this.size }, (_, i) => i);
    if (this.shuffle) this.#shuffler.shuffle(this.#order);
    this.#position = 0;
    this.#epoch++;
  }

  /** The next batch, continuing across epochs without end (Keras's `next(iterator)`). */
  nextBatch(): AugmentedBatch {
    if (this.#position >= this.#order.length) this.#newEpoch();
    const indices = this.#order.slice(this.#position, this.#position + this.batchSize);
    this.#position += indices.length;
    const batch = this.generator.batchAt(this.#x, this.#y, indices, this.#rng);
    const labels = this.#labels;
    if (labels) batch.ys = tf.tensor(indices.map((i) => labels[i]) as number[] | number[][]);
    return batch;
  }

  /** One epoch of batches (a fresh pass each time it is iterated). */
  *[Symbol.iterator](): Iterator<AugmentedBatch> {
    if (this.#position < this.#order.length && this.#position > 0) {
      this.#position = this.#order.length;
    }
    for (let i = 0; i < this.length; i++) yield this.nextBatch();
  }

  /** The same epoch, asynchronously. */
  async *[Symbol.asyncIterator](): AsyncIterator<AugmentedBatch> {
    for (const batch of this) yield await Promise.resolve(batch);
  }

  /** tf.data-style: a fresh one-epoch iterator (what `model.fitDataset` calls each epoch). */
  iterator(): Promise<{ next(): Promise<IteratorResult<AugmentedBatch>> }> {
    const it = this[Symbol.iterator]();
    return Promise.resolve({ next: () => Promise.resolve(it.next()) });
  }
}
