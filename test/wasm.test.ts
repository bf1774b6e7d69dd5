// The wasm backend against the js reference: every op on random shapes (odd sizes, K not a
// multiple of 4, M smaller than a tile, batch 1), with operands in the wasm memory and outside
// it, on one thread and split over the pool; float64 falls back to js; training on both
// backends gives the same losses; a training loop allocates nothing per step.

import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { BACKEND_OPS, outputSize, type Backend, type WindowGeometry } from '../src/backend/backend.js';
import { backendNames, getBackend } from '../src/backend/registry.js';
import { loadWasmBackend, type WasmBackend } from '../src/backend/wasm/index.js';
import { ThreadPool } from '../src/backend/wasm/threads.js';
import { WASM_KERNELS } from '../src/backend/wasm/wasm-backend.js';
import { loadMnist, type Mnist } from '../src/data/mnist.js';
import { SimpleConvNet } from '../src/models/simple-convnet.js';
import { Trainer } from '../src/train/trainer.js';
import { assertClose, lcg } from './helpers.js';

const js = getBackend('js');
assert.ok(backendNames().includes('wasm'), 'the wasm backend did not load: run `npm run build` (it builds dist/wasm/*.wasm)');
const wasm = getBackend('wasm') as WasmBackend;

const rand = lcg(20240607);

type Home = 'wasm memory' | 'js arrays';
const homes: Home[] = ['wasm memory', 'js arrays'];

