/** CellOutputs' byte accounting when the cap cuts multi-byte text, and flood-sized input. */
import assert from "node:assert/strict";
import { CellOutputs } from "../../kernel/session/outputs.ts";
import type { Output } from "../../kernel/notebook.ts";

const utf8 = (text: string) => new TextEncoder().encode(text).length;

function streamText(outputs: Output[]): string {
  return outputs.map((o) => o.output_type === "stream" ? o.text : "").join("");
}

Deno.test("CellOutputs counts UTF-8 bytes exactly when it cuts multi-byte text", () => {
  const cap = 1000;
  const sink = new CellOutputs(cap);
  let written = 0;
  // Two-, three- and four-byte characters, in chunks that do not line up with the cap.
  const pieces = ["é", "漢字", "🙂", "ascii ", "ß\n"];
  for (let i = 0; i < 2000; i++) {
    const text = pieces[i % pieces.length].repeat(1 + (i % 7));
    written += utf8(text);
    sink.add({ output_type: "stream", name: i % 11 === 0 ? "stderr" : "stdout", text });
  }
  assert.equal(sink.totalBytes, written);
  const text = streamText(sink.outputs);
  assert.ok(!text.includes("\uFFFD"), "no character was cut in half");
  const note = text.match(/\n\[… .* of output dropped: .*…\]\n/);
  assert.ok(note, "the gap is announced");
  const kept = utf8(text.replace(note[0], ""));
  assert.equal(kept + sink.droppedBytes, written, "kept + dropped = written");
  assert.ok(kept <= cap, `kept ${kept} bytes, cap ${cap}`);
});

Deno.test("CellOutputs keeps the head and tail of 50 MB written in 64 KB pieces", () => {
  const sink = new CellOutputs(1024 * 1024);
  const piece = "0123456789abcdef".repeat(4096); // 64 KiB
  for (let i = 0; i < 800; i++) {
    sink.add({
      output_type: "stream",
      name: "stdout",
      text: i === 799 ? piece + "THE END\n" : piece,
    });
  }
  const text = streamText(sink.outputs);
  assert.ok(text.startsWith("0123456789abcdef"));
  assert.ok(text.endsWith("THE END\n"));
  assert.equal(sink.totalBytes, 800 * 65536 + 8);
  assert.ok(text.length < 1024 * 1024 + 400, `kept ${text.length} characters`);
});

Deno.test("CellOutputs keeps the head of one piece larger than the cap, not only its tail", () => {
  const sink = new CellOutputs(1000);
  sink.add({
    output_type: "stream",
    name: "stdout",
    text: "head " + "x".repeat(10_000) + " tail\n",
  });
  const text = streamText(sink.outputs);
  assert.ok(text.startsWith("head xxx"), text.slice(0, 20));
  assert.ok(text.endsWith("xxx tail\n"));
  assert.equal(sink.droppedBytes, 10_011 - 1000);
  // and after a small first piece, a large second one still fills the head to half the cap
  const late = new CellOutputs(1000);
  late.add({ output_type: "stream", name: "stdout", text: "first\n" });
  late.add({ output_type: "stream", name: "stdout", text: "y".repeat(10_000) });
  const kept = streamText(late.outputs).split("\n[…")[0];
  assert.equal(kept.length, 500);
});
