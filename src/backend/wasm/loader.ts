// The wasm backend's loader (index.ts re-exports it): finds the kernels built by `npm run build:wasm` (dist/wasm/*.wasm),
// checks them, picks the relaxed-SIMD FMA build where the engine validates it, and sets up
// memory and threads. Importing this module loads nothing: the registry (../registry.ts) calls
// it from `ready()` (async, browsers and Node) or, in Node only, synchronously on the first
// `getBackend()`. There is no top-level await anywhere in the library.
//
//  - The files are found the way bundlers see them: one `new URL('<literal>', import.meta.url)`
//    per file (esbuild, Vite, webpack 5 and Rollup emit the asset for that form only, and
//    rewrite the URL). Running the TypeScript sources (tests through tsx) they are found in the
//    repository's dist/wasm instead. `wasmPaths` (a base URL or prefix) or `wasmBytes` (the
//    modules themselves) override both, as TensorFlow.js's setWasmPaths does.
//  - Where the URL path cannot give a build, `ready()` (the asynchronous loader) takes it from
//    the copy inlined in the JavaScript (inline.ts, reached by a dynamic import that bundlers
//    split off): esbuild's defaults emit no .wasm, an iife bundle has no import.meta.url, a dev
//    server's pre-bundled copy moved away from the files. Where no bundler rewrote the literal
//    and the code no longer sits in its own file (loader.js), the file is known to be absent
//    and is not even requested (a 404 would be a console error); a URL that was tried and
//    failed is named in a warning when the inline copy stands in for it.
//  - Every module is checked for the `\0asm` magic before compiling: a dev server that answers
//    a missing file with its HTML page (status 200) is refused with that reason.
//  - Node 20 has relaxed SIMD behind a flag: turning it on before compiling is enough.
//  - Threads need a shared memory: always in Node; in browsers only with cross-origin
//    isolation (COOP/COEP). Without it the backend runs on one thread with an ordinary memory
//    and says so once. In browsers the pool (Web Workers) exists only when the library itself
//    runs in a worker: Atomics.wait is not allowed on the main thread.
//  - Node built-ins come from `process.getBuiltinModule` (Node 20.16+), so the module graph has
//    no static `node:*` import and bundles for browsers as it is.
//  - A load never throws: it returns the backend or the reason (one line) there is none; the
//    registry turns that reason into a loud fallback to js.
//
// Environment (Node): SCRATCHNET_THREADS=N (pool size, default all cores),
// SCRATCHNET_WASM_FMA=0 (force the plain SIMD build).

import { inlineBuild } from './inline.js';
import { type WasmApi, WasmMemory, type WasmModuleObject, webAssembly } from './memory.js';
import { BROWSER_WORKER_SOURCE, NODE_WORKER_SOURCE, type SpawnWorker, ThreadPool } from './threads.js';
import { createWasmBackend, type Kernels, type WasmBackend } from './wasm-backend.js';

/** The four builds of assembly/kernels.ts (scripts/build-wasm.mjs): plain SIMD or relaxed-SIMD
 *  FMA, each for an ordinary or a shared (threads) memory. */
export type WasmFile = 'simd' | 'fma' | 'simd-shared' | 'fma-shared';
export type WasmBytes = Partial<Record<WasmFile, Uint8Array | ArrayBuffer>>;

export interface LoadOptions {
  /** Use the relaxed-SIMD FMA build where available (default true; SCRATCHNET_WASM_FMA=0 in Node). */
  fma?: boolean;
  /** Thread pool size (default: SCRATCHNET_THREADS in Node, else available cores; 1 where
   *  threads are unavailable). */
  threads?: number;
  /** Where the .wasm files are, instead of next to the library: a base URL (`new URL(name,
   *  base)`) or a string prefix (`prefix + name`, e.g. 'https://cdn.example/scratchnet/' or, in
   *  Node, a folder path ending in '/'). Names: kernels-simd.wasm, kernels-fma.wasm,
   *  kernels-simd-shared.wasm, kernels-fma-shared.wasm. */
  wasmPaths?: string | URL;
  /** The modules themselves (fetched or bundled by the application); builds left out are not
   *  looked for elsewhere. */
  wasmBytes?: WasmBytes;
}

