// WebAssembly SIMD kernels of the model-zoo layers: sigmoid and tanh (over a vectorised exp),
// average pooling, LRN, dropout's mask product and batch normalisation. Each mirrors its js
// reference in src/backend/js.ts (the test oracle); kernels.ts re-exports them and decodes
// their thread jobs. Same rules as kernels.ts: nothing allocates, no globals written, per-thread
// scratch comes in as an argument.
//
// Before these kernels the wasm backend ran the js loops over wasm memory (issue 12: on LeNet
// sigmoid and average pooling were most of the step besides the tiny products).

// ---- exp, sigmoid, tanh -------------------------------------------------------------------------
// exp(x) = 2^n * exp(r), n = round(x / ln 2), r = x - n ln 2 (Cody-Waite: ln 2 = C1 + C2 with C1
// of 9 significant bits, so n * C1 is exact for |n| <= 150), exp(r) on |r| <= ~ln2/2 by the
// degree-7 polynomial of Cephes' expf. 2^n is built from exponent bits in two halves (n1 + n2 = n,
// both normal powers), so subnormal results are rounded once, at the last multiply, and
// overflow becomes infinity there. Measured against Math.exp rounded to float32 on 2M points
// over [-104, 89] (test/kernels-zoo.test.ts): max 1 ulp in both builds. The FMA build fuses the
// rounding step and the polynomial's multiply-adds (kernels.ts's madd), so its bits may differ
// from the plain build's by that ulp. Speed of sigmoid (470400 floats, one thread): 1.35 ms with
// min/max + nearest + trunc_sat, ~0.95 with pmin/pmax and the shifter, ~0.66 with the fused
// multiply-adds and (sigmoid's exp(-|x|)) no upper clamp; unrolling two vectors per iteration
// gained nothing measurable.

import { madd } from './kernels';

const LOG2E: f32 = 1.44269504088896341;
const C1: f32 = 0.693359375;
const C2: f32 = -2.12194440e-4;
const SHIFTER: f32 = 12582912.0; // 1.5 * 2^23
const SHIFTER_BITS: i32 = 0x4b400000;

/** exp of four floats; exp(+-inf) = inf / 0, NaN stays NaN (min/max propagate it).
 *  nonPositive: the caller promises x <= 0 or NaN (sigmoid's exp(-|x|)), the upper clamp is skipped. */
@inline function exp4(x: v128, nonPositive: bool = false): v128 {
  // past 89 exp overflows, below -104 it rounds to 0: clamping keeps n in [-150, 128]
  // pmin/pmax (one instruction each; wasm's min/max cost ~6 in V8 for their NaN and -0 rules)
  // still return x when it is NaN: NaN < c and c < NaN are false
  const lo = f32x4.pmax(x, f32x4.splat(-104.0));
  const xc = nonPositive ? lo : f32x4.pmin(lo, f32x4.splat(89.0));
  // n = round(x log2 e) by the 1.5 * 2^23 shifter: the sum's low mantissa bits are n, so no
  // nearest / trunc_sat (both several instructions in V8) is needed
  const t = madd(xc, f32x4.splat(LOG2E), f32x4.splat(SHIFTER));
  const n = f32x4.sub(t, f32x4.splat(SHIFTER));
  let r = f32x4.sub(xc, f32x4.mul(n, f32x4.splat(C1)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(C2)));
  const z = f32x4.mul(r, r);
  let y = f32x4.splat(1.9875691500e-4);
  y = madd(y, r, f32x4.splat(1.3981999507e-3));
  y = madd(y, r, f32x4.splat(8.3334519073e-3));
  y = madd(y, r, f32x4.splat(4.1665795894e-2));
  y = madd(y, r, f32x4.splat(1.6666665459e-1));
  y = madd(y, r, f32x4.splat(5.0000001201e-1));
  y = f32x4.add(madd(y, z, r), f32x4.splat(1.0));
  const ni = i32x4.sub(t, i32x4.splat(SHIFTER_BITS)); // NaN: any bits, y is NaN already
  const n1 = i32x4.shr_s(ni, 1);
  const n2 = i32x4.sub(ni, n1);
  const bias = i32x4.splat(127);
  const s1 = i32x4.shl(i32x4.add(n1, bias), 23);
  const s2 = i32x4.shl(i32x4.add(n2, bias), 23);
  return f32x4.mul(f32x4.mul(y, s1), s2);
}

const SIGN: i32 = 0x80000000;

