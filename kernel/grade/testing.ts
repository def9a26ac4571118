/**
 * Assertion helpers for assignment test cells: `import { assertClose } from "convlab/testing"`.
 *
 * They work in any kernel (students run the visible tests themselves), and they are built to be
 * trusted in a grading session shared with student code: every built-in they use is captured
 * when the module loads — before any student code runs, since the grader's prelude imports this
 * module first and then freezes it — and values under test are copied element by element, never
 * compared through methods of the student's objects.
 *
 * @example
 * ```ts
 * import { assertClose, assertShape, toArray } from "./testing.ts";
 * assertShape([[1, 2], [3, 4]], [2, 2]);
 * assertClose(await toArray([0.1 + 0.2]), [0.3]);
 * ```
 *
 * @module
 */

// Captured once: later changes to the globals cannot reach these.
const ObjectIs = Object.is;
const ObjectKeys = Object.keys;
const ObjectGetPrototypeOf = Object.getPrototypeOf;
const ObjectPrototype = Object.prototype;
const ArrayIsArray = Array.isArray;
const ArrayBufferIsView = ArrayBuffer.isView;
const MathAbs = Math.abs;
const MathMax = Math.max;
const NumberIsNaN = Number.isNaN;
const NumberIsFinite = Number.isFinite;
const JSONStringify = JSON.stringify;
const StringCtor = String;
const ReflectApply = Reflect.apply;
const ErrorCtor = Error;
const TypeErrorCtor = TypeError;
const PromiseCtor = Promise;

/** Thrown by every helper here when a check fails. */
export class AssertionError extends ErrorCtor {
  constructor(message: string) {
    super(message);
    this.name = "AssertionError";
  }
}

function describe(value: unknown): string {
  if (typeof value === "number") return num(value);
  if (typeof value === "boolean" || value === null) return StringCtor(value);
  if (value === undefined) return "undefined";
  if (typeof value === "string") return JSONStringify(value);
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "function") return "a function";
  if (ArrayIsArray(value)) return `an array of length ${(value as unknown[]).length}`;
  if (isTensorLike(value)) return `a tensor of shape [${(value as { shape: number[] }).shape}]`;
  return "an object";
}

/** A number as a person reads it: float32 noise rounded off (7 significant digits). */
function num(x: number): string {
  return typeof x === "number" && NumberIsFinite(x) ? StringCtor(+x.toPrecision(7)) : StringCtor(x);
}

function fail(message: string | undefined, detail: string): never {
  throw new AssertionError(message ? `${message}: ${detail}` : detail);
}

function isTensorLike(value: unknown): boolean {
  return typeof value === "object" && value !== null &&
    ArrayIsArray((value as { shape?: unknown }).shape) &&
    typeof (value as { array?: unknown }).array === "function";
}

/**
 * Check a condition.
 *
 * @example
 * ```ts
 * import { assert } from "./testing.ts";
 * assert(1 + 1 === 2, "arithmetic works");
 * ```
 */
export function assert(condition: unknown, message = "assertion failed"): asserts condition {
  // Truthiness cannot be redefined by student code (there is no hook for ToBoolean).
  if (!condition) fail(undefined, message);
}

function deepEqual(a: unknown, b: unknown, path: string, depth: number): string | undefined {
  if (ObjectIs(a, b)) return undefined;
  if (depth > 64) return `${path || "value"}: nested too deeply to compare`;
  const at = path || "value";
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) {
    return `${at}: got ${describe(a)}, expected ${describe(b)}`;
  }
  const aList = ArrayIsArray(a) || ArrayBufferIsView(a);
  const bList = ArrayIsArray(b) || ArrayBufferIsView(b);
  if (aList !== bList) return `${at}: got ${describe(a)}, expected ${describe(b)}`;
  if (aList) {
    const al = (a as ArrayLike<unknown>).length, bl = (b as ArrayLike<unknown>).length;
    if (al !== bl) return `${at}: length ${al}, expected ${bl}`;
    for (let i = 0; i < al; i++) {
      const d = deepEqual(
        (a as ArrayLike<unknown>)[i],
        (b as ArrayLike<unknown>)[i],
        `${at}[${i}]`,
        depth + 1,
      );
      if (d) return d;
    }
    return undefined;
  }
  if (ObjectGetPrototypeOf(b) !== ObjectPrototype && ObjectGetPrototypeOf(b) !== null) {
    return `${at}: cannot compare with a ${describe(b)} that is not a plain object`;
  }
  const ak = ObjectKeys(a as object), bk = ObjectKeys(b as object);
  if (ak.length !== bk.length) {
    return `${at}: has keys ${JSONStringify(ak)}, expected ${JSONStringify(bk)}`;
  }
  for (let i = 0; i < bk.length; i++) {
    const k = bk[i];
    const d = deepEqual(
      (a as Record<string, unknown>)[k],
      (b as Record<string, unknown>)[k],
      `${at}.${k}`,
      depth + 1,
    );
    if (d) return d;
  }
  return undefined;
}

