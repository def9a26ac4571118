/**
 * A kernel session: one Deno child process per notebook, driven by the host through the
 * child's V8 inspector.
 *
 * The child runs `deno run --no-prompt --inspect-wait=127.0.0.1:0` with exactly the
 * permissions the caller grants (none by default), a V8 heap cap and the notebook's folder as
 * its working directory, so `deno.json` and relative paths resolve as under `deno jupyter`.
 * Its main module is `runtime.ts`. Cells are transpiled here (see `transpile.ts`) and evaluated
 * with `Runtime.evaluate({ replMode: true })` — `let`/`const` re-declaration, top-level await
 * and the last statement's value, as in Deno's kernel.
 *
 * @module
 */
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { DisplayDataOutput, ErrorOutput, Output } from "../notebook.ts";
import { KernelStartError } from "../errors.ts";
import { callArgument, CdpConnection, type EvaluateResult, type RemoteObject } from "./cdp.ts";
import { CellOutputs, formatBytes, RICH_FACTOR } from "./outputs.ts";
import { findProjectRoot, permissionFlags, type SessionPermissions } from "./permissions.ts";
import {
  API_SYMBOL,
  type ChildMessage,
  type EvaluationOutcome,
  type FinishReply,
  frameStart,
} from "./protocol.ts";
import { CellSyntaxError, transpileCell, type TranspiledCell } from "./transpile.ts";
import { runningKernels } from "./kernels.ts";

/** Options of {@linkcode Session.start}. */
export interface SessionOptions {
  /** Working directory of the child (the notebook's folder). Default: the host's cwd. */
  cwd?: string;
  /** Folder that relative imports resolve against. Default: `cwd`. */
  importBase?: string;
  /** Permissions granted to the child. Default: none at all. */
  permissions?: SessionPermissions;
  /** V8 heap cap of the child in MB (`--max-old-space-size`). Default: V8's own. */
  memoryMb?: number;
  /** Extra environment variables for the child (`NO_COLOR=1` is always set). */
  env?: Record<string, string>;
  /** Cap on each cell's stream output in bytes; head and tail are kept. Default 1 MiB. */
  maxOutputBytes?: number;
  /**
   * How long a cell's short timers may keep it open, in ms: timers of at most this delay that
   * the cell started are waited for (up to this long) so their output stays in the cell.
   * Default 500.
   */
  settleMs?: number;
  /** Extra `deno run` flags for the child, e.g. `["--frozen"]`. */
  denoArgs?: string[];
  /** Seconds to wait for the child to start. Default 30. */
  startTimeout?: number;
}

/** How a cell ended. */
export type CellStatus = "ok" | "error" | "timeout" | "interrupted" | "dead";

/** Options of {@linkcode Session.execute}. */
export interface ExecuteCellOptions {
  /** Per-cell time limit in seconds. Default: none. */
  timeout?: number;
  /** Stops the cell when aborted (as an interrupt). */
  signal?: AbortSignal;
  /** How tracebacks name this cell, e.g. `"cell 4"` (shown as `<cell 4>:line:column`). */
  label?: string;
  /**
   * What running out of `timeout` means, in words. Default: "the cell did not finish within
   * N s" (a caller enforcing a whole-notebook limit says so instead).
   */
  timeoutMessage?: string;
}

/** A position in a cell, 1-based. */
export interface CellErrorPosition {
  line: number;
  column: number;
}

/** The outcome of one cell. */
export interface CellReply {
  status: CellStatus;
  /** The execution count shown as `In [n]` (every `execute` counts, as in Jupyter). */
  executionCount: number;
  /**
   * The cell's outputs. The array stays live: output that the cell's timers and promises
   * produce later is still added to it.
   */
  outputs: Output[];
  /** The cell's first error output, if any. */
  error?: ErrorOutput;
  /** Where in this cell the error happened, when the traceback says so. */
  errorPosition?: CellErrorPosition;
  /** For `timeout`, `interrupted` and `dead`: what happened, in words. */
  cause?: string;
  /** Whether the kernel process is gone (its state is lost; `restart()` to go on). */
  kernelLost: boolean;
  startedAt: Date;
  finishedAt: Date;
  /** How long the cell took, in ms (from the monotonic clock, sub-millisecond). */
  durationMs: number;
}

/** The session's kernel is not running (it died or was closed). */
export class SessionNotRunningError extends Error {
  override name = "SessionNotRunningError";
}

