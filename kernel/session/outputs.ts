/**
 * One cell's outputs as they arrive: consecutive stream text merged (as Jupyter saves it),
 * `clear_output` honoured, and stream text capped — the head and the tail are kept and a note
 * says how much was dropped in between, so a cell printing 20 MB cannot flood the notebook
 * or the host's memory. Rich outputs have their own, larger budget ({@linkcode RICH_FACTOR}
 * times the cap); past it they are dropped whole.
 *
 * @module
 */
import type { Output, StreamOutput } from "../notebook.ts";

const encoder = new TextEncoder();

const NON_ASCII = /[\u0080-\uffff]/;

function utf8Length(text: string): number {
  // Fast path for ASCII (a native scan); exact otherwise.
  return NON_ASCII.test(text) ? encoder.encode(text).length : text.length;
}

/** Rich outputs of a cell may take this many times the stream cap (16 MiB by default). */
export const RICH_FACTOR = 16;

/** Human-readable byte count: `512 B`, `1.5 KB`, `20.0 MB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** Append stream text to a list (merged into its last output when that is the same stream). */
function appendStream(list: Output[], name: "stdout" | "stderr", text: string): StreamOutput {
  const last = list[list.length - 1];
  if (last && last.output_type === "stream" && last.name === name) {
    last.text += text;
    return last;
  }
  const out: StreamOutput = { output_type: "stream", name, text };
  list.push(out);
  return out;
}

/** A cell's output list with a cap on stream text. `outputs` is live: it changes in place. */
export class CellOutputs {
  /** The outputs, in order (the same array for the cell's whole life). */
  readonly outputs: Output[] = [];
  #cap: number;
  #head: Output[] = [];
  #tail: Output[] = [];
  #headBytes = 0;
  #tailBytes = 0;
  #dropped = 0;
  #clearBeforeNext = false;
  #richBytes = 0;
  #richDropped = 0;
  /** UTF-8 size of each stream output in the tail, kept as text arrives (never re-measured). */
  #tailSizes = new WeakMap<Output, number>();

  /** @param maxStreamBytes cap on the cell's stream text (head and tail halves kept). */
  constructor(maxStreamBytes: number) {
    this.#cap = Math.max(0, maxStreamBytes);
  }

  /** Bytes of stream text dropped so far. */
  get droppedBytes(): number {
    return this.#dropped;
  }

  /** Bytes of rich outputs (displays, results) dropped for going past the rich budget. */
  get droppedRichBytes(): number {
    return this.#richDropped;
  }

  /** Bytes of stream text written so far (kept or dropped). */
  get totalBytes(): number {
    return this.#headBytes + this.#tailBytes + this.#dropped;
  }

