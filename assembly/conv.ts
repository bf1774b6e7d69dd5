// The convolution without a materialised im2row (the js reference, src/backend/js.ts, is the
// book's im2row + GEMM; these kernels compute the same sums, in another order).
//
// The book's forward is one product: rows(x) (N*OH*OW, C*FH*FW) . W^T (C*FH*FW, FN). Per image
// the transpose of that is out_n (FN, OH*OW) = W (FN, K) . colT_n (K, OH*OW), K = C*FH*FW, which
// is already NCHW. colT_n is never built: each block of it (kc rows of K x nc output pixels,
// at most 32 KB) is packed straight from the image into the thread's scratch, where row
// k = (c, ky, kx) over pixels (oy, ox) is a run of contiguous image values for stride 1 (a
// copy, zeros at the padding), and 4x8 tiles of the product run over the block.
//  - filter gradient: dW (FN, K) = sum_n dout_n (FN, P) . colT_n^T: the same blocks of colT_n,
//    dotted with dout's rows along the pixels (4 filters x 2 rows of the block per tile, vectors
//    along the pixels, summed across lanes at the end of a block). Threads split K: each packs
//    only its own rows and owns those columns of dW, so nothing is reduced afterwards.
//  - input gradient, stride 1: dx = dout correlated with the flipped filters (W' (C, FN, FH, FW),
//    W'[c, f, ky, kx] = W[f, c, FH-1-ky, FW-1-kx]) with padding FH-1-pad: the forward kernel
//    again, no dcol and no scatter. Other strides: a direct scatter loop (slow, correct).
// Threads split the forward and the input gradient by images.
//
// Stride 1 takes a direct path instead (below: no packing per block at all) when its buffers fit.
//
// Scratch (SCRATCH_BYTES per thread, kernels.ts): the block at 0 (<= 64 KB for the filter
// gradient, <= 32 KB otherwise), packed filters at 32 KB (64 x 4 floats), a 32-float tile at
// 64 KB, the direct path's CONV_BYTES after the GEMM's 64 KB + 256 B.

import { JOB_CONV_FORWARD, JOB_CONV_BACKWARD_DATA } from '../src/backend/wasm/abi';
import { madd, reluForward, storeTile4x8 } from './kernels';
import { sigmoidForward } from './zoo';

const KB: i32 = 64; // rows of K per block
const BLOCK_FLOATS: i32 = 8192; // forward / input-gradient block: 32 KB, stays in L1 with the tiles' reads
const GRAD_FLOATS: i32 = 16384; // filter-gradient block: 64 KB
const APACK: usize = 32768;
const TMP: usize = 65536;
/** The direct path's region (after the GEMM's 64 KB pack + 256 B tile): the zero-padded image,
 *  the offsets of the K window taps, and the packed filters or the padded dout. */
export const CONV_BYTES: i32 = 1 << 20;
const DIRECT: usize = 65536 + 256;
/** Winograd F(2x2, 3x3) runs for 3x3 stride-1 convolutions with at least this many input and
 *  output channels. */
export const WINOGRAD_MIN_CHANNELS: i32 = 8;
/** The filter gradient's Winograd moves more data per product (dout's blocks transformed, V
 *  transposed, K = blocks per image): measured 1.25x faster than the direct tiles at 64 channels
 *  in and out (deep's conv6, 8x8), 1.1-1.2x slower at 16 and 32 (conv2, conv4). */
export const WINOGRAD_FILTER_MIN_CHANNELS: i32 = 64;


function zeroF(d: usize, n: i32): void {
  let i = 0;
  const z = f32x4.splat(0);
  for (; i + 4 <= n; i += 4) v128.store(d + (<usize>i << 2), z);
  for (; i < n; i++) store<f32>(d + (<usize>i << 2), 0);
}

function copyF(d: usize, s: usize, n: i32): void {
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const o = <usize>i << 2;
    v128.store(d + o, v128.load(s + o));
    v128.store(d + o, v128.load(s + o, 16), 16);
  }
  for (; i + 4 <= n; i += 4) v128.store(d + (<usize>i << 2), v128.load(s + (<usize>i << 2)));
  for (; i < n; i++) store<f32>(d + (<usize>i << 2), load<f32>(s + (<usize>i << 2)));
}

/** Rows [k0, k0 + kc) x pixels [j0, j0 + nc) of colT for one image xn (C, H, W):
 *  dst[r * ld + t] = x[c, oy*stride + ky - padY, ox*stride + kx - padX] (0 outside), with
 *  k0 + r = (c*FH + ky)*FW + kx and j0 + t = oy*OW + ox; columns nc..ld are zeroed. */
function packCols(xn: usize, H: i32, W: i32, FH: i32, FW: i32, stride: i32, padY: i32, padX: i32, OW: i32,
  k0: i32, kc: i32, j0: i32, nc: i32, dst: usize, ld: i32): void {
  const FHW = FH * FW;
  const oy0 = j0 / OW, ox0 = j0 - oy0 * OW;
  for (let r = 0; r < kc; r++) {
    const k = k0 + r;
    const c = k / FHW;
    const rem = k - c * FHW;
    const ky = rem / FW, kx = rem - (rem / FW) * FW;
    const plane = xn + <usize>(c * H * W) * 4;
    const row = dst + <usize>(r * ld) * 4;
    let t = 0, oy = oy0, ox = ox0;
    while (t < nc) {
      const run = min(OW - ox, nc - t);
      const y = oy * stride + ky - padY;
      const d = row + (<usize>t << 2);
      if (y < 0 || y >= H) zeroF(d, run);
      else {
        const src = plane + <usize>(y * W) * 4;
        const xs = ox * stride + kx - padX;
        if (stride == 1) {
          let lo = -xs;
          if (lo < 0) lo = 0;
          if (lo > run) lo = run;
          let hi = W - xs;
          if (hi > run) hi = run;
          if (hi < lo) hi = lo;
          zeroF(d, lo);
          if (hi > lo) copyF(d + (<usize>lo << 2), src + (<usize>(xs + lo) << 2), hi - lo);
          zeroF(d + (<usize>hi << 2), run - hi);
        } else {
          for (let i = 0; i < run; i++) {
            const xx = xs + i * stride;
            store<f32>(d + (<usize>i << 2), xx >= 0 && xx < W ? load<f32>(src + (<usize>xx << 2)) : 0);
          }
        }
      }
      t += run;
      ox = 0;
      oy++;
    }
    zeroF(row + (<usize>nc << 2), ld - nc);
  }
}

/** Filters i0 .. i0+rows (rows <= 4) x K rows [k0, k0 + kc) into dst as kc groups of 4 (zeros
 *  past rows). flip = 0: A = W (M, K) row-major. flip = 1: A = W' (M = C, K = FN*FH*FW),
 *  W'[c, (f, ky, kx)] = W[f, c, FH-1-ky, FW-1-kx] (the input gradient's filters). */
function packA(Wt: usize, M: i32, K: i32, flip: i32, FH: i32, FW: i32, i0: i32, rows: i32, k0: i32, kc: i32, dst: usize): void {
  const FHW = FH * FW;
  for (let r = 0; r < kc; r++) {
    const k = k0 + r;
    const d = dst + (<usize>r << 4);
    if (flip == 0) {
      for (let i = 0; i < 4; i++) store<f32>(d + (<usize>i << 2), i < rows ? load<f32>(Wt + (<usize>((i0 + i) * K + k) << 2)) : 0);
    } else {
      const f = k / FHW;
      const rem = k - f * FHW;
      const ky = rem / FW, kx = rem - (rem / FW) * FW;
      const off = (FH - 1 - ky) * FW + (FW - 1 - kx);
      for (let i = 0; i < 4; i++) {
        store<f32>(d + (<usize>i << 2), i < rows ? load<f32>(Wt + (<usize>((f * M + i0 + i) * FHW + off) << 2)) : 0);
      }
    }
  }
}

/** C[rows x w] (=|+=) Apack (4 x kc) . B (kc x 8, row stride ldb bytes); first: store (plus the
 *  rows' bias when bias != 0), else add to C. */
@inline function tile(pa: usize, pb: usize, ldb: usize, kc: i32, pc: usize, ldc: usize, rows: i32, w: i32, first: bool, bias: usize, tmp: usize): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let a = v128.load32_splat(pa);
    c00 = madd(a, b0, c00); c01 = madd(a, b1, c01);
    a = v128.load32_splat(pa, 4);
    c10 = madd(a, b0, c10); c11 = madd(a, b1, c11);
    a = v128.load32_splat(pa, 8);
    c20 = madd(a, b0, c20); c21 = madd(a, b1, c21);
    a = v128.load32_splat(pa, 12);
    c30 = madd(a, b0, c30); c31 = madd(a, b1, c31);
    pa += 16;
    pb += ldb;
  }
  storeTile(c00, c01, c10, c11, c20, c21, c30, c31, pc, ldc, rows, w, first ? bias : 0, !first, tmp);
}

/** out_n (M, OH*OW) = A (M, K) . colT(x_n) (+ bias) for `count` images x (C, H, W) each,
 *  K = C*FH*FW; A = W, or the flipped W' (flip = 1; see packA). */
