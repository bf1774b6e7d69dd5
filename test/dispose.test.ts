// Memory that only the garbage collector used to free: on the wasm backend a network's
// parameters and arena live in WebAssembly memory, which grows to 4 GiB and never shrinks, and
// the collector sees only the small views, not the megabytes behind them. dispose() gives it
// back at once; a loop of 1,000 loadModel + predict + dispose stays flat. Dropped networks are
// reclaimed on collection too (a FinalizationRegistry per block), checked with --expose-gc.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { getBackend } from '../src/backend/registry.js';
import type { WasmBackend } from '../src/backend/wasm/index.js';
import { ScratchnetError } from '../src/errors.js';
import { decodeModel, encodeModel } from '../src/io/model-file.js';
import { SimpleConvNet } from '../src/models/simple-convnet.js';
import { Random } from '../src/random.js';
import { randn } from '../src/tensor.js';

const wasm = getBackend('wasm') as WasmBackend;
const bytes = encodeModel(new SimpleConvNet({ seed: 1, weightInitStd: 'he', backend: 'js' })); // 433,890 parameters, 1.7 MB
const x = randn(new Random(2), [10, 1, 28, 28]);

describe('dispose', () => {
  it('1,000 loads of a model file with predict and dispose: the wasm memory in use stays flat', () => {
    const inUse: number[] = [];
    let scores = '';
    for (let i = 0; i < 1000; i++) {
      const { network } = decodeModel(bytes, 'm.safetensors', { backend: wasm });
      const y = network.predict(x);
      if (i === 0) scores = y.toArray().join();
      else if (i % 250 === 0) assert.equal(y.toArray().join(), scores, `load ${i} predicts the same`);
      network.dispose();
      if (i === 9 || i === 999) inUse.push(wasm.memory.bytesInUse);
    }
    assert.equal(inUse[1], inUse[0], `bytes in use after 10 loads ${inUse[0]}, after 1000 ${inUse[1]}`);
  });

  it('a disposed network refuses to run; using / Symbol.dispose disposes', () => {
    const before = wasm.memory.bytesInUse;
    {
      using net = new SimpleConvNet({ seed: 3, backend: wasm });
      net.predict(x);
      assert.ok(wasm.memory.bytesInUse > before + 1_000_000, 'parameters and arena in wasm memory');
    }
    assert.equal(wasm.memory.bytesInUse, before, 'all given back at the end of the block');
    const net = new SimpleConvNet({ seed: 3, backend: wasm });
    net.dispose();
    net.dispose(); // twice is harmless
    assert.throws(() => net.predict(x), (e: unknown) => e instanceof ScratchnetError && /disposed/.test(e.message));
  });

  it('networks dropped without dispose are reclaimed when collected', () => {
    const script = `
      import { getBackend } from './src/backend/registry.ts';
      import { SimpleConvNet } from './src/models/simple-convnet.ts';
      import { Random } from './src/random.ts';
      import { randn } from './src/tensor.ts';
      const wasm = getBackend('wasm');
      const x = randn(new Random(2), [10, 1, 28, 28]);
      const peak = [];
      for (let round = 0; round < 4; round++) {
        for (let i = 0; i < 50; i++) new SimpleConvNet({ seed: i, backend: wasm }).predict(x);
        globalThis.gc();
        await new Promise((r) => setTimeout(r, 50)); // finalizers run after the collection
        globalThis.gc();
        await new Promise((r) => setTimeout(r, 50));
        peak.push(wasm.memory.bytesInUse);
      }
      console.log(JSON.stringify(peak));`;
    const root = fileURLToPath(new URL('..', import.meta.url));
    const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const peak = JSON.parse(r.stdout.trim().split('\n').pop()!) as number[];
    // 200 networks of 1.7 MB each were made; after collection at most a few remain
    assert.ok(peak[3] <= peak[0] + 4_000_000, `bytes in use per round: ${peak.join(', ')}`);
    assert.ok(peak[3] < 50 * 1_735_560, `reclaimed: ${peak[3]} bytes in use`);
  });
});
