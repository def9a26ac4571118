// Postal-code recognizer (course code 8-4) in the browser: five boxes to draw in, keys e/s/r,
// two preprocessings side by side, and a convnet that runs here with TensorFlow.js.

import { chooseBackend, ModelPanel, say } from "./common.js";
import { FIELD, isEmpty, mnistStyle, plainResize } from "./preprocess.js";

const BOXES = 5;
/** Brush width as a fraction of the box: the course draws radius-4 dots in 100-pixel boxes. */
const BRUSH = 1 / 12;

const tf = globalThis.tf;
const message = document.getElementById("message");
const codeLine = document.getElementById("code");
const inputsPanel = document.getElementById("inputs");
const footer = document.getElementById("footer");

let model;
let modelInfo;
let backend = { backend: "?", reason: "" };
/** The latest recognition, per box: { mnist: {…}, plain: {…} } or null when empty. */
let results = new Array(BOXES).fill(undefined);

function preprocessingChoice() {
  return document.querySelector("input[name=prep]:checked").value;
}

// ---- the five boxes -------------------------------------------------------------------------

const boxes = [];
for (let i = 0; i < BOXES; i++) {
  const wrapper = document.createElement("div");
  wrapper.className = "box";
  const canvas = document.createElement("canvas");
  canvas.setAttribute("aria-label", `Box ${i + 1}: draw a digit`);
  canvas.dataset.box = String(i);
  const result = document.createElement("div");
  result.className = "result";
  result.dataset.box = String(i);
  wrapper.append(canvas, result);
  document.getElementById("boxes").append(wrapper);
  boxes.push({ canvas, result, context: undefined });
}

function sizeCanvases() {
  const ratio = Math.max(1, Math.min(3, globalThis.devicePixelRatio || 1));
  for (const box of boxes) {
    const size = Math.round(box.canvas.clientWidth * ratio) || 140;
    if (box.canvas.width === size) continue;
    const old = box.canvas.width > 0 && box.context ? box.canvas : undefined;
    const copy = old ? document.createElement("canvas") : undefined;
    if (copy) {
      copy.width = old.width;
      copy.height = old.height;
      copy.getContext("2d").drawImage(old, 0, 0);
    }
    box.canvas.width = box.canvas.height = size;
    box.context = box.canvas.getContext("2d", { willReadFrequently: true });
    clearBox(box);
    if (copy) box.context.drawImage(copy, 0, 0, size, size);
  }
}

function clearBox(box) {
  box.context.fillStyle = "#fff";
  box.context.fillRect(0, 0, box.canvas.width, box.canvas.height);
}

function erase() {
  for (const box of boxes) clearBox(box);
  results = new Array(BOXES).fill(undefined);
  renderResults();
  renderInputs();
  say(message, "", "");
}

function attachDrawing(box, index) {
  let last;
  const point = (event) => {
    const rect = box.canvas.getBoundingClientRect();
    return [
      (event.clientX - rect.left) * (box.canvas.width / rect.width),
      (event.clientY - rect.top) * (box.canvas.height / rect.height),
    ];
  };
  const stroke = (from, to) => {
    const ctx = box.context;
    ctx.strokeStyle = "#000";
    ctx.fillStyle = "#000";
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.lineWidth = box.canvas.width * BRUSH;
    ctx.beginPath();
    if (from[0] === to[0] && from[1] === to[1]) {
      ctx.arc(to[0], to[1], ctx.lineWidth / 2, 0, 2 * Math.PI);
      ctx.fill();
    } else {
      ctx.moveTo(from[0], from[1]);
      ctx.lineTo(to[0], to[1]);
      ctx.stroke();
    }
  };
  box.canvas.addEventListener("pointerdown", (event) => {
    if (event.button !== 0) return;
    event.preventDefault();
    box.canvas.setPointerCapture(event.pointerId);
    last = point(event);
    stroke(last, last);
    if (results[index] !== undefined) {
      results[index] = undefined; // the old answer no longer matches the drawing
      renderResults();
    }
  });
  box.canvas.addEventListener("pointermove", (event) => {
    if (!last) return;
    const events = event.getCoalescedEvents?.() ?? [event];
    for (const e of events.length ? events : [event]) {
      const next = point(e);
      stroke(last, next);
      last = next;
    }
  });
  const end = () => {
    last = undefined;
  };
  box.canvas.addEventListener("pointerup", end);
  box.canvas.addEventListener("pointercancel", end);
}

