// cl.summary and cl.models against the course's Keras printouts and hand-computed numbers.
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import * as cl from "../../lib/mod.ts";

await tf.setBackend("cpu");

/** Compare a summary with Keras's text, line by line (Keras pads table lines to the width). */
function assertTable(actual: string, expected: string[], width: number) {
  const lines = actual.split("\n");
  assert.deepEqual(lines.map((l) => l.trimEnd()), expected);
  for (const line of lines) {
    if (!/^(Model|Total|Trainable|Non-trainable)/.test(line)) {
      assert.equal(line.length, width, line);
    }
  }
}

// First in this file: tfjs numbers default names per process, so this model gets Keras's first
// names (conv2d, max_pooling2d, …) only when no layer was made before it.
Deno.test("summary() prints the week-12 MNIST CNN exactly as Keras does (34,826 params)", () => {
  const model = cl.models.mnistConvnet();
  assertTable(cl.summary(model).toString(), [
    'Model: "sequential"',
    "_________________________________________________________________",
    " Layer (type)                Output Shape              Param #",
    "=================================================================",
    " conv2d (Conv2D)             (None, 26, 26, 32)        320",
    "",
    " max_pooling2d (MaxPooling2D  (None, 13, 13, 32)       0",
    " )",
    "",
    " conv2d_1 (Conv2D)           (None, 11, 11, 64)        18496",
    "",
    " max_pooling2d_1 (MaxPooling  (None, 5, 5, 64)         0",
    " 2D)",
    "",
    " flatten (Flatten)           (None, 1600)              0",
    "",
    " dropout (Dropout)           (None, 1600)              0",
    "",
    " dense (Dense)               (None, 10)                16010",
    "",
    "=================================================================",
    "Total params: 34,826",
    "Trainable params: 34,826",
    "Non-trainable params: 0",
    "_________________________________________________________________",
  ], 65);
  model.dispose();
});

Deno.test("summary() names later layers as a Keras session would (conv2d_2, sequential_1, …)", () => {
  const model = cl.models.mnistConvnet();
  const s = cl.summary(model);
  assert.equal(s.name, "sequential_1");
  assert.deepEqual(s.rows.map((r) => r.name), [
    "conv2d_2",
    "max_pooling2d_2",
    "conv2d_3",
    "max_pooling2d_3",
    "flatten_1",
    "dropout_1",
    "dense_1",
  ]);
  model.dispose();
});

Deno.test("kerasName() maps tfjs's default names and keeps chosen ones", () => {
  const dense = (name: string) => tf.layers.dense({ units: 1, name });
  assert.equal(cl.kerasName(dense("dense_Dense1")), "dense");
  assert.equal(cl.kerasName(dense("dense_Dense4")), "dense_3");
  assert.equal(cl.kerasName(dense("class_output")), "class_output");
  const pool = tf.layers.maxPooling2d({ poolSize: 2, name: "max_pooling2d_MaxPooling2D12" });
  assert.equal(cl.kerasName(pool), "max_pooling2d_11");
  const bn = tf.layers.batchNormalization({ name: "batch_normalization_BatchNormalization2" });
  assert.equal(cl.kerasName(bn), "batch_normalization_1");
});

Deno.test("summary() of three Conv2D layers without pooling counts 55,744 (DLwP 5.1)", () => {
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({ filters: 32, kernelSize: 3, activation: "relu", inputShape: [28, 28, 1] }),
      tf.layers.conv2d({ filters: 64, kernelSize: 3, activation: "relu" }),
      tf.layers.conv2d({ filters: 64, kernelSize: 3, activation: "relu" }),
    ],
  });
  const s = cl.summary(model);
  assert.deepEqual(
    s.rows.map((r) => [r.type, r.outputShape, r.params]),
    [
      ["Conv2D", "(None, 26, 26, 32)", 320],
      ["Conv2D", "(None, 24, 24, 64)", 18496],
      ["Conv2D", "(None, 22, 22, 64)", 36928],
    ],
  );
  assert.equal(s.totalParams, 55744);
  assert.match(
    s.toString(),
    /Total params: 55,744\nTrainable params: 55,744\nNon-trainable params: 0/,
  );
  model.dispose();
});

