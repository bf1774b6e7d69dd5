// The wasm backend, as the rest of the library sees it: loading (loader.ts: files, checks,
// synchronous and asynchronous loads, the default instance) and the backend itself
// (wasm-backend.ts: the kernel table over one WebAssembly.Memory). Importing it loads nothing.

export {
  getWasmBackend, loadWasm, loadWasmBackend, loadWasmSync,
  type LoadOptions, type WasmBytes, type WasmFile, type WasmLoad,
} from './loader.js';
export type { WasmBackend } from './wasm-backend.js';
