// The command line with the wasm backend: --backend js|wasm and --threads on train / eval /
// predict, wasm as the default, and one-line usage errors for bad values.

import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { getBackend } from '../src/backend/registry.js';
import { decodeSafetensors } from '../src/io/safetensors.js';
import { readFile } from 'node:fs/promises';
import { cli } from './cli-helpers.js';


const dir = await mkdtemp(join(tmpdir(), 'scratchnet-wasm-cli-'));

describe('CLI and the wasm backend', () => {
  it('help lists wasm and js for --backend, wasm as the default, and --threads', async () => {
    for (const command of ['train', 'eval', 'predict']) {
      const r = await cli(command, '--help');
      assert.equal(r.code, 0, `${command} --help exit code`);
      const expected = process.env.SCRATCHNET_BACKEND ?? 'wasm';
      assert.match(r.stdout, new RegExp(`--backend NAME .*\\[js\\|wasm\\] \\(default: ${expected}\\)`), `${command} --backend line`);
      assert.match(r.stdout, /--threads N /, `${command} --threads line`);
    }
  });

  it('rejects --threads 0 and an unknown backend with one line and exit code 2', async () => {
    const r = await cli('train', '--threads', '0');
    assert.equal(r.code, 2, `exit code (${r.stderr})`);
    assert.match(r.stderr.trim(), /^scratchnet train: --threads must be at least 1, got 0$/, 'threads message');
    const b = await cli('eval', '--backend', 'gpu', '--model', 'x');
    assert.equal(b.code, 2, `exit code (${b.stderr})`);
    assert.match(b.stderr, /--backend must be one of js, wasm/, 'backend message');
  });

  it('trains on wasm with 2 threads, records the backend, and eval agrees on js and wasm', async () => {
    const out = join(dir, 'w.safetensors');
    const r = await cli('train', '--backend', 'wasm', '--epochs', '1', '--train-samples', '500', '--eval-samples', '100', '--threads', '2', '--quiet', '--out', out);
    assert.equal(r.code, 0, `train failed: ${r.stderr}`);
    const acc = Number(/final test accuracy: ([\d.]+)%/.exec(r.stdout)?.[1]);
    assert.ok(acc > 50, `5 steps of Adam reach > 50% (got ${acc}%)`);
    const file = decodeSafetensors(await readFile(out), out);
    const facts = JSON.stringify(file.metadata ?? {});
    assert.match(facts, /\\?"backend\\?":\\?"wasm/, 'the model file records the wasm backend');
    const onWasm = await cli('eval', '--model', out, '--backend', 'wasm', '--threads', '1');
    const onJs = await cli('eval', '--model', out, '--backend', 'js');
    assert.equal(onWasm.code, 0, onWasm.stderr);
    assert.equal(onJs.code, 0, onJs.stderr);
    const a = /test accuracy: ([\d.]+)%/.exec(onWasm.stdout)?.[1], b = /test accuracy: ([\d.]+)%/.exec(onJs.stdout)?.[1];
    assert.ok(a !== undefined && a === b, `eval accuracy wasm ${a}% vs js ${b}%`);
    assert.equal((getBackend('wasm') as unknown as { threads: number }).threads, 1, '--threads 1 was applied');
  });
});