function convImages(x: usize, count: i32, C: i32, H: i32, W: i32, FH: i32, FW: i32, stride: i32, padY: i32, padX: i32, OH: i32, OW: i32,
  A: usize, M: i32, flip: i32, bias: usize, out: usize, scratch: usize): void {
  const K = C * FH * FW, P = OH * OW;
  if (P <= 0 || M <= 0) return;
  if (K == 0) { // no window: the bias alone (or zeros)
    for (let n = 0; n < count; n++) {
      for (let i = 0; i < M; i++) {
        const o = out + <usize>((n * M + i) * P) * 4;
        const v: f32 = bias != 0 ? load<f32>(bias + (<usize>i << 2)) : 0;
        for (let j = 0; j < P; j++) store<f32>(o + (<usize>j << 2), v);
      }
    }
    return;
  }
  const blocks = (K + KB - 1) / KB;
  const kc = (K + blocks - 1) / blocks;
  const nb = min((BLOCK_FLOATS / kc) & ~7, (P + 7) & ~7);
  const blk = scratch, apack = scratch + APACK, tmp = scratch + TMP;
  const ldc = <usize>P * 4;
  for (let n = 0; n < count; n++) {
    const xn = x + <usize>(n * C * H * W) * 4;
    const on = out + <usize>(n * M * P) * 4;
    for (let j0 = 0; j0 < P; j0 += nb) {
      const nc = min(nb, P - j0);
      const ld = (nc + 7) & ~7;
      for (let k0 = 0; k0 < K; k0 += kc) {
        const kcur = min(kc, K - k0);
        packCols(xn, H, W, FH, FW, stride, padY, padX, OW, k0, kcur, j0, nc, blk, ld);
        for (let i0 = 0; i0 < M; i0 += 4) {
          const rows = min(4, M - i0);
          packA(A, M, K, flip, FH, FW, i0, rows, k0, kcur, apack);
          const bi: usize = bias != 0 ? bias + (<usize>i0 << 2) : 0;
          const pcRow = on + <usize>i0 * ldc + (<usize>j0 << 2);
          for (let p = 0; p < nc; p += 8) {
            tile(apack, blk + (<usize>p << 2), <usize>ld << 2, kcur, pcRow + (<usize>p << 2), ldc, rows, min(8, nc - p), k0 == 0, bi, tmp);
          }
        }
      }
    }
  }
}


// ---- the direct path: stride 1 --------------------------------------------------------------
// With stride 1, row k = (c, ky, kx) of colT over the pixels of output row oy is the padded
// image's row c, oy + ky, shifted by kx: so nothing needs packing per block. The image is copied
// once into a zero-padded buffer whose rows are wide enough (ceil8(OW) + FW - 1) for 8-pixel
// tiles past the row's end to read padding, and the tiles load their B vectors straight from it
// at the K taps' offsets (off[k] = (c*Hp + ky)*Wr + kx). Used when the buffers fit CONV_BYTES.

/** Bytes the direct path needs past DIRECT: padded image (Ci, Hp, Wr) + 16 floats, the offsets,
 *  and `extra` floats (packed filters or padded dout). */
function directBytes(Ci: i32, Hp: i32, Wr: i32, K: i32, extra: i32): i64 {
  return (<i64>Ci * Hp * Wr + 16 + K + <i64>extra) * 4 + 64;
}

/** dst (Ci, Hp, Wr) = x (Ci, H, W) placed at (padY, padX), zeros around; 16 zero floats after. */
function padImage(xn: usize, Ci: i32, H: i32, W: i32, padY: i32, padX: i32, Hp: i32, Wr: i32, dst: usize): void {
  zeroF(dst, Ci * Hp * Wr + 16);
  for (let c = 0; c < Ci; c++) {
    for (let y = 0; y < H; y++) {
      copyF(dst + <usize>((c * Hp + y + padY) * Wr + padX) * 4, xn + <usize>((c * H + y) * W) * 4, W);
    }
  }
}

/** off[k] (bytes) for k = (c, ky, kx) in [0, K). */
function tapOffsets(Ci: i32, FH: i32, FW: i32, Hp: i32, Wr: i32, off: usize): void {
  let k = 0;
  for (let c = 0; c < Ci; c++) {
    for (let ky = 0; ky < FH; ky++) {
      for (let kx = 0; kx < FW; kx++) {
        store<i32>(off + (<usize>k << 2), ((c * Hp + ky) * Wr + kx) * 4);
        k++;
      }
    }
  }
}

/** off[r] (bytes) for the window rows r = (c, ky) in [0, Ci * FH): each row's first tap. */
function rowOffsets(Ci: i32, FH: i32, Hp: i32, Wr: i32, off: usize): void {
  for (let c = 0; c < Ci; c++) for (let ky = 0; ky < FH; ky++) store<i32>(off + (<usize>(c * FH + ky) << 2), ((c * Hp + ky) * Wr) * 4);
}

/** out_n (M, OH, OW) = A . colT(x_n) (+ bias), stride 1, for `count` images; false when the
 *  buffers do not fit (the caller takes the packed path). */
function directImages(x: usize, count: i32, Ci: i32, H: i32, W: i32, FH: i32, FW: i32, padY: i32, padX: i32, OH: i32, OW: i32,
  A: usize, M: i32, flip: i32, bias: usize, out: usize, scratch: usize): bool {
  if (padY < 0 || padX < 0) return false;
  const K = Ci * FH * FW;
  const Hp = OH + FH - 1, Wr = ((OW + 7) & ~7) + FW - 1;
  const M4 = (M + 3) & ~3;
  if (directBytes(Ci, Hp, Wr, K, M4 * K) > <i64>CONV_BYTES) return false;
  const img = scratch + DIRECT;
  const off = img + <usize>(Ci * Hp * Wr + 16) * 4;
  const apack = (off + <usize>K * 4 + 15) & ~<usize>15;
  tapOffsets(Ci, FH, FW, Hp, Wr, off);
  for (let i0 = 0; i0 < M; i0 += 4) packA(A, M, K, flip, FH, FW, i0, min(4, M - i0), 0, K, apack + <usize>(i0 * K) * 4);
  const tmp = scratch + TMP;
  const ldc = <usize>OW * 4;
  for (let n = 0; n < count; n++) {
    padImage(x + <usize>(n * Ci * H * W) * 4, Ci, H, W, padY, padX, Hp, Wr, img);
    const on = out + <usize>(n * M * OH * OW) * 4;
    for (let i0 = 0; i0 < M; i0 += 4) {
      const rows = min(4, M - i0);
      const pa0 = apack + <usize>(i0 * K) * 4;
      const bi: usize = bias != 0 ? bias + (<usize>i0 << 2) : 0;
      for (let oy = 0; oy < OH; oy++) {
        const rowBase = img + <usize>(oy * Wr) * 4;
        const pcRow = on + <usize>(i0 * OH * OW + oy * OW) * 4;
        for (let ox = 0; ox < OW; ox += 8) {
          const base = rowBase + (<usize>ox << 2);
          let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
          let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
          let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
          let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
          let pa = pa0;
          for (let k = 0; k < K; k++) {
            const pb = base + <usize>load<i32>(off + (<usize>k << 2));
            const b0 = v128.load(pb);
            const b1 = v128.load(pb, 16);
            let a = v128.load32_splat(pa);
            c00 = madd(a, b0, c00); c01 = madd(a, b1, c01);
            a = v128.load32_splat(pa, 4);
            c10 = madd(a, b0, c10); c11 = madd(a, b1, c11);
            a = v128.load32_splat(pa, 8);
            c20 = madd(a, b0, c20); c21 = madd(a, b1, c21);
            a = v128.load32_splat(pa, 12);
            c30 = madd(a, b0, c30); c31 = madd(a, b1, c31);
            pa += 16;
          }
          storeTile(c00, c01, c10, c11, c20, c21, c30, c31, pcRow + (<usize>ox << 2), <usize>(OH * OW) * 4, rows, min(8, OW - ox), bi, false, tmp);
        }
      }
    }
  }
  return true;
}

// ---- 5x5 filters (lenet) ------------------------------------------------------------------------
// The direct path above runs 4 filters x 8 pixels: lenet's 6 filters (conv1 forward, conv2's
// input gradient) then take 4 + 2 rows, and the 2-row tile costs a 4-row one. 5x5 filters take
// 3 x 8 tiles when M is a multiple of 3 whose 4-row tiles would be over 1/8 empty (lenet's 6;
// not simple's 30: its 4 x 8 tiles, 2 rows of 32 empty, ran 0.78x the time of 3 x 8 ones, whose
// 6 accumulators are too few to hide the multiply-add's latency over a 25-tap window), and both
// tiles walk the taps a window row at a time (5 taps 4 bytes apart: one offset load per row).
// Wider tiles (6 x 8, 4 x 12, 3 x 16, 2 x 16) and unrolling the 5 taps measured slower (V8 spills
// the accumulators or schedules the straight line worse). Every output's sum runs over the taps
// in order whatever the tile, so the tile shape never changes the bits; deep has no 5x5 layer.

/** Filters [i0, i0 + R) x all K taps into dst as K groups of R (zeros past M); flip as packA. */
function packRows(Wt: usize, M: i32, K: i32, flip: i32, FH: i32, FW: i32, i0: i32, R: i32, dst: usize): void {
  const FHW = FH * FW;
  for (let k = 0; k < K; k++) {
    const d = dst + <usize>(k * R) * 4;
    let base = k, step = K;
    if (flip != 0) {
      const f = k / FHW;
      const rem = k - f * FHW;
      const ky = rem / FW, kx = rem - (rem / FW) * FW;
      base = f * M * FHW + (FH - 1 - ky) * FW + (FW - 1 - kx);
      step = FHW;
    }
    for (let i = 0; i < R; i++) store<f32>(d + (<usize>i << 2), i0 + i < M ? load<f32>(Wt + <usize>(base + (i0 + i) * step) * 4) : 0);
  }
}

/** Filters per 5x5 tile: 3 for multiples of 3 whose 4-filter tiles would be over 1/8 empty. */
@inline function fiveRows(M: i32): i32 {
  const M4 = (M + 3) & ~3;
  return M % 3 == 0 && (M4 - M) * 8 > M4 ? 3 : 4;
}

/** directImages for 5x5 filters (3 x 8 tiles where fiveRows says so, 4 x 8 otherwise, a
 *  window row per step); false when the buffers do not fit. */
