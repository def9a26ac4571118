/**
 * `deno task data`: fetch datasets into the cache and see what is available.
 *
 * ```sh
 * deno task data status                      # what each loader would use now, and where
 * deno task data fetch mnist fashion-mnist   # download (sha256-checked) into the cache
 * deno task data fetch all --mirror https://course.example/data/
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { cacheDir, datasetDir } from "./cache.ts";
import { fetchDataset, locateDataset } from "./fetch.ts";
import { formatBytes } from "./files.ts";
import { MANIFEST } from "./manifest.ts";

const USAGE = `usage: deno task data <command> [options]

commands:
  status                 show, per dataset, whether the full set is cached or installed
  fetch <name…|all>      download into the cache, checking sha256 (names: ${
  Object.keys(MANIFEST.datasets).join(", ")
})

options:
  --cache-dir DIR        cache folder (default $CONVLAB_CACHE, $XDG_CACHE_HOME/convlab, ~/.cache/convlab)
  --mirror URL           try URL/<file name> before the canonical URLs ($CONVLAB_DATA_MIRROR)
  -h, --help             this help`;

/** What each loader gives when the full set is missing. */
const OFFLINE: Record<string, string> = {
  mnist: "the 10,000 embedded digits",
  cifar10: "the procedural stand-in",
};

/** Run the CLI with arguments; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        "cache-dir": { type: "string" },
        mirror: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [command, ...names] = positionals;
  if (values.help || !command) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  const options = { cacheDir: values["cache-dir"] ?? cacheDir(), mirror: values.mirror };
  const known = Object.keys(MANIFEST.datasets);
  if (command === "status") {
    console.log(`cache folder: ${options.cacheDir ?? "(unknown: set CONVLAB_CACHE)"}`);
    for (const name of known) {
      const found = await locateDataset(name, options);
      const size = MANIFEST.datasets[name].files.reduce((sum, f) => sum + f.size, 0);
      console.log(
        `${name.padEnd(14)} ${
          found
            ? `full set ${found.where === "cache" ? "cached" : "installed"} in ${found.dir}`
            : `not cached, so loaders give ${OFFLINE[name] ?? "an error saying how to get it"} (${
              formatBytes(size)
            } to fetch into ${datasetDir(name, options.cacheDir)})`
        }`,
      );
    }
    return 0;
  }
  if (command === "fetch") {
    const wanted = names.includes("all") ? known : names;
    const unknown = wanted.filter((n) => !known.includes(n));
    if (wanted.length === 0 || unknown.length > 0) {
      console.error(
        `${
          unknown.length ? `unknown dataset ${unknown.join(", ")}` : "no dataset named"
        }; choose from ${known.join(", ")} or all`,
      );
      return 2;
    }
    for (const name of wanted) {
      try {
        const dir = await fetchDataset(name, options);
        console.log(`${name}: ok (${dir})`);
      } catch (error) {
        console.error(`${name}: ${(error as Error).message}`);
        return 1;
      }
    }
    return 0;
  }
  console.error(`unknown command "${command}"\n\n${USAGE}`);
  return 2;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
