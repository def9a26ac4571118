/**
 * The frame both apps are built on: the page, static files and tfjs bundles; the model (found,
 * checked and described at `/api/model`); training it when it is missing (`POST /api/train`,
 * progress at `/api/train/events`); and the app's own routes.
 *
 * @module
 */

import { join } from "node:path";
import { modelDir, shippedModelDir } from "../../lib/model_dirs.ts";
import { locateAppModel, ModelFolderError, type ModelInfo, readModelInfo } from "./_model.ts";
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
import { TrainingJob, type TrainingRecipe } from "./_training.ts";

/** Options every app takes (the CLI's flags). */
export interface AppOptions {
  /** Port (0 = any free port). */
  port?: number;
  /** Interface (default 127.0.0.1). */
  host?: string;
  /** A model folder to use instead of looking for the lessons' one. */
  model?: string;
  /** Epochs when the app trains its model (default: the app's choice). */
  training?: { epochs?: number; trainSize?: number; testSize?: number };
  /** Stop when this aborts (tests). */
  signal?: AbortSignal;
  /** The cache folder whose `models/` is searched and trained into (default Convlab's). */
  cacheRoot?: string;
  /**
   * Use the models shipped in `data/models/` when the cache has none (default true); false
   * starts as a fresh install without them would: with the offer to train.
   */
  shippedModels?: boolean;
  /** Stop gracefully on Ctrl-C and SIGTERM (the CLI does). */
  handleSignals?: boolean;
}

/** What makes an app. */
export interface AppSpec {
  /** "Digits", "Classify": for console lines. */
  title: string;
  /** The page in `static/`. */
  page: string;
  /** Default port. */
  port: number;
  /** Saved models to look for, best first. */
  modelNames: string[];
  /** Where a model trained by the app is saved (a name in the cache's `models/`). */
  saveAs: string;
  /** "lesson 02's saved model": what was looked for, for the page. */
  lookedFor: string;
  /** What training makes, e.g. "LeNet-5 on MNIST". */
  trainTitle: string;
  /** How long training takes, roughly. */
  trainEstimate: string;
  /** The training recipe: trains and saves to `dir`. */
  train: (dir: string, context: Parameters<TrainingRecipe>[0]) => Promise<string>;
  /** Serve the model's files at `/model/…` (for apps whose model runs in the browser). */
  serveModelFiles: boolean;
  /**
   * Called whenever the model changes (at start and after training), before the page hears of
   * it; may throw a {@linkcode ModelFolderError} to refuse the model.
   */
  useModel?: (model: ModelInfo | undefined) => Promise<void>;
  /** More fields for `/api/model`. */
  describe?: () => Record<string, unknown>;
  /** Paths the app's own routes answer to POST only (a GET there is a 405, not a 404). */
  postPaths?: string[];
  /** The app's own routes; `undefined` to fall through to the frame's. */
  route?: (request: Request, url: URL) => Promise<Response | undefined>;
  /** Free what the app holds. */
  close?: () => void;
}

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
 * Start an app. Resolves once it listens.
 *
 * @throws {ModelFolderError} when `--model` names a folder without a usable model.
 */
export async function startApp(spec: AppSpec, options: AppOptions): Promise<RunningServer> {
  let model: ModelInfo | undefined;
  let problem: string | undefined;
  try {
    model = await locateAppModel(options.model, spec.modelNames, {
      cacheRoot: options.cacheRoot,
      shipped: options.shippedModels ?? true,
    });
    await spec.useModel?.(model);
  } catch (error) {
    if (options.model !== undefined || !(error instanceof ModelFolderError)) throw error;
    problem = `The saved model cannot be used (${error.message}); training replaces it.`;
    model = undefined;
  }
  // Training writes to the cache, never over a folder given with --model.
  const root = { root: options.cacheRoot };
  const saveTo = modelDir(spec.saveAs, root);
  const shipped = options.shippedModels ?? true;
  const searched = [
    `${join(modelDir(spec.saveAs, root), "..")}/ (${spec.modelNames.join(", ")})`,
    ...(shipped ? [`${join(shippedModelDir(spec.saveAs), "..")}/`] : []),
  ];
  const training = new TrainingJob();

  const state = () => ({
    ready: model !== undefined,
    model: model && {
      description: model.description,
      origin: model.origin,
      originText: originText(model),
      dir: model.dir,
      classNames: model.classNames,
      inputRange: model.inputRange,
      url: spec.serveModelFiles ? `/model/model.json?v=${model.version}` : undefined,
    },
    problem,
    searchedText: `Looked for ${spec.lookedFor} in ${searched.join(" and ")}.`,
    trainTitle: spec.trainTitle,
    trainEstimate: spec.trainEstimate,
    training: training.status,
    ...spec.describe?.(),
  });

  const trainingEvents = () =>
    eventStream((send, close) => {
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

  const startTraining = () => {
    const started = training.start(
      spec.trainTitle,
      (context) => spec.train(saveTo, { ...context }),
      async () => {
        const trained = await readModelInfo(saveTo, "saved");
        await spec.useModel?.(trained);
        model = trained;
        problem = undefined;
      },
    );
    return json({ started, training: training.status }, { status: started ? 202 : 200 });
  };

  const posting = new Set(["/api/train", ...spec.postPaths ?? []]);
  const handler = async (request: Request, url: URL): Promise<Response> => {
    const own = await spec.route?.(request, url);
    if (own) return own;
    const { pathname: path } = url;
    const reading = request.method === "GET" || request.method === "HEAD";
    if (request.method !== "POST" && posting.has(path)) {
      throw new UserError(405, `${request.method} is not allowed on ${path}: use POST`, {
        allow: "POST",
      });
    }
    if (reading) {
      if (path === "/" || path === "/index.html") {
        return fileResponse(join(STATIC_DIR, spec.page), request);
      }
      if (path.startsWith("/static/")) return staticResponse(path.slice(8), request);
      if (path.startsWith("/vendor/")) return vendorResponse(path.slice(8), request);
      if (path === "/api/model") return json(state());
      if (path === "/api/train/events") return trainingEvents();
      if (path.startsWith("/model/") && spec.serveModelFiles) {
        const name = path.slice(7);
        const file = model?.files.has(name) ? safeJoin(model.dir, name) : undefined;
        if (!model || !file) {
          return errorResponse(404, `The model has no file ${JSON.stringify(name)}`);
        }
        return fileResponse(file, request);
      }
      if (path === "/favicon.ico") return new Response(null, { status: 204 });
      return errorResponse(404, `No page ${path} here; the app is at /`);
    }
    if (request.method === "POST" && path === "/api/train") return startTraining();
    throw new UserError(405, `${request.method} is not allowed on ${path}`, {
      allow: "GET, HEAD",
    });
  };

  return await startServer(handler, {
    title: spec.title,
    port: options.port ?? spec.port,
    host: options.host ?? "127.0.0.1",
    signal: options.signal,
    handleSignals: options.handleSignals,
    onShutdown: async () => {
      await training.cancel();
      spec.close?.();
    },
  });
}
