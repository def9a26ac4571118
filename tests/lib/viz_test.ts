import assert from "node:assert/strict";
import * as cl from "../../lib/mod.ts";
import { DISPLAY, type MimeBundle } from "../../lib/display.ts";
import { binValues } from "../../lib/viz/plot.ts";
import { confusionCounts } from "../../lib/viz/confusion.ts";
import { decodeBase64 } from "../../lib/viz/_base64.ts";

const { tf } = cl;

async function bundleOf(value: unknown): Promise<MimeBundle> {
  const display = (value as { [DISPLAY]?: () => MimeBundle | Promise<MimeBundle> })[DISPLAY];
  assert.equal(typeof display, "function", "is a display object");
  return await display!.call(value);
}

/** Plotly JSON that survives a JSON round trip, SVG that rasterises to the stated size, text. */
async function assertChartBundle(chart: unknown, width: number, height: number) {
  const bundle = await bundleOf(chart);
  assert.deepEqual(Object.keys(bundle).sort(), [
    "application/vnd.plotly.v1+json",
    "image/svg+xml",
    "text/plain",
  ]);
  const figure = JSON.parse(JSON.stringify(bundle["application/vnd.plotly.v1+json"]));
  assert.ok(Array.isArray(figure.data) && figure.data.length > 0, "Plotly data");
  assert.equal(figure.layout.width, width);
  assert.equal(figure.layout.height, height);
  const png = await cl.image.rasterizeSvg(bundle["image/svg+xml"] as string);
  const img = cl.image.decodeImage(png);
  assert.deepEqual(img.shape.slice(0, 2), [height, width]);
  img.dispose();
  assert.ok(String(bundle["text/plain"]).length > 0);
  return { bundle, figure };
}

Deno.test("plot.line() gives a Plotly figure with title, labels, legend and an SVG fallback", async () => {
  const chart = cl.plot.line({ loss: [3, 2, 1], val_loss: [3.5, 2.5, 2] }, {
    title: "Loss <per> epoch & more",
    xLabel: "epoch",
    yLabel: "loss",
  });
  const { bundle, figure } = await assertChartBundle(chart, 640, 400);
  assert.equal(figure.data.length, 2);
  assert.equal(figure.data[0].type, "scatter");
  assert.equal(figure.data[0].mode, "lines");
  assert.deepEqual(figure.data[1].y, [3.5, 2.5, 2]);
  assert.equal(figure.layout.title.text, "Loss <per> epoch & more");
  assert.equal(figure.layout.xaxis.title.text, "epoch");
  assert.equal(figure.layout.showlegend, true);
  const svg = bundle["image/svg+xml"] as string;
  assert.ok(svg.includes("Loss &#60;per&#62; epoch &#38; more"), "title escaped in SVG");
  assert.ok(svg.includes(">val_loss<"), "legend entry");
  assert.match(String(bundle["text/plain"]), /loss: line, 3 points, min 1, max 3, last 1/);
});

Deno.test("plot.scatter/bar/heatmap/histogram all give valid bundles", async () => {
  await assertChartBundle(cl.plot.scatter({ x: [1, 2, 3], y: [2, 4, 3] }), 640, 400);
  const { figure: bars } = await assertChartBundle(
    cl.plot.bar({ cat: 3, dog: 5 }, { width: 300, height: 200 }),
    300,
    200,
  );
  assert.deepEqual(bars.data[0].x, ["cat", "dog"]);
  const { figure: heat } = await assertChartBundle(
    cl.plot.heatmap([[1, 2], [3, 4]], { showValues: true, colormap: "jet" }),
    640,
    400,
  );
  assert.equal(heat.data[0].type, "heatmap");
  assert.equal(heat.data[0].texttemplate, "%{z}");
  const { figure: hist } = await assertChartBundle(
    cl.plot.histogram([0, 1, 2, 3, 4], { bins: 2 }),
    640,
    400,
  );
  assert.deepEqual(hist.data[0].y, [2, 3]);
});