Deno.test("summary() of the cats-vs-dogs convnet matches the book: 3,453,121 params", () => {
  const model = cl.models.catsDogsConvnet();
  const s = cl.summary(model);
  assert.equal(s.totalParams, 3453121);
  assert.deepEqual(s.rows.map((r) => r.outputShape), [
    "(None, 148, 148, 32)",
    "(None, 74, 74, 32)",
    "(None, 72, 72, 64)",
    "(None, 36, 36, 64)",
    "(None, 34, 34, 128)",
    "(None, 17, 17, 128)",
    "(None, 15, 15, 128)",
    "(None, 7, 7, 128)",
    "(None, 6272)",
    "(None, 512)",
    "(None, 1)",
  ]);
  assert.deepEqual(s.rows.map((r) => r.params), [
    896,
    0,
    18496,
    0,
    73856,
    0,
    147584,
    0,
    0,
    3211776,
    513,
  ]);
  // The book's long type names wrap onto a second line at 27 characters ("…(MaxPooling" "2D)").
  const wrapped = s.toString().split("\n").filter((l) => /^ [a-zA-Z]*2D\)\s*$/.test(l));
  assert.equal(wrapped.length, 4);
  model.dispose();
  const withDropout = cl.models.catsDogsConvnet({ dropout: true });
  assert.equal(cl.summary(withDropout).totalParams, 3453121);
  assert.equal(cl.summary(withDropout).rows[9].type, "Dropout");
  withDropout.dispose();
});

Deno.test("summary() of the week-12 dense networks: 265 and 38 params", () => {
  const net = (units: number[], inputs: number) =>
    tf.sequential({
      layers: units.map((u, i) =>
        tf.layers.dense({
          units: u,
          activation: "relu",
          ...(i === 0 ? { inputShape: [inputs] } : {}),
        })
      ),
    });
  const a = net([16, 8, 8, 1], 2);
  assert.deepEqual(cl.summary(a).rows.map((r) => r.params), [48, 136, 72, 9]);
  assert.equal(cl.summary(a).totalParams, 265);
  const b = net([4, 3, 2, 1], 2);
  assert.equal(cl.summary(b).totalParams, 38);
  a.dispose();
  b.dispose();
});

Deno.test("summary() of a two-headed functional model adds Keras's 'Connected to' column", () => {
  const input = tf.input({ shape: [8], name: "features" });
  const hidden = tf.layers.dense({ units: 3, name: "hidden" }).apply(input) as tf.SymbolicTensor;
  const a = tf.layers.dense({ units: 4, name: "box" }).apply(hidden) as tf.SymbolicTensor;
  const b = tf.layers.dense({ units: 2, name: "label" }).apply(hidden) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: [b, a], name: "two_heads" });
  const s = cl.summary(model);
  const lines = s.toString().split("\n");
  assert.equal(lines[0], 'Model: "two_heads"');
  assert.equal(lines[1].length, 98);
  assert.equal(
    lines[2].trimEnd(),
    " Layer (type)                   Output Shape         Param #     Connected to",
  );
  assert.equal(
    lines[4].trimEnd(),
    " features (InputLayer)          [(None, 8)]          0           []",
  );
  assert.deepEqual(s.rows.map((r) => r.connectedTo), [[], ["features[0][0]"], [
    "hidden[0][0]",
  ], ["hidden[0][0]"]]);
  assert.equal(s.totalParams, 27 + 16 + 8);
  model.dispose();
});

Deno.test("summary() counts frozen weights and BatchNormalization statistics as non-trainable", () => {
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ units: 4, inputShape: [3] }),
      tf.layers.batchNormalization(),
      tf.layers.dense({ units: 2 }),
    ],
  });
  let s = cl.summary(model, { showTrainable: true });
  // BatchNormalization: gamma, beta trainable; moving mean and variance not (4 + 4).
  assert.deepEqual(s.params, { total: 16 + 16 + 10, trainable: 16 + 8 + 10, nonTrainable: 8 });
  assert.match(s.toString(), /Param # {3}Trainable {2}\n/);
  model.layers[0].trainable = false;
  s = cl.summary(model);
  assert.deepEqual(s.params, { total: 42, trainable: 18, nonTrainable: 24 });
  model.dispose();
});

Deno.test("summary() is a display object with text/plain and text/html", async () => {
  const model = cl.models.lenet5();
  const bundle = await (cl.summary(model) as unknown as cl.Displayable)[cl.DISPLAY]();
  assert.match(String(bundle["text/plain"]), /Total params: 61,706/);
  assert.match(String(bundle["text/html"]), /<table[^]*Conv2D[^]*61,706/);
  model.dispose();
});

Deno.test("summary() rejects what is not a model, with a clear message", () => {
  assert.throws(
    () => cl.summary({} as tf.LayersModel),
    /Cannot summarise: expected a tf.LayersModel/,
  );
});
