/**
 * The visuals notebook (tests/fixtures/lib/visuals.ipynb) uses every display object of lib/viz.
 * It must run in Deno's own Jupyter kernel (through `jupyter nbconvert --execute`) and in
 * Convlab's kernel (`executeNotebook`), and both must give every visual cell the same MIME types.
 */
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { hasCommand, skipUnless } from "../_skip.ts";
import { decodeImage } from "../../lib/image/codec.ts";
import { decodeBase64 } from "../../lib/viz/_base64.ts";

const NOTEBOOK = fileURLToPath(new URL("../fixtures/lib/visuals.ipynb", import.meta.url));

const CHART = ["application/vnd.plotly.v1+json", "image/svg+xml", "text/plain"];
const GRID = ["image/png", "text/html", "text/plain"];
const HTML = ["text/html", "text/plain"];
/** What each visual cell (named by its first comment line) must display. */
const EXPECTED: Record<string, string[]> = {
  "show.images: a grid with captions": GRID,
  "show.images on pictures of different sizes: the course's OpenCV filters": GRID,
  "plot.line": CHART,
  "plot.scatter": CHART,
  "plot.bar": CHART,
  "plot.heatmap": CHART,
  "plot.histogram": CHART,
  "show.progress: one display updated in place every epoch": HTML,
  "show.history: accuracy and loss, training vs validation": CHART,
  "show.confusionMatrix": CHART,
  "show.misclassified": GRID,
  "show.featureMaps: what the first convolution sees in one digit": GRID,
  "augmentation: 3 rounds of 4 augmented copies of one digit": GRID,
  "overlay: a heatmap over the test card (as Grad-CAM does)": GRID,
  "show.table": HTML,
  "cl.show(visual) displays now, e.g. from inside a loop": CHART,
  "a chart as the cell's value (no cl.show): the kernel renders it": CHART,
  "an image grid as the cell's value": GRID,
};

interface NbOutput {
  output_type: string;
  data?: Record<string, unknown>;
  ename?: string;
  evalue?: string;
}
interface NbCell {
  cell_type: string;
  source: string | string[];
  outputs?: NbOutput[];
}

const text = (s: string | string[]) => (Array.isArray(s) ? s.join("") : s);

/** `visual name → MIME types` of the rich outputs, failing on error outputs. */
function mimeTypesByVisual(cells: NbCell[], kernel: string): Map<string, string[][]> {
  const result = new Map<string, string[][]>();
  for (const cell of cells) {
    if (cell.cell_type !== "code") continue;
    const errors = (cell.outputs ?? []).filter((o) => o.output_type === "error");
    assert.equal(
      errors.length,
      0,
      `${kernel}: ${errors.map((e) => `${e.ename}: ${e.evalue}`).join("; ")}`,
    );
    const name = /^\/\/ (.*)/.exec(text(cell.source))?.[1];
    if (!name) continue;
    result.set(
      name,
      (cell.outputs ?? []).filter((o) => o.data).map((o) => Object.keys(o.data!).sort()),
    );
  }
  return result;
}

/** Plotly figures have data; PNGs decode. */
function checkContent(cells: NbCell[], kernel: string): void {
  for (const cell of cells) {
    for (const output of cell.outputs ?? []) {
      const data = output.data ?? {};
      if (data["application/vnd.plotly.v1+json"]) {
        const figure = data["application/vnd.plotly.v1+json"] as { data: unknown[] };
        assert.ok(Array.isArray(figure.data) && figure.data.length > 0, `${kernel}: Plotly data`);
      }
      if (typeof data["image/png"] === "string") {
        const png = decodeImage(decodeBase64((data["image/png"] as string).replace(/\s/g, "")));
        assert.ok(png.shape[0] > 0 && png.shape[1] > 0, `${kernel}: PNG decodes`);
        png.dispose();
      }
    }
  }
}

/** Every visual cell shows exactly one display with the expected MIME types. */
function checkExpected(byVisual: Map<string, string[][]>, kernel: string): void {
  for (const [name, types] of Object.entries(EXPECTED)) {
    assert.deepEqual(byVisual.get(name), [types], `${kernel}: cell "${name}"`);
  }
}

