// The reference backend: the book's computations as plain loops, readable first.
// Every faster backend is tested against this one. It runs in float32 or float64 (whatever
// arrays it is handed), and JavaScript arithmetic is double precision throughout, so the
// float64 path is the oracle for gradient checks.

import type { FloatArray } from '../tensor.js';
import { type Backend, type ConvActivation, hostAllocator, type WindowGeometry } from './backend.js';

// C = alpha * op(A) op(B) + beta * C.
// Every transpose case is the same loop with different strides: op(A)[i, k] = A[i*sAi + k*sAk]
// and op(B)[k, j] = B[k*sBk + j*sBj]. C is computed in 4x4 blocks held in 16 local variables
// (register blocking), which is 3-4x faster in V8 than the textbook triple loop because each
// loaded A and B value is used four times. Edge blocks fall back to the plain dot product.
function gemm(
  transA: boolean, transB: boolean, M: number, N: number, K: number,
  alpha: number, A: FloatArray, B: FloatArray, beta: number, C: FloatArray,
): void {
  const MN = M * N;
  if (beta === 0) C.fill(0, 0, MN);
  else if (beta !== 1) for (let i = 0; i < MN; i++) C[i] *= beta;
  if (K === 0 || alpha === 0) return;

  const sAi = transA ? 1 : K, sAk = transA ? M : 1;
  const sBk = transB ? 1 : N, sBj = transB ? K : 1;
  const M4 = M - (M % 4), N4 = N - (N % 4);

  for (let i = 0; i < M4; i += 4) {
    for (let j = 0; j < N4; j += 4) {
      let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
      let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
      let pa = i * sAi, pb = j * sBj;
      for (let k = 0; k < K; k++, pa += sAk, pb += sBk) {
        const a0 = A[pa], a1 = A[pa + sAi], a2 = A[pa + 2 * sAi], a3 = A[pa + 3 * sAi];
        const b0 = B[pb], b1 = B[pb + sBj], b2 = B[pb + 2 * sBj], b3 = B[pb + 3 * sBj];
        c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
        c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
        c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
        c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
      }
      let r = i * N + j;
      C[r] += alpha * c00; C[r + 1] += alpha * c01; C[r + 2] += alpha * c02; C[r + 3] += alpha * c03;
      r += N;
      C[r] += alpha * c10; C[r + 1] += alpha * c11; C[r + 2] += alpha * c12; C[r + 3] += alpha * c13;
      r += N;
      C[r] += alpha * c20; C[r + 1] += alpha * c21; C[r + 2] += alpha * c22; C[r + 3] += alpha * c23;
      r += N;
      C[r] += alpha * c30; C[r + 1] += alpha * c31; C[r + 2] += alpha * c32; C[r + 3] += alpha * c33;
    }
  }
  // Ragged edges: the last M % 4 rows (all columns) and the last N % 4 columns (block rows).
  const dot = (i: number, j: number): void => {
    let s = 0;
    for (let k = 0, pa = i * sAi, pb = j * sBj; k < K; k++, pa += sAk, pb += sBk) s += A[pa] * B[pb];
    C[i * N + j] += alpha * s;
  };
  for (let i = 0; i < M4; i++) for (let j = N4; j < N; j++) dot(i, j);
  for (let i = M4; i < M; i++) for (let j = 0; j < N; j++) dot(i, j);
}

// x: (N, C, H, W) -> out: (N*OH*OW, C*FH*FW). Row r = (n*OH + oy)*OW + ox holds the window
// at (oy, ox), ordered channel-major then filter row then filter column, exactly as the
// book's `col.transpose(0, 4, 5, 1, 2, 3).reshape(N*out_h*out_w, -1)`.
function im2row(x: FloatArray, g: WindowGeometry, out: FloatArray): void {
  const { batch, channels: C, height: H, width: W, filterHeight: FH, filterWidth: FW, stride, pad, outputHeight: OH, outputWidth: OW } = g;
  const rowLen = C * FH * FW;
  let r = 0;
  for (let n = 0; n < batch; n++) {
    for (let oy = 0; oy < OH; oy++) {
      for (let ox = 0; ox < OW; ox++, r++) {
        let col = r * rowLen;
        for (let c = 0; c < C; c++) {
          const plane = (n * C + c) * H * W;
          for (let ky = 0; ky < FH; ky++) {
            const y = oy * stride + ky - pad;
            const inRows = y >= 0 && y < H;
            for (let kx = 0; kx < FW; kx++, col++) {
              const xx = ox * stride + kx - pad;
              out[col] = inRows && xx >= 0 && xx < W ? x[plane + y * W + xx] : 0;
            }
          }
        }
      }
    }
  }
}

