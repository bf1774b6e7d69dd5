// The model-zoo layers: central-difference gradient checks in float64 (Sigmoid, Tanh,
// AvgPooling, LRN across channel edges, Dropout with a fixed mask, BatchNormalization in training
// mode after a conv and after a dense layer, Flatten), plus their forward values against
// formulas written out here and their evaluation-mode behaviour.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AvgPooling } from '../src/layers/avg-pooling.js';
import { BatchNormalization } from '../src/layers/batch-normalization.js';
import { Dropout } from '../src/layers/dropout.js';
import { Flatten } from '../src/layers/flatten.js';
import { GlobalAvgPooling } from '../src/layers/global-avg-pooling.js';
import type { Layer } from '../src/layers/layer.js';
import { LRN } from '../src/layers/lrn.js';
import { Sigmoid } from '../src/layers/sigmoid.js';
import { Tanh } from '../src/layers/tanh.js';
import { Random } from '../src/random.js';
import { randn, Tensor } from '../src/tensor.js';
import { assertClose, numericalGradient } from './helpers.js';

const TOL = 1e-5; // float64 central differences land around 1e-8..1e-10
const rng = new Random(2024);
const gauss = (shape: number[], std = 1) => randn(rng, shape, std, 'float64');

/** Check dx and every parameter gradient for the scalar loss sum(out * R); `before` runs before
 *  every forward pass (e.g. to fix the dropout mask). */
function checkLayer(layer: Layer, x: Tensor, what: string, before: () => void = () => {}): void {
  before();
  const out = layer.forward(x, true);
  const R = gauss([...out.shape]);
  const f = () => {
    before();
    const y = layer.forward(x, true);
    let s = 0;
    for (let i = 0; i < y.size; i++) s += y.data[i] * R.data[i];
    return s;
  };
  f();
  const dx = layer.backward(R);
  const dxA = Float64Array.from(dx.data);
  const analyticParams: Record<string, Float64Array> = {};
  for (const [k, g] of Object.entries(layer.grads ?? {})) analyticParams[k] = Float64Array.from(g.data);
  assert.deepEqual([...dx.shape], [...x.shape], `${what}: dx shape`);
  assertClose(dxA, numericalGradient(f, x.data, 1e-6), TOL, `${what} dx`);
  for (const [k, p] of Object.entries(layer.params ?? {})) {
    assertClose(analyticParams[k], numericalGradient(f, p.data, 1e-6), TOL, `${what} d${k}`);
  }
}

