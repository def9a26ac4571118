/**
 * The command-line parsing `deno task assign` and `deno task grade` share: `node:util`'s
 * `parseArgs` with positionals and `-h`/`--help`, printing the usage on a bad option.
 *
 * @module
 */
import { parseArgs, type ParseArgsConfig } from "node:util";

type Options = NonNullable<ParseArgsConfig["options"]>;

/**
 * Parse `args` with `options` (plus `-h`/`--help`).
 *
 * @returns the parsed values and positionals, or the exit status when there is nothing more to
 * do: 0 after printing the usage for `--help`, 2 after printing a bad option's error and the
 * usage.
 * @example
 * ```ts
 * import { parseCommandLine } from "./command_line.ts";
 * const parsed = parseCommandLine(["a.ipynb", "--out", "x"], { out: { type: "string" } }, "usage: …");
 * if (typeof parsed !== "number") console.log(parsed.values.out, parsed.positionals); // x ["a.ipynb"]
 * ```
 */
export function parseCommandLine<const O extends Options>(
  args: string[],
  options: O,
  usage: string,
) {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: { ...options, help: { type: "boolean", short: "h" } } as const,
    });
  } catch (e) {
    console.error(`${(e as Error).message}\n\n${usage}`);
    return 2;
  }
  if ((parsed.values as { help?: boolean }).help) {
    console.log(usage);
    return 0;
  }
  return parsed;
}