/** A load's outcome: the backend, or one line saying why there is none. */
export type WasmLoad = { backend: WasmBackend; reason: null } | { backend: null; reason: string };

// One literal per file, so that bundlers emit it (and rewrite the URL to the emitted asset).
// Functions, not constants: where a bundle has no import.meta.url (an iife or CommonJS
// bundle), `new URL` throws, and that must only fail the load (with a reason), not the import.
const BUNDLED: Record<WasmFile, () => URL> = {
  simd: () => new URL('../../wasm/kernels-simd.wasm', import.meta.url),
  fma: () => new URL('../../wasm/kernels-fma.wasm', import.meta.url),
  'simd-shared': () => new URL('../../wasm/kernels-simd-shared.wasm', import.meta.url),
  'fma-shared': () => new URL('../../wasm/kernels-fma-shared.wasm', import.meta.url),
};
// Running src/backend/wasm/index.ts itself (tsx): the build output is in <repo>/dist/wasm. Built
// from a variable so that bundlers do not take it for an asset (it exists in no package).
const FROM_SOURCES = '../../../dist/wasm/';

const isNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';

interface NodeModules {
  'node:fs': typeof import('node:fs');
  'node:v8': typeof import('node:v8');
  'node:os': typeof import('node:os');
  'node:worker_threads': typeof import('node:worker_threads');
}
/** A Node built-in without an import statement (Node 20.16+), or null elsewhere. */
function builtin<K extends keyof NodeModules>(id: K): NodeModules[K] | null {
  const get = isNode ? (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule : undefined;
  return get ? (get(id) as NodeModules[K]) : null;
}

function env(name: string): string | undefined {
  return isNode ? process.env[name] : undefined;
}

let notified = false;
function noticeOnce(line: string): void {
  if (notified) return;
  notified = true;
  console.warn(`scratchnet: ${line}`);
}

/** Where a build is read from, for reading and for messages; null where this bundle has no
 *  import.meta.url to find it by (an iife or CommonJS bundle). */
function locate(file: WasmFile, options: LoadOptions): URL | string | null {
  const name = `kernels-${file}.wasm`;
  const base = options.wasmPaths;
  if (base instanceof URL) return new URL(name, base);
  if (typeof base === 'string') return base + name;
  const here: unknown = import.meta.url;
  if (typeof here !== 'string') return null;
  if (here.endsWith('.ts')) return new URL(FROM_SOURCES + name, here);
  return BUNDLED[file]();
}
const NO_BASE = 'no import.meta.url in this bundle to find the .wasm files by: pass ready({ wasmPaths }) or ready({ wasmBytes })';
const AS_WRITTEN = '../../wasm/';

/** True where the build's literal URL points nowhere: no bundler rewrote it (it still resolves
 *  to what it says, relative to import.meta.url) and this code is not in its own file any more
 *  (an esbuild or Rollup bundle, a dev server's pre-bundled copy), so the file it names was not
 *  emitted. Also true where there is no import.meta.url. */
function literalPointsNowhere(file: WasmFile, options: LoadOptions): boolean {
  if (options.wasmPaths !== undefined) return false;
  const here: unknown = import.meta.url;
  if (typeof here !== 'string') return true;
  if (/\/backend\/wasm\/loader\.[jt]s([?#].*)?$/.test(here)) return false; // not bundled: the files are where it says
  try {
    // Built with join, not a literal or a template, so that no bundler takes it for an asset.
    return BUNDLED[file]().href === new URL([AS_WRITTEN, 'kernels-', file, '.wasm'].join(''), here).href;
  } catch {
    return true;
  }
}

let inlineNoticed = false;

/** A build's bytes for the asynchronous loader: from its URL, else from the inline copy (the
 *  URL's failure, if one was tried, is said once); else why there are none. */
async function fetchBuild(file: WasmFile, options: LoadOptions): Promise<Source> {
  const where = locate(file, options);
  if (where === null || literalPointsNowhere(file, options)) {
    const inline = await inlineBuild(file);
    return typeof inline === 'string' ? `${where === null ? NO_BASE : 'not emitted by this bundle'}; ${inline}` : inline;
  }
  const got = await readAsync(where);
  const bad = typeof got === 'string' ? got : notWasm(got);
  if (bad === null) return got;
  const inline = await inlineBuild(file);
  if (typeof inline === 'string') return got; // the URL's reason is the one to give
  if (!inlineNoticed) {
    inlineNoticed = true;
    console.warn(`scratchnet: ${String(where)}: ${bad}; using the copy of the kernels inlined in the JavaScript instead`);
  }
  return inline;
}

type Source = Uint8Array | string; // the bytes, or why there are none

/** In Node: a file: URL or a path, read now; anything else cannot be read synchronously. */
function readSync(where: URL | string): Source | null {
  const fs = builtin('node:fs');
  const isFile = where instanceof URL ? where.protocol === 'file:' : !/^[a-z][a-z0-9+.-]*:\/\//i.test(where);
  if (!fs || !isFile) return null;
  try {
    return fs.readFileSync(where);
  } catch (e) {
    return (e as { code?: string }).code === 'ENOENT' ? 'not found' : String((e as Error).message ?? e);
  }
}

async function readAsync(where: URL | string): Promise<Source> {
  const local = readSync(where);
  if (local !== null) return local;
  try {
    const r = await fetch(where);
    if (!r.ok) return `HTTP ${r.status}`;
    return new Uint8Array(await r.arrayBuffer());
  } catch (e) {
    return `cannot be fetched (${String((e as Error).message ?? e)})`;
  }
}

/** The \0asm magic and version 1; else a short description of what the bytes are. */
function notWasm(bytes: Uint8Array): string | null {
  if (bytes.length >= 8 && bytes[0] === 0 && bytes[1] === 0x61 && bytes[2] === 0x73 && bytes[3] === 0x6d) return null;
  const head = Array.from(bytes.subarray(0, 16), (b) => (b >= 32 && b < 127 ? String.fromCharCode(b) : '.')).join('');
  const html = /^\s*</.test(head) ? ': an HTML page served for a missing file?' : '';
  return bytes.length === 0 ? 'empty, not a WebAssembly module' : `not a WebAssembly module (no \\0asm magic; it starts with "${head}"${html})`;
}

/** Host facts a load depends on. */
interface Host {
  canShare: boolean;
  cores: number;
  spawn: SpawnWorker | null;
  candidates: WasmFile[];
}

function host(options: LoadOptions): Host {
  let cores = 1;
  let spawn: SpawnWorker | null = null;
  if (isNode) {
    // Relaxed SIMD is off by default in Node 20; harmless where it is already on.
    try {
      builtin('node:v8')?.setFlagsFromString('--experimental-wasm-relaxed-simd');
    } catch {
      // flag unknown: the probe (validate) decides
    }
    const os = builtin('node:os');
    if (os) cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
    const Worker = builtin('node:worker_threads')?.Worker;
    if (Worker) {
      spawn = (data, failed) => {
        const w = new Worker(NODE_WORKER_SOURCE, { eval: true, workerData: data });
        w.unref(); // the pool never keeps a process alive
        w.on('error', (e) => failed(String(e?.message ?? e))); // a failed worker only means fewer hands: chunks still get done
        return { terminate: () => void w.terminate() };
      };
    }
  } else {
    const g = globalThis as unknown as {
      navigator?: { hardwareConcurrency?: number };
      Worker?: new (url: string) => { postMessage(d: unknown): void; terminate(): void; addEventListener(t: 'error', f: (e: unknown) => void): void };
      Blob?: new (parts: string[], o: { type: string }) => object;
      URL: { createObjectURL?(b: object): string };
      WorkerGlobalScope?: unknown;
    };
    cores = g.navigator?.hardwareConcurrency ?? 1;
    // Atomics.wait (which the calling thread uses to wait for the pool) is only allowed off the
    // main thread: inside a worker the pool is Web Workers, on the main thread there is none.
    if (g.WorkerGlobalScope !== undefined && g.Worker && g.Blob && g.URL.createObjectURL) {
      const url = g.URL.createObjectURL(new g.Blob([BROWSER_WORKER_SOURCE], { type: 'text/javascript' }));
      const W = g.Worker;
      // Such a nested worker starts only once this thread yields to its event loop (threads.ts).
      spawn = (data, failed) => {
        try {
          const w = new W(url);
          w.addEventListener('error', (e) => failed(String((e as { message?: string }).message ?? 'error')));
          w.postMessage(data);
          return { terminate: () => w.terminate() };
        } catch (e) {
          failed(String((e as Error).message ?? e)); // e.g. a CSP without blob: workers: fewer hands, no error
          return { terminate: () => undefined };
        }
      };
    }
  }
  const canShare = typeof SharedArrayBuffer !== 'undefined' && (isNode || (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true);
  const fma = options.fma ?? env('SCRATCHNET_WASM_FMA') !== '0';
  const flavors: ('fma' | 'simd')[] = fma ? ['fma', 'simd'] : ['simd'];
  // Best first: shared memory (threads, no staging), FMA. The plain-memory builds come last in
  // Node too, for `wasmBytes` that hold only those.
  const candidates: WasmFile[] = [];
  if (canShare) for (const f of flavors) candidates.push(`${f}-shared`);
  for (const f of flavors) candidates.push(f);
  return { canShare, cores, spawn, candidates };
}

interface Choice {
  file: WasmFile;
  bytes: Uint8Array;
}

/** Walks the candidate builds, best first: receives each one's bytes (or why there are none)
 *  and returns the first that is a WebAssembly module this engine validates, or the reason
 *  there is none. A generator, so the synchronous and the asynchronous loaders share it. */
function* choose(WA: WasmApi, hostFacts: Host, options: LoadOptions): Generator<WasmFile, Choice | string, Source> {
  let reason = 'no build to try';
  let present = false; // a reason about bytes that exist beats "not found"
  for (const file of hostFacts.candidates) {
    const got: Source = yield file;
    const where = options.wasmBytes ? `wasmBytes['${file}']` : String(locate(file, options) ?? `kernels-${file}.wasm`);
    let why: string;
    if (typeof got === 'string') why = got;
    else {
      const bad = notWasm(got);
      if (bad === null && WA.validate(got)) return { file, bytes: got };
      why = bad ?? (file.startsWith('fma') ? 'relaxed SIMD is not supported by this engine' : 'WebAssembly SIMD is not supported by this engine');
    }
    if (typeof got !== 'string' || !present) {
      reason = `${where}: ${why}`;
      present ||= typeof got !== 'string';
    }
  }
  return reason;
}

function given(file: WasmFile, options: LoadOptions): Source {
  const b = options.wasmBytes?.[file];
  if (b === undefined) return 'not given';
  return b instanceof Uint8Array ? b : new Uint8Array(b);
}

/** Memory, kernels and the pool around an instantiated module. */
function assemble(module: WasmModuleObject, exports: object, memory: WasmMemory, file: WasmFile, h: Host, options: LoadOptions): WasmBackend {
  const kernels = exports as unknown as Kernels;
  const shared = memory.shared;
  // The pool needs shared memory and a thread that may block in Atomics.wait (Node, or a
  // browser worker).
  const threadsAvailable = shared && h.spawn !== null;
  if (!shared && !isNode && h.cores > 1) noticeOnce('no cross-origin isolation (COOP/COEP headers): the wasm backend runs on one thread');
  if (!shared && isNode) noticeOnce(`kernels-${file}.wasm has no shared memory: the wasm backend runs on one thread`);
  const maxThreads = threadsAvailable ? Math.max(1, Math.min(64, h.cores)) : 1;
  const envThreads = Number(env('SCRATCHNET_THREADS'));
  const defaultThreads = Math.min(maxThreads, options.threads ?? (Number.isInteger(envThreads) && envThreads > 0 ? envThreads : h.cores));
  const sp = h.spawn;
  return createWasmBackend({
    kernels, memory, flavor: file.startsWith('fma') ? 'fma' : 'simd', maxThreads, defaultThreads,
    makePool: threadsAvailable && sp ? (n, scratch) => new ThreadPool(memory, module, kernels.runChunk, scratch.slice(0, n), sp, { browser: !isNode }) : undefined,
  });
}

function newMemory(WA: WasmApi, file: WasmFile): WasmMemory {
  const shared = file.endsWith('-shared');
  return new WasmMemory(new WA.Memory({ initial: 64, maximum: 65536, shared }), shared);
}

const noWasm = (reason: string): WasmLoad => ({ backend: null, reason });

/** Loads a wasm backend now, synchronously (Node: files are read with fs, the module compiled
 *  with `new WebAssembly.Module`). Where that is impossible (browsers, http URLs) the reason
 *  says so: use `loadWasm` / `ready()` there. */
export function loadWasmSync(options: LoadOptions = {}): WasmLoad {
  const WA = webAssembly;
  if (!WA) return noWasm('this engine has no WebAssembly');
  try {
    const h = host(options);
    const walk = choose(WA, h, options);
    let step = walk.next();
    while (!step.done) {
      const file = step.value;
      const where = options.wasmBytes ? undefined : locate(file, options);
      step = walk.next(where === undefined ? given(file, options) : where === null ? NO_BASE : (readSync(where) ?? 'cannot be read synchronously: call `await ready()`'));
    }
    const choice = step.value;
    if (typeof choice === 'string') return noWasm(choice);
    const memory = newMemory(WA, choice.file);
    const module = new WA.Module(choice.bytes);
    const instance = new WA.Instance(module, { env: { memory: memory.memory } });
    return { backend: assemble(module, instance.exports, memory, choice.file, h, options), reason: null };
  } catch (e) {
    return noWasm(`the kernels failed to load: ${String((e as Error).message ?? e)}`);
  }
}

/** Loads a wasm backend (browsers: fetch and asynchronous compilation). Never rejects. */
export async function loadWasm(options: LoadOptions = {}): Promise<WasmLoad> {
  const WA = webAssembly;
  if (!WA) return noWasm('this engine has no WebAssembly');
  try {
    const h = host(options);
    const walk = choose(WA, h, options);
    let step = walk.next();
    while (!step.done) {
      const file = step.value;
      step = walk.next(options.wasmBytes ? given(file, options) : await fetchBuild(file, options));
    }
    const choice = step.value;
    if (typeof choice === 'string') return noWasm(choice);
    const memory = newMemory(WA, choice.file);
    const module = await WA.compile(choice.bytes);
    const instance = await WA.instantiate(module, { env: { memory: memory.memory } });
    return { backend: assemble(module, instance.exports, memory, choice.file, h, options), reason: null };
  } catch (e) {
    return noWasm(`the kernels failed to load: ${String((e as Error).message ?? e)}`);
  }
}

/** A new, independent wasm backend (its own memory and pool), or null where WebAssembly SIMD
 *  or the kernels are unavailable (`loadWasm` says why). The default one is the registry's:
 *  `getBackend('wasm')` after `await ready()`. */
export async function loadWasmBackend(options: LoadOptions = {}): Promise<WasmBackend | null> {
  return (await loadWasm(options)).backend;
}

// ---- the default instance (the one the registry hands out) ----------------------------------

let settled: WasmLoad | null = null;
let pending: Promise<WasmLoad> | null = null;

/** The default wasm backend if it has been loaded (by `ready()` or a first `getBackend()` in
 *  Node), else null. Loads nothing. */
export function getWasmBackend(): WasmBackend | null {
  return settled?.backend ?? null;
}



/** The default instance's load result, if settled (for the registry). */
export function defaultWasmLoad(): WasmLoad | null {
  return settled;
}

/** Loads the default instance once, synchronously (Node); null while an asynchronous load is
 *  in flight (its result is not known yet). */
export function loadDefaultWasmSync(options: LoadOptions = {}): WasmLoad | null {
  if (settled || pending) return settled;
  settled = loadWasmSync(options);
  return settled;
}

/** Loads the default instance once (the same promise on every call). In Node the files are
 *  local, so the synchronous loader is tried first there: a `getBackend()` racing `ready()` then
 *  cannot build a second instance. Where it finds no usable file (a bundle made for Node, a
 *  wrong `wasmPaths`), the asynchronous loader runs, which has the inline copy. */
export function loadDefaultWasm(options: LoadOptions = {}): Promise<WasmLoad> {
  if (settled) return Promise.resolve(settled);
  if (!pending) {
    const local = isNode && builtin('node:fs') !== null && !(options.wasmPaths !== undefined && /^https?:/i.test(String(options.wasmPaths)));
    if (local) {
      const r = loadWasmSync(options);
      if (r.backend || options.wasmBytes) return Promise.resolve((settled = r));
    }
    pending = loadWasm(options).then((r) => (settled ??= r));
  }
  return pending;
}
