/**
 * The runtime inside a session's child process (its main module). It needs no permissions.
 *
 * It gives the child what Deno defines only under `deno jupyter` — a faithful `Deno.jupyter`
 * (`display`, `format`, `broadcast`, `html`, `md`, `svg`, `image`, `$display`) — and captures
 * everything cells write: `console.*` (Deno's own console class, so text is formatted exactly
 * as Deno formats it), `Deno.stdout`/`Deno.stderr` writes, displays, results and uncaught
 * errors. All of it goes to the host as framed JSON messages on the process's stdout, in order,
 * each tagged with the cell whose code produced it (tracked with `AsyncLocalStorage`, so timers
 * and promises keep their cell). Raw writes that bypass JavaScript (subprocesses, native code)
 * reach the host through the same pipes, between the frames.
 *
 * @module
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { setImmediate } from "node:timers";
import {
  $display,
  format,
  html,
  image,
  inspectValue,
  isMediaBundle,
  md,
  type MimeBundle,
  svg,
} from "./format.ts";
import {
  API_SYMBOL,
  type ChildMessage,
  type EvaluationOutcome,
  frame,
  type RuntimeApi,
} from "./protocol.ts";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const encoder = new TextEncoder();
const rawStdout = Deno.stdout.writeSync.bind(Deno.stdout);
const realSetTimeout = globalThis.setTimeout;
const realClearTimeout = globalThis.clearTimeout;

function writeAll(write: (bytes: Uint8Array) => number, bytes: Uint8Array): void {
  let at = 0;
  while (at < bytes.length) at += write(bytes.subarray(at));
}

const cellContext = new AsyncLocalStorage<number>();
let lastCell = 0;
let nonce = "";
let settleMs = 0;

function currentCell(): number {
  return cellContext.getStore() ?? lastCell;
}

function send(message: ChildMessage): void {
  let payload: string;
  try {
    payload = JSON.stringify(message);
  } catch (e) {
    payload = JSON.stringify(
      {
        t: "error",
        cell: "cell" in message ? message.cell : currentCell(),
        ename: "TypeError",
        evalue: `Cannot send a ${message.t} message to the notebook: ${(e as Error).message}`,
        traceback: [],
      } satisfies ChildMessage,
    );
  }
  outbox.push(payload);
  outboxBytes += payload.length;
  if (outboxBytes >= FLUSH_BYTES) writeOutbox();
  else if (outboxTimer === undefined && nonce) {
    outboxTimer = realSetTimeout(writeOutbox, OUTBOX_DELAY_MS);
  }
}

/**
 * Messages wait in an outbox. `finish` hands what is left to the host in its reply, so a
 * quick cell costs the host no pipe read; a long cell's messages are written to stdout as
 * frames every {@linkcode OUTBOX_DELAY_MS} ms (or at 64 KB), so its output streams.
 */
const outbox: string[] = [];
let outboxBytes = 0;
let outboxTimer: ReturnType<typeof setTimeout> | undefined;
/** Frames written to stdout so far: the host reads that many before a cell's reply. */
let framesWritten = 0;
const OUTBOX_DELAY_MS = 25;

function writeOutbox(): void {
  if (outboxTimer !== undefined) realClearTimeout(outboxTimer);
  outboxTimer = undefined;
  if (!nonce) return; // before `attach`: kept for the host's first reply
  for (const payload of outbox.splice(0)) {
    writeAll(rawStdout, encoder.encode(frame(nonce, payload)));
    framesWritten++;
  }
  outboxBytes = 0;
}

function takeOutbox(): { messages: string[]; framesWritten: number } {
  if (outboxTimer !== undefined) realClearTimeout(outboxTimer);
  outboxTimer = undefined;
  outboxBytes = 0;
  return { messages: outbox.splice(0), framesWritten };
}

// ---- output: batched per cell and stream, flushed in order with everything else ----------

const FLUSH_BYTES = 64 * 1024;
let buffered: { cell: number; name: "stdout" | "stderr"; text: string } | null = null;

function flush(): void {
  if (buffered && buffered.text) {
    send({ t: "stream", cell: buffered.cell, name: buffered.name, text: buffered.text });
  }
  buffered = null;
}

