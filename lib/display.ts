/**
 * The display protocol — the seam between lib and every notebook front end.
 *
 * A display object has a `[Symbol.for("Jupyter.display")]()` method returning a MIME bundle
 * (`{"text/plain": …, "text/html": …, "image/png": base64, "application/vnd.plotly.v1+json": …}`).
 * Deno's own Jupyter kernel and Convlab's kernel both render such objects when they are a cell's
 * result or passed to `Deno.jupyter.display`. Nothing here touches `Deno.jupyter` at import time.
 *
 * @module
 */

/** The symbol Deno's Jupyter kernel looks for. */
export const DISPLAY = Symbol.for("Jupyter.display");

/** A MIME bundle: MIME type → value. */
export type MimeBundle = Record<string, unknown>;

/** Anything that renders itself in a notebook. */
export interface Displayable {
  [DISPLAY](): MimeBundle | Promise<MimeBundle>;
}

/** Whether a value is a display object. */
export function isDisplayable(value: unknown): value is Displayable {
  return typeof value === "object" && value !== null &&
    typeof (value as Record<symbol, unknown>)[DISPLAY] === "function";
}

/** Wrap a MIME bundle (or a function making one) as a display object. */
export function displayable(
  bundle: MimeBundle | (() => MimeBundle | Promise<MimeBundle>),
): Displayable {
  return { [DISPLAY]: typeof bundle === "function" ? bundle : () => bundle };
}

/** The MIME bundle of a display object. */
export async function mimeBundle(value: Displayable): Promise<MimeBundle> {
  return await value[DISPLAY]();
}

interface JupyterApi {
  display(
    obj: unknown,
    options?: { raw?: boolean; update?: boolean; display_id?: string },
  ): Promise<void>;
}

/** `Deno.jupyter` when running inside a notebook kernel (Deno's or Convlab's), else undefined. */
export function jupyterApi(): JupyterApi | undefined {
  try {
    // Outside a kernel, Deno throws on property access.
    return (Deno as unknown as { jupyter?: JupyterApi }).jupyter;
  } catch {
    return undefined;
  }
}

/** Whether code runs inside a notebook kernel. */
export function inNotebook(): boolean {
  return jupyterApi() !== undefined;
}

/**
 * Show a display object now (inside a notebook), optionally under a display id so that later
 * calls with `update: true` replace it in place (live training progress does this).
 * Outside a notebook it prints the `text/plain` form.
 */
export async function show(
  value: Displayable,
  options: { displayId?: string; update?: boolean } = {},
): Promise<void> {
  const api = jupyterApi();
  const bundle = await mimeBundle(value);
  if (api) {
    await api.display(bundle, {
      raw: true,
      update: options.update ?? false,
      ...(options.displayId ? { display_id: options.displayId } : {}),
    });
  } else {
    console.log(String(bundle["text/plain"] ?? ""));
  }
}
