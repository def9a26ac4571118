/**
 * What both apps share on the server side: `Deno.serve` on 127.0.0.1 with a clear console line,
 * graceful shutdown on Ctrl-C, static files, tfjs's browser bundles from the installed npm
 * packages (no CDN), JSON errors that never carry a stack trace, request bodies read with a size
 * cap, and a Server-Sent-Events stream for training progress.
 *
 * @module
 */

import { dirname, extname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

/** Where the apps' HTML, CSS and JavaScript live. */
export const STATIC_DIR = fileURLToPath(new URL("./static/", import.meta.url));

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".wasm": "application/wasm",
  ".png": "image/png",
  ".svg": "image/svg+xml",
  ".bin": "application/octet-stream",
  ".ico": "image/x-icon",
};

/** The content type of a file, by its extension. */
export function contentType(path: string): string {
  return CONTENT_TYPES[extname(path).toLowerCase()] ?? "application/octet-stream";
}

/**
 * Headers on every response: no caching (models change when retrained), no sniffing, and
 * cross-origin isolation so that tfjs's WebAssembly backend may use threads in the browser.
 */
const COMMON_HEADERS: Record<string, string> = {
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-embedder-policy": "require-corp",
  "cross-origin-resource-policy": "same-origin",
};

function withHeaders(init: ResponseInit, extra: Record<string, string>): ResponseInit {
  return { ...init, headers: { ...COMMON_HEADERS, ...extra, ...(init.headers ?? {}) } };
}

/** A JSON response. */
export function json(body: unknown, init: ResponseInit = {}): Response {
  return new Response(
    JSON.stringify(body),
    withHeaders(init, { "content-type": "application/json; charset=utf-8" }),
  );
}

/** An error a user caused (bad upload, unknown page…): shown on the page as it is. */
export class UserError extends Error {
  /** HTTP status to answer with. */
  readonly status: number;
  /** Extra response headers (e.g. `allow` with a 405). */
  readonly headers: Record<string, string>;

  constructor(status: number, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = "UserError";
    this.status = status;
    this.headers = headers;
  }
}

/** Request header by which a page asks for user errors as `200 {error, status}`. */
export const SOFT_ERRORS_HEADER = "x-convlab-soft-errors";

/** A JSON error response `{error: message}`. */
export function errorResponse(status: number, message: string): Response {
  return json({ error: message }, { status });
}

/** Serve a file from disk, or 404. */
export async function fileResponse(path: string, request?: Request): Promise<Response> {
  try {
    const file = await Deno.open(path, { read: true });
    const { size, isFile } = await file.stat();
    if (!isFile) {
      // A folder opens on Linux but cannot be read: it would break the response half-way.
      file.close();
      return errorResponse(404, `Not found: ${path.split(sep).filter(Boolean).at(-1)}/`);
    }
    if (request?.method === "HEAD") {
      file.close();
      return new Response(null, withHeaders({}, { "content-type": contentType(path) }));
    }
    return new Response(
      file.readable,
      withHeaders({}, { "content-type": contentType(path), "content-length": String(size) }),
    );
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.IsADirectory) {
      return errorResponse(404, `Not found: ${path.split(sep).at(-1)}`);
    }
    throw error;
  }
}

/**
 * Resolve a URL path below a folder, refusing anything that would leave it (`..`, absolute
 * paths, encoded separators). Returns `undefined` for such paths.
 */
export function safeJoin(root: string, urlPath: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (decoded.includes("\0") || decoded.includes("\\")) return undefined;
  const path = normalize(join(root, decoded));
  const base = resolve(root);
  return path === base || path.startsWith(base + sep) ? path : undefined;
}

/** Serve `STATIC_DIR/<name>` for `/static/<name>`. */
export function staticResponse(urlPath: string, request: Request): Promise<Response> {
  const path = safeJoin(STATIC_DIR, urlPath);
  if (!path) return Promise.resolve(errorResponse(404, "Not found"));
  return fileResponse(path, request);
}

/**
 * The browser builds of tfjs, served from the installed npm packages (the same versions Deno
 * runs, pinned in deno.json): `/vendor/tf.min.js`, `/vendor/tf-backend-wasm.min.js`, its
 * `.wasm` binaries, and `/vendor/tf-backend-webgpu.min.js`.
 */
