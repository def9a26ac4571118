// cl.models and the course's convolution arithmetic, checked against hand-computed values.
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import * as cl from "../../lib/mod.ts";

await tf.setBackend("cpu");

/** Output side of a convolution, as the course computes it by hand. */
function side(n: number, h: number, stride: number, padding: "valid" | "same"): number {
  return padding === "same" ? Math.ceil(n / stride) : Math.floor((n - h) / stride) + 1;
}

Deno.test("Conv2D output sizes follow the hand formulas: (7-3)+1 = 5, same, stride", () => {
  const cases: [number, number, number, "valid" | "same", number][] = [
    [7, 3, 1, "valid", 5], // the course's (7-3)+1 = 5
    [28, 5, 1, "same", 28], // LeNet-5's first layer
    [32, 5, 1, "valid", 28], // LeNet-5 (1998): 32×32 → 28×28
    [5, 3, 2, "same", 3], // the course's 5×5 input, stride 2, zero padding 1 → 3×3
    [256, 3, 2, "same", 128], // the operation-count example
    [10, 3, 3, "valid", 3],
  ];
  for (const [n, h, stride, padding, expected] of cases) {
    assert.equal(side(n, h, stride, padding), expected);
    const layer = tf.layers.conv2d({ filters: 1, kernelSize: h, strides: stride, padding });
    const shape = layer.computeOutputShape([null, n, n, 1]) as number[];
    assert.deepEqual(shape, [null, expected, expected, 1], `${n} ${h} ${stride} ${padding}`);
  }
});

Deno.test("Conv2D has k·h²+1 parameters per filter", () => {
  for (const [k, h, filters] of [[1, 3, 32], [3, 3, 64], [16, 5, 120], [64, 5, 128], [3, 3, 2]]) {
    const model = tf.sequential({
      layers: [tf.layers.conv2d({ filters, kernelSize: h, inputShape: [9, 9, k] })],
    });
    assert.equal(cl.summary(model).totalParams, filters * (k * h * h + 1), `k=${k} h=${h}`);
    model.dispose();
  }
  // The course's examples: 3·3·3 + 1 = 28 per filter, 5·5·64 + 1 = 1601 per filter.
  assert.equal(3 * 3 * 3 + 1, 28);
  assert.equal(5 * 5 * 64 + 1, 1601);
});

Deno.test("the course's conv example: 5×5×3 input, two 3×3×3 filters, stride 2 → 3×3×2", async () => {
  // All-ones input and filters, zero padding 1: a corner window covers 2×2×3 = 12 ones, an edge
  // window 2×3×3 = 18, the centre 3×3×3 = 27; biases 1 and -30 (ReLU then clips the second).
  const layer = tf.layers.conv2d({
    filters: 2,
    kernelSize: 3,
    strides: 2,
    padding: "same",
    activation: "relu",
    inputShape: [5, 5, 3],
    kernelInitializer: "ones",
    biasInitializer: "zeros",
  });
  const model = tf.sequential({ layers: [layer] });
  const [kernel] = layer.getWeights();
  layer.setWeights([kernel, tf.tensor1d([1, -30])]);
  const out = model.predict(tf.ones([1, 5, 5, 3])) as tf.Tensor;
  assert.deepEqual(out.shape, [1, 3, 3, 2]);
  const values = await out.array() as number[][][][];
  assert.deepEqual(values[0].map((row) => row.map((v) => v[0])), [
    [13, 19, 13],
    [19, 28, 19],
    [13, 19, 13],
  ]);
  assert.deepEqual(values[0].map((row) => row.map((v) => v[1])), [[0, 0, 0], [0, 0, 0], [0, 0, 0]]);
  assert.equal(cl.summary(model).totalParams, 2 * 28);
  out.dispose();
  model.dispose();
});

Deno.test("cl.models build the course's architectures with their parameter counts", () => {
  const expected: [string, () => tf.LayersModel, number, string][] = [
    ["lenet5", () => cl.models.lenet5(), 61706, "(None, 10)"],
    ["mnistCnn", () => cl.models.mnistCnn(), 594922, "(None, 10)"],
    ["mnistConvnet", () => cl.models.mnistConvnet(), 34826, "(None, 10)"],
    ["cifarCnn", () => cl.models.cifarCnn(), 890410, "(None, 10)"],
  ];
  for (const [name, build, params, output] of expected) {
    const model = build();
    const s = cl.summary(model);
    assert.equal(s.totalParams, params, name);
    assert.equal(s.rows.at(-1)!.outputShape, output, name);
    model.dispose();
  }
});

