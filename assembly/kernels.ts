// scratchnet's WebAssembly kernels, in AssemblyScript (TypeScript syntax, compiled by `asc`).
// The same source is built four ways by scripts/build-wasm.mjs: plain SIMD or relaxed-SIMD FMA
// (`ASC_FEATURE_RELAXED_SIMD` picks the multiply-add below), each with an imported shared
// memory (threads) or a plain one (browsers without cross-origin isolation).
//
// Rules that make one memory shareable by several instances (one per thread):
//  - `--runtime stub` and nothing here allocates: every array is a byte offset into the
//    imported memory, laid out by the JavaScript allocator (src/backend/wasm/memory.ts);
//  - no static data and no globals written at run time, so instances never interfere;
//  - per-thread scratch (the packed B panels) comes in as an argument.
// Every kernel mirrors the js reference in src/backend/js.ts, which is its test oracle.

import {
  JOB_CODE, JOB_CHUNK, JOB_GEMM_ROWS, JOB_GEMM_COLUMNS, JOB_GEMM_K, JOB_IM2ROW, JOB_ROW2IM, JOB_MAX_POOL_FORWARD,
  JOB_MAX_POOL_BACKWARD, JOB_TRANSPOSE021, JOB_RELU_FORWARD, JOB_RELU_BACKWARD, JOB_ADD_BIAS, JOB_ADAM_UPDATE,
  JOB_SIGMOID_FORWARD, JOB_SIGMOID_BACKWARD, JOB_TANH_FORWARD, JOB_TANH_BACKWARD, JOB_MUL, JOB_AVG_POOL_FORWARD,
  JOB_AVG_POOL_BACKWARD, JOB_LRN_FORWARD, JOB_LRN_BACKWARD, JOB_FUSED_FIRST, JOB_FUSED_LAST,
  GEMM_TRANS_A, GEMM_TRANS_B, GEMM_M, GEMM_N, GEMM_K, GEMM_ALPHA, GEMM_A, GEMM_B, GEMM_C, GEMM_OVERWRITE, GEMM_PARTS,
  SPLIT_TOTAL, SPLIT_POINTER, SPLIT_STRIDE, SPLIT_PARTS, SPLIT_PART_LENGTH, SPLIT_ARGS,
} from '../src/backend/wasm/abi';
import {
  sigmoidForward, sigmoidBackward, tanhForward, tanhBackward, mul, avgPoolForward, avgPoolBackward, lrnForward, lrnBackward,
  maxPool3x3s2, maxPoolBackward3x3s2,
} from './zoo';
import { convChunk, CONV_BYTES } from './conv';
// the convolution without a materialised im2row (implicit GEMM) lives in conv.ts
export { convForward, convBackwardFilter, convBackwardData } from './conv';
import { runFused, reluOut } from './fused';
// the fused kernels (ReLU + max pooling) live in fused.ts
export { reluMaxPoolForward, reluMaxPoolBackward } from './fused';
// the model-zoo kernels (sigmoid, tanh, average pooling, LRN, dropout's mul, batch norm) live in zoo.ts
export {
  expf32, sigmoidForward, sigmoidBackward, tanhForward, tanhBackward, mul, avgPoolForward, avgPoolBackward,
  lrnForward, lrnBackward, batchNormForward, batchNormBackward,
} from './zoo';

// ---- GEMM ---------------------------------------------------------------------------------
// C = alpha * op(A) op(B) (+ C), computed in 4x8 tiles held in eight f32x4 registers (V8 leaves
// 15 vector registers; a 6x8 tile spills, measured slower). A is read in place with broadcast
// loads, so transA costs nothing; B is packed per K block into 8-wide panels, so transB and a
// ragged last panel (zero padded) cost nothing in the inner loop.

const KC: i32 = 64; // K block (balanced: ceil(K / ceil(K / 64))); measured here: 64-128 beat 256 (conv dW 3.2 -> 2.4 ms)
const NC: i32 = 256; // columns packed at once (a multiple of 8): pack buffer = KC*NC*4 = 64 KB
export const PACK_BYTES: i32 = KC * NC * 4;
export const SCRATCH_BYTES: i32 = KC * NC * 4 + 256 + CONV_BYTES; // pack buffer + a 32-float tile + the conv's direct path (conv.ts)

/** c + a * b, fused where relaxed SIMD is on (shared with conv.ts). */
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

// Pack op(B)[kb:kb+kc, jc:jc+nc] into panels of 8 columns: panel p holds kc rows of 8 floats.
// sBk, sBj: element strides of op(B)'s k and j in B's storage.
function packB(B: usize, sBk: i32, sBj: i32, kb: i32, kc: i32, jc: i32, nc: i32, pack: usize): void {
  for (let p = 0; p < nc; p += 8) {
    const w = min(8, nc - p);
    let dst = pack + <usize>(p * kc) * 4;
    if (sBj == 1 && w == 8) {
      let src = B + <usize>(kb * sBk + jc + p) * 4;
      for (let k = 0; k < kc; k++) {
        v128.store(dst, v128.load(src));
        v128.store(dst, v128.load(src, 16), 16);
        src += <usize>sBk * 4;
        dst += 32;
      }
    } else if (sBj == 1) {
      for (let k = 0; k < kc; k++) {
        const src = B + <usize>((kb + k) * sBk + jc + p) * 4;
        for (let j = 0; j < 8; j++) store<f32>(dst + (<usize>j << 2), j < w ? load<f32>(src + (<usize>j << 2)) : 0);
        dst += 32;
      }
    } else {
      // transposed B: each column is contiguous along k; write it down the panel
      for (let j = 0; j < 8; j++) {
        let d = dst + (<usize>j << 2);
        if (j < w) {
          let src = B + <usize>((jc + p + j) * sBj + kb * sBk) * 4;
          for (let k = 0; k < kc; k++) {
            store<f32>(d, load<f32>(src));
            src += 4;
            d += 32;
          }
        } else {
          for (let k = 0; k < kc; k++) {
            store<f32>(d, 0);
            d += 32;
          }
        }
      }
    }
  }
}

