/**
 * The digits page's preprocessing (lessons/apps/static/preprocess.js, the same file the browser
 * runs): the course's plain resize and MNIST's crop / fit-20×20 / centre-of-mass procedure.
 */
import assert from "node:assert/strict";
import {
  centreOfMass,
  FIELD,
  inkBounds,
  isEmpty,
  mnistStyle,
  plainResize,
  resampleArea,
} from "../../lessons/apps/static/preprocess.js";

const BOX = 140;

/** A box with a filled rectangle of ink (an "l" or a blob), like a drawn stroke. */
function drawing(top: number, left: number, height: number, width: number): Float32Array {
  const ink = new Float32Array(BOX * BOX);
  for (let y = top; y < top + height; y++) {
    for (let x = left; x < left + width; x++) ink[y * BOX + x] = 1;
  }
  return ink;
}

const sum = (values: Float32Array) => values.reduce((a, b) => a + b, 0);

Deno.test("mnistStyle() fits the ink's box to 20 pixels and puts its centre of mass at the centre", () => {
  for (const [top, left, height, width] of [[10, 10, 60, 30], [70, 90, 40, 20], [5, 60, 120, 12]]) {
    const field = mnistStyle(drawing(top, left, height, width), BOX, BOX);
    const bounds = inkBounds(field, FIELD, FIELD)!;
    const tall = bounds.bottom - bounds.top + 1;
    assert.ok(tall >= 19 && tall <= 21, `the longer side becomes 20 pixels, got ${tall}`);
    const [cx, cy] = centreOfMass(field, FIELD, FIELD);
    assert.ok(Math.abs(cx - 14) <= 0.5 && Math.abs(cy - 14) <= 0.5, `centre ${cx}, ${cy}`);
  }
});

Deno.test("mnistStyle() gives the same input wherever and however big the digit is drawn", () => {
  const small = mnistStyle(drawing(10, 10, 40, 20), BOX, BOX);
  const big = mnistStyle(drawing(30, 70, 100, 50), BOX, BOX);
  const difference = small.reduce((d: number, v: number, i: number) => d + Math.abs(v - big[i]), 0);
  assert.ok(difference / sum(small) < 0.1, `relative difference ${difference / sum(small)}`);
  // The course's plain resize keeps the position and the size, so the two differ a lot.
  const plainSmall = plainResize(drawing(10, 10, 40, 20), BOX, BOX);
  const plainBig = plainResize(drawing(30, 70, 100, 50), BOX, BOX);
  const plainDifference = plainSmall.reduce(
    (d: number, v: number, i: number) => d + Math.abs(v - plainBig[i]),
    0,
  );
  assert.ok(plainDifference / sum(plainSmall) > 1);
});

Deno.test("plainResize() averages areas: the mean ink and the place of the ink are kept", () => {
  const ink = drawing(0, 0, 70, 70); // the top-left quarter
  const field = plainResize(ink, BOX, BOX);
  assert.equal(field.length, FIELD * FIELD);
  assert.ok(Math.abs(sum(field) / field.length - sum(ink) / ink.length) < 1e-5);
  assert.equal(field[0], 1);
  assert.equal(field[FIELD * FIELD - 1], 0);
  assert.equal(field[13 * FIELD + 13], 1, "pixel 13 covers source 65–70: all ink");
  assert.equal(field[14 * FIELD + 14], 0);
});

Deno.test("isEmpty() tells an empty box or a stray dot from a digit; mnistStyle() of nothing is black", () => {
  assert.equal(isEmpty(new Float32Array(BOX * BOX)), true);
  assert.equal(isEmpty(drawing(50, 50, 4, 4)), true, "a 4×4 speck");
  assert.equal(isEmpty(drawing(20, 60, 80, 10)), false, "a stroke");
  assert.equal(sum(mnistStyle(new Float32Array(BOX * BOX), BOX, BOX)), 0);
});

Deno.test("resampleArea() refuses a region outside the image", () => {
  assert.throws(
    () => resampleArea(new Float32Array(16), 4, 4, [0, 0, 5, 4], 2, 2),
    /region \[0,0,5,4\] is not inside 4×4/,
  );
});
