/** Turning user input into plain numbers for charts, with errors that say what was wrong. */

/** Numbers from an array or typed array; tensors and others get a clear error. */
export function toNumbers(values: unknown, what: string): number[] {
  if (Array.isArray(values)) {
    return values.map((v, i) => {
      if (typeof v !== "number") {
        throw new TypeError(`${what}: element ${i} is ${typeof v}, expected a number`);
      }
      return v;
    });
  }
  if (ArrayBuffer.isView(values) && !(values instanceof DataView)) {
    return Array.from(values as unknown as ArrayLike<number>, Number);
  }
  if (isTensorLike(values)) {
    throw new TypeError(
      `${what}: got a tensor; pass its values instead (\`await t.data()\` or \`await t.array()\`)`,
    );
  }
  throw new TypeError(`${what}: expected an array of numbers, got ${typeof values}`);
}

/** Whether a value looks like a tfjs tensor (without importing tfjs). */
export function isTensorLike(value: unknown): value is { shape: number[]; dtype: string } {
  return typeof value === "object" && value !== null &&
    Array.isArray((value as { shape?: unknown }).shape) &&
    typeof (value as { dtype?: unknown }).dtype === "string";
}

/**
 * The smallest and largest finite value (`[Infinity, -Infinity]` when there is none), by a loop:
 * `Math.min(...values)` overflows the call stack for a dense layer's worth of values.
 */
export function finiteRange(values: ArrayLike<number>): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}