// One 4x8 tile: C[4 rows, w cols] (+)= alpha * A(4 x kc) . panel(kc x 8).
// pa: &op(A)[i, kb]; sAi, sAk: byte strides; pc: &C[i, j]; ldc: row stride of C in bytes.
@inline function tile4x8(pa: usize, sAi: usize, sAk: usize, pb: usize, sB: usize, kc: i32, pc: usize, ldc: usize, w: i32, alpha: f32, overwrite: bool, tmp: usize): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  const s2 = sAi + sAi, s3 = s2 + sAi;
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let a = v128.load32_splat(pa);
    c00 = madd(a, b0, c00); c01 = madd(a, b1, c01);
    a = v128.load32_splat(pa + sAi);
    c10 = madd(a, b0, c10); c11 = madd(a, b1, c11);
    a = v128.load32_splat(pa + s2);
    c20 = madd(a, b0, c20); c21 = madd(a, b1, c21);
    a = v128.load32_splat(pa + s3);
    c30 = madd(a, b0, c30); c31 = madd(a, b1, c31);
    pa += sAk;
    pb += sB;
  }
  const al = f32x4.splat(alpha);
  c00 = f32x4.mul(c00, al); c01 = f32x4.mul(c01, al);
  c10 = f32x4.mul(c10, al); c11 = f32x4.mul(c11, al);
  c20 = f32x4.mul(c20, al); c21 = f32x4.mul(c21, al);
  c30 = f32x4.mul(c30, al); c31 = f32x4.mul(c31, al);
  storeTile4x8(c00, c01, c10, c11, c20, c21, c30, c31, pc, ldc, 4, w, !overwrite, tmp);
}

/** A 4x8 tile of sums to C (row stride ldc bytes): its first rows x w, stored or added (accumulate);
 *  the whole tile straight from the registers, a partial one through tmp (32 floats). Shared by
 *  the GEMM and the convolution (conv.ts). */
@inline export function storeTile4x8(c00: v128, c01: v128, c10: v128, c11: v128, c20: v128, c21: v128, c30: v128, c31: v128,
  pc: usize, ldc: usize, rows: i32, w: i32, accumulate: bool, tmp: usize): void {
  if (rows == 4 && w == 8) {
    if (!accumulate) {
      v128.store(pc, c00); v128.store(pc, c01, 16); pc += ldc;
      v128.store(pc, c10); v128.store(pc, c11, 16); pc += ldc;
      v128.store(pc, c20); v128.store(pc, c21, 16); pc += ldc;
      v128.store(pc, c30); v128.store(pc, c31, 16);
    } else {
      v128.store(pc, f32x4.add(v128.load(pc), c00)); v128.store(pc, f32x4.add(v128.load(pc, 16), c01), 16); pc += ldc;
      v128.store(pc, f32x4.add(v128.load(pc), c10)); v128.store(pc, f32x4.add(v128.load(pc, 16), c11), 16); pc += ldc;
      v128.store(pc, f32x4.add(v128.load(pc), c20)); v128.store(pc, f32x4.add(v128.load(pc, 16), c21), 16); pc += ldc;
      v128.store(pc, f32x4.add(v128.load(pc), c30)); v128.store(pc, f32x4.add(v128.load(pc, 16), c31), 16);
    }
  } else {
    v128.store(tmp, c00); v128.store(tmp, c01, 16);
    v128.store(tmp, c10, 32); v128.store(tmp, c11, 48);
    v128.store(tmp, c20, 64); v128.store(tmp, c21, 80);
    v128.store(tmp, c30, 96); v128.store(tmp, c31, 112);
    for (let r = 0; r < rows; r++) {
      const row = pc + <usize>r * ldc;
      const t = tmp + (<usize>r << 5);
      for (let j = 0; j < w; j++) {
        const v = load<f32>(t + (<usize>j << 2));
        const q = row + (<usize>j << 2);
        store<f32>(q, accumulate ? load<f32>(q) + v : v);
      }
    }
  }
}

// One row against a panel: C[1 row, w cols] (+)= alpha * A(1 x kc) . panel(kc x 8).
@inline function tile1x8(pa: usize, sAk: usize, pb: usize, sB: usize, kc: i32, pc: usize, w: i32, alpha: f32, overwrite: bool, tmp: usize): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0);
  for (let k = 0; k < kc; k++) {
    const a = v128.load32_splat(pa);
    c0 = madd(a, v128.load(pb), c0);
    c1 = madd(a, v128.load(pb, 16), c1);
    pa += sAk;
    pb += sB;
  }
  const al = f32x4.splat(alpha);
  c0 = f32x4.mul(c0, al);
  c1 = f32x4.mul(c1, al);
  if (w == 8) {
    if (overwrite) {
      v128.store(pc, c0); v128.store(pc, c1, 16);
    } else {
      v128.store(pc, f32x4.add(v128.load(pc), c0)); v128.store(pc, f32x4.add(v128.load(pc, 16), c1), 16);
    }
  } else {
    v128.store(tmp, c0); v128.store(tmp, c1, 16);
    for (let j = 0; j < w; j++) {
      const v = load<f32>(tmp + (<usize>j << 2));
      const q = pc + (<usize>j << 2);
      store<f32>(q, overwrite ? v : load<f32>(q) + v);
    }
  }
}

/** C[i0:i1, j0:j1] (+)= alpha * op(A)[i0:i1, k0:k1] . op(B)[k0:k1, j0:j1]; C has row stride N.
 *  overwrite: the first K block stores instead of adding (beta = 0: C is never read, so stale
 *  NaNs in a reused buffer cannot leak in). scratch: this thread's SCRATCH_BYTES. */