describe('zoo layers: gradient checks (float64, central differences)', () => {
  it('Sigmoid', () => checkLayer(new Sigmoid(), gauss([3, 2, 4, 5], 2), 'sigmoid'));
  it('Tanh', () => checkLayer(new Tanh(), gauss([4, 7], 1.5), 'tanh'));
  it('Flatten', () => {
    const layer = new Flatten();
    const x = gauss([3, 2, 4, 5]);
    assert.deepEqual([...layer.forward(x).shape], [3, 40], 'flatten output shape');
    checkLayer(layer, x, 'flatten');
  });
  it('GlobalAvgPooling (the layer added by the ARCHITECTURE recipe)', () => {
    const layer = new GlobalAvgPooling();
    const x = gauss([3, 4, 5, 6]);
    const out = layer.forward(x);
    assert.deepEqual([...out.shape], [3, 4], 'one mean per channel');
    for (let nc = 0; nc < 12; nc++) {
      let sum = 0;
      for (let s = 0; s < 30; s++) sum += x.data[nc * 30 + s];
      assert.ok(Math.abs(out.data[nc] - sum / 30) < 1e-12, `mean of plane ${nc}`);
    }
    checkLayer(layer, x, 'global average pooling');
    checkLayer(new GlobalAvgPooling(), gauss([2, 3, 1, 1]), 'global average pooling of 1x1 planes');
  });
  for (const [size, stride, pad, H, W] of [[2, 2, 0, 6, 6], [2, 2, 0, 7, 5], [3, 2, 1, 7, 8], [3, 1, 1, 5, 5], [2, 3, 1, 8, 7]]) {
    it(`AvgPooling ${size}x${size} stride ${stride} pad ${pad} on ${H}x${W}`, () => {
      checkLayer(new AvgPooling(size, size, stride, pad), gauss([2, 3, H, W]), `avgpool ${size}/${stride}/${pad}`);
    });
  }
  // alpha is large here so the cross-channel terms weigh as much as the diagonal one (with
  // AlexNet's 1e-4 a wrong neighbour term would hide under the tolerance); 7 channels with a
  // window of 5 put clipped windows at both edges (channels 0, 1, 5, 6).
  for (const [n, C, what] of [[5, 7, 'n=5 over 7 channels (both edges clipped)'], [5, 3, 'n=5 wider than 3 channels'], [4, 6, 'even n=4 (asymmetric window)'], [1, 4, 'n=1 (no neighbours)']] as const) {
    it(`LRN ${what}`, () => {
      checkLayer(new LRN({ n, k: 1.5, alpha: 0.4, beta: 0.75 }), gauss([2, C, 3, 3]), `lrn ${what}`);
    });
  }
  it('LRN with AlexNet constants (k=2, n=5, alpha=1e-4, beta=0.75) and an unusual beta', () => {
    checkLayer(new LRN(), gauss([2, 8, 2, 3], 3), 'lrn alexnet');
    checkLayer(new LRN({ n: 3, k: 1, alpha: 0.3, beta: 1.3 }), gauss([2, 5, 2, 2]), 'lrn beta 1.3');
  });
  it('Dropout with a fixed mask (the generator reseeded before every forward pass)', () => {
    const layer = new Dropout(0.4);
    const x = gauss([4, 3, 5]);
    checkLayer(layer, x, 'dropout', () => (layer.rng = new Random(99)));
    const kept = layer.mask!.toArray().filter((v) => v !== 0);
    assert.ok(kept.length > 0 && kept.length < x.size, `mask keeps some but not all (${kept.length}/${x.size})`);
    assert.ok(kept.every((v) => Math.abs(v - 1 / 0.6) < 1e-12), 'kept values are scaled by 1 / (1 - ratio)');
  });
  it('BatchNormalization in training mode after a conv (per channel over N, H, W)', () => {
    const bn = new BatchNormalization(3, { dtype: 'float64' });
    bn.gamma.data.set([1.5, -0.7, 0.9]);
    bn.beta.data.set([0.1, 0.2, -0.3]);
    checkLayer(bn, gauss([4, 3, 3, 2], 2), 'batchnorm 4-D');
  });
  it('BatchNormalization in training mode after a dense layer (per feature over N)', () => {
    const bn = new BatchNormalization(5, { dtype: 'float64', eps: 1e-3 });
    for (let i = 0; i < 5; i++) bn.gamma.data[i] = 0.5 + 0.3 * i;
    checkLayer(bn, gauss([6, 5], 3), 'batchnorm 2-D');
  });
});