function vendorFiles(): Map<string, string> {
  const files = new Map<string, string>();
  const dist = (specifier: string) => {
    try {
      return dirname(fileURLToPath(import.meta.resolve(specifier)));
    } catch {
      return undefined; // not installed: the page says which backend it could not load
    }
  };
  const tfjs = dist("@tensorflow/tfjs");
  if (tfjs) files.set("tf.min.js", join(tfjs, "tf.min.js"));
  const wasm = dist("@tensorflow/tfjs-backend-wasm");
  if (wasm) {
    files.set("tf-backend-wasm.min.js", join(wasm, "tf-backend-wasm.min.js"));
    for (
      const binary of [
        "tfjs-backend-wasm.wasm",
        "tfjs-backend-wasm-simd.wasm",
        "tfjs-backend-wasm-threaded-simd.wasm",
      ]
    ) files.set(binary, join(wasm, binary));
  }
  const webgpu = dist("@tensorflow/tfjs-backend-webgpu");
  if (webgpu) files.set("tf-backend-webgpu.min.js", join(webgpu, "tf-backend-webgpu.min.js"));
  return files;
}

let vendor: Map<string, string> | undefined;

/** Serve `/vendor/<name>` from the npm packages. */
export function vendorResponse(name: string, request: Request): Promise<Response> {
  vendor ??= vendorFiles();
  const path = vendor.get(name);
  if (!path) return Promise.resolve(errorResponse(404, `Not found: /vendor/${name}`));
  return fileResponse(path, request);
}

/**
 * Read a request body into memory, refusing more than `maxBytes` with a 413 that says how big
 * the file was (from Content-Length when sent) and what the limit is.
 */
export async function readBody(
  request: Request,
  maxBytes: number,
  what = "The file",
  advice = "Choose a smaller image.",
): Promise<Uint8Array> {
  const declared = Number(request.headers.get("content-length") ?? NaN);
  const tooBig = (size: number, exact: boolean) =>
    new UserError(
      413,
      `${what} is ${exact ? "" : "over "}${formatMegabytes(size)}; the limit is ` +
        `${formatMegabytes(maxBytes)}.${advice ? ` ${advice}` : ""}`,
    );
  if (Number.isFinite(declared) && declared > maxBytes) {
    await request.body?.cancel().catch(() => {});
    throw tooBig(declared, true);
  }
  if (!request.body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = request.body.getReader();
  while (true) {
    let chunk: ReadableStreamReadResult<Uint8Array>;
    try {
      chunk = await reader.read();
    } catch {
      // The client went away (or broke the connection) mid-upload: nobody is left to answer.
      throw new UserError(400, `${what} broke off after ${formatMegabytes(total)}; send it again.`);
    }
    const { done, value } = chunk;
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooBig(total, false);
    }
    chunks.push(value);
  }
  const body = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}

/** "12.3 MB" (or "12 kB", "512 bytes") */
export function formatMegabytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} bytes`;
  if (bytes < 1_000_000) return `${Math.round(bytes / 1000)} kB`;
  const mb = bytes / 1_000_000;
  return `${mb >= 10 ? Math.round(mb) : mb.toFixed(1)} MB`;
}

/** A Server-Sent-Events response fed by `subscribe` until it calls `close` or the client leaves. */
export function eventStream(
  subscribe: (send: (event: unknown) => void, close: () => void) => () => void,
): Response {
  const encoder = new TextEncoder();
  let unsubscribe = () => {};
  let closed = false;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      const close = () => {
        if (closed) return;
        closed = true;
        unsubscribe();
        try {
          controller.close();
        } catch { /* the client already left */ }
      };
      const send = (event: unknown) => {
        if (closed) return;
        try {
          controller.enqueue(encoder.encode(`data: ${JSON.stringify(event)}\n\n`));
        } catch {
          close();
        }
      };
      unsubscribe = subscribe(send, close);
      if (closed) unsubscribe();
    },
    cancel() {
      closed = true;
      unsubscribe();
    },
  });
  return new Response(
    body,
    withHeaders({}, { "content-type": "text/event-stream; charset=utf-8" }),
  );
}

/** Options of {@linkcode startServer}. */
export interface ServerOptions {
  /** Which app, for the console line ("Digits", "Classify"). */
  title: string;
  /** Port (0 = any free port). */
  port: number;
  /** Interface to listen on (default 127.0.0.1: this machine only). */
  host: string;
  /** Called once when the server shuts down (stop training, free tensors). */
  onShutdown?: () => void | Promise<void>;
  /** Stop when this aborts. */
  signal?: AbortSignal;
  /** Stop gracefully on Ctrl-C and SIGTERM (the CLI; not for servers inside tests). */
  handleSignals?: boolean;
}

/** A running app server. */
export interface RunningServer {
  /** The page's URL, e.g. `http://127.0.0.1:8080/`. */
  url: string;
  /** Resolves when the server has stopped. */
  finished: Promise<void>;
  /** Stop accepting requests, let those in flight finish, then run `onShutdown`. */
  shutdown(): Promise<void>;
}