export function gemmBlock(
  transA: i32, transB: i32, M: i32, N: i32, K: i32, alpha: f32, A: usize, B: usize, C: usize,
  overwrite: i32, scratch: usize, i0: i32, i1: i32, j0: i32, j1: i32, k0: i32, k1: i32,
): void {
  const kLen = k1 - k0;
  if (kLen <= 0 || i1 <= i0 || j1 <= j0) return;
  const sAi: usize = (transA ? 1 : <usize>K) * 4;
  const sAk: usize = (transA ? <usize>M : 1) * 4;
  const sBk = transB ? 1 : N;
  const sBj = transB ? K : 1;
  const blocks = (kLen + KC - 1) / KC;
  const kc = (kLen + blocks - 1) / blocks;
  const ldc: usize = <usize>N * 4;
  const pack = scratch;
  const tmp = scratch + <usize>PACK_BYTES;
  for (let jc = j0; jc < j1; jc += NC) {
    const nc = min(NC, j1 - jc);
    for (let kb = k0; kb < k1; kb += kc) {
      const kcur = min(kc, k1 - kb);
      // Row-major B (sBj = 1) is read in place for full 8-wide panels: its rows are already
      // contiguous, and packing a tall B (conv dW: 57600 x 25) costs a third of the product.
      // Only transposed B and the ragged last panel are packed.
      const direct = sBj == 1;
      const full = direct ? (nc & ~7) : 0;
      if (direct) {
        if (full < nc) packB(B, sBk, sBj, kb, kcur, jc + full, nc - full, pack);
      } else packB(B, sBk, sBj, kb, kcur, jc, nc, pack);
      const sBdirect: usize = <usize>sBk * 4;
      const ow = overwrite != 0 && kb == k0;
      let i = i0;
      for (; i + 4 <= i1; i += 4) {
        const pa = A + <usize>i * sAi + <usize>kb * sAk;
        for (let p = 0; p < nc; p += 8) {
          const pc = C + <usize>i * ldc + (<usize>(jc + p) << 2);
          if (p < full) tile4x8(pa, sAi, sAk, B + <usize>(kb * sBk + jc + p) * 4, sBdirect, kcur, pc, ldc, 8, alpha, ow, tmp);
          else tile4x8(pa, sAi, sAk, pack + <usize>((p - full) * kcur) * 4, 32, kcur, pc, ldc, min(8, nc - p), alpha, ow, tmp);
        }
      }
      for (; i < i1; i++) {
        const pa = A + <usize>i * sAi + <usize>kb * sAk;
        for (let p = 0; p < nc; p += 8) {
          const pc = C + <usize>i * ldc + (<usize>(jc + p) << 2);
          if (p < full) tile1x8(pa, sAk, B + <usize>(kb * sBk + jc + p) * 4, sBdirect, kcur, pc, 8, alpha, ow, tmp);
          else tile1x8(pa, sAk, pack + <usize>((p - full) * kcur) * 4, 32, kcur, pc, min(8, nc - p), alpha, ow, tmp);
        }
      }
    }
  }
}

/** C *= beta over n values (beta = 0 writes zeros, so NaNs in C do not survive). */
export function scale(C: usize, n: i32, beta: f32): void {
  if (beta == 1) return;
  let i = 0;
  if (beta == 0) {
    for (; i + 4 <= n; i += 4) v128.store(C + (<usize>i << 2), f32x4.splat(0));
    for (; i < n; i++) store<f32>(C + (<usize>i << 2), 0);
    return;
  }
  const b = f32x4.splat(beta);
  for (; i + 4 <= n; i += 4) {
    const q = C + (<usize>i << 2);
    v128.store(q, f32x4.mul(v128.load(q), b));
  }
  for (; i < n; i++) {
    const q = C + (<usize>i << 2);
    store<f32>(q, load<f32>(q) * beta);
  }
}

/** C = beta*C + sum of `parts` partial products of n values each (the K-split reduction). */
export function sumParts(C: usize, parts: usize, count: i32, n: i32, beta: f32): void {
  const stride = <usize>n * 4;
  const b = f32x4.splat(beta);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const off = <usize>i << 2;
    let acc = beta == 0 ? f32x4.splat(0) : f32x4.mul(v128.load(C + off), b);
    let q = parts + off;
    for (let c = 0; c < count; c++) {
      acc = f32x4.add(acc, v128.load(q));
      q += stride;
    }
    v128.store(C + off, acc);
  }
  for (; i < n; i++) {
    const off = <usize>i << 2;
    let acc: f32 = beta == 0 ? 0 : load<f32>(C + off) * beta;
    for (let c = 0; c < count; c++) acc += load<f32>(parts + <usize>c * stride + off);
    store<f32>(C + off, acc);
  }
}

// ---- parallel jobs ------------------------------------------------------------------------
// A job is a small record in shared memory (JOB_WORDS i32 words; codes and word offsets in
// src/backend/wasm/abi.ts, shared with the TypeScript side); every participant (the calling
// thread and the pool's workers) claims chunk indices with an atomic counter and calls
// runChunk, so a slow core simply takes fewer chunks. Which ops split, along which dimension
// and with which operands is declared in the kernel table (src/backend/wasm/wasm-backend.ts);
// this side only offsets the operands (pointer + start * bytes per unit) and passes the
// record's arguments on.

@inline function word(job: usize, w: i32): i32 {
  return load<i32>(job + (<usize>w << 2));
}
@inline function wordF(job: usize, w: i32): f32 {
  return load<f32>(job + (<usize>w << 2));
}
@inline function arg(job: usize, i: i32): i32 {
  return word(job, SPLIT_ARGS + i);
}

