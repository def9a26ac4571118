/**
 * Convlab's wasm gradient kernels against tfjs's `cpu` backend on random shapes.
 *
 * Error measure: max |wasm − cpu| / max |cpu| over the whole output (the "max relative error"
 * of the issue); element-wise ratios are meaningless where a gradient is near zero.
 * Depthwise kernels with dilation > 1: tfjs's cpu kernels ignore dilation, so the reference is
 * the undilated cpu kernel with a zero-stuffed (dilated) filter, which is the same convolution.
 */
import assert from "node:assert/strict";
import { tf } from "../../lib/backend.ts";
import { RandomStream } from "../../lib/random.ts";

const TOLERANCE = 1e-4;
type Pad = "same" | "valid" | number;

interface Data {
  shape: number[];
  values: Float32Array | Int32Array;
  dtype: "float32" | "int32";
}

function randomData(rng: RandomStream, shape: number[]): Data {
  const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < values.length; i++) values[i] = rng.uniform(-1, 1);
  return { shape, values, dtype: "float32" };
}

/** Run one kernel on a backend and read its output. */
async function runOn(
  backend: "cpu" | "wasm",
  kernel: string,
  inputs: Record<string, Data>,
  attrs: Record<string, unknown>,
): Promise<{ shape: number[]; values: Float32Array }> {
  await tf.setBackend(backend);
  const tensors = Object.fromEntries(
    Object.entries(inputs).map(([k, d]) => [k, tf.tensor(d.values, d.shape, d.dtype)]),
  );
  const out = tf.engine().runKernel(kernel, tensors, attrs as tf.NamedAttrMap) as tf.Tensor;
  const values = await out.data() as Float32Array;
  const shape = out.shape;
  tf.dispose([out, ...Object.values(tensors)]);
  return { shape, values: Float32Array.from(values) };
}

function relativeError(actual: Float32Array, expected: Float32Array): number {
  assert.equal(actual.length, expected.length);
  let err = 0, scale = 0;
  for (let i = 0; i < expected.length; i++) {
    err = Math.max(err, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return scale === 0 ? err : err / scale;
}

function outSize(size: number, k: number, stride: number, dilation: number, pad: Pad): number {
  const eff = (k - 1) * dilation + 1;
  if (pad === "same") return Math.ceil(size / stride);
  if (pad === "valid") return Math.ceil((size - eff + 1) / stride);
  return Math.floor((size + 2 * pad - eff) / stride) + 1;
}

interface ConvCase {
  n: number;
  h: number;
  w: number;
  cin: number;
  cout: number; // channel multiplier for depthwise cases
  kh: number;
  kw: number;
  strides: [number, number];
  dilations: [number, number];
  pad: Pad;
}

function describe(c: ConvCase): string {
  return `x=[${c.n},${c.h},${c.w},${c.cin}] k=${c.kh}x${c.kw} out=${c.cout} s=${c.strides} d=${c.dilations} pad=${c.pad}`;
}

/** Random convolution cases; the first few pin the shapes of the course's models. */
function convCases(seed: number, count: number, withDilation: boolean): ConvCase[] {
  const rng = new RandomStream(seed);
  const cases: ConvCase[] = [
    {
      n: 8,
      h: 28,
      w: 28,
      cin: 1,
      cout: 6,
      kh: 5,
      kw: 5,
      strides: [1, 1],
      dilations: [1, 1],
      pad: "same",
    },
    {
      n: 8,
      h: 14,
      w: 14,
      cin: 6,
      cout: 16,
      kh: 5,
      kw: 5,
      strides: [1, 1],
      dilations: [1, 1],
      pad: "valid",
    },
    {
      n: 4,
      h: 32,
      w: 32,
      cin: 3,
      cout: 32,
      kh: 3,
      kw: 3,
      strides: [1, 1],
      dilations: [1, 1],
      pad: "same",
    },
    {
      n: 3,
      h: 17,
      w: 17,
      cin: 3,
      cout: 4,
      kh: 3,
      kw: 3,
      strides: [2, 2],
      dilations: [1, 1],
      pad: "same",
    },
    // LeNet-5's third convolution: a matrix product in disguise (5×5 filter on 5×5 input).
    {
      n: 6,
      h: 5,
      w: 5,
      cin: 16,
      cout: 120,
      kh: 5,
      kw: 5,
      strides: [1, 1],
      dilations: [1, 1],
      pad: "valid",
    },
    // Large enough to be split across threads when wasm runs threaded (odd batch: uneven slices).
    {
      n: 7,
      h: 20,
      w: 20,
      cin: 8,
      cout: 16,
      kh: 3,
      kw: 3,
      strides: [1, 1],
      dilations: [1, 1],
      pad: "same",
    },
  ];
  while (cases.length < count) {
    const pads: Pad[] = ["same", "valid", rng.int(3)];
    const pad = pads[rng.int(3)];
    // tfjs sizes numeric padding by the filter height and stride of the rows in both directions,
    // so numeric padding is only consistent (on every backend) when the two directions agree.
    const square = typeof pad === "number";
    const strideFirst = rng.next() < 0.5 || !withDilation;
    const s = strideFirst ? [1 + rng.int(3), 1 + rng.int(3)] : [1, 1];
    const d = !strideFirst ? [1 + rng.int(3), 1 + rng.int(3)] : [1, 1];
    const kh = 1 + rng.int(5), kw = square ? kh : 1 + rng.int(5);
    if (square) [s[1], d[1]] = [s[0], d[0]];
    const c: ConvCase = {
      n: 1 + rng.int(4),
      h: 5 + rng.int(13),
      w: 5 + rng.int(13),
      cin: 1 + rng.int(8),
      cout: 1 + rng.int(8),
      kh,
      kw,
      strides: s as [number, number],
      dilations: d as [number, number],
      pad,
    };
    const oh = outSize(c.h, kh, s[0], d[0], c.pad), ow = outSize(c.w, kw, s[1], d[1], c.pad);
    if (oh >= 1 && ow >= 1) cases.push(c);
  }
  return cases;
}

/** Zero-stuff a [kh, kw, …] filter for dilation (the dilated filter as a dense one). */
function dilateFilter(f: Data, [dh, dw]: [number, number]): Data {
  const [kh, kw, ...rest] = f.shape;
  const inner = rest.reduce((a, b) => a * b, 1);
  const eh = (kh - 1) * dh + 1, ew = (kw - 1) * dw + 1;
  const values = new Float32Array(eh * ew * inner);
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const from = (i * kw + j) * inner, to = (i * dh * ew + j * dw) * inner;
      values.set(f.values.subarray(from, from + inner), to);
    }
  }
  return { shape: [eh, ew, ...rest], values, dtype: "float32" };
}

