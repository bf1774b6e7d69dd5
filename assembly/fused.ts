// Fused kernels: two layers' ops in one pass over the big tensor (issue 12). Each mirrors its
// js reference in src/backend/js.ts (the oracle, itself built from the unfused pieces);
// kernels.ts decodes their thread jobs (codes JOB_FUSED_FIRST..JOB_FUSED_LAST in abi.ts) through
// runFused. Same rules as kernels.ts: nothing allocates, no globals written, per-thread scratch
// comes in as an argument.

import { JOB_RELU_MAX_POOL_FORWARD, JOB_RELU_MAX_POOL_BACKWARD, SPLIT_ARGS } from '../src/backend/wasm/abi';
import { maxPool2x2, maxPoolForward, maxPoolBackward } from './kernels';

// ---- ReLU + max pooling ------------------------------------------------------------------------
// max commutes with the ReLU, so the window maxima of x are taken first and then clipped: the
// conv output is read once, and neither the ReLU's output nor its mask is ever written. A window
// whose maximum is <= 0 gets argMax -1 (the ReLU cut it off), which the backward skips.
// The book's 2x2 / stride 2 windows have kernels of their own (the clip inline; at inference no
// argmax at all: 1.4-1.6x faster than with it, bench numbers in the commit); other windows run the
// unfused pooling kernel (SIMD for 3x3/2) per block of planes and clip the block while it is in L1.

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

/** The larger of a and b lane by lane, NaN from either side propagated (pmax is one
 *  instruction but keeps a when b is NaN; wasm's max costs ~6 in V8 for its -0 rule, which the
 *  ReLU's clip makes moot here). */
@inline function maxNaN(a: v128, b: v128): v128 {
  return v128.bitselect(b, f32x4.pmax(a, b), f32x4.ne(b, b));
}

/** Inference on the book's 2x2 / stride 2 windows: no argmax at all, only the maxima (four per
 *  step) clipped at 0 (x <= 0 -> +0, NaN kept: the reference's ReLU). */
function reluMaxPool2x2Infer(x: usize, planes: i32, H: i32, W: i32, OH: i32, OW: i32, out: usize): void {
  const zero = f32x4.splat(0);
  let o: usize = 0;
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
        const top = maxNaN(v128.shuffle<f32>(a0, a1, 0, 2, 4, 6), v128.shuffle<f32>(a0, a1, 1, 3, 5, 7));
        const bottom = maxNaN(v128.shuffle<f32>(b0, b1, 0, 2, 4, 6), v128.shuffle<f32>(b0, b1, 1, 3, 5, 7));
        const m = maxNaN(top, bottom);
        v128.store(out + (o << 2), v128.andnot(m, f32x4.le(m, zero)));
        o += 4;
      }
      for (; ox < OW; ox++) {
        const q0 = r0 + (<usize>ox << 3), q1 = r1 + (<usize>ox << 3);
        let best = load<f32>(q0);
        let v = load<f32>(q0, 4);
        if (v > best || (v != v && best == best)) best = v;
        v = load<f32>(q1);
        if (v > best || (v != v && best == best)) best = v;
        v = load<f32>(q1, 4);
        if (v > best || (v != v && best == best)) best = v;
        store<f32>(out + (o << 2), best <= 0 ? 0 : best);
        o++;
      }
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
  if (FH == 2 && FW == 2 && stride == 2 && pad == 0) {
    if (argMax == 0) reluMaxPool2x2Infer(x, planes, H, W, OH, OW, out);
    else maxPool2x2(x, planes, H, W, OH, OW, out, argMax, true); // the clip inlined (kernels.ts)
    return;
  }
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
