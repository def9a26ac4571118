/**
 * Multithreaded tfjs-backend-wasm in Deno.
 *
 * tfjs 4.22 ships a threaded SIMD build but never uses it here, for four reasons, each handled
 * during `install()` and undone by the returned `restore()` once the backend has started:
 * 1. tfjs sees `process.versions.node` and reports `WASM_HAS_MULTITHREAD_SUPPORT = false`
 *    (upstream never enabled Node threads): Convlab sets the flag itself.
 * 2. Emscripten starts its pthread workers from `blob:` URLs, which Deno's `node:worker_threads`
 *    rejects. Here the worker script and the module factory are kept as text: workers start
 *    with `{eval: true}` (no files, no permissions) and evaluate the factory from their `load`
 *    message.
 * 3. Deno's `node:worker_threads` can drop a message posted to a worker that has not attached
 *    its listener yet (seen: 1 in 4 starts hung, one worker never got `load`). Each worker
 *    announces itself once it listens; messages to it wait until then.
 * 4. The C++ side sizes XNNPACK's pool as logical cores ÷ 2 (it assumes SMT), 1 thread on a
 *    2-core machine: `os.cpus()` reports twice the wanted threads while the backend starts.
 * The workers are `unref()`ed so they never keep a finished program alive.
 *
 * Start-up cost: Emscripten always starts a pool of 8 workers, each a Deno runtime that also
 * evaluates the 70 kB factory (seconds on a busy 2-core machine). XNNPACK only ever runs
 * `threads − 1` of them (the calling thread is the other), and Emscripten hands out the pool
 * last-in first-out, so only the last `threads − 1` are real; the others are stand-ins that answer
 * `loaded` and fail loudly if ever given a thread to run.
 *
 * Introduced in lesson 02 (LeNet-5), where training speed first matters.
 *
 * @module
 */
import os from "node:os";
import workerThreads from "node:worker_threads";

const READY = "__convlab_pthread_ready__";
/** Workers Emscripten's `PThread.initMainThread` creates (tfjs-backend-wasm 4.22). */
const EMSCRIPTEN_POOL_SIZE = 8;
const WORKER_MARK = "convlab-pthread-worker:";
const FACTORY_PREFIX = "var WasmBackendModuleThreadedSimd";

/** Patch the texts tfjs hands Emscripten so they run as `{eval: true}` node workers in Deno. */
function patchWorkerSource(source: string): string {
  let src = source.replace(/\\\\n/g, "\\n"); // tfjs escaped newlines for Blob use
  const load =
    /if\(typeof e\.data\.urlOrBlob=="string"\)\{importScripts\(e\.data\.urlOrBlob\)\}else\{[^}]*\}/;
  if (!load.test(src)) throw new Error("tfjs-backend-wasm's pthread worker script changed");
  src = src
    .replace(load, "(0,eval)(String(e.data.urlOrBlob));")
    // Deno's worker global has getter-only location, performance and self.
    .replace("location:{href:__filename},", "")
    .replace(",performance:global.performance||{now:function(){return Date.now()}}", "")
    .replace("Object.assign(global,{self:global,", "Object.assign(global,{");
  return 'if(typeof self==="undefined"){Object.defineProperty(globalThis,"self",' +
    "{value:globalThis,writable:true,configurable:true})}\n" + src +
    `\nrequire("worker_threads").parentPort.postMessage(${JSON.stringify(READY)});\n`;
}

/** The factory with the module-scope names of tfjs's bundle it refers to. */
function factorySource(text: string): string {
  return "var require$$0=require('fs'),require$$1=require('path'),require$$3=require('perf_hooks')," +
    "require$$4=require('os'),commonjsGlobal=globalThis,__dirname='/',_scriptDir=undefined;\n" +
    text + "\nglobalThis.WasmBackendModuleThreadedSimd=WasmBackendModuleThreadedSimd;";
}

/**
 * Make the next start of the wasm backend use its threaded build with `threads` threads.
 * Returns `restore()`, to call once `tf.setBackend("wasm")` has settled.
 */
