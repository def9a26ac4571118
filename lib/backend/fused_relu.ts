/**
 * ReLU's gradient in one pass on `wasm`.
 *
 * tfjs differentiates `relu(x)` as `mul(dy, cast(step(x), "float32"))`: three kernels, three
 * passes over an activation-sized tensor and two temporaries, for every ReLU of every training
 * step. Convlab re-registers ReLU's gradient so that on `wasm` it is one SIMD kernel
 * (`relu_grad` in `simd/kernels.c`, same values including NaN); on other backends the gradient
 * is tfjs's own expression. The fused kernel has a gradient too, so second derivatives work.
 *
 * Introduced in lesson 02 (LeNet-5), where training speed first matters.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { pointer, runSliced, slices } from "./simd.ts";

const KERNEL = "ConvlabReluGrad";
const MARK = Symbol.for("convlab.fusedRelu");

function reluGradKernel(args: unknown): tf.TensorInfo {
  const { inputs: { dy, x }, backend } = args as {
    inputs: Record<string, tf.TensorInfo>;
    backend: BackendWasm;
  };
  const out = backend.makeOutput(x.shape, "float32");
  const n = tf.util.sizeFromShape(x.shape);
  const [dyp, xp, outp] = [pointer(backend, dy), pointer(backend, x), pointer(backend, out)];
  // Memory-bound: split only large tensors, and by whole cache lines.
  const parts = slices(backend, Math.ceil(n / 16), n);
  runSliced(backend, "relu_grad", parts, Math.ceil(n / 16), (from, to) => [
    dyp,
    xp,
    outp,
    from * 16,
    Math.min(n, to * 16),
  ]);
  return out;
}

/** tfjs's own expression of ReLU's gradient (used off `wasm`). */
function composite(dy: tf.Tensor, x: tf.Tensor): tf.Tensor {
  return tf.mul(dy, tf.cast(tf.step(x), "float32"));
}

/** Re-register ReLU's gradient with the one-pass kernel on `wasm` (idempotent). */
export function installFusedRelu(): void {
  if (!tf.getKernel(KERNEL, "wasm")) {
    tf.registerKernel({
      kernelName: KERNEL,
      backendName: "wasm",
      kernelFunc: reluGradKernel as unknown as tf.KernelFunc,
    });
    // d(dy·step(x)) = step(x)·d(dy) (step is flat almost everywhere).
    tf.registerGradient({
      kernelName: KERNEL,
      inputsToSave: ["x"],
      gradFunc: (ddx, saved) => {
        const [x] = saved;
        return {
          dy: () => composite(ddx as tf.Tensor, x),
          x: () => tf.zerosLike(x),
        };
      },
    });
  }
  const registered = tf.getGradient("Relu") as (tf.GradConfig & { [MARK]?: true }) | undefined;
  if (registered?.[MARK]) return;
  const config: tf.GradConfig & { [MARK]?: true } = {
    kernelName: "Relu",
    inputsToSave: ["x"],
    gradFunc: (dy, saved) => {
      const [x] = saved;
      return {
        x: () =>
          tf.getBackend() === "wasm" && x.dtype === "float32"
            ? tf.engine().runKernel(KERNEL, { dy: dy as tf.Tensor, x }) as tf.Tensor
            : composite(dy as tf.Tensor, x),
      };
    },
  };
  config[MARK] = true;
  tf.registerGradient(config);
}
