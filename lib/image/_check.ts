/** Shared argument checks for image functions: clear errors that name the function and the shape. */

import type * as tf from "@tensorflow/tfjs";

/** Throw unless `x` is a tensor of one of the given ranks; returns the rank. */
export function checkImageRank(
  x: unknown,
  ranks: readonly number[],
  what: string,
): number {
  const t = x as tf.Tensor;
  if (
    typeof t !== "object" || t === null || !Array.isArray(t.shape) || typeof t.dtype !== "string"
  ) {
    throw new TypeError(`${what}: expected an image tensor, got ${describe(x)}`);
  }
  if (t.isDisposed) throw new TypeError(`${what}: the image tensor has been disposed`);
  if (!ranks.includes(t.rank)) {
    const expected = ranks.map((r) => RANK_NAMES[r] ?? `rank ${r}`).join(" or ");
    throw new RangeError(
      `${what}: expected ${expected}, got shape [${t.shape.join(", ")}]`,
    );
  }
  return t.rank;
}

const RANK_NAMES: Record<number, string> = {
  2: "[height, width]",
  3: "[height, width, channels]",
  4: "[batch, height, width, channels]",
};

/** Throw unless `[height, width]` is a pair of positive integers. */
export function checkSize(size: unknown, what: string): [number, number] {
  if (!Array.isArray(size) || size.length !== 2) {
    throw new TypeError(`${what}: size must be [height, width], got ${describe(size)}`);
  }
  const [h, w] = size as number[];
  for (const [name, v] of [["height", h], ["width", w]] as const) {
    if (!Number.isInteger(v) || v <= 0) {
      throw new RangeError(`${what}: ${name} must be a positive integer, got ${v}`);
    }
  }
  return [h, w];
}

/** A short description of a value for error messages. */
export function describe(x: unknown): string {
  if (x === null) return "null";
  if (Array.isArray(x)) {
    return `[${x.slice(0, 4).map(describe).join(", ")}${x.length > 4 ? ", …" : ""}]`;
  }
  if (typeof x === "object") return (x as object).constructor?.name ?? "object";
  if (typeof x === "string") return JSON.stringify(x);
  return String(x);
}
