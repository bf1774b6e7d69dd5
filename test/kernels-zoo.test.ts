// The model-zoo kernels of the wasm backend (assembly/zoo.ts) against the js reference kernels:
// - the vectorised exp, sigmoid and tanh in ulps against Math.exp / the f64 formulas rounded
//   to float32, over a wide range (large |x|, overflow to inf, underflow to 0 through the
//   subnormals, exact 0 / 1 / +-1 at the ends, NaN propagation), in both builds (plain SIMD, FMA);
// - every op on odd shapes (sizes not multiples of 4, one-element edges, padding, LRN windows
//   across the channel edges and even sizes, batch norm in training and inference mode), with
//   operands in the wasm memory and in ordinary arrays; AlexNet's 3x3 / stride 2 max pooling
//   (its SIMD path lives in zoo.ts too);
// - the same ops split over 2 and 3 threads (over ~1 MB touched), counted as parallel jobs.
// Tolerances: float32 kernels against the f64 reference, |got - want| <= rel |want| + abs per
// value (assertNear), abs from the float32 error bound of the sums involved, so a result that
// cancels to near 0 is not held to a relative tolerance float32 cannot meet, while a wrong index
// or a missing term (errors of the size of the values) fails: rel 1e-6 for the elementwise ops
// (two or three roundings), pooling abs = window * 2^-23 * max|x|; LRN rel 1e-5 (f32 sums and
// sqrt); batch norm abs from ulp(mean) / std, the float32 limit of x - mean.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { describe, it } from 'node:test';
import { outputSize, type WindowGeometry } from '../src/backend/backend.js';
import { getBackend } from '../src/backend/registry.js';
import type { WasmBackend } from '../src/backend/wasm/index.js';
import { LRN_MAX_CHANNELS } from '../src/backend/wasm/abi.js';
import type { Kernels } from '../src/backend/wasm/wasm-backend.js';
import { assertClose, lcg } from './helpers.js';

const js = getBackend('js');
const wasm = getBackend('wasm') as WasmBackend;
const rand = lcg(12121);

type Home = 'wasm memory' | 'js arrays';
const homes: Home[] = ['wasm memory', 'js arrays'];
function f32(n: number, home: Home, fill: () => number = () => rand() * 2 - 1): Float32Array {
  const a = home === 'wasm memory' ? wasm.allocate.float32(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = fill();
  return a;
}
const copy = (a: Float32Array) => Float32Array.from(a);
/** Every |got[i] - want[i]| <= rel * |want[i]| + abs (NaN only where want is NaN). */
function assertNear(got: ArrayLike<number>, want: ArrayLike<number>, rel: number, abs: number, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]);
    if (!(err <= rel * Math.abs(want[i]) + abs) && !(Number.isNaN(got[i]) && Number.isNaN(want[i]))) {
      assert.fail(`${what}: index ${i} is ${got[i]}, expected ${want[i]} (error ${err.toExponential(2)} > ${rel} relative + ${abs.toExponential(1)})`);
    }
  }
}
const maxAbs = (a: ArrayLike<number>) => { let m = 0; for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i])); return m; };
function geometry(N: number, C: number, H: number, W: number, FH: number, FW: number, stride: number, pad: number): WindowGeometry {
  return { batch: N, channels: C, height: H, width: W, filterHeight: FH, filterWidth: FW, stride, pad, outputHeight: outputSize(H, FH, stride, pad), outputWidth: outputSize(W, FW, stride, pad) };
}