/** A Float32Array of n values in [-1, 1), in the wasm memory or an ordinary array. */
function f32(n: number, home: Home, fill: () => number = () => rand() * 2 - 1): Float32Array {
  const a = home === 'wasm memory' ? wasm.allocate!.float32(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = fill();
  return a;
}
function i32(n: number, home: Home): Int32Array {
  return home === 'wasm memory' ? wasm.allocate!.int32(n) : new Int32Array(n);
}
function u8(n: number, home: Home): Uint8Array {
  return home === 'wasm memory' ? wasm.allocate!.uint8(n) : new Uint8Array(n);
}
const copy = (a: Float32Array) => Float32Array.from(a);

/** gemm results against the js reference with float32's error bound: each entry may differ by
 *  a few ulps times (K + 2) times |alpha| |op(A)| |op(B)| + |beta C| (the same products in
 *  absolute value), so a near-cancelling entry is not held to a relative tolerance it cannot
 *  meet, while any wrong index or missing term (an error of the order of the bound) fails. */
function assertGemmClose(ta: boolean, tb: boolean, M: number, N: number, K: number, alpha: number, A: Float32Array, B: Float32Array, beta: number, C0: Float32Array, got: Float32Array, what: string): void {
  const expected = Float64Array.from(C0);
  js.gemm(ta, tb, M, N, K, alpha, Float64Array.from(A), Float64Array.from(B), beta, expected);
  const bound = Float64Array.from(C0, (v) => Math.abs(v));
  js.gemm(ta, tb, M, N, K, Math.abs(alpha), Float64Array.from(A, Math.abs), Float64Array.from(B, Math.abs), Math.abs(beta), bound);
  for (let i = 0; i < M * N; i++) {
    const err = Math.abs(got[i] - expected[i]);
    assert.ok(err <= 2.4e-7 * (K + 2) * bound[i] + 1e-30, `${what}: entry ${i} (row ${Math.floor(i / N)}, col ${i % N}) is ${got[i]}, expected ${expected[i]} (error ${err.toExponential(2)}, bound scale ${bound[i].toExponential(2)})`);
  }
}

function geometry(N: number, C: number, H: number, W: number, FH: number, FW: number, stride: number, pad: number): WindowGeometry {
  return { batch: N, channels: C, height: H, width: W, filterHeight: FH, filterWidth: FW, stride, pad, outputHeight: outputSize(H, FH, stride, pad), outputWidth: outputSize(W, FW, stride, pad) };
}

describe('wasm backend: loading and completeness', () => {
  it('is registered, is the default backend unless SCRATCHNET_BACKEND says otherwise, and has every op', () => {
    const requested = process.env.SCRATCHNET_BACKEND;
    assert.equal(getBackend().name, requested ?? 'wasm', 'default backend');
    for (const op of BACKEND_OPS) assert.equal(typeof (wasm as unknown as Record<string, unknown>)[op], 'function', `wasm lacks ${op}`);
    // Node 20 validates relaxed SIMD once the loader has set its V8 flag: the FMA build is picked
    assert.equal(wasm.flavor, process.env.SCRATCHNET_WASM_FMA === '0' ? 'simd' : 'fma', 'kernel build picked by the probe');
    assert.ok(wasm.allocate, 'Node has shared memory, so the backend offers an allocator');
  });

  it('ops without a wasm kernel are the table\'s explicit host fallbacks (no prototype chain)', () => {
    assert.equal(Object.getPrototypeOf(wasm), Object.prototype, 'a plain object: nothing inherited from js');
    for (const op of BACKEND_OPS) {
      assert.ok(Object.prototype.hasOwnProperty.call(wasm, op), `${op} is an own method`);
      const fn = (wasm as unknown as Record<string, unknown>)[op];
      const host = 'host' in WASM_KERNELS[op];
      assert.equal(fn === (js as unknown as Record<string, unknown>)[op], host, `${op}: the js kernel itself exactly when the table says host`);
    }
  });
});

describe('wasm gemm matches js', () => {
  const shapes: [number, number, number][] = [
    [1, 1, 1], [3, 5, 7], [4, 8, 16], [5, 9, 13], [13, 17, 27], [2, 30, 25], [17, 3, 1], [33, 65, 259], [100, 10, 100],
    [1, 300, 2], [300, 1, 5],
  ];
  for (const home of homes) {
    for (const [M, N, K] of shapes) {
      it(`${M}x${N}x${K}, all transposes, alpha/beta, ${home}`, () => {
        for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
          for (const [alpha, beta] of [[1, 0], [0.5, 1], [-2, 0.25], [0, 0.5]]) {
            const A = f32(M * K, home), B = f32(K * N, home), C = f32(M * N, home);
            const C0 = copy(C);
            wasm.gemm(ta, tb, M, N, K, alpha, A, B, beta, C);
            assertGemmClose(ta, tb, M, N, K, alpha, A, B, beta, C0, C, `gemm ${ta ? 'T' : 'N'}${tb ? 'T' : 'N'} alpha ${alpha} beta ${beta}`);
          }
        }
      });
    }
  }

  it('the other kernel build (plain SIMD or FMA) matches js too', async () => {
    const other = await loadWasmBackend({ fma: wasm.flavor !== 'fma', threads: 1 });
    assert.ok(other, 'second instance loads');
    assert.notEqual(other.flavor, wasm.flavor, 'it is the other build');
    for (const [M, N, K] of [[5, 9, 13], [33, 65, 259], [57, 30, 25]]) {
      for (const [ta, tb] of [[false, false], [true, true], [false, true], [true, false]] as const) {
        const A = f32(M * K, 'js arrays'), B = f32(K * N, 'js arrays'), C = f32(M * N, 'js arrays');
        const C0 = copy(C);
        other.gemm(ta, tb, M, N, K, 0.75, A, B, 0.5, C);
        assertGemmClose(ta, tb, M, N, K, 0.75, A, B, 0.5, C0, C, `${other.flavor} gemm ${M}x${N}x${K}`);
      }
    }
  });

  it('beta = 0 ignores NaNs left in C (reused buffers)', () => {
    const A = f32(6, 'wasm memory'), B = f32(6, 'wasm memory'), C = f32(4, 'wasm memory', () => NaN);
    wasm.gemm(false, false, 2, 2, 3, 1, A, B, 0, C);
    assert.ok(C.every(Number.isFinite), `C = ${[...C]}`);
  });

  // Big enough to be split over the pool (> 4 MFLOP): by rows, by columns and by K.
  const big: [string, number, number, number][] = [['rows', 2003, 29, 77], ['columns', 37, 301, 190], ['K', 7, 9, 40001]];
  for (const threads of [1, 2, 3]) {
    for (const [split, M, N, K] of big) {
      it(`${threads} thread(s): ${M}x${N}x${K} (split by ${split})`, () => {
        wasm.setThreads(threads);
        const jobsBefore = wasm.parallelJobs;
        try {
          for (const [ta, tb] of [[false, false], [true, true], [true, false]] as const) {
            const A = f32(M * K, 'wasm memory'), B = f32(K * N, 'wasm memory'), C = f32(M * N, 'wasm memory');
            const C0 = copy(C);
            wasm.gemm(ta, tb, M, N, K, 1.5, A, B, 0.5, C);
            assertGemmClose(ta, tb, M, N, K, 1.5, A, B, 0.5, C0, C, `gemm ${threads} threads ${split} ${ta}${tb}`);
          }
          if (threads > 1) assert.equal(wasm.parallelJobs - jobsBefore, 3, 'each of the three products ran as a parallel job');
          else assert.equal(wasm.parallelJobs, jobsBefore, 'one thread: no parallel jobs');
        } finally {
          wasm.setThreads(2);
        }
      });
    }
  }
});

