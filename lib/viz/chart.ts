/**
 * One chart model, two renderings: Plotly JSON (`application/vnd.plotly.v1+json`, interactive in
 * Jupyter, VS Code and the course site) and a static SVG of the same chart (the fallback for
 * viewers without Plotly, and the source of `cl.save(chart, "x.png")`). Plotly cannot draw without
 * a browser, so the SVG is drawn here, from the same numbers: bins, colours and ranges are worked
 * out once and given to both.
 *
 * @module
 */

import { type ColormapName, colormapTable } from "../image/color.ts";
import { FONT_FAMILY } from "../image/svg.ts";
import { DISPLAY, type MimeBundle } from "../display.ts";
import { finiteRange } from "./_values.ts";

/** matplotlib's / Plotly's default colour cycle (tab10). */
export const COLORS = [
  "#1f77b4",
  "#ff7f0e",
  "#2ca02c",
  "#d62728",
  "#9467bd",
  "#8c564b",
  "#e377c2",
  "#7f7f7f",
  "#bcbd22",
  "#17becf",
];

/** A series in a panel. Histograms are binned before they get here (as bars). */
export type Trace =
  | {
    type: "line" | "scatter";
    name?: string;
    x: number[];
    y: number[];
    color?: string;
    dash?: boolean;
    markerSize?: number;
  }
  | {
    type: "bar";
    name?: string;
    /** Category labels, or bin centres when `widths` is given. */
    x: (string | number)[];
    y: number[];
    /** Bar widths in x units (histograms); category bars when omitted. */
    widths?: number[];
    color?: string;
  }
  | {
    type: "heatmap";
    name?: string;
    z: number[][];
    xLabels: string[];
    yLabels: string[];
    colormap: ColormapName;
    /** Write each cell's value in it (confusion matrices). */
    showValues?: boolean;
  };

/** One set of axes. */
export interface Panel {
  title?: string;
  xLabel?: string;
  yLabel?: string;
  traces: Trace[];
  /** Grid lines (default true). */
  grid?: boolean;
  /** Legend (default: when some trace has a name and there are two or more traces). */
  legend?: boolean;
  /** Fixed y range. */
  yRange?: [number, number];
}

/** A figure: panels side by side under an optional title. */
export interface ChartSpec {
  title?: string;
  panels: Panel[];
  width: number;
  height: number;
}

/** Escape text for XML/HTML. */
export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** "Nice" tick values covering [lo, hi] (Heckbert's method). */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [0, 1];
  if (lo === hi) {
    const pad = Math.abs(lo) > 0 ? Math.abs(lo) * 0.1 : 1;
    lo -= pad;
    hi += pad;
  }
  const nice = (x: number, round: boolean) => {
    const exp = Math.floor(Math.log10(x));
    const f = x / 10 ** exp;
    const nf = round
      ? (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10)
      : (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10);
    return nf * 10 ** exp;
  };
  const step = nice(nice(hi - lo, false) / (count - 1), true);
  const start = Math.floor(lo / step) * step, end = Math.ceil(hi / step) * step;
  const ticks: number[] = [];
  for (let v = start; v <= end + step / 2; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

/** Short number formatting for ticks and summaries. */
export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-3) return v.toExponential(2);
  return String(Number(v.toPrecision(4)));
}

function rgbHex(name: ColormapName, t: number): string {
  const lut = colormapTable(name);
  const i = Math.min(255, Math.max(0, Math.floor((Number.isFinite(t) ? t : 0) * 256)));
  const hex = (v: number) => Math.round(v * 255).toString(16).padStart(2, "0");
  return `#${hex(lut[i * 3])}${hex(lut[i * 3 + 1])}${hex(lut[i * 3 + 2])}`;
}

/** Plotly colorscale from a colormap (11 stops). */
function plotlyColorscale(name: ColormapName): [number, string][] {
  return Array.from({ length: 11 }, (_, i) => [i / 10, rgbHex(name, Math.min(i / 10, 0.999))]);
}

function showLegend(panel: Panel): boolean {
  return panel.legend ?? (panel.traces.length > 1 && panel.traces.some((t) => t.name));
}

