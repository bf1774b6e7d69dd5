// --profile: a per-op table of where training went, from a backend that times every op and
// changes nothing else (the parameters come out bit-identical to an unprofiled run).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { profileBackend } from '../src/backend/profile.js';
import { getBackend } from '../src/backend/registry.js';
import { BACKEND_OPS } from '../src/backend/backend.js';
import { cli, smallMnist } from './cli-helpers.js';

const dir = await mkdtemp(join(tmpdir(), 'scratchnet-profile-'));
const data = smallMnist(join(dir, 'data'), 300, 100);

describe('profiling', () => {
  it('profileBackend wraps every op and counts calls', () => {
    const p = profileBackend(getBackend('js'));
    for (const op of BACKEND_OPS) assert.equal(typeof p.backend[op], 'function', op);
    const out = new Float32Array(4);
    p.backend.sigmoidForward(new Float32Array([0, 1, -1, 2]), out);
    p.backend.sigmoidForward(new Float32Array([0, 1, -1, 2]), out);
    assert.deepEqual(p.report().map((r) => [r.op, r.calls]), [['sigmoidForward', 2]]);
    assert.match(p.format(2), /\| sigmoidForward \| 2 \| \d+\.\d \| \d+\.\d\d \| 100\.0% \|/);
    p.reset();
    assert.deepEqual(p.report(), []);
  });

  it('train --profile prints the per-op table and trains exactly as without it', async () => {
    const run = (out: string, ...extra: string[]) => cli('train', '--data', data, '--epochs', '1', '--batch-size', '50', '--eval-samples', '50', '--seed', '4', '--out', out, '--quiet', ...extra);
    const a = await run(join(dir, 'a.safetensors'), '--profile');
    assert.equal(a.code, 0, a.stderr);
    assert.match(a.stdout, /where the time went \(backend ops, 6 steps and the evaluations\)/);
    assert.match(a.stdout, /^\| gemm \| \d+ \| [\d.]+ \| [\d.]+ \| [\d.]+% \|$/m, 'a gemm row');
    assert.match(a.stdout, /^\| all ops \| \d+ \| [\d.]+ \| [\d.]+ \| 100% \|$/m, 'the total');
    const b = await run(join(dir, 'b.safetensors'));
    assert.equal(b.code, 0, b.stderr);
    assert.doesNotMatch(b.stdout, /where the time went/);
    const bytes = (f: string) => readFileSync(join(dir, f)).subarray(8 + Number(readFileSync(join(dir, f)).readBigUInt64LE(0)));
    assert.ok(bytes('a.safetensors').equals(bytes('b.safetensors')), 'same parameters bit for bit');
  });
});