describe('the thread pool: helpers really run chunks', () => {
  it('startThreads() resolves with every thread running (up to 3); a helper takes chunks; the counts survive setThreads', async () => {
    wasm.setThreads(3);
    try {
      assert.ok(wasm.threads >= 2, `a pool (threads ${wasm.threads})`);
      assert.equal(await wasm.startThreads(), wasm.threads, 'the caller and every helper run');
      const [M, N, K] = [401, 203, 301];
      const one = () => 1; // the shared generator is left alone: later tests' inputs stay as they were
      const A = f32(M * K, 'wasm memory', one), B = f32(K * N, 'wasm memory', one), C = f32(M * N, 'wasm memory', one);
      const chunks0 = wasm.parallelChunks, helped0 = wasm.helperChunks;
      // dynamic chunking: on a busy machine the caller may claim every chunk of one job, not of 200
      for (let i = 0; i < 200 && wasm.helperChunks === helped0; i++) wasm.gemm(false, false, M, N, K, 1, A, B, 0, C);
      assert.ok(wasm.helperChunks > helped0, 'a helper ran chunks');
      assert.ok(wasm.parallelChunks - chunks0 >= wasm.helperChunks - helped0, 'helpers ran part of the chunks, not more');
      const [jobs, chunks, helped] = [wasm.parallelJobs, wasm.parallelChunks, wasm.helperChunks];
      wasm.setThreads(2); // closes the pool: what it did is still counted
      assert.deepEqual([wasm.parallelJobs, wasm.parallelChunks, wasm.helperChunks], [jobs, chunks, helped]);
    } finally {
      wasm.setThreads(2);
    }
  });

  it('a closed pool\'s control block is not handed to the next pool (a stale helper must only see STOP)', () => {
    // terminate() is asynchronous: a helper not yet scheduled still waits on the old block
    const idle = { terminate: () => undefined };
    const scratch = [wasm.memory.alloc(64), wasm.memory.alloc(64)];
    const noModule = {} as unknown as ConstructorParameters<typeof ThreadPool>[1];
    const first = new ThreadPool(wasm.memory, noModule, () => undefined, scratch, () => idle);
    const stop = new Int32Array(wasm.memory.buffer, first.ctrlOffset, 8);
    first.close();
    const next = new ThreadPool(wasm.memory, noModule, () => undefined, scratch, () => idle);
    try {
      assert.notEqual(next.ctrlOffset, first.ctrlOffset);
      assert.equal(Atomics.load(stop, 4), 1, 'the old block still says STOP');
    } finally {
      next.close();
      for (const s of scratch) wasm.memory.free(s);
    }
  });

  it('one thread: startThreads() starts nothing', async () => {
    wasm.setThreads(1);
    try {
      assert.equal(await wasm.startThreads(), 1);
    } finally {
      wasm.setThreads(2);
    }
  });
});