function formatHost(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}

/**
 * Serve an app. Handler errors become a JSON `{error}` (a {@linkcode UserError}'s message, or
 * "Internal error" with the details logged on the console), so a bad request never kills the
 * server or shows a stack trace on the page.
 */
export function startServer(
  handler: (request: Request, url: URL) => Promise<Response>,
  options: ServerOptions,
): Promise<RunningServer> {
  const { promise: listening, resolve: onListen } = Promise.withResolvers<string>();
  const safeHandler = async (request: Request): Promise<Response> => {
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      return errorResponse(400, "Bad request URL");
    }
    try {
      return await handler(request, url);
    } catch (error) {
      if (error instanceof UserError) {
        // The apps' pages ask for errors as 200 + {error, status}: browsers log every non-2xx
        // fetch as a console error, and a refused upload is an answer, not a failure.
        if (request.headers.get(SOFT_ERRORS_HEADER) === "1") {
          return json({ error: error.message, status: error.status });
        }
        return json({ error: error.message }, { status: error.status, headers: error.headers });
      }
      console.error(`${request.method} ${url.pathname} failed:`, error);
      return errorResponse(500, "Internal error in the app (details are on its console)");
    }
  };

  let server: Deno.HttpServer;
  try {
    server = Deno.serve({
      hostname: options.host,
      port: options.port,
      signal: options.signal,
      onListen: ({ port }) => {
        const host = options.host === "0.0.0.0" || options.host === "::"
          ? "127.0.0.1"
          : options.host;
        onListen(`http://${formatHost(host)}:${port}/`);
      },
      onError: (error) => {
        console.error("Request failed:", error);
        return errorResponse(500, "Internal error in the app (details are on its console)");
      },
    }, safeHandler);
  } catch (error) {
    if (error instanceof Deno.errors.AddrInUse) {
      throw new Error(
        `Cannot start the ${options.title} app: port ${options.port} on ${options.host} is ` +
          "already in use (another app running?). Pass --port <n>, or --port 0 for any free port.",
      );
    }
    if (error instanceof Deno.errors.AddrNotAvailable) {
      throw new Error(
        `Cannot start the ${options.title} app: ${options.host} is not an address of this ` +
          "machine (--host)",
      );
    }
    throw error;
  }

  let stopping: Promise<void> | undefined;
  const shutdown = () => {
    stopping ??= (async () => {
      await server.shutdown();
      await options.onShutdown?.();
    })();
    return stopping;
  };
  const signals: Deno.Signal[] = !options.handleSignals
    ? []
    : Deno.build.os === "windows"
    ? ["SIGINT"]
    : ["SIGINT", "SIGTERM"];
  const onSignal = () => {
    console.log(`\nStopping the ${options.title} app…`);
    // Requests in flight may finish; a client that never stops sending must not keep us up.
    const deadline = setTimeout(() => {
      console.log("Some connections did not close within 5 s; stopped anyway.");
      Deno.exit(0);
    }, 5000);
    Deno.unrefTimer(deadline);
    shutdown().then(() => console.log("Stopped."));
  };
  for (const signal of signals) Deno.addSignalListener(signal, onSignal);
  options.signal?.addEventListener("abort", () => void shutdown(), { once: true });

  const finished = server.finished.then(async () => {
    await shutdown();
    for (const signal of signals) Deno.removeSignalListener(signal, onSignal);
  });
  return listening.then((url) => ({ url, finished, shutdown }));
}