/** A box's drawing as ink in [0, 1] (1 = black), at the canvas's resolution. */
function inkOf(box) {
  const { width, height } = box.canvas;
  const rgba = box.context.getImageData(0, 0, width, height).data;
  const ink = new Float32Array(width * height);
  for (let i = 0; i < ink.length; i++) {
    const grey = 0.299 * rgba[4 * i] + 0.587 * rgba[4 * i + 1] + 0.114 * rgba[4 * i + 2];
    ink[i] = 1 - grey / 255;
  }
  return { ink, width, height };
}

/** Both 28×28 inputs of each box, or null for empty boxes. */
function grabNumerals() {
  return boxes.map((box) => {
    const { ink, width, height } = inkOf(box);
    if (isEmpty(ink)) return null;
    return { mnist: mnistStyle(ink, width, height), plain: plainResize(ink, width, height) };
  });
}

// ---- recognition ----------------------------------------------------------------------------

function topTwo(probabilities) {
  const order = [...probabilities.keys()].sort((a, b) => probabilities[b] - probabilities[a]);
  const names = modelInfo?.model.classNames;
  const name = (k) => names?.[k] ?? String(k);
  return {
    digit: name(order[0]),
    probability: probabilities[order[0]],
    runnerUp: name(order[1]),
    runnerUpProbability: probabilities[order[1]],
  };
}

async function recognise() {
  if (!model) {
    say(message, "error", "The model is not ready yet: train it (above) or wait for it to load.");
    return;
  }
  const numerals = grabNumerals();
  const drawn = numerals.map((n, i) => (n ? i : -1)).filter((i) => i >= 0);
  if (drawn.length === 0) {
    results = new Array(BOXES).fill(null);
    renderResults();
    renderInputs();
    say(message, "error", "Nothing to recognise: draw a digit in at least one box first.");
    return;
  }
  const [low, high] = modelInfo.model.inputRange;
  const batch = new Float32Array(drawn.length * 2 * FIELD * FIELD);
  drawn.forEach((box, k) => {
    batch.set(numerals[box].mnist, 2 * k * FIELD * FIELD);
    batch.set(numerals[box].plain, (2 * k + 1) * FIELD * FIELD);
  });
  const output = tf.tidy(() => {
    const x = tf.tensor4d(batch, [drawn.length * 2, FIELD, FIELD, 1]).mul(high - low).add(low);
    return model.predict(x);
  });
  const probabilities = await output.array();
  output.dispose();
  results = numerals.map((n, box) => {
    if (!n) return null;
    const k = drawn.indexOf(box);
    return {
      ...n,
      predictions: { mnist: topTwo(probabilities[2 * k]), plain: topTwo(probabilities[2 * k + 1]) },
    };
  });
  renderResults();
  renderInputs();
  const empties = BOXES - drawn.length;
  say(
    message,
    empties ? "warn" : "",
    empties ? `${empties} box${empties > 1 ? "es are" : " is"} empty (shown as “?”).` : "",
  );
}

function renderResults() {
  const choice = preprocessingChoice();
  const code = [];
  boxes.forEach((box, i) => {
    const result = results[i];
    const el = box.result;
    el.classList.toggle("empty", result === null);
    delete el.dataset.digit;
    delete el.dataset.probability;
    if (result === undefined) {
      el.textContent = "";
      code.push("·");
    } else if (result === null) {
      el.textContent = "empty";
      code.push("?");
    } else {
      const p = result.predictions[choice];
      el.dataset.digit = p.digit;
      el.dataset.probability = p.probability.toFixed(4);
      el.innerHTML = `<div class="digit">${p.digit}</div>
        <div class="prob">${(100 * p.probability).toFixed(1)}%</div>
        <div class="prob">then ${p.runnerUp} (${(100 * p.runnerUpProbability).toFixed(1)}%)</div>`;
      code.push(p.digit);
    }
  });
  const any = results.some((r) => r);
  codeLine.dataset.code = any ? code.join("") : "";
  codeLine.textContent = any
    ? `Postal code: ${code.join("")}  (${choice === "mnist" ? "MNIST-style" : "plain resize"})`
    : "";
}