const RUNTIME = new URL("./runtime.ts", import.meta.url);
const RUNTIME_ARG = RUNTIME.protocol === "file:" ? fileURLToPath(RUNTIME) : RUNTIME.href;
/** The kernel's own modules in the child (runtime, formatting): their frames are noise to readers. */
const KERNEL_FILES = new URL("./", import.meta.url).href;
const BANNER =
  /(?:Debugger listening on ws:\/\/\S+|Visit chrome:\/\/inspect to connect to the debugger\.|Deno is waiting for debugger to connect\.|Debugger session started\.|Debugger session ended\.?|Waiting for the debugger to disconnect\.\.\.)\r?\n/g;
const ANONYMOUS_FRAME = /<anonymous>:(\d+):(\d+)/g;

interface CellRecord {
  seq: number;
  label: string;
  executionCount: number;
  sink: CellOutputs;
  errors: ErrorOutput[];
  finished: boolean;
  /** The evaluation returned objects the inspector holds (in object group `cell<seq>`). */
  holdsObjects: boolean;
  /**
   * What V8 told the host the cell's evaluation threw. The cell is an error whenever this is
   * set, even if the child failed to report it (an error with throwing getters breaks that).
   */
  threw?: { ename: string; evalue: string };
  /** Where V8 found a syntax error in the cell, as a traceback frame (V8 gives it no frame). */
  syntaxFrame?: string;
}

interface ScriptRange {
  seq: number;
  label: string;
  first: number;
  last: number;
  cell: TranspiledCell;
}

type Race<T> =
  | { kind: "done"; value: T }
  | { kind: "timeout" }
  | { kind: "abort" }
  | { kind: "dead" };

/** The `deno.json`/`deno.jsonc` that governs a folder: the nearest at or above it. */
export function configFileFor(dir: string): string | undefined {
  const root = findProjectRoot(dir);
  if (!root) return undefined;
  for (const name of ["deno.json", "deno.jsonc"]) {
    const path = join(root, name);
    try {
      if (Deno.statSync(path).isFile) return path;
    } catch { /* try the next name */ }
  }
  return undefined;
}

