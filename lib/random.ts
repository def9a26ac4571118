/**
 * The one seed setting in Convlab (`cl.seed(n)`): every random source the lib uses (weight
 * initialisers, shuffling, augmentation, synthetic data) draws from streams derived from it, so a
 * run is reproducible on one backend.
 *
 * Introduced in lesson 02 (LeNet-5), used by every lesson that trains.
 *
 * @module
 */

const DEFAULT_SEED = 42;
let globalSeed = DEFAULT_SEED;
let streamCounter = 0;

/** Listeners told when the seed changes (e.g. the tfjs seeding in the backend module). */
const listeners = new Set<(seed: number) => void>();

/**
 * Set the seed of every random source the lib uses.
 *
 * @param n A non-negative integer.
 * @example
 * ```ts
 * import { randomStream, seed } from "./random.ts";
 * seed(7);
 * const a = randomStream("demo").next();
 * seed(7);
 * console.log(a === randomStream("demo").next()); // true
 * ```
 */
export function seed(n: number): void {
  if (!Number.isInteger(n) || n < 0) {
    throw new RangeError(`Cannot set seed: expected a non-negative integer, got ${n}`);
  }
  globalSeed = n;
  streamCounter = 0;
  for (const listener of listeners) listener(n);
}

/** The seed in use (42 until `seed()` is called); outputs state it so runs can be repeated. */
export function currentSeed(): number {
  return globalSeed;
}

/** Be told whenever `seed()` is called. Returns a function that stops it. */
export function onSeed(listener: (seed: number) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** 32-bit FNV-1a hash of a string, to derive stream seeds from names. */
function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** A seeded pseudo-random stream (sfc32): fast, 128-bit state, good enough for ML shuffles. */
export class RandomStream {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  /** Start a stream from a 32-bit seed. */
  constructor(seed: number) {
    this.#a = 0x9e3779b9;
    this.#b = 0x243f6a88;
    this.#c = 0xb7e15162;
    this.#d = seed >>> 0;
    for (let i = 0; i < 15; i++) this.next();
  }

  /** Next float in [0, 1). */
  next(): number {
    const t = (((this.#a + this.#b) >>> 0) + this.#d) >>> 0;
    this.#d = (this.#d + 1) >>> 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) >>> 0;
    this.#c = ((this.#c << 21) | (this.#c >>> 11)) >>> 0;
    this.#c = (this.#c + t) >>> 0;
    return t / 4294967296;
  }

  /** Uniform float in [low, high). */
  uniform(low = 0, high = 1): number {
    return low + (high - low) * this.next();
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Standard normal sample (Box–Muller). */
  normal(mean = 0, std = 1): number {
    const u = 1 - this.next();
    const v = this.next();
    return mean + std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** A 32-bit integer, e.g. to seed a tfjs op or initialiser. */
  seed32(): number {
    return Math.floor(this.next() * 4294967296) >>> 0;
  }

  /** Shuffle an array in place (Fisher–Yates) and return it. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [items[i], items[j]] = [items[j], items[i]];
    }
    return items;
  }
}

/**
 * A stream derived from the global seed and a name, so independent parts of the lib (shuffling,
 * augmentation, initialisers) do not disturb each other's sequences. With an explicit `seed` the
 * global seed is ignored.
 */
export function randomStream(name: string, explicitSeed?: number): RandomStream {
  const base = explicitSeed ?? globalSeed;
  return new RandomStream((hashString(name) ^ Math.imul(base, 0x9e3779b1)) >>> 0);
}

/**
 * The next seed for something that is created many times (each layer's initialiser, say):
 * successive calls after one `seed(n)` give the same sequence.
 */
export function nextSeed(name = "default"): number {
  streamCounter++;
  return randomStream(`${name}#${streamCounter}`).seed32();
}
