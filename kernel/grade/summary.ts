/**
 * `summary.html`: the class at a glance — score histogram, pass rate per question, statuses,
 * and every submission that did not get full marks with its reason. One self-contained file: no
 * scripts, no network.
 *
 * @module
 */
import { escapeHtml } from "../render/html.ts";
import { formatPoints, type GradesFile, statusCounts } from "./results.ts";

/** Shared page style of the grader's pages (light and dark, print-friendly). */
export const GRADE_STYLE = `
:root { color-scheme: light dark; --fg: #1d2330; --muted: #5b6474; --bg: #ffffff; --card: #f4f6f9;
  --line: #d9dee7; --ok: #1a7f37; --bad: #c62828; --warn: #b26b00; --bar: #3b6fd8; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6e9ef; --muted: #a3acbb; --bg: #14171c;
  --card: #1e232b; --line: #323a46; --ok: #4cc26a; --bad: #ff6b6b; --warn: #f0b35a; --bar: #6d9bff; } }
body { font: 15px/1.5 system-ui, sans-serif; color: var(--fg); background: var(--bg); margin: 0; }
main { max-width: 980px; margin: 0 auto; padding: 24px 16px 48px; }
h1 { font-size: 1.6em; margin: 0 0 4px; } h2 { font-size: 1.2em; margin-top: 2em; }
.muted { color: var(--muted); }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 16px 0; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; min-width: 110px; }
.card b { display: block; font-size: 1.4em; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; } td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.status { font-weight: 600; white-space: nowrap; }
.status.graded { color: var(--ok); } .status.timeout, .status.missing-cells { color: var(--warn); }
.status.crashed, .status.invalid-notebook { color: var(--bad); }
.tampered { color: var(--bad); font-weight: 600; }
.bar { background: var(--card); border-radius: 4px; height: 10px; min-width: 120px; }
.bar span { display: block; height: 100%; background: var(--bar); border-radius: 4px; }
svg text { fill: var(--muted); font-size: 11px; } svg rect.b { fill: var(--bar); }
a { color: var(--bar); }
@media print { .bar span, svg rect.b { print-color-adjust: exact; -webkit-print-color-adjust: exact; } }
`;

function histogram(totals: number[], max: number): string {
  const bins = max > 0 && max <= 20 && Number.isInteger(max) ? max + 1 : 10;
  const counts = new Array(bins).fill(0);
  for (const t of totals) {
    const i = bins === max + 1
      ? Math.round(t)
      : Math.min(bins - 1, Math.floor((t / (max || 1)) * bins));
    counts[Math.max(0, Math.min(bins - 1, i))]++;
  }
  const top = Math.max(1, ...counts);
  const w = 640, h = 180, pad = 24, bw = (w - pad) / bins;
  const label = (i: number) =>
    bins === max + 1
      ? String(i)
      : `${formatPoints((i * max) / bins)}–${formatPoints(((i + 1) * max) / bins)}`;
  const bars = counts.map((c, i) => {
    const bh = ((h - 2 * pad) * c) / top;
    const x = pad + i * bw;
    return `<rect class="b" x="${x + 2}" y="${h - pad - bh}" width="${bw - 4}" height="${bh}">` +
      `<title>${escapeHtml(label(i))} points: ${c}</title></rect>` +
      (c
        ? `<text x="${x + bw / 2}" y="${h - pad - bh - 4}" text-anchor="middle">${c}</text>`
        : "") +
      `<text x="${x + bw / 2}" y="${h - 8}" text-anchor="middle">${escapeHtml(label(i))}</text>`;
  }).join("");
  return `<svg viewBox="0 0 ${w} ${h}" width="100%" role="img" aria-label="score histogram">${bars}</svg>`;
}

