/**
 * Adam in one kernel per weight tensor on `wasm`.
 *
 * tfjs's `AdamOptimizer.applyGradients` runs about 13 small ops per weight tensor (each a kernel
 * dispatch with its engine bookkeeping, plus scalar uploads): 130 dispatches per step for
 * LeNet-5, a quarter of its training step. On `wasm` Convlab runs the same arithmetic, in the
 * same float32 order, as one SIMD kernel per tensor (`adam_update` in `simd/kernels.c`); the
 * optimizer's state (`m`, `v`, `accBeta1/2`, iterations) is kept exactly as tfjs keeps it, so
 * `getWeights`, `setWeights`, saving and other backends are unaffected.
 *
 * Introduced in lesson 02 (LeNet-5), where training speed first matters.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { pointer, simdKernels } from "./simd.ts";

const KERNEL = "ConvlabAdamUpdate";
const PATCHED = Symbol.for("convlab.fusedAdam");

interface AdamInternals {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: ({ originalName: string; variable: tf.Variable } | null)[];
  accumulatedSecondMoment: ({ originalName: string; variable: tf.Variable } | null)[];
  incrementIterations(): void;
}

type Gradients = tf.NamedTensorMap | { name: string; tensor: tf.Tensor }[];

function adamKernel(args: unknown): tf.TensorInfo[] {
  const { inputs, backend, attrs } = args as {
    inputs: Record<string, tf.TensorInfo>;
    backend: BackendWasm;
    attrs: { beta1: number; beta2: number; epsilon: number; learningRate: number };
  };
  const { value, m, v, gradient, accBeta1, accBeta2 } = inputs;
  const f = Math.fround;
  // tfjs rounds each of these into a float32 scalar tensor before using it.
  const a1 = f(1 - backend.typedArrayFromHeap(accBeta1)[0]);
  const a2 = f(1 - backend.typedArrayFromHeap(accBeta2)[0]);
  const outs = [value, m, v].map((t) => backend.makeOutput(t.shape, "float32"));
  simdKernels(backend).adam_update(
    pointer(backend, value),
    pointer(backend, m),
    pointer(backend, v),
    pointer(backend, gradient),
    pointer(backend, outs[0]),
    pointer(backend, outs[1]),
    pointer(backend, outs[2]),
    tf.util.sizeFromShape(value.shape),
    f(attrs.beta1),
    f(1 - attrs.beta1),
    f(attrs.beta2),
    f(1 - attrs.beta2),
    a1,
    a2,
    f(attrs.epsilon),
    f(-attrs.learningRate),
  );
  return outs;
}

/**
 * Make `tf.train.adam` optimizers update through one kernel per weight tensor on `wasm`
 * (idempotent; other backends keep tfjs's own code).
 */
export function installFusedAdam(): void {
  if (!tf.getKernel(KERNEL, "wasm")) {
    tf.registerKernel({
      kernelName: KERNEL,
      backendName: "wasm",
      kernelFunc: adamKernel as unknown as tf.KernelFunc,
    });
  }
  const proto = tf.AdamOptimizer.prototype as unknown as {
    applyGradients(g: Gradients): void;
    [PATCHED]?: true;
  };
  if (proto[PATCHED]) return;
  const original = proto.applyGradients;
  proto.applyGradients = function (this: AdamInternals, variableGradients: Gradients) {
    if (tf.getBackend() !== "wasm") return original.call(this, variableGradients);
    const names = Array.isArray(variableGradients)
      ? variableGradients.map((g) => g.name)
      : Object.keys(variableGradients);
    tf.tidy(() => {
      names.forEach((name, i) => {
        const value = tf.engine().registeredVariables[name];
        // Created as tfjs creates them (same names, same order), so getWeights is unchanged.
        this.accumulatedFirstMoment[i] ??= {
          originalName: `${name}/m`,
          variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
        };
        this.accumulatedSecondMoment[i] ??= {
          originalName: `${name}/v`,
          variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
        };
        const gradient = Array.isArray(variableGradients)
          ? variableGradients[i].tensor
          : variableGradients[name];
        if (gradient == null) return;
        const m = this.accumulatedFirstMoment[i]!.variable;
        const v = this.accumulatedSecondMoment[i]!.variable;
        const [newValue, newM, newV] = tf.engine().runKernel(
          KERNEL,
          { value, m, v, gradient, accBeta1: this.accBeta1, accBeta2: this.accBeta2 },
          {
            beta1: this.beta1,
            beta2: this.beta2,
            epsilon: this.epsilon,
            learningRate: this.learningRate,
          },
        ) as tf.Tensor[];
        m.assign(newM);
        v.assign(newV);
        value.assign(newValue);
      });
      this.accBeta1.assign(tf.mul(this.accBeta1, this.beta1));
      this.accBeta2.assign(tf.mul(this.accBeta2, this.beta2));
    });
    this.incrementIterations();
  };
  proto[PATCHED] = true;
}
