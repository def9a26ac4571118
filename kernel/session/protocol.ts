/**
 * The typed protocol between a session's host and its child process.
 *
 * Host → child: the host drives the child's V8 inspector over the DevTools WebSocket
 * (`Runtime.evaluate` in REPL mode for cells, `Runtime.callFunctionOn` on the runtime's
 * {@linkcode RuntimeApi} object for the rest). Child → host: JSON {@linkcode ChildMessage}s,
 * in the order the cell produced them — returned by `finish` at the end of a cell, or, for
 * output that comes while a cell runs or after it, written to stdout as frames (a pipe: unlike
 * the inspector's TCP socket it adds no Nagle delay), with raw native output between frames.
 * Every message names the cell
 * (`cell`, the host's evaluation sequence number) that started the code producing it, which
 * keeps the output of timers and promises with the cell that created them.
 *
 * @module
 */

/** A MIME bundle: MIME type → value. */
export type MimeBundle = Record<string, unknown>;

/**
 * Global symbol under which the runtime leaves its API for the host once its module has run
 * (the host polls for it; `attach` removes it).
 */
export const API_SYMBOL = "convlab.kernel.api";

/** Messages from the child's runtime to the host. `cell` 0 means "no cell". */
export type ChildMessage =
  | { t: "stream"; cell: number; name: "stdout" | "stderr"; text: string }
  | {
    t: "display";
    cell: number;
    update: boolean;
    data: MimeBundle;
    metadata: Record<string, unknown>;
    displayId?: string;
  }
  | { t: "result"; cell: number; data: MimeBundle; metadata: Record<string, unknown> }
  | {
    t: "error";
    cell: number;
    ename: string;
    evalue: string;
    traceback: string[];
    /** Set when the error escaped the cell: thrown in a callback or an unhandled rejection. */
    uncaught?: "exception" | "rejection";
  }
  | { t: "clear"; cell: number; wait: boolean }
  | { t: "exit"; cell: number; code: number };

/** How `finish` receives the outcome of a cell's evaluation. */
export type EvaluationOutcome = "value" | "exception" | "none";

/** What the runtime exposes to the host (called with `Runtime.callFunctionOn`). */
export interface RuntimeApi {
  /**
   * Attach: remember the frame nonce (frames start being written), and define the non-enumerable
   * global `enterName(cell)` that each cell's script calls first to set its cell context.
   */
  attach(options: { nonce: string; enterName: string; settleMs: number }): void;
  /**
   * After a cell's evaluation: report its value or exception, wait (at most `settleMs`) for
   * timers the cell started, and return the messages not yet written as frames, with the
   * number of frames written so far (the host reads those first, to keep the order).
   */
  finish(cell: number, outcome: EvaluationOutcome, value?: unknown): Promise<FinishReply>;
}

/** What `finish` returns: the cell's remaining messages (JSON) and the frame count so far. */
export interface FinishReply {
  messages: string[];
  framesWritten: number;
}

/** The start of a message frame on stdout; the frame is this, the JSON, and a newline. */
export function frameStart(nonce: string): string {
  return `\u001e${nonce}`;
}

/** One message frame (JSON text never contains a raw newline). */
export function frame(nonce: string, json: string): string {
  return `${frameStart(nonce)}${json}\n`;
}