function emitStream(name: "stdout" | "stderr", text: string): void {
  if (!text) return;
  const cell = currentCell();
  if (buffered && (buffered.cell !== cell || buffered.name !== name)) flush();
  if (!buffered) {
    buffered = { cell, name, text: "" };
    queueMicrotask(flush);
  }
  buffered.text += text;
  if (buffered.text.length >= FLUSH_BYTES) flush();
}

function emit(message: ChildMessage): void {
  flush();
  send(message);
}

for (const [stream, name] of [[Deno.stdout, "stdout"], [Deno.stderr, "stderr"]] as const) {
  const decoder = new TextDecoder();
  const writeSync = (bytes: Uint8Array): number => {
    emitStream(name, decoder.decode(bytes, { stream: true }));
    return bytes.byteLength;
  };
  Object.defineProperty(stream, "writeSync", {
    value: writeSync,
    writable: true,
    configurable: true,
  });
  Object.defineProperty(stream, "write", {
    value: (bytes: Uint8Array) => Promise.resolve(writeSync(bytes)),
    writable: true,
    configurable: true,
  });
}

// deno-lint-ignore no-explicit-any
const DenoConsole = (Deno as any)[(Deno as any).internal].Console;
Object.defineProperty(globalThis, "console", {
  value: new DenoConsole((message: string, level: number) => {
    emitStream(level > 1 ? "stderr" : "stdout", message);
  }),
  writable: true,
  enumerable: false,
  configurable: true,
});

// ---- errors ---------------------------------------------------------------------------------

interface ErrorReport {
  ename: string;
  evalue: string;
  traceback: string[];
}

/** The error output fields Deno's kernel gives: name, message, and the stack split in lines. */
/** A property of a thrown value as text; a throwing getter or conversion gives `fallback`. */
function readText(read: () => unknown, fallback: string): string {
  try {
    return String(read() ?? "") || fallback;
  } catch {
    return fallback;
  }
}

function describeError(error: unknown): ErrorReport {
  if (error instanceof Error) {
    const stack = readText(() => error.stack, "");
    return {
      ename: readText(() => error.name, "Error"),
      evalue: readText(() => error.message, "(none)"),
      traceback: stack ? stack.split("\n") : [],
    };
  }
  let text: string;
  try {
    text = typeof error === "string" ? error : inspectValue(error);
  } catch {
    text = "(a value that could not be shown)";
  }
  return { ename: "Error", evalue: text || "(none)", traceback: [] };
}

/**
 * The cell whose value is not reported yet, and its uncaught errors meanwhile: they are sent
 * after the value, in the order Deno's kernel shows them.
 */
let awaitingValue = 0;
let deferredErrors: ChildMessage[] = [];

function reportUncaught(error: unknown, uncaught: "exception" | "rejection"): void {
  const message: ChildMessage = {
    t: "error",
    cell: currentCell(),
    ...describeError(error),
    uncaught,
  };
  if (message.cell === awaitingValue) deferredErrors.push(message);
  else emit(message);
}

addEventListener("error", (event) => {
  event.preventDefault();
  reportUncaught(event.error, "exception");
});
addEventListener("unhandledrejection", (event) => {
  event.preventDefault();
  reportUncaught(event.reason, "rejection");
});

/** Thrown by `Deno.exit` and `process.exit` to unwind the cell; the process exits next turn. */
class KernelExit extends Error {
  override name = "Exit";
}

/**
 * Exiting while the inspector dispatches a cell makes Deno panic ("RefCell already mutably
 * borrowed"), so exit is deferred by one turn of the event loop (outside any dispatch) and the
 * running code is unwound with an error meanwhile. The host is told first, so it reports the
 * exit as the cause of death.
 */
function deferredExit(realExit: (code?: number) => never, what: string) {
  return function exit(code?: number): never {
    const status = code ?? Deno.exitCode ?? 0;
    emit({ t: "exit", cell: currentCell(), code: status });
    writeOutbox();
    realSetTimeout(() => realExit(status), 0);
    throw new KernelExit(`${what}(${status}) was called`);
  };
}