// The adjoint of im2row: every row entry is added back to the pixel it was copied from
// (padding entries are dropped). The book's col2im, written as a scatter-add.
function row2im(row: FloatArray, g: WindowGeometry, out: FloatArray): void {
  const { batch, channels: C, height: H, width: W, filterHeight: FH, filterWidth: FW, stride, pad, outputHeight: OH, outputWidth: OW } = g;
  out.fill(0, 0, batch * C * H * W);
  const rowLen = C * FH * FW;
  let r = 0;
  for (let n = 0; n < batch; n++) {
    for (let oy = 0; oy < OH; oy++) {
      for (let ox = 0; ox < OW; ox++, r++) {
        let col = r * rowLen;
        for (let c = 0; c < C; c++) {
          const plane = (n * C + c) * H * W;
          for (let ky = 0; ky < FH; ky++) {
            const y = oy * stride + ky - pad;
            const inRows = y >= 0 && y < H;
            for (let kx = 0; kx < FW; kx++, col++) {
              const xx = ox * stride + kx - pad;
              if (inRows && xx >= 0 && xx < W) out[plane + y * W + xx] += row[col];
            }
          }
        }
      }
    }
  }
}

// The convolution as the book computes it (7.4.3): the windows become rows (im2row), one
// matrix product with the filters, and a transpose to NCHW. The temporaries are allocated per
// call: this is the readable reference, not the fast path.
function like(x: FloatArray, n: number): FloatArray {
  return x instanceof Float64Array ? new Float64Array(n) : new Float32Array(n);
}

function convForward(x: FloatArray, W: FloatArray, b: FloatArray, filters: number, g: WindowGeometry, out: FloatArray, activation?: ConvActivation, mask?: Uint8Array): void {
  const rows = g.batch * g.outputHeight * g.outputWidth;
  const rowLen = g.channels * g.filterHeight * g.filterWidth;
  const col = like(x, rows * rowLen); // (N*OH*OW, C*FH*FW)
  im2row(x, g, col);
  const rowsOut = like(x, rows * filters); // col . W.reshape(FN, -1)^T : (N*OH*OW, FN)
  gemm(false, true, rows, filters, rowLen, 1, col, W, 0, rowsOut);
  // (N, OH*OW, FN) -> (N, FN, OH*OW), the book's transpose(0, 3, 1, 2), plus the bias
  transpose021(rowsOut, g.batch, g.outputHeight * g.outputWidth, filters, out, b);
  if (activation === 'sigmoid') sigmoidForward(out, out);
  else if (activation === 'relu') reluForward(out, out, mask);
}

function convBackwardFilter(x: FloatArray, dout: FloatArray, filters: number, g: WindowGeometry, dW: FloatArray, db: FloatArray): void {
  const spatial = g.outputHeight * g.outputWidth;
  const rows = g.batch * spatial;
  const rowLen = g.channels * g.filterHeight * g.filterWidth;
  const col = like(x, rows * rowLen);
  im2row(x, g, col);
  // dout (N, FN, OH, OW) -> (N*OH*OW, FN), db = sum over the rows in the same pass
  const d = like(dout, rows * filters);
  transpose021(dout, g.batch, filters, spatial, d, undefined, db);
  gemm(true, false, filters, rowLen, rows, 1, d, col, 0, dW); // dW = dout^T . col
}

function convBackwardData(dout: FloatArray, W: FloatArray, filters: number, g: WindowGeometry, dx: FloatArray): void {
  const spatial = g.outputHeight * g.outputWidth;
  const rows = g.batch * spatial;
  const rowLen = g.channels * g.filterHeight * g.filterWidth;
  const d = like(dout, rows * filters);
  transpose021(dout, g.batch, filters, spatial, d);
  const dcol = like(dout, rows * rowLen);
  gemm(false, false, rows, rowLen, filters, 1, d, W, 0, dcol); // dcol = dout . W
  row2im(dcol, g, dx);
}