export function runChunk(job: usize, c: i32, scratch: usize): void {
  const code = word(job, JOB_CODE);
  const size = word(job, JOB_CHUNK);
  const start = c * size;
  if (code == JOB_GEMM_ROWS || code == JOB_GEMM_COLUMNS || code == JOB_GEMM_K) {
    const transA = word(job, GEMM_TRANS_A), transB = word(job, GEMM_TRANS_B);
    const M = word(job, GEMM_M), N = word(job, GEMM_N), K = word(job, GEMM_K);
    const alpha = wordF(job, GEMM_ALPHA);
    const A = <usize><u32>word(job, GEMM_A), B = <usize><u32>word(job, GEMM_B), C = <usize><u32>word(job, GEMM_C);
    const overwrite = word(job, GEMM_OVERWRITE);
    if (code == JOB_GEMM_ROWS) {
      gemmBlock(transA, transB, M, N, K, alpha, A, B, C, overwrite, scratch, start, min(M, start + size), 0, N, 0, K);
    } else if (code == JOB_GEMM_COLUMNS) {
      gemmBlock(transA, transB, M, N, K, alpha, A, B, C, overwrite, scratch, 0, M, start, min(N, start + size), 0, K);
    } else {
      const part = <usize><u32>word(job, GEMM_PARTS) + <usize>c * <usize>(M * N) * 4;
      gemmBlock(transA, transB, M, N, K, alpha, A, B, part, 1, scratch, 0, M, 0, N, start, min(K, start + size));
    }
    return;
  }
  const total = word(job, SPLIT_TOTAL);
  const end = min(total, start + size);
  if (end <= start) return;
  const count = end - start;
  const p0 = <usize><u32>word(job, SPLIT_POINTER) + <usize>start * <usize><u32>word(job, SPLIT_STRIDE);
  const p1 = <usize><u32>word(job, SPLIT_POINTER + 1) + <usize>start * <usize><u32>word(job, SPLIT_STRIDE + 1);
  const p2 = <usize><u32>word(job, SPLIT_POINTER + 2) + <usize>start * <usize><u32>word(job, SPLIT_STRIDE + 2);
  const p3 = <usize><u32>word(job, SPLIT_POINTER + 3) + <usize>start * <usize><u32>word(job, SPLIT_STRIDE + 3);
  const p4 = <usize><u32>word(job, SPLIT_POINTER + 4) + <usize>start * <usize><u32>word(job, SPLIT_STRIDE + 4);
  const parts = <usize><u32>word(job, SPLIT_PARTS);
  const partLength = word(job, SPLIT_PART_LENGTH);
  // a reduced output: this chunk's own partial, zeroed (chunks run on any thread)
  const part: usize = parts == 0 ? 0 : parts + <usize>c * <usize>partLength * 4;
  if (part != 0) scale(part, partLength, 0);
  if (code == JOB_IM2ROW) {
    im2row(p0, count, arg(job, 0), arg(job, 1), arg(job, 2), arg(job, 3), arg(job, 4), arg(job, 5), arg(job, 6), arg(job, 7), arg(job, 8), p1);
  } else if (code == JOB_ROW2IM) {
    row2im(p0, count, arg(job, 0), arg(job, 1), arg(job, 2), arg(job, 3), arg(job, 4), arg(job, 5), arg(job, 6), arg(job, 7), arg(job, 8), p1);
  } else if (code == JOB_MAX_POOL_FORWARD) {
    // split by (n, c) planes: each chunk is `count` images of one channel
    maxPoolForward(p0, count, 1, arg(job, 0), arg(job, 1), arg(job, 2), arg(job, 3), arg(job, 4), arg(job, 5), arg(job, 6), arg(job, 7), p1, p2);
  } else if (code == JOB_MAX_POOL_BACKWARD) {
    maxPoolBackward(p0, p1, count, 1, arg(job, 0), arg(job, 1), arg(job, 2), arg(job, 3), arg(job, 4), arg(job, 5), arg(job, 6), arg(job, 7), p2);
  } else if (code == JOB_TRANSPOSE021) {
    transpose021(p0, count, arg(job, 0), arg(job, 1), p1, p2, part);
  } else if (code == JOB_RELU_FORWARD) {
    reluForward(p0, p1, p2, count);
  } else if (code == JOB_RELU_BACKWARD) {
    reluBackward(p0, p1, p2, count);
  } else if (code == JOB_ADD_BIAS) {
    addBias(p0, p1, count, arg(job, 0), p2);
  } else if (code == JOB_ADAM_UPDATE) {
    adamUpdate(p0, p1, p2, p3, count, wordF(job, SPLIT_ARGS), wordF(job, SPLIT_ARGS + 1), wordF(job, SPLIT_ARGS + 2), wordF(job, SPLIT_ARGS + 3));
  } else if (code == JOB_SIGMOID_FORWARD) {
    sigmoidForward(p0, p1, count);
  } else if (code == JOB_SIGMOID_BACKWARD) {
    sigmoidBackward(p0, p1, p2, count);
  } else if (code == JOB_TANH_FORWARD) {
    tanhForward(p0, p1, count);
  } else if (code == JOB_TANH_BACKWARD) {
    tanhBackward(p0, p1, p2, count);
  } else if (code == JOB_MUL) {
    mul(p0, p1, p2, count);
  } else if (code == JOB_AVG_POOL_FORWARD) {
    // split by (n, c) planes: each chunk is `count` images of one channel
    avgPoolForward(p0, count, 1, arg(job, 0), arg(job, 1), arg(job, 2), arg(job, 3), arg(job, 4), arg(job, 5), arg(job, 6), arg(job, 7), p1);
  } else if (code == JOB_AVG_POOL_BACKWARD) {
    avgPoolBackward(p0, count, 1, arg(job, 0), arg(job, 1), arg(job, 2), arg(job, 3), arg(job, 4), arg(job, 5), arg(job, 6), arg(job, 7), p1);
  } else if (code == JOB_LRN_FORWARD) {
    // by samples: ints C, S, size; floats k, alpha, beta
    lrnForward(p0, count, arg(job, 0), arg(job, 1), arg(job, 2), wordF(job, SPLIT_ARGS + 3), wordF(job, SPLIT_ARGS + 4), wordF(job, SPLIT_ARGS + 5), p1, p2);
  } else if (code == JOB_LRN_BACKWARD) {
    // by samples: ints C, S, size; floats alpha, beta
    lrnBackward(p0, p1, p2, count, arg(job, 0), arg(job, 1), arg(job, 2), wordF(job, SPLIT_ARGS + 3), wordF(job, SPLIT_ARGS + 4), p3, scratch);
  } else if (code >= 30 && code < 50) {
    convChunk(code, start, end, p0, p1, p2, p3, p4, job + (<usize>SPLIT_ARGS << 2), scratch); // conv.ts
  } else if (code >= JOB_FUSED_FIRST && code <= JOB_FUSED_LAST) {
    runFused(job, code, count, p0, p1, p2, p3, scratch);
  } else {
    unreachable(); // a job code this build does not know: the caller turns the trap into an error
  }
}

// ---- windows: im2row / row2im / max pooling ------------------------------------------------
// Geometry is passed as plain integers: N, C, H, W, FH, FW, stride, pad, OH, OW.

/** x: (N, C, H, W) -> out: (N*OH*OW, C*FH*FW), zero padding (the book's im2col layout). */
export function im2row(x: usize, N: i32, C: i32, H: i32, W: i32, FH: i32, FW: i32, stride: i32, pad: i32, OH: i32, OW: i32, out: usize): void {
  let q = out;
  for (let n = 0; n < N; n++) {
    for (let oy = 0; oy < OH; oy++) {
      for (let ox = 0; ox < OW; ox++) {
        const x0 = ox * stride - pad;
        const inside = x0 >= 0 && x0 + FW <= W;
        for (let c = 0; c < C; c++) {
          const plane = x + <usize>((n * C + c) * H * W) * 4;
          for (let ky = 0; ky < FH; ky++) {
            const y = oy * stride + ky - pad;
            if (y < 0 || y >= H) {
              for (let kx = 0; kx < FW; kx++) store<f32>(q + (<usize>kx << 2), 0);
            } else {
              const src = plane + <usize>(y * W) * 4;
              if (inside) {
                const from = src + (<usize>x0 << 2);
                let kx = 0;
                for (; kx + 4 <= FW; kx += 4) v128.store(q + (<usize>kx << 2), v128.load(from + (<usize>kx << 2)));
                for (; kx < FW; kx++) store<f32>(q + (<usize>kx << 2), load<f32>(from + (<usize>kx << 2)));
              } else {
                for (let kx = 0; kx < FW; kx++) {
                  const xx = x0 + kx;
                  store<f32>(q + (<usize>kx << 2), xx >= 0 && xx < W ? load<f32>(src + (<usize>xx << 2)) : 0);
                }
              }
            }
            q += <usize>FW * 4;
          }
        }
      }
    }
  }
}

