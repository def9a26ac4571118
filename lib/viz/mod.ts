/**
 * Visuals: every one is a display object (`[Symbol.for("Jupyter.display")]()`) that renders
 * inline in Deno's Jupyter kernel and Convlab's, with fallbacks for viewers without Plotly, and
 * that `save` writes to .png / .svg / .html.
 *
 * - `cl.plot.line | scatter | bar | heatmap | histogram`
 * - `cl.show.history | images | featureMaps | confusionMatrix | misclassified | table | progress`
 * - `cl.save(visual, path)`
 *
 * @module
 */

export * as plot from "./plot.ts";
export { show } from "./show.ts";
export { save, type SaveOptions } from "./save.ts";
export { Chart, type ChartSpec, type Panel, type Trace } from "./chart.ts";
export { ImageGrid, type Tile } from "./images.ts";
export { Table } from "./table.ts";
export { installProgressDisplay, TrainingProgress } from "./progress.ts";

import { installProgressDisplay } from "./progress.ts";
// fit(..., {verbose: 1}) shows the live chart inside notebooks (nothing runs until fit is called).
installProgressDisplay();
