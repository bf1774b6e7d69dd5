// Fused kernels: two layers' ops in one pass over the big tensor (issue 12). Each mirrors its
// js reference in src/backend/js.ts (the oracle, itself built from the unfused pieces);
// kernels.ts decodes their thread jobs (codes JOB_FUSED_FIRST..JOB_FUSED_LAST in abi.ts) through
// runFused. Same rules as kernels.ts: nothing allocates, no globals written, per-thread scratch
// comes in as an argument.

import { JOB_RELU_MAX_POOL_FORWARD, JOB_RELU_MAX_POOL_BACKWARD, SPLIT_ARGS } from '../src/backend/wasm/abi';
import { maxPoolForward, maxPoolBackward } from './kernels';

// ---- ReLU + max pooling ------------------------------------------------------------------------
// max commutes with the ReLU, so the window maxima of x are taken first (the unfused pooling
// kernels, SIMD for 2x2 and 3x3/2) and the pooled block clipped while it is still in L1: the conv
// output is read once, and neither the ReLU's output nor its mask is ever written. A window whose
// maximum is <= 0 gets argMax -1 (the ReLU cut it off), which the backward skips.

/** Outputs pooled per block before clipping (8 KB of out + 8 KB of argMax: L1-resident). */
const BLOCK_OUTPUTS: i32 = 2048;

/** out = max(out, 0) and argMax = -1 where out <= 0, over n pooled values. */
function clip(out: usize, argMax: usize, n: i32): void {
  const zero = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const off = <usize>i << 2;
    const v = v128.load(out + off);
    const m = f32x4.le(v, zero); // NaN: false, it propagates as through the ReLU
    v128.store(out + off, v128.andnot(v, m));
    v128.store(argMax + off, v128.or(v128.load(argMax + off), m)); // all ones = -1
  }
  for (; i < n; i++) {
    const off = <usize>i << 2;
    if (load<f32>(out + off) <= 0) {
      store<f32>(out + off, 0);
      store<i32>(argMax + off, -1);
    }
  }
}

/** x: (N, C, H, W) -> out: (N, C, OH, OW) = maxPool(max(x, 0)); argMax as maxPoolForward's but
 *  -1 where the ReLU cut the maximum off. argMax 0 (inference): each block's argmax goes to the
 *  thread's scratch (the caller keeps OH*OW within FUSED_SCRATCH_OUTPUTS). */
export function reluMaxPoolForward(x: usize, N: i32, C: i32, H: i32, W: i32, FH: i32, FW: i32, stride: i32, pad: i32, OH: i32, OW: i32, out: usize, argMax: usize, scratch: usize): void {
  const planes = N * C;
  const per = OH * OW;
  if (per == 0) return;
  const block = max(1, BLOCK_OUTPUTS / per);
  for (let p = 0; p < planes; p += block) {
    const nb = min(block, planes - p);
    const o = <usize>(p * per) << 2;
    const am = argMax != 0 ? argMax + o : scratch;
    maxPoolForward(x + (<usize>(p * H * W) << 2), nb, 1, H, W, FH, FW, stride, pad, OH, OW, out + o, am);
    clip(out + o, am, nb * per);
  }
}

/** dout: (N, C, OH, OW) -> dx: (N, C, H, W), the ReLU's input gradient: maxPoolBackward's
 *  routing, which writes nothing for argMax -1 (already ReLU-masked). */
export function reluMaxPoolBackward(dout: usize, argMax: usize, N: i32, C: i32, H: i32, W: i32, FH: i32, FW: i32, stride: i32, pad: i32, OH: i32, OW: i32, dx: usize): void {
  maxPoolBackward(dout, argMax, N, C, H, W, FH, FW, stride, pad, OH, OW, dx);
}

// ---- ReLU at inference: the output alone, no mask -----------------------------------------------

/** out = max(x, 0) (x <= 0 -> +0, NaN kept: the reference's rule), 16 floats per step. */
export function reluOut(x: usize, out: usize, n: i32): void {
  const zero = f32x4.splat(0);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const off = <usize>i << 2;
    const v0 = v128.load(x + off), v1 = v128.load(x + off, 16), v2 = v128.load(x + off, 32), v3 = v128.load(x + off, 48);
    v128.store(out + off, v128.andnot(v0, f32x4.le(v0, zero)));
    v128.store(out + off, v128.andnot(v1, f32x4.le(v1, zero)), 16);
    v128.store(out + off, v128.andnot(v2, f32x4.le(v2, zero)), 32);
    v128.store(out + off, v128.andnot(v3, f32x4.le(v3, zero)), 48);
  }
  for (; i < n; i++) {
    const v = load<f32>(x + (<usize>i << 2));
    store<f32>(out + (<usize>i << 2), v <= 0 ? 0 : v);
  }
}

// ---- thread jobs ----------------------------------------------------------------------------------

@inline function arg(job: usize, i: i32): i32 {
  return load<i32>(job + (<usize>(SPLIT_ARGS + i) << 2));
}

/** One chunk of a fused job (kernels.ts's runChunk hands codes 50-69 here, operands already
 *  offset to the chunk's first unit, `count` units). */
export function runFused(job: usize, code: i32, count: i32, p0: usize, p1: usize, p2: usize, p3: usize, scratch: usize): void {
  if (code == JOB_RELU_MAX_POOL_FORWARD) {
    // by (n, c) planes; ints H, W, FH, FW, stride, pad, OH, OW
    reluMaxPoolForward(p0, count, 1, arg(job, 0), arg(job, 1), arg(job, 2), arg(job, 3), arg(job, 4), arg(job, 5), arg(job, 6), arg(job, 7), p1, p2, scratch);
  } else if (code == JOB_RELU_MAX_POOL_BACKWARD) {
    reluMaxPoolBackward(p0, p1, count, 1, arg(job, 0), arg(job, 1), arg(job, 2), arg(job, 3), arg(job, 4), arg(job, 5), arg(job, 6), arg(job, 7), p2);
  } else {
    unreachable();
  }
}
