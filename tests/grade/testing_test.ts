import assert from "node:assert/strict";
import {
  assertClose,
  assertEquals,
  AssertionError,
  assertShape,
  assertThrows,
  toArray,
} from "../../kernel/grade/testing.ts";

Deno.test("assertClose() passes within tolerance and names the first differing index otherwise", () => {
  assertClose([[1, 2], [3, 4]], [[1, 2 + 1e-9], [3, 4]]);
  assertClose(new Float32Array([0.1, 0.2]), [0.1, 0.2], { atol: 1e-6 });
  assert.throws(
    () => assertClose([[1, 2], [3, 5]], [[1, 2], [3, 4]], { message: "blur 3x3" }),
    (e) =>
      e instanceof AssertionError &&
      e.message ===
        "blur 3x3: got 5 at [1, 1], expected 4 (1 of 4 values differ; largest difference 1; atol 0.000001, rtol 0.000001)",
  );
});

Deno.test("assertClose() rejects shape mismatches, ragged lists, NaN and unread tensors", () => {
  assert.throws(() => assertClose([1, 2, 3], [[1, 2, 3]]), /shape \[3\], expected \[1, 3\]/);
  assert.throws(() => assertClose([[1], [2, 3]], [[1], [2]]), /ragged/);
  assert.throws(() => assertClose([NaN], [1]), /got NaN/);
  assertClose([NaN], [NaN]);
  const fakeTensor = { shape: [1], array: () => Promise.resolve([1]) };
  assert.throws(
    () => assertClose(fakeTensor, [1]),
    /is a tensor: read it first with `await toArray\(tensor\)`/,
  );
  assert.throws(() => assertClose(Promise.resolve([1]), [1]), /did you forget `await`/);
});

Deno.test("assertClose() cannot be passed by an object that converts itself to the expected value", () => {
  const sneaky = { valueOf: () => 4, toString: () => "4" };
  assert.throws(
    () => assertClose(sneaky, 4),
    /must be a number or an array of numbers, got an object/,
  );
  assert.throws(() => assertClose([sneaky], [4]), /actual\[0\] is an object, not a number/);
});

Deno.test("assertEquals() compares deeply and reports the path of the first difference", () => {
  assertEquals({ a: [1, { b: "x" }] }, { a: [1, { b: "x" }] });
  assert.throws(
    () => assertEquals({ a: [1, { b: "x" }] }, { a: [1, { b: "y" }] }),
    /value\.a\[1\]\.b: got "x", expected "y"/,
  );
  assert.throws(() => assertEquals([1, 2], [1, 2, 3]), /length 2, expected 3/);
});

Deno.test("assertShape() accepts null as any size; toArray() reads tensor-likes and typed arrays", async () => {
  assertShape([[1, 2, 3]], [null, 3]);
  assert.throws(() => assertShape([[1, 2, 3]], [2, 3]), /shape \[1, 3\], expected \[2, 3\]/);
  assertShape({ shape: [4, 5], array: () => Promise.resolve([]) }, [4, 5]);
  assert.deepEqual(await toArray(new Uint8Array([1, 2])), [1, 2]);
  assert.deepEqual(await toArray({ shape: [2], array: () => Promise.resolve([7, 8]) }), [7, 8]);
  await assert.rejects(() => toArray("x"), /toArray\(\) needs a tensor or an array, got "x"/);
});

Deno.test("assertThrows() returns the error and fails when nothing is thrown", async () => {
  const e = await assertThrows(() => JSON.parse("{"), SyntaxError);
  assert.ok(e instanceof SyntaxError);
  await assert.rejects(() => assertThrows(() => 1), /expected an error, but none was thrown/);
});
