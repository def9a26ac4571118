/**
 * `cl.show`: the course's pictures in one call each — and, called as a function,
 * `cl.show(visual, {displayId, update})` displays a visual now (from inside a loop, say), as
 * `lib/display.ts`'s `show` does.
 *
 * @example
 * ```ts
 * import { show } from "./show.ts";
 * const chart = show.history({ loss: [1, 0.5], val_loss: [1.1, 0.7] });
 * await show(chart); // inside a notebook: displays it now; elsewhere prints its text form
 * ```
 *
 * @module
 */

import { show as showNow } from "../display.ts";
import { history, smoothCurve } from "./history.ts";
import { featureMaps, images, misclassified } from "./images.ts";
import { confusionMatrix } from "./confusion.ts";
import { table } from "./table.ts";
import { progress } from "./progress.ts";

export type { HistoryOptions } from "./history.ts";
export type { FeatureMapOptions, ImagesOptions, MisclassifiedOptions } from "./images.ts";
export type { ConfusionOptions } from "./confusion.ts";
export type { TableOptions } from "./table.ts";
export type { ProgressOptions } from "./progress.ts";

/** Display a visual now, and the `cl.show.*` visuals as its members. */
export const show: typeof showNow & {
  history: typeof history;
  smoothCurve: typeof smoothCurve;
  images: typeof images;
  featureMaps: typeof featureMaps;
  misclassified: typeof misclassified;
  confusionMatrix: typeof confusionMatrix;
  table: typeof table;
  progress: typeof progress;
} = Object.assign(
  (...args: Parameters<typeof showNow>) => showNow(...args),
  { history, smoothCurve, images, featureMaps, misclassified, confusionMatrix, table, progress },
);
