/**
 * `feedback/<student>.html`: the executed submission rendered as a page (student HTML
 * sanitised: no scripts, no event handlers), with the score at the top and each test's result
 * and message next to its cell. Hidden tests ran but their code is not shown.
 *
 * @module
 */
import type { Notebook } from "../notebook.ts";
import { renderNotebookPage } from "../render/page.ts";
import type { GradingKey } from "./key.ts";
import type { PreparedSubmission } from "./restore.ts";
import { formatPoints, type SubmissionResult } from "./results.ts";
import type { TestResult } from "./score.ts";
import { escapeHtml } from "../render/html.ts";

/** Inputs of {@linkcode feedbackHtml}. */
export interface FeedbackInput {
  result: SubmissionResult;
  /** The executed notebook, parallel to `prepared.cells`. */
  executed: Notebook;
  prepared: PreparedSubmission;
  key: GradingKey;
}

const FEEDBACK_STYLE = `<style>
.cl-grade-summary { border: 1px solid var(--cl-border, #d0d7de); border-radius: 8px; padding: 12px 16px; margin: 0 0 24px; }
.cl-grade-summary h2 { margin: 0 0 6px; font-size: 1.25em; }
.cl-grade-summary table { border-collapse: collapse; width: 100%; margin-top: 8px; }
.cl-grade-summary th, .cl-grade-summary td { text-align: left; padding: 4px 6px; border-top: 1px solid var(--cl-border, #d0d7de); vertical-align: top; }
.cl-grade-summary td:nth-child(-n+3) { white-space: nowrap; }
.cl-grade-verdict { border-left: 4px solid; border-radius: 4px; padding: 6px 10px; margin: 4px 0 18px; font-size: 0.95em; }
.cl-grade-pass { border-color: #1a7f37; background: rgba(26, 127, 55, 0.08); }
.cl-grade-fail { border-color: #c62828; background: rgba(198, 40, 40, 0.08); }
.cl-grade-note { border-color: #b26b00; background: rgba(178, 107, 0, 0.08); }
.cl-grade-verdict code, .cl-grade-summary code { white-space: pre-wrap; word-break: break-word; }
</style>`;

function outcomeText(test: TestResult): string {
  switch (test.outcome) {
    case "passed":
      return "passed";
    case "timeout":
      return "timed out";
    case "not-run":
      return "not run";
    default:
      return "failed";
  }
}

function verdict(test: TestResult): string {
  const pass = test.passed;
  const time = test.duration !== null ? ` · ${test.duration.toFixed(2)} s` : "";
  const hidden = test.hidden ? " · includes hidden tests" : "";
  const message = pass ? "" : `<br><code>${escapeHtml(test.message)}</code>`;
  return `<div class="cl-grade-verdict ${pass ? "cl-grade-pass" : "cl-grade-fail"}" role="note">` +
    `<strong>${pass ? "✓" : "✗"} ${escapeHtml(test.gradeId)}: ${formatPoints(test.points)} / ${
      formatPoints(test.maxPoints)
    } points, ${outcomeText(test)}</strong>${escapeHtml(time + hidden)}${message}</div>`;
}

function note(text: string): string {
  return `<div class="cl-grade-verdict cl-grade-note" role="note">${escapeHtml(text)}</div>`;
}

/**
 * What students see of the executed notebook: read-only and test cells as released (without
 * the grader's lines), hidden tests' code replaced by a line.
 */
function displayNotebook(input: FeedbackInput): Notebook {
  const cells = input.executed.cells.map((cell, i) => {
    const info = input.prepared.cells[i];
    const keyCell = info?.keyCell;
    if (!keyCell || (info.origin !== "key" && info.origin !== "restored")) return cell;
    const hiddenLines = keyCell.hiddenTestLines ?? 0;
    return {
      ...cell,
      source: info.role === "test" && hiddenLines > 0
        ? `${keyCell.studentSource}\n// … ${hiddenLines} line${
          hiddenLines === 1 ? "" : "s"
        } of hidden tests ran here`
        : keyCell.studentSource,
    };
  });
  return { ...input.executed, cells };
}

function header(input: FeedbackInput): string {
  const r = input.result;
  const rows = r.tests.map((t) =>
    `<tr><td><code>${escapeHtml(t.gradeId)}</code></td><td>${formatPoints(t.points)} / ${
      formatPoints(t.maxPoints)
    }</td><td>${outcomeText(t)}</td><td>${t.passed ? "" : escapeHtml(t.message)}</td></tr>`
  ).join("");
  const details = r.details.length
    ? `<ul>${r.details.map((d) => `<li>${escapeHtml(d)}</li>`).join("")}</ul>`
    : "";
  return `${FEEDBACK_STYLE}<section class="cl-grade-summary" aria-label="Grade">
<h2>${escapeHtml(input.key.assignment)}: ${formatPoints(r.total)} / ${
    formatPoints(r.max)
  } points</h2>
<div>Student <strong>${escapeHtml(r.student)}</strong> · status <strong>${
    escapeHtml(r.status)
  }</strong>${r.tampered ? " · <strong>tampered</strong>" : ""}</div>
<div>${escapeHtml(r.reason)}</div>${details}
<table><thead><tr><th>test</th><th>points</th><th>result</th><th>message</th></tr></thead><tbody>${rows}</tbody></table>
</section>`;
}

/**
 * The feedback page of one graded submission, as one self-contained HTML file.
 *
 * @example
 * ```ts ignore
 * await writeFileAtomic("grades/feedback/alice.html", await feedbackHtml({ result, executed, prepared, key }));
 * ```
 */
export async function feedbackHtml(input: FeedbackInput): Promise<string> {
  const testsByCell = new Map(input.result.tests.map((t) => [t.cell - 1, t]));
  const page = await renderNotebookPage(displayNotebook(input), {
    sanitize: true,
    singleFile: true,
    title: `${input.key.assignment} — feedback for ${input.result.student}`,
    footer: `Graded by Convlab on ${input.result.gradedAt}.`,
    beforeContent: header(input),
    afterCell: (_cell, index) => {
      const info = input.prepared.cells[index];
      const parts: string[] = [];
      if (info?.origin === "restored") {
        parts.push(note("This cell was missing from your submission; the original was run."));
      } else if (info?.origin === "stub") {
        parts.push(
          note("Your answer cell was missing; the blank one from the assignment was run."),
        );
      } else if (
        info?.origin === "key" && info.gradeId &&
        input.prepared.tampered.some((t) => t.includes(`"${info.gradeId}"`))
      ) {
        parts.push(note("You edited this cell; the original was run."));
      }
      const test = testsByCell.get(index);
      if (test) parts.push(verdict(test));
      return parts.join("") || undefined;
    },
  });
  return page.html;
}
