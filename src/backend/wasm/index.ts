// Loads the wasm backend: finds the kernels built by `npm run build` (dist/wasm/*.wasm, found
// relative to this module, so neither Node nor a browser needs a path from the user), picks the
// relaxed-SIMD FMA build where the engine validates it, and sets up memory and threads.
//
//  - Node 20 has relaxed SIMD behind a flag: turning it on before compiling is enough.
//  - Threads need a shared memory: always in Node; in browsers only with cross-origin
//    isolation (COOP/COEP). Without it the backend runs on one thread with an ordinary memory
//    and says so once. In browsers the pool (Web Workers) exists only when the library itself
//    runs in a worker: Atomics.wait is not allowed on the main thread.
//  - Without WebAssembly SIMD, or if the .wasm files are missing, there is no wasm backend and
//    `js` stays the default.
//
// Environment (Node): SCRATCHNET_THREADS=N (pool size, default all cores),
// SCRATCHNET_WASM_FMA=0 (force the plain SIMD build).

import { WasmMemory, webAssembly } from './memory.js';
import { BROWSER_WORKER_SOURCE, NODE_WORKER_SOURCE, type SpawnWorker, ThreadPool } from './threads.js';
import { createWasmBackend, type Kernels, type WasmBackend } from './wasm-backend.js';

export type { WasmBackend } from './wasm-backend.js';

const isNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';

/** Where the .wasm files may be: next to the compiled library (dist/wasm) or, when running
 *  the TypeScript sources directly (tests through tsx), in the package's dist/wasm. */
const locations = [new URL('../../wasm/', import.meta.url), new URL('../../../dist/wasm/', import.meta.url)];

async function readBytes(name: string): Promise<Uint8Array | null> {
  for (const dir of locations) {
    const url = new URL(name, dir);
    try {
      if (isNode) {
        const fs = await import('node:fs');
        if (fs.existsSync(url)) return fs.readFileSync(url);
      } else {
        const r = await fetch(url);
        if (r.ok) return new Uint8Array(await r.arrayBuffer());
      }
    } catch {
      // try the next location
    }
  }
  return null;
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

export interface LoadOptions {
  /** Use the relaxed-SIMD FMA build where available (default true). */
  fma?: boolean;
  /** Thread pool size (default: available cores; 1 where threads are unavailable). */
  threads?: number;
}

export async function loadWasmBackend(options: LoadOptions = {}): Promise<WasmBackend | null> {
  const WA = webAssembly;
  if (!WA) return null;
  let cores = 1;
  let spawn: SpawnWorker | null = null;
  if (isNode) {
    const v8 = await import('node:v8');
    // Relaxed SIMD is off by default in Node 20; harmless where it is already on.
    try {
      v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
    } catch {
      // flag unknown: the probe below decides
    }
    const os = await import('node:os');
    cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
    const { Worker } = await import('node:worker_threads');
    spawn = (data) => {
      const w = new Worker(NODE_WORKER_SOURCE, { eval: true, workerData: data });
      w.unref(); // the pool never keeps a process alive
      w.on('error', () => undefined); // a failed worker only means fewer hands: chunks still get done
      return { terminate: () => void w.terminate() };
    };
  } else {
    const g = globalThis as unknown as {
      navigator?: { hardwareConcurrency?: number };
      Worker?: new (url: string) => { postMessage(d: unknown): void; terminate(): void };
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
      spawn = (data) => {
        const w = new W(url);
        w.postMessage(data);
        return { terminate: () => w.terminate() };
      };
    }
  }
  const canShare = typeof SharedArrayBuffer !== 'undefined' && (isNode || (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true);
  const suffix = canShare ? '-shared.wasm' : '.wasm';

  const wantFma = options.fma ?? env('SCRATCHNET_WASM_FMA') !== '0';
  let flavor: 'fma' | 'simd' = 'simd';
  let bytes: Uint8Array | null = null;
  if (wantFma) {
    const fma = await readBytes(`kernels-fma${suffix}`);
    // The probe: a module using the FMA opcode validates only where relaxed SIMD exists.
    if (fma && WA.validate(fma)) {
      bytes = fma;
      flavor = 'fma';
    }
  }
  if (!bytes) {
    const simd = await readBytes(`kernels-simd${suffix}`);
    if (!simd || !WA.validate(simd)) return null;
    bytes = simd;
  }

  const memory = new WA.Memory({ initial: 64, maximum: 65536, shared: canShare });
  const module = await WA.compile(bytes);
  const instance = await WA.instantiate(module, { env: { memory } });
  const kernels = instance.exports as unknown as Kernels;
  const mem = new WasmMemory(memory, canShare);

  // The pool needs shared memory and a thread that may block in Atomics.wait (Node, or a
  // browser worker).
  const threadsAvailable = canShare && spawn !== null;
  if (!canShare && !isNode && cores > 1) noticeOnce('no cross-origin isolation (COOP/COEP headers): the wasm backend runs on one thread');
  const maxThreads = threadsAvailable ? Math.max(1, Math.min(64, cores)) : 1;
  const envThreads = Number(env('SCRATCHNET_THREADS'));
  const defaultThreads = Math.min(maxThreads, options.threads ?? (Number.isInteger(envThreads) && envThreads > 0 ? envThreads : cores));
  const sp = spawn;
  return createWasmBackend({
    kernels, memory: mem, flavor, maxThreads, defaultThreads,
    makePool: threadsAvailable && sp ? (n, scratch) => new ThreadPool(mem, module, kernels.runChunk, scratch.slice(0, n), sp) : undefined,
  });
}

/** The backend loaded at startup (null where WebAssembly SIMD or the kernels are unavailable). */
export const wasmBackend: WasmBackend | null = await loadWasmBackend().catch((e: unknown) => {
  if (env('SCRATCHNET_DEBUG')) console.warn('scratchnet: wasm backend unavailable:', e);
  return null;
});