describe('zoo layers: forward values and evaluation mode', () => {
  it('Sigmoid and Tanh values, and no overflow for large inputs', () => {
    const x = new Tensor(Float64Array.from([-800, -1, 0, 2, 800]), [1, 5]);
    assertClose(new Sigmoid().forward(x).data, [0, 1 / (1 + Math.E), 0.5, 1 / (1 + Math.exp(-2)), 1], 1e-12, 'sigmoid');
    assertClose(new Tanh().forward(x).data, [-1, Math.tanh(-1), 0, Math.tanh(2), 1], 1e-12, 'tanh');
  });

  it('AvgPooling averages windows, padding counted as zeros', () => {
    const x = new Tensor(Float64Array.from({ length: 16 }, (_, i) => i + 1), [1, 1, 4, 4]);
    assertClose(new AvgPooling(2, 2, 2, 0).forward(x).data, [3.5, 5.5, 11.5, 13.5], 1e-12, 'avgpool 2x2');
    // pad 1, 2x2 stride 2 on 4x4: the corner window holds only x[0,0] = 1 -> 1/4
    const padded = new AvgPooling(2, 2, 2, 1).forward(x);
    assert.deepEqual([...padded.shape], [1, 1, 3, 3], 'padded avgpool shape');
    assertClose([padded.data[0], padded.data[4]], [1 / 4, (6 + 7 + 10 + 11) / 4], 1e-12, 'padded avgpool values');
  });

  it('LRN matches the paper formula written out, at every channel including the edges', () => {
    const [N, C, S] = [2, 6, 3];
    const x = gauss([N, C, 1, S], 2);
    const layer = new LRN({ n: 5, k: 2, alpha: 0.1, beta: 0.75 });
    const out = layer.forward(x);
    for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let s = 0; s < S; s++) {
      let sum = 0;
      for (let j = Math.max(0, c - 2); j <= Math.min(C - 1, c + 2); j++) sum += x.data[(n * C + j) * S + s] ** 2;
      const i = (n * C + c) * S + s;
      const expected = x.data[i] / (2 + 0.1 * sum) ** 0.75;
      assert.ok(Math.abs(out.data[i] - expected) < 1e-12, `lrn n${n} c${c} s${s}: ${out.data[i]} vs ${expected}`);
    }
  });

  it('Dropout: identity at evaluation, same seed same mask, inverted scaling keeps the mean', () => {
    const x = randn(new Random(5), [200, 50], 1, 'float64');
    const a = new Dropout(0.5, { seed: 7 });
    assert.equal(a.forward(x, false), x, 'evaluation returns the input itself');
    const ya = a.forward(x, true);
    const yb = new Dropout(0.5, { seed: 7 }).forward(x, true);
    assert.deepEqual(ya.toArray(), yb.toArray(), 'same seed, same mask');
    const yc = new Dropout(0.5, { seed: 8 }).forward(x, true);
    assert.notDeepEqual(ya.toArray(), yc.toArray(), 'another seed, another mask');
    const ones = new Tensor(new Float64Array(10000).fill(1), [100, 100]);
    const m = new Dropout(0.3, { seed: 1 }).forward(ones, true).toArray();
    const mean = m.reduce((s, v) => s + v, 0) / m.length;
    assert.ok(Math.abs(mean - 1) < 0.03, `inverted dropout keeps the mean: ${mean}`);
    const dropped = m.filter((v) => v === 0).length / m.length;
    assert.ok(Math.abs(dropped - 0.3) < 0.02, `drops about ratio: ${dropped}`);
    // backward after an evaluation pass is the identity too
    const d = randn(new Random(6), [2, 3], 1, 'float64');
    a.forward(d, false);
    assert.equal(a.backward(d), d, 'backward after evaluation is the identity');
  });

  it('BatchNormalization: training normalises with batch statistics and updates the running ones; evaluation uses the running ones', () => {
    const bn = new BatchNormalization(2, { dtype: 'float64', momentum: 0.8, eps: 1e-5 });
    // channel 0 holds 1..8 (mean 4.5, var 5.25), channel 1 holds 10 * that
    const x = new Tensor(new Float64Array(16), [2, 2, 2, 2]);
    for (let n = 0; n < 2; n++) for (let c = 0; c < 2; c++) for (let s = 0; s < 4; s++) x.data[(n * 2 + c) * 4 + s] = (c === 0 ? 1 : 10) * (n * 4 + s + 1);
    const y = bn.forward(x, true);
    for (let c = 0; c < 2; c++) {
      let mean = 0, sq = 0;
      for (let n = 0; n < 2; n++) for (let s = 0; s < 4; s++) mean += y.data[(n * 2 + c) * 4 + s] / 8;
      for (let n = 0; n < 2; n++) for (let s = 0; s < 4; s++) sq += (y.data[(n * 2 + c) * 4 + s] - mean) ** 2 / 8;
      assert.ok(Math.abs(mean) < 1e-12 && Math.abs(sq - 1) < 1e-5, `channel ${c} normalised: mean ${mean}, var ${sq}`);
    }
    assertClose(bn.runningMean.data, [0.2 * 4.5, 0.2 * 45], 1e-12, 'running mean = 0.8 * 0 + 0.2 * batch mean');
    assertClose(bn.runningVar.data, [0.8 + 0.2 * 5.25, 0.8 + 0.2 * 525], 1e-12, 'running var = 0.8 * 1 + 0.2 * batch var');
    bn.gamma.data.set([2, 3]);
    bn.beta.data.set([0.5, -1]);
    const before = Float64Array.from(bn.runningMean.data);
    const e = bn.forward(x, false);
    assert.deepEqual([...bn.runningMean.data], [...before], 'evaluation leaves the running statistics alone');
    for (let i = 0; i < 16; i++) {
      const c = Math.floor(i / 4) % 2;
      const expected = [2, 3][c] * (x.data[i] - bn.runningMean.data[c]) / Math.sqrt(bn.runningVar.data[c] + 1e-5) + [0.5, -1][c];
      assert.ok(Math.abs(e.data[i] - expected) < 1e-12, `eval value ${i}: ${e.data[i]} vs ${expected}`);
    }
    assert.throws(() => bn.backward(e), /training-mode forward/, 'no backward through an evaluation pass');
  });

  it('constructors refuse bad hyper-parameters', () => {
    assert.throws(() => new LRN({ n: 0 }), /n must be a positive integer/);
    assert.throws(() => new LRN({ k: 0 }), /k must be a positive number/);
    assert.throws(() => new Dropout(1), /ratio must be in \[0, 1\)/);
    assert.throws(() => new AvgPooling(2, 2, 0), /stride must be an integer >= 1/);
    assert.throws(() => new AvgPooling(2, 2, 2, 2), /pad 2 must be smaller/);
    assert.throws(() => new BatchNormalization(0), /channels must be a positive integer/);
  });
});