const hostGone = Deno.exit;
Object.defineProperty(Deno, "exit", {
  value: deferredExit(Deno.exit, "Deno.exit"),
  writable: true,
  enumerable: true,
  configurable: true,
});
const nodeProcess = g.process as { exit(code?: number): never; reallyExit?: unknown } | undefined;
if (nodeProcess) {
  nodeProcess.exit = deferredExit(nodeProcess.exit.bind(nodeProcess), "process.exit");
}

// ---- timers: remember which cell's short timers are pending, to wait for them ------------

type TimerId = ReturnType<typeof realSetTimeout>;
const pendingTimers = new Map<TimerId, number>();
let timerSettled: (() => void) | null = null;

function timerDone(id: TimerId): void {
  if (pendingTimers.delete(id)) timerSettled?.();
}

/**
 * A timer callback whose uncaught error is reported as an error of the cell that started the
 * timer. (Left to Deno, the error event comes outside the cell's async context, so an error of
 * a timer that fires while a later cell runs would be blamed on that later cell.)
 */
function reportingErrors(callback: (...args: unknown[]) => void): (...args: unknown[]) => void {
  return function (this: unknown, ...args: unknown[]) {
    try {
      callback.apply(this, args);
    } catch (error) {
      reportUncaught(error, "exception");
    }
  };
}

const realSetInterval = globalThis.setInterval;
Object.defineProperty(globalThis, "setInterval", {
  value: function setInterval(
    callback: (...args: unknown[]) => void,
    delay?: number,
    ...args: unknown[]
  ): TimerId {
    if (typeof callback !== "function" || cellContext.getStore() === undefined) {
      return realSetInterval(callback, delay, ...args);
    }
    return realSetInterval(reportingErrors(callback), delay, ...args);
  },
  writable: true,
  enumerable: true,
  configurable: true,
});

Object.defineProperty(globalThis, "setTimeout", {
  value: function setTimeout(
    callback: (...args: unknown[]) => void,
    delay?: number,
    ...args: unknown[]
  ): TimerId {
    const cell = cellContext.getStore();
    if (typeof callback !== "function" || cell === undefined) {
      return realSetTimeout(callback, delay, ...args);
    }
    const guarded = reportingErrors(callback);
    if (!((delay ?? 0) <= settleMs)) return realSetTimeout(guarded, delay, ...args);
    const id: TimerId = realSetTimeout(
      (...a: unknown[]) => {
        try {
          guarded(...a);
        } finally {
          timerDone(id);
        }
      },
      delay,
      ...args,
    );
    pendingTimers.set(id, cell);
    return id;
  },
  writable: true,
  enumerable: true,
  configurable: true,
});
Object.defineProperty(globalThis, "clearTimeout", {
  value: function clearTimeout(id?: TimerId): void {
    realClearTimeout(id);
    if (id !== undefined) timerDone(id);
  },
  writable: true,
  enumerable: true,
  configurable: true,
});

function hasPendingTimers(cell: number): boolean {
  for (const c of pendingTimers.values()) if (c === cell) return true;
  return false;
}

