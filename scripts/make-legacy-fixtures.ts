// Writes the model files and checkpoints of scratchnet 0.1 (HEAD b7a1efc) into
// test/fixtures/v0.1/, with the predictions they must keep giving. Run once, at that commit:
// the files are committed, so later versions are tested against what the old code wrote.
import { writeFileSync } from 'node:fs';
import { SimpleConvNet, buildFromSpec, Trainer, encodeModel, encodeCheckpoint, Random, Tensor } from '../src/index.js';

const dir = 'test/fixtures/v0.1';
const rng = new Random(42);
const x = new Tensor(Float32Array.from({ length: 6 * 1 * 10 * 10 }, () => rng.uniform()), [6, 1, 10, 10]);
const t = Int32Array.from({ length: 6 }, (_, i) => i % 5);
const data = { train: { x, t }, test: { x, t } };
const expected: Record<string, unknown> = {};

// 1. the legacy { model: 'SimpleConvNet' } kind, trained a few steps
const simple = new SimpleConvNet({ inputDim: [1, 10, 10], convParam: { filterNum: 4, filterSize: 3, pad: 1, stride: 2 }, hiddenSize: 8, outputSize: 5, weightInitStd: 'he', seed: 3 });
new Trainer(simple, data, { epochs: 2, batchSize: 3, optimizer: 'adam', seed: 1 }).train();
writeFileSync(`${dir}/simple-legacy.safetensors`, encodeModel(simple, { epochs: 2 }));
expected['simple-legacy'] = Array.from(simple.predict(x).data);

// 2. a Sequential with batch norm (buffers runningMean1 ...) and dropout
const spec = { input: [1, 10, 10], layers: [
  { type: 'conv', filters: 3, size: 3, pad: 1 }, { type: 'batchnorm' }, { type: 'relu' },
  { type: 'maxpool', size: 2 }, { type: 'dropout', ratio: 0.25 }, { type: 'dense', units: 6 },
  { type: 'batchnorm' }, { type: 'tanh' }, { type: 'dense', units: 5 },
] };
const seq = buildFromSpec(spec, { seed: 5 });
const trainer = new Trainer(seq, data, { epochs: 1, batchSize: 3, optimizer: 'momentum', seed: 2 });
trainer.train();
writeFileSync(`${dir}/sequential-bn.safetensors`, encodeModel(seq, { epochs: 1 }));
expected['sequential-bn'] = Array.from(seq.predict(x).data);

// 3. a checkpoint mid-run (Adam moments, dropout generator, permutation, history)
const seq2 = buildFromSpec(spec, { seed: 6 });
const tr2 = new Trainer(seq2, data, { epochs: 3, batchSize: 4, optimizer: 'adam', seed: 9 });
for (let i = 0; i < 3; i++) tr2.trainStep();
writeFileSync(`${dir}/sequential-adam.ckpt.safetensors`, encodeCheckpoint(tr2, { epochs: 3, batchSize: 4, optimizer: 'adam', seed: 9 }));
tr2.train();
expected['sequential-adam-final'] = Array.from(seq2.predict(x).data);
writeFileSync(`${dir}/expected.json`, JSON.stringify(expected));
console.log('written', Object.keys(expected));
