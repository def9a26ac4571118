/**
 * Every lesson (`lessons/*.ipynb`) follows the course's conventions and runs top to bottom in
 * Convlab's kernel in its smoke setting (`metadata.convlab.smoke`) with no error output. The
 * executed copies go to `test-artifacts/lessons/` for inspection. Full-setting runs (times and
 * accuracies) are `deno task bench lessons`, not tests.
 */
import assert from "node:assert/strict";
import { basename, join } from "node:path";
import { smokeParameters } from "../../kernel/course.ts";
import { executeNotebook } from "../../kernel/execute.ts";
import { cellTags, type Notebook, readNotebook, writeNotebook } from "../../kernel/notebook.ts";
import { errorOutputs, lessonPaths, ROOT, sourceText } from "./_lessons.ts";

const lessons = lessonPaths();
const ARTIFACTS = join(ROOT, "test-artifacts", "lessons");

Deno.test("lessons/ holds lesson notebooks and no placeholder", () => {
  assert.ok(lessons.length > 0, "no lessons in lessons/");
  for (const path of lessons) {
    assert.match(basename(path), /^\d\d_[a-z0-9_]+\.ipynb$/, `lesson file name ${basename(path)}`);
  }
});

/** What a lesson must have, as a list of missing things (empty when it has everything). */
function conventionProblems(nb: Notebook): string[] {
  const problems: string[] = [];
  const markdown = nb.cells.filter((c) => c.cell_type === "markdown").map((c) =>
    sourceText(c.source)
  );
  const code = nb.cells.filter((c) => c.cell_type === "code");
  const text = markdown.join("\n\n");
  if (!/^# \d\d — \S/.test(markdown[0] ?? "")) problems.push('a title "# NN — Title" first');
  if (!/\bOverview\b/.test(markdown[0] ?? "")) problems.push("an overview in the first cell");
  const sections = [...text.matchAll(/^## (\d+)\. /gm)].map((m) => Number(m[1]));
  if (sections.length < 3 || sections.some((n, i) => n !== i + 1)) {
    problems.push(`numbered sections "## 1. …", "## 2. …" in order (found ${sections.join(", ")})`);
  }
  if (!/^## Summary\b/m.test(text)) problems.push('a "## Summary" section');
  const exercises = /^## Exercises\b([\s\S]*)/m.exec(text)?.[1] ?? "";
  const items = exercises.split(/^\d+\. /m).slice(1);
  if (items.length === 0) problems.push('a "## Exercises" section with a numbered list');
  items.forEach((item, i) => {
    if (!/\bhint\b/i.test(item)) problems.push(`a hint for exercise ${i + 1}`);
  });
  if (!/\([\uac00-\ud7a3][\uac00-\ud7a3 ]*\)/.test(text)) {
    problems.push("key terms with the course's Korean term in parentheses, e.g. (합성곱)");
  }
  const parameterCells = code.filter((c) => cellTags(c).includes("parameters"));
  if (parameterCells.length !== 1) {
    problems.push(`one cell tagged "parameters" (found ${parameterCells.length})`);
  }
  const declared = new Set(
    [...sourceText(parameterCells[0]?.source ?? "").matchAll(/^let ([A-Za-z_$][\w$]*)/gm)]
      .map((m) => m[1]),
  );
  const smoke = smokeParameters(nb);
  if (Object.keys(smoke).length === 0) problems.push("smoke values in metadata.convlab.smoke");
  for (const name of Object.keys(smoke)) {
    if (!declared.has(name)) problems.push(`smoke parameter ${name} declared (let) as a parameter`);
  }
  for (const cell of code) {
    for (const m of sourceText(cell.source).matchAll(/^\s*import\s+(.*?)\s+from\s+"([^"]+)"/gm)) {
      if (m[2] !== "convlab" || m[1] !== "* as cl") {
        problems.push(
          `only \`import * as cl from "convlab"\` (found import ${m[1]} from "${m[2]}")`,
        );
      }
    }
  }
  return problems;
}

/** The course's key terms: the English term as the lessons write it, and the course's Korean. */
const KEY_TERMS: { term: string; pattern: RegExp; korean: string }[] = [
  { term: "convolution", pattern: /convolution/i, korean: "합성곱" },
  { term: "padding", pattern: /\bpadding\b/i, korean: "패딩" },
  { term: "stride", pattern: /\bstrides?\b/i, korean: "보폭" },
  { term: "pooling", pattern: /\bpooling\b/i, korean: "풀링" },
  { term: "overfitting", pattern: /\boverfit/i, korean: "과대적합" },
  { term: "data augmentation", pattern: /\bdata\s+augmentation\b/i, korean: "데이터 증식" },
  { term: "transfer learning", pattern: /\btransfer\s+learning\b/i, korean: "전이 학습" },
  { term: "fine-tuning", pattern: /\bfine-?tun/i, korean: "미세 조정" },
  {
    term: "class activation map",
    pattern: /\bclass\s+activation\s+map/i,
    korean: "클래스 활성화 맵",
  },
];

/** A lesson's prose in order: its markdown cells without code blocks, code spans and display math. */
function prose(nb: Notebook): string {
  return nb.cells.filter((c) => c.cell_type === "markdown").map((c) => sourceText(c.source))
    .join("\n\n").replace(/```[\s\S]*?```/g, " ").replace(/`[^`\n]*`/g, " ")
    .replace(/\$\$[\s\S]*?\$\$/g, " ");
}

/**
 * Key terms whose first mention in `text` lacks the Korean term in a parenthesis right after it
 * ("padding (패딩)", "convolutional neural network (CNN, 합성곱 신경망)"), as
 * `term: "…context…"`. Terms the text never mentions are not problems.
 */
function koreanTermProblems(text: string): string[] {
  const problems: string[] = [];
  for (const { term, pattern, korean } of KEY_TERMS) {
    const found = pattern.exec(text);
    if (!found) continue;
    const rest = text.slice(found.index + found[0].length);
    // The parenthesis opens within a few words, in the same sentence and table cell.
    const open = /^[^()|.!?]{0,30}?\(([^()]*)\)/.exec(rest);
    if (!open?.[1].includes(korean)) {
      problems.push(
        `${term} (${korean}): "${text.slice(found.index, found.index + 70).replace(/\s+/g, " ")}…"`,
      );
    }
  }
  return problems;
}

Deno.test("the Korean-term check finds a first mention without its Korean term", () => {
  assert.deepEqual(koreanTermProblems("Pooling (풀링) shrinks maps; pooling again."), []);
  assert.deepEqual(
    koreanTermProblems("Padding and stride (보폭) change sizes. Later: padding (패딩)."),
    ['padding (패딩): "Padding and stride (보폭) change sizes. Later: padding (패딩).…"'],
  );
  assert.deepEqual(koreanTermProblems("A convolutional neural network (CNN, 합성곱 신경망)."), []);
  assert.equal(koreanTermProblems("Overfitting. It means (과대적합)").length, 1);
});

Deno.test("the lessons together introduce every key term of the course with its Korean term", async () => {
  const texts = await Promise.all(lessons.map(async (path) => prose(await readNotebook(path))));
  const missing = KEY_TERMS.filter(({ pattern, korean }) =>
    !texts.some((text) => pattern.test(text) && text.includes(korean))
  ).map(({ term, korean }) => `${term} (${korean})`);
  assert.deepEqual(missing, [], "key terms no lesson introduces");
});

for (const path of lessons) {
  const name = basename(path);

  Deno.test(`${name} gives the course's Korean term at the first mention of each key term`, async () => {
    assert.deepEqual(koreanTermProblems(prose(await readNotebook(path))), [], name);
  });

  Deno.test(`${name} has an overview, numbered sections, a summary, exercises with hints, Korean terms, a parameters cell with smoke values, and imports only convlab`, async () => {
    assert.deepEqual(conventionProblems(await readNotebook(path)), [], `${name} lacks`);
  });

  Deno.test({
    name:
      `${name} runs top to bottom in Convlab's kernel in its smoke setting with no error output`,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const nb = await readNotebook(path);
      const parameters = smokeParameters(nb);
      const started = performance.now();
      const result = await executeNotebook(nb, {
        path,
        parameters,
        timeout: 300,
        notebookTimeout: 600,
      });
      const seconds = (performance.now() - started) / 1000;
      await Deno.mkdir(ARTIFACTS, { recursive: true });
      await writeNotebook(join(ARTIFACTS, name), result.notebook);
      console.log(`${name}: ${seconds.toFixed(1)} s with ${JSON.stringify(parameters)}`);
      const problems = errorOutputs(result.notebook);
      assert.deepEqual(
        problems.map((p) => `cell ${p.cell}: ${p.message}`),
        [],
        `${name} (executed copy in test-artifacts/lessons/${name})`,
      );
      assert.ok(result.ok, result.error?.message ?? "");
      assert.ok(
        result.cells.every((c) =>
          c.status === "ok" || c.status === "text" || c.status === "skipped"
        ),
      );
    },
  });
}
