// The backend registry: which backends exist, which one is the default, and loading them.
// Kept apart from backend.ts (the interface), which imports no implementation, so no import
// runs in a circle. A network takes a backend in its options; the default is what layers use
// when none is given. Backends register by name so the CLI's `--backend` can pick one.
//
// Loading is explicit, as TensorFlow.js's tf.ready(): importing the library loads nothing (no
// top-level await: it would load WebAssembly as a side effect of importing any layer, break
// iife bundles, and make a worker miss messages sent while it loads).
//  - `await ready(options?)` loads the wasm backend (Node and browsers) and makes it the default
//    unless one was chosen (setBackend, or SCRATCHNET_BACKEND=js|wasm in Node). Idempotent: every
//    call returns the same promise, resolved with the default backend; the first call's
//    options (wasmPaths, wasmBytes, fma, threads) are the ones used.
//  - First use before it: in Node, `getBackend()` loads the wasm backend synchronously (the files
//    are local; a few ms). In browsers it throws a ScratchnetError saying to `await ready()`
//    first (fetching and compiling are asynchronous there). `getBackend('js')` and
//    `setBackend('js')` work everywhere without ready().
//  - In browsers `ready()` also starts the wasm backend's thread pool and waits for its helper
//    workers to run: they start only when the thread yields, which a training loop never does.
//  - Where the wasm backend cannot load (no SIMD, a missing or wrong .wasm file), the default is
//    js and one console.warn line says why: never silently.

import type { Backend } from './backend.js';
import { jsBackend } from './js.js';
import { defaultWasmLoad, type LoadOptions, loadDefaultWasm, loadDefaultWasmSync, type WasmLoad } from './wasm/loader.js';
import { ScratchnetError, UsageError } from '../errors.js';

export type ReadyOptions = LoadOptions;

const isNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';

const registry = new Map<string, Backend>([['js', jsBackend]]);
let chosen: Backend | null = null; // setBackend's
let readyPromise: Promise<Backend> | null = null;
let threadsWanted: number | undefined; // setThreads before the wasm backend loaded
let warned = false;

/** SCRATCHNET_BACKEND (Node): the test suite runs once per backend this way. */
function requested(): string | undefined {
  return isNode ? process.env.SCRATCHNET_BACKEND || undefined : undefined;
}

function withThreads(options: LoadOptions = {}): LoadOptions {
  return threadsWanted !== undefined && options.threads === undefined ? { ...options, threads: threadsWanted } : options;
}

/** Registers a settled load; a failure that costs the default its wasm backend is said aloud. */
function settle(r: WasmLoad): void {
  if (r.backend) {
    if (!registry.has('wasm')) registry.set('wasm', r.backend);
  } else if (!warned && chosen === null && requested() !== 'js') {
    warned = true;
    console.warn(`scratchnet: the wasm backend is unavailable, using the js backend (${r.reason})`);
  }
}

/** The default wasm backend's load result: settled, loaded now (Node), or null (browsers
 *  before ready(), or while ready() is in flight). */
function wasmLoad(): WasmLoad | null {
  const r = defaultWasmLoad() ?? (isNode ? loadDefaultWasmSync(withThreads()) : null);
  if (r) settle(r);
  return r;
}

const NOT_READY = "the wasm backend is not loaded yet: call `await ready()` first (or setBackend('js'))";

function defaultBackend(): Backend {
  if (chosen) return chosen;
  const want = requested();
  if (want === 'js') return jsBackend;
  if (want && want !== 'wasm' && registry.has(want)) return registry.get(want)!;
  const r = wasmLoad();
  if (!r) throw new ScratchnetError(NOT_READY);
  return r.backend ?? jsBackend;
}

/** Loads the default backend (the wasm one where it can run) once; resolves with the default
 *  backend. Idempotent: the same promise on every call. */
export function ready(options: ReadyOptions = {}): Promise<Backend> {
  readyPromise ??= loadDefaultWasm(withThreads(options)).then(async (r) => {
    settle(r);
    // Browsers: a helper worker starts only when this thread yields, which a synchronous
    // training loop never does: start the pool now and wait for its helpers (threads.ts).
    const backend = defaultBackend();
    if (!isNode) await backend.startThreads?.();
    return backend;
  });
  return readyPromise;
}

export function registerBackend(backend: Backend): void {
  registry.set(backend.name, backend);
}

/** Backends available now (in Node the wasm backend is loaded to answer; in browsers it is
 *  listed once ready() has loaded it). */
export function backendNames(): string[] {
  if (isNode) wasmLoad();
  return [...registry.keys()];
}

export function getBackend(name?: string): Backend {
  if (name === undefined) return defaultBackend();
  if (name === 'wasm' && !registry.has('wasm')) {
    const r = wasmLoad();
    if (!r) throw new ScratchnetError(NOT_READY);
    if (!r.backend) throw new UsageError(`the wasm backend is unavailable here: ${r.reason}`);
  }
  const b = registry.get(name);
  if (!b) throw new UsageError(`unknown backend '${name}' (available: ${backendNames().join(', ')})`);
  return b;
}

/** Set the default backend for layers and networks created afterwards. */
export function setBackend(name: string | Backend): Backend {
  const b = typeof name === 'string' ? getBackend(name) : name;
  if (typeof name !== 'string') registry.set(name.name, name);
  chosen = b;
  return b;
}

/** Threads for every registered backend that uses them (the wasm backend's pool; default:
 *  all available cores), and for the wasm backend when it loads later. The change is made at
 *  once; in browsers the promise resolves once the new pool's helper workers run (they start
 *  only when the thread yields: `await setThreads(n)` before a synchronous loop). */
export function setThreads(n: number): Promise<void> {
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`threads must be a positive integer, got ${n}`);
  threadsWanted = n;
  for (const b of registry.values()) b.setThreads?.(n);
  if (isNode) return Promise.resolve();
  return Promise.all([...registry.values()].map((b) => b.startThreads?.())).then(() => undefined);
}
