/**
 * `deno task bench render [notebook...]`: time to render executed notebooks as HTML (no
 * execution) with Convlab, against `jupyter nbconvert --to html` on the same notebooks, and the
 * size of the site.
 *
 * Default inputs: the executed lessons — the latest executed copy of each lesson in the execution
 * cache (`deno task course` fills it), or the lesson itself when it has outputs — topped up with
 * the render fixtures to five notebooks. Targets: under 1 s for five lessons, at least 5× faster
 * than nbconvert; the site a few MB besides plotly.js.
 */
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type Notebook,
  parseNotebook,
  readNotebook,
  writeNotebook,
} from "../../kernel/notebook.ts";
import { renderSite } from "../../kernel/render/mod.ts";
import { hasCommand } from "../_skip.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));

function executed(nb: Notebook): boolean {
  return nb.cells.some((c) => c.cell_type === "code" && c.execution_count !== null);
}

/** Latest executed copy of each notebook in the execution cache, by source path. */
async function cachedExecutions(): Promise<Map<string, { at: string; nb: Notebook }>> {
  const found = new Map<string, { at: string; nb: Notebook }>();
  const dir = join(root, ".cache", "render");
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (!entry.name.endsWith(".json")) continue;
      try {
        const data = JSON.parse(await Deno.readTextFile(join(dir, entry.name)));
        const source = String(data.source ?? "");
        const previous = found.get(source);
        if (!previous || previous.at < data.storedAt) {
          found.set(source, {
            at: data.storedAt,
            nb: parseNotebook(JSON.stringify(data.notebook)),
          });
        }
      } catch {
        // not an entry
      }
    }
  } catch {
    // no cache yet
  }
  return found;
}

async function defaultInputs(): Promise<{ name: string; nb: Notebook; origin: string }[]> {
  const inputs: { name: string; nb: Notebook; origin: string }[] = [];
  const cache = await cachedExecutions();
  const lessons = [...Deno.readDirSync(join(root, "lessons"))]
    .filter((e) => e.isFile && e.name.endsWith(".ipynb") && !e.name.endsWith(".out.ipynb"))
    .map((e) => e.name).sort();
  for (const name of lessons) {
    const path = join(root, "lessons", name);
    const nb = await readNotebook(path);
    if (executed(nb)) inputs.push({ name, nb, origin: `lessons/${name}` });
    else if (cache.has(path)) {
      inputs.push({
        name,
        nb: cache.get(path)!.nb,
        origin: `lessons/${name} (executed, from cache)`,
      });
    }
  }
  const fixtures = ["showcase.ipynb", "visuals.ipynb", "untrusted.ipynb"];
  for (let i = 0; inputs.length < 5; i++) {
    const fixture = fixtures[i % fixtures.length];
    const nb = await readNotebook(join(root, "tests", "fixtures", "render", fixture));
    inputs.push({
      name: `fixture${i + 1}_${fixture}`,
      nb,
      origin: `tests/fixtures/render/${fixture}`,
    });
  }
  return inputs;
}

