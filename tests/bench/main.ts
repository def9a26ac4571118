/**
 * `deno task bench <name> [args]`: runs `tests/bench/<name>.ts`, whose default export takes the
 * remaining arguments. Benchmarks print figures; they are never part of `deno task test`.
 */
const [name, ...rest] = Deno.args;
const available = [...Deno.readDirSync(new URL(".", import.meta.url))]
  .map((e) => e.name)
  .filter((n) => n.endsWith(".ts") && n !== "main.ts" && !n.startsWith("_"))
  .map((n) => n.slice(0, -3))
  .sort();
if (!name || !available.includes(name)) {
  console.error(`usage: deno task bench <${available.join("|")}> [options]`);
  Deno.exit(2);
}
const mod = await import(`./${name}.ts`);
await mod.default(rest);