function drawField(canvas, values) {
  canvas.width = canvas.height = FIELD;
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(FIELD, FIELD);
  for (let i = 0; i < FIELD * FIELD; i++) {
    const v = Math.round(255 * Math.min(1, Math.max(0, values[i])));
    image.data.set([v, v, v, 255], 4 * i);
  }
  ctx.putImageData(image, 0, 0);
}

function renderInputs() {
  if (inputsPanel.hidden) return;
  const grid = document.getElementById("input-grid");
  grid.replaceChildren();
  const numerals = grabNumerals();
  const choice = preprocessingChoice();
  numerals.forEach((numeral, i) => {
    const cell = document.createElement("div");
    cell.className = "input-cell";
    cell.dataset.box = String(i);
    for (const kind of ["mnist", "plain"]) {
      const figure = document.createElement("div");
      figure.className = kind === choice ? "chosen" : "";
      const canvas = document.createElement("canvas");
      canvas.className = "pixelated";
      canvas.dataset.kind = kind;
      drawField(canvas, numeral ? numeral[kind] : new Float32Array(FIELD * FIELD));
      const label = document.createElement("div");
      label.textContent = kind === "mnist" ? "MNIST-style" : "plain";
      const pred = document.createElement("div");
      pred.className = "pred";
      const result = results[i];
      if (!numeral) pred.textContent = "empty";
      else if (result?.predictions) {
        const p = result.predictions[kind];
        pred.textContent = `${p.digit} (${(100 * p.probability).toFixed(0)}%)`;
      }
      figure.append(canvas, label, pred);
      cell.append(figure);
    }
    grid.append(cell);
  });
}

function toggleInputs(force) {
  inputsPanel.hidden = force === undefined ? !inputsPanel.hidden : !force;
  document.getElementById("show").setAttribute("aria-pressed", String(!inputsPanel.hidden));
  renderInputs();
}

// ---- model ----------------------------------------------------------------------------------

async function loadModel(state) {
  modelInfo = state;
  document.body.dataset.model = "loading";
  try {
    const loaded = await tf.loadLayersModel(state.model.url);
    const shape = loaded.inputs[0].shape;
    if (shape.length !== 4 || shape[1] !== FIELD || shape[2] !== FIELD || shape[3] !== 1) {
      loaded.dispose();
      throw new Error(
        `this model takes inputs of shape [${shape.slice(1)}], not 28×28×1 digits; pass a digit ` +
          "model with --model",
      );
    }
    tf.tidy(() => loaded.predict(tf.zeros([1, FIELD, FIELD, 1]))); // warm up
    model?.dispose();
    model = loaded;
    document.body.dataset.model = "ready";
    say(message, "", "");
  } catch (error) {
    document.body.dataset.model = "error";
    say(message, "error", `Cannot load the model: ${error.message}`);
  }
  footer.textContent =
    `Convlab · TensorFlow.js ${tf.version.tfjs} on ${backend.backend}: ${backend.reason}`;
}

// ---- wiring ---------------------------------------------------------------------------------

boxes.forEach(attachDrawing);
sizeCanvases();
globalThis.addEventListener("resize", sizeCanvases);
document.getElementById("erase").addEventListener("click", erase);
document.getElementById("show").addEventListener("click", () => toggleInputs());
document.getElementById("recognise").addEventListener("click", recognise);
for (const radio of document.querySelectorAll("input[name=prep]")) {
  radio.addEventListener("change", () => {
    renderResults();
    renderInputs();
  });
}
document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
  if (event.target instanceof HTMLInputElement && event.target.type === "text") return;
  const key = event.key.toLowerCase();
  if (key === "e") erase();
  else if (key === "s") toggleInputs();
  else if (key === "r") recognise();
  else return;
  event.preventDefault();
});

try {
  backend = await chooseBackend();
  document.body.dataset.backend = backend.backend;
  footer.textContent =
    `Convlab · TensorFlow.js ${tf.version.tfjs} on ${backend.backend}: ${backend.reason}`;
} catch (error) {
  say(message, "error", `TensorFlow.js could not start in this browser: ${error.message}`);
}
const panel = new ModelPanel(document.getElementById("model-panel"), {
  what: "digit model",
  onReady: loadModel,
});
await panel.refresh();