/** Take every d-th tap of a dense filter gradient (inverse of dilateFilter). */
function undilate(
  values: Float32Array,
  shape: number[],
  [dh, dw]: [number, number],
  kh: number,
  kw: number,
) {
  const [, ew, ...rest] = shape;
  const inner = rest.reduce((a, b) => a * b, 1);
  const out = new Float32Array(kh * kw * inner);
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const from = (i * dh * ew + j * dw) * inner;
      out.set(values.subarray(from, from + inner), (i * kw + j) * inner);
    }
  }
  return out;
}

Deno.test("wasm Conv2DBackpropFilter matches cpu across stride, padding and channel counts", async () => {
  const rng = new RandomStream(11);
  for (const c of convCases(1, 40, false)) {
    const oh = outSize(c.h, c.kh, c.strides[0], 1, c.pad),
      ow = outSize(c.w, c.kw, c.strides[1], 1, c.pad);
    const x = randomData(rng, [c.n, c.h, c.w, c.cin]);
    const dy = randomData(rng, [c.n, oh, ow, c.cout]);
    const attrs = {
      strides: c.strides,
      pad: c.pad,
      dataFormat: "NHWC",
      dimRoundingMode: undefined,
      filterShape: [c.kh, c.kw, c.cin, c.cout],
    };
    const want = await runOn("cpu", "Conv2DBackpropFilter", { x, dy }, attrs);
    const got = await runOn("wasm", "Conv2DBackpropFilter", { x, dy }, attrs);
    assert.deepEqual(got.shape, want.shape, describe(c));
    const err = relativeError(got.values, want.values);
    assert.ok(err <= TOLERANCE, `${describe(c)}: relative error ${err}`);
  }
});

Deno.test("wasm Conv2DBackpropInput matches cpu across stride, padding and channel counts", async () => {
  const rng = new RandomStream(12);
  for (const c of convCases(2, 40, false)) {
    const oh = outSize(c.h, c.kh, c.strides[0], 1, c.pad),
      ow = outSize(c.w, c.kw, c.strides[1], 1, c.pad);
    const filter = randomData(rng, [c.kh, c.kw, c.cin, c.cout]);
    const dy = randomData(rng, [c.n, oh, ow, c.cout]);
    const attrs = {
      strides: c.strides,
      pad: c.pad,
      dataFormat: "NHWC",
      dimRoundingMode: undefined,
      inputShape: [c.n, c.h, c.w, c.cin],
    };
    const want = await runOn("cpu", "Conv2DBackpropInput", { dy, filter }, attrs);
    const got = await runOn("wasm", "Conv2DBackpropInput", { dy, filter }, attrs);
    assert.deepEqual(got.shape, want.shape, describe(c));
    const err = relativeError(got.values, want.values);
    assert.ok(err <= TOLERANCE, `${describe(c)}: relative error ${err}`);
  }
});

Deno.test("wasm conv backprop kernels accept channels-first (NCHW) tensors", async () => {
  const rng = new RandomStream(13);
  const [n, c, h, w, k, o] = [2, 3, 9, 8, 3, 5];
  const x = randomData(rng, [n, c, h, w]);
  const filter = randomData(rng, [k, k, c, o]);
  const dy = randomData(rng, [n, o, 5, 4]);
  const common = { strides: [2, 2], pad: "same", dataFormat: "NCHW", dimRoundingMode: undefined };
  const fAttrs = { ...common, filterShape: [k, k, c, o] };
  const iAttrs = { ...common, inputShape: [n, c, h, w] };
  for (
    const [kernel, inputs, attrs] of [
      ["Conv2DBackpropFilter", { x, dy }, fAttrs],
      ["Conv2DBackpropInput", { dy, filter }, iAttrs],
    ] as const
  ) {
    const want = await runOn("cpu", kernel, inputs, attrs);
    const got = await runOn("wasm", kernel, inputs, attrs);
    assert.deepEqual(got.shape, want.shape, kernel);
    assert.ok(relativeError(got.values, want.values) <= TOLERANCE, kernel);
  }
});

