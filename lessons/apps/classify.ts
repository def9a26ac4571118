/**
 * The photo classifier (course code 8-8, with chapter 5's class-activation heatmap) as a local web
 * app: open or drop a PNG or JPEG; see it as the model sees it, the top-5 classes as a bar chart,
 * and a Grad-CAM overlay for the class you pick.
 *
 * The model runs here, in Deno, with Convlab's lib — not in the browser: Grad-CAM is
 * `cl.explain.gradCam`, the same tested code lesson 05 teaches (it handles Sequential, functional
 * and nested-base transfer models, which a browser port would have to duplicate); decoding and
 * resizing are `cl.image`'s, so the picture "as the model sees it" is exactly the tensor the model
 * gets; and a large model (a MobileNet) is not sent to the browser. The price: a click on another
 * class is one request (a few hundred milliseconds on a busy 2-core machine).
 *
 * @module
 */

import { Buffer } from "node:buffer";
import * as cl from "../../lib/mod.ts";
import { MODEL_NAMES } from "../../lib/model_dirs.ts";
import { type AppOptions, startApp } from "./_app.ts";
import { imageDimensions, pngInflatesBeyond, pngRawSize } from "./_image_size.ts";
import { ModelFolderError, type ModelInfo } from "./_model.ts";
import { formatMegabytes, json, readBody, type RunningServer, UserError } from "./_server.ts";
import { CLASSIFY_MODEL_NAME, trainTransferModel } from "./classify_train.ts";

const tf = cl.tf;

/** Largest upload accepted (phone photos are 2–12 MB). */
export const MAX_UPLOAD_BYTES = 20_000_000;
/** Largest picture decoded (megapixels): bigger ones would take seconds and gigabytes. */
export const MAX_MEGAPIXELS = 40;
/** Data a PNG may unpack to beyond what its pixels need (some encoders pad a little). */
const PNG_SLACK_BYTES = 65_536;
/** Longest side of the picture shown with its overlay. */
const DISPLAY_SIDE = 384;
/** Pictures kept for choosing another class without uploading again. */
const RECENT = 8;

/**
 * The models the classify app looks for, best first: lesson 04's (or the one this app trained the
 * lesson's way), a cached MobileNet, else the backbone shipped with Convlab with the classifier it
 * was pretrained with (five other Fashion-MNIST classes), so that the app works on a fresh clone.
 */
export const CLASSIFY_MODELS: string[] = [
  CLASSIFY_MODEL_NAME,
  MODEL_NAMES.mobilenet,
  cl.backbones.FASHION_BACKBONE,
];

/** A model ready to classify. */
interface Classifier {
  info: ModelInfo;
  model: cl.tf.LayersModel;
  height: number;
  width: number;
  channels: 1 | 3;
  classNames: string[];
  /** Whether the output already sums to 1 (a softmax); else softmax is applied. */
  softmax: boolean;
}

