// Hostile or merely unusual input to the library itself (issue 13's classes that live below the
// CLI): labels of every array type, identical on every backend; inputs that are not tensors or
// are empty; specs with sizes past the limits or nested 100,000 deep; saving a network with
// non-finite weights; a checkpoint given where a model is expected.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { getBackend } from '../src/backend/registry.js';
import { jsBackend } from '../src/backend/js.js';
import { ScratchnetError } from '../src/errors.js';
import { encodeCheckpoint } from '../src/io/checkpoint.js';
import { decodeModel, encodeModel } from '../src/io/model-file.js';
import { buildFromSpec } from '../src/models/sequential.js';
import { SimpleConvNet } from '../src/models/simple-convnet.js';
import { checkSpec, SpecError } from '../src/models/spec.js';
import { Random } from '../src/random.js';
import { randn, Tensor } from '../src/tensor.js';
import { Trainer } from '../src/train/trainer.js';

const small = { inputDim: [1, 8, 8] as [number, number, number], convParam: { filterNum: 3, filterSize: 3 }, hiddenSize: 6, outputSize: 5, seed: 1 };
const x = randn(new Random(3), [4, 1, 8, 8]);
const oneLine = (re: RegExp) => (e: unknown) => e instanceof ScratchnetError && !e.message.includes('\n') && re.test(e.message);

describe('labels of any array type', () => {
  for (const backend of ['js', 'wasm']) {
    it(`${backend}: Int32Array, number[], Float32Array, Float64Array, Uint8Array and one-hot give one loss`, () => {
      const net = new SimpleConvNet({ ...small, backend: getBackend(backend) });
      const reference = net.loss(x, new Int32Array([3, 4, 0, 1]));
      for (const t of [[3, 4, 0, 1], new Float32Array([3, 4, 0, 1]), new Float64Array([3, 4, 0, 1]), new Uint8Array([3, 4, 0, 1]), new Uint16Array([3, 4, 0, 1])]) {
        assert.equal(net.loss(x, t), reference, `${t.constructor.name} labels`);
      }
      const oneHot = new Tensor(new Float32Array(20), [4, 5]);
      [3, 4, 0, 1].forEach((c, i) => (oneHot.data[i * 5 + c] = 1));
      assert.equal(net.loss(x, oneHot), reference, 'one-hot labels');
      // a number[] must not change a later call (it used to corrupt the next one on wasm)
      net.loss(x, [0, 0, 0, 0]);
      assert.equal(net.loss(x, new Int32Array([3, 4, 0, 1])), reference, 'later calls unaffected');
    });

    it(`${backend}: labels that are not class indices are refused with one line`, () => {
      const net = new SimpleConvNet({ ...small, backend: getBackend(backend) });
      for (const [t, re] of [
        [new Float32Array([3, 4.5, 0, 1]), /label 4\.5 at index 1 is not a class index in 0\.\.4/],
        [[3, 4, 0, -1], /label -1 at index 3/],
        [[3, 4, 0, 5], /label 5 at index 3/],
        [[3, NaN, 0, 1], /label NaN at index 1/],
        [['3', 4, 0, 1], /label 3 at index 0/],
        [[3, 4, 0], /got 3 labels for 4 samples/],
        [null, /labels must be an array/],
      ] as [unknown, RegExp][]) {
        assert.throws(() => net.loss(x, t as Int32Array), oneLine(re), String(t));
        assert.throws(() => net.gradient(x, t as Int32Array), oneLine(re), `gradient ${String(t)}`);
      }
    });
  }

  it('the trainer takes number[] labels too', () => {
    const net = new SimpleConvNet(small);
    const data = { train: { x, t: [3, 4, 0, 1] }, test: { x, t: [3, 4, 0, 1] } };
    const r = new Trainer(net, data, { epochs: 2, batchSize: 2, optimizer: 'adam' }).train();
    assert.equal(r.trainLossList.length, 4);
    assert.ok(r.trainLossList.every(Number.isFinite));
  });
});

describe('inputs that are not what a network takes', () => {
  const net = new SimpleConvNet(small);
  it('a Float32Array instead of a Tensor, an empty batch, a wrong shape: one line each', () => {
    assert.throws(() => net.predict(new Float32Array(64) as unknown as Tensor), oneLine(/input must be a Tensor of shape \(N, 1, 8, 8\), got Float32Array: wrap the values with new Tensor/));
    assert.throws(() => net.predict(new Tensor(new Float32Array(0), [0, 1, 8, 8])), oneLine(/empty batch \(0 samples\)/));
    assert.throws(() => net.predict(new Tensor(new Float32Array(49), [1, 1, 7, 7])), oneLine(/input of shape \(1, 1, 7, 7\) does not fit this network, which expects \(N, 1, 8, 8\)/));
    assert.throws(() => net.accuracy(new Tensor(new Float32Array(0), [0, 1, 8, 8]), []), oneLine(/empty batch/));
  });
  it('randn with its arguments swapped names them', () => {
    assert.throws(() => randn([2, 3] as unknown as Random, new Random(1) as unknown as number[]), /first argument must be a Random generator, got an array \(a shape\?\)/);
  });
});