Deno.test("wasm depthwise backprop kernels match cpu across stride, padding, dilation and multiplier", async () => {
  const rng = new RandomStream(14);
  for (const c of convCases(3, 40, true)) {
    const m = 1 + (c.cout % 3); // channel multiplier 1..3
    const oh = outSize(c.h, c.kh, c.strides[0], c.dilations[0], c.pad);
    const ow = outSize(c.w, c.kw, c.strides[1], c.dilations[1], c.pad);
    const x = randomData(rng, [c.n, c.h, c.w, c.cin]);
    const filter = randomData(rng, [c.kh, c.kw, c.cin, m]);
    const dy = randomData(rng, [c.n, oh, ow, c.cin * m]);
    const common = { strides: c.strides, pad: c.pad, dimRoundingMode: undefined };
    const dense = dilateFilter(filter, c.dilations);
    // Reference: the undilated cpu kernels on the dense (zero-stuffed) filter.
    const refCommon = { ...common, dilations: [1, 1] };
    const wantDx = await runOn("cpu", "DepthwiseConv2dNativeBackpropInput", { dy, filter: dense }, {
      ...refCommon,
      inputShape: x.shape,
    });
    const wantDwDense = await runOn("cpu", "DepthwiseConv2dNativeBackpropFilter", { x, dy }, {
      ...refCommon,
      filterShape: dense.shape,
    });
    const wantDw = undilate(wantDwDense.values, wantDwDense.shape, c.dilations, c.kh, c.kw);
    const attrs = { ...common, dilations: c.dilations };
    const gotDx = await runOn("wasm", "DepthwiseConv2dNativeBackpropInput", { dy, filter }, {
      ...attrs,
      inputShape: x.shape,
    });
    const gotDw = await runOn("wasm", "DepthwiseConv2dNativeBackpropFilter", { x, dy }, {
      ...attrs,
      filterShape: filter.shape,
    });
    const label = `${describe(c)} m=${m}`;
    assert.deepEqual(gotDx.shape, x.shape, label);
    assert.deepEqual(gotDw.shape, filter.shape, label);
    const errDx = relativeError(gotDx.values, wantDx.values);
    const errDw = relativeError(gotDw.values, wantDw);
    assert.ok(errDx <= TOLERANCE, `${label}: dx relative error ${errDx}`);
    assert.ok(errDw <= TOLERANCE, `${label}: dW relative error ${errDw}`);
  }
});

Deno.test("wasm UnsortedSegmentSum matches cpu and drops out-of-range segment ids", async () => {
  const rng = new RandomStream(15);
  for (
    const [shape, idRank, numSegments, dtype] of [
      [[12, 5], 1, 4, "float32"],
      [[7], 1, 9, "float32"],
      [[6, 3, 2], 1, 3, "int32"],
      [[40, 3, 5], 1, 6, "float32"],
    ] as const
  ) {
    const idShape = shape.slice(0, idRank); // tfjs takes 1-D segment ids only
    const ids = new Int32Array(idShape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < ids.length; i++) ids[i] = rng.int(numSegments + 2) - 1; // includes -1, n
    const x = randomData(rng, [...shape]);
    const data: Data = dtype === "int32"
      ? { shape: [...shape], values: Int32Array.from(x.values, (v) => Math.round(v * 10)), dtype }
      : x;
    const inputs = {
      x: data,
      segmentIds: { shape: idShape, values: ids, dtype: "int32" as const },
    };
    const want = await runOn("cpu", "UnsortedSegmentSum", inputs, { numSegments });
    const got = await runOn("wasm", "UnsortedSegmentSum", inputs, { numSegments });
    assert.deepEqual(got.shape, want.shape);
    assert.ok(relativeError(got.values, want.values) <= TOLERANCE, `shape ${shape}`);
  }
});

Deno.test("tf.grads through conv2d, depthwiseConv2d and gather agree on wasm and cpu", async () => {
  const rng = new RandomStream(16);
  const x = randomData(rng, [2, 10, 10, 3]);
  const w1 = randomData(rng, [3, 3, 3, 4]);
  const w2 = randomData(rng, [3, 3, 4, 2]);
  const table = randomData(rng, [6, 8]);
  const grads = async (backend: "cpu" | "wasm") => {
    await tf.setBackend(backend);
    const ts = [x, w1, w2, table].map((d) => tf.tensor(d.values, d.shape));
    const f = (xx: tf.Tensor, a: tf.Tensor, b: tf.Tensor, t: tf.Tensor) => {
      const h = tf.relu(tf.conv2d(xx as tf.Tensor4D, a as tf.Tensor4D, 2, "same"));
      const d = tf.depthwiseConv2d(h, b as tf.Tensor4D, 1, "valid");
      const e = tf.gather(t, tf.tensor1d([0, 3, 3, 5], "int32"));
      return tf.sum(d).add(tf.sum(tf.square(e)));
    };
    const gs = tf.grads(f)(ts);
    const out = await Promise.all(gs.map((g) => g.data() as Promise<Float32Array>));
    tf.dispose([...ts, ...gs]);
    return out;
  };
  const want = await grads("cpu");
  const got = await grads("wasm");
  for (let i = 0; i < want.length; i++) {
    assert.ok(relativeError(got[i], want[i]) <= TOLERANCE, `gradient ${i}`);
  }
});