// ---- ulps ---------------------------------------------------------------------------------------
const bits = new Int32Array(1), asFloat = new Float32Array(bits.buffer);
/** A float32's position on the number line of float32s (adjacent floats differ by 1, -0 = +0). */
function ordinal(v: number): number {
  asFloat[0] = v;
  const b = bits[0];
  return b < 0 ? -(b & 0x7fffffff) : b;
}
/** Largest distance in ulps of got from f(x) rounded to float32, and where; NaN must match NaN. */
function maxUlps(x: Float32Array, got: Float32Array, f: (v: number) => number, what: string): { ulps: number; at: number } {
  let ulps = 0, at = NaN;
  for (let i = 0; i < x.length; i++) {
    const want = Math.fround(f(x[i]));
    if (Number.isNaN(want) || Number.isNaN(got[i])) {
      assert.ok(Number.isNaN(want) && Number.isNaN(got[i]), `${what}(${x[i]}) = ${got[i]}, expected ${want}`);
      continue;
    }
    if (!Number.isFinite(want) || !Number.isFinite(got[i])) {
      assert.equal(got[i], want, `${what}(${x[i]})`);
      continue;
    }
    const u = Math.abs(ordinal(got[i]) - ordinal(want));
    if (u > ulps) {
      ulps = u;
      at = x[i];
    }
  }
  return { ulps, at };
}

/** x spread evenly over [lo, hi] (n points) plus the special values. */
function sweep(lo: number, hi: number, n: number, special: number[]): Float32Array {
  const x = wasm.allocate.float32(n + special.length);
  for (let i = 0; i < n; i++) x[i] = lo + ((hi - lo) * i) / (n - 1);
  x.set(special, n);
  return x;
}

const SPECIAL = [0, -0, NaN, Infinity, -Infinity, 1e-30, -1e-30, 1e-45, 88.7, 88.72, 88.73, 89, 100, 1e30, 3.4e38,
  -87.3, -87.4, -100, -103.2, -103.9, -104, -105, -1e30, -3.4e38, 0.625, -0.625, 0.62499, 9, 9.1, -9.1, 20, -20];

/** Index of v in a list by Object.is (indexOf finds neither NaN nor -0). */
const indexOf = (list: number[], v: number) => list.findIndex((u) => Object.is(u, v));