// Max pooling directly on NCHW (equivalent to the book's im2row + reshape(-1, PH*PW) + max,
// without materialising the rows). Padding cells are skipped rather than read as 0, so a
// padded window over negative values returns the true maximum (as ONNX/PyTorch define it).
function maxPoolForward(x: FloatArray, g: WindowGeometry, out: FloatArray, argMax: Int32Array): void {
  const { batch, channels: C, height: H, width: W, filterHeight: FH, filterWidth: FW, stride, pad, outputHeight: OH, outputWidth: OW } = g;
  let o = 0;
  for (let p = 0; p < batch * C; p++) {
    const plane = p * H * W;
    for (let oy = 0; oy < OH; oy++) {
      for (let ox = 0; ox < OW; ox++, o++) {
        let best = -Infinity;
        let bestIndex = -1;
        for (let ky = 0; ky < FH; ky++) {
          const y = oy * stride + ky - pad;
          if (y < 0 || y >= H) continue;
          for (let kx = 0; kx < FW; kx++) {
            const xx = ox * stride + kx - pad;
            if (xx < 0 || xx >= W) continue;
            const v = x[plane + y * W + xx];
            // `>` keeps the first maximum on ties, like np.argmax; the first NaN wins so a
            // non-finite value propagates instead of being silently dropped.
            if (bestIndex < 0 || v > best || (v !== v && best === best)) {
              best = v;
              bestIndex = ky * FW + kx;
            }
          }
        }
        out[o] = best;
        argMax[o] = bestIndex;
      }
    }
  }
}

function maxPoolBackward(dout: FloatArray, argMax: Int32Array, g: WindowGeometry, dx: FloatArray): void {
  const { batch, channels: C, height: H, width: W, filterWidth: FW, stride, pad, outputHeight: OH, outputWidth: OW } = g;
  dx.fill(0, 0, batch * C * H * W);
  let o = 0;
  for (let p = 0; p < batch * C; p++) {
    const plane = p * H * W;
    for (let oy = 0; oy < OH; oy++) {
      for (let ox = 0; ox < OW; ox++, o++) {
        const a = argMax[o];
        if (a < 0) continue;
        const y = oy * stride + Math.floor(a / FW) - pad;
        const xx = ox * stride + (a % FW) - pad;
        dx[plane + y * W + xx] += dout[o];
      }
    }
  }
}

// ReLU + max pooling fused (layers/relu-max-pool.ts), from the two pieces above: max commutes
// with the ReLU, so pool first and clip the (smaller) pooled result; a window whose maximum the
// ReLU cuts off gets argMax -1, which maxPoolBackward already skips (no gradient flows there).
function reluMaxPoolForward(x: FloatArray, g: WindowGeometry, out: FloatArray, argMax?: Int32Array): void {
  const n = g.batch * g.channels * g.outputHeight * g.outputWidth;
  const a = argMax ?? new Int32Array(n);
  maxPoolForward(x, g, out, a);
  for (let i = 0; i < n; i++) {
    if (out[i] <= 0) {
      out[i] = 0;
      a[i] = -1;
    }
  }
}

/** The gradient of the ReLU's input: argMax -1 (cut off by the ReLU) routes nothing. */
function reluMaxPoolBackward(dout: FloatArray, argMax: Int32Array, g: WindowGeometry, dx: FloatArray): void {
  maxPoolBackward(dout, argMax, g, dx);
}

function transpose021(x: FloatArray, a: number, b: number, c: number, out: FloatArray, bias?: FloatArray, sums?: FloatArray): void {
  const block = b * c;
  if (sums) {
    sums.fill(0, 0, b);
    for (let i = 0; i < a; i++) {
      for (let j = 0; j < b; j++) {
        let s = 0;
        for (let k = 0; k < c; k++) s += x[i * block + j * c + k];
        sums[j] += s;
      }
    }
  }
  for (let i = 0; i < a; i++) {
    const base = i * block;
    for (let j = 0; j < b; j++) {
      if (bias) for (let k = 0; k < c; k++) out[base + k * b + j] = x[base + j * c + k] + bias[k];
      else for (let k = 0; k < c; k++) out[base + k * b + j] = x[base + j * c + k];
    }
  }
}

function addBias(x: FloatArray, bias: FloatArray, rows: number, cols: number, out: FloatArray): void {
  for (let i = 0; i < rows; i++) {
    const r = i * cols;
    for (let j = 0; j < cols; j++) out[r + j] = x[r + j] + bias[j];
  }
}

function sumRows(x: FloatArray, rows: number, cols: number, out: FloatArray): void {
  out.fill(0, 0, cols);
  for (let i = 0; i < rows; i++) {
    const r = i * cols;
    for (let j = 0; j < cols; j++) out[j] += x[r + j];
  }
}

