/**
 * Backend choice: automatic (in fresh processes, so the import-time choice is what is tested),
 * the CONVLAB_BACKEND override, useBackend(), backendInfo() and WebGPU initialisation on the
 * software adapter Deno offers here (no GPU needed).
 */
import assert from "node:assert/strict";
import * as cl from "../../lib/mod.ts";
import {
  describeAdapter,
  deviceDescriptor,
  gpuDeviceNodes,
  probeWebGpu,
} from "../../lib/backend/webgpu.ts";
import { mimeBundle } from "../../lib/display.ts";
import { skipUnless } from "../_skip.ts";

const REPORT = new URL("../fixtures/lib/backend_report.ts", import.meta.url).pathname;
const ROOT = new URL("../../", import.meta.url).pathname;

interface Report {
  backend: string;
  chosenBy: string;
  reason: string;
  simd: boolean | null;
  threads: number | null;
  considered: { backend: string; outcome: string }[];
  warnings: string[];
  firstOpBackend: string;
  values: number[];
  mesaThreads: string[] | null;
}

/** Import Convlab in a fresh Deno with the given permissions and environment. */
async function freshImport(
  permissions: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; report?: Report; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", ...permissions, REPORT],
    cwd: ROOT,
    env: { NO_COLOR: "1", ...env },
    clearEnv: false,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout).trim();
  const stderr = new TextDecoder().decode(out.stderr);
  const last = stdout.split("\n").at(-1) ?? "";
  return { code: out.code, report: last.startsWith("{") ? JSON.parse(last) : undefined, stderr };
}

const probe = await probeWebGpu();
const hardwareGpu = probe.ok && !probe.description.isSoftware;

Deno.test("importing convlab chooses a backend before the first op, wasm without a hardware GPU", async () => {
  const { code, report, stderr } = await freshImport(["--allow-all"], { CONVLAB_BACKEND: "" });
  assert.equal(code, 0, stderr);
  assert.ok(report);
  assert.equal(report.chosenBy, "auto");
  assert.equal(report.backend, hardwareGpu ? "webgpu" : "wasm");
  assert.equal(report.firstOpBackend, report.backend);
  assert.deepEqual(report.values, [1, 4, 9]);
  if (!hardwareGpu) {
    assert.equal(report.simd, true, "this machine's Deno has WebAssembly SIMD");
    assert.ok(report.threads !== null && report.threads >= 1);
    const webgpu = report.considered.find((c) => c.backend === "webgpu");
    assert.ok(webgpu && webgpu.outcome !== "chosen", "says why WebGPU was not used");
    assert.match(report.reason, /WebAssembly/);
  }
});

Deno.test("gpuDeviceNodes() lists DRM render nodes, NVIDIA's and WSL2's device files, nothing else", () => {
  const folders: Record<string, string[]> = {
    "/dev": ["null", "nvidia0", "nvidiactl", "nvidia-uvm", "dxg", "dri", "tty0"],
    "/dev/dri": ["card0", "renderD128", "by-path"],
  };
  const listing = (path: string) => {
    if (!(path in folders)) throw new Deno.errors.NotFound(path);
    return folders[path].map((name) => ({ name }));
  };
  if (Deno.build.os !== "linux") return; // elsewhere it cannot tell: null
  assert.deepEqual(gpuDeviceNodes(listing), ["/dev/nvidia0", "/dev/dxg", "/dev/dri/renderD128"]);
  delete folders["/dev/dri"]; // no DRM driver loaded
  folders["/dev"] = ["null", "tty0"];
  assert.deepEqual(gpuDeviceNodes(listing), []);
});

const noGpuNode = gpuDeviceNodes()?.length === 0;

Deno.test({
  name: "without a GPU device file the automatic choice never starts WebGPU (no Mesa threads)",
  ...skipUnless(noGpuNode, "this machine has a GPU device file (or /dev is not readable)"),
  async fn() {
    // Creating even a software adapter starts Mesa's llvmpipe threads, whose teardown crashed
    // test processes at exit ("corrupted size vs. prev_size in fastbins").
    const { code, report, stderr } = await freshImport(["--allow-all"], { CONVLAB_BACKEND: "" });
    assert.equal(code, 0, stderr);
    const webgpu = report?.considered.find((c) => c.backend === "webgpu");
    assert.match(webgpu?.outcome ?? "", /no GPU device on this machine .*not probed/);
    assert.deepEqual(report?.mesaThreads, [], "no llvmpipe thread was started");
  },
});