/** row: (N*OH*OW, C*FH*FW) -> out: (N, C, H, W), overlapping windows summed (im2row's adjoint). */
export function row2im(row: usize, N: i32, C: i32, H: i32, W: i32, FH: i32, FW: i32, stride: i32, pad: i32, OH: i32, OW: i32, out: usize): void {
  scale(out, N * C * H * W, 0);
  let q = row;
  for (let n = 0; n < N; n++) {
    for (let oy = 0; oy < OH; oy++) {
      for (let ox = 0; ox < OW; ox++) {
        const x0 = ox * stride - pad;
        for (let c = 0; c < C; c++) {
          const plane = out + <usize>((n * C + c) * H * W) * 4;
          for (let ky = 0; ky < FH; ky++) {
            const y = oy * stride + ky - pad;
            if (y >= 0 && y < H) {
              const dst = plane + <usize>(y * W) * 4;
              for (let kx = 0; kx < FW; kx++) {
                const xx = x0 + kx;
                if (xx >= 0 && xx < W) {
                  const d = dst + (<usize>xx << 2);
                  store<f32>(d, load<f32>(d) + load<f32>(q + (<usize>kx << 2)));
                }
              }
            }
            q += <usize>FW * 4;
          }
        }
      }
    }
  }
}

/** x: (N, C, H, W) -> out: (N, C, OH, OW) window maxima, argMax = ky*FW + kx of the first
 *  maximum; padding cells never win; the first NaN wins (as the js reference). */
export function maxPoolForward(x: usize, N: i32, C: i32, H: i32, W: i32, FH: i32, FW: i32, stride: i32, pad: i32, OH: i32, OW: i32, out: usize, argMax: usize): void {
  if (FH == 2 && FW == 2 && stride == 2 && pad == 0) {
    maxPool2x2(x, N * C, H, W, OH, OW, out, argMax, false);
    return;
  }
  if (FH == 3 && FW == 3 && stride == 2 && pad == 0) {
    maxPool3x3s2(x, N * C, H, W, OH, OW, out, argMax); // AlexNet's pools (zoo.ts)
    return;
  }
  let o: usize = 0;
  const planes = N * C;
  for (let p = 0; p < planes; p++) {
    const plane = x + <usize>(p * H * W) * 4;
    for (let oy = 0; oy < OH; oy++) {
      for (let ox = 0; ox < OW; ox++) {
        let best: f32 = -Infinity;
        let bestIndex = -1;
        for (let ky = 0; ky < FH; ky++) {
          const y = oy * stride + ky - pad;
          if (y < 0 || y >= H) continue;
          for (let kx = 0; kx < FW; kx++) {
            const xx = ox * stride + kx - pad;
            if (xx < 0 || xx >= W) continue;
            const v = load<f32>(plane + <usize>(y * W + xx) * 4);
            if (bestIndex < 0 || v > best || (v != v && best == best)) {
              best = v;
              bestIndex = ky * FW + kx;
            }
          }
        }
        store<f32>(out + (o << 2), best);
        store<i32>(argMax + (o << 2), bestIndex);
        o++;
      }
    }
  }
}

// The book's pooling (2x2, stride 2, no padding), four outputs per step: the two input rows
// are split into even and odd columns, and the four window positions compared in order with
// the reference's rule (a strictly greater value, or the first NaN, takes over).
@inline function takeOver(v: v128, best: v128): v128 {
  return v128.or(f32x4.gt(v, best), v128.and(f32x4.ne(v, v), f32x4.eq(best, best)));
}

/** clip (fused.ts's ReLU + max pooling): the maximum goes through the ReLU, +0 with argmax -1
 *  where it is <= 0 (NaN kept). Inlined, so a constant clip leaves each caller its own loop. */
@inline export function maxPool2x2(x: usize, planes: i32, H: i32, W: i32, OH: i32, OW: i32, out: usize, argMax: usize, clip: bool): void {
  let o: usize = 0;
  const zero = f32x4.splat(0);
  const one = i32x4.splat(1), two = i32x4.splat(2), three = i32x4.splat(3);
  for (let p = 0; p < planes; p++) {
    const plane = x + <usize>(p * H * W) * 4;
    for (let oy = 0; oy < OH; oy++) {
      const r0 = plane + <usize>(2 * oy * W) * 4;
      const r1 = r0 + <usize>W * 4;
      let ox = 0;
      for (; ox + 4 <= OW; ox += 4) {
        const off = <usize>ox << 3;
        const a0 = v128.load(r0 + off), a1 = v128.load(r0 + off, 16);
        const b0 = v128.load(r1 + off), b1 = v128.load(r1 + off, 16);
        let best = v128.shuffle<f32>(a0, a1, 0, 2, 4, 6);
        let idx = i32x4.splat(0);
        let v = v128.shuffle<f32>(a0, a1, 1, 3, 5, 7);
        let t = takeOver(v, best);
        best = v128.bitselect(v, best, t); idx = v128.bitselect(one, idx, t);
        v = v128.shuffle<f32>(b0, b1, 0, 2, 4, 6);
        t = takeOver(v, best);
        best = v128.bitselect(v, best, t); idx = v128.bitselect(two, idx, t);
        v = v128.shuffle<f32>(b0, b1, 1, 3, 5, 7);
        t = takeOver(v, best);
        best = v128.bitselect(v, best, t); idx = v128.bitselect(three, idx, t);
        if (clip) {
          const cut = f32x4.le(best, zero);
          best = v128.andnot(best, cut);
          idx = v128.or(idx, cut);
        }
        v128.store(out + (o << 2), best);
        v128.store(argMax + (o << 2), idx);
        o += 4;
      }
      for (; ox < OW; ox++) {
        const q0 = r0 + (<usize>ox << 3), q1 = r1 + (<usize>ox << 3);
        let best = load<f32>(q0);
        let bi = 0;
        let v = load<f32>(q0, 4);
        if (v > best || (v != v && best == best)) { best = v; bi = 1; }
        v = load<f32>(q1);
        if (v > best || (v != v && best == best)) { best = v; bi = 2; }
        v = load<f32>(q1, 4);
        if (v > best || (v != v && best == best)) { best = v; bi = 3; }
        if (clip && best <= 0) { best = 0; bi = -1; }
        store<f32>(out + (o << 2), best);
        store<i32>(argMax + (o << 2), bi);
        o++;
      }
    }
  }
}

