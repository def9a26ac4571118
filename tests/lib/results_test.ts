import assert from "node:assert/strict";
import { results, RESULTS_MIME } from "../../lib/results.ts";
import { DISPLAY } from "../../lib/display.ts";
import * as cl from "../../lib/mod.ts";

Deno.test("results() displays a table and the same numbers as JSON for tools", () => {
  const shown = results({ "LeNet-5 test accuracy": 0.976543, epochs: 30, data: "embedded" }, {
    title: "Lesson 02",
  });
  const bundle = shown[DISPLAY]();
  assert.deepEqual(Object.keys(bundle).sort(), [RESULTS_MIME, "text/html", "text/plain"].sort());
  assert.deepEqual(bundle[RESULTS_MIME], {
    title: "Lesson 02",
    metrics: { "LeNet-5 test accuracy": 0.976543, epochs: 30, data: "embedded" },
  });
  const text = bundle["text/plain"] as string;
  assert.match(text, /^Lesson 02\n/);
  assert.match(text, /LeNet-5 test accuracy\s+0\.9765\n/, "4 significant digits shown");
  assert.match(bundle["text/html"] as string, /<caption[^>]*>Lesson 02<\/caption>/);
  assert.equal(String(shown), text);
});

Deno.test("results() keeps metric order, writes a diverged value as null, and is on cl", () => {
  const shown = cl.results({ b: 1, a: Number.NaN });
  assert.deepEqual(Object.keys(shown.toJSON().metrics), ["b", "a"]);
  assert.equal(shown.toJSON().metrics.a, null);
  assert.equal(shown.toJSON().title, "Results");
  assert.equal(cl.RESULTS_MIME, RESULTS_MIME);
});

Deno.test("results() rejects what is not a name → number-or-text object, saying which", () => {
  assert.throws(() => results([] as never), /metrics must be an object of name → value/);
  assert.throws(() => results({}), /there are no metrics/);
  const tensor = cl.tf.scalar(0.9);
  assert.throws(
    () => results({ accuracy: tensor as never }),
    /metric "accuracy" must be a number or a string, got object \(read a tensor/,
  );
  tensor.dispose();
  assert.throws(() => results({ x: 1 }, { digits: 0 }), /digits must be an integer 1–17, got 0/);
});
