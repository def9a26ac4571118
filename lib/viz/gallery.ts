/**
 * `deno task gallery [--out data/readme]`: draws the README's pictures of every visual from real
 * runs — the test card through the course's filters and resize variants, MNIST digits, a LeNet-5
 * trained on embedded MNIST (its curves, confusion matrix, mistakes and feature maps), augmented
 * digits, a heatmap overlay and each `cl.plot` chart. Nothing is drawn by hand.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { join } from "node:path";
import * as cl from "../mod.ts";

const { tf } = cl;

async function write(out: string, name: string, visual: cl.Displayable | cl.tf.Tensor) {
  const path = join(out, name);
  await cl.save(visual, path);
  console.log(`wrote ${path}`);
}

/** Draw every picture into `out`. */
export async function gallery(out: string): Promise<void> {
  cl.seed(1);
  const card = await cl.image.testCard();
  await write(out, "testcard.png", card);

  const grey = cl.image.toGrayscale(card);
  await write(
    out,
    "filters.png",
    await cl.show.images(
      [
        grey,
        cl.image.filter2D(grey, "box3"),
        cl.image.filter2D(grey, "box7"),
        cl.image.filter2D(grey, "sobelX"),
      ],
      {
        captions: ["grey", "box3", "box7", "sobelX"],
        cols: 4,
        scale: 1,
        title: "cl.image.filter2D",
      },
    ),
  );
  const resized = [
    cl.image.resize(card, [224, 224]).div(255),
    cl.image.resizeWithPad(card, [224, 224], { antialias: true }).div(255),
    cl.image.resizeWithCropOrPad(card, [224, 224]),
    cl.image.cropAndResize(card, [[0, 0.03, 1, 0.68]], [224, 224]).squeeze([0]).div(255),
  ];
  await write(
    out,
    "resize.png",
    await cl.show.images(resized as cl.tf.Tensor[], {
      captions: ["resize", "resizeWithPad", "resizeWithCropOrPad", "cropAndResize"],
      cols: 4,
      scale: 1,
      title: "Resizing to 224×224",
    }),
  );
  const heat = tf.tensor2d([[0, 0.1, 0.2], [0.2, 1, 0.5], [0, 0.4, 0.1]]);
  await write(
    out,
    "overlay.png",
    await cl.show.images([cl.image.overlay(heat, card, { alpha: 0.4 })], {
      captions: ["overlay(heatmap, card, {alpha: 0.4})"],
      scale: 1,
    }),
  );

  const data = await cl.datasets.mnist({
    source: "embedded",
    subset: { train: 3000, test: 600 },
    oneHot: true,
    quiet: true,
  });
  const classNames = data.classNames;
  const xTest = data.xTest, yTest = data.yTest;
  await write(
    out,
    "digits.png",
    await cl.show.images(data.xTrain.slice(0, 15), {
      labels: data.yTrain.slice(0, 15),
      classNames,
      cols: 5,
      title: "MNIST (embedded)",
    }),
  );

  const gen = new cl.ImageDataGenerator({
    rotationRange: 20,
    widthShiftRange: 0.1,
    heightShiftRange: 0.1,
    shearRange: 10,
    zoomRange: 0.15,
  });
  const one = tf.tile(data.xTrain.slice(0, 1), [12, 1, 1, 1]);
  await write(
    out,
    "augment.png",
    await cl.show.images(gen.augment(one, { seed: 3 }), {
      cols: 4,
      title: "ImageDataGenerator: 3 rounds of 4",
    }),
  );

  const model = cl.models.lenet5();
  cl.compile(model, { optimizer: "adam", loss: "categorical_crossentropy", metrics: ["accuracy"] });
  const history = await cl.fit(model, data.xTrain, data.yTrain, {
    epochs: 8,
    batchSize: 32,
    validationSplit: 0.2,
    verbose: 0,
    callbacks: [cl.show.progress({ mode: "terminal" })],
  });
  await write(out, "history.png", cl.show.history(history));
  await write(out, "history_smooth.png", cl.show.history(history, { smooth: true }));
  const probs = model.predict(xTest) as cl.tf.Tensor;
  await write(out, "confusion.png", await cl.show.confusionMatrix(yTest, probs, classNames));
  await write(
    out,
    "misclassified.png",
    await cl.show.misclassified(xTest, yTest, probs, { classNames, max: 12, cols: 6 }),
  );
  const firstConv = tf.model({
    inputs: model.inputs,
    outputs: model.layers[0].output as cl.tf.SymbolicTensor,
  });
  await write(
    out,
    "featuremaps.png",
    await cl.show.featureMaps(firstConv.predict(xTest.slice(0, 1)) as cl.tf.Tensor, { perRow: 6 }),
  );

  const pixels = Array.from(await grey.data());
  await write(
    out,
    "plot_line.png",
    cl.plot.line({ loss: history.history.loss, val_loss: history.history.val_loss }, {
      title: "cl.plot.line",
      xLabel: "epoch",
      yLabel: "loss",
    }),
  );
  const w = Array.from(await model.layers.at(-1)!.getWeights()[0].data()).slice(0, 400);
  await write(
    out,
    "plot_histogram.png",
    cl.plot.histogram({ "grey levels / 255": pixels.map((v) => v / 255) }, {
      bins: 40,
      title: "cl.plot.histogram",
    }),
  );
  await write(
    out,
    "plot_scatter.png",
    cl.plot.scatter({ x: w.slice(0, 200), y: w.slice(200, 400), name: "weights" }, {
      title: "cl.plot.scatter",
      xLabel: "w[i]",
      yLabel: "w[i + 200]",
    }),
  );
  const counts = Object.fromEntries(classNames.map((c) => [c, 0 as number]));
  const labels = tf.argMax(data.yTrain, 1);
  for (const v of await labels.data()) counts[classNames[v]]++;
  labels.dispose();
  await write(
    out,
    "plot_bar.png",
    cl.plot.bar(counts, { title: "cl.plot.bar: training digits per class", yLabel: "count" }),
  );
  await write(
    out,
    "plot_heatmap.png",
    cl.plot.heatmap(cl.image.KERNELS.sobelX.map((r) => [...r]), {
      title: "cl.plot.heatmap: Sobel x",
      showValues: true,
      colormap: "jet",
      width: 360,
      height: 320,
    }),
  );
  data.dispose();
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { out: { type: "string", default: "data/readme" } },
  });
  await gallery(values.out!);
}
