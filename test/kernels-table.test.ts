// The wasm backend's kernel table (src/backend/wasm/wasm-backend.ts) against BACKEND_OPS and
// against what the backend really does: every op is in the table and every table entry is an
// op; every backend has every op; an op the table gives a wasm kernel runs that kernel export
// (counted through a spy on the module's exports) and never the js reference (counted through
// a spy reference backend), in wasm memory and with staged host arrays alike; an op the table
// lists as a host fallback runs the js kernel; float64 operands go to js. And every op gives
// the js backend's result on the same arguments. (tfjs issue 8474: a backend silently missing
// the conv filter gradient; here a missing op or a silent detour fails a test.)

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { BACKEND_OPS, outputSize, type Backend, type WindowGeometry } from '../src/backend/backend.js';
import { jsBackend } from '../src/backend/js.js';
import { backendNames, getBackend } from '../src/backend/registry.js';
import { WasmMemory, type WasmMemoryObject } from '../src/backend/wasm/memory.js';
import { createWasmBackend, type Kernels, type OpName, WASM_KERNELS } from '../src/backend/wasm/wasm-backend.js';
import { assertClose, lcg } from './helpers.js';

/** The ops of BACKEND_OPS a backend does not implement (a function per op). */
function missingOps(backend: object): string[] {
  return BACKEND_OPS.filter((op) => typeof (backend as Record<string, unknown>)[op] !== 'function');
}

// A backend over the plain-SIMD shared-memory build whose exports and reference count calls.
const kernelCalls = new Map<string, number>();
const jsCalls = new Map<string, number>();
const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
const bytes = readFileSync(new URL('../dist/wasm/kernels-simd-shared.wasm', import.meta.url));
const memory = new WebAssembly.Memory({ initial: 64, maximum: 65536, shared: true });
const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
const spiedKernels = Object.fromEntries(Object.entries(instance.exports).map(([name, v]) => [
  name, typeof v === 'function' ? (...a: number[]) => (bump(kernelCalls, name), (v as (...x: number[]) => number)(...a)) : v,
])) as unknown as Kernels;
const spiedJs = { ...jsBackend } as Record<string, unknown>;
for (const op of BACKEND_OPS) {
  const f = (jsBackend as unknown as Record<string, (...a: unknown[]) => unknown>)[op];
  spiedJs[op] = (...a: unknown[]) => (bump(jsCalls, op), f(...a));
}
const be = createWasmBackend({
  kernels: spiedKernels, memory: new WasmMemory(memory as unknown as WasmMemoryObject, true), flavor: 'simd',
  maxThreads: 1, defaultThreads: 1, reference: spiedJs as unknown as Backend,
});

function geometry(N: number, C: number, H: number, W: number, F: number, stride: number, pad: number): WindowGeometry {
  return { batch: N, channels: C, height: H, width: W, filterHeight: F, filterWidth: F, stride, pad, outputHeight: outputSize(H, F, stride, pad), outputWidth: outputSize(W, F, stride, pad) };
}

type Alloc = { f32(n: number): Float32Array; i32(values: number[]): Int32Array; u8(n: number): Uint8Array };
const inWasm: Alloc = {
  f32: (n) => be.allocate.float32(n),
  i32: (v) => { const a = be.allocate.int32(v.length); a.set(v); return a; },
  u8: (n) => be.allocate.uint8(n),
};
const onHost: Alloc = { f32: (n) => new Float32Array(n), i32: (v) => Int32Array.from(v), u8: (n) => new Uint8Array(n) };

/** Arguments for one call of every op: small odd shapes, random values (positive where the op
 *  needs it), valid labels and argmax positions. */
