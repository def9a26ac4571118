/**
 * Command-line option parsing shared by the training scripts (`deno task pretrain`,
 * `deno task pretrain-digits`).
 *
 * @module
 */

/**
 * Reads `--name N` as a positive integer, or `fallback` when the option was not given.
 *
 * @example
 * ```ts
 * import { positiveInt } from "./_args.ts";
 * positiveInt("8", "epochs", 6); // 8
 * positiveInt(undefined, "epochs", 6); // 6
 * ```
 * @throws {RangeError} naming the option and the value when it is not a positive integer.
 */
export function positiveInt(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) {
    throw new RangeError(`--${name} must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return n;
}