Deno.test("wasm gradient kernels free their intermediates (no tensor or heap leaks)", async () => {
  await tf.setBackend("wasm");
  const x = tf.randomNormal([2, 9, 9, 3]);
  const w = tf.randomNormal([3, 3, 3, 4]);
  const dw = tf.randomNormal([3, 3, 4, 2]);
  // 6 output channels: the filter gradient pads them to 8 inside the kernel, then slices.
  const w6 = tf.randomNormal([3, 3, 3, 6]);
  const bias = tf.randomNormal([6]);
  const run = () =>
    tf.tidy(() => {
      const g = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
        tf.add(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, "same"), c).square().sum();
      tf.grads(g)([x, w6, bias]);
      const f = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
        tf.depthwiseConv2d(
          tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, "same"),
          c as tf.Tensor4D,
          1,
          "same",
        )
          .sum();
      tf.grads(f)([x, w, dw]);
    });
  run();
  const tensors = tf.memory().numTensors;
  const dataIds = tf.engine().backend.numDataIds();
  for (let i = 0; i < 3; i++) run();
  assert.equal(tf.memory().numTensors, tensors);
  assert.equal(tf.engine().backend.numDataIds(), dataIds);
  tf.dispose([x, w, dw, w6, bias]);
});

Deno.test("a small CNN reaches 100% training accuracy with model.fit on wasm", async () => {
  await tf.setBackend("wasm");
  const before = tf.memory().numTensors;
  // Two classes: a bright vertical or horizontal bar on a dark 8×8 image.
  const rng = new RandomStream(17);
  const n = 64;
  const images = new Float32Array(n * 64), labels = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    const vertical = i % 2 === 0, at = 1 + rng.int(6);
    for (let r = 0; r < 8; r++) {
      for (let c = 0; c < 8; c++) {
        const on = vertical ? c === at : r === at;
        images[i * 64 + r * 8 + c] = (on ? 1 : 0) + rng.uniform(0, 0.2);
      }
    }
    labels[i * 2 + (vertical ? 0 : 1)] = 1;
  }
  const xs = tf.tensor4d(images, [n, 8, 8, 1]), ys = tf.tensor2d(labels, [n, 2]);
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({
        inputShape: [8, 8, 1],
        filters: 4,
        kernelSize: 3,
        strides: 2,
        padding: "same",
        activation: "relu",
        kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
      }),
      tf.layers.depthwiseConv2d({
        kernelSize: 2,
        depthwiseInitializer: tf.initializers.glorotUniform({ seed: 2 }),
      }),
      tf.layers.flatten(),
      tf.layers.dense({
        units: 2,
        activation: "softmax",
        kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }),
      }),
    ],
  });
  const optimizer = tf.train.adam(0.05);
  model.compile({ optimizer, loss: "categoricalCrossentropy", metrics: ["accuracy"] });
  const history = await model.fit(xs, ys, {
    epochs: 30,
    batchSize: 16,
    shuffle: false,
    verbose: 0,
  });
  const acc = history.history.acc ?? history.history.accuracy;
  assert.equal(acc.at(-1), 1, `final training accuracy ${acc.at(-1)}`);
  model.dispose();
  optimizer.dispose();
  tf.dispose([xs, ys]);
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("wasm BatchMatMul with transposed operands matches cpu", async () => {
  const rng = new RandomStream(18);
  for (const [batch, m, k, n] of [[1, 7, 5, 3], [3, 4, 9, 6], [1, 128, 33, 17]]) {
    for (const [ta, tb] of [[true, false], [false, true], [true, true], [false, false]]) {
      const a = randomData(rng, ta ? [batch, k, m] : [batch, m, k]);
      const b = randomData(rng, tb ? [batch, n, k] : [batch, k, n]);
      const attrs = { transposeA: ta, transposeB: tb };
      const want = await runOn("cpu", "BatchMatMul", { a, b }, attrs);
      const got = await runOn("wasm", "BatchMatMul", { a, b }, attrs);
      assert.deepEqual(got.shape, [batch, m, n]);
      const err = relativeError(got.values, want.values);
      assert.ok(err <= TOLERANCE, `[${batch},${m},${k},${n}] ta=${ta} tb=${tb}: ${err}`);
    }
  }
});