Deno.test("histogram bins are equal-width and include the top edge", () => {
  const { counts, centres, width } = binValues([0, 1, 2, 3, 4], 2);
  assert.deepEqual(counts, [2, 3]);
  assert.deepEqual(centres, [1, 3]);
  assert.equal(width, 2);
  assert.deepEqual(binValues([5, 5, 5], 3).counts, [0, 3, 0]); // constant data: one centred bin
});

Deno.test("plot functions reject tensors and bad sizes with clear errors", () => {
  assert.throws(
    () => cl.plot.line(tf.tensor1d([1, 2]) as never),
    /got a tensor; pass its values instead/,
  );
  assert.throws(() => cl.plot.line([1, 2], { width: 10 }), /width must be 100–4000 pixels, got 10/);
  assert.throws(() => cl.plot.line({ x: [1, 2, 3], y: [1, 2] }), /3 x values but 2 y values/);
  assert.throws(() => cl.plot.heatmap([[1, 2], [3]]), /row 1 has 1 values, expected 2/);
  assert.throws(() => cl.plot.bar([1, 2], { labels: ["a"] }), /2 values but 1 labels/);
});

Deno.test("show.history() draws accuracy then loss, training dots vs validation line", async () => {
  const history = {
    history: {
      loss: [1, 0.5, 0.25],
      val_loss: [1.2, 0.7, 0.6],
      acc: [0.5, 0.7, 0.9],
      val_acc: [0.4, 0.6, 0.7],
    },
  };
  const chart = cl.show.history(history);
  const { figure } = await assertChartBundle(chart, 960, 380);
  assert.deepEqual(chart.spec.panels.map((p) => p.yLabel), ["Accuracy", "Loss"]);
  const [train, val] = chart.spec.panels[1].traces;
  assert.equal(train.type, "scatter");
  assert.equal(val.type, "line");
  assert.deepEqual((train as { x: number[] }).x, [1, 2, 3]);
  // One legend entry per name across both panels.
  assert.equal(figure.data.filter((d: { showlegend: boolean }) => d.showlegend).length, 2);
  // The plain record works too.
  assert.equal(cl.show.history({ loss: [1, 2] }).spec.panels.length, 1);
});

Deno.test("show.history({smooth}) applies the course's factor 0.8", () => {
  assert.deepEqual(cl.show.smoothCurve([1, 0, 0], 0.8).map((v) => Number(v.toFixed(6))), [
    1,
    0.8,
    0.64,
  ]);
  const chart = cl.show.history({ loss: [1, 0, 0] }, { smooth: true });
  const y = (chart.spec.panels[0].traces[0] as { y: number[] }).y;
  assert.deepEqual(y.map((v) => Number(v.toFixed(6))), [1, 0.8, 0.64]);
  assert.match(chart.spec.panels[0].title!, /smoothed 0.8/);
  assert.throws(() => cl.show.history({ history: {} }), /the history has no epochs yet/);
  assert.throws(
    () => cl.show.history({ loss: [1] }, { metrics: ["mae"] }),
    /no metric "mae" \(have loss\)/,
  );
  assert.throws(() => cl.show.smoothCurve([1], 1), /factor must be in \[0, 1\)/);
});

Deno.test("show.confusionMatrix() counts true × predicted from indices, one-hot and probabilities", async () => {
  assert.deepEqual(confusionCounts([0, 1, 1], [0, 1, 0], 2), [[1, 0], [1, 1]]);
  const yTrue = tf.oneHot(tf.tensor1d([0, 1, 2, 2], "int32"), 3);
  const yPred = tf.tensor2d([[0.9, 0.1, 0], [0.2, 0.7, 0.1], [0.1, 0.6, 0.3], [0, 0, 1]]);
  const before = tf.memory().numTensors;
  const chart = await cl.show.confusionMatrix(yTrue, yPred, ["cat", "dog", "frog"]);
  assert.equal(tf.memory().numTensors, before, "no leaks");
  const z = (chart.spec.panels[0].traces[0] as { z: number[][] }).z;
  assert.deepEqual(z, [[1, 0, 0], [0, 1, 0], [0, 1, 1]]);
  assert.match(chart.spec.title!, /accuracy 75.0% \(3\/4\)/);
  await assertChartBundle(chart, 360, 360);
  await assert.rejects(cl.show.confusionMatrix([0, 5], [0, 1], ["a", "b"]), /true label 1 is 5/);
  tf.dispose([yTrue, yPred]);
});

