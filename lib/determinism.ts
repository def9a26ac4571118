/**
 * Wires `cl.seed()` into tfjs's own random sources so that building and training a model is
 * reproducible on one backend, as `tf.keras.utils.set_random_seed` does in Keras.
 *
 * tfjs draws unseeded randomness from `Math.random`: weight initialisers without a `seed` and
 * Dropout layers without a `seed`. Importing this module (the lib does it for you) makes both
 * take their seed from `nextSeed()` of `lib/random.ts` instead: after `cl.seed(n)`, the same
 * code builds the same weights and drops the same units. Initialisers and layers given an
 * explicit `seed` keep it. (A Dropout layer with a fixed seed would draw the same mask at every
 * step, which is why unseeded ones get a fresh seed per training call.) Layers that tfjs gives no
 * seed at all (GaussianNoise, GaussianDropout, AlphaDropout) and direct `tf.random*` calls still
 * use `Math.random`.
 *
 * Introduced in lesson 02 (LeNet-5), used by every lesson that trains.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import { nextSeed } from "./random.ts";

const PATCHED = Symbol.for("convlab.seeded");

interface Seeded {
  seed?: number | null;
  [PATCHED]?: boolean;
}

/** Make `method` of a prototype run with a fresh seed whenever the instance has none. */
function seedWhenUnseeded(
  proto: Seeded & Record<string, unknown>,
  method: string,
  streamName: string,
  when: (args: unknown[]) => boolean = () => true,
): void {
  if (Object.prototype.hasOwnProperty.call(proto, PATCHED)) return;
  const original = proto[method] as (this: Seeded, ...args: unknown[]) => unknown;
  proto[method] = function (this: Seeded, ...args: unknown[]) {
    if (this.seed != null || !when(args)) return original.apply(this, args);
    this.seed = nextSeed(streamName);
    try {
      return original.apply(this, args);
    } finally {
      this.seed = undefined;
    }
  };
  Object.defineProperty(proto, PATCHED, { value: true });
}

/** The prototype that defines `method`, walking up from an instance. */
function definingPrototype(instance: object, method: string): Seeded & Record<string, unknown> {
  let proto = Object.getPrototypeOf(instance);
  while (proto && !Object.prototype.hasOwnProperty.call(proto, method)) {
    proto = Object.getPrototypeOf(proto);
  }
  if (!proto) throw new Error(`Cannot seed tfjs: no prototype defines ${method}`);
  return proto;
}

function install(): void {
  const initializers = [
    tf.initializers.randomUniform({}),
    tf.initializers.randomNormal({}),
    tf.initializers.truncatedNormal({}),
    tf.initializers.glorotUniform({}), // VarianceScaling: all Glorot/He/LeCun variants
    tf.initializers.orthogonal({}),
  ];
  for (const init of initializers) {
    seedWhenUnseeded(definingPrototype(init, "apply"), "apply", "initializer");
  }
  // An explicit name keeps tfjs's per-class name counter (Keras's layer names) untouched.
  const dropout = tf.layers.dropout({ rate: 0.5, name: "convlab_seed_probe" });
  seedWhenUnseeded(
    definingPrototype(dropout, "call"),
    "call",
    "dropout",
    (args) => (args[1] as { training?: boolean } | undefined)?.training === true,
  );
}

install();