describe('wasm window ops match js', () => {
  const cases = [
    geometry(1, 1, 5, 5, 3, 3, 1, 0), geometry(2, 3, 7, 6, 3, 2, 2, 1), geometry(3, 2, 9, 8, 5, 5, 1, 2),
    geometry(1, 4, 6, 7, 2, 2, 2, 0), geometry(2, 1, 8, 5, 3, 3, 3, 1), geometry(1, 2, 4, 4, 4, 4, 1, 3),
    // the book's 2x2 / stride 2 pooling has a SIMD path: 4 outputs per step plus a tail, odd sizes
    geometry(2, 3, 10, 11, 2, 2, 2, 0), geometry(1, 2, 24, 24, 2, 2, 2, 0), geometry(1, 1, 19, 17, 2, 2, 2, 0),
  ];
  for (const home of homes) {
    for (const g of cases) {
      const label = `N${g.batch} C${g.channels} ${g.height}x${g.width} f${g.filterHeight}x${g.filterWidth} s${g.stride} p${g.pad}, ${home}`;
      const nIn = g.batch * g.channels * g.height * g.width;
      const rows = g.batch * g.outputHeight * g.outputWidth, rowLen = g.channels * g.filterHeight * g.filterWidth;
      it(`im2row / row2im ${label}`, () => {
        const x = f32(nIn, home);
        const a = f32(rows * rowLen, home, () => NaN), b = new Float32Array(rows * rowLen);
        wasm.im2row(x, g, a);
        js.im2row(copy(x), g, b);
        assert.deepEqual([...a], [...b], 'im2row is a copy: exact');
        const r = f32(rows * rowLen, home);
        const c = f32(nIn, home, () => NaN), d = new Float32Array(nIn);
        wasm.row2im(r, g, c);
        js.row2im(copy(r), g, d);
        assertClose(c, d, 1e-6, 'row2im');
      });
      it(`max pooling forward / backward ${label}`, () => {
        // a few exact ties and a NaN, which must behave as in js
        const x = f32(nIn, home, () => Math.round(rand() * 8) / 4 - 1);
        x[nIn >> 1] = NaN;
        const nOut = g.batch * g.channels * g.outputHeight * g.outputWidth;
        const out = f32(nOut, home), arg = i32(nOut, home);
        const out2 = new Float32Array(nOut), arg2 = new Int32Array(nOut);
        wasm.maxPoolForward(x, g, out, arg);
        js.maxPoolForward(copy(x), g, out2, arg2);
        assert.deepEqual([...arg], [...arg2], 'argmax');
        assert.deepEqual([...out].map(String), [...out2].map(String), 'maxima (NaN included)');
        const dout = f32(nOut, home), dx = f32(nIn, home, () => NaN), dx2 = new Float32Array(nIn);
        wasm.maxPoolBackward(dout, arg, g, dx);
        js.maxPoolBackward(copy(dout), Int32Array.from(arg2), g, dx2);
        assertClose(dx, dx2, 1e-6, 'pool dx');
      });
    }
  }
});

