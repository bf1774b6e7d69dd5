// The wasm convolution kernels (assembly/conv.ts: implicit GEMM, no im2row matrix) against the
// js reference (the book's im2row + GEMM + transpose, src/backend/js.ts) on odd shapes: padding
// 0-3 (including padding of a filter's size or more, where the input gradient's correlation
// gets a negative padding), strides 1-3, non-square images and filters, C = 1, FN = 1, batch 1,
// 1x1 filters, sizes that are not multiples of 4 or 8, K over one block (64), images over one
// column block; operands in the wasm memory and in ordinary arrays; then shapes over ~1 MB split
// over 1, 2 and 3 threads (counted as parallel jobs); the error of Winograd F(2x2, 3x3) and of the
// direct path against the float64 reference.
// Tolerance: the kernels sum in another order than the reference (blocks of K, 4-lane partial
// sums along the pixels), so each value may differ by the float32 rounding of a sum of `terms`
// products of values up to 1: |got - want| <= terms * 2^-21 + 1e-6 relative (a wrong index or a
// missing term is an error of the size of the values, ~0.1 - 10).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { outputSize, type WindowGeometry } from '../src/backend/backend.js';
import { getBackend } from '../src/backend/registry.js';
import type { WasmBackend } from '../src/backend/wasm/index.js';
import { lcg } from './helpers.js';

const js = getBackend('js');
const wasm = getBackend('wasm') as WasmBackend;
const rand = lcg(30303);

type Home = 'wasm memory' | 'js arrays';
function f32(n: number, home: Home): Float32Array {
  const a = home === 'wasm memory' ? wasm.allocate.float32(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rand() * 2 - 1;
  return a;
}
/** Output buffers start as NaN: a kernel that leaves a value unwritten fails. */
function nan(n: number, home: Home): Float32Array {
  const a = home === 'wasm memory' ? wasm.allocate.float32(n) : new Float32Array(n);
  a.fill(NaN);
  return a;
}
function assertNear(got: Float32Array, want: Float32Array, terms: number, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  const abs = terms * 2 ** -21;
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]);
    if (!(err <= 1e-6 * Math.abs(want[i]) + abs)) assert.fail(`${what}: index ${i} is ${got[i]}, expected ${want[i]} (error ${err.toExponential(2)})`);
  }
}
function geometry(N: number, C: number, H: number, W: number, FH: number, FW: number, stride: number, pad: number): WindowGeometry {
  return { batch: N, channels: C, height: H, width: W, filterHeight: FH, filterWidth: FW, stride, pad, outputHeight: outputSize(H, FH, stride, pad), outputWidth: outputSize(W, FW, stride, pad) };
}

/** One shape: forward, filter gradient and input gradient on wasm against js. */
function check(FN: number, g: WindowGeometry, home: Home, what: string): void {
  const { batch: N, channels: C, height: H, width: W, filterHeight: FH, filterWidth: FW, outputHeight: OH, outputWidth: OW } = g;
  const K = C * FH * FW, P = OH * OW;
  const x = f32(N * C * H * W, home), Wt = f32(FN * K, home), b = f32(FN, home), dout = f32(N * FN * P, home);

  const out = nan(N * FN * P, home), outRef = new Float32Array(N * FN * P);
  wasm.convForward(x, Wt, b, FN, g, out);
  js.convForward(x, Wt, b, FN, g, outRef);
  assertNear(out, outRef, K + 1, `${what}: forward`);

  const dW = nan(FN * K, home), db = nan(FN, home), dWRef = new Float32Array(FN * K), dbRef = new Float32Array(FN);
  wasm.convBackwardFilter(x, dout, FN, g, dW, db);
  js.convBackwardFilter(x, dout, FN, g, dWRef, dbRef);
  assertNear(dW, dWRef, N * P, `${what}: dW`);
  assertNear(db, dbRef, N * P, `${what}: db`);

  const dx = nan(N * C * H * W, home), dxRef = new Float32Array(N * C * H * W);
  wasm.convBackwardData(dout, Wt, FN, g, dx);
  js.convBackwardData(dout, Wt, FN, g, dxRef);
  assertNear(dx, dxRef, FN * FH * FW, `${what}: dx`);
}