Deno.test("CONVLAB_BACKEND=cpu selects cpu at import and warns that training will be slow", async () => {
  const { code, report, stderr } = await freshImport(["--allow-all"], { CONVLAB_BACKEND: "cpu" });
  assert.equal(code, 0, stderr);
  assert.equal(report?.backend, "cpu");
  assert.equal(report?.chosenBy, "CONVLAB_BACKEND");
  assert.equal(report?.firstOpBackend, "cpu");
  assert.match(stderr, /very slow/);
  assert.doesNotMatch(stderr, /tfjs-node/, "tfjs's Node.js advice does not apply to Deno");
});

Deno.test("an unknown CONVLAB_BACKEND fails the import with the allowed values", async () => {
  const { code, stderr } = await freshImport(["--allow-all"], { CONVLAB_BACKEND: "gpu" });
  assert.notEqual(code, 0);
  assert.match(stderr, /CONVLAB_BACKEND must be one of webgpu, wasm, cpu, got "gpu"/);
});

Deno.test("without read access to the wasm binaries, auto falls back to cpu with a loud warning", async () => {
  // No --allow-read: tfjs-backend-wasm cannot read its .wasm file; a WebGPU hardware adapter
  // would still win, so the check only applies where there is none.
  const { code, report, stderr } = await freshImport(["--allow-env"], { CONVLAB_BACKEND: "" });
  assert.equal(code, 0, stderr);
  if (hardwareGpu) return;
  assert.equal(report?.backend, "cpu");
  assert.deepEqual(report?.values, [1, 4, 9]);
  const wasm = report?.considered.find((c) => c.backend === "wasm");
  assert.match(wasm?.outcome ?? "", /no read permission .*--allow-read=/);
  assert.match(stderr, /!!.*VERY slow/);
  assert.match(stderr, /wasm: .*read permission/);
});

Deno.test("useBackend() switches backends, keeps tensor values and rejects unknown names", async () => {
  const x = cl.tf.tensor([1.5, -2]);
  try {
    const info = await cl.useBackend("cpu");
    assert.equal(info.backend, "cpu");
    assert.equal(info.chosenBy, "useBackend");
    assert.equal(cl.tf.getBackend(), "cpu");
    assert.deepEqual(Array.from(await x.abs().data()), [1.5, 2]);
    await assert.rejects(
      () => cl.useBackend("tpu" as cl.BackendName),
      (e: Error) =>
        e instanceof TypeError && /must be one of webgpu, wasm, cpu, got "tpu"/.test(e.message),
    );
    assert.equal(cl.tf.getBackend(), "cpu", "a rejected name leaves the backend alone");
    const back = await cl.useBackend("wasm");
    assert.equal(back.backend, "wasm");
    assert.equal(back.simd, true);
    assert.deepEqual(Array.from(await x.data()), [1.5, -2]);
  } finally {
    x.dispose();
    await cl.useBackend("wasm");
  }
});

Deno.test("backendInfo() is a display object with a text and an HTML table", async () => {
  await cl.useBackend("wasm");
  const info = cl.backendInfo();
  const bundle = await mimeBundle(info);
  assert.match(String(bundle["text/plain"]), /^backend\s+wasm$/m);
  assert.match(String(bundle["text/plain"]), /^SIMD\s+yes$/m);
  assert.match(
    String(bundle["text/html"]),
    /<table class="convlab-backend">.*<th[^>]*>backend<\/th><td[^>]*>wasm<\/td>/,
  );
  assert.equal(String(info), bundle["text/plain"]);
});

Deno.test("backendInfo() notices a backend set directly with tf.setBackend", async () => {
  try {
    await cl.tf.setBackend("cpu");
    const info = cl.backendInfo();
    assert.equal(info.backend, "cpu");
    assert.equal(info.chosenBy, "tf.setBackend");
  } finally {
    await cl.useBackend("wasm");
  }
});

Deno.test({
  name: "useBackend('webgpu') starts tfjs on Deno's WebGPU adapter and computes correctly",
  ...skipUnless(probe.ok, `no WebGPU adapter here (${probe.ok ? "" : probe.problem})`),
  async fn() {
    try {
      const info = await cl.useBackend("webgpu");
      assert.equal(info.backend, "webgpu");
      assert.equal(cl.tf.getBackend(), "webgpu");
      if (probe.ok && probe.description.isSoftware) {
        assert.ok(
          info.warnings.some((w) => /software/.test(w)),
          "warns about the software adapter",
        );
      }
      const a = cl.tf.tensor2d([[1, 2], [3, 4]]);
      const b = cl.tf.tensor2d([[5, 6], [7, 8]]);
      const c = cl.tf.matMul(a, b);
      assert.deepEqual(Array.from(await c.data()), [19, 22, 43, 50]);
      const g = cl.tf.grad((x: cl.tf.Tensor) => cl.tf.sum(cl.tf.square(x)))(a);
      assert.deepEqual(Array.from(await g.data()), [2, 4, 6, 8]);
      cl.tf.dispose([a, b, c, g]);
    } finally {
      await cl.useBackend("wasm");
    }
  },
});

