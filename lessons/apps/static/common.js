// Convlab apps: what both pages share — talking to the app's server, messages, the model panel
// with its training progress bar, and choosing a tfjs backend in the browser.

/** Fetch JSON from the app; errors carry the server's message (`{error}`), never a stack. */
export async function api(path, options = {}) {
  let response;
  try {
    // Soft errors: the app answers refusals as 200 {error}, which browsers do not log as failures.
    const headers = { ...options.headers, "x-convlab-soft-errors": "1" };
    response = await fetch(path, { ...options, headers });
  } catch {
    throw new Error("The app is not answering: is it still running? (restart it and reload)");
  }
  let body;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  if (!response.ok || body?.error) {
    throw new Error(body?.error ?? `The app answered ${response.status} ${response.statusText}`);
  }
  return body;
}

/** Show a message on the page: kind is "error", "info", "warn" or "" (clears it). */
export function say(element, kind, text) {
  element.className = `message ${kind}`;
  element.textContent = text ?? "";
  element.dataset.kind = kind;
}

const escapeHtml = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function formatSeconds(seconds) {
  if (!Number.isFinite(seconds)) return "";
  const s = Math.round(seconds);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
}

function formatMetrics(metrics) {
  const names = {
    loss: "loss",
    accuracy: "accuracy",
    val_loss: "val loss",
    val_accuracy: "val accuracy",
  };
  return Object.entries(metrics ?? {})
    .filter(([name]) => name in names)
    .map(([name, value]) =>
      `${names[name]} ${
        name.includes("accuracy") ? (100 * value).toFixed(1) + "%" : value.toFixed(3)
      }`
    )
    .join(" · ");
}

/**
 * The model panel: says which model runs and where it came from, or — when there is none — offers
 * to train one and shows the training's progress bar, live, from `/api/train/events`.
 * `onReady(model)` is called with the server's model description whenever a model is ready.
 */
export class ModelPanel {
  constructor(element, { onReady, what }) {
    this.element = element;
    this.onReady = onReady;
    this.what = what;
    this.events = undefined;
  }

  /** Ask the server for the model's state and show it. */
  async refresh() {
    let state;
    try {
      state = await api("/api/model");
    } catch (error) {
      this.#render({ error: error.message });
      return undefined;
    }
    this.#render(state);
    if (state.training?.state === "running") this.#follow();
    if (state.ready) await this.onReady(state);
    return state;
  }

  async train() {
    try {
      await api("/api/train", { method: "POST" });
    } catch (error) {
      this.#render({ error: error.message });
      return;
    }
    this.#follow();
  }

  #follow() {
    if (this.events) return;
    // The app ends the stream after the last state; closing it here instead would abort a
    // request in flight, so the page only stops EventSource from reconnecting.
    let finished = false;
    const events = new EventSource("/api/train/events");
    this.events = events;
    events.onmessage = (event) => {
      const training = JSON.parse(event.data);
      this.#renderTraining(training);
      if (training.state !== "running") {
        finished = true;
        if (training.state === "done") this.refresh();
      }
    };
    events.onerror = () => {
      events.close();
      this.events = undefined;
      if (finished) return;
      this.#renderTraining({
        state: "failed",
        message: "Lost contact with the app while it was training (was it stopped?)",
      });
    };
  }

  #render(state) {
    const el = this.element;
    el.dataset.state = state.ready ? "ready" : state.error ? "error" : "missing";
    if (state.error) {
      el.innerHTML = `<p class="status message error">${escapeHtml(state.error)}</p>`;
      return;
    }
    if (state.ready) {
      el.innerHTML = `
        <p class="status"><strong>Model:</strong> ${escapeHtml(state.model.description)}</p>
        <p class="origin">${escapeHtml(state.model.originText)}</p>
        <div class="training" hidden></div>
        <div class="actions"><button type="button" data-action="train"
          title="Trains and saves a new model, then uses it">Train a new one: ${
        escapeHtml(state.trainTitle)
      }</button></div>`;
    } else {
      el.innerHTML = `
        <p class="status"><strong>No ${escapeHtml(this.what)} yet.</strong>
          ${escapeHtml(state.problem ?? "")}</p>
        <p class="origin">${escapeHtml(state.searchedText ?? "")}</p>
        <div class="training" hidden></div>
        <div class="actions">
          <button type="button" class="primary" data-action="train">
            Train ${escapeHtml(state.trainTitle)} now</button>
          <span class="muted">${escapeHtml(state.trainEstimate ?? "")}</span>
        </div>`;
    }
    el.querySelector("[data-action=train]").addEventListener("click", () => this.train());
    if (state.training && state.training.state !== "idle") this.#renderTraining(state.training);
  }

  #renderTraining(training) {
    const box = this.element.querySelector(".training");
    if (!box) return;
    const button = this.element.querySelector("[data-action=train]");
    if (button) button.disabled = training.state === "running";
    box.hidden = false;
    box.dataset.state = training.state;
    if (training.state === "running") {
      box.innerHTML = `
        <p class="status">Training ${escapeHtml(training.title)}…</p>
        <progress max="1" value="${training.fraction ?? 0}"></progress>
        <div class="stage">${escapeHtml(training.stage ?? "")} · ${
        Math.round(100 * (training.fraction ?? 0))
      }% · ${formatSeconds(training.elapsed)} ${
        formatMetrics(training.metrics) ? "· " + escapeHtml(formatMetrics(training.metrics)) : ""
      }</div>`;
    } else if (training.state === "failed" || training.state === "cancelled") {
      box.innerHTML = `<p class="message error">${escapeHtml(training.message ?? "")}</p>`;
    } else if (training.state === "done") {
      box.innerHTML = `<p class="message info">Trained in ${formatSeconds(training.elapsed)}: ${
        escapeHtml(training.message ?? "")
      }</p>`;
    }
  }
}

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = src;
    script.onload = resolve;
    script.onerror = () => reject(new Error(`could not load ${src}`));
    document.head.append(script);
  });
}