function reluForward(x: FloatArray, out: FloatArray, mask?: Uint8Array): void {
  if (!mask) {
    for (let i = 0; i < x.length; i++) out[i] = x[i] <= 0 ? 0 : x[i];
    return;
  }
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    const off = v <= 0;
    mask[i] = off ? 1 : 0;
    out[i] = off ? 0 : v;
  }
}

function reluBackward(dout: FloatArray, mask: Uint8Array, dx: FloatArray): void {
  for (let i = 0; i < dout.length; i++) dx[i] = mask[i] ? 0 : dout[i];
}

function softmax(x: FloatArray, rows: number, cols: number, out: FloatArray): void {
  for (let i = 0; i < rows; i++) {
    const r = i * cols;
    let max = -Infinity;
    for (let j = 0; j < cols; j++) if (x[r + j] > max) max = x[r + j];
    let sum = 0;
    for (let j = 0; j < cols; j++) {
      const e = Math.exp(x[r + j] - max);
      out[r + j] = e;
      sum += e;
    }
    for (let j = 0; j < cols; j++) out[r + j] /= sum;
  }
}

function crossEntropy(y: FloatArray, labels: Int32Array, rows: number, cols: number): number {
  let sum = 0;
  for (let i = 0; i < rows; i++) sum += Math.log(y[i * cols + labels[i]] + 1e-7);
  return -sum / rows;
}

function softmaxCrossEntropyBackward(y: FloatArray, labels: Int32Array, rows: number, cols: number, dx: FloatArray): void {
  for (let i = 0; i < rows; i++) {
    const r = i * cols;
    for (let j = 0; j < cols; j++) dx[r + j] = (y[r + j] - (j === labels[i] ? 1 : 0)) / rows;
  }
}

function argmaxRows(x: FloatArray, rows: number, cols: number, out: Int32Array): void {
  for (let i = 0; i < rows; i++) {
    const r = i * cols;
    let best = 0;
    for (let j = 1; j < cols; j++) if (x[r + j] > x[r + best]) best = j;
    out[i] = best;
  }
}

function sgdUpdate(p: FloatArray, g: FloatArray, lr: number): void {
  for (let i = 0; i < p.length; i++) p[i] -= lr * g[i];
}

function momentumUpdate(p: FloatArray, g: FloatArray, v: FloatArray, lr: number, momentum: number): void {
  for (let i = 0; i < p.length; i++) {
    v[i] = momentum * v[i] - lr * g[i];
    p[i] += v[i];
  }
}

function adagradUpdate(p: FloatArray, g: FloatArray, h: FloatArray, lr: number, eps: number): void {
  for (let i = 0; i < p.length; i++) {
    h[i] += g[i] * g[i];
    p[i] -= (lr * g[i]) / (Math.sqrt(h[i]) + eps);
  }
}

function adamUpdate(
  p: FloatArray, g: FloatArray, m: FloatArray, v: FloatArray,
  lrT: number, beta1: number, beta2: number, eps: number,
): void {
  for (let i = 0; i < p.length; i++) {
    const gi = g[i];
    m[i] += (1 - beta1) * (gi - m[i]);
    v[i] += (1 - beta2) * (gi * gi - v[i]);
    p[i] -= (lrT * m[i]) / (Math.sqrt(v[i]) + eps);
  }
}

// ---- model-zoo ops ------------------------------------------------------------------------

function sigmoidForward(x: FloatArray, out: FloatArray): void {
  for (let i = 0; i < x.length; i++) out[i] = 1 / (1 + Math.exp(-x[i]));
}

function sigmoidBackward(dout: FloatArray, out: FloatArray, dx: FloatArray): void {
  for (let i = 0; i < dout.length; i++) dx[i] = dout[i] * out[i] * (1 - out[i]);
}

function tanhForward(x: FloatArray, out: FloatArray): void {
  for (let i = 0; i < x.length; i++) out[i] = Math.tanh(x[i]);
}

function tanhBackward(dout: FloatArray, out: FloatArray, dx: FloatArray): void {
  for (let i = 0; i < dout.length; i++) dx[i] = dout[i] * (1 - out[i] * out[i]);
}

