// The `wasm` backend: every op of the Backend interface over one WebAssembly.Memory, the hot
// ones as AssemblyScript SIMD kernels (assembly/kernels.ts).
//
// The ops are declared, not hand-wired: WASM_KERNELS below lists, per op of BACKEND_OPS,
// either the kernel export it calls with its operands (which argument, in / out / inout, length
// as a function of the call's sizes, element type) and its thread-split rule, or an explicit
// host fallback (the js kernel runs on the arrays). One generic wrapper (`kernelMethod`) turns
// an entry into the Backend method:
// - Float64Array operands (gradient checks) run the js kernel: the wasm kernels are f32.
// - Operands already in the wasm memory (allocated through `allocate`, which layers and
//   networks use for parameters and workspaces) are used in place; others are copied in and
//   out around the call (correct, only slower).
// - Memory-bound ops over ~1 MB split along their leading dimension over the thread pool; each
//   chunk's operands are offset by the bytes per leading unit, derived from the same lengths.
//   The job codes and the job record's layout are in abi.ts, shared with the AssemblyScript side.
// - GEMMs above ~4 MFLOP are split over the pool too, the split chosen per shape (gemmPtr).
// There is no prototype fallback: an op missing from the table is a type error here and a test
// failure (test/kernels-table.test.ts), never a silent detour through the reference kernels.

import { type Allocator, type Backend, BACKEND_OPS, type ConvActivation, hostAllocator, type WindowGeometry } from '../backend.js';
import { jsBackend } from '../js.js';
import {
  GEMM_A, GEMM_ALPHA, GEMM_B, GEMM_C, GEMM_K, GEMM_M, GEMM_N, GEMM_OVERWRITE, GEMM_PARTS, GEMM_TRANS_A, GEMM_TRANS_B,
  JOB_ADAM_UPDATE, JOB_ADD_BIAS, JOB_AVG_POOL_BACKWARD, JOB_AVG_POOL_FORWARD, JOB_CHUNK, JOB_CODE, JOB_GEMM_COLUMNS,
  JOB_GEMM_K, JOB_GEMM_ROWS, JOB_IM2ROW, JOB_LRN_BACKWARD, JOB_LRN_FORWARD, JOB_MAX_POOL_BACKWARD, JOB_MAX_POOL_FORWARD,
  JOB_MUL, JOB_RELU_BACKWARD, JOB_RELU_FORWARD, JOB_ROW2IM, JOB_SIGMOID_BACKWARD, JOB_SIGMOID_FORWARD, JOB_TANH_BACKWARD,
  JOB_TANH_FORWARD, JOB_TRANSPOSE021, JOB_CONV_FORWARD, JOB_CONV_BACKWARD_FILTER, JOB_CONV_BACKWARD_DATA, JOB_WORDS,
  LRN_MAX_CHANNELS, SPLIT_ARGS, SPLIT_MAX_ARGS, SPLIT_PART_LENGTH, SPLIT_PARTS, SPLIT_POINTER, SPLIT_POINTERS,
  SPLIT_STRIDE, JOB_RELU_MAX_POOL_FORWARD, JOB_RELU_MAX_POOL_BACKWARD, FUSED_SCRATCH_OUTPUTS,
  SPLIT_TOTAL,
} from './abi.js';
import { Staging, type View, type WasmMemory } from './memory.js';
import type { ThreadPool } from './threads.js';

/** The exports of kernels*.wasm (pointers are byte offsets into the shared memory). */
export interface Kernels {
  gemmBlock(ta: number, tb: number, M: number, N: number, K: number, alpha: number, A: number, B: number, C: number,
    overwrite: number, scratch: number, i0: number, i1: number, j0: number, j1: number, k0: number, k1: number): void;
  scale(C: number, n: number, beta: number): void;
  sumParts(C: number, parts: number, count: number, n: number, beta: number): void;
  runChunk(job: number, c: number, scratch: number): void;
  im2row(x: number, N: number, C: number, H: number, W: number, FH: number, FW: number, stride: number, pad: number, OH: number, OW: number, out: number): void;
  row2im(row: number, N: number, C: number, H: number, W: number, FH: number, FW: number, stride: number, pad: number, OH: number, OW: number, out: number): void;
  convForward(x: number, W: number, b: number, out: number, N: number, C: number, H: number, Wd: number, FN: number, FH: number, FW: number,
    stride: number, pad: number, OH: number, OW: number, act: number, mask: number, scratch: number): void;
  convBackwardFilter(x: number, dout: number, dW: number, db: number, N: number, C: number, H: number, Wd: number, FN: number, FH: number, FW: number,
    stride: number, pad: number, OH: number, OW: number, k0: number, k1: number, scratch: number): void;
  convBackwardData(dout: number, W: number, dx: number, N: number, C: number, H: number, Wd: number, FN: number, FH: number, FW: number,
    stride: number, pad: number, OH: number, OW: number, scratch: number): void;
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
  firstNonFinite(x: number, n: number): number;
  sgdUpdate(p: number, g: number, n: number, lr: number): void;
  momentumUpdate(p: number, g: number, v: number, n: number, lr: number, momentum: number): void;
  adagradUpdate(p: number, g: number, h: number, n: number, lr: number, eps: number): void;
  adamUpdate(p: number, g: number, m: number, v: number, n: number, lrT: number, beta1: number, beta2: number, eps: number): void;
  // the model-zoo kernels (assembly/zoo.ts)
  expf32(x: number, out: number, n: number): void;
  sigmoidForward(x: number, out: number, n: number): void;
  sigmoidBackward(dout: number, out: number, dx: number, n: number): void;
  tanhForward(x: number, out: number, n: number): void;
  tanhBackward(dout: number, out: number, dx: number, n: number): void;
  mul(a: number, b: number, out: number, n: number): void;
  avgPoolForward(x: number, N: number, C: number, H: number, W: number, FH: number, FW: number, stride: number, pad: number, OH: number, OW: number, out: number): void;
  avgPoolBackward(dout: number, N: number, C: number, H: number, W: number, FH: number, FW: number, stride: number, pad: number, OH: number, OW: number, dx: number): void;
  lrnForward(x: number, N: number, C: number, S: number, size: number, k: number, alpha: number, beta: number, out: number, scale: number): void;
  lrnBackward(x: number, scale: number, dout: number, N: number, C: number, S: number, size: number, alpha: number, beta: number, dx: number, scratch: number): void;
  batchNormForward(x: number, N: number, C: number, S: number, gamma: number, beta: number, eps: number, train: number, momentum: number,
    runningMean: number, runningVar: number, out: number, xhat: number, invStd: number): void;
  batchNormBackward(dout: number, xhat: number, invStd: number, gamma: number, N: number, C: number, S: number, dx: number, dgamma: number, dbeta: number): void;
  // the fused kernels (assembly/fused.ts)
  reluMaxPoolForward(x: number, N: number, C: number, H: number, W: number, FH: number, FW: number, stride: number, pad: number, OH: number, OW: number, out: number, argMax: number, scratch: number): void;
  reluMaxPoolBackward(dout: number, argMax: number, N: number, C: number, H: number, W: number, FH: number, FW: number, stride: number, pad: number, OH: number, OW: number, dx: number): void;
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
  /** Chunks of those jobs, and how many of them the helper threads ran (the calling thread ran
   *  the rest): helperChunks / parallelChunks is the helpers' share of the parallel work. */
  readonly parallelChunks: number;
  readonly helperChunks: number;
  setThreads(n: number): void;
  /** Split every memory-bound op above this many bytes instead of ~1 MB (tests reach the split
   *  paths whatever the threshold, bench/split-ops.mjs measures splits on every shape);
   *  undefined: the default again. */
  setSplitBytes(bytes: number | undefined): void;
  /** Starts the pool now (if threads > 1) and resolves once its helpers run, with the number of
   *  threads working (1 + helpers running). Browsers need it before a synchronous loop: their
   *  helper workers start only when the thread yields (threads.ts). A helper that neither starts
   *  nor reports an error is given up on after 10 s (it only means fewer hands). */
  startThreads(): Promise<number>;
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
  /** The kernels host fallbacks and float64 operands run (default: the js backend; tests pass
   *  a counting one). */
  reference?: Backend;
}

