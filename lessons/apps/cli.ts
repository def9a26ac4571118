/**
 * `deno task app digits|classify [--port n] [--model dir] [--host addr]`: the course's two
 * "vision agents" as local web apps.
 *
 * @module
 */

import { parseArgs } from "node:util";

const HELP = `Usage: deno task app <digits|classify> [options]

  digits     Postal-code recognizer (course 8-4): draw five digits, a convnet reads them
             in the browser. Default port 8080.
  classify   Photo classifier (course 8-8 + Grad-CAM): open or drop a PNG/JPEG, see the
             top-5 classes and where the model looked. Default port 8081.

Options:
  --port <n>      Port to listen on (0 = any free port).
  --host <addr>   Interface to listen on (default 127.0.0.1: this computer only;
                  0.0.0.0 lets other machines on your network in).
  --model <dir>   A model folder (model.json + weights) to use instead of the lessons'.
  --epochs <n>    Epochs when the app trains its model (default: the app's choice).
  -h, --help      This help.

Where a model is missing, the page offers to train it (with a progress bar) and saves it
where the lessons do: $CONVLAB_CACHE/models/ (default ~/.cache/convlab/models/).
Stop the app with Ctrl-C.`;

/** Parse and check the CLI's arguments; throws a message for the user on bad input. */
export function parseAppArgs(args: string[]) {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      port: { type: "string" },
      host: { type: "string" },
      model: { type: "string" },
      epochs: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return { help: true as const };
  if (positionals.length !== 1 || !["digits", "classify"].includes(positionals[0])) {
    throw new Error(
      positionals.length === 0
        ? "Which app? Say digits or classify."
        : `Unknown app ${JSON.stringify(positionals.join(" "))}: say digits or classify.`,
    );
  }
  const app = positionals[0] as "digits" | "classify";
  const integer = (name: string, value: string | undefined, min: number, max: number) => {
    if (value === undefined) return undefined;
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new Error(`--${name} must be an integer from ${min} to ${max}, got ${value}`);
    }
    return n;
  };
  return {
    help: false as const,
    app,
    port: integer("port", values.port, 0, 65535) ?? (app === "digits" ? 8080 : 8081),
    host: values.host ?? "127.0.0.1",
    model: values.model,
    epochs: integer("epochs", values.epochs, 1, 1000),
  };
}

async function main(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseAppArgs(args);
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (parsed.help) {
    console.log(HELP);
    return 0;
  }
  try {
    const { app, port, host, model, epochs } = parsed;
    const options = {
      port,
      host,
      model,
      training: epochs ? { epochs } : undefined,
      handleSignals: true,
    };
    const server = app === "digits"
      ? await (await import("./digits.ts")).startDigitsApp(options)
      : await (await import("./classify.ts")).startClassifyApp(options);
    const title = app === "digits" ? "Postal-code recognizer" : "Photo classifier";
    console.log(`${title} running at ${server.url}  (Ctrl-C stops it)`);
    if (host !== "127.0.0.1" && host !== "localhost" && host !== "::1") {
      console.log(`Listening on ${host}: other machines on your network can open it too.`);
    }
    await server.finished;
    return 0;
  } catch (error) {
    console.error((error as Error).message);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