Deno.test("wasm MaxPoolGrad matches cpu across window, stride and padding", async () => {
  const rng = new RandomStream(19);
  for (let i = 0; i < 30; i++) {
    const f = [1 + rng.int(3), 1 + rng.int(3)], st = [1 + rng.int(3), 1 + rng.int(3)];
    const pad = rng.next() < 0.5 ? "same" : "valid";
    const shape = [1 + rng.int(3), f[0] + rng.int(12), f[1] + rng.int(12), 1 + rng.int(6)];
    const oh = pad === "same"
      ? Math.ceil(shape[1] / st[0])
      : Math.ceil((shape[1] - f[0] + 1) / st[0]);
    const ow = pad === "same"
      ? Math.ceil(shape[2] / st[1])
      : Math.ceil((shape[2] - f[1] + 1) / st[1]);
    const input = randomData(rng, shape);
    const dy = randomData(rng, [shape[0], oh, ow, shape[3]]);
    const attrs = { filterSize: f, strides: st, pad, dimRoundingMode: undefined };
    // The cpu kernel also takes the forward output; it does not change the result.
    const output = await runOn("cpu", "MaxPool", { x: input }, attrs);
    const inputs = {
      dy,
      input,
      output: { shape: output.shape, values: output.values, dtype: "float32" as const },
    };
    const want = await runOn("cpu", "MaxPoolGrad", inputs, attrs);
    const got = await runOn("wasm", "MaxPoolGrad", inputs, attrs);
    assert.deepEqual(got.shape, shape);
    const err = relativeError(got.values, want.values);
    assert.ok(err <= TOLERANCE, `x=[${shape}] f=${f} s=${st} ${pad}: ${err}`);
  }
});

Deno.test("wasm Add of a bias ([…, c] + [c]) matches cpu for any c, either operand order", async () => {
  const rng = new RandomStream(28);
  for (
    const [xShape, bShape] of [
      [[5, 28, 28, 6], [6]], // LeNet-5's first layer: 6 channels, not a whole vector
      [[7, 10, 10, 16], [16]],
      [[3, 84], [84]],
      [[2, 3, 3, 5], [1, 1, 1, 5]],
      [[3, 10], [1, 10]],
      [[1, 1, 7], [7]], // fewer than four rows
      [[0, 4, 4, 6], [6]], // empty
      [[4, 6], [4, 1]], // not a bias: the original kernel
      [[4, 6], [4, 6]],
    ]
  ) {
    const x = randomData(rng, xShape), b = randomData(rng, bShape);
    for (const inputs of [{ a: x, b }, { a: b, b: x }]) {
      const want = await runOn("cpu", "Add", inputs, {});
      const got = await runOn("wasm", "Add", inputs, {});
      const label = `[${inputs.a.shape}] + [${inputs.b.shape}]`;
      assert.deepEqual(got.shape, want.shape, label);
      // One float addition per element: exactly the same values.
      assert.deepEqual(got.values, want.values, label);
    }
  }
  const ints = {
    shape: [2, 3],
    values: Int32Array.from([1, 2, 3, 4, 5, 6]),
    dtype: "int32" as const,
  };
  const bias = { shape: [3], values: Int32Array.from([10, 20, 30]), dtype: "int32" as const };
  await tf.setBackend("wasm");
  const sum = tf.add(
    tf.tensor(ints.values, ints.shape, "int32"),
    tf.tensor(bias.values, [3], "int32"),
  );
  assert.equal(sum.dtype, "int32");
  assert.deepEqual(Array.from(await sum.data()), [11, 22, 33, 14, 25, 36]);
  sum.dispose();
});

Deno.test("wasm Sum over leading axes (bias gradients) matches cpu; other reductions still work", async () => {
  const rng = new RandomStream(20);
  for (
    const [shape, axis, keepDims] of [
      [[4, 5, 6, 7], [0, 1, 2], false],
      [[4, 5, 6, 7], [0, 1, 2], true],
      [[9, 33], [0], false],
      [[3, 4, 5], [0, 1], false],
      [[3, 4, 5], [1, 2], false], // not leading: the original kernel
      [[3, 4, 5], [-1], true],
    ] as const
  ) {
    const x = randomData(rng, [...shape]);
    const attrs = { axis: [...axis], keepDims };
    const want = await runOn("cpu", "Sum", { x }, attrs);
    const got = await runOn("wasm", "Sum", { x }, attrs);
    assert.deepEqual(got.shape, want.shape, `[${shape}] axis ${axis}`);
    assert.ok(relativeError(got.values, want.values) <= TOLERANCE, `[${shape}] axis ${axis}`);
  }
});