  /** Add an output. */
  add(output: Output): void {
    if (this.#clearBeforeNext) this.clear(false);
    if (output.output_type === "display_data" || output.output_type === "execute_result") {
      // Rich outputs (images, figures) are not cut in pieces; past the rich budget they are
      // dropped whole and counted.
      const bytes = JSON.stringify(output.data).length;
      if (this.#richBytes + bytes > this.#cap * RICH_FACTOR) {
        this.#richDropped += bytes;
        return;
      }
      this.#richBytes += bytes;
    }
    if (output.output_type === "stream") this.#addStream(output.name, output.text);
    else if (this.#dropped > 0 || this.#tail.length > 0) this.#tail.push(output);
    else this.#head.push(output);
    this.#render();
  }

  /** `clear_output`: now, or (with `wait`) just before the next output arrives. */
  clear(wait: boolean): void {
    if (wait) {
      this.#clearBeforeNext = true;
      return;
    }
    this.#clearBeforeNext = false;
    this.#head = [];
    this.#tail = [];
    this.#headBytes =
      this.#tailBytes =
      this.#dropped =
      this.#richBytes =
        0;
    this.#render();
  }

  #addStream(name: "stdout" | "stderr", text: string): void {
    const headCap = Math.floor(this.#cap / 2);
    const bytes = utf8Length(text);
    if (this.#dropped === 0 && this.#tail.length === 0) {
      // The head fills first, even from one piece larger than the cap; what passes its half of
      // the cap moves to the tail.
      appendStream(this.#head, name, text);
      this.#headBytes += bytes;
      if (this.#headBytes > headCap) this.#splitHead(headCap);
    } else {
      const out = appendStream(this.#tail, name, text);
      this.#tailSizes.set(out, (this.#tailSizes.get(out) ?? 0) + bytes);
      this.#tailBytes += bytes;
    }
    this.#trimTail(this.#cap - headCap);
  }

  /** Move everything after the first `headCap` bytes of the head into the tail. */
  #splitHead(headCap: number): void {
    let used = 0;
    const head: Output[] = [];
    const moved: Output[] = [];
    for (const out of this.#head) {
      if (moved.length > 0) {
        moved.push(out);
        continue;
      }
      if (out.output_type !== "stream") {
        head.push(out);
        continue;
      }
      const bytes = utf8Length(out.text);
      if (used + bytes <= headCap) {
        head.push(out);
        used += bytes;
        continue;
      }
      const keep = sliceBytes(out.text, headCap - used);
      if (keep) head.push({ ...out, text: keep });
      used += utf8Length(keep);
      moved.push({ ...out, text: out.text.slice(keep.length) });
    }
    this.#head = head;
    this.#headBytes = used;
    this.#tail = [...moved, ...this.#tail];
    for (const o of moved) {
      if (o.output_type !== "stream") continue;
      const bytes = utf8Length(o.text);
      this.#tailSizes.set(o, bytes);
      this.#tailBytes += bytes;
    }
  }

  #trimTail(tailCap: number): void {
    while (this.#tailBytes > tailCap) {
      const index = this.#tail.findIndex((o) => o.output_type === "stream");
      if (index < 0) return;
      const out = this.#tail[index] as StreamOutput;
      const bytes = this.#tailSizes.get(out) ?? utf8Length(out.text);
      const excess = this.#tailBytes - tailCap;
      if (bytes <= excess) {
        this.#tail.splice(index, 1);
        this.#tailBytes -= bytes;
        this.#dropped += bytes;
      } else {
        let cut = sliceBytes(out.text, excess, true);
        // Start the kept tail at a line boundary when one is near (and text follows it).
        const newline = out.text.indexOf("\n", cut.length);
        const near = Math.min(4096, tailCap / 4);
        if (newline >= 0 && newline + 1 < out.text.length && newline - cut.length < near) {
          cut = out.text.slice(0, newline + 1);
        }
        out.text = out.text.slice(cut.length);
        const removed = utf8Length(cut);
        this.#tailSizes.set(out, bytes - removed);
        this.#tailBytes -= removed;
        this.#dropped += removed;
      }
    }
  }

  #render(): void {
    // Stream outputs are copied so that merging across the head/tail boundary never changes
    // the head; rich outputs stay the same objects (display updates change them in place).
    const copy = (o: Output): Output => o.output_type === "stream" ? { ...o } : o;
    const list: Output[] = this.#head.map(copy);
    if (this.#dropped > 0) {
      list.push({
        output_type: "stream",
        name: "stderr",
        text: `\n[… ${formatBytes(this.#dropped)} of output dropped: the cell wrote more than ` +
          `the ${formatBytes(this.#cap)} output limit; the first and last parts are kept …]\n`,
      });
    }
    for (const out of this.#tail) {
      if (out.output_type === "stream") appendStream(list, out.name, out.text);
      else list.push(copy(out));
    }
    this.outputs.splice(0, this.outputs.length, ...list);
  }
}

/** The longest prefix of `text` of at most `bytes` UTF-8 bytes (at least `bytes` if `atLeast`). */
function sliceBytes(text: string, bytes: number, atLeast = false): string {
  if (bytes <= 0) return "";
  const ascii = text.slice(0, bytes);
  if (!NON_ASCII.test(ascii)) return ascii; // one byte per character
  let used = 0;
  let i = 0;
  while (i < text.length) {
    const code = text.codePointAt(i)!;
    const size = code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
    if (used + size > bytes && !atLeast) break;
    used += size;
    i += code >= 0x10000 ? 2 : 1;
    if (atLeast && used >= bytes) break;
  }
  return text.slice(0, i);
}
