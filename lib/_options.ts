/**
 * Options objects are checked against the names a function knows, so that a Keras habit
 * (`batch_size`, `restore_best_weights`) or a typo gets an error instead of a silent default.
 *
 * @module
 */

/** `restore_best_weights` → `restoreBestWeights`. */
function camelCase(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/**
 * Throw if `options` has a key that is not in `known`: `"<what>: unknown option "batch_size"
 * (options are camelCase: batchSize)"`.
 *
 * @param what The start of the message, e.g. `"Cannot fit"`.
 * @param options The options object (undefined and null pass).
 * @param known The option names the caller accepts.
 * @param ErrorType The error class to throw (default RangeError).
 */
export function rejectUnknownOptions(
  what: string,
  options: object | undefined | null,
  known: Iterable<string>,
  ErrorType: new (message: string) => Error = RangeError,
): void {
  if (options === undefined || options === null) return;
  const names = new Set(known);
  for (const key of Object.keys(options)) {
    if (names.has(key)) continue;
    const camel = camelCase(key);
    const hint = camel !== key && names.has(camel)
      ? ` (options are camelCase: ${camel})`
      : ` (known: ${[...names].join(", ")})`;
    throw new ErrorType(`${what}: unknown option "${key}"${hint}`);
  }
}
