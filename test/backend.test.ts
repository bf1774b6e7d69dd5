// Every backend implements every op, and the js kernels match naive oracles written here.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BACKEND_OPS, outputSize, type WindowGeometry } from '../src/backend/backend.js';
import { backendNames, getBackend } from '../src/backend/registry.js';
import { assertClose, lcg } from './helpers.js';

const rand = lcg(11);
const randArray = (n: number) => Float64Array.from({ length: n }, () => rand() * 2 - 1);

function naiveGemm(ta: boolean, tb: boolean, M: number, N: number, K: number, alpha: number, A: ArrayLike<number>, B: ArrayLike<number>, beta: number, C: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
    let s = 0;
    for (let k = 0; k < K; k++) s += (ta ? A[k * M + i] : A[i * K + k]) * (tb ? B[j * K + k] : B[k * N + j]);
    out.push(alpha * s + beta * C[i * N + j]);
  }
  return out;
}

describe('backends', () => {
  it('every registered backend implements every op', () => {
    for (const name of backendNames()) {
      const be = getBackend(name) as unknown as Record<string, unknown>;
      for (const op of BACKEND_OPS) assert.equal(typeof be[op], 'function', `backend ${name} lacks ${op}`);
    }
  });

  const be = getBackend('js');
  for (const [M, N, K] of [[1, 1, 1], [5, 7, 3], [4, 8, 16], [13, 9, 27], [3, 30, 25], [17, 4, 1]]) {
    for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]]) {
      it(`gemm ${ta ? 'T' : 'N'}${tb ? 'T' : 'N'} ${M}x${N}x${K} matches the naive loop (alpha, beta)`, () => {
        const A = randArray(M * K), B = randArray(K * N), C = randArray(M * N);
        for (const [alpha, beta] of [[1, 0], [0.5, 1], [-2, 0.25]]) {
          const expected = naiveGemm(ta, tb, M, N, K, alpha, A, B, beta, C);
          const out = Float64Array.from(C);
          be.gemm(ta, tb, M, N, K, alpha, A, B, beta, out);
          assertClose(out, expected, 1e-12, 'gemm');
          const out32 = Float32Array.from(C);
          be.gemm(ta, tb, M, N, K, alpha, Float32Array.from(A), Float32Array.from(B), beta, out32);
          assertClose(out32, expected, 1e-4, 'gemm f32');
        }
      });
    }
  }

  it('row2im is the adjoint of im2row: <im2row(x), r> = <x, row2im(r)>', () => {
    for (const [N, C, H, W, F, s, p] of [[2, 3, 5, 5, 3, 2, 1], [1, 1, 7, 4, 2, 1, 0], [3, 2, 6, 6, 3, 3, 2]]) {
      const g: WindowGeometry = { batch: N, channels: C, height: H, width: W, filterHeight: F, filterWidth: F, stride: s, pad: p, outputHeight: outputSize(H, F, s, p), outputWidth: outputSize(W, F, s, p) };
      const x = randArray(N * C * H * W);
      const rows = new Float64Array(N * g.outputHeight * g.outputWidth * C * F * F);
      be.im2row(x, g, rows);
      const r = randArray(rows.length);
      const back = new Float64Array(x.length);
      be.row2im(r, g, back);
      let lhs = 0, rhs = 0;
      for (let i = 0; i < rows.length; i++) lhs += rows[i] * r[i];
      for (let i = 0; i < x.length; i++) rhs += x[i] * back[i];
      assert.ok(Math.abs(lhs - rhs) < 1e-9 * Math.max(1, Math.abs(lhs)), `${lhs} vs ${rhs}`);
    }
  });

  it('max pooling with padding: padded cells never win, ties go to the first', () => {
    // 1x1x2x2 all negative, 2x2 window, stride 1, pad 1: every window sees real negatives only.
    const x = Float64Array.from([-1, -2, -3, -4]);
    const g: WindowGeometry = { batch: 1, channels: 1, height: 2, width: 2, filterHeight: 2, filterWidth: 2, stride: 1, pad: 1, outputHeight: 3, outputWidth: 3 };
    const out = new Float64Array(9);
    const arg = new Int32Array(9);
    be.maxPoolForward(x, g, out, arg);
    assert.deepEqual([...out], [-1, -1, -2, -1, -1, -2, -3, -3, -4]);
    const tie = new Float64Array(4).fill(5);
    const g2 = { ...g, pad: 0, outputHeight: 1, outputWidth: 1 };
    const o2 = new Float64Array(1), a2 = new Int32Array(1);
    be.maxPoolForward(tie, g2, o2, a2);
    assert.equal(a2[0], 0);
  });

  it('transpose021, bias, sums, relu, softmax backward, argmax', () => {
    const x = Float64Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]); // (2, 2, 3)
    const t = new Float64Array(12);
    be.transpose021(x, 2, 2, 3, t);
    assert.deepEqual([...t], [0, 3, 1, 4, 2, 5, 6, 9, 7, 10, 8, 11]);
    be.transpose021(x, 2, 2, 3, t, Float64Array.from([100, 200, 300]));
    assert.deepEqual([...t], [100, 103, 201, 204, 302, 305, 106, 109, 207, 210, 308, 311]);
    const sums = Float64Array.from([NaN, NaN]);
    be.transpose021(x, 2, 2, 3, t, undefined, sums);
    assert.deepEqual([...t], [0, 3, 1, 4, 2, 5, 6, 9, 7, 10, 8, 11]);
    assert.deepEqual([...sums], [0 + 1 + 2 + 6 + 7 + 8, 3 + 4 + 5 + 9 + 10 + 11]);
    const o = new Float64Array(6);
    be.addBias(Float64Array.from([1, 2, 3, 4, 5, 6]), Float64Array.from([10, 20, 30]), 2, 3, o);
    assert.deepEqual([...o], [11, 22, 33, 14, 25, 36]);
    const s = new Float64Array(3);
    be.sumRows(Float64Array.from([1, 2, 3, 4, 5, 6]), 2, 3, s);
    assert.deepEqual([...s], [5, 7, 9]);
    const mask = new Uint8Array(4), r = new Float64Array(4), d = new Float64Array(4);
    be.reluForward(Float64Array.from([-1, 0, 2, 3]), r, mask);
    assert.deepEqual([...r], [0, 0, 2, 3]);
    assert.deepEqual([...mask], [1, 1, 0, 0]);
    be.reluBackward(Float64Array.from([5, 6, 7, 8]), mask, d);
    assert.deepEqual([...d], [0, 0, 7, 8]);
    const dx = new Float64Array(4);
    be.softmaxCrossEntropyBackward(Float64Array.from([0.25, 0.75, 0.5, 0.5]), Int32Array.from([1, 0]), 2, 2, dx);
    assertClose(dx, [0.125, -0.125, -0.25, 0.25], 1e-12, 'softmax-ce backward');
    const am = new Int32Array(2);
    be.argmaxRows(Float64Array.from([1, 3, 3, 9, 2, 1]), 2, 3, am);
    assert.deepEqual([...am], [1, 0]);
  });
});