// ---- the kernel table ------------------------------------------------------------------------

export type OpName = (typeof BACKEND_OPS)[number];
type Args<O extends OpName> = Parameters<Backend[O]>;
type Direction = 'in' | 'out' | 'inout';

/** One array argument of an op, as the kernel sees it. */
export interface Operand<A> {
  /** Index of the argument in the Backend method's parameter list. */
  arg: number;
  /** in: read; out: overwritten without being read; inout: read and written. */
  dir: Direction | ((a: A) => Direction);
  dtype: 'f32' | 'i32' | 'u8';
  /** Elements the kernel touches, from the call's sizes. */
  length: (a: A) => number;
  /** The argument may be undefined (the kernel gets pointer 0). */
  optional?: true;
  /** Split ops: every chunk reads all of it (a bias), instead of its slice. */
  whole?: true;
  /** An output the kernel accumulates over the leading dimension (transpose021's sums): it is
   *  zeroed first; a split gives each chunk its own partial and adds them up afterwards. */
  partials?: true;
}

/** Split along the leading dimension: `total` units (samples, planes, rows, elements), two
 *  chunks per thread, each a multiple of `align` units, when the operands touch over ~1 MB.
 *  The operands (at most SPLIT_POINTERS, in table order) go into the job record with their
 *  bytes per unit, then `ints` and `floats` (f32 bits), which runChunk passes on. */
export interface LeadingSplit<A> {
  job: number;
  total: (a: A) => number;
  /** Chunks are multiples of this many units (a number, or one from the call's sizes). */
  align?: number | ((a: A) => number);
  ints?: (a: A) => number[];
  floats?: (a: A) => number[];
}

type KernelFn = (...args: number[]) => number;
/** gemmPtr: a GEMM on resident pointers, with its own split (see below). */
type GemmPtr = (ta: boolean, tb: boolean, M: number, N: number, K: number, alpha: number, pA: number, pB: number, beta: number, pC: number) => void;

export interface KernelEntry<A, R> {
  /** The export of kernels*.wasm this op calls (unsplit). */
  kernel: keyof Omit<Kernels, 'SCRATCH_BYTES'>;
  operands: readonly Operand<A>[];
  /** Calls the export `f` with the operands' pointers `p` (table order) and the op's sizes;
   *  `scratch`: the calling thread's SCRATCH_BYTES (lrnBackward's per-channel terms). */
  call: (f: KernelFn, p: readonly number[], a: A, gemm: GemmPtr, scratch: number) => R;
  /** Absent: one call on the calling thread. 'gemm': the GEMM's own split inside gemmPtr. */
  split?: 'gemm' | LeadingSplit<A>;
  /** Calls the kernel does not handle (degenerate sizes): the js kernel runs them. */
  reference?: (a: A) => boolean;
}

/** No wasm kernel: the js kernel runs on the arrays (views into the wasm memory work too).
 *  `host` says why, for the reader of the table. */
export interface HostEntry {
  host: string;
}

export type KernelTable = { readonly [O in OpName]: HostEntry | KernelEntry<Args<O>, ReturnType<Backend[O]>> };