Deno.test("fused Adam on wasm gives tfjs's own Adam weights and state, without leaks", async () => {
  // The same small model trained a few steps on wasm (fused) and on cpu (tfjs's own Adam).
  const rng = new RandomStream(21);
  const x = randomData(rng, [16, 6, 6, 2]), y = randomData(rng, [16, 3]);
  const train = async (backend: "cpu" | "wasm") => {
    await tf.setBackend(backend);
    const before = tf.memory().numTensors;
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({
          inputShape: [6, 6, 2],
          filters: 3,
          kernelSize: 3,
          kernelInitializer: tf.initializers.glorotUniform({ seed: 5 }),
        }),
        tf.layers.flatten(),
        tf.layers.dense({
          units: 3,
          kernelInitializer: tf.initializers.glorotUniform({ seed: 6 }),
        }),
      ],
    });
    const optimizer = tf.train.adam(0.01);
    model.compile({ optimizer, loss: "meanSquaredError" });
    const xs = tf.tensor(x.values, x.shape), ys = tf.tensor(y.values, y.shape);
    for (let i = 0; i < 5; i++) await model.trainOnBatch(xs, ys);
    const weights = await Promise.all(model.getWeights().map((w) => w.data()));
    const state = await optimizer.getWeights();
    const stateValues = await Promise.all(state.map((s) => s.tensor.data()));
    const names = state.map((s) => s.name.replace(/\d+\//g, "/")); // layer counters differ
    state[0].tensor.dispose(); // "iter": a new scalar; the rest are the optimizer's variables
    model.dispose();
    optimizer.dispose();
    tf.dispose([xs, ys]);
    assert.equal(tf.memory().numTensors, before, `${backend}: tensors leaked`);
    return { weights, stateValues, names };
  };
  const fused = await train("wasm");
  const cpu = await train("cpu");
  assert.deepEqual(fused.names, cpu.names);
  for (let i = 0; i < cpu.weights.length; i++) {
    const err = relativeError(fused.weights[i] as Float32Array, cpu.weights[i] as Float32Array);
    assert.ok(err <= TOLERANCE, `weight ${i}: ${err}`);
  }
  for (let i = 0; i < cpu.stateValues.length; i++) {
    const err = relativeError(
      Float32Array.from(fused.stateValues[i]),
      Float32Array.from(cpu.stateValues[i]),
    );
    assert.ok(err <= TOLERANCE, `optimizer state ${cpu.names[i]}: ${err}`);
  }
});

Deno.test("ReLU's one-pass gradient on wasm matches cpu (NaN, zero, negatives) and has a gradient", async () => {
  const values = [-2, -0.5, 0, 0.25, 3, NaN, 1e-30, -1e-30];
  const big = randomData(new RandomStream(22), [3, 70, 70, 3]); // split across threads
  const run = async (backend: "cpu" | "wasm") => {
    await tf.setBackend(backend);
    const x = tf.tensor1d(values);
    const dy = tf.tensor1d([1, 2, 3, 4, 5, 6, 7, 8]);
    const [g] = tf.grads((a: tf.Tensor) => tf.relu(a))([x], dy);
    const second = tf.grad((a: tf.Tensor) =>
      tf.sum(tf.mul(tf.grad((b: tf.Tensor) => tf.sum(tf.relu(b).mul(b)))(a), a))
    )(x);
    const bx = tf.tensor(big.values, big.shape);
    const bg = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.relu(a), a)))(bx);
    const out = [await g.data(), await second.data(), await bg.data()].map((d) =>
      Float32Array.from(d)
    );
    tf.dispose([x, dy, g, second, bx, bg]);
    return out;
  };
  const want = await run("cpu");
  const got = await run("wasm");
  assert.deepEqual(Array.from(got[0]), Array.from(want[0]));
  assert.deepEqual(Array.from(got[1]), Array.from(want[1]));
  assert.ok(relativeError(got[2], want[2]) <= TOLERANCE);
});

Deno.test("wasm Conv2D (Winograd 3×3, direct for 1–3 channels, XNNPACK otherwise) matches cpu", async () => {
  const rng = new RandomStream(23);
  const cases: [number[], number[], number | string, number][] = [
    [[2, 32, 32, 4], [3, 3, 4, 8], "same", 1],
    [[3, 13, 13, 8], [3, 3, 8, 12], "valid", 1], // odd output: partial tiles
    [[1, 15, 15, 16], [3, 3, 16, 16], "same", 1],
    [[2, 9, 7, 4], [3, 3, 4, 4], 2, 1], // explicit padding 2
    [[5, 20, 20, 8], [3, 3, 8, 16], "same", 1], // split across threads
    [[2, 10, 10, 3], [3, 3, 3, 8], "same", 1], // 1–3 channels: the direct kernel
    [[3, 28, 28, 1], [5, 5, 1, 6], "same", 1], // LeNet-5's first layer
    [[2, 11, 9, 2], [3, 4, 2, 13], "valid", 2], // odd sizes, stride 2, 13 outputs
    [[5, 16, 16, 1], [5, 5, 1, 6], 2, 1], // split across threads
    [[2, 10, 10, 4], [3, 3, 4, 8], "same", 2], // stride 2: XNNPACK
    [[2, 10, 10, 4], [5, 5, 4, 8], "valid", 1], // 5×5: XNNPACK
  ];
  for (const [xShape, wShape, pad, stride] of cases) {
    const x = randomData(rng, xShape), filter = randomData(rng, wShape);
    const attrs = {
      strides: [stride, stride],
      pad,
      dataFormat: "NHWC",
      dilations: [1, 1],
      dimRoundingMode: undefined,
    };
    const want = await runOn("cpu", "Conv2D", { x, filter }, attrs);
    const got = await runOn("wasm", "Conv2D", { x, filter }, attrs);
    assert.deepEqual(got.shape, want.shape, `x=[${xShape}] w=[${wShape}] ${pad}`);
    const err = relativeError(got.values, want.values);
    assert.ok(err <= TOLERANCE, `x=[${xShape}] w=[${wShape}] ${pad} s=${stride}: ${err}`);
  }
});