/** sigmoid = 1 / (1 + e^-x) for x >= 0 and e^x / (1 + e^x) below, with e = exp(-|x|) in (0, 1]:
 *  never overflows, so sigmoid(-100) is the subnormal 3.8e-44 (as the f64 reference rounded),
 *  not 1 / inf; +-inf give exactly 1 and 0; NaN stays NaN. Max 2 ulps (test). */
@inline function sigmoid4(x: v128): v128 {
  const e = exp4(v128.or(x, i32x4.splat(SIGN)), true); // exp(-|x|)
  const d = f32x4.add(f32x4.splat(1.0), e);
  const pos = f32x4.ge(x, f32x4.splat(0)); // NaN: false -> e / d = NaN
  // one division for both signs (the numerator is picked first): same bits as two
  return f32x4.div(v128.bitselect(f32x4.splat(1.0), e, pos), d);
}

/** tanh: below |x| = 0.625 Cephes' odd polynomial x + x^3 P(x^2) (1 - 2/(e^2x + 1) cancels
 *  there: 3e-5 relative error at 1e-3), above it 1 - 2 / (exp(2|x|) + 1) with x's sign; it is
 *  exactly +-1 from |x| ~ 9 on (exp overflowing to inf included). Max 2 ulps (test). */
@inline function tanh4(x: v128): v128 {
  const signBits = v128.and(x, i32x4.splat(SIGN));
  const ax = v128.andnot(x, i32x4.splat(SIGN));
  const z = f32x4.mul(x, x);
  let p = f32x4.splat(-5.70498872745e-3);
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(2.06390887954e-2));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(-5.37397155531e-2));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(1.33314422036e-1));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(-3.33332819422e-1));
  const small = f32x4.add(f32x4.mul(f32x4.mul(p, z), x), x);
  const e = exp4(f32x4.add(ax, ax));
  const big = f32x4.sub(f32x4.splat(1.0), f32x4.div(f32x4.splat(2.0), f32x4.add(e, f32x4.splat(1.0))));
  // x's sign on both branches: the polynomial gives +0 for -0 ((-0)^3 P + -0 = +0 + -0)
  const t = v128.bitselect(small, big, f32x4.lt(ax, f32x4.splat(0.625)));
  return v128.or(v128.andnot(t, i32x4.splat(SIGN)), signBits);
}

// one float through the 4-wide code (tails): the same bits as the vector loop would give
@inline function lane1(v: v128): f32 {
  return f32x4.extract_lane(v, 0);
}

/** out = exp(x) over n floats: not an op of the backend, exported so the tests can measure the
 *  vectorised exp's error in ulps. */
export function expf32(x: usize, out: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(out + (<usize>i << 2), exp4(v128.load(x + (<usize>i << 2))));
  for (; i < n; i++) store<f32>(out + (<usize>i << 2), lane1(exp4(f32x4.splat(load<f32>(x + (<usize>i << 2))))));
}

/** out = 1 / (1 + exp(-x)) over n floats. */
export function sigmoidForward(x: usize, out: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(out + (<usize>i << 2), sigmoid4(v128.load(x + (<usize>i << 2))));
  for (; i < n; i++) store<f32>(out + (<usize>i << 2), lane1(sigmoid4(f32x4.splat(load<f32>(x + (<usize>i << 2))))));
}

/** out = tanh(x) over n floats. */
export function tanhForward(x: usize, out: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(out + (<usize>i << 2), tanh4(v128.load(x + (<usize>i << 2))));
  for (; i < n; i++) store<f32>(out + (<usize>i << 2), lane1(tanh4(f32x4.splat(load<f32>(x + (<usize>i << 2))))));
}

/** dx = dout * out * (1 - out) (out: the sigmoid's output). */
export function sigmoidBackward(dout: usize, out: usize, dx: usize, n: i32): void {
  let i = 0;
  const one = f32x4.splat(1.0);
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const y = v128.load(out + o);
    v128.store(dx + o, f32x4.mul(f32x4.mul(v128.load(dout + o), y), f32x4.sub(one, y)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const y = load<f32>(out + o);
    store<f32>(dx + o, load<f32>(dout + o) * y * (1 - y));
  }
}

/** dx = dout * (1 - out^2) (out: the tanh's output), as (1 - out)(1 + out): near |out| = 1 the
 *  factor that cancels is exact in float32 (Sterbenz), while 1 - out*out lost up to 8e-5
 *  relative against the f64 reference (measured in test/kernels-zoo.test.ts). */
export function tanhBackward(dout: usize, out: usize, dx: usize, n: i32): void {
  let i = 0;
  const one = f32x4.splat(1.0);
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const y = v128.load(out + o);
    v128.store(dx + o, f32x4.mul(v128.load(dout + o), f32x4.mul(f32x4.sub(one, y), f32x4.add(one, y))));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const y = load<f32>(out + o);
    store<f32>(dx + o, load<f32>(dout + o) * ((1 - y) * (1 + y)));
  }
}