Deno.test("show.images() makes a captioned grid whose PNG decodes to the grid size", async () => {
  const batch = tf.randomUniform([5, 8, 8, 1]);
  const labels = tf.oneHot(tf.tensor1d([0, 1, 2, 1, 0], "int32"), 3);
  const before = tf.memory().numTensors;
  const grid = await cl.show.images(batch, { labels, classNames: ["a", "b", "c"], cols: 3 });
  assert.equal(tf.memory().numTensors, before, "no leaks");
  assert.deepEqual(grid.tiles.map((t) => t.caption), ["a", "b", "c", "b", "a"]);
  assert.equal(grid.scale, 12); // 8 px images are enlarged to 96 px
  const bundle = await bundleOf(grid);
  const png = cl.image.decodeImage(decodeBase64(bundle["image/png"] as string));
  // 3 columns × (96 + 4) + 4 wide, 2 rows × (96 + 4) + 4 high.
  assert.deepEqual(png.shape, [204, 304, 3]);
  assert.match(bundle["text/html"] as string, /<figcaption[^>]*>c<\/figcaption>/);
  assert.match(String(bundle["text/plain"]), /5 image\(s\), 8×8\na \| b \| c\nb \| a/);
  tf.dispose([batch, labels, png]);
});

Deno.test("show.images() scales values: int32 0–255, floats 0–1, negatives min/max", async () => {
  const pixel = async (x: cl.tf.Tensor) => (await cl.show.images(x)).tiles[0].rgb[0];
  assert.equal(await pixel(tf.fill([2, 2, 1], 255, "int32")), 255);
  assert.equal(await pixel(tf.fill([2, 2, 1], 0.5)), 128);
  assert.equal(await pixel(tf.fill([2, 2, 1], 51)), 51); // float 0–255 data
  const signed = await cl.show.images(tf.tensor3d([[[-1], [1]]]));
  assert.deepEqual([signed.tiles[0].rgb[0], signed.tiles[0].rgb[3]], [0, 255]);
  const many = await cl.show.images(tf.zeros([70, 2, 2, 3]));
  assert.equal(many.tiles.length, 64);
  assert.match(String(many), /showing the first 64 of 70 images/);
  await assert.rejects(
    cl.show.images(tf.zeros([2, 2, 2, 2])),
    /expected 1, 3 or 4 channels, got 2/,
  );
  await assert.rejects(cl.show.images([]), /there are no images to show/);
});

Deno.test("show.featureMaps() shows each channel normalised, perRow columns", async () => {
  const act = tf.stack([tf.zeros([4, 4]), tf.ones([4, 4]), tf.randomNormal([4, 4])], -1).expandDims(
    0,
  );
  const grid = await cl.show.featureMaps(act, { perRow: 2 });
  assert.equal(grid.tiles.length, 3);
  assert.equal(grid.cols, 2);
  assert.match(grid.title!, /3 feature maps, 4×4/);
  await assert.rejects(cl.show.featureMaps(tf.zeros([2, 4, 4, 3])), /pass one image's activations/);
  act.dispose();
});

Deno.test("show.misclassified() shows only wrong predictions with true → predicted (p)", async () => {
  const x = tf.zeros([4, 3, 3, 1]);
  const probs = tf.tensor2d([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.4, 0.6]]);
  const grid = await cl.show.misclassified(x, [0, 1, 1, 0], probs, { classNames: ["cat", "dog"] });
  assert.deepEqual(grid.tiles.map((t) => t.caption), ["dog → cat (80%)", "cat → dog (60%)"]);
  assert.match(grid.title!, /Misclassified: 2 of 4 \(50.0%\)/);
  await assert.rejects(cl.show.misclassified(x, [0, 0, 1, 1], probs), /none of the 4 images/);
  tf.dispose([x, probs]);
});