Deno.test("wasm Conv2DBackpropInput by Winograd (3×3, stride 1, channels ×4) matches cpu", async () => {
  const rng = new RandomStream(24);
  for (
    const [xShape, o, pad] of [
      [[2, 32, 32, 4], 8, "same"],
      [[3, 15, 15, 8], 4, "valid"],
      [[2, 13, 11, 12], 8, 1],
      [[5, 20, 20, 8], 16, "same"],
    ] as [number[], number, string | number][]
  ) {
    const [n, h, w, c] = xShape;
    const oh = pad === "valid" ? h - 2 : pad === "same" ? h : h + 2 * (pad as number) - 2;
    const ow = pad === "valid" ? w - 2 : pad === "same" ? w : w + 2 * (pad as number) - 2;
    const filter = randomData(rng, [3, 3, c, o]);
    const dy = randomData(rng, [n, oh, ow, o]);
    const attrs = {
      strides: [1, 1],
      pad,
      dataFormat: "NHWC",
      dimRoundingMode: undefined,
      inputShape: xShape,
    };
    const want = await runOn("cpu", "Conv2DBackpropInput", { dy, filter }, attrs);
    const got = await runOn("wasm", "Conv2DBackpropInput", { dy, filter }, attrs);
    assert.deepEqual(got.shape, xShape);
    const err = relativeError(got.values, want.values);
    assert.ok(err <= TOLERANCE, `x=[${xShape}] o=${o} ${pad}: ${err}`);
  }
});

Deno.test("wasm Conv2DBackpropFilter by Winograd (3×3, stride 1, channels ×4) matches cpu", async () => {
  const rng = new RandomStream(25);
  for (
    const [xShape, o, pad] of [
      [[2, 32, 32, 4], 8, "same"],
      [[3, 15, 15, 8], 4, "valid"], // odd output: partial tiles
      [[2, 13, 11, 12], 8, 1],
      [[5, 20, 20, 8], 16, "same"], // split across threads
      [[2, 6, 6, 4], 4, 2],
    ] as [number[], number, string | number][]
  ) {
    const [n, h, w, c] = xShape;
    const oh = pad === "valid" ? h - 2 : pad === "same" ? h : h + 2 * (pad as number) - 2;
    const ow = pad === "valid" ? w - 2 : pad === "same" ? w : w + 2 * (pad as number) - 2;
    const x = randomData(rng, xShape);
    const dy = randomData(rng, [n, oh, ow, o]);
    const attrs = {
      strides: [1, 1],
      pad,
      dataFormat: "NHWC",
      dimRoundingMode: undefined,
      filterShape: [3, 3, c, o],
    };
    const want = await runOn("cpu", "Conv2DBackpropFilter", { x, dy }, attrs);
    const got = await runOn("wasm", "Conv2DBackpropFilter", { x, dy }, attrs);
    assert.deepEqual(got.shape, [3, 3, c, o]);
    const err = relativeError(got.values, want.values);
    assert.ok(err <= TOLERANCE, `x=[${xShape}] o=${o} ${pad}: ${err}`);
  }
});

Deno.test("wasm Identity (tf.clone) shares data safely: values, disposal and variables", async () => {
  await tf.setBackend("wasm");
  const before = tf.memory().numTensors;
  const ids = tf.engine().backend.numDataIds();
  const a = tf.tensor([1, 2, 3]);
  const b = tf.clone(a);
  a.dispose();
  assert.deepEqual(Array.from(await b.data()), [1, 2, 3], "a clone outlives its source");
  const v = tf.variable(b);
  const next = tf.tensor([4, 5, 6]);
  v.assign(next);
  assert.deepEqual(Array.from(await b.data()), [1, 2, 3], "assigning a variable leaves its source");
  assert.deepEqual(Array.from(await v.data()), [4, 5, 6]);
  tf.dispose([b, v, next]);
  assert.equal(tf.memory().numTensors, before);
  assert.equal(tf.engine().backend.numDataIds(), ids, "shared data is freed with its last user");
});

Deno.test("the embedded SIMD kernels are the committed .wasm files, and own no memory", async () => {
  const { KERNELS_WASM_BASE64, KERNELS_MT_WASM_BASE64 } = await import(
    "../../lib/backend/simd/kernels_wasm.ts"
  );
  for (
    const [file, base64] of [
      ["kernels.wasm", KERNELS_WASM_BASE64],
      ["kernels_mt.wasm", KERNELS_MT_WASM_BASE64],
    ]
  ) {
    const bytes = await Deno.readFile(new URL(`../../lib/backend/simd/${file}`, import.meta.url));
    const embedded = Uint8Array.from(atob(base64), (ch) => ch.charCodeAt(0));
    assert.deepEqual(embedded, bytes, `${file}: run lib/backend/simd/build.sh`);
    const module = new WebAssembly.Module(bytes);
    // Its only import is tfjs's memory; no data segments may overwrite it.
    assert.deepEqual(WebAssembly.Module.imports(module).map((i) => `${i.module}.${i.name}`), [
      "env.memory",
    ]);
    assert.ok(!sectionIds(bytes).includes(11), `${file} has a data section`);
    assert.ok(!sectionIds(bytes).includes(8), `${file} has a start function`);
  }
});