/** out = a * b (dropout's mask, forward and backward). */
export function mul(a: usize, b: usize, out: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, f32x4.mul(v128.load(a + o), v128.load(b + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, load<f32>(a + o) * load<f32>(b + o));
  }
}

// ---- max pooling 3x3 / stride 2 (AlexNet's overlapping pools) -------------------------------------
// 4 outputs per step: the window columns 2ox, 2ox+1, 2ox+2 of 4 neighbouring outputs are the
// even lanes, odd lanes and even lanes shifted by one of 9 floats (two loads and a splat per row).
// Same rule as the reference: a later cell wins only if greater, or NaN over a non-NaN, so ties
// go to the first cell and the first NaN wins. AlexNet-narrow's three pools per training step
// (bench/profile-zoo.mjs, load ~2.3): 17.0 ms with the general loop, 3.9 ms with this one.

@inline function better(v: v128, best: v128): v128 {
  return v128.or(f32x4.gt(v, best), v128.andnot(f32x4.ne(v, v), f32x4.ne(best, best)));
}

/** x: (P, H, W) planes -> out, argMax: (P, OH, OW) for 3x3 windows, stride 2, no padding. */
export function maxPool3x3s2(x: usize, planes: i32, H: i32, W: i32, OH: i32, OW: i32, out: usize, argMax: usize): void {
  let o: usize = 0;
  for (let p = 0; p < planes; p++) {
    const plane = x + <usize>(p * H * W) * 4;
    for (let oy = 0; oy < OH; oy++) {
      const r0 = plane + <usize>(2 * oy * W) * 4;
      let ox = 0;
      // a ragged end (AlexNet's 6-wide outputs) reruns the last four outputs of the row, which
      // rewrites the overlap with the same values: no scalar tail where OW >= 4
      for (; ox < OW && OW >= 4; ox += 4) {
        if (ox + 4 > OW) {
          o -= <usize>(ox - (OW - 4));
          ox = OW - 4;
        }
        const off = <usize>ox << 3;
        let best = f32x4.splat(0), idx = i32x4.splat(0);
        for (let ky = 0; ky < 3; ky++) {
          const q = r0 + <usize>(ky * W) * 4 + off;
          const a = v128.load(q), b = v128.load(q, 16), c = v128.load32_splat(q, 32);
          const c0 = v128.shuffle<f32>(a, b, 0, 2, 4, 6);
          const c1 = v128.shuffle<f32>(a, b, 1, 3, 5, 7);
          const c2 = v128.shuffle<f32>(v128.shuffle<f32>(a, b, 2, 4, 6, 6), c, 0, 1, 2, 4);
          const k = ky * 3;
          if (ky == 0) best = c0;
          else {
            const m = better(c0, best);
            best = v128.bitselect(c0, best, m);
            idx = v128.bitselect(i32x4.splat(k), idx, m);
          }
          let m = better(c1, best);
          best = v128.bitselect(c1, best, m);
          idx = v128.bitselect(i32x4.splat(k + 1), idx, m);
          m = better(c2, best);
          best = v128.bitselect(c2, best, m);
          idx = v128.bitselect(i32x4.splat(k + 2), idx, m);
        }
        v128.store(out + (o << 2), best);
        v128.store(argMax + (o << 2), idx);
        o += 4;
      }
      for (; ox < OW; ox++) {
        let best: f32 = 0;
        let bi = -1;
        for (let ky = 0; ky < 3; ky++) {
          const q = r0 + <usize>(ky * W + 2 * ox) * 4;
          for (let kx = 0; kx < 3; kx++) {
            const v = load<f32>(q + (<usize>kx << 2));
            if (bi < 0 || v > best || (v != v && best == best)) {
              best = v;
              bi = ky * 3 + kx;
            }
          }
        }
        store<f32>(out + (o << 2), best);
        store<i32>(argMax + (o << 2), bi);
        o++;
      }
    }
  }
}