function direct5Images(x: usize, count: i32, Ci: i32, H: i32, W: i32, FH: i32, FW: i32, padY: i32, padX: i32, OH: i32, OW: i32,
  A: usize, M: i32, flip: i32, bias: usize, out: usize, scratch: usize): bool {
  if (padY < 0 || padX < 0 || FH != 5 || FW != 5) return false;
  const R = fiveRows(M);
  const MR = ((M + R - 1) / R) * R;
  const K = Ci * FH * FW, KR = Ci * FH;
  const Hp = OH + FH - 1, Wr = ((OW + 7) & ~7) + FW - 1;
  if (directBytes(Ci, Hp, Wr, K, MR * K) > <i64>CONV_BYTES) return false;
  const img = scratch + DIRECT;
  const off = img + <usize>(Ci * Hp * Wr + 16) * 4;
  const apack = (off + <usize>K * 4 + 15) & ~<usize>15;
  rowOffsets(Ci, FH, Hp, Wr, off);
  for (let i0 = 0; i0 < M; i0 += R) packRows(A, M, K, flip, FH, FW, i0, R, apack + <usize>(i0 * K) * 4);
  const tmp = scratch + TMP;
  const ldc = <usize>(OH * OW) * 4;
  for (let n = 0; n < count; n++) {
    padImage(x + <usize>(n * Ci * H * W) * 4, Ci, H, W, padY, padX, Hp, Wr, img);
    const on = out + <usize>(n * M * OH * OW) * 4;
    for (let i0 = 0; i0 < M; i0 += R) {
      const rows = min(R, M - i0);
      const pa0 = apack + <usize>(i0 * K) * 4;
      const bi: usize = bias != 0 ? bias + (<usize>i0 << 2) : 0;
      for (let oy = 0; oy < OH; oy++) {
        const rowBase = img + <usize>(oy * Wr) * 4;
        const pcRow = on + <usize>(i0 * OH * OW + oy * OW) * 4;
        // window rows ky that read only padding rows give 0 * w: skipped (the input gradient's
        // padding of 4 makes that 29% of lenet conv2's); an accumulator that starts at +0 and
        // gets +-0 added keeps its bits, so the sums are the same without them
        const kyLo = max(0, padY - oy), kyHi = min(FH, padY + H - oy);
        for (let ox = 0; ox < OW; ox += 8) {
          const base = rowBase + (<usize>ox << 2);
          const pc = pcRow + (<usize>ox << 2), w = min(8, OW - ox);
          if (R == 3) tileRx8r(3, pa0, base, off, Ci, kyLo, kyHi, pc, ldc, rows, w, bi, tmp);
          else tileRx8r(4, pa0, base, off, Ci, kyLo, kyHi, pc, ldc, rows, w, bi, tmp);
        }
      }
    }
  }
  return true;
}

/** R (3 or 4, a constant) filters x 8 pixels over the window rows (c, ky), ky in [kyLo, kyHi), of
 *  5 taps (A packed by R); inlined, so each R gets its own loop. */
@inline function tileRx8r(R: i32, pa0: usize, base: usize, off: usize, Ci: i32, kyLo: i32, kyHi: i32, pc: usize, ldc: usize, rows: i32, w: i32, bias: usize, tmp: usize): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  for (let c = 0; c < Ci; c++) for (let ky = kyLo; ky < kyHi; ky++) {
    const r = c * 5 + ky;
    let pb = base + <usize>load<i32>(off + (<usize>r << 2));
    let pa = pa0 + <usize>(r * 5 * R) * 4;
    for (let t = 0; t < 5; t++) {
      const b0 = v128.load(pb), b1 = v128.load(pb, 16);
      let a = v128.load32_splat(pa);
      c00 = madd(a, b0, c00); c01 = madd(a, b1, c01);
      a = v128.load32_splat(pa, 4);
      c10 = madd(a, b0, c10); c11 = madd(a, b1, c11);
      a = v128.load32_splat(pa, 8);
      c20 = madd(a, b0, c20); c21 = madd(a, b1, c21);
      if (R == 4) {
        a = v128.load32_splat(pa, 12);
        c30 = madd(a, b0, c30); c31 = madd(a, b1, c31);
      }
      pa += R * 4;
      pb += 4;
    }
  }
  storeTile(c00, c01, c10, c11, c20, c21, c30, c31, pc, ldc, rows, w, bias, false, tmp);
}

/** The rows' bias (bias != 0) added to a 4x8 tile, then kernels.ts's storeTile4x8 (rows x w of it at pc, row stride ldc bytes; stored, or added: accumulate). */
@inline function storeTile(c00: v128, c01: v128, c10: v128, c11: v128, c20: v128, c21: v128, c30: v128, c31: v128,
  pc: usize, ldc: usize, rows: i32, w: i32, bias: usize, accumulate: bool, tmp: usize): void {
  if (bias != 0) {
    let b = v128.load32_splat(bias);
    c00 = f32x4.add(c00, b); c01 = f32x4.add(c01, b);
    if (rows > 1) { b = v128.load32_splat(bias, 4); c10 = f32x4.add(c10, b); c11 = f32x4.add(c11, b); }
    if (rows > 2) { b = v128.load32_splat(bias, 8); c20 = f32x4.add(c20, b); c21 = f32x4.add(c21, b); }
    if (rows > 3) { b = v128.load32_splat(bias, 12); c30 = f32x4.add(c30, b); c31 = f32x4.add(c31, b); }
  }
  storeTile4x8(c00, c01, c10, c11, c20, c21, c30, c31, pc, ldc, rows, w, accumulate, tmp);
}

// ---- filters along the lanes: 2 pixels x 16 filters ---------------------------------------------
// The tiles above put 8 pixels of a row in the lanes: a row of 10 (lenet conv2) computes 16, a
// row of 28 computes 32. Here the roles turn: a tile holds 16 filters (4 vectors of weights, read
// per tap from filters packed by 16) x 2 neighbouring pixels (2 splats), 8 accumulators, so a row
// of OW pixels costs ceil(OW / 2) tiles and the padding is only M's (16). Each output is the same
// sum in the same order as the 8-pixel tiles' (0, + tap by tap in k order, + bias): same bits.

/** directImages with 16 filters x 2 pixels per tile; false when the buffers do not fit. */
function lanesImages(x: usize, count: i32, Ci: i32, H: i32, W: i32, FH: i32, FW: i32, padY: i32, padX: i32, OH: i32, OW: i32,
  A: usize, M: i32, flip: i32, bias: usize, out: usize, scratch: usize): bool {
  if (padY < 0 || padX < 0) return false;
  const K = Ci * FH * FW, KR = Ci * FH;
  const Hp = OH + FH - 1, Wr = OW + FW - 1;
  const M16 = (M + 15) & ~15;
  if (directBytes(Ci, Hp, Wr, KR, M16 * K + M16) > <i64>CONV_BYTES) return false;
  const img = scratch + DIRECT;
  const off = img + <usize>(Ci * Hp * Wr + 16) * 4;
  const apack = (off + <usize>KR * 4 + 15) & ~<usize>15;
  const bpack = apack + <usize>(M16 * K) * 4; // the bias, zeros past M (and all zeros without one)
  rowOffsets(Ci, FH, Hp, Wr, off);
  for (let i0 = 0; i0 < M; i0 += 16) packRows(A, M, K, flip, FH, FW, i0, 16, apack + <usize>(i0 * K) * 4);
  for (let i = 0; i < M16; i++) store<f32>(bpack + (<usize>i << 2), bias != 0 && i < M ? load<f32>(bias + (<usize>i << 2)) : 0);
  const plane = <usize>(OH * OW) * 4;
  for (let n = 0; n < count; n++) {
    padImage(x + <usize>(n * Ci * H * W) * 4, Ci, H, W, padY, padX, Hp, Wr, img);
    const on = out + <usize>(n * M * OH * OW) * 4;
    for (let i0 = 0; i0 < M; i0 += 16) {
      const rows = min(16, M - i0);
      const pa0 = apack + <usize>(i0 * K) * 4;
      const pbias = bpack + (<usize>i0 << 2);
      for (let oy = 0; oy < OH; oy++) {
        const rowBase = img + <usize>(oy * Wr) * 4;
        const pcRow = on + <usize>(i0 * OH * OW + oy * OW) * 4;
        for (let ox = 0; ox < OW; ox += 2) {
          const base = rowBase + (<usize>ox << 2);
          let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c02 = f32x4.splat(0), c03 = f32x4.splat(0);
          let c10 = f32x4.splat(0), c11 = f32x4.splat(0), c12 = f32x4.splat(0), c13 = f32x4.splat(0);
          let pa = pa0;
          for (let r = 0; r < KR; r++) {
            let pb = base + <usize>load<i32>(off + (<usize>r << 2));
            for (let t = 0; t < FW; t++) {
              const x0 = v128.load32_splat(pb), x1 = v128.load32_splat(pb, 4);
              let w = v128.load(pa);
              c00 = madd(w, x0, c00); c10 = madd(w, x1, c10);
              w = v128.load(pa, 16);
              c01 = madd(w, x0, c01); c11 = madd(w, x1, c11);
              w = v128.load(pa, 32);
              c02 = madd(w, x0, c02); c12 = madd(w, x1, c12);
              w = v128.load(pa, 48);
              c03 = madd(w, x0, c03); c13 = madd(w, x1, c13);
              pa += 64;
              pb += 4;
            }
          }
          if (bias != 0) {
            let b = v128.load(pbias);
            c00 = f32x4.add(c00, b); c10 = f32x4.add(c10, b);
            b = v128.load(pbias, 16);
            c01 = f32x4.add(c01, b); c11 = f32x4.add(c11, b);
            b = v128.load(pbias, 32);
            c02 = f32x4.add(c02, b); c12 = f32x4.add(c12, b);
            b = v128.load(pbias, 48);
            c03 = f32x4.add(c03, b); c13 = f32x4.add(c13, b);
          }
          const pc = pcRow + (<usize>ox << 2), two = ox + 1 < OW;
          storePairs(c00, c10, pc, plane, rows, two);
          if (rows > 4) storePairs(c01, c11, pc + 4 * plane, plane, rows - 4, two);
          if (rows > 8) storePairs(c02, c12, pc + 8 * plane, plane, rows - 8, two);
          if (rows > 12) storePairs(c03, c13, pc + 12 * plane, plane, rows - 12, two);
        }
      }
    }
  }
  return true;
}