Deno.test({
  name: "useBackend() away from webgpu keeps tensors and model weights computed there",
  ...skipUnless(probe.ok, `no WebGPU adapter here (${probe.ok ? "" : probe.problem})`),
  async fn() {
    // tfjs moves a tensor to the new backend with a synchronous read, which WebGPU in Deno
    // cannot do (no OffscreenCanvas): values made on WebGPU must be fetched before leaving it.
    await cl.useBackend("webgpu");
    const made = cl.tf.square(cl.tf.tensor([1, -2, 3]));
    const weight = cl.tf.variable(cl.tf.mul(made, 2));
    const tensors = cl.tf.memory().numTensors;
    try {
      await cl.useBackend("webgpu"); // again: the running WebGPU backend and its tensors stay
      assert.deepEqual(Array.from(await made.data()), [1, 4, 9]);
      await cl.useBackend("wasm");
      const plusOne = made.add(1);
      assert.deepEqual(Array.from(await plusOne.data()), [2, 5, 10]);
      assert.deepEqual(Array.from(await weight.data()), [2, 8, 18]);
      await cl.useBackend("webgpu");
      await cl.useBackend("cpu");
      const difference = weight.sub(made);
      assert.deepEqual(Array.from(await difference.data()), [1, 4, 9]);
      cl.tf.dispose([plusOne, difference]);
    } finally {
      await cl.useBackend("wasm");
      cl.tf.dispose([made, weight]);
    }
    assert.equal(cl.tf.memory().numTensors, tensors - 2);
  },
});

Deno.test("deviceDescriptor() asks for flat feature names and numeric limits (BigInt-safe)", () => {
  const features = new Set(["bgra8unorm-storage", "shader-f16"]);
  const adapter = {
    features,
    limits: {
      maxBufferSize: 2n ** 31n,
      maxStorageBufferBindingSize: 134217728,
      maxComputeWorkgroupSizeX: 256n,
    },
    requestDevice: () => Promise.resolve({}),
  };
  const descriptor = deviceDescriptor(adapter);
  assert.deepEqual(descriptor.requiredFeatures, ["bgra8unorm-storage"]);
  assert.deepEqual(descriptor.requiredLimits, {
    maxBufferSize: 2 ** 31,
    maxStorageBufferBindingSize: 134217728,
    maxComputeWorkgroupSizeX: 256,
  });
});

Deno.test("describeAdapter() treats fallback adapters and CPU rasterisers as software", () => {
  const base = {
    features: new Set<string>(),
    limits: {},
    requestDevice: () => Promise.resolve({}),
  };
  const llvmpipe = describeAdapter({
    ...base,
    info: { description: "llvmpipe (LLVM 15.0.6, 256 bits)" },
  });
  assert.equal(llvmpipe.isSoftware, true);
  assert.equal(llvmpipe.isFallbackAdapter, false);
  const fallback = describeAdapter({ ...base, info: { isFallbackAdapter: true, description: "" } });
  assert.equal(fallback.isSoftware, true);
  const gpu = describeAdapter({ ...base, info: { vendor: "nvidia", description: "NVIDIA H100" } });
  assert.equal(gpu.isSoftware, false);
  assert.equal(gpu.vendor, "nvidia");
});

Deno.test("wasm runs with one thread per logical core by default and CONVLAB_THREADS overrides it", async () => {
  const auto = await freshImport(["--allow-all"], { CONVLAB_BACKEND: "wasm", CONVLAB_THREADS: "" });
  assert.equal(auto.code, 0, auto.stderr);
  assert.equal(auto.report?.threads, Math.min(navigator.hardwareConcurrency, 8));
  const one = await freshImport(["--allow-all"], { CONVLAB_BACKEND: "wasm", CONVLAB_THREADS: "1" });
  assert.equal(one.code, 0, one.stderr);
  assert.equal(one.report?.threads, 1);
  assert.deepEqual(one.report?.values, [1, 4, 9]);
  const bad = await freshImport(["--allow-all"], {
    CONVLAB_BACKEND: "wasm",
    CONVLAB_THREADS: "two",
  });
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /CONVLAB_THREADS must be a positive integer, got "two"/);
});

Deno.test("a bad CONVLAB_THREADS fails the import even when the backend is chosen automatically", async () => {
  const bad = await freshImport(["--allow-all"], { CONVLAB_BACKEND: "", CONVLAB_THREADS: "0" });
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /CONVLAB_THREADS must be a positive integer, got "0"/);
});
