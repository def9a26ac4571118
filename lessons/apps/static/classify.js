// Photo classifier (course code 8-8 + Grad-CAM): upload a picture, show the model's view, the
// top-5 classes as bars, and a Grad-CAM overlay for the chosen class (computed by the app with
// Convlab's lib).

import { api, ModelPanel, say } from "./common.js";

const message = document.getElementById("message");
const results = document.getElementById("results");
const fileInput = document.getElementById("file");
const drop = document.getElementById("drop");
let state;
let current; // { id, top, … } of the picture on show

function percent(p) {
  return p >= 0.001 ? `${(100 * p).toFixed(1)}%` : "<0.1%";
}

async function classify(file) {
  if (!file) return;
  if (!state?.ready) {
    say(message, "error", "There is no model yet: train one first (button above).");
    return;
  }
  if (file.size > state.maxUploadBytes) {
    const mb = (file.size / 1e6).toFixed(file.size >= 1e7 ? 0 : 1);
    say(
      message,
      "error",
      `“${file.name}” is ${mb} MB; the limit is ${state.maxUploadText}. Choose a smaller image.`,
    );
    return;
  }
  say(message, "info", `Reading “${file.name}”…`);
  document.body.dataset.busy = "true";
  try {
    const answer = await api("/api/classify", {
      method: "POST",
      headers: {
        "content-type": file.type || "application/octet-stream",
        "x-file-name": encodeURIComponent(file.name).slice(0, 200),
      },
      body: file,
    });
    current = answer;
    render();
    say(message, "", "");
  } catch (error) {
    results.hidden = true;
    say(message, "error", error.message);
  } finally {
    document.body.dataset.busy = "false";
  }
}

function render() {
  results.hidden = false;
  const view = document.getElementById("input-view");
  view.src = current.input.image;
  const { width, height, channels, inverted } = current.input;
  document.getElementById("input-note").textContent = `${width}×${height} ${
    channels === 1 ? "grey" : "colour"
  }${
    inverted ? ", inverted (the model learned light things on black)" : ""
  }, resized from ${current.size.width}×${current.size.height} ignoring the aspect ratio, as the course does.`;
  const list = document.getElementById("top5");
  list.replaceChildren(
    ...current.top.map((entry) => {
      const item = document.createElement("li");
      item.dataset.class = String(entry.index);
      item.dataset.probability = entry.probability.toFixed(4);
      const button = document.createElement("button");
      button.type = "button";
      button.title = `Show where the model sees “${entry.name}”`;
      button.innerHTML = `<span class="fill" style="width:${
        (100 * entry.probability).toFixed(1)
      }%"></span>
        <span class="name"></span><span class="pct">${percent(entry.probability)}</span>`;
      button.querySelector(".name").textContent = entry.name;
      button.addEventListener("click", () => explain(entry.index));
      item.append(button);
      return item;
    }),
  );
  renderCam();
}

function renderCam() {
  const cam = current.cam;
  for (const item of document.querySelectorAll("#top5 li")) {
    item.classList.toggle("chosen", Number(item.dataset.class) === cam.classIndex);
  }
  document.getElementById("cam-title").textContent = `Grad-CAM: “${cam.name}” (${
    percent(cam.probability)
  })`;
  const overlay = document.getElementById("overlay");
  overlay.dataset.class = String(cam.classIndex);
  overlay.src = cam.overlay;
  document.getElementById("heatmap").src = cam.heatmap;
  document.getElementById("cam-note").textContent = cam.empty
    ? `No place in the picture speaks for “${cam.name}”: the heatmap is empty.`
    : `Red: where the feature maps of layer ${cam.layerName} speak most for “${cam.name}”. Jet colormap, 40% over the picture, as in the course.`;
}

async function explain(classIndex) {
  if (!current || current.cam.classIndex === classIndex) return;
  try {
    const answer = await api("/api/gradcam", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ id: current.id, classIndex }),
    });
    current.cam = answer.cam;
    renderCam();
  } catch (error) {
    say(message, "error", error.message);
  }
}

fileInput.addEventListener("change", () => {
  classify(fileInput.files[0]);
  fileInput.value = "";
});
drop.addEventListener("keydown", (event) => {
  if (event.key === "Enter" || event.key === " ") {
    event.preventDefault();
    fileInput.click();
  }
});
for (const name of ["dragenter", "dragover"]) {
  drop.addEventListener(name, (event) => {
    event.preventDefault();
    drop.classList.add("over");
  });
}
for (const name of ["dragleave", "drop"]) {
  drop.addEventListener(name, () => drop.classList.remove("over"));
}
drop.addEventListener("drop", (event) => {
  event.preventDefault();
  const files = event.dataTransfer?.files;
  if (!files?.length) {
    say(message, "error", "Drop an image file (PNG or JPEG).");
    return;
  }
  if (files.length > 1) say(message, "warn", "Several files dropped: showing the first.");
  classify(files[0]);
});
// A file dropped beside the box should not make the browser navigate away from the app.
for (const name of ["dragover", "drop"]) {
  globalThis.addEventListener(name, (event) => event.preventDefault());
}

const panel = new ModelPanel(document.getElementById("model-panel"), {
  what: "classifier",
  onReady: (ready) => {
    state = ready;
    document.body.dataset.model = "ready";
    document.getElementById("limits").textContent =
      `PNG or JPEG, up to ${ready.maxUploadText}; ${ready.classNames.length} classes: ${
        ready.classNames.slice(0, 6).join(", ")
      }${ready.classNames.length > 6 ? ", …" : ""}`;
  },
});
state = await panel.refresh();
if (state && !state.ready) document.body.dataset.model = "missing";