/** The figure as Plotly `{data, layout}`. */
export function toPlotly(spec: ChartSpec): { data: unknown[]; layout: Record<string, unknown> } {
  const n = spec.panels.length;
  const gap = n > 1 ? 0.08 : 0;
  const width = (1 - gap * (n - 1)) / n;
  const data: unknown[] = [];
  const layout: Record<string, unknown> = {
    width: spec.width,
    height: spec.height,
    template: "plotly_white",
    font: { family: FONT_FAMILY },
    margin: { l: 60, r: 20, t: spec.title ? 70 : 50, b: 50 },
    showlegend: spec.panels.some(showLegend),
    annotations: [] as unknown[],
  };
  const legendNames = new Set<string>();
  if (spec.title) layout.title = { text: spec.title, x: 0.5 };
  spec.panels.forEach((panel, i) => {
    const suffix = i === 0 ? "" : String(i + 1);
    const domain = [i * (width + gap), i * (width + gap) + width];
    const heat = panel.traces.find((t) => t.type === "heatmap");
    layout[`xaxis${suffix}`] = {
      domain,
      anchor: `y${suffix}`,
      title: { text: panel.xLabel ?? "" },
      showgrid: panel.grid ?? true,
      ...(heat ? { type: "category", side: "bottom" } : {}),
    };
    layout[`yaxis${suffix}`] = {
      anchor: `x${suffix}`,
      title: { text: panel.yLabel ?? "" },
      showgrid: panel.grid ?? true,
      ...(panel.yRange ? { range: panel.yRange } : {}),
      ...(heat ? { type: "category", autorange: "reversed" } : {}),
    };
    if (panel.title) {
      (layout.annotations as unknown[]).push({
        text: `<b>${escapeXml(panel.title)}</b>`,
        x: (domain[0] + domain[1]) / 2,
        y: 1.02,
        xref: "paper",
        yref: "paper",
        xanchor: "center",
        yanchor: "bottom",
        showarrow: false,
      });
    }
    for (const [k, t] of panel.traces.entries()) {
      const axes = { xaxis: `x${suffix}`, yaxis: `y${suffix}` };
      const color = "color" in t && t.color ? t.color : COLORS[k % COLORS.length];
      const legendgroup = t.name ?? `trace${k}`;
      // One legend entry per name across panels (history charts repeat "training" twice).
      const first = !!t.name && !legendNames.has(t.name);
      if (t.name) legendNames.add(t.name);
      const common = { name: t.name, legendgroup, showlegend: showLegend(panel) && first, ...axes };
      if (t.type === "line" || t.type === "scatter") {
        data.push({
          type: "scatter",
          mode: t.type === "line" ? "lines" : "markers",
          x: t.x,
          y: t.y,
          line: { color, dash: t.dash ? "dash" : "solid", width: 2 },
          marker: { color, size: t.markerSize ?? 6 },
          ...common,
        });
      } else if (t.type === "bar") {
        data.push({
          type: "bar",
          x: t.x,
          y: t.y,
          ...(t.widths ? { width: t.widths } : {}),
          marker: { color, line: { color: "#ffffff", width: t.widths ? 0.5 : 0 } },
          ...common,
        });
      } else if (t.type === "heatmap") {
        data.push({
          type: "heatmap",
          z: t.z,
          x: t.xLabels,
          y: t.yLabels,
          colorscale: plotlyColorscale(t.colormap),
          ...(t.showValues ? { texttemplate: "%{z}", hovertemplate: "%{y} → %{x}: %{z}" } : {}),
          ...axes,
        });
      }
    }
  });
  return { data, layout };
}

interface Box {
  left: number;
  top: number;
  width: number;
  height: number;
}

function textEl(
  x: number,
  y: number,
  text: string,
  attrs: Record<string, string | number> = {},
): string {
  const extra = Object.entries(attrs).map(([k, v]) => ` ${k}="${v}"`).join("");
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}"${extra}>${escapeXml(text)}</text>`;
}

