/**
 * Kept names: the values read-only and test cells declare, copied right after those cells run
 * and given back at the start of each later test cell, so a student's later
 * `const expected = …`, `function reference() {…}` or `expected.push(…)` cannot change what the
 * tests compare with.
 *
 * The grader's prelude defines the keeper as a global with a random name that can be neither
 * reassigned nor shadowed; each read-only or test cell gets one line at its end that keeps its
 * names in a store (a `const` with a random name, which student code cannot reach), and each
 * later test cell gets one line at its start that takes them back. Plain data (arrays, plain
 * objects, typed arrays, up to a budget) is copied each way; anything else (tensors, models,
 * functions) is kept as the same object.
 *
 * The keeper is stringified into the prelude, so it is self-contained.
 *
 * @module
 */

/** The keeper a grading session gets. */
export interface Keeper {
  /** Copy `values` into a new frozen store. */
  keep(values: Record<string, unknown>): Readonly<Record<string, unknown>>;
  /**
   * Copies of a store's values; throws, saying which cell did not finish, when the store is
   * missing (the cell that defines it failed before its end).
   */
  take(
    store: Readonly<Record<string, unknown>> | undefined,
    where: string,
    names: readonly string[],
  ): Record<string, unknown>;
}

/** Make the keeper (runs inside the grading session, after `lockdown`). */
export function makeKeeper(): Keeper {
  const { create, defineProperty, freeze, getPrototypeOf, keys } = Object;
  const isArray = Array.isArray, isView = ArrayBuffer.isView;
  const objectPrototype = Object.prototype;
  const ErrorCtor = Error;
  /** Elements copied per call at most; past that, values are shared. */
  const BUDGET = 100_000;
  const set = (target: object, key: string, value: unknown) =>
    defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
  const copyAll = (values: Record<string, unknown>, names: readonly string[]) => {
    let budget = BUDGET;
    const copy = (value: unknown, depth: number): unknown => {
      if (typeof value !== "object" || value === null || depth > 32) return value;
      if (isArray(value)) {
        if ((budget -= value.length) < 0) return value;
        const out: unknown[] = [];
        for (let i = 0; i < value.length; i++) set(out, String(i), copy(value[i], depth + 1));
        return out;
      }
      if (isView(value)) {
        const view = value as unknown as { length?: number; slice?: () => unknown };
        if (typeof view.length !== "number" || (budget -= view.length) < 0) return value;
        return view.slice!();
      }
      const proto = getPrototypeOf(value);
      if (proto !== objectPrototype && proto !== null) return value;
      const fields = keys(value);
      if ((budget -= fields.length) < 0) return value;
      const out = proto === null ? create(null) : {};
      for (const k of fields) set(out, k, copy((value as Record<string, unknown>)[k], depth + 1));
      return out;
    };
    const out = create(null) as Record<string, unknown>;
    for (const name of names) set(out, name, copy(values[name], 0));
    return out;
  };
  return freeze({
    keep(values: Record<string, unknown>) {
      return freeze(copyAll(values, keys(values)));
    },
    take(
      store: Readonly<Record<string, unknown>> | undefined,
      where: string,
      names: readonly string[],
    ) {
      if (store === undefined) {
        throw new ErrorCtor(
          `${where} did not run to its end, so ${names.join(", ")} cannot be used here`,
        );
      }
      return copyAll(store, names);
    },
  });
}

/** The prelude line that defines the keeper under `name`. */
export function keeperSource(name: string): string {
  return `Object.defineProperty(globalThis, ${
    JSON.stringify(name)
  }, { value: (${makeKeeper.toString()})(), writable: false, enumerable: false, configurable: false });`;
}

/** A random identifier for the keeper or a store. */
export function randomName(prefix: string): string {
  const bytes = crypto.getRandomValues(new Uint8Array(6));
  return `${prefix}${[...bytes].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/** What one read-only or test cell keeps. */
export interface KeptStore {
  /** The store's identifier. */
  store: string;
  /** How the cell is named in messages, e.g. `read-only cell 2 ("setup")`. */
  where: string;
  /** A read-only cell: every later test cell takes all its names (else only those it uses). */
  readOnly: boolean;
  consts: string[];
  assignable: string[];
}

/** The line appended to a cell that keeps its names (a declaration: the cell's value stays). */
export function keepLine(keeper: string, kept: KeptStore): string {
  const names = [...kept.consts, ...kept.assignable];
  return `const ${kept.store} = ${keeper}.keep({ ${names.join(", ")} }); // kept by the grader`;
}

/** The statements that give names back at the start of a test cell (empty when none). */
export function takeStatements(
  keeper: string,
  stores: { kept: KeptStore; consts: string[]; assignable: string[] }[],
): string {
  const parts: string[] = [];
  for (const { kept, consts, assignable } of stores) {
    const take = (names: string[]) =>
      `${keeper}.take(typeof ${kept.store} === "undefined" ? undefined : ${kept.store}, ${
        JSON.stringify(kept.where)
      }, ${JSON.stringify(names)})`;
    if (consts.length) parts.push(`const { ${consts.join(", ")} } = ${take(consts)};`);
    if (assignable.length) parts.push(`({ ${assignable.join(", ")} } = ${take(assignable)});`);
  }
  return parts.join(" ");
}