/** dout, argMax: (P, OH, OW) -> dx: (P, H, W) for 3x3 windows, stride 2: the reference's scatter
 *  (windows overlap, so dx is zeroed first and gradients added in output order), with the window
 *  position decoded by constant division (the general kernel divides by a variable FW). */
export function maxPoolBackward3x3s2(dout: usize, argMax: usize, planes: i32, H: i32, W: i32, OH: i32, OW: i32, dx: usize): void {
  const zero = f32x4.splat(0);
  let o: usize = 0;
  for (let p = 0; p < planes; p++) {
    const plane = dx + <usize>(p * H * W) * 4;
    const n = H * W;
    let i = 0;
    for (; i + 4 <= n; i += 4) v128.store(plane + (<usize>i << 2), zero);
    for (; i < n; i++) store<f32>(plane + (<usize>i << 2), 0);
    for (let oy = 0; oy < OH; oy++) {
      const row = plane + <usize>(2 * oy * W) * 4;
      for (let ox = 0; ox < OW; ox++) {
        const a = load<i32>(argMax + (o << 2));
        if (a >= 0) {
          const ky = a / 3, kx = a - 3 * ky;
          const d = row + <usize>(ky * W + 2 * ox + kx) * 4;
          store<f32>(d, load<f32>(d) + load<f32>(dout + (o << 2)));
        }
        o++;
      }
    }
  }
}

// ---- average pooling ----------------------------------------------------------------------------
// Padding cells count as zeros: the divisor is always FH*FW (ONNX count_include_pad = 1). LeNet's
// 2x2 / stride 2 windows have a SIMD path (4 outputs per step, as maxPool2x2); other windows
// run the reference's loop, in f32.

/** x: (P, H, W) planes -> out: (P, OH, OW), 2x2 windows, stride 2, no padding. */
function avgPool2x2(x: usize, planes: i32, H: i32, W: i32, OH: i32, OW: i32, out: usize): void {
  const q = f32x4.splat(0.25);
  let o = out;
  for (let p = 0; p < planes; p++) {
    const plane = x + <usize>(p * H * W) * 4;
    for (let oy = 0; oy < OH; oy++) {
      const r0 = plane + <usize>(2 * oy * W) * 4;
      const r1 = r0 + <usize>W * 4;
      let ox = 0;
      for (; ox + 4 <= OW; ox += 4) {
        const off = <usize>ox << 3;
        const a = f32x4.add(v128.load(r0 + off), v128.load(r1 + off));
        const b = f32x4.add(v128.load(r0 + off, 16), v128.load(r1 + off, 16));
        const s = f32x4.add(v128.shuffle<f32>(a, b, 0, 2, 4, 6), v128.shuffle<f32>(a, b, 1, 3, 5, 7));
        v128.store(o, f32x4.mul(s, q));
        o += 16;
      }
      for (; ox < OW; ox++) {
        const off = <usize>ox << 3;
        const s = load<f32>(r0 + off) + load<f32>(r0 + off, 4) + load<f32>(r1 + off) + load<f32>(r1 + off, 4);
        store<f32>(o, s * 0.25);
        o += 4;
      }
    }
  }
}

/** x: (N, C, H, W) -> out: (N, C, OH, OW) window means. */
export function avgPoolForward(x: usize, N: i32, C: i32, H: i32, W: i32, FH: i32, FW: i32, stride: i32, pad: i32, OH: i32, OW: i32, out: usize): void {
  if (FH == 2 && FW == 2 && stride == 2 && pad == 0) {
    avgPool2x2(x, N * C, H, W, OH, OW, out);
    return;
  }
  const inv: f32 = 1 / <f32>(FH * FW);
  let o = out;
  const planes = N * C;
  for (let p = 0; p < planes; p++) {
    const plane = x + <usize>(p * H * W) * 4;
    for (let oy = 0; oy < OH; oy++) {
      const y0 = max(0, oy * stride - pad), y1 = min(H, oy * stride - pad + FH);
      for (let ox = 0; ox < OW; ox++) {
        const x0 = max(0, ox * stride - pad), x1 = min(W, ox * stride - pad + FW);
        let sum: f32 = 0;
        for (let y = y0; y < y1; y++) {
          const row = plane + <usize>(y * W) * 4;
          for (let xx = x0; xx < x1; xx++) sum += load<f32>(row + (<usize>xx << 2));
        }
        store<f32>(o, sum * inv);
        o += 4;
      }
    }
  }
}

