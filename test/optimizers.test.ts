// Optimizers against the book's formulas written out independently in the test.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AdaGrad } from '../src/optimizers/adagrad.js';
import { Adam } from '../src/optimizers/adam.js';
import { createOptimizer } from '../src/optimizers/index.js';
import { Momentum } from '../src/optimizers/momentum.js';
import { SGD } from '../src/optimizers/sgd.js';
import type { Optimizer } from '../src/optimizers/optimizer.js';
import { fromArray, type Tensor } from '../src/tensor.js';
import { assertClose, lcg } from './helpers.js';

type Ref = (p: number[], g: number[], state: Record<string, number[] | number>) => void;

function run(opt: Optimizer, ref: Ref, steps = 5): void {
  const rand = lcg(3);
  const init = Array.from({ length: 7 }, () => rand() * 2 - 1);
  const params: Record<string, Tensor> = { W: fromArray(init, [7], 'float64') };
  const p = [...init];
  const state: Record<string, number[] | number> = {};
  for (let s = 0; s < steps; s++) {
    const g = Array.from({ length: 7 }, () => rand() * 2 - 1);
    opt.update(params, { W: fromArray(g, [7], 'float64') });
    ref(p, g, state);
    assertClose(params.W.data, p, 1e-12, `${opt.name} step ${s + 1}`);
  }
}

describe('optimizers follow the book', () => {
  it('SGD: W -= lr * g (default lr 0.01)', () => {
    run(new SGD(), (p, g) => p.forEach((_, i) => (p[i] -= 0.01 * g[i])));
    run(new SGD({ lr: 0.5 }), (p, g) => p.forEach((_, i) => (p[i] -= 0.5 * g[i])));
  });
  it('Momentum: v = 0.9 v - lr g; W += v', () => {
    run(new Momentum({ lr: 0.1 }), (p, g, st) => {
      const v = (st.v as number[]) ?? (st.v = new Array(p.length).fill(0));
      p.forEach((_, i) => {
        v[i] = 0.9 * v[i] - 0.1 * g[i];
        p[i] += v[i];
      });
    });
  });
  it('AdaGrad: h += g^2; W -= lr g / (sqrt(h) + 1e-7)', () => {
    run(new AdaGrad({ lr: 0.1 }), (p, g, st) => {
      const h = (st.h as number[]) ?? (st.h = new Array(p.length).fill(0));
      p.forEach((_, i) => {
        h[i] += g[i] * g[i];
        p[i] -= (0.1 * g[i]) / (Math.sqrt(h[i]) + 1e-7);
      });
    });
  });
  it('Adam with bias-corrected step size', () => {
    const lr = 0.01, b1 = 0.8, b2 = 0.99;
    run(new Adam({ lr, beta1: b1, beta2: b2 }), (p, g, st) => {
      const m = (st.m as number[]) ?? (st.m = new Array(p.length).fill(0));
      const v = (st.v as number[]) ?? (st.v = new Array(p.length).fill(0));
      const t = (st.t = ((st.t as number) ?? 0) + 1);
      const lrT = (lr * Math.sqrt(1 - b2 ** t)) / (1 - b1 ** t);
      p.forEach((_, i) => {
        m[i] = b1 * m[i] + (1 - b1) * g[i];
        v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
        p[i] -= (lrT * m[i]) / (Math.sqrt(v[i]) + 1e-7);
      });
    });
  });
  it('book defaults and factory by name (any case)', () => {
    assert.equal(new SGD().lr, 0.01);
    const m = new Momentum();
    assert.equal(m.lr, 0.01);
    assert.equal(m.momentum, 0.9);
    const a = new Adam();
    assert.deepEqual([a.lr, a.beta1, a.beta2], [0.001, 0.9, 0.999]);
    assert.equal(createOptimizer('Adam', { lr: 0.002 }).name, 'adam');
    assert.equal((createOptimizer('ADAGRAD') as AdaGrad).lr, 0.01);
    assert.throws(() => createOptimizer('rmsprop'), /unknown optimizer 'rmsprop'/);
    assert.throws(() => new Adam({ lr: -1 }), /lr must be/);
  });
  it('refuses a missing or mis-sized gradient', () => {
    const params = { W: fromArray([1, 2]) };
    assert.throws(() => new SGD().update(params, {}), /no gradient for parameter W/);
    assert.throws(() => new SGD().update(params, { W: fromArray([1]) }), /gradient W has 1 values/);
  });
});