/** Filters j = 0..min(4, rows)-1 of a tile: pixel 0 (lane j of p0) and, when `two`, pixel 1
 *  (lane j of p1) at pc + j * plane. */
@inline function storePairs(p0: v128, p1: v128, pc: usize, plane: usize, rows: i32, two: bool): void {
  if (two) {
    const lo = v128.shuffle<f32>(p0, p1, 0, 4, 1, 5), hi = v128.shuffle<f32>(p0, p1, 2, 6, 3, 7);
    v128.store64_lane(pc, lo, 0);
    if (rows > 1) v128.store64_lane(pc + plane, lo, 1);
    if (rows > 2) v128.store64_lane(pc + 2 * plane, hi, 0);
    if (rows > 3) v128.store64_lane(pc + 3 * plane, hi, 1);
  } else {
    v128.store32_lane(pc, p0, 0);
    if (rows > 1) v128.store32_lane(pc + plane, p0, 1);
    if (rows > 2) v128.store32_lane(pc + 2 * plane, p0, 2);
    if (rows > 3) v128.store32_lane(pc + 3 * plane, p0, 3);
  }
}

/** The lane tiles where they waste fewer lanes than the 8-pixel ones: useful share
 *  M / ceil16(M) * OW / ceil2(OW) against M / ceil4(M) * OW / ceil8(OW) (5x5: M / ceil3(M) when
 *  that tile runs). */
function useLanes(M: i32, OW: i32, FH: i32, FW: i32): bool {
  if (M < 16) return false;
  const R = FH == 5 && FW == 5 ? fiveRows(M) : 4;
  const lanes = <f64>M / <f64>((M + 15) & ~15) * <f64>OW / <f64>((OW + 1) & ~1);
  const tiles = <f64>M / <f64>(((M + R - 1) / R) * R) * <f64>OW / <f64>((OW + 7) & ~7);
  return lanes > tiles;
}

/** d (P, ld) = s (R, P) transposed (columns R..ld of d untouched): 4x4 blocks in registers. */
function transposeRows(s: usize, R: i32, P: i32, d: usize, ld: i32): void {
  const rowS = <usize>P * 4, rowD = <usize>ld * 4;
  let f = 0;
  for (; f + 4 <= R; f += 4) {
    const s0 = s + <usize>f * rowS;
    let p = 0;
    for (; p + 4 <= P; p += 4) {
      const q = s0 + (<usize>p << 2);
      const r0 = v128.load(q), r1 = v128.load(q + rowS), r2 = v128.load(q + 2 * rowS), r3 = v128.load(q + 3 * rowS);
      const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5), t1 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5);
      const t2 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7), t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
      const o = d + <usize>p * rowD + (<usize>f << 2);
      v128.store(o, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
      v128.store(o + rowD, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7));
      v128.store(o + 2 * rowD, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5));
      v128.store(o + 3 * rowD, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7));
    }
    for (; p < P; p++) {
      for (let i = 0; i < 4; i++) store<f32>(d + <usize>p * rowD + (<usize>(f + i) << 2), load<f32>(s0 + <usize>i * rowS + (<usize>p << 2)));
    }
  }
  for (; f < R; f++) {
    const src = s + <usize>f * rowS;
    let q = d + (<usize>f << 2);
    for (let p = 0; p < P; p++) {
      store<f32>(q, load<f32>(src + (<usize>p << 2)));
      q += rowD;
    }
  }
}

/** transposeRows, also adding each row's sum into sums[f] (f < R): the bias gradient read from
 *  the same loads, so dout streams from memory once (simple: 6.9 MB, read twice took 1.5 ms). */
function transposeRowsSum(s: usize, R: i32, P: i32, d: usize, ld: i32, sums: usize): void {
  const rowS = <usize>P * 4, rowD = <usize>ld * 4;
  let f = 0;
  for (; f + 4 <= R; f += 4) {
    const s0 = s + <usize>f * rowS;
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    let p = 0;
    for (; p + 4 <= P; p += 4) {
      const q = s0 + (<usize>p << 2);
      const r0 = v128.load(q), r1 = v128.load(q + rowS), r2 = v128.load(q + 2 * rowS), r3 = v128.load(q + 3 * rowS);
      a0 = f32x4.add(a0, r0); a1 = f32x4.add(a1, r1); a2 = f32x4.add(a2, r2); a3 = f32x4.add(a3, r3);
      const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5), t1 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5);
      const t2 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7), t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
      const o = d + <usize>p * rowD + (<usize>f << 2);
      v128.store(o, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
      v128.store(o + rowD, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7));
      v128.store(o + 2 * rowD, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5));
      v128.store(o + 3 * rowD, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7));
    }
    let e0 = hsum(a0), e1 = hsum(a1), e2 = hsum(a2), e3 = hsum(a3);
    for (; p < P; p++) {
      const q = s0 + (<usize>p << 2);
      const v0 = load<f32>(q), v1 = load<f32>(q + rowS), v2 = load<f32>(q + 2 * rowS), v3 = load<f32>(q + 3 * rowS);
      e0 += v0; e1 += v1; e2 += v2; e3 += v3;
      const o = d + <usize>p * rowD + (<usize>f << 2);
      store<f32>(o, v0); store<f32>(o, v1, 4); store<f32>(o, v2, 8); store<f32>(o, v3, 12);
    }
    const o = sums + (<usize>f << 2);
    store<f32>(o, load<f32>(o) + e0); store<f32>(o, load<f32>(o, 4) + e1, 4);
    store<f32>(o, load<f32>(o, 8) + e2, 8); store<f32>(o, load<f32>(o, 12) + e3, 12);
  }
  for (; f < R; f++) {
    const src = s + <usize>f * rowS;
    let q = d + (<usize>f << 2);
    let e: f32 = 0;
    for (let p = 0; p < P; p++) {
      const v = load<f32>(src + (<usize>p << 2));
      e += v;
      store<f32>(q, v);
      q += rowD;
    }
    store<f32>(sums + (<usize>f << 2), load<f32>(sums + (<usize>f << 2)) + e);
  }
}

/** The filter gradient's direct path (stride 1): columns [ka, kb) of dW = sum over the images
 *  of colT_n . dout_n^T, computed transposed: dW^T (K, FN) in 4 x 8 tiles (4 taps x 8 filters),
 *  a tap's pixels broadcast from the padded image and dout_n moved to FN8 / 8 panels of (P, 8) (FN8 =
 *  ceil8(FN), zero columns past FN), accumulated over the images in the scratch and moved to
 *  dW at the end. false when the buffers do not fit. */
function directFilter(x: usize, dout: usize, dW: usize, N: i32, C: i32, H: i32, W: i32, FN: i32, FH: i32, FW: i32,
  pad: i32, OH: i32, OW: i32, ka: i32, kb: i32, db: usize, scratch: usize): bool {
  const K = C * FH * FW, P = OH * OW;
  const Hp = OH + FH - 1, Wr = ((OW + 7) & ~7) + FW - 1;
  const FN8 = (FN + 7) & ~7;
  const KR = kb - ka;
  if (directBytes(C, Hp, Wr, K, P * FN8 + KR * FN8 + 4 + (db != 0 ? FN8 : 0)) > <i64>CONV_BYTES) return false;
  const img = scratch + DIRECT;
  const off = img + <usize>(C * Hp * Wr + 16) * 4;
  const dT = (off + <usize>K * 4 + 15) & ~<usize>15;
  const acc = dT + <usize>(P * FN8) * 4;
  tapOffsets(C, FH, FW, Hp, Wr, off);
  const sums = acc + <usize>(KR * FN8) * 4; // db's sums when db != 0
  zeroF(acc, KR * FN8);
  zeroF(dT, P * FN8);
  if (db != 0) zeroF(sums, FN);
  const ldT = <usize>FN8 * 4;
  const panel = <usize>P * 32; // dout_n moved to FN8 / 8 panels of (P, 8): each streamed from L1 over the taps
  for (let n = 0; n < N; n++) {
    padImage(x + <usize>(n * C * H * W) * 4, C, H, W, pad, pad, Hp, Wr, img);
    const dn = dout + <usize>(n * FN * P) * 4;
    for (let f0 = 0; f0 < FN; f0 += 8) {
      if (db != 0) transposeRowsSum(dn + <usize>(f0 * P) * 4, min(8, FN - f0), P, dT + <usize>(f0 >> 3) * panel, 8, sums + (<usize>f0 << 2));
      else transposeRows(dn + <usize>(f0 * P) * 4, min(8, FN - f0), P, dT + <usize>(f0 >> 3) * panel, 8);
    }
    // filters outer, taps inner: a panel (P x 8 floats) is read once per 4 taps from L1; every
    // dW value is still the sum over the pixels in order, per image, whatever the loop order
    for (let f0 = 0; f0 < FN8; f0 += 8) {
      const p0 = dT + <usize>(f0 >> 3) * panel;
      for (let k0 = ka; k0 < kb; k0 += 4) {
        const kr = min(4, kb - k0);
        let q = acc + <usize>((k0 - ka) * FN8 + f0) * 4;
        const x0 = img + <usize>load<i32>(off + (<usize>k0 << 2));
        if (kr == 1) {
          // a last single tap: one row of the tile
          let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
          let pb = p0;
          for (let oy = 0; oy < OH; oy++) {
            let xo = <usize>(oy * Wr) * 4;
            for (let ox = 0; ox < OW; ox++) {
              const a = v128.load32_splat(x0 + xo);
              c00 = madd(a, v128.load(pb), c00); c01 = madd(a, v128.load(pb, 16), c01);
              pb += 32;
              xo += 4;
            }
          }
          v128.store(q, f32x4.add(v128.load(q), c00)); v128.store(q, f32x4.add(v128.load(q, 16), c01), 16);
          continue;
        }
        // taps past kb repeat the last one (computed, never stored)
        const x1 = img + <usize>load<i32>(off + (<usize>min(k0 + 1, kb - 1) << 2));
        const x2 = img + <usize>load<i32>(off + (<usize>min(k0 + 2, kb - 1) << 2));
        const x3 = img + <usize>load<i32>(off + (<usize>min(k0 + 3, kb - 1) << 2));
        let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
        let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
        let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
        let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
        let pb = p0;
        for (let oy = 0; oy < OH; oy++) {
          let xo = <usize>(oy * Wr) * 4;
          for (let ox = 0; ox < OW; ox++) {
            const b0 = v128.load(pb);
            const b1 = v128.load(pb, 16);
            let a = v128.load32_splat(x0 + xo);
            c00 = madd(a, b0, c00); c01 = madd(a, b1, c01);
            a = v128.load32_splat(x1 + xo);
            c10 = madd(a, b0, c10); c11 = madd(a, b1, c11);
            a = v128.load32_splat(x2 + xo);
            c20 = madd(a, b0, c20); c21 = madd(a, b1, c21);
            a = v128.load32_splat(x3 + xo);
            c30 = madd(a, b0, c30); c31 = madd(a, b1, c31);
            pb += 32;
            xo += 4;
          }
        }
        v128.store(q, f32x4.add(v128.load(q), c00)); v128.store(q, f32x4.add(v128.load(q, 16), c01), 16);
        if (kr > 1) { q += ldT; v128.store(q, f32x4.add(v128.load(q), c10)); v128.store(q, f32x4.add(v128.load(q, 16), c11), 16); }
        if (kr > 2) { q += ldT; v128.store(q, f32x4.add(v128.load(q), c20)); v128.store(q, f32x4.add(v128.load(q, 16), c21), 16); }
        if (kr > 3) { q += ldT; v128.store(q, f32x4.add(v128.load(q), c30)); v128.store(q, f32x4.add(v128.load(q, 16), c31), 16); }
      }
    }
  }
  for (let f = 0; f < FN; f++) {
    for (let k = ka; k < kb; k++) store<f32>(dW + <usize>(f * K + k) * 4, load<f32>(acc + <usize>((k - ka) * FN8 + f) * 4));
  }
  if (db != 0) copyF(db, sums, FN);
  return true;
}