/** dout: (P, OH, OW) -> dx: (P, H, W) for 2x2 windows, stride 2: each gradient / 4 written to
 *  its four cells (windows do not overlap); cells in no window (odd sizes) get 0. */
function avgPoolBackward2x2(dout: usize, planes: i32, H: i32, W: i32, OH: i32, OW: i32, dx: usize): void {
  const q = f32x4.splat(0.25);
  const zero = f32x4.splat(0);
  let o = dout;
  for (let p = 0; p < planes; p++) {
    const plane = dx + <usize>(p * H * W) * 4;
    for (let oy = 0; oy < OH; oy++) {
      const r0 = plane + <usize>(2 * oy * W) * 4;
      const r1 = r0 + <usize>W * 4;
      let ox = 0;
      for (; ox + 4 <= OW; ox += 4) {
        const d = f32x4.mul(v128.load(o), q);
        const lo = v128.shuffle<f32>(d, d, 0, 0, 1, 1), hi = v128.shuffle<f32>(d, d, 2, 2, 3, 3);
        const off = <usize>ox << 3;
        v128.store(r0 + off, lo); v128.store(r0 + off, hi, 16);
        v128.store(r1 + off, lo); v128.store(r1 + off, hi, 16);
        o += 16;
      }
      for (; ox < OW; ox++) {
        const d = load<f32>(o) * 0.25;
        const off = <usize>ox << 3;
        store<f32>(r0 + off, d); store<f32>(r0 + off, d, 4);
        store<f32>(r1 + off, d); store<f32>(r1 + off, d, 4);
        o += 4;
      }
      for (let xx = 2 * OW; xx < W; xx++) {
        store<f32>(r0 + (<usize>xx << 2), 0);
        store<f32>(r1 + (<usize>xx << 2), 0);
      }
    }
    for (let y = 2 * OH; y < H; y++) {
      const r = plane + <usize>(y * W) * 4;
      let xx = 0;
      for (; xx + 4 <= W; xx += 4) v128.store(r + (<usize>xx << 2), zero);
      for (; xx < W; xx++) store<f32>(r + (<usize>xx << 2), 0);
    }
  }
}

/** dout: (N, C, OH, OW) -> dx: (N, C, H, W), each gradient spread evenly over its window. */
export function avgPoolBackward(dout: usize, N: i32, C: i32, H: i32, W: i32, FH: i32, FW: i32, stride: i32, pad: i32, OH: i32, OW: i32, dx: usize): void {
  if (FH == 2 && FW == 2 && stride == 2 && pad == 0) {
    avgPoolBackward2x2(dout, N * C, H, W, OH, OW, dx);
    return;
  }
  const planes = N * C;
  const inv: f32 = 1 / <f32>(FH * FW);
  let o = dout;
  for (let p = 0; p < planes; p++) {
    const plane = dx + <usize>(p * H * W) * 4;
    let i = 0;
    const n = H * W;
    for (; i + 4 <= n; i += 4) v128.store(plane + (<usize>i << 2), f32x4.splat(0));
    for (; i < n; i++) store<f32>(plane + (<usize>i << 2), 0);
    for (let oy = 0; oy < OH; oy++) {
      const y0 = max(0, oy * stride - pad), y1 = min(H, oy * stride - pad + FH);
      for (let ox = 0; ox < OW; ox++) {
        const x0 = max(0, ox * stride - pad), x1 = min(W, ox * stride - pad + FW);
        const d = load<f32>(o) * inv;
        o += 4;
        for (let y = y0; y < y1; y++) {
          const row = plane + <usize>(y * W) * 4;
          for (let xx = x0; xx < x1; xx++) {
            const q = row + (<usize>xx << 2);
            store<f32>(q, load<f32>(q) + d);
          }
        }
      }
    }
  }
}

// ---- LRN ------------------------------------------------------------------------------------
// Across channels on (N, C, S), vectorised along S (4 positions per step). Window of channel c:
// [c - lo, c + hi], lo = floor((size-1)/2), hi = ceil((size-1)/2), clipped (ONNX's convention).
// s^-beta: sqrt paths for AlexNet's 0.75 (and 0.5, 1) as the reference; any other beta goes
// through Mathf.pow lane by lane (correct, slower).