/**
 * Check that two values are equal: primitives by `Object.is`, arrays, typed arrays and plain
 * objects element by element.
 *
 * @example
 * ```ts
 * import { assertEquals } from "./testing.ts";
 * assertEquals([1, [2, 3]], [1, [2, 3]]);
 * ```
 */
export function assertEquals(actual: unknown, expected: unknown, message?: string): void {
  const difference = deepEqual(actual, expected, "", 0);
  if (difference !== undefined) fail(message, difference);
}

interface Flat {
  shape: number[];
  values: number[];
}

function flatten(value: unknown, what: string, message: string | undefined): Flat {
  if (typeof value === "number") return { shape: [], values: [value] };
  if (isTensorLike(value)) {
    fail(message, `${what} is a tensor: read it first with \`await toArray(tensor)\``);
  }
  if (value instanceof PromiseCtor) {
    fail(message, `${what} is a Promise: did you forget \`await\`?`);
  }
  if (!ArrayIsArray(value) && !ArrayBufferIsView(value)) {
    fail(message, `${what} must be a number or an array of numbers, got ${describe(value)}`);
  }
  const shape: number[] = [];
  const values: number[] = [];
  const walk = (v: unknown, depth: number, index: string) => {
    if (typeof v === "number") {
      if (depth !== shape.length) {
        fail(message, `${what}${index} is ragged (a number where a list was expected)`);
      }
      values[values.length] = v;
      return;
    }
    if (
      !ArrayIsArray(v) &&
      !(ArrayBufferIsView(v) && typeof (v as unknown as ArrayLike<unknown>).length === "number")
    ) {
      fail(message, `${what}${index} is ${describe(v)}, not a number`);
    }
    const length = (v as ArrayLike<unknown>).length;
    if (depth === shape.length) shape[depth] = length;
    else if (shape[depth] !== length) {
      fail(message, `${what}${index} has length ${length}, expected ${shape[depth]} (ragged)`);
    }
    for (let i = 0; i < length; i++) {
      walk((v as ArrayLike<unknown>)[i], depth + 1, `${index}[${i}]`);
    }
  };
  walk(value, 0, "");
  return { shape, values };
}

function indexOf(flat: number, shape: readonly number[]): string {
  const idx: number[] = [];
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = flat % shape[d];
    flat = (flat - idx[d]) / shape[d];
  }
  return `[${idx.join(", ")}]`;
}

/** Tolerances of {@linkcode assertClose}, as numpy's `allclose`: |a − e| ≤ atol + rtol·|e|. */
export interface CloseOptions {
  /** Absolute tolerance (default 1e-6). */
  atol?: number;
  /** Relative tolerance (default 1e-6). */
  rtol?: number;
  /** What is being checked, put before the difference in the failure message. */
  message?: string;
}

/**
 * Check that numbers (or nested arrays / typed arrays of numbers) match in shape and agree
 * within a tolerance. NaN matches only NaN.
 *
 * @example
 * ```ts
 * import { assertClose } from "./testing.ts";
 * assertClose([[1, 2.0000001]], [[1, 2]], { atol: 1e-4 });
 * ```
 */
