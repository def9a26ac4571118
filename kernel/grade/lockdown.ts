/**
 * Hardening of a grading session's realm, run as its first cell before any student code.
 *
 * Test cells run in the same JavaScript realm as the student's code, so a student could redefine
 * `Array.prototype.every`, `Object.is`, `Math.abs` or an assertion helper to make failing checks
 * pass. {@linkcode lockdown} closes that door the way SES's `lockdown()` does:
 *
 * - every ECMAScript intrinsic (the standard globals, and the hidden ones such as
 *   `%TypedArray%` and the iterator prototypes) is frozen, transitively;
 * - their global names become non-writable and non-configurable, so `let Math = …` in a later
 *   cell is a SyntaxError and `Math = …` a TypeError (a name cannot be shadowed either);
 * - data properties of prototypes become accessors whose setter refuses to change the built-in
 *   but defines the property on the instance, so ordinary code like `obj.toString = …` or
 *   `err.message = …` still works (SES calls this "override taming");
 * - the modules the key's tests import (test helpers, `node:assert`) are imported first and
 *   frozen, and the prototypes of classes exported by preloaded libraries (tfjs's `Tensor`, …)
 *   are frozen the same way.
 *
 * The functions here are stringified into the prelude cell, so each is self-contained.
 *
 * @module
 */

/** What {@linkcode lockdown} did, for the grader's log. */
export interface LockdownReport {
  /** Objects frozen. */
  frozen: number;
  /** Prototype properties turned into override-tolerant accessors. */
  tamed: number;
}

/**
 * Freeze the realm's intrinsics and the given module namespaces.
 *
 * @param deepModules Module namespaces whose exports are frozen transitively (test helpers,
 * `node:assert`).
 * @param classModules Module namespaces whose exported classes get frozen prototypes (libraries
 * with state, like tfjs, where freezing everything would break them).
 */