// The 2x2 / stride 2 backward writes every input cell once (windows do not overlap): each
// window's four cells get dout where the argmax points and 0 elsewhere, four windows per step;
// a trailing odd row / column (in no window) is zeroed. No separate zero fill, no scatter.

function maxPoolBackward2x2(dout: usize, argMax: usize, planes: i32, H: i32, W: i32, OH: i32, OW: i32, dx: usize): void {
  let o: usize = 0;
  const zero = f32x4.splat(0);
  const i0 = i32x4.splat(0), i1 = i32x4.splat(1), i2 = i32x4.splat(2), i3 = i32x4.splat(3);
  for (let p = 0; p < planes; p++) {
    const plane = dx + <usize>(p * H * W) * 4;
    for (let oy = 0; oy < OH; oy++) {
      const r0 = plane + <usize>(2 * oy * W) * 4;
      const r1 = r0 + <usize>W * 4;
      let ox = 0;
      for (; ox + 4 <= OW; ox += 4) {
        const d = v128.load(dout + (o << 2));
        const a = v128.load(argMax + (o << 2));
        const e0 = v128.and(d, i32x4.eq(a, i0)), o0 = v128.and(d, i32x4.eq(a, i1));
        const e1 = v128.and(d, i32x4.eq(a, i2)), o1 = v128.and(d, i32x4.eq(a, i3));
        const off = <usize>ox << 3;
        v128.store(r0 + off, v128.shuffle<f32>(e0, o0, 0, 4, 1, 5));
        v128.store(r0 + off, v128.shuffle<f32>(e0, o0, 2, 6, 3, 7), 16);
        v128.store(r1 + off, v128.shuffle<f32>(e1, o1, 0, 4, 1, 5));
        v128.store(r1 + off, v128.shuffle<f32>(e1, o1, 2, 6, 3, 7), 16);
        o += 4;
      }
      for (; ox < OW; ox++) {
        const d = load<f32>(dout + (o << 2));
        const a = load<i32>(argMax + (o << 2));
        const q0 = r0 + (<usize>ox << 3), q1 = r1 + (<usize>ox << 3);
        store<f32>(q0, a == 0 ? d : 0);
        store<f32>(q0, a == 1 ? d : 0, 4);
        store<f32>(q1, a == 2 ? d : 0);
        store<f32>(q1, a == 3 ? d : 0, 4);
        o++;
      }
      // an odd width leaves a last column in no window
      for (let xx = 2 * OW; xx < W; xx++) {
        store<f32>(r0 + (<usize>xx << 2), 0);
        store<f32>(r1 + (<usize>xx << 2), 0);
      }
    }
    // an odd height leaves last rows in no window
    for (let y = 2 * OH; y < H; y++) {
      const r = plane + <usize>(y * W) * 4;
      let xx = 0;
      for (; xx + 4 <= W; xx += 4) v128.store(r + (<usize>xx << 2), zero);
      for (; xx < W; xx++) store<f32>(r + (<usize>xx << 2), 0);
    }
  }
}

/** dout: (N, C, OH, OW) -> dx: (N, C, H, W), each gradient added at its window's argmax. */
export function maxPoolBackward(dout: usize, argMax: usize, N: i32, C: i32, H: i32, W: i32, FH: i32, FW: i32, stride: i32, pad: i32, OH: i32, OW: i32, dx: usize): void {
  if (FH == 2 && FW == 2 && stride == 2 && pad == 0) {
    maxPoolBackward2x2(dout, argMax, N * C, H, W, OH, OW, dx);
    return;
  }
  if (FH == 3 && FW == 3 && stride == 2 && pad == 0) {
    maxPoolBackward3x3s2(dout, argMax, N * C, H, W, OH, OW, dx); // AlexNet's pools (zoo.ts)
    return;
  }
  scale(dx, N * C * H * W, 0);
  let o: usize = 0;
  const planes = N * C;
  for (let p = 0; p < planes; p++) {
    const plane = dx + <usize>(p * H * W) * 4;
    for (let oy = 0; oy < OH; oy++) {
      for (let ox = 0; ox < OW; ox++) {
        const a = load<i32>(argMax + (o << 2));
        if (a >= 0) {
          const y = oy * stride + a / FW - pad;
          const xx = ox * stride + a % FW - pad;
          const d = plane + <usize>(y * W + xx) * 4;
          store<f32>(d, load<f32>(d) + load<f32>(dout + (o << 2)));
        }
        o++;
      }
    }
  }
}

// ---- layout and elementwise -----------------------------------------------------------------

/** (A, B, C) -> (A, C, B) per leading block: 4x4 tiles transposed in registers.
 *  bias (0: none): out[i, k, j] = x[i, j, k] + bias[k] (the convolution's bias, on the way out).
 *  sums (0: none): also sums[j] += sum over i, k of x[i, j, k], accumulated, not cleared (the
 *  convolution's bias gradient, from the pass that moves dout). The pass is memory-bound, so the
 *  extra adds and the per-tile branches cost nothing measurable. */