/** A kernelspec for this Deno, in a private JUPYTER_PATH (the user's Jupyter is not touched). */
async function denoKernelspec(dir: string): Promise<string> {
  const spec = join(dir, "kernels", "deno");
  await Deno.mkdir(spec, { recursive: true });
  await Deno.writeTextFile(
    join(spec, "kernel.json"),
    JSON.stringify({
      argv: [Deno.execPath(), "jupyter", "--kernel", "--conn", "{connection_file}"],
      display_name: "Deno",
      language: "typescript",
    }),
  );
  return dir;
}

const haveNbconvert = hasCommand("jupyter-nbconvert") || hasCommand("jupyter");

Deno.test({
  name: "the visuals notebook runs in Deno's own kernel with every visual's MIME types",
  ...skipUnless(
    haveNbconvert,
    "jupyter nbconvert is not installed (Debian jupyter-nbconvert, python3-ipykernel)",
  ),
  async fn() {
    const tmp = await Deno.makeTempDir({ prefix: "convlab-visuals-" });
    try {
      const jupyterPath = await denoKernelspec(join(tmp, "share"));
      const before = await Deno.readTextFile(NOTEBOOK);
      // Deno 2.9's kernel sometimes reports a cell idle before its last output has gone out
      // when the machine is busy, and nbconvert then drops that output. A cell whose output is
      // missing (never wrong) is taken from a re-run, at most three runs in all.
      const deno = new Map<string, string[][]>();
      for (let attempt = 1; attempt <= 3; attempt++) {
        const run = await new Deno.Command("jupyter", {
          args: [
            "nbconvert",
            "--to",
            "notebook",
            "--execute",
            "--ExecutePreprocessor.kernel_name=deno",
            "--ExecutePreprocessor.timeout=300",
            "--output-dir",
            tmp,
            NOTEBOOK,
          ],
          cwd: dirname(NOTEBOOK),
          env: { JUPYTER_PATH: jupyterPath, NO_COLOR: "1" },
          stdout: "piped",
          stderr: "piped",
        }).output();
        const log = new TextDecoder().decode(run.stderr);
        assert.ok(run.success, `nbconvert failed:\n${log.slice(-3000)}`);
        const executed = JSON.parse(await Deno.readTextFile(join(tmp, "visuals.ipynb")));
        checkContent(executed.cells, "Deno's kernel");
        for (const [name, types] of mimeTypesByVisual(executed.cells, "Deno's kernel")) {
          if (types.length > 0 || !deno.has(name)) deno.set(name, types);
        }
        const missing = Object.keys(EXPECTED).filter((n) => (deno.get(n) ?? []).length === 0);
        if (missing.length === 0) break;
        console.log(
          `note: Deno's kernel dropped the output of ${missing.join("; ")} (run ${attempt})`,
        );
      }
      checkExpected(deno, "Deno's kernel");
      assert.equal(await Deno.readTextFile(NOTEBOOK), before, "the input notebook is untouched");

      // Convlab's kernel, once it is on main: same MIME types, cell by cell.
      const kernel = await import("../../kernel/mod.ts") as Record<string, unknown>;
      if (typeof kernel.executeNotebook !== "function") {
        console.log(
          "SKIP (part): kernel/mod.ts has no executeNotebook yet; compared Deno's kernel only",
        );
        return;
      }
      const { parseNotebook } = kernel as { parseNotebook: (text: string) => unknown };
      const execute = kernel.executeNotebook as (
        nb: unknown,
        options: Record<string, unknown>,
      ) => Promise<{ ok: boolean; notebook: { cells: unknown[] } }>;
      const result = await execute(parseNotebook(before), { path: NOTEBOOK, timeout: 300 });
      assert.ok(result.ok, "executeNotebook ran every cell");
      checkContent(result.notebook.cells as NbCell[], "Convlab's kernel");
      const ours = mimeTypesByVisual(result.notebook.cells as NbCell[], "Convlab's kernel");
      checkExpected(ours, "Convlab's kernel");
      assert.deepEqual(ours, deno, "both kernels give the same MIME types");
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});