Deno.test("show.table() renders escaped HTML and aligned text", async () => {
  const t = cl.show.table([{ model: "<b>lenet</b>", accuracy: 0.991234 }, {
    model: "cnn",
    params: 34826,
  }]);
  const bundle = await bundleOf(t);
  assert.ok((bundle["text/html"] as string).includes("&#60;b&#62;lenet&#60;/b&#62;"));
  assert.equal(
    bundle["text/plain"],
    "model         accuracy  params\n------------  --------  ------\n<b>lenet</b>  0.9912\ncnn                     34826",
  );
  assert.throws(() => cl.show.table([1 as never]), /row 0 is not an object/);
});

Deno.test("show.progress() follows tfjs fit: one line per epoch off-terminal, history, no leaks", async () => {
  const model = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [2] })] });
  model.compile({ optimizer: "sgd", loss: "meanSquaredError", metrics: ["accuracy"] });
  const x = tf.randomNormal([32, 2]), y = tf.randomNormal([32, 1]);
  const lines: string[] = [];
  const bar = cl.show.progress({
    mode: "terminal",
    interactive: false,
    write: (s) => lines.push(s),
  });
  const before = tf.memory().numTensors;
  await model.fit(x, y, {
    epochs: 3,
    batchSize: 8,
    validationSplit: 0.25,
    callbacks: [bar],
    verbose: 0,
  });
  assert.equal(tf.memory().numTensors, before, "no leaks");
  const text = lines.join("");
  assert.equal(text.split("\n").filter(Boolean).length, 3, text);
  assert.match(
    text,
    /^Epoch 1\/3 - \[=+\] 3\/3 - [\d.]+s - loss: \d\.\d{4} - accuracy: .* - val_loss: /m,
  );
  assert.equal(bar.history.loss.length, 3);
  assert.equal(bar.history.val_accuracy.length, 3);
  const bundle = await bundleOf(bar);
  assert.match(bundle["text/html"] as string, /done: 3 epoch\(s\).*<svg/s);
  assert.match(String(bundle["text/plain"]), /epoch\s+loss\s+accuracy\s+val_loss/);
  tf.dispose([x, y]);
  model.dispose();
});

Deno.test("show.progress() redraws one terminal line with \\r when interactive", async () => {
  const model = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [1] })] });
  model.compile({ optimizer: "sgd", loss: "meanSquaredError" });
  const out: string[] = [];
  const bar = cl.show.progress({ mode: "terminal", interactive: true, write: (s) => out.push(s) });
  const x = tf.ones([4, 1]);
  await model.fit(x, x, { epochs: 2, batchSize: 2, callbacks: [bar], verbose: 0 });
  assert.ok(out.some((s) => s.startsWith("\rEpoch 2/2")), out.join("|"));
  assert.equal(out.filter((s) => s === "\n").length, 2);
  assert.throws(() => cl.show.progress({ mode: "loud" as never }), /mode must be auto/);
  x.dispose();
  model.dispose();
});