export function assertClose(actual: unknown, expected: unknown, options: CloseOptions = {}): void {
  const atol = options.atol ?? 1e-6, rtol = options.rtol ?? 1e-6;
  const message = options.message;
  const a = flatten(actual, "actual", message);
  const e = flatten(expected, "expected", message);
  if (a.shape.length !== e.shape.length || a.shape.some((n, i) => n !== e.shape[i])) {
    fail(message, `shape [${a.shape.join(", ")}], expected [${e.shape.join(", ")}]`);
  }
  let bad = 0, first = -1, maxDiff = 0;
  for (let i = 0; i < e.values.length; i++) {
    const x = a.values[i], y = e.values[i];
    const nan = NumberIsNaN(x) || NumberIsNaN(y);
    const diff = MathAbs(x - y);
    const ok = nan ? NumberIsNaN(x) && NumberIsNaN(y) : diff <= atol + rtol * MathAbs(y) ||
      (!NumberIsFinite(y) && ObjectIs(x, y));
    if (!ok) {
      bad++;
      if (first < 0) first = i;
      maxDiff = MathMax(maxDiff, nan ? Infinity : diff);
    }
  }
  if (bad > 0) {
    const where = e.shape.length ? ` at ${indexOf(first, e.shape)}` : "";
    fail(
      message,
      `got ${num(a.values[first])}${where}, expected ${num(e.values[first])} ` +
        `(${bad} of ${e.values.length} values differ; largest difference ${num(maxDiff)}; ` +
        `atol ${atol}, rtol ${rtol})`,
    );
  }
}

/** The shape of a tensor, typed array or nested array. */
export function shapeOf(value: unknown): number[] {
  if (isTensorLike(value)) {
    const shape = (value as { shape: unknown[] }).shape;
    const out: number[] = [];
    for (let i = 0; i < shape.length; i++) out[i] = shape[i] as number;
    return out;
  }
  return flatten(value, "value", undefined).shape;
}

/**
 * Check the shape of a tensor, typed array or nested array (`null` in `expected` matches any
 * size, as in Keras shapes).
 *
 * @example
 * ```ts
 * import { assertShape } from "./testing.ts";
 * assertShape([[1, 2, 3]], [null, 3]);
 * ```
 */
export function assertShape(
  actual: unknown,
  expected: readonly (number | null)[],
  message?: string,
): void {
  const shape = shapeOf(actual);
  const ok = shape.length === expected.length &&
    shape.every((n, i) => expected[i] === null || n === expected[i]);
  if (!ok) {
    fail(
      message,
      `shape [${shape.join(", ")}], expected [${expected.map((n) => n ?? "any").join(", ")}]`,
    );
  }
}

/**
 * Check that a function throws (or an async function rejects); returns the error.
 *
 * @example
 * ```ts
 * import { assertThrows } from "./testing.ts";
 * await assertThrows(() => JSON.parse("{"), SyntaxError);
 * ```
 */
export async function assertThrows(
  fn: () => unknown,
  errorClass?: abstract new (...args: never[]) => Error,
  message?: string,
): Promise<unknown> {
  let threw = false, error: unknown;
  try {
    await ReflectApply(fn, undefined, []);
  } catch (e) {
    threw = true;
    error = e;
  }
  if (!threw) fail(message, "expected an error, but none was thrown");
  if (errorClass && !(error instanceof errorClass)) {
    fail(message, `expected a ${errorClass.name}, got ${describe(error)}`);
  }
  return error;
}

/**
 * The values of a tensor, typed array or nested array as plain nested arrays of numbers, for
 * {@linkcode assertClose}. Tensors are read asynchronously (`await tensor.array()`), which works
 * on every backend.
 *
 * @example
 * ```ts
 * import { toArray } from "./testing.ts";
 * console.log(await toArray(new Float32Array([1, 2]))); // [1, 2]
 * ```
 */
export async function toArray(value: unknown): Promise<unknown> {
  if (isTensorLike(value)) {
    const read = (value as { array: () => Promise<unknown> }).array;
    return copy(await ReflectApply(read, value, []));
  }
  if (typeof value === "number") return value;
  if (ArrayIsArray(value) || ArrayBufferIsView(value)) return copy(value);
  throw new TypeErrorCtor(`toArray() needs a tensor or an array, got ${describe(value)}`);
}

function copy(value: unknown): unknown {
  if (!ArrayIsArray(value) && !ArrayBufferIsView(value)) return value;
  const list = value as ArrayLike<unknown>;
  const out: unknown[] = [];
  for (let i = 0; i < list.length; i++) out[i] = copy(list[i]);
  return out;
}