async function dirSize(dir: string): Promise<{ total: number; plotly: number; files: number }> {
  let total = 0, plotly = 0, files = 0;
  async function walk(d: string) {
    for await (const e of Deno.readDir(d)) {
      const p = join(d, e.name);
      if (e.isDirectory) await walk(p);
      else {
        const size = (await Deno.stat(p)).size;
        total += size;
        files++;
        if (e.name === "plotly.js") plotly += size;
      }
    }
  }
  await walk(dir);
  return { total, plotly, files };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function timeCommand(command: string, args: string[]): Promise<number> {
  const started = performance.now();
  const out = await new Deno.Command(command, { args, stdout: "null", stderr: "piped" }).output();
  const seconds = (performance.now() - started) / 1000;
  if (!out.success) {
    throw new Error(
      `${command} ${args.join(" ")} failed:\n${new TextDecoder().decode(out.stderr)}`,
    );
  }
  return seconds;
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(2)} MB`;

export default async function bench(args: string[]): Promise<void> {
  const work = await Deno.makeTempDir({ prefix: "convlab-bench-render-" });
  try {
    const inputDir = join(work, "notebooks");
    await Deno.mkdir(inputDir);
    const inputs = args.length > 0
      ? await Promise.all(
        args.map(async (a) => ({ name: basename(a), nb: await readNotebook(a), origin: a })),
      )
      : await defaultInputs();
    for (const input of inputs) {
      await writeNotebook(join(inputDir, input.name), input.nb);
      // Relative images in Markdown resolve beside the notebook.
      if (input.origin.startsWith("tests/fixtures/render")) {
        await Deno.mkdir(join(inputDir, "assets"), { recursive: true });
        for (const f of ["card.png", "card.jpg"]) {
          await Deno.copyFile(
            join(root, "tests", "fixtures", "render", "assets", f),
            join(inputDir, "assets", f),
          );
        }
      }
    }
    console.log(`Notebooks (${inputs.length}):`);
    for (const input of inputs) console.log(`  ${input.name}  ← ${input.origin}`);

    const runs = 5;
    const inProcess: number[] = [];
    for (let i = 0; i < runs; i++) {
      const started = performance.now();
      await renderSite([inputDir], { outDir: join(work, "site"), execute: false });
      inProcess.push((performance.now() - started) / 1000);
    }
    const cli: number[] = [];
    for (let i = 0; i < 3; i++) {
      cli.push(
        await timeCommand(Deno.execPath(), [
          "run",
          "--allow-all",
          join(root, "kernel", "render", "cli.ts"),
          inputDir,
          "--out",
          join(work, "site-cli"),
          "--no-execute",
        ]),
      );
    }
    const size = await dirSize(join(work, "site"));
    console.log("");
    console.log(
      `Convlab render, in process (median of ${runs}; first ${inProcess[0].toFixed(3)} s): ${
        median(inProcess).toFixed(3)
      } s`,
    );
    console.log(
      `Convlab render, \`deno task render\` end to end (median of 3): ${median(cli).toFixed(3)} s`,
    );
    console.log(
      `Site: ${mb(size.total)} in ${size.files} files; ${
        mb(size.total - size.plotly)
      } besides plotly.js (${mb(size.plotly)})`,
    );

    if (!hasCommand("jupyter-nbconvert")) {
      console.log("nbconvert: not installed (apt-get install jupyter-nbconvert); no comparison");
      return;
    }
    const files = inputs.map((i) => join(inputDir, i.name));
    const nbconvert: number[] = [];
    for (let i = 0; i < 3; i++) {
      nbconvert.push(
        await timeCommand("jupyter", [
          "nbconvert",
          "--to",
          "html",
          "--output-dir",
          join(work, "nbconvert"),
          ...files,
        ]),
      );
    }
    const nbSize = await dirSize(join(work, "nbconvert"));
    console.log(
      `jupyter nbconvert --to html (median of 3): ${median(nbconvert).toFixed(3)} s; output ${
        mb(nbSize.total)
      }`,
    );
    console.log(
      `Ratio nbconvert / Convlab: ${(median(nbconvert) / median(cli)).toFixed(1)}× end to end, ${
        (median(nbconvert) / median(inProcess)).toFixed(1)
      }× in process`,
    );
    const renderTime = median(inProcess);
    const ratio = median(nbconvert) / median(cli);
    console.log(
      `Target render time < 1 s for five: ${renderTime < 1 ? "met" : "NOT met"} (${
        renderTime.toFixed(3)
      } s in process; ${median(cli).toFixed(3)} s including Deno start and module load)`,
    );
    console.log(
      `Target ≥ 5× faster than nbconvert end to end: ${ratio >= 5 ? "met" : "NOT met"} (${
        ratio.toFixed(1)
      }×)`,
    );
  } finally {
    await Deno.remove(work, { recursive: true });
  }
}