const image = (g: WindowGeometry) => g.batch * g.channels * g.height * g.width; // (N, C, H, W)
const rows = (g: WindowGeometry) => g.batch * g.outputHeight * g.outputWidth * g.channels * g.filterHeight * g.filterWidth; // (N*OH*OW, C*FH*FW)
const pooled = (g: WindowGeometry) => g.batch * g.channels * g.outputHeight * g.outputWidth; // (N, C, OH, OW)
const windowInts = (g: WindowGeometry) => [g.channels, g.height, g.width, g.filterHeight, g.filterWidth, g.stride, g.pad, g.outputHeight, g.outputWidth];
const poolInts = (g: WindowGeometry) => [g.height, g.width, g.filterHeight, g.filterWidth, g.stride, g.pad, g.outputHeight, g.outputWidth];
const filterLength = (g: WindowGeometry, fn: number) => fn * g.channels * g.filterHeight * g.filterWidth; // (FN, C, FH, FW)
const convOut = (g: WindowGeometry, fn: number) => g.batch * fn * g.outputHeight * g.outputWidth; // (N, FN, OH, OW)
const convArgs = (g: WindowGeometry, fn: number) => [g.batch, g.channels, g.height, g.width, fn, g.filterHeight, g.filterWidth, g.stride, g.pad, g.outputHeight, g.outputWidth];
// the conv jobs' ints (assembly/conv.ts convChunk): C, H, W, FN, FH, FW, stride, pad, OH, OW, N
const convInts = (g: WindowGeometry, fn: number) => [...convArgs(g, fn).slice(1), g.batch];
/** assembly/conv.ts's activation codes: 0 none, 1 sigmoid, 2 ReLU. */
const actCode = (act: ConvActivation | undefined) => (act === undefined ? 0 : act === 'sigmoid' ? 1 : act === 'relu' ? 2 : unknownActivation(act));
function unknownActivation(act: never): number {
  throw new Error(`scratchnet: convForward has no activation ${String(act)}`);
}
const elementwise = (job: number) => ({ job, total: ([x]: [{ length: number }, ...unknown[]]) => x.length, align: 16 });

