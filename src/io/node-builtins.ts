// Node built-ins for the modules the universal entry reaches (`import 'scratchnet'`): taken from
// `process.getBuiltinModule` (Node 20.16+) when a function that needs them runs, never by a static
// `import 'node:*'`, so that a browser bundler meets no Node module in the graph and a page that
// calls only the byte-level functions never needs them. Types come from `import type` (erased).

import { ScratchnetError } from '../errors.js';

type Builtins = {
  'node:fs': typeof import('node:fs');
  'node:fs/promises': typeof import('node:fs/promises');
  'node:path': typeof import('node:path');
  'node:zlib': typeof import('node:zlib');
  'node:stream/promises': typeof import('node:stream/promises');
  'node:module': typeof import('node:module');
};

/** A Node built-in module, or one line saying that this function needs Node. */
export function nodeBuiltin<K extends keyof Builtins>(id: K): Builtins[K] {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const get = proc?.getBuiltinModule;
  if (typeof get !== 'function') {
    throw new ScratchnetError(`${id} is not available here: file paths need Node 20.16+ (in a browser, pass bytes, a Blob or a URL instead)`);
  }
  return get.call(proc, id) as Builtins[K];
}