function samples(alloc: Alloc, seed: number): Record<OpName, unknown[]> {
  const rand = lcg(seed);
  const f = (n: number, lo = -1, hi = 1) => { const a = alloc.f32(n); for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * rand(); return a; };
  const g = geometry(2, 3, 6, 5, 3, 1, 1);
  const gp = geometry(2, 3, 6, 5, 2, 2, 0);
  const image = 2 * 3 * 6 * 5, rows = 2 * g.outputHeight * g.outputWidth * 27, pooled = 2 * 3 * gp.outputHeight * gp.outputWidth;
  const mask = alloc.u8(13);
  for (let i = 0; i < 13; i++) mask[i] = rand() < 0.5 ? 1 : 0;
  return {
    gemm: [false, true, 3, 5, 4, 1.5, f(12), f(20), 0.5, f(15)],
    im2row: [f(image), g, f(rows)],
    row2im: [f(rows), g, f(image)],
    // 4 filters of 3x3x3 over g (stride 1, pad 1): out (2, 4, OH, OW)
    convForward: [f(image), f(4 * 27), f(4), 4, g, f(2 * 4 * g.outputHeight * g.outputWidth)],
    convBackwardFilter: [f(image), f(2 * 4 * g.outputHeight * g.outputWidth), 4, g, f(4 * 27), f(4)],
    convBackwardData: [f(2 * 4 * g.outputHeight * g.outputWidth), f(4 * 27), 4, g, f(image)],
    maxPoolForward: [f(image), gp, f(pooled), alloc.i32(new Array(pooled).fill(0))],
    maxPoolBackward: [f(pooled), alloc.i32(Array.from({ length: pooled }, (_, i) => i % 4)), gp, f(image)],
    reluMaxPoolForward: [f(image), gp, f(pooled), alloc.i32(new Array(pooled).fill(0))],
    reluMaxPoolBackward: [f(pooled), alloc.i32(Array.from({ length: pooled }, (_, i) => (i % 5) - 1)), gp, f(image)],
    transpose021: [f(2 * 3 * 5), 2, 3, 5, f(30), f(5), f(3)],
    addBias: [f(6), f(3), 2, 3, f(6)],
    sumRows: [f(21), 7, 3, f(3)],
    reluForward: [f(13), f(13), alloc.u8(13)],
    reluBackward: [f(13), mask, f(13)],
    softmax: [f(12), 3, 4, f(12)],
    crossEntropy: [f(12, 0.01, 1), alloc.i32([0, 3, 2]), 3, 4],
    softmaxCrossEntropyBackward: [f(12, 0.01, 1), alloc.i32([0, 3, 2]), 3, 4, f(12)],
    argmaxRows: [f(12), 3, 4, alloc.i32([0, 0, 0])],
    firstNonFinite: [f(37)],
    sgdUpdate: [f(9), f(9), 0.1],
    momentumUpdate: [f(9), f(9), f(9), 0.1, 0.9],
    adagradUpdate: [f(9), f(9), f(9, 0, 1), 0.1, 1e-7],
    adamUpdate: [f(9), f(9), f(9), f(9, 0, 1), 0.001, 0.9, 0.999, 1e-7],
    sigmoidForward: [f(7), f(7)],
    sigmoidBackward: [f(7), f(7, 0, 1), f(7)],
    tanhForward: [f(7), f(7)],
    tanhBackward: [f(7), f(7, -1, 1), f(7)],
    avgPoolForward: [f(image), gp, f(pooled)],
    avgPoolBackward: [f(pooled), gp, f(image)],
    lrnForward: [f(24), 2, 4, 3, 3, 2, 1e-4, 0.75, f(24), f(24)],
    lrnBackward: [f(24), f(24, 1, 2), f(24), 2, 4, 3, 3, 1e-4, 0.75, f(24)],
    mul: [f(11), f(11), f(11)],
    batchNormForward: [f(24), 2, 3, 4, f(3), f(3), 1e-5, true, 0.9, f(3), f(3, 0.5, 1), f(24), f(24), f(3)],
    batchNormBackward: [f(24), f(24), f(3, 0.5, 2), f(3), 2, 3, 4, f(24), f(3), f(3)],
  };
}

/** A deep copy with every Float32Array as `float` (Float32Array or Float64Array). */
function copyArgs(args: unknown[], float: typeof Float32Array | typeof Float64Array): unknown[] {
  return args.map((a) => (a instanceof Float32Array ? float.from(a) : ArrayBuffer.isView(a) ? (a as Int32Array).slice() : a));
}

function run(backend: object, op: OpName, args: unknown[]): unknown {
  return (backend as Record<string, (...a: unknown[]) => unknown>)[op](...args);
}

function resetCounts(): void {
  kernelCalls.clear();
  jsCalls.clear();
}