describe('wasm memory-bound ops split over the pool match js', () => {
  // > 1 MB touched, so with several threads each op is split along samples / planes / elements
  for (const threads of [2, 3]) {
    it(`${threads} threads: im2row, row2im, pooling, transpose, relu on large odd shapes`, () => {
      wasm.setThreads(threads);
      wasm.setSplitBytes(1 << 20); // split above 1 MB whatever the default: reach the split paths

      const jobsBefore = wasm.parallelJobs;
      try {
        const g = geometry(17, 4, 41, 39, 3, 3, 1, 1);
        const nIn = g.batch * g.channels * g.height * g.width, nRows = g.batch * g.outputHeight * g.outputWidth * g.channels * 9;
        const x = f32(nIn, 'wasm memory'), rows = f32(nRows, 'wasm memory'), rows2 = new Float32Array(nRows);
        wasm.im2row(x, g, rows);
        js.im2row(copy(x), g, rows2);
        assert.deepEqual([...rows], [...rows2], 'im2row split by samples');
        const back = f32(nIn, 'wasm memory'), back2 = new Float32Array(nIn);
        wasm.row2im(rows, g, back);
        js.row2im(rows2, g, back2);
        assertClose(back, back2, 1e-6, 'row2im split by samples');
        for (const pg of [geometry(40, 8, 41, 41, 2, 2, 2, 0), geometry(20, 8, 40, 37, 3, 3, 2, 1)]) {
          const n = pg.batch * pg.channels * pg.height * pg.width, nOut = pg.batch * pg.channels * pg.outputHeight * pg.outputWidth;
          const px = f32(n, 'wasm memory'), out = f32(nOut, 'wasm memory'), arg = i32(nOut, 'wasm memory');
          const out2 = new Float32Array(nOut), arg2 = new Int32Array(nOut);
          wasm.maxPoolForward(px, pg, out, arg);
          js.maxPoolForward(copy(px), pg, out2, arg2);
          assert.deepEqual([...arg], [...arg2], `pool argmax split by planes (${pg.filterHeight}x${pg.filterWidth})`);
          assert.deepEqual([...out], [...out2], 'pool maxima split by planes');
          const dout = f32(nOut, 'wasm memory'), dx = f32(n, 'wasm memory', () => NaN), dx2 = new Float32Array(n);
          wasm.maxPoolBackward(dout, arg, pg, dx);
          js.maxPoolBackward(copy(dout), arg2, pg, dx2);
          assertClose(dx, dx2, 1e-6, 'pool dx split by planes');
        }
        const [a, b, c] = [40, 1681, 9];
        const t = f32(a * b * c, 'wasm memory'), t1 = f32(a * b * c, 'wasm memory'), t2 = new Float32Array(a * b * c);
        wasm.transpose021(t, a, b, c, t1);
        js.transpose021(copy(t), a, b, c, t2);
        assert.deepEqual([...t1], [...t2], 'transpose021 split by blocks');
        const tb = f32(c, 'wasm memory'), s1 = f32(b, 'wasm memory', () => NaN), s2 = new Float32Array(b);
        wasm.transpose021(t, a, b, c, t1, tb);
        js.transpose021(copy(t), a, b, c, t2, copy(tb));
        assert.deepEqual([...t1], [...t2], 'transpose021 with bias split by blocks');
        wasm.transpose021(t, a, b, c, t1, undefined, s1);
        js.transpose021(copy(t), a, b, c, t2, undefined, s2);
        assert.deepEqual([...t1], [...t2], 'transpose021 with sums split by blocks');
        assertClose(s1, s2, 1e-4, 'transpose021 sums: one partial per chunk, added up');
        const n = 538_001;
        const rx = f32(n, 'wasm memory'), ro = f32(n, 'wasm memory'), rm = u8(n, 'wasm memory');
        const ro2 = new Float32Array(n), rm2 = new Uint8Array(n);
        wasm.reluForward(rx, ro, rm);
        js.reluForward(copy(rx), ro2, rm2);
        assert.deepEqual([...rm], [...rm2], 'relu mask split by elements');
        assert.deepEqual([...ro], [...ro2], 'relu out split by elements');
        const rd = f32(n, 'wasm memory'), rdx = f32(n, 'wasm memory'), rdx2 = new Float32Array(n);
        wasm.reluBackward(rd, rm, rdx);
        js.reluBackward(copy(rd), rm2, rdx2);
        assert.deepEqual([...rdx], [...rdx2], 'relu dx split by elements');
        const [br, bc] = [4099, 37];
        const bx = f32(br * bc, 'wasm memory'), bb = f32(bc, 'wasm memory'), bo = f32(br * bc, 'wasm memory'), bo2 = new Float32Array(br * bc);
        wasm.addBias(bx, bb, br, bc, bo);
        js.addBias(copy(bx), copy(bb), br, bc, bo2);
        assertClose(bo, bo2, 1e-6, 'addBias split by rows');
        const m = 100_003;
        const ap = f32(m, 'wasm memory'), ag = f32(m, 'wasm memory'), am = f32(m, 'wasm memory'), av = f32(m, 'wasm memory', () => rand());
        const bp = copy(ap), bm = copy(am), bv = copy(av);
        wasm.adamUpdate(ap, ag, am, av, 0.001, 0.9, 0.999, 1e-7);
        js.adamUpdate(bp, copy(ag), bm, bv, 0.001, 0.9, 0.999, 1e-7);
        assertClose(ap, bp, 5e-5, 'adam p split by elements');
        assertClose(am, bm, 2e-4, 'adam m split by elements (float32 vs double arithmetic)');
        assertClose(av, bv, 2e-4, 'adam v split by elements');
        // im2row, row2im, 2 x (pool forward + backward), 3 x transpose (plain, bias, sums), relu x2, addBias, adam
        assert.equal(wasm.parallelJobs - jobsBefore, 13, 'every op above ran as a parallel job');
      } finally {
        wasm.setSplitBytes(undefined);
        wasm.setThreads(2);
      }
    });
  }
});