/** Data range over the numeric traces of a panel. */
function ranges(panel: Panel) {
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  let categories: string[] | undefined;
  for (const t of panel.traces) {
    if (t.type === "heatmap") continue;
    if (t.type === "bar") {
      if (!t.widths) categories = t.x.map(String);
      else {
        t.x.forEach((x, i) => {
          x0 = Math.min(x0, Number(x) - t.widths![i] / 2);
          x1 = Math.max(x1, Number(x) + t.widths![i] / 2);
        });
      }
      const [lo, hi] = finiteRange(t.y);
      y0 = Math.min(y0, 0, lo);
      y1 = Math.max(y1, 0, hi);
      continue;
    }
    for (const x of t.x) if (Number.isFinite(x)) [x0, x1] = [Math.min(x0, x), Math.max(x1, x)];
    for (const y of t.y) if (Number.isFinite(y)) [y0, y1] = [Math.min(y0, y), Math.max(y1, y)];
  }
  if (panel.yRange) [y0, y1] = panel.yRange;
  return { x0, x1, y0, y1, categories };
}

function svgPanel(panel: Panel, box: Box): string {
  const parts: string[] = [];
  const { left, top, width, height } = box;
  if (panel.title) {
    parts.push(textEl(left + width / 2, top - 10, panel.title, {
      "text-anchor": "middle",
      "font-size": 14,
      "font-weight": "bold",
    }));
  }
  const heat = panel.traces.find((t) => t.type === "heatmap");
  if (heat && heat.type === "heatmap") {
    parts.push(svgHeatmap(heat, box));
  } else {
    const { x0, x1, y0, y1, categories } = ranges(panel);
    const yTicks = niceTicks(y0, y1);
    const [ylo, yhi] = panel.yRange ?? [yTicks[0], yTicks[yTicks.length - 1]];
    const sy = (v: number) => top + height - ((v - ylo) / (yhi - ylo || 1)) * height;
    let sx: (v: number) => number;
    let xTickMarks: [number, string][];
    if (categories) {
      const band = width / categories.length;
      sx = (i: number) => left + band * (i + 0.5);
      xTickMarks = categories.map((c, i) => [sx(i), c]);
    } else {
      const xTicks = niceTicks(x0, x1);
      const [xlo, xhi] = [Math.min(x0, xTicks[0]), Math.max(x1, xTicks[xTicks.length - 1])];
      // Markers sit inside the frame: pad the x range a little when a panel has scatter dots.
      const pad = panel.traces.some((t) => t.type === "scatter") ? 0.03 * (x1 - x0 || 1) : 0;
      const lo = Number.isFinite(x0) ? x0 - pad : xlo, hi = Number.isFinite(x1) ? x1 + pad : xhi;
      const span = hi - lo || 1;
      sx = (v: number) => left + ((v - lo) / span) * width;
      xTickMarks = xTicks.filter((v) => v >= lo - 1e-9 && v <= hi + 1e-9).map((v) => [
        sx(v),
        formatNumber(v),
      ]);
    }
    const grid = panel.grid ?? true;
    for (const v of yTicks.filter((t) => t >= ylo - 1e-9 && t <= yhi + 1e-9)) {
      const y = sy(v);
      if (grid) {
        parts.push(
          `<line x1="${left}" x2="${left + width}" y1="${y.toFixed(1)}" y2="${
            y.toFixed(1)
          }" stroke="#e5e5e5"/>`,
        );
      }
      parts.push(
        textEl(left - 6, y + 4, formatNumber(v), { "text-anchor": "end", "font-size": 11 }),
      );
    }
    for (const [x, label] of xTickMarks) {
      if (grid && !categories) {
        parts.push(
          `<line x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${top}" y2="${
            top + height
          }" stroke="#e5e5e5"/>`,
        );
      }
      parts.push(textEl(x, top + height + 16, label, { "text-anchor": "middle", "font-size": 11 }));
    }
    parts.push(
      `<rect x="${left}" y="${top}" width="${width}" height="${height}" fill="none" stroke="#444"/>`,
    );
    panel.traces.forEach((t, k) => {
      const color = "color" in t && t.color ? t.color : COLORS[k % COLORS.length];
      if (t.type === "line") {
        const pts = t.x.map((x, i) => [x, t.y[i]]).filter(([, y]) => Number.isFinite(y));
        const d = pts.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(" ");
        parts.push(
          `<polyline fill="none" stroke="${color}" stroke-width="2"${
            t.dash ? ' stroke-dasharray="6 4"' : ""
          } points="${d}"/>`,
        );
        if (pts.length === 1) {
          parts.push(
            `<circle cx="${sx(pts[0][0]).toFixed(1)}" cy="${
              sy(pts[0][1]).toFixed(1)
            }" r="3" fill="${color}"/>`,
          );
        }
      } else if (t.type === "scatter") {
        const r = (t.markerSize ?? 6) / 2;
        for (let i = 0; i < t.x.length; i++) {
          if (!Number.isFinite(t.y[i])) continue;
          parts.push(
            `<circle cx="${sx(t.x[i]).toFixed(1)}" cy="${
              sy(t.y[i]).toFixed(1)
            }" r="${r}" fill="${color}" fill-opacity="0.8"/>`,
          );
        }
      } else if (t.type === "bar") {
        const bars = panel.traces.filter((b) => b.type === "bar").length;
        const slot = panel.traces.filter((b) => b.type === "bar").indexOf(t);
        t.y.forEach((v, i) => {
          let x: number, w: number;
          if (t.widths) {
            x = sx(Number(t.x[i]) - t.widths[i] / 2);
            w = sx(Number(t.x[i]) + t.widths[i] / 2) - x;
          } else {
            const band = width / t.x.length;
            w = (band * 0.8) / bars;
            x = left + band * i + band * 0.1 + w * slot;
          }
          const y = Math.min(sy(v), sy(0));
          const h = Math.abs(sy(v) - sy(0));
          parts.push(
            `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${
              Math.max(0.5, w).toFixed(1)
            }" ` +
              `height="${h.toFixed(1)}" fill="${color}"${
                t.widths ? ' stroke="#fff" stroke-width="0.5"' : ""
              }/>`,
          );
        });
      }
    });
    if (showLegend(panel)) parts.push(svgLegend(panel, box));
  }
  if (panel.xLabel) {
    parts.push(textEl(left + width / 2, top + height + 36, panel.xLabel, {
      "text-anchor": "middle",
      "font-size": 12,
    }));
  }
  if (panel.yLabel) {
    const x = left - 44, y = top + height / 2;
    parts.push(textEl(x, y, panel.yLabel, {
      "text-anchor": "middle",
      "font-size": 12,
      transform: `rotate(-90 ${x.toFixed(1)} ${y.toFixed(1)})`,
    }));
  }
  return parts.join("");
}

