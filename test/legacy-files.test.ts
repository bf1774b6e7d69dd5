// Files written by scratchnet 0.1 (test/fixtures/v0.1, made by scripts/make-legacy-fixtures.ts
// at the 0.1 release) still load: the legacy { model: 'SimpleConvNet' } kind, a Sequential
// network with batch-norm statistics, and a mid-run checkpoint that resumes to the same end.
// They were written on the js backend and are read on it here, so the numbers match exactly.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { decodeCheckpoint, restoreTrainer } from '../src/io/checkpoint.js';
import { decodeModel } from '../src/io/model-file.js';
import { Random } from '../src/random.js';
import { Tensor } from '../src/tensor.js';
import { Trainer } from '../src/train/trainer.js';
import { assertClose } from './helpers.js';

const dir = new URL('./fixtures/v0.1/', import.meta.url);
const read = (name: string) => new Uint8Array(readFileSync(new URL(name, dir)));
const expected = JSON.parse(readFileSync(new URL('expected.json', dir), 'utf8')) as Record<string, number[]>;

// the inputs the fixtures were made with
const rng = new Random(42);
const x = new Tensor(Float32Array.from({ length: 6 * 1 * 10 * 10 }, () => rng.uniform()), [6, 1, 10, 10]);
const t = Int32Array.from({ length: 6 }, (_, i) => i % 5);
const data = { train: { x, t }, test: { x, t } };

describe('model files and checkpoints written by scratchnet 0.1', () => {
  it('a legacy SimpleConvNet model predicts as it did', () => {
    const { network, spec } = decodeModel(read('simple-legacy.safetensors'), 'simple-legacy.safetensors', { backend: 'js' });
    assert.equal(spec.model, 'SimpleConvNet');
    assertClose(network.predict(x).data, expected['simple-legacy'], 1e-5, 'scores');
  });

  it('a Sequential model with batch-norm statistics predicts as it did', () => {
    const { network } = decodeModel(read('sequential-bn.safetensors'), 'sequential-bn.safetensors', { backend: 'js' });
    assertClose(network.predict(x).data, expected['sequential-bn'], 1e-5, 'scores');
  });

  it('a mid-run checkpoint resumes to the same final parameters', () => {
    const ck = decodeCheckpoint(read('sequential-adam.ckpt.safetensors'), 'sequential-adam.ckpt.safetensors', { backend: 'js' });
    assert.equal(ck.trainer.step, 3);
    const trainer = new Trainer(ck.network, data, { epochs: 3, batchSize: 4, optimizer: 'adam', seed: 9 });
    restoreTrainer(trainer, ck, 'sequential-adam.ckpt.safetensors');
    trainer.train();
    // on the js backend (the one that wrote them) the resumed run ends bit-identical
    assert.deepEqual(Array.from(ck.network.predict(x).data), expected['sequential-adam-final']);
  });
});