describe('vectorised exp, sigmoid, tanh: error in ulps', () => {
  // Both builds, through the module's exports (expf32 is exported for this test only).
  setFlagsFromString('--experimental-wasm-relaxed-simd'); // the loader sets it too; the FMA build needs it
  for (const build of ['simd', 'fma']) {
    it(`${build} build: exp within 1 ulp of Math.exp on [-110, 95] (2M points), inf / 0 / NaN at the ends`, () => {
      const memory = new WebAssembly.Memory({ initial: 1200, maximum: 65536, shared: true });
      const bytes = readFileSync(new URL(`../dist/wasm/kernels-${build}-shared.wasm`, import.meta.url));
      const k = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports as unknown as Kernels;
      const n = 2_000_000;
      const x = new Float32Array(memory.buffer, 65536, n + SPECIAL.length);
      for (let i = 0; i < n; i++) x[i] = -110 + (205 * i) / (n - 1);
      x.set(SPECIAL, n);
      const out = new Float32Array(memory.buffer, x.byteOffset + x.byteLength, x.length);
      k.expf32(x.byteOffset, out.byteOffset, x.length);
      const { ulps, at } = maxUlps(x, out, Math.exp, 'exp');
      // measured: 1 ulp (at x = -96.28, a subnormal result), the same in both builds
      assert.ok(ulps <= 1, `exp: ${ulps} ulps at ${at}`);
      const e = (v: number) => out[x.length - SPECIAL.length + indexOf(SPECIAL, v)];
      assert.equal(e(Infinity), Infinity);
      assert.equal(e(88.73), Infinity, 'overflow to inf');
      assert.equal(e(3.4e38), Infinity);
      assert.equal(e(-Infinity), 0);
      assert.equal(e(-105), 0, 'underflow to 0');
      assert.ok(e(-103.2) > 0 && e(-103.2) < 1.2e-38, 'subnormal results, not flushed to 0');
      assert.equal(e(0), 1);
      assert.ok(Number.isNaN(e(NaN)), 'NaN propagates');
      // odd counts: the tail (n % 4) goes through the same 4-wide code
      for (const m of [1, 2, 3, 5, 7]) {
        k.expf32(x.byteOffset + 4 * 1000, out.byteOffset, m);
        for (let i = 0; i < m; i++) assert.ok(Math.abs(ordinal(out[i]) - ordinal(Math.fround(Math.exp(x[1000 + i])))) <= 1, `tail ${m}`);
      }
    });
  }

  it('sigmoid within 2 ulps of 1 / (1 + exp(-x)) on [-110, 40]; exactly 0 and 1 far out; NaN propagates', () => {
    const x = sweep(-110, 40, 1_000_003, SPECIAL);
    const out = f32(x.length, 'wasm memory');
    wasm.sigmoidForward(x, out);
    const { ulps, at } = maxUlps(x, out, (v) => 1 / (1 + Math.exp(-v)), 'sigmoid');
    assert.ok(ulps <= 2, `sigmoid: ${ulps} ulps at ${at}`); // measured: 2 (x = -15.66)
    const s = (v: number) => out[x.length - SPECIAL.length + indexOf(SPECIAL, v)];
    for (const v of [20, 100, 1e30, Infinity]) assert.equal(s(v), 1, `sigmoid(${v}) is exactly 1`);
    for (const v of [-1e30, -3.4e38, -Infinity, -105]) assert.equal(s(v), 0, `sigmoid(${v}) is exactly 0`);
    assert.ok(s(-100) > 0, 'sigmoid(-100) is the subnormal 3.7e-44, not 0 (no 1 / (1 + inf))');
    assert.equal(s(0), 0.5);
    assert.ok(Number.isNaN(s(NaN)));
  });

  it('tanh within 2 ulps of Math.tanh on [-12, 12]; exactly +-1 far out, tanh(-0) = -0; NaN propagates', () => {
    const x = sweep(-12, 12, 1_000_003, [...SPECIAL, 1e-3, -1e-3, 0.5, 0.7]);
    const out = f32(x.length, 'wasm memory');
    wasm.tanhForward(x, out);
    const { ulps, at } = maxUlps(x, out, Math.tanh, 'tanh');
    assert.ok(ulps <= 2, `tanh: ${ulps} ulps at ${at}`); // measured: 1
    const t = (v: number) => out[x.length - SPECIAL.length - 4 + indexOf(SPECIAL, v)];
    for (const v of [9.1, 20, 100, 1e30, Infinity]) {
      assert.equal(t(v), 1, `tanh(${v}) is exactly 1`);
      assert.equal(t(-v), -1, `tanh(${-v}) is exactly -1`);
    }
    assert.ok(Object.is(t(-0), -0), 'tanh(-0) = -0');
    assert.equal(t(1e-30), Math.fround(1e-30), 'tiny x: tanh x = x');
    assert.ok(Number.isNaN(t(NaN)));
  });
});

// ---- against the js reference, odd shapes -------------------------------------------------------