function svgLegend(panel: Panel, box: Box): string {
  const named = panel.traces.map((t, k) => ({ t, k })).filter(({ t }) => t.name);
  const w = Math.max(...named.map(({ t }) => t.name!.length)) * 7 + 34;
  const x = box.left + box.width - w - 6, y = box.top + 6;
  const items = named.map(({ t, k }, i) => {
    const color = "color" in t && t.color ? t.color : COLORS[k % COLORS.length];
    const ly = y + 14 + i * 18;
    const mark = t.type === "scatter"
      ? `<circle cx="${x + 15}" cy="${ly - 4}" r="3.5" fill="${color}"/>`
      : t.type === "line"
      ? `<line x1="${x + 6}" x2="${x + 24}" y1="${ly - 4}" y2="${
        ly - 4
      }" stroke="${color}" stroke-width="2"${t.dash ? ' stroke-dasharray="4 3"' : ""}/>`
      : `<rect x="${x + 9}" y="${ly - 9}" width="10" height="10" fill="${color}"/>`;
    return mark + textEl(x + 30, ly, t.name!, { "font-size": 11 });
  });
  return `<rect x="${x}" y="${y}" width="${w}" height="${
    named.length * 18 + 6
  }" fill="#fff" fill-opacity="0.85" stroke="#ccc"/>` + items.join("");
}