Deno.test("lenet5() follows the course: 28×28×6 → 14 → 10×10×16 → 5 → 1×1×120 → 84 → 10", () => {
  const model = cl.models.lenet5();
  assert.deepEqual(cl.summary(model).rows.map((r) => [r.type, r.outputShape, r.params]), [
    ["Conv2D", "(None, 28, 28, 6)", 156],
    ["MaxPooling2D", "(None, 14, 14, 6)", 0],
    ["Conv2D", "(None, 10, 10, 16)", 2416],
    ["MaxPooling2D", "(None, 5, 5, 16)", 0],
    ["Conv2D", "(None, 1, 1, 120)", 48120],
    ["Flatten", "(None, 120)", 0],
    ["Dense", "(None, 84)", 10164],
    ["Dense", "(None, 10)", 850],
  ]);
  const softmax = model.layers.at(-1)!.getConfig().activation;
  assert.equal(softmax, "softmax");
  model.dispose();
});

Deno.test("cifarCnn() has the course's dropout rates 0.25, 0.25, 0.5", () => {
  const model = cl.models.cifarCnn();
  const rates = model.layers.filter((l) => l.getClassName() === "Dropout").map((l) =>
    l.getConfig().rate
  );
  assert.deepEqual(rates, [0.25, 0.25, 0.5]);
  model.dispose();
});

Deno.test("cifarCnn({dropout: false}) and mnistCnn({dropout: false}) are the same networks without Dropout", () => {
  for (const build of [cl.models.cifarCnn, cl.models.mnistCnn]) {
    const withDropout = build(), without = build({ dropout: false });
    const kinds = (m: typeof withDropout) => m.layers.map((l) => l.getClassName());
    assert.deepEqual(kinds(without), kinds(withDropout).filter((k) => k !== "Dropout"));
    assert.equal(without.countParams(), withDropout.countParams());
    assert.deepEqual(without.outputs[0].shape, withDropout.outputs[0].shape);
    withDropout.dispose();
    without.dispose();
  }
  assert.throws(
    () => cl.models.cifarCnn({ dropout: "no" as never }),
    /Cannot build cifarCnn: dropout must be true or false, got no/,
  );
});

Deno.test("cl.models use Keras's Glorot-uniform kernels (bounded by sqrt(6/(fanIn+fanOut)))", async () => {
  const model = cl.models.lenet5();
  const kernel = model.layers[6].getWeights()[0]; // Dense 120 → 84
  const limit = Math.sqrt(6 / (120 + 84));
  const values = await kernel.data();
  assert.ok(values.every((v) => Math.abs(v) <= limit));
  assert.ok(Math.max(...values.map(Math.abs)) > 0.9 * limit); // uniform, not normal
  model.dispose();
});

Deno.test("cl.models reject impossible options with the option named", () => {
  assert.throws(() => cl.models.lenet5({ inputShape: [28, 28] as never }), /inputShape must be/);
  assert.throws(() => cl.models.lenet5({ inputShape: [8, 8, 1] }), /at least 16×16/);
  assert.throws(() => cl.models.mnistCnn({ numClasses: 0 }), /numClasses must be a positive/);
});

Deno.test("cl.seed() makes cl.models build identical weights", async () => {
  cl.seed(5);
  const a = cl.models.mnistConvnet();
  cl.seed(5);
  const b = cl.models.mnistConvnet();
  cl.seed(6);
  const c = cl.models.mnistConvnet();
  const first = (m: tf.LayersModel) => m.layers[0].getWeights()[0].data();
  assert.deepEqual(await first(a), await first(b));
  assert.notDeepEqual(await first(a), await first(c));
  [a, b, c].forEach((m) => m.dispose());
});

Deno.test("cl.models reject options they do not know (input_shape → inputShape)", () => {
  assert.throws(
    () => cl.models.lenet5({ input_shape: [32, 32, 1] } as never),
    /Cannot build lenet5: unknown option "input_shape" \(options are camelCase: inputShape\)/,
  );
  assert.throws(
    () => cl.models.catsDogsConvnet({ numClasses: 2 } as never),
    /Cannot build catsDogsConvnet: unknown option "numClasses" \(known: inputShape, dropout\)/,
  );
});