// ---- Winograd F(2x2, 3x3): 3x3 filters, stride 1 -------------------------------------------
// Each 2x2 block of outputs comes from a 4x4 block of the padded input d and a filter g as
// Y = A^T [(G g G^T) . (B^T d B)] A: 16 products per channel instead of 36 (Lavin & Gray 2015).
// Per image: the 4x4 blocks of every channel transformed (V, 16 planes of (C, T)), 16 products
// out[xi] (M, T) = U[xi] (M, C) . V[xi] (C, T) in the 4x8 tiles, and the 2x2 outputs taken back
// (+ bias). The transforms add and subtract only (G holds halves), so the error stays within a
// few roundings of the direct sums (test/kernels-conv.test.ts states the bound it checks).
// Blocks run 4 at a time along a row (TX4 = ceil4(ceil(OW / 2)) per row; the extra ones are
// computed from padding and dropped).

/** Bytes Winograd needs past DIRECT. */
function winogradBytes(Ci: i32, M: i32, OH: i32, OW: i32): i64 {
  const TY = (OH + 1) >> 1, TX4 = (((OW + 1) >> 1) + 3) & ~3;
  const T8 = (TY * TX4 + 7) & ~7;
  const Hp = 2 * TY + 2, Wr = 2 * TX4 + 2;
  const M4 = (M + 3) & ~3;
  return (<i64>Ci * Hp * Wr + 16 + 16 * <i64>M4 * Ci + 16 * <i64>Ci * T8 + 16 * <i64>M4 * T8) * 4 + 256;
}

/** U[xi][panel][c][4] = (G g G^T)[xi] for filter rows i (zeros past M); g = W[i, c] (flip = 0)
 *  or the flipped W'[i, c] = W[c, i, 2-ky, 2-kx] (flip = 1, W: (Ci, M, 3, 3)). */
function winogradFilters(Wt: usize, M: i32, Ci: i32, flip: i32, U: usize): void {
  const M4 = (M + 3) & ~3;
  const xiStride = <usize>(M4 * Ci) * 4;
  for (let i = 0; i < M4; i++) {
    for (let c = 0; c < Ci; c++) {
      const dst = U + <usize>(((i >> 2) * Ci + c) * 4 + (i & 3)) * 4;
      if (i >= M) {
        for (let xi = 0; xi < 16; xi++) store<f32>(dst + <usize>xi * xiStride, 0);
        continue;
      }
      const g = flip ? Wt + <usize>((c * M + i) * 9) * 4 : Wt + <usize>((i * Ci + c) * 9) * 4;
      // Gg: 4 rows of 3 (g rows r0, r1, r2; flipped: g[ky][kx] = w[2-ky][2-kx])
      const a0 = tap(g, 0, flip), a1 = tap(g, 1, flip), a2 = tap(g, 2, flip);
      const b0 = tap(g, 3, flip), b1 = tap(g, 4, flip), b2 = tap(g, 5, flip);
      const c0 = tap(g, 6, flip), c1 = tap(g, 7, flip), c2 = tap(g, 8, flip);
      // G g: rows (a, (a+b+c)/2, (a-b+c)/2, c), each of 3
      const r1x = (a0 + b0 + c0) * 0.5, r1y = (a1 + b1 + c1) * 0.5, r1z = (a2 + b2 + c2) * 0.5;
      const r2x = (a0 - b0 + c0) * 0.5, r2y = (a1 - b1 + c1) * 0.5, r2z = (a2 - b2 + c2) * 0.5;
      winogradRow(dst, xiStride, 0, a0, a1, a2);
      winogradRow(dst, xiStride, 1, <f32>r1x, <f32>r1y, <f32>r1z);
      winogradRow(dst, xiStride, 2, <f32>r2x, <f32>r2y, <f32>r2z);
      winogradRow(dst, xiStride, 3, c0, c1, c2);
    }
  }
}
/** Tap k = 3 ky + kx of a 3x3 filter, or of the filter turned by 180 degrees (flip). */
@inline function tap(g: usize, k: i32, flip: i32): f32 {
  return load<f32>(g + (<usize>(flip ? 8 - k : k) << 2));
}
@inline function winogradRow(dst: usize, xiStride: usize, row: i32, x: f32, y: f32, z: f32): void {
  const base = dst + <usize>(row * 4) * xiStride;
  store<f32>(base, x);
  store<f32>(base + xiStride, (x + y + z) * 0.5);
  store<f32>(base + 2 * xiStride, (x - y + z) * 0.5);
  store<f32>(base + 3 * xiStride, z);
}

/** out_n (M, OH, OW) = A * x_n (+ bias) by Winograd for `count` images (3x3, stride 1); false
 *  when the buffers do not fit CONV_BYTES. */