function svgHeatmap(t: Extract<Trace, { type: "heatmap" }>, box: Box): string {
  const rows = t.z.length, cols = t.z[0]?.length ?? 0;
  const values = t.z.flat().filter(Number.isFinite);
  const [lo, hi] = finiteRange(values);
  const cw = box.width / Math.max(cols, 1), ch = box.height / Math.max(rows, 1);
  const parts: string[] = [];
  const fontSize = Math.max(8, Math.min(14, Math.min(cw, ch) / 3));
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const v = t.z[r][c];
      const u = hi > lo ? (v - lo) / (hi - lo) : 0;
      const x = box.left + c * cw, y = box.top + r * ch;
      parts.push(
        `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${(cw + 0.5).toFixed(1)}" height="${
          (ch + 0.5).toFixed(1)
        }" fill="${rgbHex(t.colormap, u)}"/>`,
      );
      if (t.showValues) {
        // Dark text on light cells, light text on dark cells.
        const lut = colormapTable(t.colormap);
        const i = Math.min(255, Math.floor(u * 256));
        const lum = 0.299 * lut[i * 3] + 0.587 * lut[i * 3 + 1] + 0.114 * lut[i * 3 + 2];
        parts.push(textEl(x + cw / 2, y + ch / 2 + fontSize / 3, formatNumber(v), {
          "text-anchor": "middle",
          "font-size": fontSize.toFixed(0),
          fill: lum > 0.5 ? "#000" : "#fff",
        }));
      }
    }
  }
  t.xLabels.forEach((label, c) => {
    parts.push(textEl(box.left + (c + 0.5) * cw, box.top + box.height + 16, label, {
      "text-anchor": "middle",
      "font-size": 11,
    }));
  });
  t.yLabels.forEach((label, r) => {
    parts.push(textEl(box.left - 6, box.top + (r + 0.5) * ch + 4, label, {
      "text-anchor": "end",
      "font-size": 11,
    }));
  });
  return parts.join("");
}

/** The figure as a standalone SVG document. */
export function toSvg(spec: ChartSpec): string {
  const { width, height } = spec;
  const n = spec.panels.length;
  const marginLeft = 64, marginRight = 20, gap = 70;
  const top = spec.title ? 64 : 36, bottom = 52;
  const panelWidth = (width - marginLeft - marginRight - gap * (n - 1)) / n;
  const panels = spec.panels.map((panel, i) =>
    svgPanel(panel, {
      left: marginLeft + i * (panelWidth + gap),
      top,
      width: panelWidth,
      height: height - top - bottom,
    })
  );
  const title = spec.title
    ? textEl(width / 2, 26, spec.title, { "text-anchor": "middle", "font-size": 17 })
    : "";
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
    `viewBox="0 0 ${width} ${height}" font-family="${FONT_FAMILY}">` +
    `<rect width="100%" height="100%" fill="#fff"/>${title}${panels.join("")}</svg>`;
}

/** A one-paragraph text summary of the figure (`text/plain`). */
export function toText(spec: ChartSpec): string {
  const lines = [spec.title ?? "Figure"];
  for (const panel of spec.panels) {
    if (spec.panels.length > 1 || panel.title) lines.push(`  ${panel.title ?? ""}`.trimEnd());
    for (const t of panel.traces) {
      if (t.type === "heatmap") {
        lines.push(`    heatmap ${t.z.length}×${t.z[0]?.length ?? 0}`);
        const width = Math.max(...t.yLabels.map((l) => l.length), 4);
        t.z.forEach((row, r) =>
          lines.push(
            `    ${t.yLabels[r].padStart(width)} ${
              row.map((v) => formatNumber(v).padStart(6)).join(" ")
            }`,
          )
        );
        continue;
      }
      const ys = t.y.filter(Number.isFinite);
      const name = t.name ? `${t.name}: ` : "";
      if (ys.length === 0) lines.push(`    ${name}(no data)`);
      else {
        lines.push(
          `    ${name}${t.type}, ${t.y.length} points, min ${formatNumber(finiteRange(ys)[0])}, ` +
            `max ${formatNumber(finiteRange(ys)[1])}, last ${formatNumber(ys[ys.length - 1])}`,
        );
      }
    }
  }
  return lines.join("\n");
}

/**
 * A chart as a display object: Plotly JSON first, the SVG drawing as the fallback, and a text
 * summary. Save it with `cl.save(chart, "x.png" | "x.svg" | "x.html")`.
 */
export class Chart {
  /** The chart's model (what both renderings are made from). */
  readonly spec: ChartSpec;

  constructor(spec: ChartSpec) {
    this.spec = spec;
  }

  /** Plotly's `{data, layout}`. */
  toPlotly(): { data: unknown[]; layout: Record<string, unknown> } {
    return toPlotly(this.spec);
  }

  /** The static SVG drawing. */
  toSvg(): string {
    return toSvg(this.spec);
  }

  /** The text summary. */
  toString(): string {
    return toText(this.spec);
  }

  /** The MIME bundle notebooks render. */
  [DISPLAY](): MimeBundle {
    return {
      "application/vnd.plotly.v1+json": this.toPlotly(),
      "image/svg+xml": this.toSvg(),
      "text/plain": this.toString(),
    };
  }
}
