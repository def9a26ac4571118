/**
 * Atomic file writes for lib (images, saved visuals): write a temporary file beside the target,
 * then rename it over the target, so a reader never sees a half-written file. (The kernel has its
 * own `writeFileAtomic`; lib does not import kernel internals.)
 *
 * @module
 */

import { dirname } from "node:path";

/**
 * Write bytes or text to `path` atomically, creating the parent folder if needed.
 *
 * @example
 * ```ts
 * import { writeFileAtomic } from "./_fs.ts";
 * const path = await Deno.makeTempFile();
 * await writeFileAtomic(path, "hello");
 * ```
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const dir = dirname(path);
  await Deno.mkdir(dir, { recursive: true });
  const temp = `${path}.tmp-${crypto.randomUUID().slice(0, 8)}`;
  try {
    if (typeof data === "string") await Deno.writeTextFile(temp, data);
    else await Deno.writeFile(temp, data);
    await Deno.rename(temp, path);
  } catch (error) {
    await Deno.remove(temp).catch(() => {});
    throw error;
  }
}