function webglRenderer() {
  try {
    const gl = document.createElement("canvas").getContext("webgl2");
    if (!gl) return undefined;
    const info = gl.getExtension("WEBGL_debug_renderer_info");
    const renderer = info
      ? gl.getParameter(info.UNMASKED_RENDERER_WEBGL)
      : gl.getParameter(gl.RENDERER);
    gl.getExtension("WEBGL_lose_context")?.loseContext();
    return String(renderer);
  } catch {
    return undefined;
  }
}

const SOFTWARE_RENDERER = /swiftshader|llvmpipe|softpipe|software|basic render/i;

/**
 * Choose tfjs's backend the way Convlab does in Deno: WebGPU on a real GPU, else WebGL on a real
 * GPU, else WebAssembly (XNNPACK, SIMD, threads when the page is cross-origin isolated), else
 * plain JavaScript. Software GPUs are skipped: WebAssembly is faster on the same CPU.
 * All scripts come from this app (`/vendor/`, the installed npm packages), never a CDN.
 * Returns `{backend, reason}`.
 */
export async function chooseBackend() {
  const tf = globalThis.tf;
  const skipped = [];
  if (navigator.gpu) {
    try {
      const adapter = await navigator.gpu.requestAdapter();
      if (adapter && !(adapter.isFallbackAdapter ?? adapter.info?.isFallbackAdapter)) {
        await loadScript("/vendor/tf-backend-webgpu.min.js");
        if (await tf.setBackend("webgpu")) {
          return { backend: "webgpu", reason: "WebGPU on this GPU" };
        }
      } else skipped.push("no hardware WebGPU adapter");
    } catch (error) {
      skipped.push(`WebGPU failed (${error.message})`);
    }
  } else skipped.push("no WebGPU");
  const renderer = webglRenderer();
  if (renderer && !SOFTWARE_RENDERER.test(renderer)) {
    if (await tf.setBackend("webgl")) return { backend: "webgl", reason: `WebGL on ${renderer}` };
    skipped.push("WebGL failed");
  } else skipped.push(renderer ? `WebGL is software (${renderer})` : "no WebGL");
  try {
    await loadScript("/vendor/tf-backend-wasm.min.js");
    tf.wasm.setWasmPaths("/vendor/");
    if (await tf.setBackend("wasm")) {
      return { backend: "wasm", reason: `WebAssembly (${skipped.join("; ")})` };
    }
  } catch (error) {
    skipped.push(`WebAssembly failed (${error.message})`);
  }
  await tf.setBackend("cpu");
  return { backend: "cpu", reason: `plain JavaScript, slow (${skipped.join("; ")})` };
}