describe('wasm elementwise, softmax and optimizer ops match js', () => {
  for (const home of homes) {
    for (const [rows, cols] of [[1, 1], [1, 10], [3, 7], [100, 10], [17, 33], [5, 4]]) {
      it(`${rows}x${cols}, ${home}`, () => {
        const n = rows * cols;
        const x = f32(n, home, () => (rand() < 0.1 ? 0 : rand() * 6 - 3));
        for (const [a, b, c] of [[2, 3, 5], [rows, cols, 1], [1, rows, cols], [3, 1, 4]]) {
          const t = f32(a * b * c, home), o = f32(a * b * c, home), o2 = new Float32Array(a * b * c);
          wasm.transpose021(t, a, b, c, o);
          js.transpose021(copy(t), a, b, c, o2);
          assert.deepEqual([...o], [...o2], `transpose021 ${a},${b},${c}`);
          // the convolution's fused forms: bias added on the way, and the sums of x over (a, c)
          const tb = f32(c, home), ob = f32(a * b * c, home, () => NaN), ob2 = new Float32Array(a * b * c);
          wasm.transpose021(t, a, b, c, ob, tb);
          js.transpose021(copy(t), a, b, c, ob2, copy(tb));
          assert.deepEqual([...ob], [...ob2], `transpose021 with bias ${a},${b},${c}`);
          const s = f32(b, home, () => NaN), s2 = new Float32Array(b), os = f32(a * b * c, home);
          wasm.transpose021(t, a, b, c, os, undefined, s);
          js.transpose021(copy(t), a, b, c, o2, undefined, s2);
          assert.deepEqual([...os], [...o2], `transpose021 with sums ${a},${b},${c}`);
          assertClose(s, s2, 1e-4, `transpose021 sums ${a},${b},${c}`);
        }
        const bias = f32(cols, home);
        const ab = f32(n, home), ab2 = new Float32Array(n);
        wasm.addBias(x, bias, rows, cols, ab);
        js.addBias(copy(x), copy(bias), rows, cols, ab2);
        assertClose(ab, ab2, 1e-6, 'addBias');
        const inPlace = f32(n, home), inPlace2 = copy(inPlace);
        wasm.addBias(inPlace, bias, rows, cols, inPlace);
        js.addBias(inPlace2, copy(bias), rows, cols, inPlace2);
        assertClose(inPlace, inPlace2, 1e-6, 'addBias in place');
        const s = f32(cols, home, () => NaN), s2 = new Float32Array(cols);
        wasm.sumRows(x, rows, cols, s);
        js.sumRows(copy(x), rows, cols, s2);
        assertClose(s, s2, 1e-5, 'sumRows');

        const r = f32(n, home), m = u8(n, home), r2 = new Float32Array(n), m2 = new Uint8Array(n);
        wasm.reluForward(x, r, m);
        js.reluForward(copy(x), r2, m2);
        assert.deepEqual([...m], [...m2], 'relu mask');
        assert.deepEqual([...r], [...r2], 'relu out');
        const dout = f32(n, home), dx = f32(n, home), dx2 = new Float32Array(n);
        wasm.reluBackward(dout, m, dx);
        js.reluBackward(copy(dout), m2, dx2);
        assert.deepEqual([...dx], [...dx2], 'relu dx');

        const y = f32(n, home), y2 = new Float32Array(n);
        wasm.softmax(x, rows, cols, y);
        js.softmax(copy(x), rows, cols, y2);
        assertClose(y, y2, 1e-6, 'softmax');
        const labels = i32(rows, home);
        for (let i = 0; i < rows; i++) labels[i] = Math.floor(rand() * cols);
        const ce = wasm.crossEntropy(y, labels, rows, cols), ce2 = js.crossEntropy(y2, Int32Array.from(labels), rows, cols);
        assert.ok(Math.abs(ce - ce2) <= 1e-6 * Math.max(1, Math.abs(ce2)), `crossEntropy ${ce} vs ${ce2}`);
        const g = f32(n, home), g2 = new Float32Array(n);
        wasm.softmaxCrossEntropyBackward(y, labels, rows, cols, g);
        js.softmaxCrossEntropyBackward(y2, Int32Array.from(labels), rows, cols, g2);
        assertClose(g, g2, 1e-6, 'softmax-ce backward');
        for (const at of [-1, 0, n >> 1, n - 1]) {
          for (const bad of [NaN, Infinity, -Infinity]) {
            const f = f32(n, home);
            if (at >= 0) f[at] = bad;
            assert.equal(wasm.firstNonFinite(f), js.firstNonFinite(copy(f)), `firstNonFinite: ${bad} at ${at}`);
          }
        }
        const am = i32(rows, home), am2 = new Int32Array(rows);
        wasm.argmaxRows(x, rows, cols, am);
        js.argmaxRows(copy(x), rows, cols, am2);
        assert.deepEqual([...am], [...am2], 'argmaxRows');
      });
    }
    for (const n of [1, 3, 4, 17, 1001]) {
      it(`optimizer updates on ${n} values, 3 steps, ${home}`, () => {
        const fresh = () => ({ p: f32(n, home), g: f32(n, home), s1: f32(n, home, () => rand()), s2: f32(n, home, () => rand()) });
        const a = fresh();
        const b = { p: copy(a.p), g: copy(a.g), s1: copy(a.s1), s2: copy(a.s2) };
        for (let step = 0; step < 3; step++) {
          wasm.sgdUpdate(a.p, a.g, 0.1); js.sgdUpdate(b.p, b.g, 0.1);
          wasm.momentumUpdate(a.p, a.g, a.s1, 0.01, 0.9); js.momentumUpdate(b.p, b.g, b.s1, 0.01, 0.9);
          wasm.adagradUpdate(a.p, a.g, a.s2, 0.01, 1e-7); js.adagradUpdate(b.p, b.g, b.s2, 0.01, 1e-7);
          wasm.adamUpdate(a.p, a.g, a.s1, a.s2, 0.001, 0.9, 0.999, 1e-7); js.adamUpdate(b.p, b.g, b.s1, b.s2, 0.001, 0.9, 0.999, 1e-7);
        }
        // float32 arithmetic against the reference's double arithmetic, three rounds of four updates
        assertClose(a.p, b.p, 5e-5, 'p');
        assertClose(a.s1, b.s1, 2e-4, 'momentum / m');
        assertClose(a.s2, b.s2, 2e-4, 'adagrad h / v');
      });
    }
  }

  it('float64 operands run the js kernels (exact)', () => {
    const A = Float64Array.from({ length: 35 }, () => rand()), B = Float64Array.from({ length: 35 }, () => rand());
    const C = new Float64Array(25), C2 = new Float64Array(25);
    wasm.gemm(false, true, 5, 5, 7, 1, A, B, 0, C);
    js.gemm(false, true, 5, 5, 7, 1, A, B, 0, C2);
    assert.deepEqual([...C], [...C2], 'float64 gemm');
  });
});