/** The ids of a WebAssembly binary's sections (11 = data, 8 = start). */
function sectionIds(bytes: Uint8Array): number[] {
  const ids: number[] = [];
  let at = 8; // magic + version
  while (at < bytes.length) {
    const id = bytes[at++];
    let size = 0, shift = 0, byte;
    do {
      byte = bytes[at++];
      size |= (byte & 0x7f) << shift;
      shift += 7;
    } while (byte & 0x80);
    ids.push(id);
    at += size;
  }
  return ids;
}

Deno.test("wasm convolutions with 'same' padding and a stride larger than the kernel match cpu", async () => {
  // tfjs-backend-wasm 4.22 hands 'same' to XNNPACK, which gets these wrong (zeros or shifted
  // windows) when a stride exceeds the filter along an axis, in the forward pass of Conv2D,
  // fused Conv2D, depthwise and fused depthwise convolutions.
  const rng = new RandomStream(26);
  const x = randomData(rng, [2, 12, 11, 5]);
  for (
    const [[kh, kw], strides] of [
      [[2, 2], [3, 3]],
      [[1, 4], [2, 2]],
      [[3, 3], [4, 4]],
      [[2, 3], [3, 1]],
    ] as [[number, number], [number, number]][]
  ) {
    const conv = randomData(rng, [kh, kw, 5, 6]);
    const depth = randomData(rng, [kh, kw, 5, 2]);
    const run = async (backend: "cpu" | "wasm") => {
      await tf.setBackend(backend);
      const xt = tf.tensor4d(x.values, x.shape as [number, number, number, number]);
      const ct = tf.tensor4d(conv.values, conv.shape as [number, number, number, number]);
      const dt = tf.tensor4d(depth.values, depth.shape as [number, number, number, number]);
      const bias6 = tf.fill([6], 0.25), bias10 = tf.fill([10], -0.25);
      const square = strides[0] === strides[1]; // tfjs's depthwise takes equal strides only
      const outs = [
        tf.conv2d(xt, ct, strides, "same"),
        tf.fused.conv2d({ x: xt, filter: ct, strides, pad: "same", bias: bias6 }),
        ...(square
          ? [
            tf.depthwiseConv2d(xt, dt, strides, "same"),
            tf.fused.depthwiseConv2d({ x: xt, filter: dt, strides, pad: "same", bias: bias10 }),
          ]
          : []),
      ];
      const values = await Promise.all(outs.map(async (t) => Float32Array.from(await t.data())));
      tf.dispose([xt, ct, dt, bias6, bias10, ...outs]);
      return values;
    };
    const want = await run("cpu");
    const got = await run("wasm");
    const names = ["conv2d", "fused conv2d", "depthwise", "fused depthwise"];
    for (let i = 0; i < want.length; i++) {
      const err = relativeError(got[i], want[i]);
      assert.ok(err <= TOLERANCE, `${names[i]} k=${kh}×${kw} s=${strides}: relative error ${err}`);
    }
  }
});

Deno.test("threaded wasm training kernels give bit-identical results run after run", async () => {
  // Big enough for every kernel to be split across the worker pool when wasm runs threaded
  // (the default on a machine with 2+ cores): partial sums must be combined in a fixed order.
  await tf.setBackend("wasm");
  const rng = new RandomStream(27);
  const x = randomData(rng, [16, 24, 24, 8]);
  const w3 = randomData(rng, [3, 3, 8, 16]);
  const w5 = randomData(rng, [5, 5, 16, 12]);
  const run = async () => {
    const xt = tf.tensor4d(x.values, x.shape as [number, number, number, number]);
    const a = tf.tensor4d(w3.values, w3.shape as [number, number, number, number]);
    const b = tf.tensor4d(w5.values, w5.shape as [number, number, number, number]);
    const f = (xx: tf.Tensor, aa: tf.Tensor, bb: tf.Tensor) => {
      const h = tf.relu(tf.conv2d(xx as tf.Tensor4D, aa as tf.Tensor4D, 1, "same"));
      const p = tf.maxPool(h, 2, 2, "same");
      const q = tf.conv2d(p, bb as tf.Tensor4D, 1, "same");
      return tf.sum(tf.mul(q, tf.sin(q)));
    };
    const grads = tf.grads(f)([xt, a, b]);
    const values = await Promise.all(grads.map(async (g) => Float32Array.from(await g.data())));
    tf.dispose([xt, a, b, ...grads]);
    return values;
  };
  const first = await run();
  for (let i = 0; i < 3; i++) {
    const again = await run();
    first.forEach((g, k) => assert.deepEqual(again[k], g, `gradient ${k}, run ${i + 2}`));
  }
});
