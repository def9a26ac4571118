/**
 * The apps' servers without a browser: bad uploads get clear messages (and the server lives on),
 * concurrent uploads all get answers, model files are served and nothing else, a missing model
 * is trained on request, and the CLI refuses bad flags and bad model folders with a message.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import * as cl from "../../lib/mod.ts";
import { startClassifyApp } from "../../lessons/apps/classify.ts";
import { parseAppArgs } from "../../lessons/apps/cli.ts";
import { startDigitsApp } from "../../lessons/apps/digits.ts";
import { imageDimensions } from "../../lessons/apps/_image_size.ts";
import { saveTinyClassifier, testCardPng } from "./_fixtures.ts";
import { ROOT } from "./_process.ts";
import { skipUnless } from "../_skip.ts";

const tf = cl.tf;
const HAVE_FASHION = await cl.datasets.locateDataset("fashion-mnist") !== undefined;
const leaks = { sanitizeResources: false, sanitizeOps: false };

async function post(url: string, body: BodyInit, headers: Record<string, string> = {}) {
  const response = await fetch(url, { method: "POST", body, headers });
  return { status: response.status, body: await response.json() };
}

Deno.test({
  name:
    "classify app refuses a text file, an empty file, a 50 MB upload and a huge PNG with clear messages, and lives on",
  ...leaks,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "convlab-apps-model-" });
    const app = await startClassifyApp({ port: 0, model: await saveTinyClassifier(dir) });
    const api = `${app.url}api/classify`;
    try {
      const text = await post(api, "Dear diary, today I trained a convnet.", {
        "x-file-name": "diary.txt",
      });
      assert.equal(text.status, 415);
      assert.match(
        text.body.error,
        /“diary\.txt” is not a PNG or JPEG image \(it starts with “Dear diary/,
      );

      const empty = await post(api, new Uint8Array(0), { "x-file-name": "empty.png" });
      assert.equal(empty.status, 400);
      assert.match(empty.body.error, /“empty\.png” is empty/);

      // 50 MB, declared up front: refused before it is read.
      const big = await post(api, new Uint8Array(50_000_000), {
        "x-file-name": encodeURIComponent("사진 big.jpg"),
      });
      assert.equal(big.status, 413);
      assert.match(big.body.error, /“사진 big\.jpg” is 50 MB; the limit is 20 MB/);

      // 50 MB streamed without a length: cut off at the limit.
      let chunks = 0;
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (chunks++ < 50) controller.enqueue(new Uint8Array(1_000_000));
          else controller.close();
        },
      });
      const streamed = await post(api, stream, { "x-file-name": "stream.jpg" });
      assert.equal(streamed.status, 413);
      assert.match(streamed.body.error, /is over 20 MB; the limit is 20 MB/);

      // A valid PNG header that claims 50,000 × 50,000 pixels: refused before decoding.
      const header = (await testCardPng()).slice(0, 64);
      new DataView(header.buffer).setUint32(16, 50_000);
      new DataView(header.buffer).setUint32(20, 50_000);
      const huge = await post(api, header, { "x-file-name": "bomb.png" });
      assert.equal(huge.status, 413);
      assert.match(huge.body.error, /50000×50000 pixels \(2500 megapixels\); the limit is 40/);

      const broken = await post(api, (await testCardPng()).slice(0, 200), {
        "x-file-name": "cut.png",
      });
      assert.equal(broken.status, 422);
      assert.match(broken.body.error, /Cannot read “cut\.png”: Cannot decode PNG/);

      // The page asks for soft errors: the same message with status 200 (no console error).
      const soft = await post(api, "x", { "x-file-name": "a.txt", "x-convlab-soft-errors": "1" });
      assert.equal(soft.status, 200);
      assert.equal(soft.body.status, 415);

      // Still alive and well.
      const ok = await post(api, await testCardPng(), { "x-file-name": "card.png" });
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      assert.equal(ok.body.top.length, 5);
    } finally {
      await app.shutdown();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "classify app answers eight concurrent uploads, each with its top-5, model view and Grad-CAM overlay, without leaking tensors",
  ...leaks,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "convlab-apps-model-" });
    const app = await startClassifyApp({ port: 0, model: await saveTinyClassifier(dir) });
    try {
      const png = await testCardPng();
      // Warm up once, so that the tensor count below excludes tfjs's one-time state.
      await post(`${app.url}api/classify`, png);
      const before = tf.memory().numTensors;
      const answers = await Promise.all(
        Array.from(
          { length: 8 },
          (_, i) => post(`${app.url}api/classify`, png, { "x-file-name": `card ${i}.png` }),
        ),
      );
      for (const [i, { status, body }] of answers.entries()) {
        assert.equal(status, 200, JSON.stringify(body));
        assert.equal(body.name, `card ${i}.png`);
        assert.equal(body.top.length, 5);
        const sum = body.top.reduce(
          (s: number, t: { probability: number }) => s + t.probability,
          0,
        );
        assert.ok(sum > 0 && sum <= 1.0001);
        assert.ok(
          body.top.every((t: { name: string }) =>
            cl.datasets.FASHION_MNIST_CLASSES.includes(t.name)
          ),
        );
        assert.deepEqual(body.size, { width: 320, height: 240 });
        assert.equal(body.input.width, 28);
        assert.equal(body.input.inverted, true, "the test card has a light border");
        assert.match(body.input.image, /^data:image\/png;base64,/);
        assert.match(body.cam.overlay, /^data:image\/jpeg;base64,/);
        assert.equal(body.cam.classIndex, body.top[0].index);
      }
      // Another class for the last picture, by id.
      const { id, top } = answers[7].body;
      const other = await post(
        `${app.url}api/gradcam`,
        JSON.stringify({ id, classIndex: top[2].index }),
      );
      assert.equal(other.status, 200);
      assert.equal(other.body.cam.classIndex, top[2].index);
      assert.equal(other.body.cam.name, top[2].name);
      const bad = await post(`${app.url}api/gradcam`, JSON.stringify({ id, classIndex: 10 }));
      assert.equal(bad.status, 400);
      const gone = await post(
        `${app.url}api/gradcam`,
        JSON.stringify({ id: "p999", classIndex: 0 }),
      );
      assert.equal(gone.status, 410);
      assert.equal(tf.memory().numTensors, before, "requests leaked tensors");
    } finally {
      await app.shutdown();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "classify app on a fresh clone runs the shipped backbone with its own classifier (28×28, five Fashion-MNIST classes)",
  ...leaks,
  async fn() {
    const cache = await Deno.makeTempDir({ prefix: "convlab-apps-cache-" });
    const app = await startClassifyApp({ port: 0, cacheRoot: cache });
    try {
      const state = await (await fetch(`${app.url}api/model`)).json();
      assert.equal(state.ready, true);
      assert.equal(state.model.origin, "shipped");
      assert.match(state.model.dir, /data\/models\/fashion-backbone$/);
      assert.deepEqual(state.classNames, ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat"]);
      assert.deepEqual(state.input, {
        width: 28,
        height: 28,
        channels: 1,
        invertLightBackground: true,
      });
      assert.match(state.trainTitle, /lesson 04's model/);
      const answer = await post(`${app.url}api/classify`, await testCardPng());
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.equal(answer.body.top.length, 5);
      assert.match(answer.body.cam.overlay, /^data:image\/jpeg;base64,/);
    } finally {
      await app.shutdown();
      await Deno.remove(cache, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "classify app without a model offers to train lesson 04's (backbone + new classifier), trains on request, saves it where lesson 04 does, then classifies",
  ...leaks,
  ...skipUnless(HAVE_FASHION, "Fashion-MNIST is not available (Debian dataset-fashion-mnist)"),
  async fn() {
    const cache = await Deno.makeTempDir({ prefix: "convlab-apps-cache-" });
    const app = await startClassifyApp({
      port: 0,
      cacheRoot: cache,
      shippedModels: false,
      training: { epochs: 2, trainSize: 250, testSize: 250 },
    });
    try {
      const before = await (await fetch(`${app.url}api/model`)).json();
      assert.equal(before.ready, false);
      assert.match(before.searchedText, /transfer-learning/);
      const early = await post(`${app.url}api/classify`, await testCardPng());
      assert.equal(early.status, 409);
      assert.match(early.body.error, /no model yet/);

      const started = await post(`${app.url}api/train`, "");
      assert.equal(started.status, 202);
      const again = await post(`${app.url}api/train`, "");
      assert.equal(again.body.started, false, "one training at a time");
      // Follow the progress events to the end.
      const events = await (await fetch(`${app.url}api/train/events`)).text();
      const states = [...events.matchAll(/^data: (.*)$/gm)].map((m) => JSON.parse(m[1]));
      assert.equal(states.at(-1).state, "done", events);
      assert.ok(states.some((s) => s.state === "running"));

      const after = await (await fetch(`${app.url}api/model`)).json();
      assert.equal(after.ready, true);
      assert.match(
        after.model.description,
        /Lesson 04's recipe: the shipped backbone \(frozen\) \+ a new classifier, trained on 250 Fashion-MNIST images of Sandal, Shirt, Sneaker, Bag, Ankle boot, 2 epochs: [\d.]+% on 250 test images/,
      );
      assert.equal(after.model.dir, join(cache, "models", "transfer-learning"));
      assert.deepEqual(after.classNames, ["Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]);
      const answer = await post(`${app.url}api/classify`, await testCardPng());
      assert.equal(answer.status, 200);
      assert.equal(answer.body.top.length, 5);
      // Grad-CAM looks inside the nested backbone, as lesson 05 does with lesson 04's model.
      assert.match(answer.body.cam.layerName, /^block3_conv/);
    } finally {
      await app.shutdown();
      await Deno.remove(cache, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "classify app runs a Keras-style MobileNet with a nested base, class names from classes.json and inputs in [-1, 1]",
  ...leaks,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "convlab-apps-mobilenet-" });
    cl.seed(3);
    const baseInput = tf.input({ shape: [32, 32, 3] });
    let x = tf.layers.conv2d({
      filters: 8,
      kernelSize: 3,
      strides: 2,
      padding: "same",
      name: "conv1",
    })
      .apply(baseInput) as cl.tf.SymbolicTensor;
    x = tf.layers.reLU({ name: "conv1_relu" }).apply(x) as cl.tf.SymbolicTensor;
    x = tf.layers.depthwiseConv2d({ kernelSize: 3, padding: "same", name: "conv_dw_1" })
      .apply(x) as cl.tf.SymbolicTensor;
    x = tf.layers.conv2d({ filters: 16, kernelSize: 1, name: "conv_pw_1" }).apply(
      x,
    ) as cl.tf.SymbolicTensor;
    x = tf.layers.reLU({ name: "conv_pw_1_relu" }).apply(x) as cl.tf.SymbolicTensor;
    const base = tf.model({ inputs: baseInput, outputs: x, name: "mobilenet_0.25_32" });
    const input = tf.input({ shape: [32, 32, 3] });
    const pooled = tf.layers.globalAveragePooling2d({}).apply(base.apply(input));
    const output = tf.layers.dense({ units: 5, activation: "softmax" }).apply(pooled);
    const model = tf.model({
      inputs: input,
      outputs: output as cl.tf.SymbolicTensor,
      name: "mobilenet_test",
    });
    await cl.saveModel(model, dir);
    model.dispose();
    const names = ["beagle", "pug", "shiba inu", "samoyed", "jindo"];
    await Deno.writeTextFile(join(dir, "classes.json"), JSON.stringify(names));
    const app = await startClassifyApp({ port: 0, model: dir });
    try {
      const state = await (await fetch(`${app.url}api/model`)).json();
      assert.deepEqual(state.model.inputRange, [-1, 1], "Keras's preprocess_input range");
      assert.deepEqual(state.classNames, names);
      assert.deepEqual(state.input, {
        width: 32,
        height: 32,
        channels: 3,
        invertLightBackground: false,
      });
      const answer = await post(`${app.url}api/classify`, await testCardPng(), {
        "x-file-name": "dog.png",
      });
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.deepEqual(
        answer.body.top.map((t: { name: string }) => t.name).sort(),
        [...names].sort(),
      );
      assert.equal(answer.body.input.inverted, false);
      assert.match(answer.body.cam.overlay, /^data:image\/jpeg;base64,/);
    } finally {
      await app.shutdown();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "digits app serves the model's own files and nothing outside its folders",
  ...leaks,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "convlab-apps-model-" });
    await saveTinyClassifier(dir);
    await Deno.writeTextFile(join(dir, "secret.txt"), "not for the browser");
    const app = await startDigitsApp({ port: 0, model: dir });
    try {
      const state = await (await fetch(`${app.url}api/model`)).json();
      assert.equal(state.ready, true);
      const modelJson = await fetch(new URL(state.model.url, app.url));
      assert.equal(modelJson.status, 200);
      const weights = await fetch(`${app.url}model/weights.bin`);
      assert.equal(weights.status, 200);
      assert.ok((await weights.arrayBuffer()).byteLength > 1000);
      for (
        const path of [
          "model/secret.txt",
          "model/..%2Fsecret.txt",
          "static/..%2f..%2fcli.ts",
          "static/%2e%2e/%2e%2e/deno.json",
          "vendor/..%2F..%2Fdeno.json",
        ]
      ) {
        const response = await fetch(`${app.url}${path}`);
        assert.equal(response.status, 404, path);
        await response.body?.cancel();
      }
      const tfjs = await fetch(`${app.url}vendor/tf.min.js`);
      assert.equal(tfjs.status, 200);
      assert.ok((await tfjs.text()).length > 500_000, "tfjs comes from the npm package");
      const page = await fetch(app.url);
      assert.match(await page.text(), /Postal-code recognizer/);
      const notAllowed = await fetch(`${app.url}api/model`, { method: "DELETE" });
      assert.equal(notAllowed.status, 405);
      await notAllowed.body?.cancel();
    } finally {
      await app.shutdown();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("the CLI refuses a model folder without a model, naming the file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "convlab-apps-empty-" });
  try {
    const { code, stderr } = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-all",
        "lessons/apps/cli.ts",
        "classify",
        "--port",
        "0",
        "--model",
        dir,
      ],
      cwd: ROOT,
      env: { NO_COLOR: "1" },
      stdout: "null",
      stderr: "piped",
    }).output();
    assert.equal(code, 1);
    assert.match(new TextDecoder().decode(stderr), /No model in .*model\.json does not exist/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("parseAppArgs() takes the two apps and their flags, and refuses anything else", () => {
  assert.deepEqual(parseAppArgs(["digits"]), {
    help: false,
    app: "digits",
    port: 8080,
    host: "127.0.0.1",
    model: undefined,
    epochs: undefined,
  });
  assert.equal((parseAppArgs(["classify", "--port", "0"]) as { port: number }).port, 0);
  assert.equal(parseAppArgs(["--help"]).help, true);
  assert.throws(() => parseAppArgs([]), /Which app\? Say digits or classify/);
  assert.throws(() => parseAppArgs(["cats"]), /Unknown app "cats"/);
  assert.throws(
    () => parseAppArgs(["digits", "--port", "99999"]),
    /--port must be an integer from 0 to 65535/,
  );
  assert.throws(() => parseAppArgs(["digits", "--port", "http"]), /--port must be/);
  assert.throws(() => parseAppArgs(["digits", "--colour"]), /Unknown option '--colour'/);
});

Deno.test("imageDimensions() reads the size from PNG and JPEG headers", async () => {
  assert.deepEqual(imageDimensions(await testCardPng()), { width: 320, height: 240 });
  const card = await cl.image.testCard();
  const jpeg = await cl.image.encodeJpeg(card);
  card.dispose();
  assert.deepEqual(imageDimensions(jpeg), { width: 320, height: 240 });
  assert.equal(imageDimensions(new TextEncoder().encode("GIF89a....")), undefined);
  assert.equal(imageDimensions(jpeg.slice(0, 6)), undefined);
});