describe('wasm backend in training', () => {
  let mnist: Mnist<Int32Array>;
  before(async () => {
    mnist = await loadMnist({ flatten: false });
  });

  function run(backend: Backend, steps: number): { losses: number[]; net: SimpleConvNet; trainer: Trainer } {
    const net = new SimpleConvNet({ seed: 3, weightInitStd: 'he', backend });
    const data = { train: { x: mnist.train.x.sliceRows(0, 100 * steps), t: mnist.train.t.slice(0, 100 * steps) }, test: { x: mnist.test.x.sliceRows(0, 100), t: mnist.test.t.slice(0, 100) } };
    const trainer = new Trainer(net, data, { epochs: 1, batchSize: 100, optimizer: 'adam', seed: 9 });
    const losses: number[] = [];
    for (let i = 0; i < steps; i++) losses.push(trainer.trainStep());
    return { losses, net, trainer };
  }

  it('the same 20 Adam steps from the same seed give the same losses on js and wasm (1e-4 relative)', () => {
    const a = run(js, 20).losses, b = run(wasm, 20).losses;
    for (let i = 0; i < 20; i++) {
      assert.ok(Math.abs(a[i] - b[i]) <= 1e-4 * Math.abs(a[i]), `step ${i + 1}: js ${a[i]} vs wasm ${b[i]}`);
    }
    assert.ok(b[19] < b[0], `loss falls: ${b[0]} -> ${b[19]}`);
  });

  it('parameters, gradients and optimizer state live in the wasm memory; steps allocate none of it', () => {
    const { net, trainer } = run(wasm, 3);
    const owns = (a: ArrayBufferView) => wasm.allocate!.owns(a);
    for (const [k, p] of Object.entries(net.params)) assert.ok(owns(p.data), `param ${k} is in wasm memory`);
    const grads = net.gradient(mnist.train.x.sliceRows(0, 100), mnist.train.t.slice(0, 100));
    for (const [k, g] of Object.entries(grads)) assert.ok(owns(g.data), `gradient ${k} is in wasm memory`);
    for (const [k, s] of Object.entries(trainer.optimizer.stateTensors())) {
      if (k !== 'iter') assert.ok(owns(s.data), `optimizer state ${k} is in wasm memory`);
    }
    const before = wasm.memory.bytesInUse;
    for (let i = 0; i < 5; i++) trainer.trainStep();
    assert.equal(wasm.memory.bytesInUse, before, 'no wasm memory allocated per step');
    // The trainer gathers each mini-batch into one buffer in wasm memory (10 steps per epoch
    // here, so no epoch-end evaluation replaces the conv's cached input in between).
    const more = new Trainer(net, { train: { x: mnist.train.x.sliceRows(0, 1000), t: mnist.train.t.slice(0, 1000) }, test: { x: mnist.test.x.sliceRows(0, 100), t: mnist.test.t.slice(0, 100) } }, { epochs: 1, batchSize: 100, optimizer: 'adam', seed: 9 });
    more.trainStep();
    const warm = wasm.memory.bytesInUse;
    const batches = new Set<unknown>();
    for (let i = 0; i < 5; i++) {
      more.trainStep();
      const x = (net.layers[0][1] as unknown as { x: { data: Float32Array } }).x; // the conv's cached input
      assert.ok(owns(x.data), 'the mini-batch is gathered straight into wasm memory');
      batches.add(x.data);
    }
    assert.equal(batches.size, 1, 'one mini-batch buffer, reused every step');
    assert.equal(wasm.memory.bytesInUse, warm, 'no wasm memory allocated per step');
  });
});