function winogradImages(x: usize, count: i32, Ci: i32, H: i32, W: i32, padY: i32, padX: i32, OH: i32, OW: i32,
  A: usize, M: i32, flip: i32, bias: usize, out: usize, scratch: usize): bool {
  if (padY < 0 || padX < 0 || winogradBytes(Ci, M, OH, OW) > <i64>CONV_BYTES) return false;
  const TY = (OH + 1) >> 1, TX4 = (((OW + 1) >> 1) + 3) & ~3;
  const T = TY * TX4, T8 = (T + 7) & ~7;
  const Hp = 2 * TY + 2, Wr = 2 * TX4 + 2;
  const M4 = (M + 3) & ~3;
  const img = scratch + DIRECT;
  const U = (img + <usize>(Ci * Hp * Wr + 16) * 4 + 15) & ~<usize>15;
  const V = U + <usize>(16 * M4 * Ci) * 4;
  const Mo = V + <usize>(16 * Ci * T8) * 4;
  const tmp = scratch + TMP;
  winogradFilters(A, M, Ci, flip, U);
  const vXi = <usize>(Ci * T8) * 4, mXi = <usize>(M4 * T8) * 4, uXi = <usize>(M4 * Ci) * 4;
  const rowWr = <usize>Wr * 4;
  // junk columns T..T8 of V stay zero
  zeroF(V, 16 * Ci * T8);
  for (let n = 0; n < count; n++) {
    padImage(x + <usize>(n * Ci * H * W) * 4, Ci, H, W, padY, padX, Hp, Wr, img);
    winogradInput(img, Ci, Hp, Wr, TY, TX4, V, T8);
    // Mo[xi] (M4, T8) = U[xi] (M4 x Ci, packed by 4) . V[xi] (Ci, T8)
    for (let xi = 0; xi < 16; xi++) {
      const u = U + <usize>xi * uXi, vv = V + <usize>xi * vXi, mo = Mo + <usize>xi * mXi;
      for (let i0 = 0; i0 < M4; i0 += 4) {
        const pa = u + <usize>(i0 * Ci) * 4;
        for (let p = 0; p < T8; p += 8) {
          tile(pa, vv + (<usize>p << 2), <usize>T8 * 4, Ci, mo + <usize>(i0 * T8 + p) * 4, <usize>T8 * 4, 4, 8, true, 0, tmp);
        }
      }
    }
    // Y = A^T m A per block (+ bias), 4 blocks per step
    const on = out + <usize>(n * M * OH * OW) * 4;
    for (let i = 0; i < M; i++) {
      const bi: f32 = bias != 0 ? load<f32>(bias + (<usize>i << 2)) : 0;
      const bv = f32x4.splat(bi);
      const oi = on + <usize>(i * OH * OW) * 4;
      for (let ty = 0; ty < TY; ty++) {
        for (let tx = 0; tx < TX4; tx += 4) {
          const m = Mo + <usize>(i * T8 + ty * TX4 + tx) * 4;
          // rows of A^T m: r0 = m0 + m1 + m2, r1 = m1 - m2 - m3 (m_r: row r, 4 columns)
          const m00 = v128.load(m), m01 = v128.load(m + mXi), m02 = v128.load(m + 2 * mXi), m03 = v128.load(m + 3 * mXi);
          const m10 = v128.load(m + 4 * mXi), m11 = v128.load(m + 5 * mXi), m12 = v128.load(m + 6 * mXi), m13 = v128.load(m + 7 * mXi);
          const m20 = v128.load(m + 8 * mXi), m21 = v128.load(m + 9 * mXi), m22 = v128.load(m + 10 * mXi), m23 = v128.load(m + 11 * mXi);
          const m30 = v128.load(m + 12 * mXi), m31 = v128.load(m + 13 * mXi), m32 = v128.load(m + 14 * mXi), m33 = v128.load(m + 15 * mXi);
          const r00 = f32x4.add(f32x4.add(m00, m10), m20), r01 = f32x4.add(f32x4.add(m01, m11), m21);
          const r02 = f32x4.add(f32x4.add(m02, m12), m22), r03 = f32x4.add(f32x4.add(m03, m13), m23);
          const r10 = f32x4.sub(f32x4.sub(m10, m20), m30), r11 = f32x4.sub(f32x4.sub(m11, m21), m31);
          const r12 = f32x4.sub(f32x4.sub(m12, m22), m32), r13 = f32x4.sub(f32x4.sub(m13, m23), m33);
          // columns: y0 = a + b + c, y1 = b - c - d
          const y00 = f32x4.add(f32x4.add(f32x4.add(r00, r01), r02), bv), y01 = f32x4.add(f32x4.sub(f32x4.sub(r01, r02), r03), bv);
          const y10 = f32x4.add(f32x4.add(f32x4.add(r10, r11), r12), bv), y11 = f32x4.add(f32x4.sub(f32x4.sub(r11, r12), r13), bv);
          // outputs (2ty + r, 2tx + 2b + s) for block b: interleave y_r0 and y_r1
          const oy = 2 * ty, ox = 2 * tx;
          const lo0 = v128.shuffle<f32>(y00, y01, 0, 4, 1, 5), hi0 = v128.shuffle<f32>(y00, y01, 2, 6, 3, 7);
          const lo1 = v128.shuffle<f32>(y10, y11, 0, 4, 1, 5), hi1 = v128.shuffle<f32>(y10, y11, 2, 6, 3, 7);
          const row0 = oi + <usize>(oy * OW + ox) * 4;
          if (ox + 8 <= OW) {
            v128.store(row0, lo0); v128.store(row0, hi0, 16);
            if (oy + 1 < OH) { const row1 = row0 + <usize>OW * 4; v128.store(row1, lo1); v128.store(row1, hi1, 16); }
          } else {
            v128.store(tmp, lo0); v128.store(tmp, hi0, 16); v128.store(tmp, lo1, 32); v128.store(tmp, hi1, 48);
            const w = OW - ox;
            for (let j = 0; j < w; j++) store<f32>(row0 + (<usize>j << 2), load<f32>(tmp + (<usize>j << 2)));
            if (oy + 1 < OH) {
              const row1 = row0 + <usize>OW * 4;
              for (let j = 0; j < w; j++) store<f32>(row1 + (<usize>j << 2), load<f32>(tmp + (<usize>(8 + j) << 2)));
            }
          }
        }
      }
    }
  }
  return true;
}

/** V[xi][c][t] = (B^T d B)[xi] of the 4x4 block t = ty * TX4 + tx of channel c of the padded
 *  image (Ci, Hp, Wr), 4 blocks per step; planes of Ci rows of ld floats. */
function winogradInput(img: usize, Ci: i32, Hp: i32, Wr: i32, TY: i32, TX4: i32, V: usize, ld: i32): void {
  const rowWr = <usize>Wr * 4;
  const vXi = <usize>(Ci * ld) * 4;
  for (let c = 0; c < Ci; c++) {
    const plane = img + <usize>(c * Hp) * rowWr;
    for (let ty = 0; ty < TY; ty++) {
      for (let tx = 0; tx < TX4; tx += 4) {
        const p0 = plane + <usize>(2 * ty) * rowWr + (<usize>(2 * tx) << 2);
        // row r of the 4 blocks: columns j = 0..3 as vectors over the blocks
        let d00 = f32x4.splat(0), d01 = d00, d02 = d00, d03 = d00;
        let d10 = d00, d11 = d00, d12 = d00, d13 = d00;
        let d20 = d00, d21 = d00, d22 = d00, d23 = d00;
        let d30 = d00, d31 = d00, d32 = d00, d33 = d00;
        {
          const q = p0;
          const l0 = v128.load(q), l1 = v128.load(q, 16), l2 = v128.load(q, 8), l3 = v128.load(q, 24);
          d00 = v128.shuffle<f32>(l0, l1, 0, 2, 4, 6); d01 = v128.shuffle<f32>(l0, l1, 1, 3, 5, 7);
          d02 = v128.shuffle<f32>(l2, l3, 0, 2, 4, 6); d03 = v128.shuffle<f32>(l2, l3, 1, 3, 5, 7);
        }
        {
          const q = p0 + rowWr;
          const l0 = v128.load(q), l1 = v128.load(q, 16), l2 = v128.load(q, 8), l3 = v128.load(q, 24);
          d10 = v128.shuffle<f32>(l0, l1, 0, 2, 4, 6); d11 = v128.shuffle<f32>(l0, l1, 1, 3, 5, 7);
          d12 = v128.shuffle<f32>(l2, l3, 0, 2, 4, 6); d13 = v128.shuffle<f32>(l2, l3, 1, 3, 5, 7);
        }
        {
          const q = p0 + 2 * rowWr;
          const l0 = v128.load(q), l1 = v128.load(q, 16), l2 = v128.load(q, 8), l3 = v128.load(q, 24);
          d20 = v128.shuffle<f32>(l0, l1, 0, 2, 4, 6); d21 = v128.shuffle<f32>(l0, l1, 1, 3, 5, 7);
          d22 = v128.shuffle<f32>(l2, l3, 0, 2, 4, 6); d23 = v128.shuffle<f32>(l2, l3, 1, 3, 5, 7);
        }
        {
          const q = p0 + 3 * rowWr;
          const l0 = v128.load(q), l1 = v128.load(q, 16), l2 = v128.load(q, 8), l3 = v128.load(q, 24);
          d30 = v128.shuffle<f32>(l0, l1, 0, 2, 4, 6); d31 = v128.shuffle<f32>(l0, l1, 1, 3, 5, 7);
          d32 = v128.shuffle<f32>(l2, l3, 0, 2, 4, 6); d33 = v128.shuffle<f32>(l2, l3, 1, 3, 5, 7);
        }
        // B^T d: rows (d0 - d2, d1 + d2, d2 - d1, d1 - d3)
        const e00 = f32x4.sub(d00, d20), e01 = f32x4.sub(d01, d21), e02 = f32x4.sub(d02, d22), e03 = f32x4.sub(d03, d23);
        const e10 = f32x4.add(d10, d20), e11 = f32x4.add(d11, d21), e12 = f32x4.add(d12, d22), e13 = f32x4.add(d13, d23);
        const e20 = f32x4.sub(d20, d10), e21 = f32x4.sub(d21, d11), e22 = f32x4.sub(d22, d12), e23 = f32x4.sub(d23, d13);
        const e30 = f32x4.sub(d10, d30), e31 = f32x4.sub(d11, d31), e32 = f32x4.sub(d12, d32), e33 = f32x4.sub(d13, d33);
        // (B^T d) B: columns the same way; xi = 4 * row + column
        const t = ty * TX4 + tx;
        const v = V + <usize>(c * ld + t) * 4;
        winogradCols(v, vXi, 0, e00, e01, e02, e03);
        winogradCols(v, vXi, 4, e10, e11, e12, e13);
        winogradCols(v, vXi, 8, e20, e21, e22, e23);
        winogradCols(v, vXi, 12, e30, e31, e32, e33);
      }
    }
  }
}

/** Stores row r of (B^T d) B for 4 blocks: (a - c, b + c, c - b, b - d) at xi = r4 .. r4 + 3. */
@inline function winogradCols(v: usize, vXi: usize, r4: i32, a: v128, b: v128, c: v128, d: v128): void {
  const q = v + <usize>r4 * vXi;
  v128.store(q, f32x4.sub(a, c));
  v128.store(q + vXi, f32x4.add(b, c));
  v128.store(q + 2 * vXi, f32x4.sub(c, b));
  v128.store(q + 3 * vXi, f32x4.sub(b, d));
}


/** The filter gradient of 3x3 stride-1 convolutions by Winograd F(2x2, 3x3), channels [c0, c1):
 *  with V_t = B^T d_t B (the forward's input transform) and Yh_t = A dy_t A^T (the adjoint of its
 *  output transform, dy_t: a 2x2 block of dout, zeros past the edges),
 *  dW[f, c] = G^T (sum over blocks and images of Yh_t[f] * V_t[c]) G: 16 products (FN, C) with K
 *  = blocks, in the 4x8 tiles (Yh packed by 4 filters, V moved to (blocks, C8)). false when the
 *  buffers do not fit CONV_BYTES. */