export function installWasmThreads(threads: number): () => void {
  const RealBlob = globalThis.Blob;
  const realCreateObjectURL = URL.createObjectURL;
  const RealNodeWorker = workerThreads.Worker;
  const realGlobalWorker = globalThis.Worker;
  const realCpus = os.cpus;
  const workerScripts = new Map<string, string>();
  const blobTexts = new WeakMap<object, string>();

  class TextBlob extends RealBlob {
    constructor(parts: BlobPart[] = [], options?: BlobPropertyBag) {
      const text = parts.every((p) => typeof p === "string") ? parts.join("") : null;
      if (text?.startsWith(FACTORY_PREFIX)) {
        // Emscripten posts this to every worker as `urlOrBlob`; a String object survives
        // postMessage and the patched worker evaluates it.
        return new String(factorySource(text)) as unknown as TextBlob;
      }
      super(parts, options);
      if (text !== null && options?.type?.includes("javascript")) blobTexts.set(this, text);
    }
  }

  /** A pool slot that is never used: says `loaded`, refuses to run a thread. */
  class StandInWorker {
    #listeners: ((message: unknown) => void)[] = [];
    onmessage?: unknown;
    onerror?: unknown;
    on(event: string, listener: (message: unknown) => void): this {
      if (event === "message") this.#listeners.push(listener);
      return this;
    }
    postMessage(message: { cmd?: string }): void {
      if (message?.cmd === "load") {
        queueMicrotask(() => this.#listeners.forEach((l) => l({ cmd: "loaded" })));
      } else if (message?.cmd === "run") {
        throw new Error(
          "Convlab's wasm threads: tfjs asked for more threads than it was started with " +
            "(set CONVLAB_THREADS=1 to run single-threaded)",
        );
      }
    }
    ref(): void {}
    unref(): void {}
    terminate(): Promise<number> {
      return Promise.resolve(0);
    }
  }
  let created = 0;

  class AnnouncedWorker extends RealNodeWorker {
    #ready = false;
    #queue: [unknown, unknown][] = [];

    constructor(filename: string | URL, options?: Record<string, unknown>) {
      const script = workerScripts.get(String(filename));
      const standIn = script !== undefined && created++ < EMSCRIPTEN_POOL_SIZE - (threads - 1);
      if (standIn) {
        return new StandInWorker() as unknown as AnnouncedWorker;
      }
      super(script ?? filename, script ? { ...options, eval: true } : options);
      if (!script) return;
      this.unref();
      super.on("message", (message: unknown) => {
        if (message !== READY) return;
        this.#ready = true;
        for (const [m, transfer] of this.#queue.splice(0)) {
          super.postMessage(m, transfer as never);
        }
      });
    }

    /** Emscripten refs a worker while it runs a thread (XNNPACK's pool: always): stay unref'd. */
    override ref(): void {}

    override postMessage(message: unknown, transfer?: unknown): void {
      if (this.#ready) super.postMessage(message, transfer as never);
      else this.#queue.push([message, transfer]);
    }

    // deno-lint-ignore no-explicit-any
    override on(event: string | symbol, listener: (...args: any[]) => void): this {
      if (event !== "message") return super.on(event, listener);
      return super.on(event, (message: unknown) => {
        if (message !== READY) listener(message);
      });
    }
  }

  globalThis.Blob = TextBlob as typeof Blob;
  URL.createObjectURL = (blob: Blob) => {
    const text = blobTexts.get(blob as object);
    if (text === undefined) return realCreateObjectURL(blob);
    const name = `${WORKER_MARK}${workerScripts.size}`;
    workerScripts.set(name, patchWorkerSource(text));
    return name;
  };
  (workerThreads as { Worker: unknown }).Worker = AnnouncedWorker;
  (os as { cpus: unknown }).cpus = () =>
    Array.from({ length: 2 * threads }, () => ({
      model: "",
      speed: 0,
      times: { user: 0, nice: 0, sys: 0, idle: 0, irq: 0 },
    }));

  return () => {
    globalThis.Blob = RealBlob;
    URL.createObjectURL = realCreateObjectURL;
    (workerThreads as { Worker: unknown }).Worker = RealNodeWorker;
    // Emscripten sets globalThis.Worker to node's Worker; lessons expect Deno's.
    globalThis.Worker = realGlobalWorker;
    (os as { cpus: unknown }).cpus = realCpus;
  };
}
