// resvg's WebAssembly, compiled through a source-phase import: Deno loads module files without
// any read permission, so SVG rasterising works in sandboxed kernels (an fs read of the .wasm
// would need --allow-read on node_modules). TypeScript cannot parse `import source` yet, hence
// this small .js file with its .d.ts.
import source resvgWasm from "@resvg/resvg-wasm/index_bg.wasm";
export default resvgWasm;
