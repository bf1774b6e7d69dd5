// The trainer worker's entry script: one file for both hosts.
//  - Web Worker (`new Worker(url, { type: 'module' })`): talks through `self`; the query string
//    may name where the .wasm files are (`?wasm=/wasm/`) and the thread count (`&threads=2`).
//  - Node worker_threads (`new Worker(url)`): talks through `parentPort`; `workerData` may hold
//    the same settings ({ wasmPaths, threads }).
// Node's module is taken from process.getBuiltinModule, so this file bundles for browsers with
// no node:* import in it.

import type { ReadyOptions } from '../backend/registry.js';
import type { TrainerCommand, TrainerEvent } from './protocol.js';
import { type Endpoint, serveTrainer } from './serve.js';

interface NodePort {
  postMessage(m: unknown, transfer?: ArrayBuffer[]): void;
  on(event: 'message', f: (m: unknown) => void): void;
}

const proc = (globalThis as { process?: { versions?: { node?: string }; getBuiltinModule?: (id: string) => unknown } }).process;
const nodeThreads = typeof proc?.versions?.node === 'string' && typeof proc.getBuiltinModule === 'function'
  ? (proc.getBuiltinModule('node:worker_threads') as { parentPort: NodePort | null; workerData: unknown })
  : null;

function options(search: URLSearchParams | null, data: unknown): ReadyOptions {
  const o: ReadyOptions = {};
  const d = (data ?? {}) as { wasmPaths?: string; threads?: number };
  const wasm = search?.get('wasm') ?? d.wasmPaths;
  const threads = search?.get('threads') ?? d.threads;
  if (wasm) o.wasmPaths = search ? new URL(wasm, (globalThis as unknown as { location: { href: string } }).location.href) : wasm;
  if (threads !== undefined && threads !== null && Number(threads) >= 1) o.threads = Number(threads);
  return o;
}

if (nodeThreads?.parentPort) {
  const port = nodeThreads.parentPort;
  const endpoint: Endpoint = {
    post: (m: TrainerEvent, transfer?: ArrayBuffer[]) => port.postMessage(m, transfer),
    listen: (f) => port.on('message', (m) => f(m as TrainerCommand)),
  };
  serveTrainer(endpoint, { ready: options(null, nodeThreads.workerData) });
} else if (typeof (globalThis as { postMessage?: unknown }).postMessage === 'function' && typeof (globalThis as { location?: unknown }).location === 'object') {
  const scope = globalThis as unknown as {
    postMessage(m: unknown, transfer?: ArrayBuffer[]): void;
    addEventListener(type: 'message', f: (e: { data: unknown }) => void): void;
    location: { href: string; search: string };
  };
  const endpoint: Endpoint = {
    post: (m, transfer) => scope.postMessage(m, transfer ?? []),
    listen: (f) => scope.addEventListener('message', (e) => f(e.data as TrainerCommand)),
  };
  serveTrainer(endpoint, { ready: options(new URLSearchParams(scope.location.search), null), location: scope.location.href });
}