function winogradFilter(x: usize, dout: usize, dW: usize, N: i32, C: i32, H: i32, W: i32, FN: i32, pad: i32, OH: i32, OW: i32,
  c0: i32, c1: i32, scratch: usize): bool {
  const Cc = c1 - c0, C8 = (Cc + 7) & ~7, FN4 = (FN + 3) & ~3;
  const TY = (OH + 1) >> 1, TX4 = (((OW + 1) >> 1) + 3) & ~3;
  const T = TY * TX4;
  const Hp = 2 * TY + 2, Wr = 2 * TX4 + 2;
  const bytes = (<i64>Cc * Hp * Wr + 16 + 16 * <i64>Cc * T + 16 * <i64>T * C8 + 16 * <i64>FN4 * T + 16 * <i64>FN4 * C8) * 4 + 256;
  if (pad < 0 || Cc <= 0 || bytes > <i64>CONV_BYTES) return false;
  const img = scratch + DIRECT;
  const V = (img + <usize>(Cc * Hp * Wr + 16) * 4 + 15) & ~<usize>15;
  const VT = V + <usize>(16 * Cc * T) * 4;
  const Yh = VT + <usize>(16 * T * C8) * 4;
  const Z = Yh + <usize>(16 * FN4 * T) * 4;
  const tmp = scratch + TMP;
  const vXi = <usize>(Cc * T) * 4, tXi = <usize>(T * C8) * 4, yXi = <usize>(FN4 * T) * 4, zXi = <usize>(FN4 * C8) * 4;
  zeroF(VT, 16 * T * C8); // columns Cc..C8 stay zero
  zeroF(Yh, 16 * FN4 * T); // filters FN..FN4 stay zero
  zeroF(Z, 16 * FN4 * C8);
  for (let n = 0; n < N; n++) {
    padImage(x + <usize>((n * C + c0) * H * W) * 4, Cc, H, W, pad, pad, Hp, Wr, img);
    winogradInput(img, Cc, Hp, Wr, TY, TX4, V, T);
    for (let xi = 0; xi < 16; xi++) transposeRows(V + <usize>xi * vXi, Cc, T, VT + <usize>xi * tXi, C8);
    // Yh[xi][f / 4][t][f % 4] = (A dy_t A^T)[xi]
    const dn = dout + <usize>(n * FN * OH * OW) * 4;
    for (let f = 0; f < FN; f++) {
      const plane = dn + <usize>(f * OH * OW) * 4;
      const yf = Yh + <usize>((f >> 2) * T * 4 + (f & 3)) * 4;
      for (let ty = 0; ty < TY; ty++) {
        const oy = 2 * ty;
        const two = oy + 1 < OH;
        for (let tx = 0; tx < TX4; tx++) {
          const ox = 2 * tx;
          let p: f32 = 0, q: f32 = 0, r: f32 = 0, s: f32 = 0;
          if (ox < OW) {
            const a = plane + <usize>(oy * OW + ox) * 4;
            p = load<f32>(a);
            if (ox + 1 < OW) q = load<f32>(a, 4);
            if (two) {
              r = load<f32>(a + <usize>OW * 4);
              if (ox + 1 < OW) s = load<f32>(a + <usize>OW * 4, 4);
            }
          }
          // A dy: rows (p, q), (p + r, q + s), (p - r, q - s), (-r, -s); then each row (u, v) ->
          // (u, u + v, u - v, -v)
          const d = yf + <usize>(ty * TX4 + tx) * 16;
          yRow(d, yXi, 0, p, q);
          yRow(d, yXi, 4, p + r, q + s);
          yRow(d, yXi, 8, p - r, q - s);
          yRow(d, yXi, 12, -r, -s);
        }
      }
    }
    // Z[xi] (FN4, C8) += Yh[xi] (FN4 x T, packed by 4) . VT[xi] (T, C8)
    for (let xi = 0; xi < 16; xi++) {
      const y = Yh + <usize>xi * yXi, vt = VT + <usize>xi * tXi, z = Z + <usize>xi * zXi;
      for (let f0 = 0; f0 < FN4; f0 += 4) {
        const pa = y + <usize>(f0 * T) * 4;
        for (let c = 0; c < C8; c += 8) tile(pa, vt + (<usize>c << 2), <usize>C8 * 4, T, z + <usize>(f0 * C8 + c) * 4, <usize>C8 * 4, 4, 8, false, 0, tmp);
      }
    }
  }
  // dW[f, c] = G^T Z G: rows (z0 + (z1 + z2) / 2, (z1 - z2) / 2, (z1 + z2) / 2 + z3), columns the same
  const K = C * 9;
  for (let f = 0; f < FN; f++) {
    for (let c = 0; c < Cc; c++) {
      const z = Z + <usize>(f * C8 + c) * 4;
      const o = dW + <usize>(f * K + (c0 + c) * 9) * 4;
      for (let j = 0; j < 4; j++) {
        const z0 = load<f32>(z + <usize>(j) * zXi), z1 = load<f32>(z + <usize>(4 + j) * zXi);
        const z2 = load<f32>(z + <usize>(8 + j) * zXi), z3 = load<f32>(z + <usize>(12 + j) * zXi);
        store<f32>(tmp + (<usize>j << 2), z0 + (z1 + z2) * 0.5);
        store<f32>(tmp + (<usize>(4 + j) << 2), (z1 - z2) * 0.5);
        store<f32>(tmp + (<usize>(8 + j) << 2), (z1 + z2) * 0.5 + z3);
      }
      for (let i = 0; i < 3; i++) {
        const t = tmp + (<usize>(4 * i) << 2);
        const a = load<f32>(t), b = load<f32>(t, 4), cc = load<f32>(t, 8), d = load<f32>(t, 12);
        store<f32>(o + <usize>(3 * i) * 4, a + (b + cc) * 0.5);
        store<f32>(o + <usize>(3 * i + 1) * 4, (b - cc) * 0.5);
        store<f32>(o + <usize>(3 * i + 2) * 4, (b + cc) * 0.5 + d);
      }
    }
  }
  return true;
}

/** Row r4 / 4 of (A dy) A^T for one block: (u, u + v, u - v, -v) at xi = r4 .. r4 + 3 (each xi
 *  plane yXi bytes apart). */
@inline function yRow(d: usize, yXi: usize, r4: i32, u: f32, v: f32): void {
  const q = d + <usize>r4 * yXi;
  store<f32>(q, u);
  store<f32>(q + yXi, u + v);
  store<f32>(q + 2 * yXi, u - v);
  store<f32>(q + 3 * yXi, -v);
}

/** Winograd for this shape? 3x3 stride 1 with enough channels on both sides for the 16 products
 *  to outweigh the transforms (measured: bench/conv-layers.mjs). */
@inline function useWinograd(FH: i32, FW: i32, Ci: i32, M: i32): bool {
  return FH == 3 && FW == 3 && Ci >= WINOGRAD_MIN_CHANNELS && M >= WINOGRAD_MIN_CHANNELS;
}

/** x: (N, C, H, W), W: (FN, C, FH, FW), b: (FN) -> out: (N, FN, OH, OW) (the book's forward);
 *  then, on these images' outputs while they are in cache, act ACT_SIGMOID: out = sigmoid(out);
 *  ACT_RELU: out = relu(out) with the ReLU's mask (1 where out <= 0) at mask unless it is 0. */
export function convForward(x: usize, Wt: usize, b: usize, out: usize, N: i32, C: i32, H: i32, W: i32, FN: i32, FH: i32, FW: i32,
  stride: i32, pad: i32, OH: i32, OW: i32, act: i32, mask: usize, scratch: usize): void {
  convProduct(x, Wt, b, out, N, C, H, W, FN, FH, FW, stride, pad, OH, OW, scratch);
  if (act == ACT_SIGMOID) sigmoidForward(out, out, N * FN * OH * OW);
  else if (act == ACT_RELU) reluForward(out, out, mask, N * FN * OH * OW);
}

const ACT_SIGMOID: i32 = 1;
const ACT_RELU: i32 = 2;

function convProduct(x: usize, Wt: usize, b: usize, out: usize, N: i32, C: i32, H: i32, W: i32, FN: i32, FH: i32, FW: i32,
  stride: i32, pad: i32, OH: i32, OW: i32, scratch: usize): void {
  if (stride == 1 && N > 0 && useWinograd(FH, FW, C, FN) && winogradImages(x, N, C, H, W, pad, pad, OH, OW, Wt, FN, 0, b, out, scratch)) return;
  if (stride == 1 && N > 0 && useLanes(FN, OW, FH, FW) && lanesImages(x, N, C, H, W, FH, FW, pad, pad, OH, OW, Wt, FN, 0, b, out, scratch)) return;
  if (stride == 1 && N > 0 && direct5Images(x, N, C, H, W, FH, FW, pad, pad, OH, OW, Wt, FN, 0, b, out, scratch)) return;
  if (stride == 1 && N > 0 && directImages(x, N, C, H, W, FH, FW, pad, pad, OH, OW, Wt, FN, 0, b, out, scratch)) return;
  convImages(x, N, C, H, W, FH, FW, stride, pad, pad, OH, OW, Wt, FN, 0, b, out, scratch);
}