export function lockdown(
  deepModules: readonly object[] = [],
  classModules: readonly object[] = [],
): LockdownReport {
  const { defineProperty, getOwnPropertyDescriptor, getOwnPropertyDescriptors, getPrototypeOf } =
    Object;
  const { freeze, hasOwn, isFrozen } = Object;
  const ownKeys = Reflect.ownKeys;
  const FunctionHasInstance = (Function.prototype as unknown as Record<symbol, unknown>)[
    Symbol.hasInstance
  ];
  const G = globalThis as unknown as Record<string, unknown>;
  // deno-fmt-ignore
  const intrinsicNames = [
    "Object", "Function", "Array", "Number", "parseFloat", "parseInt", "Boolean", "String",
    "Symbol", "Date", "Promise", "RegExp", "Error", "AggregateError", "EvalError", "RangeError",
    "ReferenceError", "SyntaxError", "TypeError", "URIError", "SuppressedError", "JSON", "Math",
    "Intl", "ArrayBuffer", "SharedArrayBuffer", "Atomics", "Uint8Array", "Int8Array",
    "Uint16Array", "Int16Array", "Uint32Array", "Int32Array", "Float16Array", "Float32Array",
    "Float64Array", "Uint8ClampedArray", "BigUint64Array", "BigInt64Array", "DataView", "Map",
    "BigInt", "Set", "WeakMap", "WeakSet", "Proxy", "Reflect", "FinalizationRegistry", "WeakRef",
    "decodeURI", "decodeURIComponent", "encodeURI", "encodeURIComponent", "escape", "unescape",
    "eval", "isFinite", "isNaN", "Iterator", "DisposableStack", "AsyncDisposableStack",
    "WebAssembly",
  ];
  const roots: unknown[] = [];
  for (const name of [...intrinsicNames, "globalThis"]) {
    if (!hasOwn(G, name)) continue;
    const value = G[name];
    defineProperty(G, name, { value, writable: false, enumerable: false, configurable: false });
    // The global object itself stays extensible: `var` and function declarations live on it.
    if (value !== globalThis) roots.push(value);
  }
  // Intrinsics no global name reaches.
  const probes: Array<() => unknown> = [
    () => getPrototypeOf(Uint8Array),
    () => getPrototypeOf([][Symbol.iterator]()),
    () => getPrototypeOf(""[Symbol.iterator]()),
    () => getPrototypeOf(new Map()[Symbol.iterator]()),
    () => getPrototypeOf(new Set()[Symbol.iterator]()),
    () => getPrototypeOf(/a/[Symbol.matchAll]("a")),
    () => getPrototypeOf(function* () {}),
    () => getPrototypeOf(async function () {}),
    () => getPrototypeOf(async function* () {}),
    () => getOwnPropertyDescriptor(Function.prototype, "caller")?.get,
    () =>
      getPrototypeOf((Iterator as unknown as { from(x: unknown): unknown }).from({ next() {} })),
    () => getPrototypeOf([].values().map((x) => x)),
  ];
  for (const probe of probes) {
    try {
      roots.push(probe());
    } catch {
      // An intrinsic this V8 does not have.
    }
  }
  // V8's stack-trace hooks are frozen with the rest: a student's `Error.prepareStackTrace`
  // would run inside the kernel's error reporting. It is defined (as V8's default, undefined)
  // so that it cannot be added after the freeze either.
  const ErrorCtor = Error as unknown as Record<string, unknown>;
  if (!hasOwn(ErrorCtor, "prepareStackTrace")) {
    defineProperty(ErrorCtor, "prepareStackTrace", {
      value: undefined,
      writable: true,
      configurable: false,
    });
  }

  const report: LockdownReport = { frozen: 0, tamed: 0 };
  const seen = new WeakSet<object>();
  const isPrototypeObject = (o: object): boolean => {
    if (o === Object.prototype || o === Function.prototype) return true;
    try {
      const ctor = getOwnPropertyDescriptor(o, "constructor")?.value;
      return typeof ctor === "function" && ctor.prototype === o;
    } catch {
      return false;
    }
  };
  const tame = (o: object, key: string, value: unknown, enumerable: boolean | undefined) => {
    const target = o;
    // A getter named after the property, so stack traces and `.name` stay readable.
    const get = getOwnPropertyDescriptor({
      get [key]() {
        return value;
      },
    }, key)!.get!;
    const set = function (this: object, newValue: unknown) {
      if (this === target) {
        throw new TypeError(
          `Cannot assign to read only property '${key}' (frozen by the grader)`,
        );
      }
      if (hasOwn(this, key)) (this as Record<string, unknown>)[key] = newValue;
      else {
        defineProperty(this, key, {
          value: newValue,
          writable: true,
          enumerable: true,
          configurable: true,
        });
      }
    };
    defineProperty(o, key, { get, set, enumerable, configurable: false });
    report.tamed++;
  };
  const harden = (start: unknown[], deep: boolean) => {
    const queue = [...start];
    while (queue.length > 0) {
      const o = queue.pop();
      if ((typeof o !== "object" && typeof o !== "function") || o === null || seen.has(o)) {
        continue;
      }
      seen.add(o);
      const descriptors = getOwnPropertyDescriptors(o);
      const tamable = isPrototypeObject(o);
      for (const key of ownKeys(descriptors)) {
        const d = descriptors[key as string];
        if ("value" in d) {
          if (deep) queue.push(d.value);
          if (tamable && typeof key === "string" && d.configurable) {
            tame(o, key, d.value, d.enumerable);
          }
        } else if (deep) queue.push(d.get, d.set);
      }
      queue.push(getPrototypeOf(o));
      if (!isFrozen(o)) freeze(o);
      report.frozen++;
    }
  };
  harden(roots, true);
  for (const ns of deepModules) {
    harden(ownKeys(ns).map((k) => (ns as Record<PropertyKey, unknown>)[k]), true);
  }
  // Libraries: the prototypes of the classes they export, in nested namespaces too (`cl.tf`).
  const isNamespace = (v: unknown) =>
    typeof v === "object" && v !== null &&
    Object.prototype.toString.call(v) === "[object Module]";
  const namespaces = new Set<object>();
  const classes = (ns: object, depth: number) => {
    if (namespaces.has(ns) || depth > 3) return;
    namespaces.add(ns);
    for (const k of ownKeys(ns)) {
      let value: unknown;
      try {
        value = (ns as Record<PropertyKey, unknown>)[k];
      } catch {
        continue;
      }
      if (isNamespace(value)) classes(value as object, depth + 1);
      if (typeof value !== "function") continue;
      const proto = (value as { prototype?: unknown }).prototype;
      // Classes only: a prototype with methods of its own besides `constructor`.
      if (typeof proto === "object" && proto !== null && ownKeys(proto).length > 1) {
        harden([proto], false);
        lockInstanceOf(value);
      }
    }
  };
  for (const ns of classModules) classes(ns, 0);
  return report;

  /**
   * `x instanceof C` for a library class: its answer cannot be redefined (an own
   * `Symbol.hasInstance`, or a new `C.prototype`). The constructor is not frozen: libraries keep
   * state in static fields (tfjs's registries are created on first use).
   */
  function lockInstanceOf(ctor: object): void {
    const own = getOwnPropertyDescriptor(ctor, Symbol.hasInstance);
    try {
      if (!own) {
        defineProperty(ctor, Symbol.hasInstance, {
          value: FunctionHasInstance,
          writable: false,
          enumerable: false,
          configurable: false,
        });
      } else if (own.configurable) {
        defineProperty(ctor, Symbol.hasInstance, { writable: false, configurable: false });
      }
      defineProperty(ctor, "prototype", { writable: false });
    } catch {
      // A constructor that is frozen already, or a proxy: nothing to lock.
    }
  }
}

/**
 * The prelude cell: imports the modules the key's tests use, then locks the realm down. It
 * declares nothing (one async arrow, awaited), so it leaves no name for student code to find.
 *
 * @param deepModules specifiers imported and frozen transitively (test helpers, `node:assert`)
 * @param classModules specifiers imported with only their classes' prototypes frozen
 * @param after statements run once the realm is locked down (the grader's keeper)
 */
export function preludeSource(
  deepModules: readonly string[],
  classModules: readonly string[],
  after = "",
): string {
  const load = (specs: readonly string[]) =>
    `[${specs.map((s) => `await import(${JSON.stringify(s)})`).join(", ")}]`;
  return [
    "// Convlab grader: hardens this session before any student code runs.",
    `await (async () => { (${lockdown.toString()})(${load(deepModules)}, ${
      load(classModules)
    }); ${after} })();`,
  ].join("\n");
}

/** Modules always imported and frozen transitively: the assertion helpers tests may use. */
export const DEEP_MODULES: readonly string[] = [
  "convlab/testing",
  "node:assert",
  "node:assert/strict",
];

/**
 * Split a key's preloaded modules into those frozen transitively (assertion helpers) and
 * libraries whose class prototypes are frozen (everything else).
 */
export function partitionPreload(
  preload: readonly string[],
): { deep: string[]; classes: string[] } {
  return {
    deep: [...DEEP_MODULES],
    classes: preload.filter((m) => !DEEP_MODULES.includes(m)),
  };
}
