/**
 * Every lesson also runs top to bottom in Deno's own Jupyter kernel (`deno jupyter`, what a
 * learner gets in Jupyter or VS Code), in its smoke setting: the notebook with
 * `metadata.convlab.smoke` injected after its `parameters` cell goes to
 * `jupyter nbconvert --execute --ExecutePreprocessor.kernel_name=deno` on stdin, with the
 * lessons folder as the working directory (as when a learner opens `lessons/NN_….ipynb`), so
 * that `import * as cl from "convlab"` resolves through the project's `deno.json` as it does
 * there. Without `--allow-errors`, nbconvert fails at the first cell whose execute reply is an
 * error — the reply is reliable where Deno's kernel may drop an output message. The executed
 * copies go to `test-artifacts/lessons/deno-kernel/`.
 */
import assert from "node:assert/strict";
import { basename, join } from "node:path";
import { smokeParameters } from "../../kernel/course.ts";
import {
  cleanNotebook,
  parseNotebook,
  readNotebook,
  serializeNotebook,
  writeNotebook,
} from "../../kernel/notebook.ts";
import { injectParameters } from "../../kernel/parameters.ts";
import { skipUnless } from "../_skip.ts";
import { denoKernelInstalled, NO_DENO_KERNEL } from "../_deno_kernel.ts";
import { errorOutputs, lessonPaths, LESSONS_DIR, ROOT } from "./_lessons.ts";

const available = denoKernelInstalled();
const ARTIFACTS = join(ROOT, "test-artifacts", "lessons", "deno-kernel");

for (const path of lessonPaths()) {
  const name = basename(path);
  Deno.test({
    name: `${name} runs top to bottom in Deno's own kernel (deno jupyter) in its smoke setting`,
    ...skipUnless(available, NO_DENO_KERNEL),
    async fn() {
      const nb = await readNotebook(path);
      const parameters = smokeParameters(nb);
      const input = cleanNotebook(injectParameters(nb, parameters).notebook);
      const started = performance.now();
      const child = new Deno.Command("jupyter", {
        args: [
          "nbconvert",
          "--stdin",
          "--stdout",
          "--to",
          "notebook",
          "--execute",
          "--ExecutePreprocessor.kernel_name=deno",
          "--ExecutePreprocessor.timeout=300",
        ],
        cwd: LESSONS_DIR,
        env: { NO_COLOR: "1", PYDEVD_DISABLE_FILE_VALIDATION: "1" },
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const writer = child.stdin.getWriter();
      await writer.write(new TextEncoder().encode(serializeNotebook(input)));
      await writer.close();
      const run = await child.output();
      const seconds = (performance.now() - started) / 1000;
      const stderr = new TextDecoder().decode(run.stderr);
      console.log(
        `${name} in Deno's kernel: ${seconds.toFixed(1)} s with ${JSON.stringify(parameters)}`,
      );
      // nbconvert's CellExecutionError names the cell's source and the traceback.
      const error = stderr.indexOf("CellExecutionError:");
      const detail = error >= 0 ? stderr.slice(error) : stderr.slice(-3000);
      assert.ok(run.success, `${name} failed in Deno's kernel:\n${detail}`);
      const executed = parseNotebook(new TextDecoder().decode(run.stdout));
      await Deno.mkdir(ARTIFACTS, { recursive: true });
      await writeNotebook(join(ARTIFACTS, name), executed);
      const problems = errorOutputs(executed).map((p) => `cell ${p.cell}: ${p.message}`);
      assert.deepEqual(
        problems,
        [],
        `${name} (executed copy in test-artifacts/lessons/deno-kernel/)`,
      );
      const code = executed.cells.filter((c) => c.cell_type === "code");
      const notRun = code.flatMap((c, i) =>
        c.cell_type === "code" && c.execution_count === null ? [i + 1] : []
      );
      assert.deepEqual(
        notRun,
        [],
        `${name}: code cells (by number among code cells) that did not run`,
      );
      assert.equal(code.length, input.cells.filter((c) => c.cell_type === "code").length);
    },
  });
}