// [N, C, H, W, FN, FH, FW, stride, pad]
const SHAPES: [number, number, number, number, number, number, number, number, number][] = [
  [1, 1, 5, 5, 1, 3, 3, 1, 0], // the smallest: C = FN = N = 1
  [2, 3, 7, 9, 5, 3, 3, 1, 1], // non-square image, FN not a multiple of 4
  [3, 2, 8, 6, 6, 5, 5, 1, 2], // lenet-like: 5x5 pad 2, FN = 6
  [2, 3, 9, 11, 4, 3, 2, 2, 1], // non-square filter, stride 2
  [2, 2, 10, 7, 3, 3, 3, 3, 0], // stride 3, a width that leaves columns out
  [1, 2, 4, 4, 3, 2, 2, 1, 2], // padding of the filter's size: the input gradient pads by -1
  [2, 3, 5, 5, 2, 4, 4, 1, 3], // padding 3 with 4x4 filters
  [2, 5, 6, 6, 7, 1, 1, 1, 0], // 1x1 filters
  [1, 1, 3, 3, 2, 3, 3, 1, 0], // one output pixel
  [2, 16, 13, 11, 9, 3, 3, 1, 1], // K = 144: three blocks of K; 143 pixels
  [1, 3, 40, 37, 5, 3, 3, 1, 1], // 1480 pixels: several column blocks
  // stride 1 runs the direct path where the padded image fits CONV_BYTES (1 MB), the packed path
  // otherwise: this one is over it (16 x 132 x 138 floats), and its filter-gradient blocks hold
  // fewer rows than a 3x3 window; a padding over FH - 1 sends the input gradient there too
  [1, 16, 130, 129, 2, 3, 3, 1, 1],
  [2, 4, 11, 11, 3, 5, 5, 2, 2], // strided with padding
  // 5x5 stride 1: db summed in the filter gradient's transpose of dout (FN 17: a panel of one
  // filter, 54 pixels: a last pair of columns; C = 2: K = 50 blocks of 4 taps and a tail of 2)
  [3, 1, 13, 10, 17, 5, 5, 1, 0],
  [2, 2, 9, 9, 6, 5, 5, 1, 1],
  // Winograd F(2x2, 3x3) (3x3, stride 1, >= 8 channels in and out; the input gradient too, with
  // padding 2 - pad): odd output sizes (a last half block), filters not a multiple of 4, pad 0-2
  [3, 8, 7, 9, 8, 3, 3, 1, 0],
  [2, 9, 6, 5, 13, 3, 3, 1, 2],
  [1, 12, 16, 16, 10, 3, 3, 1, 1],
  [2, 8, 5, 12, 11, 3, 3, 1, 1],
  [1, 8, 3, 3, 8, 3, 3, 1, 3], // padding 3: the input gradient's correlation pads by -1 (packed path)
  [2, 64, 7, 5, 66, 3, 3, 1, 1], // >= 64 channels in and out: the filter gradient by Winograd too
  [1, 65, 4, 4, 64, 3, 3, 1, 0],
  // 5x5 stride 1 (lenet; direct5Images): 3 x 8 tiles for multiples of 3 filters that are not
  // multiples of 4 (forward FN, input gradient C), 4 x 8 otherwise; short and odd rows, last
  // tiles of 1-7 pixels and of fewer filters, the input gradient's padding 4 - pad from 4 down to
  // -1 (the packed path)
  [2, 6, 9, 7, 16, 5, 5, 1, 0], // lenet conv2-like: FN 16 forward, C 6 input gradient
  [2, 9, 11, 13, 9, 5, 5, 1, 1], // 9 filters: three 3-row tiles; 9-pixel rows
  [1, 3, 12, 10, 7, 5, 5, 1, 3], // FN 7: a 4-row and a 3-row tile; dx on C = 3
  [2, 12, 7, 7, 12, 5, 5, 1, 4], // 12 filters: multiples of 4 keep 4-row tiles; dx padding 0
  [1, 2, 6, 6, 3, 5, 5, 1, 5], // padding 5: the input gradient pads by -1 (packed path)
  [2, 1, 12, 11, 30, 5, 5, 1, 0], // simple-like: 30 filters, a multiple of 3 on 4-row tiles (the last one 2 rows)
  // 16 filters x 2 pixels per tile (lanesImages: forward, >= 16 filters on rows where 8-pixel
  // tiles waste more lanes): odd rows (a last single pixel), a last group of 1 filter, padding
  [2, 1, 9, 11, 16, 3, 3, 1, 1], // deep conv1-like: 11-pixel rows
  [1, 2, 7, 6, 33, 3, 2, 1, 2], // 33 filters: groups of 16, 16 and 1; 9-pixel rows
  [3, 6, 12, 12, 20, 5, 5, 1, 1], // 20 filters: a group of 4 real ones; 10-pixel rows
];

describe('conv kernels match js on odd shapes', () => {
  for (const home of ['wasm memory', 'js arrays'] as Home[]) {
    for (const [N, C, H, W, FN, FH, FW, stride, pad] of SHAPES) {
      const what = `N${N} C${C} ${H}x${W} FN${FN} f${FH}x${FW} s${stride} p${pad}`;
      it(`${what}, ${home}`, () => check(FN, geometry(N, C, H, W, FH, FW, stride, pad), home, what));
    }
  }
});