async function settle(cell: number): Promise<void> {
  const deadline = performance.now() + settleMs;
  while (hasPendingTimers(cell)) {
    const left = deadline - performance.now();
    if (left <= 0) return;
    await new Promise<void>((resolve) => {
      const timer = realSetTimeout(() => done(), left);
      const done = () => {
        realClearTimeout(timer);
        timerSettled = null;
        resolve();
      };
      timerSettled = done;
    });
  }
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

// ---- Deno.jupyter -------------------------------------------------------------------------

async function formatInner(value: unknown, raw: boolean): Promise<MimeBundle> {
  return raw && isMediaBundle(value) ? value : await format(value);
}

function broadcast(
  msgType: string,
  content: Record<string, unknown>,
  options: { metadata?: Record<string, unknown> } = {},
): void {
  const cell = currentCell();
  const metadata = (content.metadata ?? options.metadata ?? {}) as Record<string, unknown>;
  const transient = (content.transient ?? {}) as { display_id?: string };
  switch (msgType) {
    case "display_data":
    case "update_display_data":
      emit({
        t: "display",
        cell,
        update: msgType === "update_display_data",
        data: (content.data ?? {}) as MimeBundle,
        metadata,
        ...(transient.display_id ? { displayId: String(transient.display_id) } : {}),
      });
      break;
    case "execute_result":
      emit({ t: "result", cell, data: (content.data ?? {}) as MimeBundle, metadata });
      break;
    case "stream":
      emitStream(content.name === "stderr" ? "stderr" : "stdout", String(content.text ?? ""));
      break;
    case "error":
      emit({
        t: "error",
        cell,
        ename: String(content.ename ?? "Error"),
        evalue: String(content.evalue ?? ""),
        traceback: Array.isArray(content.traceback) ? content.traceback.map(String) : [],
      });
      break;
    case "clear_output":
      emit({ t: "clear", cell, wait: content.wait === true });
      break;
      // Comm messages have no meaning in a headless run.
  }
}

async function display(
  value: unknown,
  options: { raw?: boolean; update?: boolean; display_id?: string } = {},
): Promise<void> {
  const data = await formatInner(value, options.raw ?? false);
  broadcast(options.update ? "update_display_data" : "display_data", {
    data,
    metadata: {},
    transient: options.display_id ? { display_id: options.display_id } : {},
  });
}

// deno-lint-ignore no-explicit-any
(Deno as any).jupyter = { broadcast, display, format, md, html, svg, image, $display };

// ---- the API the host calls -----------------------------------------------------------------

const api: RuntimeApi = {
  attach(options) {
    delete g[Symbol.for(API_SYMBOL)];
    nonce = options.nonce;
    settleMs = options.settleMs;
    Object.defineProperty(globalThis, options.enterName, {
      value: (cell: number) => {
        lastCell = cell;
        awaitingValue = cell;
        deferredErrors = [];
        cellContext.enterWith(cell);
      },
      enumerable: false,
      configurable: false,
      writable: false,
    });
  },
  finish(cell: number, outcome: EvaluationOutcome, value?: unknown) {
    // The inspector holds the promise it awaits weakly: keep it until a later turn.
    const promise = finishCell(cell, outcome, value);
    inFlight.add(promise);
    promise.finally(() => setImmediate(() => inFlight.delete(promise)));
    return promise;
  },
};

const inFlight = new Set<Promise<unknown>>();

async function finishCell(
  cell: number,
  outcome: EvaluationOutcome,
  value?: unknown,
): Promise<{ messages: string[]; framesWritten: number }> {
  lastCell = cell;
  if (outcome === "exception") {
    emit({ t: "error", cell, ...describeError(value) });
  } else if (outcome === "value" && value !== undefined) {
    try {
      emit({ t: "result", cell, data: await format(value), metadata: {} });
    } catch (e) {
      emit({ t: "error", cell, ...describeError(e) });
    }
  }
  awaitingValue = 0;
  for (const message of deferredErrors.splice(0)) emit(message);
  // One turn of the event loop lets unhandled rejections of the cell surface here.
  await nextTurn();
  if (outcome !== "exception" && settleMs > 0) {
    await cellContext.run(cell, () => settle(cell));
    await nextTurn();
  }
  flush();
  return takeOutbox();
}
// Keep the event loop alive between cells.
setInterval(() => {}, 1 << 30);
// Ctrl-C in a terminal signals the whole process group: the host interrupts the cell (and keeps
// the kernel when it can, or stops it); the kernel must not die of the same keypress.
try {
  Deno.addSignalListener("SIGINT", () => {});
} catch { /* no signals here (Windows) */ }
// The host holds this process's stdin open and never writes to it: end of input means the host
// is gone (killed before it could stop this kernel), so the kernel goes too instead of lingering.
(async () => {
  try {
    for await (const _ of Deno.stdin.readable) { /* nothing is ever sent */ }
  } catch { /* closed */ }
  hostGone(0);
})();

// Offer the API only once this module has finished and the event loop runs: the inspector may
// dispatch the host's messages inside JavaScript that is running (e.g. within a timer call),
// and cells must never run nested inside this module's start-up.
realSetTimeout(() => {
  Object.defineProperty(globalThis, Symbol.for(API_SYMBOL), { value: api, configurable: true });
}, 0);
