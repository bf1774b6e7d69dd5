// The backend registry: which backends exist, which one is the default, and loading them.
// Kept apart from backend.ts (the interface), which imports no implementation, so no import
// runs in a circle.

import type { Backend } from './backend.js';
// A network takes a backend in its options; this default is what layers use when none is
// given. Backends register themselves by name so the CLI's `--backend` can pick one.

import { jsBackend } from './js.js';
import { wasmBackend } from './wasm/index.js';
import { UsageError } from '../errors.js';

const registry = new Map<string, Backend>([['js', jsBackend]]);
if (wasmBackend) registry.set('wasm', wasmBackend);
// The default: wasm where it loaded (WebAssembly SIMD), else js; SCRATCHNET_BACKEND=js|wasm
// overrides it (the test suite runs once per backend this way).
const requested = typeof process !== 'undefined' ? process.env?.SCRATCHNET_BACKEND : undefined;
let current: Backend = (requested && registry.get(requested)) || wasmBackend || jsBackend;

export function registerBackend(backend: Backend): void {
  registry.set(backend.name, backend);
}

export function backendNames(): string[] {
  return [...registry.keys()];
}

export function getBackend(name?: string): Backend {
  if (name === undefined) return current;
  const b = registry.get(name);
  if (!b) throw new UsageError(`unknown backend '${name}' (available: ${backendNames().join(', ')})`);
  return b;
}

/** Set the default backend for layers and networks created afterwards. */
export function setBackend(name: string | Backend): Backend {
  current = typeof name === 'string' ? getBackend(name) : name;
  if (typeof name !== 'string') registry.set(name.name, name);
  return current;
}

/** Threads for every registered backend that uses them (the wasm backend's pool; default:
 *  all available cores). */
export function setThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`threads must be a positive integer, got ${n}`);
  for (const b of registry.values()) b.setThreads?.(n);
}
