import * as cl from "./lib/mod.ts";
const tf = cl.tf;
for (const b of ["cpu", "wasm"] as const) {
  await cl.useBackend(b);
  const x = tf.randomUniform([320, 12, 12, 1]); const y = tf.oneHot(tf.randomUniform([320], 0, 4, "int32"), 4);
  const mk = () => tf.sequential({layers: [tf.layers.conv2d({ filters: 8, kernelSize: 3, activation: "relu", inputShape: [12, 12, 1] }), tf.layers.maxPooling2d({ poolSize: 2 }), tf.layers.flatten(), tf.layers.dense({ units: 4, activation: "softmax" })]});
  for (let rep = 0; rep < 2; rep++) {
  const m1 = mk(); cl.compile(m1, {optimizer: "adam", loss: "categorical_crossentropy", metrics: ["accuracy"]});
  let t = performance.now(); await cl.fit(m1, x, y, {epochs: 3, batchSize: 32, verbose: 0}); const a = performance.now() - t;
  const m2 = mk(); m2.compile({optimizer: "adam", loss: "categoricalCrossentropy", metrics: ["accuracy"]});
  t = performance.now(); await m2.fit(x, y, {epochs: 3, batchSize: 32, verbose: 0}); const c = performance.now() - t;
  console.log(b, "cl.fit", a.toFixed(0), "ms; tf fit", c.toFixed(0), "ms");
  }
}