function randomHex(bytes: number): string {
  return [...crypto.getRandomValues(new Uint8Array(bytes))]
    .map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * A running kernel: one Deno child process.
 *
 * @example
 * ```ts ignore
 * import { Session } from "./session.ts";
 * const session = await Session.start({ cwd: "lessons", permissions: { read: ["."] } });
 * const reply = await session.execute("let a: number = 40; a + 2");
 * console.log(reply.outputs); // [{ output_type: "execute_result", data: { "text/plain": "42" }, … }]
 * await session.close();
 * ```
 */
export class Session {
  readonly #options:
    & Required<
      Pick<SessionOptions, "cwd" | "maxOutputBytes" | "settleMs" | "startTimeout">
    >
    & SessionOptions;
  #child?: Deno.ChildProcess;
  #cdp?: CdpConnection;
  #apiId = "";
  #enterName = "";
  #nonce = "";
  #alive = false;
  #deathCause?: string;
  #died!: Promise<void>;
  #exitRequest?: { code: number; cell: number };
  #killReason?: string;
  #stderrTail = "";
  #pipes: Promise<void>[] = [];
  #seq = 0;
  #executionCount = 0;
  #nextLine = 1;
  #ranges: ScriptRange[] = [];
  #records = new Map<number, CellRecord>();
  #current = 0;
  #running = false;
  #displays = new Map<string, DisplayDataOutput[]>();
  /** Message frames read from the child's stdout so far. */
  #framesRead = 0;
  #frameWaiters: (() => void)[] = [];
  #interrupt?: AbortController;
  #lateErrors: { seq: number; label: string; error: ErrorOutput }[] = [];

  private constructor(options: SessionOptions) {
    this.#options = {
      ...options,
      cwd: options.cwd ?? Deno.cwd(),
      maxOutputBytes: options.maxOutputBytes ?? 1024 * 1024,
      settleMs: options.settleMs ?? 500,
      startTimeout: options.startTimeout ?? 30,
    };
  }

  /** Start a kernel process and wait until it is ready for cells. */
  static async start(options: SessionOptions = {}): Promise<Session> {
    const session = new Session(options);
    await session.#launch();
    return session;
  }

  /** Whether the kernel process is running. */
  get alive(): boolean {
    return this.#alive;
  }

  /** The child's process id (while running). */
  get pid(): number | undefined {
    return this.#alive ? this.#child?.pid : undefined;
  }

  /** Why the kernel died, if it did. */
  get deathCause(): string | undefined {
    return this.#deathCause;
  }

  /**
   * Errors that earlier cells' timers or promises raised after those cells had finished
   * (taken: each is returned once).
   */
  takeLateErrors(): { label: string; error: ErrorOutput }[] {
    const errors = this.#lateErrors;
    this.#lateErrors = [];
    return errors;
  }

  async #launch(): Promise<void> {
    const o = this.#options;
    const args = ["run", "--no-prompt", "--inspect-wait=127.0.0.1:0"];
    if (o.memoryMb !== undefined) {
      if (!(o.memoryMb > 0)) {
        throw new RangeError(`Cannot start kernel: memoryMb must be positive, got ${o.memoryMb}`);
      }
      args.push(`--v8-flags=--max-old-space-size=${Math.round(o.memoryMb)}`);
    }
    // `deno run` looks for deno.json beside its main module (the runtime), but a notebook's
    // imports must resolve as under `deno jupyter` started in the notebook's folder.
    const config = configFileFor(o.cwd);
    // A caller that names the configuration itself (the grader: never the submission's) wins.
    const named = o.denoArgs?.some((a) => /^--(no-)?config(=|$)/.test(a));
    if (!named) args.push(config ? `--config=${config}` : "--no-config");
    args.push(...permissionFlags(o.permissions ?? {}), ...(o.denoArgs ?? []), RUNTIME_ARG);
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(Deno.execPath(), {
        args,
        cwd: o.cwd,
        env: { ...o.env, NO_COLOR: "1" },
        // Never written to: the child exits when it reads end of input, i.e. when this process
        // is gone without having stopped it (killed), so no kernel outlives its host.
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
    } catch (e) {
      throw new KernelStartError(`Cannot start kernel in ${o.cwd}: ${(e as Error).message}`);
    }
    this.#child = child;
    runningKernels.add(child);
    this.#alive = true;
    this.#deathCause = undefined;
    this.#exitRequest = undefined;
    this.#killReason = undefined;
    this.#stderrTail = "";
    this.#framesRead = 0;
    this.#nonce = randomHex(8);
    this.#enterName = `__convlabCell_${randomHex(6)}`;
    this.#died = child.status.then((status) => {
      runningKernels.delete(child);
      this.#alive = false;
      this.#deathCause = this.#describeDeath(status);
      this.#cdp?.close();
      for (const wake of this.#frameWaiters.splice(0)) wake();
    });

    let foundUrl: (url: string) => void;
    const urlFound = new Promise<string>((resolve) => foundUrl = resolve);
    let startupText = "";
    let searching = true;
    this.#pipes = [
      this.#readPipe(child.stdout, "stdout"),
      this.#readPipe(child.stderr, "stderr", (text) => {
        if (searching) {
          startupText += text;
          const m = startupText.match(/ws:\/\/[^\s]+/);
          if (m) foundUrl(m[0]);
        }
      }),
    ];

    const fail = async (why: string): Promise<never> => {
      await this.close();
      const detail = this.#stderrTail.trim() || startupText.trim();
      throw new KernelStartError(
        `Cannot start kernel in ${o.cwd}: ${why}${detail ? `\n${detail}` : ""}`,
      );
    };
    const limit = o.startTimeout * 1000;
    const url = await this.#race(urlFound, performance.now() + limit);
    if (url.kind !== "done") {
      return await fail(url.kind === "dead" ? this.#deathCause! : "timed out");
    }
    searching = false;

    try {
      const cdp = await CdpConnection.connect(url.value);
      this.#cdp = cdp;
      await cdp.send("Runtime.enable");
      await cdp.send("Runtime.runIfWaitingForDebugger");
      // The runtime leaves its API on a global symbol once its module has run.
      const deadline = performance.now() + limit;
      let api: EvaluateResult | undefined;
      while (true) {
        const found = await this.#race(
          cdp.send<EvaluateResult>("Runtime.evaluate", {
            expression: `globalThis[Symbol.for(${JSON.stringify(API_SYMBOL)})]`,
          }),
          deadline,
        );
        if (found.kind !== "done") {
          return await fail(found.kind === "dead" ? this.#deathCause! : "timed out");
        }
        if (found.value.result.objectId) {
          api = found.value;
          break;
        }
        await new Promise((r) => setTimeout(r, 2));
      }
      this.#apiId = api.result.objectId!;
      await this.#callApi("attach", [{
        value: { nonce: this.#nonce, enterName: this.#enterName, settleMs: o.settleMs },
      }]);
    } catch (e) {
      if (e instanceof KernelStartError) throw e;
      return await fail((e as Error).message);
    }
  }

  #describeDeath(status: Deno.CommandStatus): string {
    if (this.#killReason) return this.#killReason;
    if (this.#exitRequest) {
      return `Deno.exit(${this.#exitRequest.code}) was called`;
    }
    const tail = this.#stderrTail;
    const heap = this.#options.memoryMb;
    if (/out of memory|heap limit|Allocation failed|OOM/i.test(tail)) {
      return `it ran out of memory (V8 heap cap ${heap ? `${heap} MB` : "V8's default"})`;
    }
    if (/panicked/i.test(tail)) return "it crashed (Deno panicked)";
    if (status.signal) return `it was killed by ${status.signal}`;
    return `its process exited with code ${status.code}`;
  }

  async #readPipe(
    stream: ReadableStream<Uint8Array>,
    name: "stdout" | "stderr",
    onText?: (text: string) => void,
  ): Promise<void> {
    let held = "";
    // The rest of a frame that is still arriving, read after `held` (which starts the frame).
    let arriving: string[] = [];
    const decoder = new TextDecoder();
    try {
      for await (const bytes of stream) {
        const chunk = decoder.decode(bytes, { stream: true });
        if (!chunk) continue;
        onText?.(chunk);
        if (name === "stderr") {
          this.#stderrTail = (this.#stderrTail + chunk).slice(-8192);
          // A child that is exiting waits for its inspector client to go: let it go.
          if (this.#stderrTail.includes("Waiting for the debugger to disconnect")) {
            this.#cdp?.close();
          }
        }
        if (name === "stderr") this.#rawOutput("stderr", chunk);
        else if (held.startsWith(frameStart(this.#nonce)) && !chunk.includes("\n")) {
          // A large frame comes in many reads and ends at its first newline (JSON has none):
          // collect it and scan it once, not the whole frame again on every read.
          arriving.push(chunk);
        } else {
          held = this.#stdoutText(held + arriving.join("") + chunk);
          arriving = [];
        }
      }
    } catch { /* the pipe closed with the process */ }
    held += arriving.join("");
    if (held) this.#rawOutput(name, held);
  }

  /** Split stdout into message frames and raw output; return the unfinished rest. */
  #stdoutText(text: string): string {
    const start = frameStart(this.#nonce);
    let at = 0;
    while (at < text.length) {
      const open = text.indexOf(start, at);
      if (open < 0) {
        // Keep back a possible start of a frame cut by the read.
        const cut = text.lastIndexOf("\u001e");
        const keep = cut >= at && start.startsWith(text.slice(cut)) ? cut : text.length;
        this.#rawOutput("stdout", text.slice(at, keep));
        return text.slice(keep);
      }
      this.#rawOutput("stdout", text.slice(at, open));
      const close = text.indexOf("\n", open);
      if (close < 0) return text.slice(open);
      const json = text.slice(open + start.length, close);
      let message: ChildMessage | undefined;
      try {
        message = JSON.parse(json) as ChildMessage;
      } catch {
        this.#rawOutput("stdout", text.slice(open, close + 1));
      }
      if (message) {
        this.#framesRead++;
        this.#onMessage(message);
        for (const wake of this.#frameWaiters.splice(0)) wake();
      }
      at = close + 1;
    }
    return "";
  }

  #rawOutput(name: "stdout" | "stderr", text: string): void {
    if (name === "stderr") text = text.replace(BANNER, "");
    if (!text) return;
    const record = this.#records.get(this.#current);
    record?.sink.add({ output_type: "stream", name, text });
  }

  #record(cell: number): CellRecord | undefined {
    return this.#records.get(cell) ?? this.#records.get(this.#current);
  }

  #onMessage(message: ChildMessage): void {
    if (message.t === "exit") {
      this.#exitRequest = { code: message.code, cell: message.cell };
      // The child waits for its inspector client to go before it exits.
      this.#cdp?.close();
      return;
    }
    const record = this.#record(message.cell);
    if (!record) return;
    switch (message.t) {
      case "stream":
        record.sink.add({ output_type: "stream", name: message.name, text: message.text });
        break;
      case "display": {
        if (message.update) {
          // An update replaces a display; one too large for the rich budget is not applied.
          const limit = this.#options.maxOutputBytes * RICH_FACTOR;
          if (JSON.stringify(message.data).length > limit) break;
          for (const out of this.#displays.get(message.displayId ?? "") ?? []) {
            out.data = message.data;
            out.metadata = message.metadata;
          }
          break;
        }
        const out: DisplayDataOutput = {
          output_type: "display_data",
          data: message.data,
          metadata: message.metadata,
          ...(message.displayId ? { transient: { display_id: message.displayId } } : {}),
        };
        if (message.displayId) {
          const list = this.#displays.get(message.displayId) ?? [];
          list.push(out);
          this.#displays.set(message.displayId, list);
        }
        record.sink.add(out);
        break;
      }
      case "result":
        record.sink.add({
          output_type: "execute_result",
          data: message.data,
          metadata: message.metadata,
          execution_count: record.executionCount,
        });
        break;
      case "error": {
        const error: ErrorOutput = {
          output_type: "error",
          ename: message.ename,
          evalue: message.evalue,
          // Frames of the kernel's own modules (runtime, formatting) are noise to the reader.
          traceback: message.traceback.filter((line) => !line.includes(KERNEL_FILES))
            .map((line) => this.#mapFrames(line)),
        };
        if (
          error.ename === "SyntaxError" && record.syntaxFrame && record.errors.length === 0 &&
          !error.traceback.some((line) => line.includes(`<${record.label}>`))
        ) {
          error.traceback.push(record.syntaxFrame);
        }
        record.errors.push(error);
        record.sink.add(error);
        if (record.finished) this.#lateErrors.push({ seq: record.seq, label: record.label, error });
        break;
      }
      case "clear":
        record.sink.clear(message.wait);
        break;
    }
  }

  #locate(scriptLine: number, scriptColumn: number) {
    for (let i = this.#ranges.length - 1; i >= 0; i--) {
      const r = this.#ranges[i];
      if (scriptLine >= r.first && scriptLine <= r.last) {
        const p = r.cell.originalPosition(scriptLine - r.first + 1, scriptColumn);
        return { range: r, line: p.line, column: p.column };
      }
    }
    return undefined;
  }

  /** Rewrite `<anonymous>:L:C` stack frames into `<cell N>:line:column` of the cell's source. */
  #mapFrames(line: string): string {
    return line.replace(ANONYMOUS_FRAME, (all, l: string, c: string) => {
      const at = this.#locate(Number(l), Number(c));
      return at ? `<${at.range.label}>:${at.line}:${at.column}` : all;
    });
  }

  #errorPosition(record: CellRecord, error: ErrorOutput): CellErrorPosition | undefined {
    const tag = `<${record.label}>:`;
    for (const line of error.traceback) {
      const i = line.indexOf(tag);
      if (i < 0) continue;
      const m = line.slice(i + tag.length).match(/^(\d+):(\d+)/);
      if (m) return { line: Number(m[1]), column: Number(m[2]) };
    }
    return undefined;
  }

  async #race<T>(promise: Promise<T>, deadline: number, signal?: AbortSignal): Promise<Race<T>> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let onAbort: (() => void) | undefined;
    // A promise that loses the race may still reject later (an abandoned evaluation whose
    // promise V8 collects): that rejection is expected and must not go unhandled.
    let settled = false;
    const races: Promise<Race<T>>[] = [
      promise.then(
        (value) => ({ kind: "done" as const, value }),
        (error) => {
          if (settled) return { kind: "dead" as const };
          throw error;
        },
      ),
      this.#died.then(() => ({ kind: "dead" as const })),
    ];
    if (Number.isFinite(deadline)) {
      races.push(
        new Promise((resolve) => {
          timer = setTimeout(
            () => resolve({ kind: "timeout" }),
            Math.max(0, deadline - performance.now()),
          );
        }),
      );
    }
    if (signal) {
      races.push(
        new Promise((resolve) => {
          onAbort = () => resolve({ kind: "abort" });
          if (signal.aborted) onAbort();
          else signal.addEventListener("abort", onAbort, { once: true });
        }),
      );
    }
    try {
      return await Promise.race(races);
    } catch (e) {
      // The connection closing with the process reads as death.
      await Promise.race([this.#died, new Promise((r) => setTimeout(r, 2000))]);
      if (!this.#alive) return { kind: "dead" };
      throw e;
    } finally {
      settled = true;
      if (timer !== undefined) clearTimeout(timer);
      if (onAbort) signal?.removeEventListener("abort", onAbort);
    }
  }

  #callApi(
    method: "attach" | "finish",
    args: (RemoteObject | { value: unknown })[],
  ): Promise<EvaluateResult> {
    return this.#cdp!.send<EvaluateResult>("Runtime.callFunctionOn", {
      objectId: this.#apiId,
      functionDeclaration: `function (...args) { return this.${method}(...args); }`,
      arguments: args.map(callArgument),
      // `attach` is synchronous: awaiting its non-promise result lets V8 collect the wrapper
      // promise before it settles ("Promise was collected").
      awaitPromise: method === "finish",
      returnByValue: true,
    });
  }

  /**
   * Whether the child's event loop turns within `ms`: a timer must fire. (The inspector answers
   * even while JavaScript is busy — it runs messages at V8 interrupts — so a plain ping would
   * not tell a waiting cell from a busy one.)
   */
  async #eventLoopTurns(ms: number): Promise<boolean> {
    if (!this.#alive || !this.#cdp) return false;
    const probe = this.#cdp.send("Runtime.evaluate", {
      expression: "new Promise((resolve) => setTimeout(resolve, 0, true))",
      awaitPromise: true,
      returnByValue: true,
    }).then(() => true, () => false);
    const r = await this.#race(probe, performance.now() + ms);
    return r.kind === "done" && r.value;
  }

  /**
   * Stop the running cell after a timeout or an interrupt, keeping the kernel when possible:
   * a cell waiting on a promise, timer or I/O is abandoned; a cell whose JavaScript is busy is
   * terminated by V8 (`Runtime.terminateExecution`); if the kernel still does not answer, it
   * is killed. Returns the cause, in words.
   */
  async #stopCell(what: string): Promise<string> {
    if (await this.#eventLoopTurns(500)) {
      return `${what}; it was waiting (on a promise, timer or I/O), so the wait was abandoned ` +
        "and the kernel kept its state";
    }
    if (this.#alive && this.#cdp) {
      const terminated = this.#cdp.send("Runtime.terminateExecution").then(() => true, () => false);
      const r = await this.#race(terminated, performance.now() + 2000);
      if (r.kind === "done" && r.value && await this.#eventLoopTurns(1000)) {
        return `${what}; its running code was stopped (V8 terminated it) and the kernel kept ` +
          "its state";
      }
    }
    if (!this.#alive) {
      // E.g. Ctrl-C in a terminal, which signals the kernel as well as this process.
      return `${what}; the kernel stopped too (${this.#deathCause}) and its state is lost`;
    }
    const cause = `${what} and could not be stopped (it never yields, e.g. an infinite loop), ` +
      "so the kernel was stopped and its state is lost";
    await this.#kill(cause);
    return cause;
  }

  /** Wait until `count` frames have been read from stdout (or the child is gone, or `ms`). */
  #waitFrames(count: number, ms: number): Promise<void> {
    const deadline = performance.now() + ms;
    return new Promise((resolve) => {
      const check = () => {
        if (this.#framesRead >= count || !this.#alive || performance.now() > deadline) {
          clearTimeout(timer);
          resolve();
        } else this.#frameWaiters.push(check);
      };
      const timer = setTimeout(() => {
        this.#frameWaiters = this.#frameWaiters.filter((w) => w !== check);
        resolve();
      }, ms);
      check();
    });
  }

  /** Stop a running cell now (as when its timeout passes). */
  interrupt(): void {
    this.#interrupt?.abort();
  }

  /**
   * Run one cell and wait for it: its value, output, displays and errors, plus output of
   * timers it started that fire within the settle time.
   *
   * A timeout or interrupt abandons a cell that is waiting (a promise, a timer, I/O) and keeps
   * the session; a cell that never yields (a busy loop) cannot be stopped inside V8 from
   * outside, so the kernel is killed and the reply says so (`kernelLost`).
   *
   * @throws {SessionNotRunningError} when the kernel is not running.
   */
  async execute(code: string, options: ExecuteCellOptions = {}): Promise<CellReply> {
    if (!this.#alive || !this.#cdp) {
      throw new SessionNotRunningError(
        `Cannot execute: the kernel is not running${
          this.#deathCause ? ` (${this.#deathCause})` : ""
        }`,
      );
    }
    if (this.#running) {
      throw new Error("Cannot execute: another cell is still running in this session");
    }
    if (options.timeout !== undefined && !(options.timeout > 0)) {
      throw new RangeError(
        `Cannot execute: timeout must be positive seconds, got ${options.timeout}`,
      );
    }
    this.#running = true;
    const seq = ++this.#seq;
    const record: CellRecord = {
      seq,
      label: options.label ?? `In[${this.#executionCount + 1}]`,
      executionCount: ++this.#executionCount,
      sink: new CellOutputs(this.#options.maxOutputBytes),
      errors: [],
      finished: false,
      holdsObjects: false,
    };
    this.#records.set(seq, record);
    this.#current = seq;
    const startedAt = new Date();
    const startedAtMs = performance.now();
    const interrupt = new AbortController();
    this.#interrupt = interrupt;
    const signal = options.signal
      ? AbortSignal.any([options.signal, interrupt.signal])
      : interrupt.signal;
    const deadline = options.timeout ? performance.now() + options.timeout * 1000 : Infinity;
    let status: CellStatus = "ok";
    let cause: string | undefined;
    try {
      const outcome = await this.#run(code, record, deadline, signal);
      if (outcome.kind === "timeout" || outcome.kind === "abort") {
        status = outcome.kind === "timeout" ? "timeout" : "interrupted";
        const what = outcome.kind === "timeout"
          ? options.timeoutMessage ??
            `the cell did not finish within ${Math.round(options.timeout! * 100) / 100} s`
          : "the cell was interrupted";
        cause = await this.#stopCell(what);
        const ename = outcome.kind === "timeout" ? "CellTimeoutError" : "CellInterruptedError";
        record.sink.add({
          output_type: "error",
          ename,
          evalue: cause,
          traceback: [`${ename}: ${cause}`],
        });
      } else if (outcome.kind === "dead") {
        await this.#died;
        status = "dead";
        cause = this.#deathCause;
        record.sink.add({
          output_type: "error",
          ename: "DeadKernelError",
          evalue: `the kernel died: ${cause}`,
          traceback: [`DeadKernelError: the kernel died: ${cause}`],
        });
      } else if (outcome.value) {
        // Frames written before the reply come first, then the messages the reply carries.
        const reply = outcome.value as FinishReply;
        await this.#waitFrames(reply.framesWritten, 2000);
        for (const json of reply.messages) this.#onMessage(JSON.parse(json) as ChildMessage);
      }
      if (record.sink.droppedBytes > 0 || record.sink.droppedRichBytes > 0) {
        this.#outputLimitError(record);
      }
    } finally {
      record.finished = true;
      this.#running = false;
      this.#interrupt = undefined;
      // The inspector keeps the cell's value and exception objects alive until released.
      if (record.holdsObjects) {
        this.#cdp?.send("Runtime.releaseObjectGroup", { objectGroup: `cell${seq}` })
          .catch(() => {});
      }
    }
    if (status === "ok" && record.threw && record.errors.length === 0) {
      // The child did not report what V8 says the cell threw: the host reports it.
      const { ename, evalue } = record.threw;
      const thrown: ErrorOutput = {
        output_type: "error",
        ename,
        evalue,
        traceback: [`${ename}: ${evalue}`, ...(record.syntaxFrame ? [record.syntaxFrame] : [])],
      };
      record.errors.push(thrown);
      record.sink.add(thrown);
    }
    const error = record.errors[0];
    if (status === "ok" && error) status = "error";
    return {
      status,
      executionCount: record.executionCount,
      outputs: record.sink.outputs,
      ...(error ? { error } : {}),
      ...(error && this.#errorPosition(record, error)
        ? { errorPosition: this.#errorPosition(record, error) }
        : {}),
      ...(cause ? { cause } : {}),
      kernelLost: !this.#alive,
      startedAt,
      finishedAt: new Date(),
      durationMs: performance.now() - startedAtMs,
    };
  }

  /** A cell that wrote more than the cap fails, saying how much was kept and dropped. */
  #outputLimitError(record: CellRecord): void {
    const cap = this.#options.maxOutputBytes;
    const sink = record.sink;
    const parts: string[] = [];
    if (sink.droppedBytes > 0) {
      parts.push(
        `the cell wrote ${formatBytes(sink.totalBytes)} of output, more than the ` +
          `${formatBytes(cap)} limit; the first and last ${formatBytes(Math.floor(cap / 2))} ` +
          `are kept and ${formatBytes(sink.droppedBytes)} in between were dropped`,
      );
    }
    if (sink.droppedRichBytes > 0) {
      parts.push(
        `${formatBytes(sink.droppedRichBytes)} of displays and results past the ` +
          `${formatBytes(cap * RICH_FACTOR)} limit for rich output were dropped`,
      );
    }
    const evalue = parts.join("; ");
    const error: ErrorOutput = {
      output_type: "error",
      ename: "OutputLimitError",
      evalue,
      traceback: [`OutputLimitError: ${evalue}`],
    };
    record.errors.push(error);
    record.sink.add(error);
  }

  async #run(
    code: string,
    record: CellRecord,
    deadline: number,
    signal: AbortSignal,
  ): Promise<Race<unknown>> {
    let cell: TranspiledCell;
    try {
      cell = transpileCell(code, { importBase: this.#importBase() });
    } catch (e) {
      if (!(e instanceof CellSyntaxError)) throw e;
      const sourceLine = code.split("\n")[e.line - 1] ?? "";
      const error: ErrorOutput = {
        output_type: "error",
        ename: "SyntaxError",
        evalue: e.reason,
        traceback: [
          `SyntaxError: ${e.reason}`,
          `    at <${record.label}>:${e.line}:${e.column}`,
          `    ${sourceLine}`,
          `    ${" ".repeat(Math.max(0, e.column - 1))}^`,
        ],
      };
      record.errors.push(error);
      record.sink.add(error);
      return { kind: "done", value: undefined };
    }
    const base = this.#nextLine;
    this.#nextLine += cell.lineCount + 1;
    this.#ranges.push({
      seq: record.seq,
      label: record.label,
      first: base + 1,
      last: base + cell.lineCount,
      cell,
    });
    // `void await 0` makes every cell asynchronous: V8 holds the promise of a REPL evaluation
    // weakly, and a cell that completed synchronously leaves that promise settled but
    // unreferenced until its reaction runs, so a garbage collection in between fails the
    // evaluation with "Promise was collected". A pending promise stays referenced. Like
    // Deno's `void 0` prefix it leaves the completion value undefined.
    const prefix = `"use strict";${this.#enterName}(${record.seq});void await 0;`;
    const script = `${prefix}${"\n".repeat(base)}${cell.code}`;
    // REPL mode awaits the cell's completion itself (as in Deno's kernel).
    const evaluation = this.#cdp!.send<EvaluateResult>("Runtime.evaluate", {
      expression: script,
      replMode: true,
      objectGroup: `cell${record.seq}`,
    });
    const evaluated = await this.#race(evaluation, deadline, signal);
    if (evaluated.kind !== "done") return evaluated;
    const { result, exceptionDetails } = evaluated.value;
    record.holdsObjects = Boolean(result.objectId || exceptionDetails?.exception?.objectId);
    let outcome: EvaluationOutcome = "value";
    let value: RemoteObject | { value: unknown } = result;
    if (exceptionDetails) {
      outcome = "exception";
      const thrown = exceptionDetails.exception;
      const ename = thrown?.className ?? "Error";
      const text = String(thrown?.description ?? exceptionDetails.text ?? "").split("\n")[0];
      record.threw = {
        ename,
        evalue: text.startsWith(`${ename}: `) ? text.slice(ename.length + 2) : text,
      };
      value = exceptionDetails.exception ?? { value: exceptionDetails.text };
      this.#noteSyntaxPosition(exceptionDetails.exception, exceptionDetails, record);
    } else if (result.type === "undefined") {
      outcome = "none";
      value = { value: undefined };
    }
    const finished = await this.#race(
      this.#callApi("finish", [{ value: record.seq }, { value: outcome }, value]),
      deadline,
      signal,
    );
    if (finished.kind !== "done") return finished;
    return { kind: "done", value: finished.value.result.value as FinishReply };
  }

  /** V8's SyntaxErrors have no frame; remember where in the cell V8 found them. */
  #noteSyntaxPosition(
    exception: RemoteObject | undefined,
    details: { lineNumber: number; columnNumber: number },
    record: CellRecord,
  ): void {
    if (exception?.className !== "SyntaxError") return;
    const at = this.#locate(details.lineNumber + 1, details.columnNumber + 1);
    if (!at) return;
    // The child reports the error later, in its reply: the frame is added then.
    record.syntaxFrame = `    at <${record.label}>:${at.line}:${at.column}`;
  }

  #importBase(): string {
    const href = pathToFileURL(resolve(this.#options.importBase ?? this.#options.cwd)).href;
    return href.endsWith("/") ? href : href + "/";
  }

  async #kill(reason: string): Promise<void> {
    if (!this.#alive) return;
    this.#killReason = reason;
    try {
      this.#child?.kill("SIGKILL");
    } catch { /* already gone */ }
    await this.#died;
  }

  /** Stop the kernel process and start a fresh one (all state is lost). */
  async restart(): Promise<void> {
    await this.close();
    this.#seq = 0;
    this.#executionCount = 0;
    this.#nextLine = 1;
    this.#ranges = [];
    this.#records.clear();
    this.#displays.clear();
    this.#current = 0;
    await this.#launch();
  }

  /** Stop the kernel process and release everything. Safe to call twice. */
  async close(): Promise<void> {
    if (this.#child && this.#alive) {
      this.#killReason ??= "the session was closed";
      try {
        this.#child.kill("SIGKILL");
      } catch { /* already gone */ }
    }
    this.#cdp?.close();
    if (this.#child) {
      await this.#died;
      await this.#child.stdin.close().catch(() => {});
    }
    await Promise.all(this.#pipes);
    if (this.#cdp) await this.#cdp.closed;
    this.#cdp = undefined;
  }

  /** `await using session = await Session.start()` closes it at the end of the scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