describe('zoo kernels match js on odd shapes', () => {
  for (const home of homes) {
    it(`sigmoid, tanh (forward and backward) and mul on 1, 3, 4, 5, 17 and 1001 values, ${home}`, () => {
      for (const n of [1, 3, 4, 5, 17, 1001]) {
        const x = f32(n, home, () => rand() * 16 - 8), y = f32(n, home, () => NaN), y2 = new Float32Array(n);
        wasm.sigmoidForward(x, y);
        js.sigmoidForward(copy(x), y2);
        assertNear(y, y2, 1e-6, 0, `sigmoid ${n}`);
        const d = f32(n, home), dx = f32(n, home, () => NaN), dx2 = new Float32Array(n);
        wasm.sigmoidBackward(d, y, dx);
        js.sigmoidBackward(copy(d), copy(y), dx2);
        assertNear(dx, dx2, 1e-6, 0, `sigmoid dx ${n}`);
        const t = f32(n, home, () => NaN), t2 = new Float32Array(n);
        wasm.tanhForward(x, t);
        js.tanhForward(copy(x), t2);
        assertNear(t, t2, 1e-6, 0, `tanh ${n}`);
        wasm.tanhBackward(d, t, dx);
        js.tanhBackward(copy(d), copy(t), dx2);
        assertNear(dx, dx2, 1e-6, 0, `tanh dx ${n}`);
        const mask = f32(n, home, () => (rand() < 0.5 ? 0 : 2)), m = f32(n, home, () => NaN), m2 = new Float32Array(n);
        wasm.mul(x, mask, m);
        js.mul(copy(x), copy(mask), m2);
        assert.deepEqual([...m], [...m2], `mul ${n}: one rounding, exact`);
        wasm.mul(x, mask, x); // dropout's backward may write in place
        assert.deepEqual([...x], [...m2], `mul ${n} in place`);
      }
    });

    const pools = [
      // LeNet's 2x2 / stride 2 (SIMD path): even, odd sizes, OW not a multiple of 4, one output
      geometry(2, 3, 10, 11, 2, 2, 2, 0), geometry(1, 2, 24, 24, 2, 2, 2, 0), geometry(1, 1, 19, 17, 2, 2, 2, 0),
      geometry(3, 1, 2, 2, 2, 2, 2, 0), geometry(1, 1, 3, 3, 2, 2, 2, 0),
      // the general loop: overlapping windows, padding, stride 3, windows larger than the image
      geometry(1, 1, 5, 5, 3, 3, 1, 0), geometry(2, 3, 7, 6, 3, 2, 2, 1), geometry(3, 2, 9, 8, 5, 5, 1, 2),
      geometry(2, 1, 8, 5, 3, 3, 3, 1), geometry(1, 2, 4, 4, 4, 4, 1, 3), geometry(1, 1, 1, 1, 1, 1, 1, 0),
      geometry(2, 2, 6, 7, 2, 2, 1, 0),
    ];
    for (const g of pools) {
      it(`average pooling N${g.batch} C${g.channels} ${g.height}x${g.width} f${g.filterHeight}x${g.filterWidth} s${g.stride} p${g.pad}, ${home}`, () => {
        const nIn = g.batch * g.channels * g.height * g.width, nOut = g.batch * g.channels * g.outputHeight * g.outputWidth;
        const x = f32(nIn, home), out = f32(nOut, home, () => NaN), out2 = new Float32Array(nOut);
        wasm.avgPoolForward(x, g, out);
        js.avgPoolForward(copy(x), g, out2);
        assertNear(out, out2, 1e-6, g.filterHeight * g.filterWidth * 2 ** -23 * maxAbs(x), 'avg pool forward');
        const d = f32(nOut, home), dx = f32(nIn, home, () => NaN), dx2 = new Float32Array(nIn);
        wasm.avgPoolBackward(d, g, dx);
        js.avgPoolBackward(copy(d), g, dx2);
        assertNear(dx, dx2, 1e-6, g.filterHeight * g.filterWidth * 2 ** -23 * maxAbs(d), 'avg pool backward (cells in no window are 0, not stale)');
      });
    }

    it(`max pooling 3x3 / stride 2 (AlexNet's, SIMD path): exact maxima and argmax, ties to the first cell, the first NaN wins, ${home}`, () => {
      for (const [N, C, H, W] of [[1, 1, 3, 3], [2, 3, 28, 28], [1, 2, 13, 13], [3, 2, 7, 20], [1, 1, 11, 17], [2, 1, 6, 9], [1, 1, 4, 19]]) {
        const g = geometry(N, C, H, W, 3, 3, 2, 0);
        const nIn = N * C * H * W, nOut = N * C * g.outputHeight * g.outputWidth;
        // coarse values: many exact ties; a few NaNs
        const x = f32(nIn, home, () => Math.round(rand() * 6) / 2 - 1);
        for (let i = 0; i < nIn; i += 37) x[i] = NaN;
        const out = f32(nOut, home, () => NaN), arg = home === 'wasm memory' ? wasm.allocate.int32(nOut) : new Int32Array(nOut);
        const out2 = new Float32Array(nOut), arg2 = new Int32Array(nOut);
        wasm.maxPoolForward(x, g, out, arg);
        js.maxPoolForward(copy(x), g, out2, arg2);
        assert.deepEqual([...arg], [...arg2], `argmax (${N}, ${C}, ${H}, ${W})`);
        assert.deepEqual([...out].map(String), [...out2].map(String), `maxima (${N}, ${C}, ${H}, ${W})`);
      }
    });

    it(`LRN forward and backward: sizes 1-6 (even ones asymmetric), windows across the channel edges, beta 0.75 / 0.5 / 1 / 0.6, ${home}`, () => {
      for (const [N, C, S] of [[1, 1, 1], [2, 3, 5], [2, 7, 9], [3, 5, 4], [1, 16, 13], [1, 2, 3]]) {
        for (const size of [1, 2, 3, 4, 5, 6]) {
          for (const beta of [0.75, 0.5, 1, 0.6]) {
            const n = N * C * S;
            // alpha large enough that the window sum matters (AlexNet's 1e-4 barely moves it)
            const [k, alpha] = [2, 0.3];
            const x = f32(n, home, () => rand() * 4 - 2), out = f32(n, home, () => NaN), scale = f32(n, home, () => NaN);
            const out2 = new Float32Array(n), scale2 = new Float32Array(n);
            wasm.lrnForward(x, N, C, S, size, k, alpha, beta, out, scale);
            js.lrnForward(copy(x), N, C, S, size, k, alpha, beta, out2, scale2);
            const what = `(${N}, ${C}, ${S}) size ${size} beta ${beta}`;
            assertClose(scale, scale2, 1e-5, `lrn scale ${what}`);
            assertClose(out, out2, 1e-5, `lrn out ${what}`);
            const d = f32(n, home), dx = f32(n, home, () => NaN), dx2 = new Float32Array(n);
            wasm.lrnBackward(x, scale, d, N, C, S, size, alpha, beta, dx);
            js.lrnBackward(copy(x), copy(scale), copy(d), N, C, S, size, alpha, beta, dx2);
            assertClose(dx, dx2, 1e-4, `lrn dx ${what}`);
          }
        }
      }
    });

    it(`LRN backward over more channels than the scratch holds (LRN_MAX_CHANNELS) runs the js kernel, ${home}`, () => {
      const [N, C, S] = [1, LRN_MAX_CHANNELS + 1, 3], n = N * C * S;
      const x = f32(n, home), scale = f32(n, home, () => 1 + rand()), d = f32(n, home), dx = f32(n, home, () => NaN), dx2 = new Float32Array(n);
      wasm.lrnBackward(x, scale, d, N, C, S, 5, 0.3, 0.75, dx);
      js.lrnBackward(copy(x), copy(scale), copy(d), N, C, S, 5, 0.3, 0.75, dx2);
      assertClose(dx, dx2, 1e-6, 'lrn dx, many channels');
    });

    it(`batch norm forward (training and inference) and backward on (N, C, S) with S = 1 and odd S, ${home}`, () => {
      for (const [N, C, S] of [[1, 1, 1], [2, 3, 5], [5, 4, 1], [3, 2, 7], [4, 3, 13], [7, 1, 4], [2, 5, 33]]) {
        for (const train of [true, false]) {
          const n = N * C * S;
          // a mean well away from 0 (3) against a spread of ~1: the two-pass variance matters
          const x = f32(n, home, () => 3 + rand() * 2 - 1), gamma = f32(C, home), beta = f32(C, home);
          const rm = f32(C, home), rv = f32(C, home, () => 0.5 + rand());
          const rmJ = copy(rm), rvJ = copy(rv);
          const out = f32(n, home, () => NaN), xhat = f32(n, home, () => NaN), inv = f32(C, home, () => NaN);
          const out2 = new Float32Array(n), xhat2 = new Float32Array(n), inv2 = new Float32Array(C);
          wasm.batchNormForward(x, N, C, S, gamma, beta, 1e-5, train, 0.9, rm, rv, out, xhat, inv);
          js.batchNormForward(copy(x), N, C, S, copy(gamma), copy(beta), 1e-5, train, 0.9, rmJ, rvJ, out2, xhat2, inv2);
          const what = `(${N}, ${C}, ${S}) ${train ? 'training' : 'inference'}`;
          assertClose(inv, inv2, 1e-5, `invStd ${what}`);
          // x - mean in float32: ulp(mean ~ 3) / std; out adds |gamma| <= 1 times that
          const hAbs = 4 * 2 ** -23 * 4 * maxAbs(inv2);
          assertNear(xhat, xhat2, 1e-5, hAbs, `xhat ${what}`);
          assertNear(out, out2, 1e-5, 2 * hAbs, `out ${what}`);
          assertClose(rm, rmJ, 1e-5, `running mean ${what}`);
          assertClose(rv, rvJ, 1e-5, `running variance ${what}`);
          if (!train) continue;
          const d = f32(n, home), dx = f32(n, home, () => NaN), dg = f32(C, home, () => NaN), db = f32(C, home, () => NaN);
          const dx2 = new Float32Array(n), dg2 = new Float32Array(C), db2 = new Float32Array(C);
          wasm.batchNormBackward(d, xhat, inv, gamma, N, C, S, dx, dg, db);
          js.batchNormBackward(copy(d), copy(xhat), copy(inv), copy(gamma), N, C, S, dx2, dg2, db2);
          assertClose(db, db2, 1e-5, `dbeta ${what}`);
          assertClose(dg, dg2, 1e-5, `dgamma ${what}`);
          // dx = f (M dout - dbeta - xhat dgamma) cancels (to exactly 0 when M = 1): abs from
          // the float32 rounding of the three terms
          const M = N * S;
          const dAbs = 8 * 2 ** -23 * maxAbs(gamma) * maxAbs(inv2) * (maxAbs(d) + (maxAbs(db2) + maxAbs(xhat2) * maxAbs(dg2)) / M);
          assertNear(dx, dx2, 1e-5, dAbs, `dx ${what}`);
        }
      }
    });
  }
});