/** An uploaded picture, kept for a while so that another class can be explained. */
interface Picture {
  name: string;
  /** The uploaded picture's size in pixels. */
  original: { width: number; height: number };
  /** The picture for display, `[h, w, 3]` 0–255. */
  display: { data: Int32Array; shape: [number, number, 3] };
  /** The model's input, `[H, W, C]` in the model's range. */
  input: { data: Float32Array; shape: [number, number, number] };
  inverted: boolean;
  probabilities: number[];
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

async function pngDataUrl(image: cl.tf.Tensor): Promise<string> {
  return `data:image/png;base64,${base64(await cl.image.encodePng(image))}`;
}

async function jpegDataUrl(image: cl.tf.Tensor): Promise<string> {
  return `data:image/jpeg;base64,${base64(await cl.image.encodeJpeg(image, { quality: 90 }))}`;
}

/** Load and check a model folder as an image classifier. */
async function loadClassifier(info: ModelInfo): Promise<Classifier> {
  let model: cl.tf.LayersModel;
  try {
    model = await cl.loadModel(info.dir, { compile: false });
  } catch (error) {
    throw new ModelFolderError(`Cannot load the model in ${info.dir}: ${(error as Error).message}`);
  }
  const refuse = (why: string) => {
    model.dispose();
    return new ModelFolderError(`The model in ${info.dir} is not an image classifier: ${why}`);
  };
  if (model.inputs.length !== 1 || model.outputs.length < 1) {
    throw refuse(`it has ${model.inputs.length} inputs`);
  }
  const [, modelHeight, modelWidth, channels] = model.inputs[0].shape;
  // A model that takes any size (a convolutional base) says in its metadata what it was trained on.
  const height = modelHeight ?? info.inputSize?.[0];
  const width = modelWidth ?? info.inputSize?.[1];
  if (model.inputs[0].shape.length !== 4 || (channels !== 1 && channels !== 3)) {
    throw refuse(`its input is [${model.inputs[0].shape}], not [height, width, 1 or 3]`);
  }
  const output = model.outputs[0].shape;
  const classes = output[1];
  if (output.length !== 2 || !classes || classes < 2) {
    throw refuse(`its output is [${output}], not class scores [n, classes]`);
  }
  let classNames = info.classNames ?? [];
  if (classNames.length !== classes) {
    if (info.classNames) {
      console.warn(
        `The model has ${classes} classes but its metadata names ${info.classNames.length}; ` +
          "numbering them instead",
      );
    }
    classNames = Array.from({ length: classes }, (_, i) => `class ${i}`);
  }
  const probe = tf.tidy(() => {
    const x = tf.fill([1, height ?? 224, width ?? 224, channels], info.inputRange[0]);
    return tf.sum(model.predict(x) as cl.tf.Tensor);
  });
  const sum = (await probe.data())[0];
  probe.dispose();
  return {
    info,
    model,
    height: height ?? 224,
    width: width ?? 224,
    channels,
    classNames,
    softmax: Math.abs(sum - 1) < 1e-3,
  };
}

/** The mean brightness (0–255) of an image's outermost pixels: its background, usually. */
async function borderMean(image: cl.tf.Tensor3D): Promise<number> {
  const mean = tf.tidy(() => {
    const [h, w] = image.shape;
    const grey = tf.mean(tf.cast(image, "float32"), 2);
    const top = grey.slice([0, 0], [1, w]);
    const bottom = grey.slice([h - 1, 0], [1, w]);
    const left = grey.slice([0, 0], [h, 1]).reshape([1, h]);
    const right = grey.slice([0, w - 1], [h, 1]).reshape([1, h]);
    return tf.mean(tf.concat([top, bottom, left, right], 1));
  });
  const value = (await mean.data())[0];
  mean.dispose();
  return value;
}

/** Decode, check and prepare an upload; errors are messages for the page. */
async function preparePicture(
  bytes: Uint8Array,
  name: string,
  classifier: Classifier,
): Promise<Picture> {
  const quoted = `“${name}”`;
  if (bytes.length === 0) throw new UserError(400, `${quoted} is empty (0 bytes).`);
  const format = cl.image.sniffImageFormat(bytes);
  if (!format) {
    const head = new TextDecoder().decode(bytes.subarray(0, 24)).replace(/[^\x20-\x7e]/g, "·");
    throw new UserError(
      415,
      `${quoted} is not a PNG or JPEG image (it starts with “${head}”). Open a .png or .jpg file.`,
    );
  }
  const size = imageDimensions(bytes);
  if (size && size.width * size.height > MAX_MEGAPIXELS * 1e6) {
    throw new UserError(
      413,
      `${quoted} is ${size.width}×${size.height} pixels ` +
        `(${Math.round(size.width * size.height / 1e6)} megapixels); the limit is ` +
        `${MAX_MEGAPIXELS} megapixels. Scale it down first.`,
    );
  }
  // A small PNG may still unpack to gigabytes: its data must fit the pixels its header declares.
  const rawSize = format === "png" ? pngRawSize(bytes) : undefined;
  if (rawSize !== undefined && pngInflatesBeyond(bytes, rawSize + PNG_SLACK_BYTES)) {
    throw new UserError(
      422,
      `${quoted} is not a usable PNG: its ${size?.width}×${size?.height} pixels need ` +
        `${formatMegabytes(rawSize)} of image data, but its compressed data unpacks to more ` +
        "(a decompression bomb, or a damaged file).",
    );
  }
  let decoded: cl.tf.Tensor3D;
  try {
    decoded = cl.image.decodeImage(bytes, { channels: 3 });
  } catch (error) {
    throw new UserError(422, `Cannot read ${quoted}: ${(error as Error).message}`);
  }
  try {
    const [h, w] = decoded.shape;
    if (h < 2 || w < 2) throw new UserError(422, `${quoted} is only ${w}×${h} pixels.`);
    const inverted = classifier.info.invertLightBackground && (await borderMean(decoded)) > 127;
    const { height, width, channels } = classifier;
    const [low, high] = classifier.info.inputRange;
    const scale = Math.min(1, DISPLAY_SIDE / Math.max(h, w));
    const [display, input] = tf.tidy(() => {
      const shown = cl.image.resize(decoded, [Math.round(h * scale), Math.round(w * scale)], {
        antialias: true,
      });
      // As the course's 8-8: resize to the model's size, ignoring the aspect ratio.
      let x = cl.image.resize(decoded, [height, width], { antialias: true });
      if (channels === 1) x = cl.image.toGrayscale(x);
      if (inverted) x = tf.sub(255, x);
      return [
        tf.cast(tf.clipByValue(tf.round(shown), 0, 255), "int32") as cl.tf.Tensor3D,
        tf.add(tf.mul(tf.clipByValue(x, 0, 255), (high - low) / 255), low) as cl.tf.Tensor3D,
      ];
    });
    try {
      const probabilities = tf.tidy(() => {
        const scores = classifier.model.predict(input.expandDims(0)) as cl.tf.Tensor;
        return (classifier.softmax ? scores : tf.softmax(scores)).squeeze([0]);
      });
      const values = Array.from(await probabilities.data());
      probabilities.dispose();
      return {
        name,
        original: { width: w, height: h },
        display: {
          data: await display.data() as Int32Array,
          shape: display.shape as [number, number, 3],
        },
        input: {
          data: await input.data() as Float32Array,
          shape: input.shape as [number, number, number],
        },
        inverted,
        probabilities: values,
      };
    } finally {
      tf.dispose([display, input]);
    }
  } finally {
    decoded.dispose();
  }
}

/** The Grad-CAM heatmap and overlay of a picture for one class. */
async function explain(picture: Picture, classifier: Classifier, classIndex: number) {
  const input = tf.tensor3d(picture.input.data, picture.input.shape);
  const display = tf.tensor3d(picture.display.data, picture.display.shape, "int32");
  try {
    const cam = await cl.explain.gradCam(classifier.model, input, { classIndex });
    try {
      const colour = cl.image.applyColormap(cam.heatmap, "jet");
      const overlay = cl.image.overlay(cam.heatmap, display, { alpha: 0.4 });
      try {
        const peak = cam.heatmap.max();
        const max = (await peak.data())[0];
        peak.dispose();
        return {
          classIndex,
          name: classifier.classNames[classIndex],
          probability: picture.probabilities[classIndex],
          // Keras's name (conv2d_1), as cl.summary shows it, rather than tfjs's internal one.
          layerName: cl.kerasName(cl.explain.findLayer(classifier.model, cam.layerName)),
          overlay: await jpegDataUrl(overlay),
          heatmap: await pngDataUrl(colour),
          empty: max === 0,
        };
      } finally {
        tf.dispose([colour, overlay]);
      }
    } finally {
      cam.heatmap.dispose();
    }
  } finally {
    tf.dispose([input, display]);
  }
}

/** The upload's file name, sent URI-encoded in `x-file-name` (headers are Latin-1 only). */
function fileNameOf(request: Request): string {
  const raw = request.headers.get("x-file-name");
  if (!raw) return "the file";
  try {
    return decodeURIComponent(raw).slice(0, 200);
  } catch {
    return raw.slice(0, 200);
  }
}

function topClasses(probabilities: number[], names: string[], k = 5) {
  return [...probabilities.keys()]
    .sort((a, b) => probabilities[b] - probabilities[a])
    .slice(0, k)
    .map((index) => ({ index, name: names[index], probability: probabilities[index] }));
}

/**
 * Start the classify app (`deno task app classify`). Resolves once it listens.
 *
 * @example
 * ```ts ignore
 * const app = await startClassifyApp({ port: 0, model: "my-model/" });
 * console.log(app.url);
 * await app.shutdown();
 * ```
 */
export function startClassifyApp(options: AppOptions = {}): Promise<RunningServer> {
  let classifier: Classifier | undefined;
  const recent = new Map<string, Picture>();
  let counter = 0;

  const route = async (request: Request, url: URL): Promise<Response | undefined> => {
    if (request.method !== "POST") return undefined;
    if (url.pathname === "/api/classify") {
      const name = fileNameOf(request);
      const bytes = await readBody(request, MAX_UPLOAD_BYTES, `“${name}”`);
      if (!classifier) {
        throw new UserError(409, "There is no model yet: train one first (button above).");
      }
      const current = classifier;
      const picture = await preparePicture(bytes, name, current);
      const id = `p${++counter}`;
      recent.set(id, picture);
      for (const old of recent.keys()) if (recent.size > RECENT) recent.delete(old);
      const top = topClasses(picture.probabilities, current.classNames);
      const input = tf.tidy(() => {
        const [low, high] = current.info.inputRange;
        const x = tf.tensor3d(picture.input.data, picture.input.shape);
        return tf.cast(tf.round(tf.mul(tf.sub(x, low), 255 / (high - low))), "int32");
      });
      const view = await pngDataUrl(input);
      input.dispose();
      return json({
        id,
        name,
        size: picture.original,
        input: {
          image: view,
          width: current.width,
          height: current.height,
          channels: current.channels,
          inverted: picture.inverted,
        },
        top,
        cam: await explain(picture, current, top[0].index),
      });
    }
    if (url.pathname === "/api/gradcam") {
      const text = new TextDecoder().decode(await readBody(request, 10_000, "The request", ""));
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch (error) {
        throw new UserError(400, `Send {id, classIndex} as JSON: ${(error as Error).message}`);
      }
      if (typeof body !== "object" || body === null || Array.isArray(body)) {
        throw new UserError(
          400,
          `Send {id, classIndex} as a JSON object, got ${text.slice(0, 40)}`,
        );
      }
      const { id, classIndex } = body as { id?: unknown; classIndex?: unknown };
      const picture = typeof id === "string" ? recent.get(id) : undefined;
      if (!picture || !classifier) {
        throw new UserError(410, "That picture is no longer here: open it again.");
      }
      if (
        typeof classIndex !== "number" || !Number.isInteger(classIndex) || classIndex < 0 ||
        classIndex >= classifier.classNames.length
      ) {
        throw new UserError(
          400,
          `classIndex must be a class number, got ${JSON.stringify(classIndex)}`,
        );
      }
      return json({ cam: await explain(picture, classifier, classIndex) });
    }
    return undefined;
  };

  return startApp({
    title: "Classify",
    page: "classify.html",
    port: 8081,
    modelNames: CLASSIFY_MODELS,
    saveAs: CLASSIFY_MODEL_NAME,
    lookedFor: "lesson 04's transfer-learned model, a cached MobileNet or the shipped backbone",
    trainTitle: "lesson 04's model (the shipped backbone + a new classifier)",
    trainEstimate: "well under a minute; it is saved where lesson 04 saves its model",
    train: (dir, context) => trainTransferModel(dir, { ...options.training, ...context }),
    serveModelFiles: false,
    useModel: async (info) => {
      const next = info ? await loadClassifier(info) : undefined;
      classifier?.model.dispose();
      classifier = next;
      recent.clear();
    },
    describe: () => ({
      maxUploadBytes: MAX_UPLOAD_BYTES,
      maxUploadText: formatMegabytes(MAX_UPLOAD_BYTES),
      input: classifier && {
        width: classifier.width,
        height: classifier.height,
        channels: classifier.channels,
        invertLightBackground: classifier.info.invertLightBackground,
      },
      classNames: classifier?.classNames,
    }),
    route,
    postPaths: ["/api/classify", "/api/gradcam"],
    close: () => {
      classifier?.model.dispose();
      classifier = undefined;
    },
  }, options);
}