/** Every op of BACKEND_OPS: its wasm kernel or an explicit host fallback. */
export const WASM_KERNELS: KernelTable = {
  gemm: {
    kernel: 'gemmBlock',
    operands: [
      { arg: 6, dir: 'in', dtype: 'f32', length: ([, , M, , K]) => M * K }, // A: (M, K) or (K, M)
      { arg: 7, dir: 'in', dtype: 'f32', length: ([, , , N, K]) => K * N }, // B: (K, N) or (N, K)
      // C: (M, N), never read when beta = 0 (stale NaNs in a reused buffer cannot leak in)
      { arg: 9, dir: ([, , , , , , , , beta]) => (beta === 0 ? 'out' : 'inout'), dtype: 'f32', length: ([, , M, N]) => M * N },
    ],
    call: (_f, p, [ta, tb, M, N, K, alpha, , , beta], gemm) => gemm(ta, tb, M, N, K, alpha, p[0], p[1], beta, p[2]),
    split: 'gemm',
    reference: ([, , M, N]) => M * N === 0,
  },
  im2row: {
    kernel: 'im2row',
    operands: [
      { arg: 0, dir: 'in', dtype: 'f32', length: ([, g]) => image(g) },
      { arg: 2, dir: 'out', dtype: 'f32', length: ([, g]) => rows(g) },
    ],
    call: (f, p, [, g]) => f(p[0], g.batch, g.channels, g.height, g.width, g.filterHeight, g.filterWidth, g.stride, g.pad, g.outputHeight, g.outputWidth, p[1]),
    split: { job: JOB_IM2ROW, total: ([, g]) => g.batch, ints: ([, g]) => windowInts(g) },
  },
  row2im: {
    kernel: 'row2im',
    operands: [
      { arg: 0, dir: 'in', dtype: 'f32', length: ([, g]) => rows(g) },
      { arg: 2, dir: 'out', dtype: 'f32', length: ([, g]) => image(g) },
    ],
    call: (f, p, [, g]) => f(p[0], g.batch, g.channels, g.height, g.width, g.filterHeight, g.filterWidth, g.stride, g.pad, g.outputHeight, g.outputWidth, p[1]),
    split: { job: JOB_ROW2IM, total: ([, g]) => g.batch, ints: ([, g]) => windowInts(g) },
  },
  // The convolution without the im2row matrix (assembly/conv.ts): blocks of the rows packed
  // from the image into the thread's scratch. Forward and input gradient split by images; the
  // filter gradient by columns of dW (every chunk reads all of x and dout, packs only its rows).
  convForward: {
    kernel: 'convForward',
    operands: [
      { arg: 0, dir: 'in', dtype: 'f32', length: ([, , , , g]) => image(g) }, // x
      { arg: 1, dir: 'in', dtype: 'f32', length: ([, , , fn, g]) => filterLength(g, fn), whole: true }, // W
      { arg: 2, dir: 'in', dtype: 'f32', length: ([, , , fn]) => fn, whole: true }, // b
      { arg: 5, dir: 'out', dtype: 'f32', length: ([, , , fn, g]) => convOut(g, fn) }, // out
      { arg: 7, dir: 'out', dtype: 'u8', length: ([, , , fn, g]) => convOut(g, fn), optional: true }, // the ReLU's mask (absent: none, or inference)
    ],
    call: (f, p, [, , , fn, g, , act], _gemm, scratch) => f(p[0], p[1], p[2], p[3], ...convArgs(g, fn), actCode(act), p[4], scratch),
    // the activation (convChunk reads it after N) runs on each chunk's outputs
    split: { job: JOB_CONV_FORWARD, total: ([, , , , g]) => g.batch, ints: ([, , , fn, g, , act]) => [...convInts(g, fn), actCode(act)] },
    reference: ([, , , fn, g]) => convOut(g, fn) === 0,
  },
  convBackwardFilter: {
    kernel: 'convBackwardFilter',
    operands: [
      { arg: 0, dir: 'in', dtype: 'f32', length: ([, , , g]) => image(g), whole: true }, // x
      { arg: 1, dir: 'in', dtype: 'f32', length: ([, , fn, g]) => convOut(g, fn), whole: true }, // dout
      { arg: 4, dir: 'out', dtype: 'f32', length: ([, , fn, g]) => filterLength(g, fn), whole: true }, // dW
      { arg: 5, dir: 'out', dtype: 'f32', length: ([, , fn]) => fn, whole: true }, // db
    ],
    call: (f, p, [, , fn, g], _gemm, scratch) => f(p[0], p[1], p[2], p[3], ...convArgs(g, fn), 0, g.channels * g.filterHeight * g.filterWidth, scratch),
    // two chunks at most: every chunk moves all of dout and pads all of x, which costs as much
    // as the product itself when K is small (simple's 25 columns)
    split: {
      job: JOB_CONV_BACKWARD_FILTER, total: ([, , , g]) => g.channels * g.filterHeight * g.filterWidth,
      // whole channels per chunk where there are two or more (Winograd's filter gradient works
      // on channels), else half the window
      align: ([, , , g]) => (g.channels > 1 ? Math.ceil(g.channels / 2) * g.filterHeight * g.filterWidth : Math.ceil((g.filterHeight * g.filterWidth) / 2)),
      ints: ([, , fn, g]) => convInts(g, fn),
    },
    reference: ([, , fn, g]) => fn === 0,
  },
  convBackwardData: {
    kernel: 'convBackwardData',
    operands: [
      { arg: 0, dir: 'in', dtype: 'f32', length: ([, , fn, g]) => convOut(g, fn) }, // dout
      { arg: 1, dir: 'in', dtype: 'f32', length: ([, , fn, g]) => filterLength(g, fn), whole: true }, // W
      { arg: 4, dir: 'out', dtype: 'f32', length: ([, , , g]) => image(g) }, // dx
    ],
    call: (f, p, [, , fn, g], _gemm, scratch) => f(p[0], p[1], p[2], ...convArgs(g, fn), scratch),
    split: { job: JOB_CONV_BACKWARD_DATA, total: ([, , , g]) => g.batch, ints: ([, , fn, g]) => convInts(g, fn) },
    reference: ([, , fn, g]) => image(g) === 0 || convOut(g, fn) === 0,
  },
  maxPoolForward: {
    kernel: 'maxPoolForward',
    operands: [
      { arg: 0, dir: 'in', dtype: 'f32', length: ([, g]) => image(g) },
      { arg: 2, dir: 'out', dtype: 'f32', length: ([, g]) => pooled(g) },
      { arg: 3, dir: 'out', dtype: 'i32', length: ([, g]) => pooled(g) },
    ],
    call: (f, p, [, g]) => f(p[0], g.batch, g.channels, g.height, g.width, g.filterHeight, g.filterWidth, g.stride, g.pad, g.outputHeight, g.outputWidth, p[1], p[2]),
    // by (n, c) planes: a batch of 100 is 3000 planes, so chunks stay even on two cores
    split: { job: JOB_MAX_POOL_FORWARD, total: ([, g]) => g.batch * g.channels, ints: ([, g]) => poolInts(g) },
  },
  maxPoolBackward: {
    kernel: 'maxPoolBackward',
    operands: [
      { arg: 0, dir: 'in', dtype: 'f32', length: ([, , g]) => pooled(g) },
      { arg: 1, dir: 'in', dtype: 'i32', length: ([, , g]) => pooled(g) },
      { arg: 3, dir: 'out', dtype: 'f32', length: ([, , g]) => image(g) },
    ],
    call: (f, p, [, , g]) => f(p[0], p[1], g.batch, g.channels, g.height, g.width, g.filterHeight, g.filterWidth, g.stride, g.pad, g.outputHeight, g.outputWidth, p[2]),
    split: { job: JOB_MAX_POOL_BACKWARD, total: ([, , g]) => g.batch * g.channels, ints: ([, , g]) => poolInts(g) },
  },
  reluMaxPoolForward: {
    // fused ReLU + max pooling (assembly/fused.ts): one pass over the conv output
    kernel: 'reluMaxPoolForward',
    operands: [
      { arg: 0, dir: 'in', dtype: 'f32', length: ([, g]) => image(g) },
      { arg: 2, dir: 'out', dtype: 'f32', length: ([, g]) => pooled(g) },
      { arg: 3, dir: 'out', dtype: 'i32', length: ([, g]) => pooled(g), optional: true }, // absent: inference
    ],
    call: (f, p, [, g], _gemm, scratch) => f(p[0], g.batch, g.channels, g.height, g.width, g.filterHeight, g.filterWidth, g.stride, g.pad, g.outputHeight, g.outputWidth, p[1], p[2], scratch),
    split: { job: JOB_RELU_MAX_POOL_FORWARD, total: ([, g]) => g.batch * g.channels, ints: ([, g]) => poolInts(g) },
    // without argMax each plane's argmax is kept in the thread's scratch
    reference: ([, g, , argMax]) => argMax === undefined && g.outputHeight * g.outputWidth > FUSED_SCRATCH_OUTPUTS,
  },
  reluMaxPoolBackward: {
    kernel: 'reluMaxPoolBackward',
    operands: [
      { arg: 0, dir: 'in', dtype: 'f32', length: ([, , g]) => pooled(g) },
      { arg: 1, dir: 'in', dtype: 'i32', length: ([, , g]) => pooled(g) },
      { arg: 3, dir: 'out', dtype: 'f32', length: ([, , g]) => image(g) },
    ],
    call: (f, p, [, , g]) => f(p[0], p[1], g.batch, g.channels, g.height, g.width, g.filterHeight, g.filterWidth, g.stride, g.pad, g.outputHeight, g.outputWidth, p[2]),
    split: { job: JOB_RELU_MAX_POOL_BACKWARD, total: ([, , g]) => g.batch * g.channels, ints: ([, , g]) => poolInts(g) },
  },
  transpose021: {
    kernel: 'transpose021',
    operands: [
      { arg: 0, dir: 'in', dtype: 'f32', length: ([, a, b, c]) => a * b * c }, // (A, B, C)
      { arg: 4, dir: 'out', dtype: 'f32', length: ([, a, b, c]) => a * b * c }, // (A, C, B)
      { arg: 5, dir: 'in', dtype: 'f32', length: ([, , , c]) => c, optional: true, whole: true }, // bias (C)
      { arg: 6, dir: 'out', dtype: 'f32', length: ([, , b]) => b, optional: true, partials: true }, // sums (B)
    ],
    call: (f, p, [, a, b, c]) => f(p[0], a, b, c, p[1], p[2], p[3]),
    split: { job: JOB_TRANSPOSE021, total: ([, a]) => a, ints: ([, , b, c]) => [b, c] },
  },
  addBias: {
    kernel: 'addBias',
    operands: [
      { arg: 0, dir: 'in', dtype: 'f32', length: ([, , r, c]) => r * c },
      { arg: 1, dir: 'in', dtype: 'f32', length: ([, , , c]) => c, whole: true },
      // out may be x: in place works, and staged copies keep that correct too
      { arg: 4, dir: 'out', dtype: 'f32', length: ([, , r, c]) => r * c },
    ],
    call: (f, p, [, , r, c]) => f(p[0], p[1], r, c, p[2]),
    split: { job: JOB_ADD_BIAS, total: ([, , r]) => r, ints: ([, , , c]) => [c] },
  },
  sumRows: {
    // memory-bound: a second thread does not make it faster here, so it never splits
    kernel: 'sumRows',
    operands: [
      { arg: 0, dir: 'in', dtype: 'f32', length: ([, r, c]) => r * c },
      { arg: 3, dir: 'out', dtype: 'f32', length: ([, , c]) => c },
    ],
    call: (f, p, [, r, c]) => f(p[0], r, c, p[1]),
  },
  reluForward: {
    kernel: 'reluForward',
    operands: [
      { arg: 0, dir: 'in', dtype: 'f32', length: ([x]) => x.length },
      { arg: 1, dir: 'out', dtype: 'f32', length: ([x]) => x.length },
      { arg: 2, dir: 'out', dtype: 'u8', length: ([x]) => x.length, optional: true }, // absent: inference
    ],
    call: (f, p, [x]) => f(p[0], p[1], p[2], x.length),
    // chunks of 64 elements: the kernel's 16-wide vector loop never straddles two chunks
    split: { job: JOB_RELU_FORWARD, total: ([x]) => x.length, align: 64 },
  },
  reluBackward: {
    kernel: 'reluBackward',
    operands: [
      { arg: 0, dir: 'in', dtype: 'f32', length: ([d]) => d.length },
      { arg: 1, dir: 'in', dtype: 'u8', length: ([d]) => d.length },
      { arg: 2, dir: 'out', dtype: 'f32', length: ([d]) => d.length },
    ],
    call: (f, p, [d]) => f(p[0], p[1], p[2], d.length),
    split: { job: JOB_RELU_BACKWARD, total: ([d]) => d.length, align: 64 },
  },
  softmax: {
    // softmax, loss and argmax are small (rows x classes): never split
    kernel: 'softmax',
    operands: [
      { arg: 0, dir: 'in', dtype: 'f32', length: ([, r, c]) => r * c },
      { arg: 3, dir: 'out', dtype: 'f32', length: ([, r, c]) => r * c },
    ],
    call: (f, p, [, r, c]) => f(p[0], r, c, p[1]),
  },
  crossEntropy: {
    kernel: 'crossEntropy',
    operands: [
      { arg: 0, dir: 'in', dtype: 'f32', length: ([, , r, c]) => r * c },
      { arg: 1, dir: 'in', dtype: 'i32', length: ([, , r]) => r },
    ],
    call: (f, p, [, , r, c]) => f(p[0], p[1], r, c),
  },
  softmaxCrossEntropyBackward: {
    kernel: 'softmaxCrossEntropyBackward',
    operands: [
      { arg: 0, dir: 'in', dtype: 'f32', length: ([, , r, c]) => r * c },
      { arg: 1, dir: 'in', dtype: 'i32', length: ([, , r]) => r },
      { arg: 4, dir: 'out', dtype: 'f32', length: ([, , r, c]) => r * c },
    ],
    call: (f, p, [, , r, c]) => f(p[0], p[1], r, c, p[2]),
  },
  argmaxRows: {
    kernel: 'argmaxRows',
    operands: [
      { arg: 0, dir: 'in', dtype: 'f32', length: ([, r, c]) => r * c },
      { arg: 3, dir: 'out', dtype: 'i32', length: ([, r]) => r },
    ],
    call: (f, p, [, r, c]) => f(p[0], r, c, p[1]),
    reference: ([, , c]) => c < 1, // the kernel reads the first value of every row
  },
  firstNonFinite: {
    // run over every gradient every step by the trainer's guard: 16 floats per SIMD step
    kernel: 'firstNonFinite',
    operands: [{ arg: 0, dir: 'in', dtype: 'f32', length: ([x]) => x.length }],
    call: (f, p, [x]) => f(p[0], x.length),
  },
  sgdUpdate: {
    kernel: 'sgdUpdate',
    operands: [
      { arg: 0, dir: 'inout', dtype: 'f32', length: ([p]) => p.length },
      { arg: 1, dir: 'in', dtype: 'f32', length: ([p]) => p.length },
    ],
    call: (f, p, [w, , lr]) => f(p[0], p[1], w.length, lr),
  },
  momentumUpdate: {
    kernel: 'momentumUpdate',
    operands: [
      { arg: 0, dir: 'inout', dtype: 'f32', length: ([p]) => p.length },
      { arg: 1, dir: 'in', dtype: 'f32', length: ([p]) => p.length },
      { arg: 2, dir: 'inout', dtype: 'f32', length: ([p]) => p.length },
    ],
    call: (f, p, [w, , , lr, momentum]) => f(p[0], p[1], p[2], w.length, lr, momentum),
  },
  adagradUpdate: {
    kernel: 'adagradUpdate',
    operands: [
      { arg: 0, dir: 'inout', dtype: 'f32', length: ([p]) => p.length },
      { arg: 1, dir: 'in', dtype: 'f32', length: ([p]) => p.length },
      { arg: 2, dir: 'inout', dtype: 'f32', length: ([p]) => p.length },
    ],
    call: (f, p, [w, , , lr, eps]) => f(p[0], p[1], p[2], w.length, lr, eps),
  },
  adamUpdate: {
    kernel: 'adamUpdate',
    operands: [
      { arg: 0, dir: 'inout', dtype: 'f32', length: ([p]) => p.length },
      { arg: 1, dir: 'in', dtype: 'f32', length: ([p]) => p.length },
      { arg: 2, dir: 'inout', dtype: 'f32', length: ([p]) => p.length },
      { arg: 3, dir: 'inout', dtype: 'f32', length: ([p]) => p.length },
    ],
    call: (f, p, [w, , , , lrT, beta1, beta2, eps]) => f(p[0], p[1], p[2], p[3], w.length, lrT, beta1, beta2, eps),
    split: { job: JOB_ADAM_UPDATE, total: ([p]) => p.length, align: 16, floats: ([, , , , lrT, b1, b2, eps]) => [lrT, b1, b2, eps] },
  },
  // ---- model-zoo ops (assembly/zoo.ts); before them the js loops ran over wasm memory
  sigmoidForward: {
    // f32x4 exp, max 2 ulps from the f64 reference (test/kernels-zoo.test.ts)
    kernel: 'sigmoidForward',
    operands: [
      { arg: 0, dir: 'in', dtype: 'f32', length: ([x]) => x.length },
      { arg: 1, dir: 'out', dtype: 'f32', length: ([x]) => x.length },
    ],
    call: (f, p, [x]) => f(p[0], p[1], x.length),
    split: elementwise(JOB_SIGMOID_FORWARD),
  },
  sigmoidBackward: {
    kernel: 'sigmoidBackward',
    operands: [
      { arg: 0, dir: 'in', dtype: 'f32', length: ([d]) => d.length },
      { arg: 1, dir: 'in', dtype: 'f32', length: ([d]) => d.length },
      { arg: 2, dir: 'out', dtype: 'f32', length: ([d]) => d.length },
    ],
    call: (f, p, [d]) => f(p[0], p[1], p[2], d.length),
    split: elementwise(JOB_SIGMOID_BACKWARD),
  },
  tanhForward: {
    kernel: 'tanhForward',
    operands: [
      { arg: 0, dir: 'in', dtype: 'f32', length: ([x]) => x.length },
      { arg: 1, dir: 'out', dtype: 'f32', length: ([x]) => x.length },
    ],
    call: (f, p, [x]) => f(p[0], p[1], x.length),
    split: elementwise(JOB_TANH_FORWARD),
  },
  tanhBackward: {
    kernel: 'tanhBackward',
    operands: [
      { arg: 0, dir: 'in', dtype: 'f32', length: ([d]) => d.length },
      { arg: 1, dir: 'in', dtype: 'f32', length: ([d]) => d.length },
      { arg: 2, dir: 'out', dtype: 'f32', length: ([d]) => d.length },
    ],
    call: (f, p, [d]) => f(p[0], p[1], p[2], d.length),
    split: elementwise(JOB_TANH_BACKWARD),
  },
  avgPoolForward: {
    kernel: 'avgPoolForward',
    operands: [
      { arg: 0, dir: 'in', dtype: 'f32', length: ([, g]) => image(g) },
      { arg: 2, dir: 'out', dtype: 'f32', length: ([, g]) => pooled(g) },
    ],
    call: (f, p, [, g]) => f(p[0], g.batch, g.channels, g.height, g.width, g.filterHeight, g.filterWidth, g.stride, g.pad, g.outputHeight, g.outputWidth, p[1]),
    split: { job: JOB_AVG_POOL_FORWARD, total: ([, g]) => g.batch * g.channels, ints: ([, g]) => poolInts(g) },
  },
  avgPoolBackward: {
    kernel: 'avgPoolBackward',
    operands: [
      { arg: 0, dir: 'in', dtype: 'f32', length: ([, g]) => pooled(g) },
      { arg: 2, dir: 'out', dtype: 'f32', length: ([, g]) => image(g) },
    ],
    call: (f, p, [, g]) => f(p[0], g.batch, g.channels, g.height, g.width, g.filterHeight, g.filterWidth, g.stride, g.pad, g.outputHeight, g.outputWidth, p[1]),
    split: { job: JOB_AVG_POOL_BACKWARD, total: ([, g]) => g.batch * g.channels, ints: ([, g]) => poolInts(g) },
  },
  lrnForward: {
    kernel: 'lrnForward',
    operands: [
      { arg: 0, dir: 'in', dtype: 'f32', length: ([, n, c, s]) => n * c * s }, // x: (N, C, S)
      { arg: 8, dir: 'out', dtype: 'f32', length: ([, n, c, s]) => n * c * s }, // out
      { arg: 9, dir: 'out', dtype: 'f32', length: ([, n, c, s]) => n * c * s, optional: true }, // scale (absent: inference)
    ],
    call: (f, p, [, n, c, s, size, k, alpha, beta]) => f(p[0], n, c, s, size, k, alpha, beta, p[1], p[2]),
    // by samples: the window runs across channels
    split: { job: JOB_LRN_FORWARD, total: ([, n]) => n, ints: ([, , c, s, size]) => [c, s, size], floats: ([, , , , , k, alpha, beta]) => [k, alpha, beta] },
    reference: ([, n, c, s, size]) => n * c * s === 0 || size < 1,
  },
  lrnBackward: {
    kernel: 'lrnBackward',
    operands: [
      { arg: 0, dir: 'in', dtype: 'f32', length: ([, , , n, c, s]) => n * c * s }, // x
      { arg: 1, dir: 'in', dtype: 'f32', length: ([, , , n, c, s]) => n * c * s }, // scale
      { arg: 2, dir: 'in', dtype: 'f32', length: ([, , , n, c, s]) => n * c * s }, // dout
      { arg: 9, dir: 'out', dtype: 'f32', length: ([, , , n, c, s]) => n * c * s }, // dx
    ],
    call: (f, p, [, , , n, c, s, size, alpha, beta], _gemm, scratch) => f(p[0], p[1], p[2], n, c, s, size, alpha, beta, p[3], scratch),
    split: { job: JOB_LRN_BACKWARD, total: ([, , , n]) => n, ints: ([, , , , c, s, size]) => [c, s, size], floats: ([, , , , , , , alpha, beta]) => [alpha, beta] },
    // the kernel keeps C x 4 terms in the thread's scratch
    reference: ([, , , n, c, s, size]) => n * c * s === 0 || size < 1 || c > LRN_MAX_CHANNELS,
  },
  mul: {
    kernel: 'mul',
    operands: [
      { arg: 0, dir: 'in', dtype: 'f32', length: ([a]) => a.length },
      { arg: 1, dir: 'in', dtype: 'f32', length: ([a]) => a.length },
      { arg: 2, dir: 'out', dtype: 'f32', length: ([a]) => a.length }, // may be a (in place)
    ],
    call: (f, p, [a]) => f(p[0], p[1], p[2], a.length),
    split: elementwise(JOB_MUL),
  },
  batchNormForward: {
    // statistics per channel reduce over N: a leading-dimension split would need partial sums
    // per chunk, and the zoo's batch norms move well under ~1 MB per call: never split
    kernel: 'batchNormForward',
    operands: [
      { arg: 0, dir: 'in', dtype: 'f32', length: ([, n, c, s]) => n * c * s }, // x: (N, C, S)
      { arg: 4, dir: 'in', dtype: 'f32', length: ([, , c]) => c }, // gamma
      { arg: 5, dir: 'in', dtype: 'f32', length: ([, , c]) => c }, // beta
      { arg: 9, dir: ([, , , , , , , train]) => (train ? 'inout' : 'in'), dtype: 'f32', length: ([, , c]) => c }, // runningMean
      { arg: 10, dir: ([, , , , , , , train]) => (train ? 'inout' : 'in'), dtype: 'f32', length: ([, , c]) => c }, // runningVar
      { arg: 11, dir: 'out', dtype: 'f32', length: ([, n, c, s]) => n * c * s }, // out
      { arg: 12, dir: 'out', dtype: 'f32', length: ([, n, c, s]) => n * c * s, optional: true }, // xhat (absent: inference)
      { arg: 13, dir: 'out', dtype: 'f32', length: ([, , c]) => c, optional: true }, // invStd
    ],
    call: (f, p, [, n, c, s, , , eps, train, momentum]) => f(p[0], n, c, s, p[1], p[2], eps, train ? 1 : 0, momentum, p[3], p[4], p[5], p[6], p[7]),
    reference: ([, n, c, s]) => n * s === 0 && c > 0, // an empty batch: the reference's NaN statistics
  },
  batchNormBackward: {
    kernel: 'batchNormBackward',
    operands: [
      { arg: 0, dir: 'in', dtype: 'f32', length: ([, , , , n, c, s]) => n * c * s }, // dout
      { arg: 1, dir: 'in', dtype: 'f32', length: ([, , , , n, c, s]) => n * c * s }, // xhat
      { arg: 2, dir: 'in', dtype: 'f32', length: ([, , , , , c]) => c }, // invStd
      { arg: 3, dir: 'in', dtype: 'f32', length: ([, , , , , c]) => c }, // gamma
      { arg: 7, dir: 'out', dtype: 'f32', length: ([, , , , n, c, s]) => n * c * s }, // dx
      { arg: 8, dir: 'out', dtype: 'f32', length: ([, , , , , c]) => c }, // dgamma
      { arg: 9, dir: 'out', dtype: 'f32', length: ([, , , , , c]) => c }, // dbeta
    ],
    call: (f, p, [, , , , n, c, s]) => f(p[0], p[1], p[2], p[3], n, c, s, p[4], p[5], p[6]),
  },
};