function median(values: number[]): number {
  if (values.length === 0) return 0;
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * The class summary page.
 *
 * @example
 * ```ts ignore
 * await writeFileAtomic("grades/summary.html", summaryHtml(grades));
 * ```
 */
export function summaryHtml(grades: GradesFile): string {
  const students = grades.students;
  const totals = students.map((s) => s.total);
  const mean = totals.length ? totals.reduce((a, b) => a + b, 0) / totals.length : 0;
  const counts = statusCounts(students);
  const tampered = students.filter((s) => s.tampered).length;
  const cards = [
    ["students", String(students.length)],
    ["mean", `${formatPoints(Math.round(mean * 100) / 100)} / ${formatPoints(grades.maxPoints)}`],
    ["median", formatPoints(median(totals))],
    ["full marks", String(students.filter((s) => s.total === s.max && s.max > 0).length)],
    ...Object.entries(counts).map(([k, v]) => [k, String(v)]),
    ["tampered", String(tampered)],
  ].map(([k, v]) =>
    `<div class="card"><span class="muted">${escapeHtml(k)}</span><b>${escapeHtml(v)}</b></div>`
  )
    .join("");
  const questionRows = grades.questions.map((q) => {
    const passed = students.filter((s) =>
      s.tests.some((t) => t.gradeId === q.gradeId && t.passed)
    ).length;
    const rate = students.length ? passed / students.length : 0;
    return `<tr><td><code>${escapeHtml(q.gradeId)}</code>${
      q.hidden ? ' <span class="muted">(hidden tests)</span>' : ""
    }</td>` +
      `<td class="num">${
        formatPoints(q.points)
      }</td><td class="num">${passed} / ${students.length}</td>` +
      `<td><div class="bar"><span style="width:${
        (rate * 100).toFixed(1)
      }%"></span></div></td></tr>`;
  }).join("");
  const failures = students.filter((s) => s.status !== "graded" || s.tampered || s.total < s.max);
  const failureRows = failures.map((s) => {
    const name = s.feedback
      ? `<a href="${escapeHtml(s.feedback.split("/").map(encodeURIComponent).join("/"))}">${
        escapeHtml(s.student)
      }</a>`
      : escapeHtml(s.student);
    return `<tr><td>${name}</td><td class="num">${formatPoints(s.total)} / ${
      formatPoints(s.max)
    }</td>` +
      `<td class="status ${escapeHtml(s.status)}">${escapeHtml(s.status)}${
        s.tampered ? ' <span class="tampered">tampered</span>' : ""
      }</td>` +
      `<td>${escapeHtml(s.reason)}</td></tr>`;
  }).join("");
  const skipped = grades.skipped.length
    ? `<h2>Not graded</h2><ul>${
      grades.skipped.map((e) =>
        `<li><code>${escapeHtml(e.name)}</code>: ${escapeHtml(e.reason)}</li>`
      ).join("")
    }</ul>`
    : "";
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(grades.assignment)} — grades</title>
<style>${GRADE_STYLE}</style></head>
<body><main>
<h1>${escapeHtml(grades.assignment)} — grades</h1>
<p class="muted">${students.length} submissions${
    grades.shard ? `, shard ${escapeHtml(grades.shard)}` : ""
  };
limits ${grades.settings.timeout} s per cell, ${grades.settings.notebookTimeout} s per notebook,
${grades.settings.memoryMb} MiB; key ${escapeHtml(grades.keySha256.slice(0, 12))}; ${
    escapeHtml(grades.generatedAt)
  }</p>
<div class="cards">${cards}</div>
<h2>Scores</h2>
${histogram(totals, grades.maxPoints)}
<h2>Questions</h2>
<table><thead><tr><th>test</th><th class="num">points</th><th class="num">passed</th><th>pass rate</th></tr></thead>
<tbody>${questionRows}</tbody></table>
<h2>Not full marks (${failures.length})</h2>
${
    failures.length
      ? `<table><thead><tr><th>student</th><th class="num">score</th><th>status</th><th>reason</th></tr></thead><tbody>${failureRows}</tbody></table>`
      : "<p>Everyone got full marks.</p>"
  }
${skipped}
</main></body></html>
`;
}