// The error of the float32 kernels against the float64 reference, Winograd (3x3, >= 8 channels;
// forward, dx and dW) and direct (fewer channels) alike: measured here at most 4.1e-7 x the
// largest |value| (Winograd forward, C = FN = 64 on 8x8; the direct path ~2.4e-7): the bound
// 2e-6 x the largest |value| leaves 5x, while a wrong transform is off by the size of the values.
describe('conv kernels: error against the float64 reference', () => {
  const shapes: [number, number, number, number, number][] = [[4, 16, 28, 16, 1], [4, 64, 8, 64, 1], [2, 67, 9, 70, 2], [2, 9, 11, 13, 0], [4, 4, 28, 4, 1], [3, 7, 14, 7, 2]];
  for (const [N, C, S, FN, pad] of shapes) {
    it(`N${N} C${C} ${S}x${S} FN${FN} 3x3 p${pad}: forward, dx and dW within 2e-6 x max |value|${C >= 8 && FN >= 8 ? ' (Winograd)' : ' (direct)'}`, () => {
      const g = geometry(N, C, S, S, 3, 3, 1, pad);
      const P = g.outputHeight * g.outputWidth;
      const r = () => rand() * 2 - 1;
      const x = Float64Array.from({ length: N * C * S * S }, r), Wt = Float64Array.from({ length: FN * C * 9 }, r);
      const b = Float64Array.from({ length: FN }, r), dout = Float64Array.from({ length: N * FN * P }, r);
      const check64 = (got: Float32Array, want: Float64Array, what: string) => {
        let err = 0, max = 0;
        for (let i = 0; i < want.length; i++) { err = Math.max(err, Math.abs(got[i] - want[i])); max = Math.max(max, Math.abs(want[i])); }
        assert.ok(err <= 2e-6 * max, `${what}: error ${err.toExponential(2)} > 2e-6 x ${max.toFixed(2)}`);
      };
      const o64 = new Float64Array(N * FN * P), o32 = new Float32Array(N * FN * P);
      js.convForward(x, Wt, b, FN, g, o64);
      wasm.convForward(Float32Array.from(x), Float32Array.from(Wt), Float32Array.from(b), FN, g, o32);
      check64(o32, o64, 'forward');
      const d64 = new Float64Array(N * C * S * S), d32 = new Float32Array(N * C * S * S);
      js.convBackwardData(dout, Wt, FN, g, d64);
      wasm.convBackwardData(Float32Array.from(dout), Float32Array.from(Wt), FN, g, d32);
      check64(d32, d64, 'dx');
      const w64 = new Float64Array(FN * C * 9), b64 = new Float64Array(FN), w32 = new Float32Array(FN * C * 9), b32 = new Float32Array(FN);
      js.convBackwardFilter(x, dout, FN, g, w64, b64);
      wasm.convBackwardFilter(Float32Array.from(x), Float32Array.from(dout), FN, g, w32, b32);
      check64(w32, w64, 'dW');
    });
  }
});

describe('simple conv1 (1 -> 30, 5x5, pad 0) matches js at 1 and 2 threads', () => {
  for (const threads of [1, 2]) {
    it(`${threads} thread(s), split forced: dW halves of the window, db from the first`, () => {
      wasm.setThreads(threads);
      wasm.setSplitBytes(0);
      const before = wasm.parallelJobs;
      try {
        check(30, geometry(20, 1, 28, 28, 5, 5, 1, 0), 'wasm memory', 'simple conv1');
        if (threads > 1) assert.ok(wasm.parallelJobs - before >= 3, 'forward, dW and dx ran split');
      } finally {
        wasm.setSplitBytes(undefined);
        wasm.setThreads(2);
      }
    });
  }
});

describe('conv kernels split over the pool match js', () => {
  for (const threads of [1, 2, 3]) {
    it(`${threads} thread(s): forward, dW and dx on shapes over ~1 MB (stride 1 and 2)`, () => {
      wasm.setThreads(threads);
      const before = wasm.parallelJobs;
      try {
        check(32, geometry(48, 16, 14, 13, 3, 3, 1, 1), 'wasm memory', 'deep-like');
        check(8, geometry(40, 8, 30, 29, 5, 5, 2, 2), 'wasm memory', 'strided');
        check(6, geometry(60, 1, 28, 28, 5, 5, 1, 2), 'js arrays', 'lenet conv1');
        check(64, geometry(70, 64, 8, 8, 3, 3, 1, 1), 'wasm memory', 'deep conv6 (Winograd, dW by channel halves)');
        check(16, geometry(240, 6, 14, 14, 5, 5, 1, 0), 'wasm memory', 'lenet conv2 (5x5 tiles: 4 x 8 forward, 3 x 8 dx)');
        if (threads > 1) assert.equal(wasm.parallelJobs - before, 15, 'every op above ran as a parallel job');
        else assert.equal(wasm.parallelJobs - before, 0);
      } finally {
        wasm.setThreads(2);
      }
    });
  }
});
