// The `wasm` backend: every op of the Backend interface, the hot ones as AssemblyScript SIMD
// kernels (assembly/kernels.ts) over one WebAssembly.Memory.
//
// - Its prototype is the js backend, so any op not overridden here (including ops added to
//   the interface later) runs the js reference kernel, which works on any typed array,
//   views into the wasm memory included.
// - Float64Array operands (gradient checks) go to the js kernels too: the wasm kernels are f32.
// - Operands already in the wasm memory (allocated through `allocate`, which layers and
//   networks use for parameters and workspaces) are used in place; others are copied in and
//   out around the call (correct, only slower).
// - GEMMs above ~4 MFLOP are split over the thread pool, the split chosen per shape.

import { type Allocator, type Backend, hostAllocator, type WindowGeometry } from '../backend.js';
import { jsBackend } from '../js.js';
import type { FloatArray } from '../../tensor.js';
import { Staging, type WasmMemory } from './memory.js';
import { JOB_WORDS, type ThreadPool } from './threads.js';

/** The exports of kernels*.wasm (pointers are byte offsets into the shared memory). */
export interface Kernels {
  gemmBlock(ta: number, tb: number, M: number, N: number, K: number, alpha: number, A: number, B: number, C: number,
    overwrite: number, scratch: number, i0: number, i1: number, j0: number, j1: number, k0: number, k1: number): void;
  scale(C: number, n: number, beta: number): void;
  sumParts(C: number, parts: number, count: number, n: number, beta: number): void;
  runChunk(job: number, c: number, scratch: number): void;
  im2row(x: number, N: number, C: number, H: number, W: number, FH: number, FW: number, stride: number, pad: number, OH: number, OW: number, out: number): void;
  row2im(row: number, N: number, C: number, H: number, W: number, FH: number, FW: number, stride: number, pad: number, OH: number, OW: number, out: number): void;
  maxPoolForward(x: number, N: number, C: number, H: number, W: number, FH: number, FW: number, stride: number, pad: number, OH: number, OW: number, out: number, argMax: number): void;
  maxPoolBackward(dout: number, argMax: number, N: number, C: number, H: number, W: number, FH: number, FW: number, stride: number, pad: number, OH: number, OW: number, dx: number): void;
  transpose021(x: number, a: number, b: number, c: number, out: number, bias: number, sums: number): void;
  addBias(x: number, bias: number, rows: number, cols: number, out: number): void;
  sumRows(x: number, rows: number, cols: number, out: number): void;
  reluForward(x: number, out: number, mask: number, n: number): void;
  reluBackward(dout: number, mask: number, dx: number, n: number): void;
  softmax(x: number, rows: number, cols: number, out: number): void;
  crossEntropy(y: number, labels: number, rows: number, cols: number): number;
  softmaxCrossEntropyBackward(y: number, labels: number, rows: number, cols: number, dx: number): void;
  argmaxRows(x: number, rows: number, cols: number, out: number): void;
  sgdUpdate(p: number, g: number, n: number, lr: number): void;
  momentumUpdate(p: number, g: number, v: number, n: number, lr: number, momentum: number): void;
  adagradUpdate(p: number, g: number, h: number, n: number, lr: number, eps: number): void;
  adamUpdate(p: number, g: number, m: number, v: number, n: number, lrT: number, beta1: number, beta2: number, eps: number): void;
  SCRATCH_BYTES: { value: number };
}

export interface WasmBackend extends Backend {
  readonly name: 'wasm';
  /** 'fma' (relaxed-SIMD fused multiply-add) or 'simd'. */
  readonly flavor: 'fma' | 'simd';
  readonly memory: WasmMemory;
  /** Threads used for large GEMMs and memory-bound ops (1 = no pool). */
  readonly threads: number;
  /** Jobs the thread pool has run so far (0 when it never started). */
  readonly parallelJobs: number;
  setThreads(n: number): void;
}

export interface WasmSetup {
  kernels: Kernels;
  memory: WasmMemory;
  flavor: 'fma' | 'simd';
  /** Largest pool size allowed (1 where threads are unavailable) and the default. */
  maxThreads: number;
  defaultThreads: number;
  /** Builds a pool of n threads (n >= 2) over the memory; absent where threads are unavailable. */
  makePool?: (n: number, scratch: number[]) => ThreadPool;
}

const MIN_PARALLEL_FLOPS = 4e6; // ~100 us single-threaded: below this a split costs more than it saves
const MIN_PARALLEL_BYTES = 1 << 20; // the same for memory-bound ops (bytes read + written)