/** dx (N, C, H, W) from dout (N, FN, OH, OW) and W (FN, C, FH, FW). */
export function convBackwardData(dout: usize, Wt: usize, dx: usize, N: i32, C: i32, H: i32, W: i32, FN: i32, FH: i32, FW: i32,
  stride: i32, pad: i32, OH: i32, OW: i32, scratch: usize): void {
  if (stride == 1) {
    if (N > 0 && useWinograd(FH, FW, FN, C) && winogradImages(dout, N, FN, OH, OW, 2 - pad, 2 - pad, H, W, Wt, C, 1, 0, dx, scratch)) return;
    if (N > 0 && direct5Images(dout, N, FN, OH, OW, FH, FW, FH - 1 - pad, FW - 1 - pad, H, W, Wt, C, 1, 0, dx, scratch)) return;
    if (N > 0 && directImages(dout, N, FN, OH, OW, FH, FW, FH - 1 - pad, FW - 1 - pad, H, W, Wt, C, 1, 0, dx, scratch)) return;
    // dx = dout (FN channels of OH x OW) correlated with W' (C filters of FN x FH x FW), padding FH-1-pad
    convImages(dout, N, FN, OH, OW, FH, FW, 1, FH - 1 - pad, FW - 1 - pad, H, W, Wt, C, 1, 0, dx, scratch);
    return;
  }
  // strided: every dout value added into its window (row2im of dout . W, without the rows)
  zeroF(dx, N * C * H * W);
  const FHW = FH * FW;
  for (let n = 0; n < N; n++) {
    for (let f = 0; f < FN; f++) {
      const dplane = dout + <usize>((n * FN + f) * OH * OW) * 4;
      for (let oy = 0; oy < OH; oy++) {
        for (let ox = 0; ox < OW; ox++) {
          const d = load<f32>(dplane + <usize>(oy * OW + ox) * 4);
          for (let c = 0; c < C; c++) {
            const wf = Wt + <usize>((f * C + c) * FHW) * 4;
            const plane = dx + <usize>((n * C + c) * H * W) * 4;
            for (let ky = 0; ky < FH; ky++) {
              const y = oy * stride + ky - pad;
              if (y < 0 || y >= H) continue;
              for (let kx = 0; kx < FW; kx++) {
                const xx = ox * stride + kx - pad;
                if (xx < 0 || xx >= W) continue;
                const q = plane + <usize>(y * W + xx) * 4;
                store<f32>(q, load<f32>(q) + d * load<f32>(wf + <usize>(ky * FW + kx) * 4));
              }
            }
          }
        }
      }
    }
  }
}

@inline function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

/** db (FN) = the sum of dout (N, FN, P) over N and P. */
function sumBias(dout: usize, db: usize, N: i32, FN: i32, P: i32): void {
  for (let f = 0; f < FN; f++) {
    let acc = f32x4.splat(0);
    let s: f32 = 0;
    for (let n = 0; n < N; n++) {
      const d = dout + <usize>((n * FN + f) * P) * 4;
      let j = 0;
      for (; j + 4 <= P; j += 4) acc = f32x4.add(acc, v128.load(d + (<usize>j << 2)));
      for (; j < P; j++) s += load<f32>(d + (<usize>j << 2));
    }
    store<f32>(db + (<usize>f << 2), hsum(acc) + s);
  }
}

/** Columns [ka, kb) of dW (FN, K) = sum over the images of dout_n (FN, P) . colT_n^T, and, when
 *  ka == 0, db (FN) = sum of dout over N, OH, OW. */
export function convBackwardFilter(x: usize, dout: usize, dW: usize, db: usize, N: i32, C: i32, H: i32, W: i32, FN: i32, FH: i32, FW: i32,
  stride: i32, pad: i32, OH: i32, OW: i32, ka: i32, kb: i32, scratch: usize): void {
  const K = C * FH * FW, P = OH * OW;
  for (let f = 0; f < FN; f++) zeroF(dW + <usize>(f * K + ka) * 4, kb - ka);
  // db in the direct path's pass over dout for filters over 3x3 (3x3: deep's recorded results
  // keep their order, db summed first)
  const fused = ka == 0 && stride == 1 && kb > ka && P > 0 && FN > 0 && !(FH <= 3 && FW <= 3);
  if (ka == 0 && !fused) sumBias(dout, db, N, FN, P);
  if (kb <= ka || P <= 0 || FN <= 0) return;
  if (stride == 1 && FH == 3 && FW == 3 && C >= WINOGRAD_FILTER_MIN_CHANNELS && FN >= WINOGRAD_FILTER_MIN_CHANNELS && ka % 9 == 0 && kb % 9 == 0
    && winogradFilter(x, dout, dW, N, C, H, W, FN, pad, OH, OW, ka / 9, kb / 9, scratch)) return;
  if (stride == 1 && directFilter(x, dout, dW, N, C, H, W, FN, FH, FW, pad, OH, OW, ka, kb, fused ? db : 0, scratch)) return;
  if (fused) sumBias(dout, db, N, FN, P);
  const nb = min(P, GRAD_FLOATS);
  const kcMax = max(1, min(KB, GRAD_FLOATS / nb));
  const blk = scratch;
  for (let n = 0; n < N; n++) {
    const xn = x + <usize>(n * C * H * W) * 4;
    const dn = dout + <usize>(n * FN * P) * 4;
    for (let j0 = 0; j0 < P; j0 += nb) {
      const nc = min(nb, P - j0);
      const n4 = nc & ~3;
      const ldb = <usize>nc * 4;
      for (let k0 = ka; k0 < kb; k0 += kcMax) {
        const kc = min(kcMax, kb - k0);
        packCols(xn, H, W, FH, FW, stride, pad, pad, OW, k0, kc, j0, nc, blk, nc);
        for (let f0 = 0; f0 < FN; f0 += 4) {
          const rows = min(4, FN - f0);
          // rows past FN repeat the last one (read, never stored)
          const a0 = dn + <usize>(f0 * P + j0) * 4;
          const a1 = dn + <usize>((f0 + min(1, rows - 1)) * P + j0) * 4;
          const a2 = dn + <usize>((f0 + min(2, rows - 1)) * P + j0) * 4;
          const a3 = dn + <usize>((f0 + min(3, rows - 1)) * P + j0) * 4;
          for (let r = 0; r < kc; r += 2) {
            const two = r + 1 < kc;
            const b0 = blk + <usize>r * ldb;
            const b1 = two ? b0 + ldb : b0;
            let s00 = f32x4.splat(0), s01 = f32x4.splat(0), s10 = f32x4.splat(0), s11 = f32x4.splat(0);
            let s20 = f32x4.splat(0), s21 = f32x4.splat(0), s30 = f32x4.splat(0), s31 = f32x4.splat(0);
            for (let t = 0; t < n4; t += 4) {
              const o = <usize>t << 2;
              const v0 = v128.load(b0 + o), v1 = v128.load(b1 + o);
              let a = v128.load(a0 + o);
              s00 = madd(a, v0, s00); s01 = madd(a, v1, s01);
              a = v128.load(a1 + o);
              s10 = madd(a, v0, s10); s11 = madd(a, v1, s11);
              a = v128.load(a2 + o);
              s20 = madd(a, v0, s20); s21 = madd(a, v1, s21);
              a = v128.load(a3 + o);
              s30 = madd(a, v0, s30); s31 = madd(a, v1, s31);
            }
            let e00: f32 = hsum(s00), e01: f32 = hsum(s01), e10: f32 = hsum(s10), e11: f32 = hsum(s11);
            let e20: f32 = hsum(s20), e21: f32 = hsum(s21), e30: f32 = hsum(s30), e31: f32 = hsum(s31);
            for (let t = n4; t < nc; t++) {
              const o = <usize>t << 2;
              const v0 = load<f32>(b0 + o), v1 = load<f32>(b1 + o);
              let a = load<f32>(a0 + o); e00 += a * v0; e01 += a * v1;
              a = load<f32>(a1 + o); e10 += a * v0; e11 += a * v1;
              a = load<f32>(a2 + o); e20 += a * v0; e21 += a * v1;
              a = load<f32>(a3 + o); e30 += a * v0; e31 += a * v1;
            }
            const q = dW + <usize>(f0 * K + k0 + r) * 4;
            const rowK = <usize>K * 4;
            store<f32>(q, load<f32>(q) + e00);
            if (two) store<f32>(q, load<f32>(q, 4) + e01, 4);
            if (rows > 1) {
              const q1 = q + rowK;
              store<f32>(q1, load<f32>(q1) + e10);
              if (two) store<f32>(q1, load<f32>(q1, 4) + e11, 4);
            }
            if (rows > 2) {
              const q2 = q + 2 * rowK;
              store<f32>(q2, load<f32>(q2) + e20);
              if (two) store<f32>(q2, load<f32>(q2, 4) + e21, 4);
            }
            if (rows > 3) {
              const q3 = q + 3 * rowK;
              store<f32>(q3, load<f32>(q3) + e30);
              if (two) store<f32>(q3, load<f32>(q3, 4) + e31, 4);
            }
          }
        }
      }
    }
  }
}

/** The conv jobs of runChunk (kernels.ts): forward and input gradient by images (p0, p3 / p2
 *  offset to the chunk's first image), filter gradient by columns [start, end) of dW.
 *  a: the job's ints C, H, W, FN, FH, FW, stride, pad, OH, OW, N. */
export function convChunk(code: i32, start: i32, end: i32, p0: usize, p1: usize, p2: usize, p3: usize, p4: usize, a: usize, scratch: usize): void {
  const C = load<i32>(a), H = load<i32>(a, 4), W = load<i32>(a, 8), FN = load<i32>(a, 12), FH = load<i32>(a, 16), FW = load<i32>(a, 20);
  const stride = load<i32>(a, 24), pad = load<i32>(a, 28), OH = load<i32>(a, 32), OW = load<i32>(a, 36);
  if (code == JOB_CONV_FORWARD) convForward(p0, p1, p2, p3, end - start, C, H, W, FN, FH, FW, stride, pad, OH, OW, load<i32>(a, 44), p4, scratch);
  else if (code == JOB_CONV_BACKWARD_DATA) convBackwardData(p0, p1, p2, end - start, C, H, W, FN, FH, FW, stride, pad, OH, OW, scratch);
  else convBackwardFilter(p0, p1, p2, p3, load<i32>(a, 40), C, H, W, FN, FH, FW, stride, pad, OH, OW, start, end, scratch);
}