describe('kernel table', () => {
  it('lists exactly the ops of BACKEND_OPS', () => {
    const ops = new Set<string>(BACKEND_OPS);
    for (const op of Object.keys(WASM_KERNELS)) assert.ok(ops.has(op), `table entry ${op} is not an op of BACKEND_OPS`);
    for (const op of BACKEND_OPS) assert.ok(op in WASM_KERNELS, `op ${op} is missing from the wasm kernel table`);
  });

  it('every kernel entry names an export of the module; host entries say why', () => {
    for (const [op, e] of Object.entries(WASM_KERNELS)) {
      if ('host' in e) assert.ok(e.host.length > 0, `${op}: host fallback without a reason`);
      else assert.equal(typeof (instance.exports as Record<string, unknown>)[e.kernel], 'function', `${op}: no export ${e.kernel}`);
    }
  });

  it('every backend implements every op (and the check catches a missing one)', () => {
    for (const name of backendNames()) assert.deepEqual(missingOps(getBackend(name)), [], `backend ${name}`);
    assert.deepEqual(missingOps(be), [], 'the spied wasm backend');
    const { mul: _mul, ...lacking } = jsBackend;
    assert.deepEqual(missingOps(lacking), ['mul'], 'a backend without mul is caught');
    // a backend whose prototype supplies an op would pass `typeof` but is not what the wasm
    // backend is: it owns every method
    for (const op of BACKEND_OPS) assert.ok(Object.prototype.hasOwnProperty.call(getBackend('wasm'), op), `wasm owns ${op}`);
  });

  it('the samples below cover every op', () => {
    assert.deepEqual(Object.keys(samples(onHost, 1)).sort(), [...BACKEND_OPS].sort());
  });

  for (const [home, alloc] of [['wasm memory', inWasm], ['staged host arrays', onHost]] as const) {
    for (const op of BACKEND_OPS) {
      const e = WASM_KERNELS[op];
      const what = 'host' in e ? 'runs the js kernel (host fallback)' : `runs the wasm export ${e.kernel}, not js`;
      it(`${op} ${what}, and matches js, ${home}`, () => {
        const args = samples(alloc, 7)[op];
        const expectedArgs = copyArgs(args, Float64Array);
        const expected = run(jsBackend, op, expectedArgs);
        resetCounts();
        const got = run(be, op, args);
        if ('host' in e) {
          assert.equal(jsCalls.get(op), 1, `${op}: the js kernel ran once`);
          assert.equal(kernelCalls.size, 0, `${op}: no wasm export ran (${[...kernelCalls.keys()]})`);
        } else {
          assert.equal(jsCalls.size, 0, `${op}: the table gives it the wasm kernel ${e.kernel}, but it ran js (${[...jsCalls.keys()]})`);
          assert.ok((kernelCalls.get(e.kernel) ?? 0) >= 1, `${op}: the wasm export ${e.kernel} did not run (ran: ${[...kernelCalls.keys()]})`);
        }
        if (typeof expected === 'number') assert.ok(Math.abs((got as number) - expected) <= 1e-5 * Math.max(1, Math.abs(expected)), `${op}: ${got} vs ${expected}`);
        args.forEach((a, i) => {
          if (ArrayBuffer.isView(a)) assertClose(a as Float32Array, expectedArgs[i] as Float64Array, 1e-4, `${op} argument ${i}`);
        });
      });
    }
  }

  it('float64 operands run the js kernel, never a wasm export', () => {
    for (const op of BACKEND_OPS) {
      const e = WASM_KERNELS[op];
      if ('host' in e || !e.operands.some((o) => o.dtype === 'f32')) continue;
      const args = copyArgs(samples(onHost, 3)[op], Float64Array);
      resetCounts();
      run(be, op, args);
      assert.equal(jsCalls.get(op), 1, `${op} on float64 ran js`);
      assert.equal(kernelCalls.size, 0, `${op} on float64 ran no wasm export (${[...kernelCalls.keys()]})`);
    }
  });

  it('firstNonFinite: the SIMD kernel finds the first NaN or infinity at any position', () => {
    for (const n of [0, 1, 15, 16, 17, 64, 1000]) {
      const x = be.allocate.float32(n);
      assert.equal(be.firstNonFinite(x), -1, `none in ${n}`);
      for (let at = 0; at < n; at += Math.max(1, n >> 3)) {
        for (const bad of [NaN, Infinity, -Infinity]) {
          x[at] = bad;
          if (at + 3 < n) x[at + 3] = NaN; // a later one never wins
          assert.equal(be.firstNonFinite(x), at, `${bad} at ${at} of ${n}`);
          x.fill(0);
        }
      }
      x[n - 1] = 3.4e38; // the largest floats are finite
      if (n > 0) assert.equal(be.firstNonFinite(x), -1, `max float in ${n}`);
    }
  });
});