@inline function powNeg4(s: v128, beta: f32): v128 {
  const one = f32x4.splat(1.0);
  if (beta == 0.75) {
    const r = f32x4.sqrt(s);
    return f32x4.div(one, f32x4.mul(r, f32x4.sqrt(r)));
  }
  if (beta == 0.5) return f32x4.div(one, f32x4.sqrt(s));
  if (beta == 1) return f32x4.div(one, s);
  let v = s;
  v = f32x4.replace_lane(v, 0, Mathf.pow(f32x4.extract_lane(s, 0), -beta));
  v = f32x4.replace_lane(v, 1, Mathf.pow(f32x4.extract_lane(s, 1), -beta));
  v = f32x4.replace_lane(v, 2, Mathf.pow(f32x4.extract_lane(s, 2), -beta));
  v = f32x4.replace_lane(v, 3, Mathf.pow(f32x4.extract_lane(s, 3), -beta));
  return v;
}

// 4 positions from p (stride 4 bytes), or one position splat (the S % 4 tail): the same code
// serves both, so the tail gives the bits the vector loop would. Measured (100 x 16 x 784 per
// 4 samples, one thread): a runtime `one` in the loop cost 0.246 ms forward against 0.147 with
// the loop specialised per call site (@inline with a constant `one`).
@inline function ld(p: usize, one: bool): v128 {
  return one ? f32x4.splat(load<f32>(p)) : v128.load(p);
}
@inline function st(p: usize, v: v128, one: bool): void {
  if (one) store<f32>(p, f32x4.extract_lane(v, 0));
  else v128.store(p, v);
}

/** x: (N, C, S) -> out, scale: (N, C, S); scale = k + alpha * window sum of x^2, out = x * scale^-beta. */
// 4 positions (one = false) or one position (the S % 4 tail) of lrnForward; `one` is a constant
// at both call sites, so each loop is compiled without the tail's branches
@inline function lrnForwardAt(x: usize, off: usize, c: i32, from: i32, to: i32, plane: usize, kk: v128, al: v128, beta: f32, out: usize, scale: usize, one: bool): void {
  let sum = f32x4.splat(0);
  let q = x + off + <usize>from * plane;
  for (let j = from; j <= to; j++) {
    const v = ld(q, one);
    sum = f32x4.add(sum, f32x4.mul(v, v));
    q += plane;
  }
  const sc = f32x4.add(kk, f32x4.mul(al, sum));
  const i = off + <usize>c * plane;
  if (scale != 0) st(scale + i, sc, one); // 0: inference, out alone
  st(out + i, f32x4.mul(ld(x + i, one), powNeg4(sc, beta)), one);
}

/** x: (N, C, S) -> out, scale: (N, C, S); scale = k + alpha * window sum of x^2, out = x * scale^-beta. */
export function lrnForward(x: usize, N: i32, C: i32, S: i32, size: i32, k: f32, alpha: f32, beta: f32, out: usize, scale: usize): void {
  const lo = (size - 1) >> 1, hi = size - 1 - lo;
  const kk = f32x4.splat(k), al = f32x4.splat(alpha);
  const plane = <usize>S * 4;
  for (let n = 0; n < N; n++) {
    const base = <usize>(n * C * S) * 4;
    for (let c = 0; c < C; c++) {
      const from = max(0, c - lo), to = min(C - 1, c + hi);
      let s = 0;
      for (; s + 4 <= S; s += 4) lrnForwardAt(x, base + (<usize>s << 2), c, from, to, plane, kk, al, beta, out, scale, false);
      for (; s < S; s++) lrnForwardAt(x, base + (<usize>s << 2), c, from, to, plane, kk, al, beta, out, scale, true);
    }
  }
}

// 4 positions (or one: the tail; a constant at both call sites) of lrnBackward. Per channel the
// scratch holds 32 bytes: the term dout * x * scale^(-beta-1) and dout * scale^-beta.
@inline function lrnBackwardAt(x: usize, scale: usize, dout: usize, off: usize, C: i32, lo: i32, hi: i32, plane: usize, f: v128, beta: f32, dx: usize, scratch: usize, one: bool): void {
  let i = off;
  for (let c = 0; c < C; c++) {
    const sc = ld(scale + i, one);
    const p = powNeg4(sc, beta);
    const d = ld(dout + i, one);
    const w = scratch + (<usize>c << 5);
    v128.store(w, f32x4.div(f32x4.mul(f32x4.mul(d, ld(x + i, one)), p), sc));
    v128.store(w, f32x4.mul(d, p), 16);
    i += plane;
  }
  i = off;
  for (let c = 0; c < C; c++) {
    const from = max(0, c - hi), to = min(C - 1, c + lo);
    let sum = f32x4.splat(0);
    for (let j = from; j <= to; j++) sum = f32x4.add(sum, v128.load(scratch + (<usize>j << 5)));
    st(dx + i, f32x4.sub(v128.load(scratch + (<usize>c << 5), 16), f32x4.mul(f32x4.mul(f, ld(x + i, one)), sum)), one);
    i += plane;
  }
}