describe('specs past the limits are refused before anything is allocated', () => {
  const refuses = (spec: unknown, re: RegExp) => {
    const t0 = performance.now();
    assert.throws(() => buildFromSpec(spec), (e: unknown) => e instanceof SpecError && !e.message.includes('\n') && re.test(e.message), String(re));
    assert.ok(performance.now() - t0 < 2000, 'refused quickly');
  };
  it('huge filters, units, pads and inputs', () => {
    refuses({ input: [1, 28, 28], layers: [{ type: 'conv', filters: 1e9, size: 3 }, { type: 'dense', units: 10 }] }, /layers\[0\] \(conv\).*(above the limit|too large)/);
    refuses({ input: [1, 28, 28], layers: [{ type: 'dense', units: 2 ** 53 + 1 }] }, /units 9007199254740992 is too large/);
    refuses({ input: [1, 28, 28], layers: [{ type: 'conv', filters: 4, size: 3, pad: 1e5 }, { type: 'dense', units: 10 }] }, /outputs \(4, 200026, 200026\) = .* values per sample, above the limit/);
    refuses({ input: [1, 1e6, 1e6], layers: [{ type: 'dense', units: 10 }] }, /spec input \(1, 1000000, 1000000\) has 1000000000000 values per sample, above the limit/);
    assert.throws(() => new SimpleConvNet({ hiddenSize: 1e9 }), (e: unknown) => e instanceof SpecError && /layers\[3\] \(dense\).*above the limit/.test(e.message));
  });
  it('nested 100,000 deep, and 200,000 layers', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    refuses({ input: [1, 28, 28], layers: [deep] }, /layers\[0\]: a layer must be an object with a type, got a deeply nested array/);
    refuses({ input: [1, 28, 28], layers: [{ type: 'dense', units: deep }] }, /units must be an integer >= 1, got a deeply nested array/);
    refuses({ input: deep, layers: [{ type: 'dense', units: 2 }] }, /spec input must be .* got a deeply nested array/);
    refuses({ input: [1, 28, 28], layers: Array.from({ length: 200_000 }, () => ({ type: 'relu' })) }, /200000 layers, above the limit of 10000/);
    const text = `${'['.repeat(100_000)}1${']'.repeat(100_000)}`;
    assert.throws(() => checkSpec(JSON.parse(text)), (e: unknown) => e instanceof SpecError, 'a parsed deep JSON document');
  });
});

describe('files', () => {
  it('a network with a NaN weight is not saved (loadModel would refuse the file)', () => {
    const net = new SimpleConvNet(small);
    net.params.W2.data[5] = NaN;
    assert.throws(() => encodeModel(net), oneLine(/cannot save the model: parameter W2 holds a non-finite value \(NaN\) at index 5/));
  });
  it('a checkpoint given as a model says what it is and what to do', () => {
    const net = new SimpleConvNet(small);
    const trainer = new Trainer(net, { train: { x, t: [1, 2, 3, 4] }, test: { x, t: [1, 2, 3, 4] } }, { epochs: 1, batchSize: 2 });
    trainer.trainStep();
    assert.throws(() => decodeModel(encodeCheckpoint(trainer, {}), 'run.ckpt.safetensors'), oneLine(/run\.ckpt\.safetensors: is a training checkpoint, not a model file: resume it with `scratchnet train --resume`/));
  });
});

describe('batches sized by the backend\'s memory before allocating', () => {
  // a js backend that states a 64 MB limit, as the wasm backend states its 4 GiB
  const tight = { ...jsBackend, name: 'tight', maxBytes: 64 * 2 ** 20 };
  it('a training batch that cannot fit is refused with the largest that does', () => {
    const net = new SimpleConvNet({ seed: 1, backend: tight });
    const fits = net.largestBatch();
    assert.ok(fits > 10 && fits < 1000, `largest batch ${fits}`);
    const data = { train: { x: randn(new Random(1), [fits + 1, 1, 28, 28]), t: new Int32Array(fits + 1) }, test: { x, t: [1, 2, 3, 4] } };
    assert.throws(() => new Trainer(net, data, { batchSize: fits + 1 }), oneLine(new RegExp(`a batch of ${fits + 1} needs about .* GiB of working memory for this network, above the tight backend's 0\\.1 GiB: the largest batch that fits is ${fits}`)));
    assert.doesNotThrow(() => new Trainer(net, data, { batchSize: fits }));
  });
  it('predict on a batch larger than that runs in chunks, with the same scores', () => {
    const net = new SimpleConvNet({ seed: 1, backend: tight });
    const reference = new SimpleConvNet({ seed: 1, backend: jsBackend });
    const n = net.largestBatch() * 2 + 3;
    const big = randn(new Random(9), [n, 1, 28, 28]);
    assert.deepEqual(Array.from(net.predict(big).data), Array.from(reference.predict(big).data));
    assert.ok(net.arena.bytes < tight.maxBytes, `arena ${net.arena.bytes} bytes`);
  });
});
