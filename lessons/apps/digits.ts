/**
 * The postal-code recognizer (course code 8-4) as a local web app: five boxes to draw digits in;
 * the model — lesson 02's saved LeNet-5/CNN, or one this app trains when there is none — runs in
 * the browser with TensorFlow.js. The server only serves the page, tfjs's browser bundles, the
 * model's files, and trains when asked.
 *
 * @module
 */

import { join } from "node:path";
import { MODEL_NAMES, modelDir } from "../../lib/model_dirs.ts";
import { locateAppModel, type ModelInfo, ModelFolderError, readModelInfo } from "./_model.ts";
import {
  errorResponse,
  eventStream,
  fileResponse,
  json,
  type RunningServer,
  safeJoin,
  startServer,
  STATIC_DIR,
  staticResponse,
  UserError,
  vendorResponse,
} from "./_server.ts";
import { TrainingJob } from "./_training.ts";
import { DIGITS_MODEL_NAME, trainDigitModel, type TrainDigitsOptions } from "./digits_train.ts";

/** Options of {@linkcode startDigitsApp} (the CLI's flags). */
export interface DigitsAppOptions {
  /** Port (default 8080; 0 = any free port). */
  port?: number;
  /** Interface (default 127.0.0.1). */
  host?: string;
  /** A model folder to use instead of looking for lesson 02's. */
  model?: string;
  /** Training settings when the app trains a model. */
  training?: TrainDigitsOptions;
  /** Stop when this aborts (tests). */
  signal?: AbortSignal;
}

/** The models the digits app looks for, best first. */
export const DIGIT_MODELS = [MODEL_NAMES.cnnV2Mnist, MODEL_NAMES.lenet5Mnist];

function originText(info: ModelInfo): string {
  switch (info.origin) {
    case "--model":
      return `From --model ${info.dir}`;
    case "shipped":
      return `Shipped with Convlab: ${info.dir}`;
    default:
      return `Saved in ${info.dir}`;
  }
}

/**
 * Start the digits app. Resolves once it listens; `finished` resolves when it has stopped.
 *
 * @throws {ModelFolderError} when `--model` names a folder without a usable model.
 */
export async function startDigitsApp(options: DigitsAppOptions = {}): Promise<RunningServer> {
  let model: ModelInfo | undefined;
  let problem: string | undefined;
  try {
    model = await locateAppModel(options.model, DIGIT_MODELS);
  } catch (error) {
    if (options.model !== undefined || !(error instanceof ModelFolderError)) throw error;
    problem = `The saved model is unusable (${error.message}); training replaces it.`;
  }
  // Training writes to the cache, never over a folder given with --model.
  const saveTo = modelDir(DIGITS_MODEL_NAME);
  const searched = DIGIT_MODELS.map((name) => modelDir(name));
  const training = new TrainingJob();
  const trainTitle = "LeNet-5 on MNIST";

  const state = () => ({
    ready: model !== undefined && !training.running,
    model: model && {
      description: model.description,
      origin: model.origin,
      originText: originText(model),
      dir: model.dir,
      classNames: model.classNames ?? Array.from({ length: 10 }, (_, i) => String(i)),
      inputRange: model.inputRange,
      url: `/model/model.json?v=${model.version}`,
    },
    problem,
    searchedText: `Looked for lesson 02's saved model in ${searched.join(" and ")}.`,
    trainTitle,
    trainEstimate: "about a minute on a laptop; the model is saved for next time",
    training: training.status,
  });

  const handler = async (request: Request, url: URL): Promise<Response> => {
    const path = url.pathname;
    const method = request.method;
    if (method === "GET" || method === "HEAD") {
      if (path === "/" || path === "/index.html") {
        return fileResponse(join(STATIC_DIR, "digits.html"), request);
      }
      if (path.startsWith("/static/")) return staticResponse(path.slice(8), request);
      if (path.startsWith("/vendor/")) return vendorResponse(path.slice(8), request);
      if (path === "/api/model") return json(state());
      if (path === "/api/train/events") {
        return eventStream((send, close) => {
          send(training.status);
          if (!training.running) {
            close();
            return () => {};
          }
          return training.subscribe((status) => {
            send(status);
            if (status.state !== "running") close();
          });
        });
      }
      if (path.startsWith("/model/")) {
        const name = path.slice(7);
        if (!model || !model.files.has(name)) {
          return errorResponse(404, `The model has no file ${JSON.stringify(name)}`);
        }
        const file = safeJoin(model.dir, name);
        if (!file) return errorResponse(404, "Not found");
        return fileResponse(file, request);
      }
      if (path === "/favicon.ico") return new Response(null, { status: 204 });
      return errorResponse(404, `No page ${path} here; the app is at /`);
    }
    if (method === "POST" && path === "/api/train") {
      const started = training.start(
        trainTitle,
        (context) => trainDigitModel(saveTo, { ...options.training, ...context }),
        async () => {
          model = await readModelInfo(saveTo, "saved");
          problem = undefined;
        },
      );
      return json({ started, training: training.status }, { status: started ? 202 : 200 });
    }
    if (path === "/api/train" || path.startsWith("/api/")) {
      throw new UserError(405, `${method} is not allowed on ${path}`);
    }
    return errorResponse(405, `${method} is not allowed here`);
  };

  return await startServer(handler, {
    title: "Digits",
    port: options.port ?? 8080,
    host: options.host ?? "127.0.0.1",
    signal: options.signal,
    onShutdown: () => training.cancel(),
  });
}