const isF32 = (a: FloatArray): a is Float32Array => a instanceof Float32Array;

/** Useful fraction of the 4x8 tiles' work for an M x N output (leftover rows run a 1x8 kernel
 *  at about half speed; a ragged last panel computes 8 columns for fewer). */
function tileFit(M: number, N: number): number {
  return ((M - (M % 4) + 0.5 * (M % 4)) / M) * (N / (Math.ceil(N / 8) * 8));
}

export function createWasmBackend(setup: WasmSetup): WasmBackend {
  const k = setup.kernels;
  const mem = setup.memory;
  const st = new Staging(mem);
  const scratchBytes = k.SCRATCH_BYTES.value as number;
  const js = jsBackend;

  let threads = 1;
  let pool: ThreadPool | null = null;
  let scratch: number[] = [mem.alloc(scratchBytes)];
  const floatBits = new Float32Array(4), intBits = new Int32Array(floatBits.buffer);
  let jobI: Int32Array | null = null;
  let jobF: Float32Array | null = null;

  // The pool starts at the first GEMM big enough to split (so a process that never trains
  // or predicts at scale never starts a thread).
  function setThreads(n: number): void {
    const want = Math.max(1, Math.min(Math.floor(n), setup.makePool ? setup.maxThreads : 1));
    if (want === threads) return;
    if (pool) pastJobs += pool.jobs;
    pool?.close();
    pool = null;
    for (const s of scratch.slice(1)) mem.free(s);
    scratch = scratch.slice(0, 1);
    threads = want;
  }

  function startPool(): ThreadPool {
    for (let t = 1; t < threads; t++) scratch.push(mem.alloc(scratchBytes));
    const p = setup.makePool!(threads, scratch);
    jobI = new Int32Array(mem.buffer, p.job, JOB_WORDS);
    jobF = new Float32Array(mem.buffer, p.job, JOB_WORDS);
    pool = p;
    return p;
  }

  // C = alpha op(A) op(B) + beta C on resident pointers, split over the pool when worth it.
  function gemmPtr(ta: boolean, tb: boolean, M: number, N: number, K: number, alpha: number, pA: number, pB: number, beta: number, pC: number): void {
    const MN = M * N;
    if (K === 0 || alpha === 0) {
      k.scale(pC, MN, beta);
      return;
    }
    // A small, deep product (conv dW: 30x25, K = 57600) wastes tile lanes when its sizes fit the
    // 4x8 tile badly (25 columns = 3 full panels + 1 of one column): compute C^T = op(B)^T op(A)^T
    // instead when that fits better, then transpose the (small) result into C.
    if (MN <= 65536 && K >= 4 * Math.max(M, N) && tileFit(N, M) > 1.05 * tileFit(M, N)) {
      const t = mem.alloc(MN * 4);
      gemmPtr(!tb, !ta, N, M, K, alpha, pB, pA, 0, t);
      if (beta === 0) k.transpose021(t, 1, N, M, pC, 0, 0);
      else {
        const t2 = mem.alloc(MN * 4);
        k.transpose021(t, 1, N, M, t2, 0, 0);
        k.sumParts(pC, t2, 1, MN, beta);
        mem.free(t2);
      }
      mem.free(t);
      return;
    }
    if (beta !== 0 && beta !== 1) k.scale(pC, MN, beta);
    const overwrite = beta === 0 ? 1 : 0;
    const flops = 2 * MN * K;
    if (threads === 1 || flops < MIN_PARALLEL_FLOPS) {
      k.gemmBlock(ta ? 1 : 0, tb ? 1 : 0, M, N, K, alpha, pA, pB, pC, overwrite, scratch[0], 0, M, 0, N, 0, K);
      return;
    }
    // Split per shape: K (with a final sum) when K dwarfs the output (conv dW: 30x25, K=57600),
    // columns when the output is short and wide (fc forward/dX), rows otherwise (conv forward).
    // About four chunks per thread, so a slower core takes fewer.
    const p = pool ?? startPool();
    const want = 4 * threads;
    const I = jobI!, F = jobF!;
    let op: number, size: number, count: number, parts = 0;
    if (K >= 2048 && K >= 16 * Math.max(M, N)) {
      op = 3;
      size = Math.ceil(Math.ceil(K / want) / 256) * 256;
      count = Math.ceil(K / size);
      parts = mem.alloc(count * MN * 4);
    } else if (N >= 64 && M < 512) {
      op = 2;
      size = Math.max(8, Math.ceil(Math.ceil(N / want) / 8) * 8);
      count = Math.ceil(N / size);
    } else {
      op = 1;
      size = Math.max(4, Math.ceil(Math.ceil(M / want) / 4) * 4);
      count = Math.ceil(M / size);
    }
    I[0] = op; I[1] = ta ? 1 : 0; I[2] = tb ? 1 : 0; I[3] = M; I[4] = N; I[5] = K;
    F[6] = alpha; I[7] = pA; I[8] = pB; I[9] = overwrite; I[10] = pC; I[11] = size; I[12] = parts; I[13] = count;
    p.run(count);
    if (op === 3) {
      k.sumParts(pC, parts, count, MN, beta === 0 ? 0 : 1); // C was already scaled by beta
      mem.free(parts);
    }
  }

  // Memory-bound ops (im2row, pooling, transposes, ReLU) over more than ~1 MB are split along
  // their leading dimension (samples, planes, blocks, elements): two chunks per thread.
  function splitMemory(op: number, total: number, bytes: number, p0: number, p1: number, p2: number, ints: number[], align = 1): boolean {
    if (threads === 1 || bytes < MIN_PARALLEL_BYTES || total < 2) return false;
    const p = pool ?? startPool();
    const I = jobI!;
    const size = Math.ceil(Math.ceil(total / (2 * threads)) / align) * align;
    I[0] = op; I[11] = size; I[16] = total; I[17] = p0; I[18] = p1; I[19] = p2;
    for (let i = 0; i < ints.length; i++) I[20 + i] = ints[i];
    p.run(Math.ceil(total / size));
    return true;
  }

  // Views into the shared memory; without shared memory (browsers without cross-origin
  // isolation) growing would detach views, so storage is ordinary arrays, staged per call.
  const allocate: Allocator = mem.shared
    ? {
      float32: (n) => mem.float32(n),
      float64: (n) => new Float64Array(n), // the wasm kernels are f32: float64 runs the js ones
      int32: (n) => mem.int32(n),
      uint8: (n) => mem.uint8(n),
      release: (v) => { if (!(v instanceof Float64Array)) mem.release(v); },
      owns: (v) => mem.resident(v),
    }
    : { ...hostAllocator, owns: () => false };

  const overrides: Partial<WasmBackend> & { name: 'wasm' } = {
    name: 'wasm',
    flavor: setup.flavor,
    memory: mem,
    allocate,
    setThreads,

    gemm(ta, tb, M, N, K, alpha, A, B, beta, C) {
      if (!isF32(A) || !isF32(B) || !isF32(C)) return js.gemm(ta, tb, M, N, K, alpha, A, B, beta, C);
      if (M * N === 0) return;
      const pC = beta === 0 ? st.out(C, M * N) : st.inout(C, M * N);
      const pA = st.in(A, M * K), pB = st.in(B, K * N);
      gemmPtr(ta, tb, M, N, K, alpha, pA, pB, beta, pC);
      st.end();
    },

    im2row(x, g, out) {
      if (!isF32(x) || !isF32(out)) return js.im2row(x, g, out);
      const pX = st.in(x, g.batch * g.channels * g.height * g.width);
      const pO = st.out(out, g.batch * g.outputHeight * g.outputWidth * g.channels * g.filterHeight * g.filterWidth);
      const geo = [g.channels, g.height, g.width, g.filterHeight, g.filterWidth, g.stride, g.pad, g.outputHeight, g.outputWidth];
      const bytes = 4 * (g.batch * g.channels * g.height * g.width + g.batch * g.outputHeight * g.outputWidth * g.channels * g.filterHeight * g.filterWidth);
      if (!splitMemory(4, g.batch, bytes, pX, pO, 0, geo)) {
        k.im2row(pX, g.batch, g.channels, g.height, g.width, g.filterHeight, g.filterWidth, g.stride, g.pad, g.outputHeight, g.outputWidth, pO);
      }
      st.end();
    },

    row2im(row, g, out) {
      if (!isF32(row) || !isF32(out)) return js.row2im(row, g, out);
      const pR = st.in(row, g.batch * g.outputHeight * g.outputWidth * g.channels * g.filterHeight * g.filterWidth);
      const pO = st.out(out, g.batch * g.channels * g.height * g.width);
      const geo = [g.channels, g.height, g.width, g.filterHeight, g.filterWidth, g.stride, g.pad, g.outputHeight, g.outputWidth];
      const bytes = 4 * (g.batch * g.channels * g.height * g.width + g.batch * g.outputHeight * g.outputWidth * g.channels * g.filterHeight * g.filterWidth);
      if (!splitMemory(5, g.batch, bytes, pR, pO, 0, geo)) {
        k.row2im(pR, g.batch, g.channels, g.height, g.width, g.filterHeight, g.filterWidth, g.stride, g.pad, g.outputHeight, g.outputWidth, pO);
      }
      st.end();
    },

    maxPoolForward(x, g: WindowGeometry, out, argMax) {
      if (!isF32(x) || !isF32(out)) return js.maxPoolForward(x, g, out, argMax);
      const nOut = g.batch * g.channels * g.outputHeight * g.outputWidth;
      const pX = st.in(x, g.batch * g.channels * g.height * g.width);
      const pO = st.out(out, nOut), pA = st.out(argMax, nOut);
      const geo = [g.height, g.width, g.filterHeight, g.filterWidth, g.stride, g.pad, g.outputHeight, g.outputWidth];
      if (!splitMemory(6, g.batch * g.channels, 4 * (g.batch * g.channels * g.height * g.width + 2 * nOut), pX, pO, pA, geo)) {
        k.maxPoolForward(pX, g.batch, g.channels, g.height, g.width, g.filterHeight, g.filterWidth, g.stride, g.pad, g.outputHeight, g.outputWidth, pO, pA);
      }
      st.end();
    },

    maxPoolBackward(dout, argMax, g, dx) {
      if (!isF32(dout) || !isF32(dx)) return js.maxPoolBackward(dout, argMax, g, dx);
      const nOut = g.batch * g.channels * g.outputHeight * g.outputWidth;
      const pD = st.in(dout, nOut), pA = st.in(argMax, nOut);
      const pX = st.out(dx, g.batch * g.channels * g.height * g.width);
      const geo = [g.height, g.width, g.filterHeight, g.filterWidth, g.stride, g.pad, g.outputHeight, g.outputWidth];
      if (!splitMemory(7, g.batch * g.channels, 4 * (g.batch * g.channels * g.height * g.width + 2 * nOut), pD, pA, pX, geo)) {
        k.maxPoolBackward(pD, pA, g.batch, g.channels, g.height, g.width, g.filterHeight, g.filterWidth, g.stride, g.pad, g.outputHeight, g.outputWidth, pX);
      }
      st.end();
    },

    transpose021(x, a, b, c, out, bias, sums) {
      if (!isF32(x) || !isF32(out) || (bias && !isF32(bias)) || (sums && !isF32(sums))) return js.transpose021(x, a, b, c, out, bias, sums);
      const n = a * b * c;
      const pX = st.in(x, n), pB = bias ? st.in(bias, c) : 0, pO = st.out(out, n);
      if (!sums) {
        if (!splitMemory(8, a, 8 * n, pX, pO, pB, [b, c, 0])) k.transpose021(pX, a, b, c, pO, pB, 0);
      } else {
        // partial sums, one per chunk (splitMemory's chunking: ceil(a / (2 threads)) blocks each)
        const pS = st.out(sums, b);
        const chunks = Math.ceil(a / Math.ceil(a / (2 * threads)));
        const parts = mem.alloc(chunks * b * 4);
        if (splitMemory(8, a, 8 * n, pX, pO, pB, [b, c, parts])) k.sumParts(pS, parts, chunks, b, 0);
        else {
          k.scale(pS, b, 0);
          k.transpose021(pX, a, b, c, pO, pB, pS);
        }
        mem.free(parts);
      }
      st.end();
    },

    addBias(x, bias, rows, cols, out) {
      if (!isF32(x) || !isF32(bias) || !isF32(out)) return js.addBias(x, bias, rows, cols, out);
      const pX = st.in(x, rows * cols), pB = st.in(bias, cols);
      const pO = st.out(out, rows * cols); // out may be x: staged copies keep that correct too
      if (!splitMemory(11, rows, 8 * rows * cols, pX, pB, pO, [cols])) k.addBias(pX, pB, rows, cols, pO);
      st.end();
    },

    sumRows(x, rows, cols, out) {
      if (!isF32(x) || !isF32(out)) return js.sumRows(x, rows, cols, out);
      const pX = st.in(x, rows * cols), pO = st.out(out, cols);
      k.sumRows(pX, rows, cols, pO); // memory-bound: a second thread does not make it faster here
      st.end();
    },

    reluForward(x, out, mask) {
      if (!isF32(x) || !isF32(out)) return js.reluForward(x, out, mask);
      const n = x.length;
      const pX = st.in(x, n), pO = st.out(out, n), pM = st.out(mask, n);
      if (!splitMemory(9, n, 9 * n, pX, pO, pM, [], 64)) k.reluForward(pX, pO, pM, n);
      st.end();
    },

    reluBackward(dout, mask, dx) {
      if (!isF32(dout) || !isF32(dx)) return js.reluBackward(dout, mask, dx);
      const n = dout.length;
      const pD = st.in(dout, n), pM = st.in(mask, n), pX = st.out(dx, n);
      if (!splitMemory(10, n, 9 * n, pD, pM, pX, [], 64)) k.reluBackward(pD, pM, pX, n);
      st.end();
    },

    softmax(x, rows, cols, out) {
      if (!isF32(x) || !isF32(out)) return js.softmax(x, rows, cols, out);
      const pX = st.in(x, rows * cols), pO = st.out(out, rows * cols);
      k.softmax(pX, rows, cols, pO);
      st.end();
    },

    crossEntropy(y, labels, rows, cols) {
      if (!isF32(y)) return js.crossEntropy(y, labels, rows, cols);
      const pY = st.in(y, rows * cols), pL = st.in(labels, rows);
      const r = k.crossEntropy(pY, pL, rows, cols);
      st.end();
      return r;
    },

    softmaxCrossEntropyBackward(y, labels, rows, cols, dx) {
      if (!isF32(y) || !isF32(dx)) return js.softmaxCrossEntropyBackward(y, labels, rows, cols, dx);
      const pY = st.in(y, rows * cols), pL = st.in(labels, rows), pX = st.out(dx, rows * cols);
      k.softmaxCrossEntropyBackward(pY, pL, rows, cols, pX);
      st.end();
    },

    firstNonFinite(x) {
      return js.firstNonFinite(x); // TODO kernel table: a wasm kernel
    },

    argmaxRows(x, rows, cols, out) {
      if (!isF32(x) || cols < 1) return js.argmaxRows(x, rows, cols, out);
      const pX = st.in(x, rows * cols), pO = st.out(out, rows);
      k.argmaxRows(pX, rows, cols, pO);
      st.end();
    },

    sgdUpdate(p, g, lr) {
      if (!isF32(p) || !isF32(g)) return js.sgdUpdate(p, g, lr);
      const pP = st.inout(p), pG = st.in(g, p.length);
      k.sgdUpdate(pP, pG, p.length, lr);
      st.end();
    },

    momentumUpdate(p, g, v, lr, momentum) {
      if (!isF32(p) || !isF32(g) || !isF32(v)) return js.momentumUpdate(p, g, v, lr, momentum);
      const n = p.length;
      const pP = st.inout(p), pG = st.in(g, n), pV = st.inout(v, n);
      k.momentumUpdate(pP, pG, pV, n, lr, momentum);
      st.end();
    },

    adagradUpdate(p, g, h, lr, eps) {
      if (!isF32(p) || !isF32(g) || !isF32(h)) return js.adagradUpdate(p, g, h, lr, eps);
      const n = p.length;
      const pP = st.inout(p), pG = st.in(g, n), pH = st.inout(h, n);
      k.adagradUpdate(pP, pG, pH, n, lr, eps);
      st.end();
    },

    adamUpdate(p, g, m, v, lrT, beta1, beta2, eps) {
      if (!isF32(p) || !isF32(g) || !isF32(m) || !isF32(v)) return js.adamUpdate(p, g, m, v, lrT, beta1, beta2, eps);
      const n = p.length;
      const pP = st.inout(p), pG = st.in(g, n), pM = st.inout(m, n), pV = st.inout(v, n);
      if (threads > 1 && 28 * n >= MIN_PARALLEL_BYTES) {
        // the f32 arguments go in as raw bits (the job record is Int32)
        const f = floatBits, bits = intBits;
        f[0] = lrT; f[1] = beta1; f[2] = beta2; f[3] = eps;
        if (splitMemory(12, n, 28 * n, pP, pG, pM, [pV, bits[0], bits[1], bits[2], bits[3]], 16)) {
          st.end();
          return;
        }
      }
      k.adamUpdate(pP, pG, pM, pV, n, lrT, beta1, beta2, eps);
      st.end();
    },
  };

  // Prototype = the js backend: ops not defined above (and ops added to the interface later)
  // fall back to the reference kernels.
  const backend = Object.create(jsBackend) as WasmBackend;
  Object.assign(backend, overrides);
  Object.defineProperty(backend, 'threads', { get: () => threads, enumerable: true });
  let pastJobs = 0; // jobs of pools closed by setThreads
  Object.defineProperty(backend, 'parallelJobs', { get: () => pastJobs + (pool?.jobs ?? 0), enumerable: true });
  setThreads(setup.defaultThreads);
  return backend;
}