// Average pooling on NCHW. Padding cells count as zeros: the divisor is always FH*FW, which is
// what the book's im2row + mean would compute (and ONNX's count_include_pad = 1).
function avgPoolForward(x: FloatArray, g: WindowGeometry, out: FloatArray): void {
  const { batch, channels: C, height: H, width: W, filterHeight: FH, filterWidth: FW, stride, pad, outputHeight: OH, outputWidth: OW } = g;
  const inv = 1 / (FH * FW);
  let o = 0;
  for (let p = 0; p < batch * C; p++) {
    const plane = p * H * W;
    for (let oy = 0; oy < OH; oy++) {
      for (let ox = 0; ox < OW; ox++, o++) {
        let sum = 0;
        for (let ky = 0; ky < FH; ky++) {
          const y = oy * stride + ky - pad;
          if (y < 0 || y >= H) continue;
          for (let kx = 0; kx < FW; kx++) {
            const xx = ox * stride + kx - pad;
            if (xx >= 0 && xx < W) sum += x[plane + y * W + xx];
          }
        }
        out[o] = sum * inv;
      }
    }
  }
}

function avgPoolBackward(dout: FloatArray, g: WindowGeometry, dx: FloatArray): void {
  const { batch, channels: C, height: H, width: W, filterHeight: FH, filterWidth: FW, stride, pad, outputHeight: OH, outputWidth: OW } = g;
  const inv = 1 / (FH * FW);
  dx.fill(0, 0, batch * C * H * W);
  let o = 0;
  for (let p = 0; p < batch * C; p++) {
    const plane = p * H * W;
    for (let oy = 0; oy < OH; oy++) {
      for (let ox = 0; ox < OW; ox++, o++) {
        const d = dout[o] * inv;
        for (let ky = 0; ky < FH; ky++) {
          const y = oy * stride + ky - pad;
          if (y < 0 || y >= H) continue;
          for (let kx = 0; kx < FW; kx++) {
            const xx = ox * stride + kx - pad;
            if (xx >= 0 && xx < W) dx[plane + y * W + xx] += d;
          }
        }
      }
    }
  }
}

/** s^-beta, with sqrt fast paths for AlexNet's 0.75 (and 0.5, 1): Math.pow with a fractional
 *  exponent costs ~100 ns in V8, which made LRN the slowest layer of AlexNet. */
function powNeg(s: number, beta: number): number {
  if (beta === 0.75) {
    const r = Math.sqrt(s);
    return 1 / (r * Math.sqrt(r));
  }
  if (beta === 0.5) return 1 / Math.sqrt(s);
  if (beta === 1) return 1 / s;
  return Math.pow(s, -beta);
}

// LRN across channels. The window of channel c is [c - lo, c + hi], lo = floor((size-1)/2),
// hi = ceil((size-1)/2) (ONNX's convention; symmetric for odd sizes), clipped at the edges.
function lrnForward(
  x: FloatArray, batch: number, channels: number, spatial: number,
  size: number, k: number, alpha: number, beta: number, out: FloatArray, scale?: FloatArray,
): void {
  const lo = Math.floor((size - 1) / 2), hi = Math.ceil((size - 1) / 2);
  for (let n = 0; n < batch; n++) {
    const base = n * channels * spatial;
    for (let c = 0; c < channels; c++) {
      const from = Math.max(0, c - lo), to = Math.min(channels - 1, c + hi);
      for (let s = 0; s < spatial; s++) {
        let sum = 0;
        for (let j = from; j <= to; j++) {
          const v = x[base + j * spatial + s];
          sum += v * v;
        }
        const i = base + c * spatial + s;
        const sc = k + alpha * sum;
        if (scale) scale[i] = sc;
        out[i] = x[i] * powNeg(sc, beta);
      }
    }
  }
}

// y_i = x_i * s_i^-beta with s_i = k + alpha * sum_{j in W(i)} x_j^2, so
// dx_j = dout_j * s_j^-beta - 2 * alpha * beta * x_j * sum_{i : j in W(i)} dout_i * x_i * s_i^(-beta-1).
// j is in W(i) = [i - lo, i + hi] exactly when i is in [j - hi, j + lo]: mirrored, which matters
// for even sizes (a symmetric loop there gives a wrong gradient at every channel).
// One pow per element (not per window entry): the per-channel terms of one position are
// computed first, then summed over the windows (pow dominated AlexNet's step 5x otherwise).
function lrnBackward(
  x: FloatArray, scale: FloatArray, dout: FloatArray, batch: number, channels: number, spatial: number,
  size: number, alpha: number, beta: number, dx: FloatArray,
): void {
  const lo = Math.floor((size - 1) / 2), hi = Math.ceil((size - 1) / 2);
  const term = new Float64Array(channels); // dout_i * x_i * s_i^(-beta-1) for one position
  for (let n = 0; n < batch; n++) {
    const base = n * channels * spatial;
    for (let s = 0; s < spatial; s++) {
      for (let c = 0; c < channels; c++) {
        const q = base + c * spatial + s;
        const p = powNeg(scale[q], beta);
        dx[q] = dout[q] * p;
        term[c] = (dout[q] * x[q] * p) / scale[q];
      }
      for (let c = 0; c < channels; c++) {
        const from = Math.max(0, c - hi), to = Math.min(channels - 1, c + lo);
        let sum = 0;
        for (let i = from; i <= to; i++) sum += term[i];
        const j = base + c * spatial + s;
        dx[j] -= 2 * alpha * beta * x[j] * sum;
      }
    }
  }
}