export function transpose021(x: usize, a: i32, b: i32, c: i32, out: usize, bias: usize, sums: usize): void {
  const block = <usize>(b * c) * 4;
  const rowC = <usize>c * 4, rowB = <usize>b * 4;
  const zero = f32x4.splat(0);
  for (let i = 0; i < a; i++) {
    const src = x + <usize>i * block;
    const dst = out + <usize>i * block;
    let j = 0;
    for (; j + 4 <= b; j += 4) {
      const s = src + <usize>j * rowC;
      let a0 = zero, a1 = zero, a2 = zero, a3 = zero;
      let k = 0;
      for (; k + 4 <= c; k += 4) {
        const q = s + (<usize>k << 2);
        const r0 = v128.load(q), r1 = v128.load(q + rowC), r2 = v128.load(q + 2 * rowC), r3 = v128.load(q + 3 * rowC);
        if (sums != 0) {
          a0 = f32x4.add(a0, r0); a1 = f32x4.add(a1, r1); a2 = f32x4.add(a2, r2); a3 = f32x4.add(a3, r3);
        }
        const s0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5), s1 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5);
        const s2 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7), s3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
        let o0 = v128.shuffle<f32>(s0, s1, 0, 1, 4, 5), o1 = v128.shuffle<f32>(s0, s1, 2, 3, 6, 7);
        let o2 = v128.shuffle<f32>(s2, s3, 0, 1, 4, 5), o3 = v128.shuffle<f32>(s2, s3, 2, 3, 6, 7);
        if (bias != 0) {
          const bq = bias + (<usize>k << 2);
          o0 = f32x4.add(o0, v128.load32_splat(bq));
          o1 = f32x4.add(o1, v128.load32_splat(bq, 4));
          o2 = f32x4.add(o2, v128.load32_splat(bq, 8));
          o3 = f32x4.add(o3, v128.load32_splat(bq, 12));
        }
        const d = dst + <usize>k * rowB + (<usize>j << 2);
        v128.store(d, o0);
        v128.store(d + rowB, o1);
        v128.store(d + 2 * rowB, o2);
        v128.store(d + 3 * rowB, o3);
      }
      for (; k < c; k++) {
        const bk: f32 = bias != 0 ? load<f32>(bias + (<usize>k << 2)) : 0;
        for (let jj = j; jj < j + 4; jj++) {
          const v = load<f32>(src + <usize>(jj * c + k) * 4);
          store<f32>(dst + <usize>(k * b + jj) * 4, v + bk);
          if (sums != 0) store<f32>(sums + (<usize>jj << 2), load<f32>(sums + (<usize>jj << 2)) + v);
        }
      }
      if (sums != 0) {
        // lane sums of a0..a3 -> one vector: the totals of rows j .. j+3
        const t0 = f32x4.add(v128.shuffle<f32>(a0, a1, 0, 4, 1, 5), v128.shuffle<f32>(a0, a1, 2, 6, 3, 7));
        const t1 = f32x4.add(v128.shuffle<f32>(a2, a3, 0, 4, 1, 5), v128.shuffle<f32>(a2, a3, 2, 6, 3, 7));
        const sq = sums + (<usize>j << 2);
        v128.store(sq, f32x4.add(v128.load(sq), f32x4.add(v128.shuffle<f32>(t0, t1, 0, 1, 4, 5), v128.shuffle<f32>(t0, t1, 2, 3, 6, 7))));
      }
    }
    for (; j < b; j++) {
      let acc: f32 = 0;
      for (let k = 0; k < c; k++) {
        const v = load<f32>(src + <usize>(j * c + k) * 4);
        acc += v;
        store<f32>(dst + <usize>(k * b + j) * 4, bias != 0 ? v + load<f32>(bias + (<usize>k << 2)) : v);
      }
      if (sums != 0) store<f32>(sums + (<usize>j << 2), load<f32>(sums + (<usize>j << 2)) + acc);
    }
  }
}

/** out[i, j] = x[i, j] + bias[j]. */
export function addBias(x: usize, bias: usize, rows: i32, cols: i32, out: usize): void {
  for (let i = 0; i < rows; i++) {
    const r = <usize>(i * cols) * 4;
    let j = 0;
    for (; j + 4 <= cols; j += 4) {
      const off = <usize>j << 2;
      v128.store(out + r + off, f32x4.add(v128.load(x + r + off), v128.load(bias + off)));
    }
    for (; j < cols; j++) {
      const off = <usize>j << 2;
      store<f32>(out + r + off, load<f32>(x + r + off) + load<f32>(bias + off));
    }
  }
}

/** out[j] = sum_i x[i, j]. */
export function sumRows(x: usize, rows: i32, cols: i32, out: usize): void {
  scale(out, cols, 0);
  for (let i = 0; i < rows; i++) {
    const r = <usize>(i * cols) * 4;
    let j = 0;
    for (; j + 4 <= cols; j += 4) {
      const off = <usize>j << 2;
      v128.store(out + off, f32x4.add(v128.load(out + off), v128.load(x + r + off)));
    }
    for (; j < cols; j++) {
      const off = <usize>j << 2;
      store<f32>(out + off, load<f32>(out + off) + load<f32>(x + r + off));
    }
  }
}

/** out = max(x, 0), mask = 1 where x <= 0 (the book's mask); mask 0: out alone. */
export function reluForward(x: usize, out: usize, mask: usize, n: i32): void {
  if (mask == 0) return reluOut(x, out, n); // inference (fused.ts)
  let i = 0;
  const zero = f32x4.splat(0);
  const one = i8x16.splat(1);
  for (; i + 16 <= n; i += 16) {
    const off = <usize>i << 2;
    const v0 = v128.load(x + off), v1 = v128.load(x + off, 16), v2 = v128.load(x + off, 32), v3 = v128.load(x + off, 48);
    const m0 = f32x4.le(v0, zero), m1 = f32x4.le(v1, zero), m2 = f32x4.le(v2, zero), m3 = f32x4.le(v3, zero);
    v128.store(out + off, v128.andnot(v0, m0));
    v128.store(out + off, v128.andnot(v1, m1), 16);
    v128.store(out + off, v128.andnot(v2, m2), 32);
    v128.store(out + off, v128.andnot(v3, m3), 48);
    const bytes = i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(m0, m1), i16x8.narrow_i32x4_s(m2, m3));
    v128.store(mask + <usize>i, v128.and(bytes, one));
  }
  for (; i < n; i++) {
    const v = load<f32>(x + (<usize>i << 2));
    const off = v <= 0;
    store<u8>(mask + <usize>i, off ? 1 : 0);
    store<f32>(out + (<usize>i << 2), off ? 0 : v);
  }
}

/** dx = dout where mask is 0, else 0. */
export function reluBackward(dout: usize, mask: usize, dx: usize, n: i32): void {
  let i = 0;
  const zero = i32x4.splat(0);
  for (; i + 16 <= n; i += 16) {
    const off = <usize>i << 2;
    const m = v128.load(mask + <usize>i);
    const lo = i16x8.extend_low_i8x16_u(m), hi = i16x8.extend_high_i8x16_u(m);
    const k0 = i32x4.ne(i32x4.extend_low_i16x8_u(lo), zero);
    const k1 = i32x4.ne(i32x4.extend_high_i16x8_u(lo), zero);
    const k2 = i32x4.ne(i32x4.extend_low_i16x8_u(hi), zero);
    const k3 = i32x4.ne(i32x4.extend_high_i16x8_u(hi), zero);
    v128.store(dx + off, v128.andnot(v128.load(dout + off), k0));
    v128.store(dx + off, v128.andnot(v128.load(dout + off, 16), k1), 16);
    v128.store(dx + off, v128.andnot(v128.load(dout + off, 32), k2), 32);
    v128.store(dx + off, v128.andnot(v128.load(dout + off, 48), k3), 48);
  }
  for (; i < n; i++) store<f32>(dx + (<usize>i << 2), load<u8>(mask + <usize>i) ? 0 : load<f32>(dout + (<usize>i << 2)));
}

// ---- softmax and loss (small: rows x classes), in f64 like the js reference ------------------

