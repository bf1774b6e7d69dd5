// Issue 13's size and nesting classes through the real command: hostile spec files (huge
// filters, units past 2^53, a pad of 1e5, 200,000 layers, nesting 100,000 deep), a model file
// whose stored spec is nested 100,000 deep, and a batch that cannot fit the wasm memory. Each is
// one line, exit 2 for a spec (like a bad flag) or 1 for a file, in seconds, before any
// allocation of the size asked for.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { encodeSafetensors } from '../src/io/safetensors.js';
import { SimpleConvNet } from '../src/models/simple-convnet.js';
import { assertOneLineError, cli, smallMnist } from './cli-helpers.js';

const dir = await mkdtemp(join(tmpdir(), 'scratchnet-limits-'));
const data = smallMnist(join(dir, 'data'), 200, 50);
const nested = (depth: number) => `${'['.repeat(depth)}1${']'.repeat(depth)}`;

async function timed(...argv: string[]) {
  const t0 = performance.now();
  const r = await cli(...argv);
  return { ...r, ms: performance.now() - t0 };
}

describe('hostile specs and batches through the CLI', () => {
  it('spec files past the size limits: exit 2, one line, quickly', async () => {
    const cases: [string, string, RegExp][] = [
      ['filters.json', JSON.stringify({ input: [1, 28, 28], layers: [{ type: 'conv', filters: 1e9, size: 3 }, { type: 'dense', units: 10 }] }), /layers\[0\] \(conv\).*above the limit/],
      ['units.json', `{"input":[1,28,28],"layers":[{"type":"dense","units":9007199254740993}]}`, /units 9007199254740992 is too large/],
      ['pad.json', JSON.stringify({ input: [1, 28, 28], layers: [{ type: 'conv', filters: 4, size: 3, pad: 1e5 }, { type: 'dense', units: 10 }] }), /values per sample, above the limit of 67108864/],
      ['layers.json', JSON.stringify({ input: [1, 28, 28], layers: [...Array.from({ length: 200_000 }, () => ({ type: 'relu' })), { type: 'dense', units: 10 }] }), /200001 layers, above the limit of 10000/],
      ['nested.json', `{"input":[1,28,28],"layers":[${nested(100_000)}]}`, /layers\[0\]: a layer must be an object with a type, got a deeply nested array/],
      ['nested-units.json', `{"input":[1,28,28],"layers":[{"type":"dense","units":${nested(100_000)}}]}`, /units must be an integer >= 1, got a deeply nested array/],
    ];
    for (const [name, text, pattern] of cases) {
      const file = join(dir, name);
      writeFileSync(file, text);
      for (const argv of [['models', '--spec', file], ['train', '--model', file, '--data', data, '--epochs', '1', '--out', join(dir, 'm.safetensors')]]) {
        const r = await timed(...argv);
        assertOneLineError(r, 2, pattern);
        assert.ok(r.ms < 5000, `${argv[0]} ${name}: ${r.ms.toFixed(0)} ms`);
      }
    }
  });

  it('a model file whose stored spec is nested 100,000 deep: exit 1, one line', async () => {
    const net = new SimpleConvNet({ inputDim: [1, 6, 6], convParam: { filterNum: 2, filterSize: 3 }, hiddenSize: 3, outputSize: 2, seed: 1 });
    const file = join(dir, 'deep-spec.safetensors');
    const spec = `{"model":"Sequential","input":[1,6,6],"layers":[${nested(100_000)}]}`;
    writeFileSync(file, encodeSafetensors(net.params, { format: 'scratchnet', format_version: '1', spec }));
    const r = await timed('eval', '--model', file, '--data', data);
    assertOneLineError(r, 1, /deep-spec\.safetensors: bad model spec: layers\[0\]: a layer must be an object with a type, got a deeply nested array/);
  });

  it('a batch that cannot fit the backend\'s memory is refused with the largest that does', async () => {
    const r = await timed('train', '--batch-size', '10000', '--data', data, '--epochs', '1', '--out', join(dir, 'big.safetensors'), '--backend', 'wasm');
    assertOneLineError(r, 1, /a batch of 10000 needs about \d+\.\d GiB of working memory for this network, above the wasm backend's 4\.0 GiB: the largest batch that fits is \d+/);
  });
});