/** dx of lrnForward (see js.ts for the derivation): per 4 positions, the channels' terms go to
 *  `scratch` (C x 32 bytes, this thread's), then each dx sums them over the mirrored window
 *  [c - hi, c + lo]. C <= LRN_MAX_CHANNELS (abi.ts). */
export function lrnBackward(x: usize, scale: usize, dout: usize, N: i32, C: i32, S: i32, size: i32, alpha: f32, beta: f32, dx: usize, scratch: usize): void {
  const lo = (size - 1) >> 1, hi = size - 1 - lo;
  const f = f32x4.splat(2 * alpha * beta);
  const plane = <usize>S * 4;
  for (let n = 0; n < N; n++) {
    const base = <usize>(n * C * S) * 4;
    let s = 0;
    for (; s + 4 <= S; s += 4) lrnBackwardAt(x, scale, dout, base + (<usize>s << 2), C, lo, hi, plane, f, beta, dx, scratch, false);
    for (; s < S; s++) lrnBackwardAt(x, scale, dout, base + (<usize>s << 2), C, lo, hi, plane, f, beta, dx, scratch, true);
  }
}

// ---- batch normalisation ----------------------------------------------------------------------
// Per channel of (N, C, S), statistics over (N, S). Sums run in f32x4 along one row of S and are
// added up in f64 per row (the reference sums in f64: a plain f32 sum over the 57600 values of
// a conv channel drifts by ~1e-4 relative); two passes for the variance, as the reference.
// S = 1 (after a dense layer) takes the same loops, one value per row.

@inline function rowSum(p: usize, S: i32): f64 {
  let acc = f32x4.splat(0);
  let s = 0;
  for (; s + 4 <= S; s += 4) acc = f32x4.add(acc, v128.load(p + (<usize>s << 2)));
  let t: f64 = <f64>f32x4.extract_lane(acc, 0) + <f64>f32x4.extract_lane(acc, 1) + <f64>f32x4.extract_lane(acc, 2) + <f64>f32x4.extract_lane(acc, 3);
  for (; s < S; s++) t += <f64>load<f32>(p + (<usize>s << 2));
  return t;
}

@inline function rowSqDev(p: usize, S: i32, mean: f32): f64 {
  let acc = f32x4.splat(0);
  const m = f32x4.splat(mean);
  let s = 0;
  for (; s + 4 <= S; s += 4) {
    const d = f32x4.sub(v128.load(p + (<usize>s << 2)), m);
    acc = f32x4.add(acc, f32x4.mul(d, d));
  }
  let t: f64 = <f64>f32x4.extract_lane(acc, 0) + <f64>f32x4.extract_lane(acc, 1) + <f64>f32x4.extract_lane(acc, 2) + <f64>f32x4.extract_lane(acc, 3);
  for (; s < S; s++) {
    const d = <f64>load<f32>(p + (<usize>s << 2)) - <f64>mean;
    t += d * d;
  }
  return t;
}

@inline function rowDot(p: usize, q: usize, S: i32): f64 {
  let acc = f32x4.splat(0);
  let s = 0;
  for (; s + 4 <= S; s += 4) acc = f32x4.add(acc, f32x4.mul(v128.load(p + (<usize>s << 2)), v128.load(q + (<usize>s << 2))));
  let t: f64 = <f64>f32x4.extract_lane(acc, 0) + <f64>f32x4.extract_lane(acc, 1) + <f64>f32x4.extract_lane(acc, 2) + <f64>f32x4.extract_lane(acc, 3);
  for (; s < S; s++) t += <f64>load<f32>(p + (<usize>s << 2)) * <f64>load<f32>(q + (<usize>s << 2));
  return t;
}