// ---- the backend -----------------------------------------------------------------------------

const MIN_PARALLEL_FLOPS = 4e6; // ~100 us single-threaded: below this a split costs more than it saves
// The same for memory-bound ops (bytes read + written). The ReLU and max-pooling ops were
// measured 1 vs 2 threads on the zoo's shapes (docs/ARCHITECTURE.md, bench/split-ops.mjs): alone
// no gain, in whole training steps a small edge for splitting, so they keep this default.
const MIN_PARALLEL_BYTES = 1 << 20;
const ELEMENT_BYTES = { f32: 4, i32: 4, u8: 1 } as const;

/** Useful fraction of the 4x8 tiles' work for an M x N output (leftover rows run a 1x8 kernel
 *  at about half speed; a ragged last panel computes 8 columns for fewer). */
function tileFit(M: number, N: number): number {
  return ((M - (M % 4) + 0.5 * (M % 4)) / M) * (N / (Math.ceil(N / 8) * 8));
}

export function createWasmBackend(setup: WasmSetup): WasmBackend {
  const k = setup.kernels;
  const mem = setup.memory;
  const ref = setup.reference ?? jsBackend;
  const st = new Staging(mem);
  const scratchBytes = k.SCRATCH_BYTES.value as number;

  let threads = 1;
  let splitBytes: number | undefined;
  let pool: ThreadPool | null = null;
  let pastJobs = 0, pastChunks = 0, pastHelperChunks = 0; // of pools closed by setThreads
  let scratch: number[] = [mem.alloc(scratchBytes)];
  let jobI: Int32Array | null = null;
  let jobF: Float32Array | null = null;

  // The pool starts at the first op big enough to split (so a process that never trains or
  // predicts at scale never starts a thread).
  function setThreads(n: number): void {
    const want = Math.max(1, Math.min(Math.floor(n), setup.makePool ? setup.maxThreads : 1));
    if (want === threads) return;
    if (pool) {
      pastJobs += pool.jobs;
      pastChunks += pool.chunks;
      pastHelperChunks += pool.helperChunks;
    }
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

  async function startThreads(): Promise<number> {
    if (threads === 1 || !setup.makePool) return 1;
    return 1 + (await (pool ?? startPool()).whenRunning());
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
    let code: number, size: number, count: number, parts = 0;
    if (K >= 2048 && K >= 16 * Math.max(M, N)) {
      code = JOB_GEMM_K;
      size = Math.ceil(Math.ceil(K / want) / 256) * 256;
      count = Math.ceil(K / size);
      parts = mem.alloc(count * MN * 4);
    } else if (N >= 64 && M < 512) {
      code = JOB_GEMM_COLUMNS;
      size = Math.max(8, Math.ceil(Math.ceil(N / want) / 8) * 8);
      count = Math.ceil(N / size);
    } else {
      code = JOB_GEMM_ROWS;
      size = Math.max(4, Math.ceil(Math.ceil(M / want) / 4) * 4);
      count = Math.ceil(M / size);
    }
    I[JOB_CODE] = code; I[JOB_CHUNK] = size;
    I[GEMM_TRANS_A] = ta ? 1 : 0; I[GEMM_TRANS_B] = tb ? 1 : 0; I[GEMM_M] = M; I[GEMM_N] = N; I[GEMM_K] = K;
    F[GEMM_ALPHA] = alpha; I[GEMM_A] = pA; I[GEMM_B] = pB; I[GEMM_C] = pC; I[GEMM_OVERWRITE] = overwrite; I[GEMM_PARTS] = parts;
    p.run(count);
    if (code === JOB_GEMM_K) {
      k.sumParts(pC, parts, count, MN, beta === 0 ? 0 : 1); // C was already scaled by beta
      mem.free(parts);
    }
  }

  // A memory-bound op over more than ~1 MB split along its leading dimension: two chunks per
  // thread. p: the operands' pointers, lengths: their element counts (table order).
  function splitLeading(s: LeadingSplit<unknown[]>, operands: readonly Operand<unknown[]>[], a: unknown[], p: number[], lengths: number[]): boolean {
    if (threads === 1) return false;
    let bytes = 0;
    for (let i = 0; i < operands.length; i++) {
      const o = operands[i];
      bytes += lengths[i] * ELEMENT_BYTES[o.dtype] * (o.dir === 'inout' ? 2 : 1);
    }
    const total = s.total(a);
    if (bytes < (splitBytes ?? MIN_PARALLEL_BYTES) || total < 2) return false;
    const run = pool ?? startPool();
    const I = jobI!, F = jobF!;
    const align = typeof s.align === 'function' ? s.align(a) : (s.align ?? 1);
    const size = Math.ceil(Math.ceil(total / (2 * threads)) / align) * align;
    const count = Math.ceil(total / size);
    I[JOB_CODE] = s.job; I[JOB_CHUNK] = size; I[SPLIT_TOTAL] = total;
    let partial = -1;
    for (let i = 0; i < SPLIT_POINTERS; i++) {
      const o = operands[i];
      I[SPLIT_POINTER + i] = o ? p[i] : 0;
      I[SPLIT_STRIDE + i] = !o || o.whole || o.partials || p[i] === 0 ? 0 : (lengths[i] * ELEMENT_BYTES[o.dtype]) / total;
      if (o?.partials && p[i] !== 0) partial = i;
    }
    let parts = 0;
    if (partial >= 0) parts = mem.alloc(count * lengths[partial] * 4);
    I[SPLIT_PARTS] = parts; I[SPLIT_PART_LENGTH] = partial >= 0 ? lengths[partial] : 0;
    let w = SPLIT_ARGS;
    if (s.ints) for (const v of s.ints(a)) I[w++] = v;
    if (s.floats) for (const v of s.floats(a)) F[w++] = v;
    if (w > SPLIT_ARGS + SPLIT_MAX_ARGS) throw new Error(`scratchnet: job ${s.job} has more arguments than a job record holds`);
    run.run(count);
    if (parts !== 0) {
      k.sumParts(p[partial], parts, count, lengths[partial], 0);
      mem.free(parts);
    }
    return true;
  }

  // The Backend method of one table entry: float64 operands (and the entry's degenerate cases)
  // to the reference kernel, operands staged where not resident, split or one kernel call.
  function kernelMethod(op: OpName, e: KernelEntry<unknown[], unknown>): (...a: unknown[]) => unknown {
    const operands = e.operands;
    const n = operands.length;
    const f = k[e.kernel] as unknown as KernelFn;
    const fallback = ref[op] as unknown as (...a: unknown[]) => unknown;
    const split = e.split === 'gemm' ? undefined : e.split;
    const p: number[] = new Array<number>(n).fill(0), lengths: number[] = new Array<number>(n).fill(0);
    return (...a: unknown[]): unknown => {
      for (let i = 0; i < n; i++) {
        const o = operands[i];
        if (o.dtype === 'f32') {
          const v = a[o.arg];
          if (!(v instanceof Float32Array) && !(v === undefined && o.optional)) return fallback(...a);
        }
      }
      if (e.reference?.(a)) return fallback(...a);
      try {
        for (let i = 0; i < n; i++) {
          const o = operands[i];
          const v = a[o.arg] as View | undefined;
          if (v === undefined) {
            p[i] = 0;
            lengths[i] = 0;
            continue;
          }
          const len = o.length(a);
          const dir = typeof o.dir === 'function' ? o.dir(a) : o.dir;
          lengths[i] = len;
          p[i] = dir === 'in' ? st.in(v, len) : dir === 'out' ? st.out(v, len) : st.inout(v, len);
        }
        if (split && splitLeading(split, operands, a, p, lengths)) return undefined;
        for (let i = 0; i < n; i++) if (operands[i].partials && p[i] !== 0) k.scale(p[i], lengths[i], 0);
        return e.call(f, p, a, gemmPtr, scratch[0]);
      } finally {
        st.end();
      }
    };
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

  // 65536 pages of 64 KiB: the most a 32-bit WebAssembly memory can hold (what batches are sized by)
  const setSplitBytes = (bytes: number | undefined) => void (splitBytes = bytes);
  const backend = { name: 'wasm', flavor: setup.flavor, memory: mem, allocate, setThreads, setSplitBytes, startThreads, maxBytes: 65536 * 65536 } as Record<string, unknown>;
  for (const op of BACKEND_OPS) {
    const e = WASM_KERNELS[op] as HostEntry | KernelEntry<unknown[], unknown> | undefined;
    if (!e) throw new Error(`scratchnet: the wasm kernel table lacks ${op}`);
    if ('host' in e) backend[op] = ref[op]; // explicit host fallback: the js kernel itself
    else {
      if (e.split && e.split !== 'gemm' && e.operands.length > SPLIT_POINTERS) throw new Error(`scratchnet: ${op} splits with more than ${SPLIT_POINTERS} operands`);
      backend[op] = kernelMethod(op, e);
    }
  }
  Object.defineProperty(backend, 'threads', { get: () => threads, enumerable: true });
  Object.defineProperty(backend, 'parallelJobs', { get: () => pastJobs + (pool?.jobs ?? 0), enumerable: true });
  Object.defineProperty(backend, 'parallelChunks', { get: () => pastChunks + (pool?.chunks ?? 0), enumerable: true });
  Object.defineProperty(backend, 'helperChunks', { get: () => pastHelperChunks + (pool?.helperChunks ?? 0), enumerable: true });
  setThreads(setup.defaultThreads);
  return backend as unknown as WasmBackend;
}