// ---- split over the thread pool -----------------------------------------------------------------

describe('zoo kernels split over the pool match js', () => {
  for (const threads of [2, 3]) {
    it(`${threads} threads: sigmoid, tanh, mul, average pooling, LRN on large odd shapes (> 1 MB each)`, () => {
      wasm.setThreads(threads);
      wasm.setSplitBytes(1 << 20); // split above 1 MB whatever the default: reach the split paths
      const jobsBefore = wasm.parallelJobs;
      try {
        const n = 300_001; // 2.4 MB in + out: split by elements (chunks of 16), a ragged last chunk
        const x = f32(n, 'wasm memory', () => rand() * 20 - 10), y = f32(n, 'wasm memory'), y2 = new Float32Array(n);
        wasm.sigmoidForward(x, y);
        js.sigmoidForward(copy(x), y2);
        assertNear(y, y2, 1e-6, 0, 'sigmoid split');
        const d = f32(n, 'wasm memory'), dx = f32(n, 'wasm memory'), dx2 = new Float32Array(n);
        wasm.sigmoidBackward(d, y, dx);
        js.sigmoidBackward(copy(d), copy(y), dx2);
        assertNear(dx, dx2, 1e-6, 0, 'sigmoid dx split');
        wasm.tanhForward(x, y);
        js.tanhForward(copy(x), y2);
        assertNear(y, y2, 1e-6, 0, 'tanh split');
        wasm.tanhBackward(d, y, dx);
        js.tanhBackward(copy(d), copy(y), dx2);
        assertNear(dx, dx2, 1e-6, 0, 'tanh dx split');
        wasm.mul(x, d, dx);
        js.mul(copy(x), copy(d), dx2);
        assert.deepEqual([...dx], [...dx2], 'mul split');
        for (const g of [geometry(100, 6, 28, 28, 2, 2, 2, 0), geometry(20, 8, 33, 31, 3, 3, 1, 1), geometry(31, 5, 41, 39, 2, 2, 2, 0)]) {
          const nIn = g.batch * g.channels * g.height * g.width, nOut = g.batch * g.channels * g.outputHeight * g.outputWidth;
          const px = f32(nIn, 'wasm memory'), out = f32(nOut, 'wasm memory'), out2 = new Float32Array(nOut);
          wasm.avgPoolForward(px, g, out);
          js.avgPoolForward(copy(px), g, out2);
          assertNear(out, out2, 1e-6, 9 * 2 ** -23, `avg pool split by planes ${g.filterHeight}x${g.filterWidth}`);
          const pd = f32(nOut, 'wasm memory'), pdx = f32(nIn, 'wasm memory', () => NaN), pdx2 = new Float32Array(nIn);
          wasm.avgPoolBackward(pd, g, pdx);
          js.avgPoolBackward(copy(pd), g, pdx2);
          assertNear(pdx, pdx2, 1e-6, 9 * 2 ** -23, `avg pool dx split by planes ${g.filterHeight}x${g.filterWidth}`);
        }
        {
          const g = geometry(100, 16, 28, 28, 3, 3, 2, 0); // AlexNet-narrow's first pool: by planes
          const nIn = 100 * 16 * 28 * 28, nOut = 100 * 16 * 13 * 13;
          const px = f32(nIn, 'wasm memory'), out = f32(nOut, 'wasm memory'), arg = wasm.allocate.int32(nOut);
          const out2 = new Float32Array(nOut), arg2 = new Int32Array(nOut);
          wasm.maxPoolForward(px, g, out, arg);
          js.maxPoolForward(copy(px), g, out2, arg2);
          assert.deepEqual([...arg], [...arg2], 'max pool 3x3/2 argmax split by planes');
          assert.deepEqual([...out], [...out2], 'max pool 3x3/2 maxima split by planes');
        }
        for (const size of [5, 4]) {
          const [N, C, S] = [37, 11, 225]; // 91575 values: 1.1 MB forward, 1.5 MB backward; by samples
          const m = N * C * S;
          const lx = f32(m, 'wasm memory'), lo = f32(m, 'wasm memory'), ls = f32(m, 'wasm memory');
          const lo2 = new Float32Array(m), ls2 = new Float32Array(m);
          wasm.lrnForward(lx, N, C, S, size, 2, 1e-2, 0.75, lo, ls);
          js.lrnForward(copy(lx), N, C, S, size, 2, 1e-2, 0.75, lo2, ls2);
          assertClose(lo, lo2, 1e-5, `lrn out split by samples, size ${size}`);
          const ld = f32(m, 'wasm memory'), ldx = f32(m, 'wasm memory', () => NaN), ldx2 = new Float32Array(m);
          wasm.lrnBackward(lx, ls, ld, N, C, S, size, 1e-2, 0.75, ldx);
          js.lrnBackward(copy(lx), copy(ls), copy(ld), N, C, S, size, 1e-2, 0.75, ldx2);
          assertClose(ldx, ldx2, 1e-4, `lrn dx split by samples, size ${size}`);
        }
        // 5 elementwise + 3 x (pool forward + backward) + max pool + 2 x (lrn forward + backward)
        assert.equal(wasm.parallelJobs - jobsBefore, 16, 'every op above ran as a parallel job');
      } finally {
        wasm.setSplitBytes(undefined);
        wasm.setThreads(2);
      }
    });
  }
});