Deno.test("save() writes png, svg, html and json, atomically, by extension", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const chart = cl.plot.line([1, 3, 2], { title: "t", width: 320, height: 200 });
    await cl.save(chart, `${dir}/c.png`);
    const png = await cl.image.readImage(`${dir}/c.png`);
    assert.deepEqual(png.shape.slice(0, 2), [200, 320]);
    await cl.save(chart, `${dir}/c2.png`, { scale: 2 });
    assert.deepEqual((await cl.image.readImage(`${dir}/c2.png`)).shape.slice(0, 2), [400, 640]);
    await cl.save(chart, `${dir}/c.svg`);
    assert.ok((await Deno.readTextFile(`${dir}/c.svg`)).startsWith("<svg"));
    await cl.save(chart, `${dir}/c.json`);
    assert.equal(JSON.parse(await Deno.readTextFile(`${dir}/c.json`)).layout.width, 320);
    await cl.save(chart, `${dir}/c.html`);
    const html = await Deno.readTextFile(`${dir}/c.html`);
    assert.match(html, /Plotly\.newPlot\("chart"/);
    assert.ok(html.length > 1_000_000, "plotly.js is inlined so the page works offline");
    const grid = await cl.show.images(tf.zeros([2, 4, 4, 1]), { captions: ["a", "b"] });
    await cl.save(grid, `${dir}/g.png`);
    await cl.save(cl.show.table([{ a: 1 }]), `${dir}/t.html`);
    await cl.save(tf.zeros([4, 4, 3], "int32"), `${dir}/x.jpg`);
    await assert.rejects(cl.save(chart, `${dir}/c.gif`), /unknown extension .gif/);
    const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assert.deepEqual(names, [
      "c.html",
      "c.json",
      "c.png",
      "c.svg",
      "c2.png",
      "g.png",
      "t.html",
      "x.jpg",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cl.show is still display.ts's show() (prints text outside a notebook)", async () => {
  const logged: unknown[] = [];
  const original = console.log;
  console.log = (...args: unknown[]) => logged.push(...args);
  try {
    await cl.show(cl.show.table([{ a: 1 }]));
  } finally {
    console.log = original;
  }
  assert.deepEqual(logged, ["a\n-\n1"]);
});

Deno.test("plots and the confusion matrix take a million values (a dense layer's weights)", async () => {
  // Math.min(...values) overflows the call stack for a few hundred thousand values.
  const weights = Float32Array.from({ length: 1_200_000 }, (_, i) => Math.sin(i));
  const histogram = await bundleOf(cl.plot.histogram(weights, { bins: 20 }));
  assert.match(String(histogram["text/plain"]), /bar, 20 points/);
  const rows = Array.from(
    { length: 600 },
    (_, r) => Array.from(weights.subarray(r * 600, r * 600 + 600)),
  );
  await bundleOf(cl.plot.heatmap(rows));
  const labels = Array.from({ length: 300_000 }, (_, i) => i % 10);
  const confusion = await cl.show.confusionMatrix(labels, labels);
  assert.match(String((await bundleOf(confusion))["text/plain"]), /accuracy 100/i);
});

Deno.test("save() writes every visual as .png, .svg and .html: text tables are drawn, grids embedded", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [3] })] });
    const grid = await cl.show.images(tf.zeros([2, 4, 4, 1]), { captions: ["a", "b"] });
    const visuals: [string, unknown][] = [
      ["table", cl.show.table([{ model: "LeNet-5", accuracy: 0.98 }])],
      ["summary", cl.summary(model)],
      ["grid", grid],
    ];
    for (const [name, visual] of visuals) {
      for (const ext of ["png", "svg", "html"]) {
        await cl.save(visual as cl.Displayable, `${dir}/${name}.${ext}`);
      }
      const png = await cl.image.readImage(`${dir}/${name}.png`, { channels: 1 });
      const [h, w] = png.shape;
      assert.ok(h > 10 && w > 10, `${name}.png is ${w}×${h}`);
      const { mean, variance } = tf.moments(png);
      assert.ok((await variance.data())[0] > 0, `${name}.png is not blank`);
      tf.dispose([png, mean, variance]);
      const svg = await Deno.readTextFile(`${dir}/${name}.svg`);
      const svgPng = await cl.image.rasterizeSvg(svg);
      assert.equal(cl.image.sniffImageFormat(svgPng), "png", `${name}.svg rasterises`);
    }
    assert.match(await Deno.readTextFile(`${dir}/table.svg`), />model +accuracy</);
    assert.match(await Deno.readTextFile(`${dir}/summary.svg`), /Total params: 8/);
    model.dispose();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