/** x: (N, C, S) -> out, xhat: (N, C, S), invStd: (C); train: batch statistics, running ones updated. */
export function batchNormForward(
  x: usize, N: i32, C: i32, S: i32, gamma: usize, beta: usize, eps: f64, train: i32, momentum: f64,
  runningMean: usize, runningVar: usize, out: usize, xhat: usize, invStd: usize,
): void {
  const M = <f64>N * <f64>S;
  const plane = <usize>S * 4;
  const rowStride = <usize>C * plane;
  for (let c = 0; c < C; c++) {
    const first = x + <usize>c * plane;
    const cq = <usize>c << 2;
    let mean: f64, variance: f64;
    if (train) {
      let sum: f64 = 0;
      for (let n = 0; n < N; n++) sum += rowSum(first + <usize>n * rowStride, S);
      mean = sum / M;
      let sq: f64 = 0;
      for (let n = 0; n < N; n++) sq += rowSqDev(first + <usize>n * rowStride, S, <f32>mean);
      variance = sq / M;
      store<f32>(runningMean + cq, <f32>(momentum * <f64>load<f32>(runningMean + cq) + (1 - momentum) * mean));
      store<f32>(runningVar + cq, <f32>(momentum * <f64>load<f32>(runningVar + cq) + (1 - momentum) * variance));
    } else {
      mean = <f64>load<f32>(runningMean + cq);
      variance = <f64>load<f32>(runningVar + cq);
    }
    const inv = 1 / Math.sqrt(variance + eps);
    if (invStd != 0) store<f32>(invStd + cq, <f32>inv); // xhat, invStd 0: inference, out alone
    // xhat = (x - mean) * inv as the reference (x * inv - mean * inv cancels when |mean| >> std)
    const a: f32 = <f32>inv, b: f32 = <f32>mean;
    const g: f32 = load<f32>(gamma + cq), bt: f32 = load<f32>(beta + cq);
    const av = f32x4.splat(a), bv = f32x4.splat(b), gv = f32x4.splat(g), btv = f32x4.splat(bt);
    for (let n = 0; n < N; n++) {
      const r = <usize>n * rowStride + <usize>c * plane;
      let s = 0;
      for (; s + 4 <= S; s += 4) {
        const o = r + (<usize>s << 2);
        const h = f32x4.mul(f32x4.sub(v128.load(x + o), bv), av);
        if (xhat != 0) v128.store(xhat + o, h);
        v128.store(out + o, f32x4.add(f32x4.mul(h, gv), btv));
      }
      for (; s < S; s++) {
        const o = r + (<usize>s << 2);
        const h = (load<f32>(x + o) - b) * a;
        if (xhat != 0) store<f32>(xhat + o, h);
        store<f32>(out + o, h * g + bt);
      }
    }
  }
}

/** Training-mode backward: dbeta = sum dout, dgamma = sum dout * xhat over (N, S), and
 *  dx = gamma * invStd / M * (M dout - dbeta - xhat dgamma), computed as one multiply-add per
 *  element with the coefficients in f64 (M dout - dbeta cancels in f32). */
export function batchNormBackward(dout: usize, xhat: usize, invStd: usize, gamma: usize, N: i32, C: i32, S: i32, dx: usize, dgamma: usize, dbeta: usize): void {
  const M = <f64>N * <f64>S;
  const plane = <usize>S * 4;
  const rowStride = <usize>C * plane;
  for (let c = 0; c < C; c++) {
    const cq = <usize>c << 2;
    let db: f64 = 0, dg: f64 = 0;
    for (let n = 0; n < N; n++) {
      const r = <usize>n * rowStride + <usize>c * plane;
      db += rowSum(dout + r, S);
      dg += rowDot(dout + r, xhat + r, S);
    }
    store<f32>(dbeta + cq, <f32>db);
    store<f32>(dgamma + cq, <f32>dg);
    const f = (<f64>load<f32>(gamma + cq) * <f64>load<f32>(invStd + cq)) / M;
    const a: f32 = <f32>(f * M), b: f32 = <f32>(-f * dg), k: f32 = <f32>(-f * db);
    const av = f32x4.splat(a), bv = f32x4.splat(b), kv = f32x4.splat(k);
    for (let n = 0; n < N; n++) {
      const r = <usize>n * rowStride + <usize>c * plane;
      let s = 0;
      for (; s + 4 <= S; s += 4) {
        const o = r + (<usize>s << 2);
        v128.store(dx + o, f32x4.add(f32x4.add(f32x4.mul(v128.load(dout + o), av), f32x4.mul(v128.load(xhat + o), bv)), kv));
      }
      for (; s < S; s++) {
        const o = r + (<usize>s << 2);
        store<f32>(dx + o, load<f32>(dout + o) * a + load<f32>(xhat + o) * b + k);
      }
    }
  }
}
