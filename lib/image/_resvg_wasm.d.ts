/** resvg's compiled WebAssembly module. */
declare const resvgWasm: WebAssembly.Module;
export default resvgWasm;
