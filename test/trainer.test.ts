// Trainer: epochs are shuffled full passes, evaluation at each epoch end, history kept,
// callbacks fired, and the same seed gives the same parameters bit for bit.

import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { loadMnist, type Mnist } from '../src/data/mnist.js';
import { SimpleConvNet } from '../src/models/simple-convnet.js';
import { Trainer, type EpochInfo, type StepInfo } from '../src/train/trainer.js';
import { Tensor } from '../src/tensor.js';

let mnist: Mnist<Int32Array>;
const small = (n: number, m: number) => ({
  train: { x: mnist.train.x.sliceRows(0, n), t: mnist.train.t.slice(0, n) },
  test: { x: mnist.test.x.sliceRows(0, m), t: mnist.test.t.slice(0, m) },
});
const tinyNet = (seed: number, weightInitStd = 0.01) => new SimpleConvNet({ convParam: { filterNum: 8, filterSize: 5 }, hiddenSize: 32, seed, weightInitStd });

describe('Trainer', () => {
  before(async () => {
    mnist = await loadMnist({ flatten: false });
  });

  it('gathers mini-batches into a reused tensor: the same rows, and a tensor of the wrong size is refused', () => {
    const x = new Tensor(Float32Array.from({ length: 24 }, (_, i) => i), [6, 2, 2]);
    const idx = Int32Array.from([4, 0, 5]);
    const fresh = x.gatherRows(idx);
    const into = new Tensor(new Float32Array(12).fill(NaN), [3, 2, 2]);
    assert.equal(x.gatherRows(idx, into), into);
    assert.deepEqual([...into.data], [...fresh.data]);
    assert.deepEqual([...fresh.data.subarray(0, 4)], [16, 17, 18, 19]);
    assert.throws(() => x.gatherRows(idx, new Tensor(new Float32Array(8), [2, 2, 2])), /gatherRows: 3 rows of 4 float32 values do not fit/);
  });

  it('viewRows shares storage (evaluation copies nothing); sliceRows copies', () => {
    const x = new Tensor(Float32Array.from({ length: 24 }, (_, i) => i), [6, 2, 2]);
    const view = x.viewRows(2, 4), copy = x.sliceRows(2, 4);
    assert.deepEqual([...view.shape], [2, 2, 2]);
    assert.deepEqual([...view.data], [...copy.data]);
    assert.equal(view.data.buffer, x.data.buffer);
    x.data[8] = -1;
    assert.equal(view.data[0], -1, 'a view sees writes to its tensor');
    assert.equal(copy.data[0], 8, 'a copy does not');
  });

  it('learns: accuracy rises and loss falls on a 1000-image subset', () => {
    const net = tinyNet(1);
    const steps: StepInfo[] = [];
    const epochs: EpochInfo[] = [];
    const trainer = new Trainer(net, small(1000, 300), {
      epochs: 3, batchSize: 50, optimizer: 'adam', optimizerParam: { lr: 0.003 }, seed: 5,
      onStep: (s) => steps.push(s), onEpoch: (e) => epochs.push(e),
    });
    const r = trainer.train();
    assert.equal(r.steps, 60);
    assert.equal(steps.length, 60);
    assert.deepEqual(steps.map((s) => s.step), Array.from({ length: 60 }, (_, i) => i + 1));
    assert.equal(epochs.length, 3);
    assert.equal(r.trainAccList.length, 3);
    assert.equal(r.testAccList.length, 3);
    assert.equal(r.trainLossList.length, 60);
    const first = r.trainLossList.slice(0, 5).reduce((a, b) => a + b) / 5;
    const last = r.trainLossList.slice(-5).reduce((a, b) => a + b) / 5;
    assert.ok(last < first * 0.6, `loss ${first} -> ${last}`);
    assert.ok(r.testAccList[2] > 0.7, `test acc ${r.testAccList[2]}`);
    assert.equal(r.finalTestAcc, net.accuracy(mnist.test.x.sliceRows(0, 300), mnist.test.t.slice(0, 300)));
  });

  it('an epoch covers every training image once, the last partial batch included', () => {
    const net = tinyNet(2);
    const data = small(230, 10);
    const sizes: number[] = [];
    const seen = new Uint8Array(230);
    const orig = net.lossAndGradient.bind(net);
    net.lossAndGradient = (x: Tensor, t) => {
      sizes.push(x.shape[0]);
      // identify images by their content
      for (let i = 0; i < x.shape[0]; i++) {
        const row = x.data.subarray(i * 784, (i + 1) * 784);
        for (let j = 0; j < 230; j++) {
          const cand = data.train.x.data.subarray(j * 784, (j + 1) * 784);
          if (row.every((v, k) => v === cand[k])) { seen[j]++; break; }
        }
      }
      return orig(x, t);
    };
    new Trainer(net, data, { epochs: 1, batchSize: 100, seed: 3 }).train();
    assert.deepEqual(sizes, [100, 100, 30]);
    // MNIST has a few duplicate images; at least all but those are seen exactly once.
    assert.ok(seen.filter((c) => c === 1).length >= 228, `seen once: ${seen.filter((c) => c === 1).length}`);
  });

  it('the same seed gives bit-identical parameters; another seed does not', () => {
    const trainOnce = (seed: number) => {
      const net = tinyNet(seed);
      new Trainer(net, small(300, 50), { epochs: 1, batchSize: 50, optimizer: 'adam', seed }).train();
      return net;
    };
    const a = trainOnce(9), b = trainOnce(9), c = trainOnce(10);
    for (const k of Object.keys(a.params)) {
      // the parameter's own bytes (on wasm its data is a view into the whole kernel memory)
      const bytes = (d: Float32Array | Float64Array) => new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
      assert.deepEqual(bytes(a.params[k].data), bytes(b.params[k].data), `param ${k}`);
    }
    assert.notDeepEqual([...a.params.W1.data], [...c.params.W1.data]);
  });

  it('each optimizer trains', () => {
    for (const optimizer of ['sgd', 'momentum', 'adagrad', 'adam'] as const) {
      // std 0.1: with the book's 0.01 plain SGD needs thousands of steps to leave the plateau
      const net = tinyNet(4, 0.1);
      const lr = optimizer === 'adam' ? 0.003 : optimizer === 'sgd' ? 0.1 : 0.03;
      const r = new Trainer(net, small(500, 100), { epochs: 2, batchSize: 25, optimizer, optimizerParam: { lr }, seed: 1 }).train();
      assert.ok(r.finalTestAcc > 0.5, `${optimizer}: ${r.finalTestAcc}`);
    }
  });

  it('refuses mismatched data', () => {
    const net = tinyNet(1);
    const bad = { train: { x: mnist.train.x.sliceRows(0, 10), t: mnist.train.t.slice(0, 9) }, test: small(1, 1).test };
    assert.throws(() => new Trainer(net, bad), /10 training images but 9 labels/);
    assert.throws(() => new Trainer(net, small(10, 10), { epochs: 0 }), /epochs must be a positive integer/);
  });

  it('trainAsync: an AbortSignal stops after the current step; pause holds it until resume; lr changes between steps', async () => {
    const net = tinyNet(6, 0.1);
    const trainer = new Trainer(net, small(200, 20), { epochs: 1, batchSize: 20, optimizer: 'sgd', seed: 2 });
    const controller = new AbortController();
    const lrs: number[] = [];
    const run = trainer.trainAsync({
      signal: controller.signal,
      afterStep: (t) => {
        lrs.push((t.optimizer as unknown as { lr: number }).lr);
        if (t.currentIter === 3) {
          t.pause();
          setTimeout(() => {
            assert.equal(t.currentIter, 3, 'nothing runs while paused');
            (t.optimizer as unknown as { lr: number }).lr = 0.05;
            t.resume();
          }, 50);
        }
        if (t.currentIter === 6) controller.abort();
      },
    });
    const r = await run;
    assert.equal(r.steps, 6, 'stopped after the step during which the signal aborted');
    assert.ok(Number.isNaN(r.finalTestAcc), 'no final evaluation for a stopped run');
    assert.deepEqual(lrs, [0.01, 0.01, 0.01, 0.05, 0.05, 0.05], 'the new learning rate applies from the next step');
  });
});