export function softmax(x: usize, rows: i32, cols: i32, out: usize): void {
  for (let i = 0; i < rows; i++) {
    const r = <usize>(i * cols) * 4;
    let max: f64 = -Infinity;
    for (let j = 0; j < cols; j++) {
      const v = <f64>load<f32>(x + r + (<usize>j << 2));
      if (v > max) max = v;
    }
    let sum: f64 = 0;
    for (let j = 0; j < cols; j++) {
      const e = <f32>Math.exp(<f64>load<f32>(x + r + (<usize>j << 2)) - max);
      store<f32>(out + r + (<usize>j << 2), e);
      sum += <f64>e;
    }
    for (let j = 0; j < cols; j++) {
      const q = out + r + (<usize>j << 2);
      store<f32>(q, <f32>(<f64>load<f32>(q) / sum));
    }
  }
}

export function crossEntropy(y: usize, labels: usize, rows: i32, cols: i32): f64 {
  let sum: f64 = 0;
  for (let i = 0; i < rows; i++) {
    const t = load<i32>(labels + (<usize>i << 2));
    sum += Math.log(<f64>load<f32>(y + <usize>(i * cols + t) * 4) + 1e-7);
  }
  return -sum / <f64>rows;
}

export function softmaxCrossEntropyBackward(y: usize, labels: usize, rows: i32, cols: i32, dx: usize): void {
  for (let i = 0; i < rows; i++) {
    const t = load<i32>(labels + (<usize>i << 2));
    const r = <usize>(i * cols) * 4;
    for (let j = 0; j < cols; j++) {
      const v = <f64>load<f32>(y + r + (<usize>j << 2)) - (j == t ? 1.0 : 0.0);
      store<f32>(dx + r + (<usize>j << 2), <f32>(v / <f64>rows));
    }
  }
}

export function argmaxRows(x: usize, rows: i32, cols: i32, out: usize): void {
  for (let i = 0; i < rows; i++) {
    const r = x + <usize>(i * cols) * 4;
    let best = 0;
    let bv = load<f32>(r);
    for (let j = 1; j < cols; j++) {
      const v = load<f32>(r + (<usize>j << 2));
      if (v > bv) {
        best = j;
        bv = v;
      }
    }
    store<i32>(out + (<usize>i << 2), best);
  }
}

/** Index of the first NaN or infinity among n floats, or -1: the trainer's guard, run over every
 *  gradient every step. A float is not finite exactly when its exponent bits are all ones, so
 *  16 values are tested per step with integer compares and the exact index is searched for
 *  only in the block that has one. */
export function firstNonFinite(x: usize, n: i32): i32 {
  const e = i32x4.splat(0x7f800000);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const q = x + (<usize>i << 2);
    const m0 = i32x4.eq(v128.and(v128.load(q), e), e), m1 = i32x4.eq(v128.and(v128.load(q, 16), e), e);
    const m2 = i32x4.eq(v128.and(v128.load(q, 32), e), e), m3 = i32x4.eq(v128.and(v128.load(q, 48), e), e);
    if (v128.any_true(v128.or(v128.or(m0, m1), v128.or(m2, m3)))) break;
  }
  for (; i < n; i++) {
    if ((load<i32>(x + (<usize>i << 2)) & 0x7f800000) == 0x7f800000) return i;
  }
  return -1;
}

// ---- optimizer updates (fused: one pass over p, g and the state) ----------------------------

export function sgdUpdate(p: usize, g: usize, n: i32, lr: f32): void {
  let i = 0;
  const l = f32x4.splat(lr);
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(p + o, f32x4.sub(v128.load(p + o), f32x4.mul(l, v128.load(g + o))));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(p + o, load<f32>(p + o) - lr * load<f32>(g + o));
  }
}

export function momentumUpdate(p: usize, g: usize, v: usize, n: i32, lr: f32, momentum: f32): void {
  let i = 0;
  const l = f32x4.splat(lr), mo = f32x4.splat(momentum);
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const vv = f32x4.sub(f32x4.mul(mo, v128.load(v + o)), f32x4.mul(l, v128.load(g + o)));
    v128.store(v + o, vv);
    v128.store(p + o, f32x4.add(v128.load(p + o), vv));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const vv = momentum * load<f32>(v + o) - lr * load<f32>(g + o);
    store<f32>(v + o, vv);
    store<f32>(p + o, load<f32>(p + o) + vv);
  }
}

export function adagradUpdate(p: usize, g: usize, h: usize, n: i32, lr: f32, eps: f32): void {
  let i = 0;
  const l = f32x4.splat(lr), e = f32x4.splat(eps);
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const gg = v128.load(g + o);
    const hh = f32x4.add(v128.load(h + o), f32x4.mul(gg, gg));
    v128.store(h + o, hh);
    v128.store(p + o, f32x4.sub(v128.load(p + o), f32x4.div(f32x4.mul(l, gg), f32x4.add(f32x4.sqrt(hh), e))));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const gg = load<f32>(g + o);
    const hh = load<f32>(h + o) + gg * gg;
    store<f32>(h + o, hh);
    store<f32>(p + o, load<f32>(p + o) - (lr * gg) / (Mathf.sqrt(hh) + eps));
  }
}

export function adamUpdate(p: usize, g: usize, m: usize, v: usize, n: i32, lrT: f32, beta1: f32, beta2: f32, eps: f32): void {
  let i = 0;
  const l = f32x4.splat(lrT), e = f32x4.splat(eps);
  const a1 = f32x4.splat(1 - beta1), a2 = f32x4.splat(1 - beta2);
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const gg = v128.load(g + o);
    let mm = v128.load(m + o);
    let vv = v128.load(v + o);
    mm = f32x4.add(mm, f32x4.mul(a1, f32x4.sub(gg, mm)));
    vv = f32x4.add(vv, f32x4.mul(a2, f32x4.sub(f32x4.mul(gg, gg), vv)));
    v128.store(m + o, mm);
    v128.store(v + o, vv);
    v128.store(p + o, f32x4.sub(v128.load(p + o), f32x4.div(f32x4.mul(l, mm), f32x4.add(f32x4.sqrt(vv), e))));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const gg = load<f32>(g + o);
    let mm = load<f32>(m + o);
    let vv = load<f32>(v + o);
    mm += (1 - beta1) * (gg - mm);
    vv += (1 - beta2) * (gg * gg - vv);
    store<f32>(m + o, mm);
    store<f32>(v + o, vv);
    store<f32>(p + o, load<f32>(p + o) - (lrT * mm) / (Mathf.sqrt(vv) + eps));
  }
}