function mul(a: FloatArray, b: FloatArray, out: FloatArray): void {
  for (let i = 0; i < a.length; i++) out[i] = a[i] * b[i];
}

function batchNormForward(
  x: FloatArray, batch: number, channels: number, spatial: number,
  gamma: FloatArray, beta: FloatArray, eps: number, train: boolean, momentum: number,
  runningMean: FloatArray, runningVar: FloatArray, out: FloatArray, xhat?: FloatArray, invStd?: FloatArray,
): void {
  const M = batch * spatial;
  for (let c = 0; c < channels; c++) {
    let mean: number, variance: number;
    if (train) {
      // Two passes (mean, then squared deviations): the one-pass E[x^2] - E[x]^2 loses all
      // precision in float32 when the mean is large compared with the spread.
      let sum = 0;
      for (let n = 0; n < batch; n++) {
        const p = (n * channels + c) * spatial;
        for (let s = 0; s < spatial; s++) sum += x[p + s];
      }
      mean = sum / M;
      let sq = 0;
      for (let n = 0; n < batch; n++) {
        const p = (n * channels + c) * spatial;
        for (let s = 0; s < spatial; s++) {
          const d = x[p + s] - mean;
          sq += d * d;
        }
      }
      variance = sq / M;
      runningMean[c] = momentum * runningMean[c] + (1 - momentum) * mean;
      runningVar[c] = momentum * runningVar[c] + (1 - momentum) * variance;
    } else {
      mean = runningMean[c];
      variance = runningVar[c];
    }
    const inv = 1 / Math.sqrt(variance + eps);
    if (invStd) invStd[c] = inv;
    const gm = gamma[c], bt = beta[c];
    for (let n = 0; n < batch; n++) {
      const p = (n * channels + c) * spatial;
      for (let s = 0; s < spatial; s++) {
        const h = (x[p + s] - mean) * inv;
        if (xhat) xhat[p + s] = h;
        out[p + s] = gm * h + bt;
      }
    }
  }
}

function batchNormBackward(
  dout: FloatArray, xhat: FloatArray, invStd: FloatArray, gamma: FloatArray,
  batch: number, channels: number, spatial: number, dx: FloatArray, dgamma: FloatArray, dbeta: FloatArray,
): void {
  const M = batch * spatial;
  for (let c = 0; c < channels; c++) {
    let db = 0, dg = 0;
    for (let n = 0; n < batch; n++) {
      const p = (n * channels + c) * spatial;
      for (let s = 0; s < spatial; s++) {
        db += dout[p + s];
        dg += dout[p + s] * xhat[p + s];
      }
    }
    dbeta[c] = db;
    dgamma[c] = dg;
    const f = (gamma[c] * invStd[c]) / M;
    for (let n = 0; n < batch; n++) {
      const p = (n * channels + c) * spatial;
      for (let s = 0; s < spatial; s++) dx[p + s] = f * (M * dout[p + s] - db - xhat[p + s] * dg);
    }
  }
}

export function firstNonFinite(x: FloatArray): number {
  for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i])) return i;
  return -1;
}

export const jsBackend: Backend = {
  name: 'js',
  allocate: hostAllocator,
  firstNonFinite,
  sigmoidForward,
  sigmoidBackward,
  tanhForward,
  tanhBackward,
  avgPoolForward,
  avgPoolBackward,
  lrnForward,
  lrnBackward,
  mul,
  batchNormForward,
  batchNormBackward,
  gemm,
  im2row,
  row2im,
  convForward,
  convBackwardFilter,
  convBackwardData,
  maxPoolForward,
  maxPoolBackward,
  reluMaxPoolForward,
  reluMaxPoolBackward,
  transpose021,
  addBias,
  sumRows,
  reluForward,
  reluBackward,
  softmax,
  crossEntropy,
  softmaxCrossEntropyBackward,
  argmaxRows,
  sgdUpdate,
  momentumUpdate,
  adagradUpdate,
  adamUpdate,
};
