// The Backend interface: the short list of numeric kernels the layers are written in.
// A layer never loops over elements itself; it calls these, so a layer file reads like the
// book's NumPy code and a faster backend (wasm, later webgpu) only has to implement this list.
//
// Conventions: every array is a flat, contiguous, row-major FloatArray (Float32Array, or
// Float64Array on the js backend for well-conditioned gradient checks); sizes are passed
// explicitly; `out` arguments are written (never read) unless the op says it accumulates.

import type { FloatArray } from '../tensor.js';

/** Geometry of a sliding window over an (N, C, H, W) batch. */
export interface WindowGeometry {
  batch: number; // N
  channels: number; // C
  height: number; // H
  width: number; // W
  filterHeight: number; // FH (or pool height)
  filterWidth: number; // FW
  stride: number;
  pad: number;
  outputHeight: number; // OH = floor((H + 2*pad - FH) / stride) + 1
  outputWidth: number; // OW
}

/** An elementwise function a convolution's forward may apply to its output (see convForward). */
export type ConvActivation = 'sigmoid' | 'relu';

/** Storage: a backend allocates the arrays its kernels compute on (zeroed). Host backends hand
 *  out typed arrays (js: ordinary ones; wasm: views into its WebAssembly memory); a device
 *  backend (WebGPU) would hand out handles and read them back explicitly (docs/ARCHITECTURE.md).
 *  `release` gives an array back early (otherwise its block is reclaimed when the array is
 *  garbage collected). */
export interface Allocator {
  float32(length: number): Float32Array;
  /** float64 storage (gradient checks): host memory on every backend. */
  float64(length: number): Float64Array;
  int32(length: number): Int32Array;
  uint8(length: number): Uint8Array;
  release(view: Float32Array | Float64Array | Int32Array | Uint8Array): void;
  /** True when the array lives in this allocator's memory (a kernel can use it in place). */
  owns(view: ArrayBufferView): boolean;
}

/** Ordinary garbage-collected typed arrays: the js backend's storage, and the wasm backend's
 *  where its memory cannot be shared (its kernels then copy operands in and out per call). */
export const hostAllocator: Allocator = {
  float32: (n) => new Float32Array(n),
  float64: (n) => new Float64Array(n),
  int32: (n) => new Int32Array(n),
  uint8: (n) => new Uint8Array(n),
  release: () => undefined,
  owns: () => true,
};

export interface Backend {
  readonly name: string;
  /** Storage the backend's kernels use in place. Networks keep parameters, gradients,
   *  optimizer state and their activation arena there; an array from elsewhere works too on
   *  every op (the wasm backend copies it in and out per call). */
  readonly allocate: Allocator;
  /** Optional: the most bytes its storage can hold (the wasm backend: 4 GiB of WebAssembly
   *  memory); networks size their batches by it before allocating. */
  readonly maxBytes?: number;
  /** Optional: how many threads the backend may use (the wasm backend's pool size). */
  setThreads?(n: number): void;
  /** Optional: start those threads now and resolve once they run, with how many work (the wasm
   *  backend in browsers, whose helper workers start only when the thread yields). */
  startThreads?(): Promise<number>;

  /** C = alpha * op(A) * op(B) + beta * C, with op(A): (M, K), op(B): (K, N), C: (M, N).
   *  A is stored (M, K) or, when transA, (K, M); B is (K, N) or, when transB, (N, K). */
  gemm(
    transA: boolean, transB: boolean, M: number, N: number, K: number,
    alpha: number, A: FloatArray, B: FloatArray, beta: number, C: FloatArray,
  ): void;

  /** x: (N, C, H, W) -> out: (N*OH*OW, C*FH*FW), the book's im2col layout (zero padding). */
  im2row(x: FloatArray, g: WindowGeometry, out: FloatArray): void;
  /** row: (N*OH*OW, C*FH*FW) -> out: (N, C, H, W), overlapping windows summed (the adjoint of im2row). */
  row2im(row: FloatArray, g: WindowGeometry, out: FloatArray): void;

  /** The convolution's forward (book 7.4.3): x: (N, C, H, W), W: (FN, C, FH, FW), b: (FN,) ->
   *  out: (N, FN, OH, OW) = im2row(x) . W.reshape(FN, -1)^T + b, moved to NCHW. A backend need not
   *  materialise the rows (the wasm one packs them per block straight from the image).
   *  activation: then out = f(that), the bits sigmoidForward / reluForward would give, applied
   *  by the thread that computed the values while they are in its cache (lenet's conv + sigmoid,
   *  deep's and AlexNet's conv + ReLU); 'relu' writes its mask to `mask` when given (training). */
  convForward(x: FloatArray, W: FloatArray, b: FloatArray, filters: number, g: WindowGeometry, out: FloatArray, activation?: ConvActivation, mask?: Uint8Array): void;
  /** The convolution's parameter gradients from its input x and dout: (N, FN, OH, OW):
   *  dW = dout^T . im2row(x) (FN, C*FH*FW) and db = sum of dout over N, OH, OW (FN). */
  convBackwardFilter(x: FloatArray, dout: FloatArray, filters: number, g: WindowGeometry, dW: FloatArray, db: FloatArray): void;
  /** The convolution's input gradient: dx = row2im(dout . W) (N, C, H, W), dout: (N, FN, OH, OW). */
  convBackwardData(dout: FloatArray, W: FloatArray, filters: number, g: WindowGeometry, dx: FloatArray): void;

  /** x: (N, C, H, W) -> out: (N, C, OH, OW) window maxima; argMax gets the winning window
   *  position (ky*FW + kx) per output, the first one on ties. Padding cells never win. */
  maxPoolForward(x: FloatArray, g: WindowGeometry, out: FloatArray, argMax: Int32Array): void;
  /** dout: (N, C, OH, OW) -> dx: (N, C, H, W): each gradient routed to its window's argmax. */
  maxPoolBackward(dout: FloatArray, argMax: Int32Array, g: WindowGeometry, dx: FloatArray): void;

  /** ReLU then max pooling in one pass (the two layers fused, see layers/relu-max-pool.ts):
   *  out = maxPool(max(x, 0)), computed as max(maxPool(x), 0) (max commutes with the ReLU).
   *  argMax as maxPoolForward's, except -1 where the window's maximum is <= 0 (the ReLU cut it
   *  off: no gradient flows back there). Without argMax (inference) only out is written. */
  reluMaxPoolForward(x: FloatArray, g: WindowGeometry, out: FloatArray, argMax?: Int32Array): void;
  /** dout: (N, C, OH, OW) -> dx: (N, C, H, W), the gradient of the ReLU's input: each gradient
   *  routed to its window's argmax, none where argMax is -1 (already ReLU-masked). */
  reluMaxPoolBackward(dout: FloatArray, argMax: Int32Array, g: WindowGeometry, dx: FloatArray): void;

  /** (A, B, C) -> (A, C, B) for each of the A leading blocks: NHWC <-> NCHW moves. With a
   *  bias (length C), out[i, k, j] = x[i, j, k] + bias[k]: the convolution adds its bias on the
   *  way instead of in a pass of its own. With sums (length B), also sums[j] = sum over i, k of
   *  x[i, j, k]: the convolution's bias gradient, from the same pass over dout. */
  transpose021(x: FloatArray, a: number, b: number, c: number, out: FloatArray, bias?: FloatArray, sums?: FloatArray): void;

  /** out[i, j] = x[i, j] + bias[j] for an (rows, cols) matrix (out may be x). */
  addBias(x: FloatArray, bias: FloatArray, rows: number, cols: number, out: FloatArray): void;
  /** out[j] = sum_i x[i, j] for an (rows, cols) matrix (the bias gradient). */
  sumRows(x: FloatArray, rows: number, cols: number, out: FloatArray): void;

  /** out = max(x, 0); mask[i] = 1 where x <= 0 (the book's mask), else 0. Without a mask
   *  (inference) only out is written. */
  reluForward(x: FloatArray, out: FloatArray, mask?: Uint8Array): void;
  /** dx = dout where mask is 0, else 0. */
  reluBackward(dout: FloatArray, mask: Uint8Array, dx: FloatArray): void;

  /** Row-wise softmax of an (rows, cols) matrix, max-subtracted against overflow. */
  softmax(x: FloatArray, rows: number, cols: number, out: FloatArray): void;
  /** Mean over rows of -log(y[i, t_i] + 1e-7) for class labels t (the book's cross entropy). */
  crossEntropy(y: FloatArray, labels: Int32Array, rows: number, cols: number): number;
  /** dx = (y - onehot(t)) / rows: the gradient of softmax + cross entropy w.r.t. the scores. */
  softmaxCrossEntropyBackward(y: FloatArray, labels: Int32Array, rows: number, cols: number, dx: FloatArray): void;
  /** out[i] = index of the largest value in row i (first on ties). */
  argmaxRows(x: FloatArray, rows: number, cols: number, out: Int32Array): void;
  /** Index of the first NaN or infinity in x, or -1 (the trainer's non-finite guard, run on
   *  every gradient each step: a reduction, so a device backend need not read x back). */
  firstNonFinite(x: FloatArray): number;

  /** Optimizer updates, in place on the parameter p (the book's formulas). */
  sgdUpdate(p: FloatArray, g: FloatArray, lr: number): void;
  momentumUpdate(p: FloatArray, g: FloatArray, v: FloatArray, lr: number, momentum: number): void;
  adagradUpdate(p: FloatArray, g: FloatArray, h: FloatArray, lr: number, eps: number): void;
  /** m, v moments; lrT = lr * sqrt(1 - beta2^t) / (1 - beta1^t) (bias correction folded in). */
  adamUpdate(
    p: FloatArray, g: FloatArray, m: FloatArray, v: FloatArray,
    lrT: number, beta1: number, beta2: number, eps: number,
  ): void;

  // ---- ops of the model-zoo layers (sigmoid, tanh, average pooling, LRN, dropout, batch norm)
  /** out = 1 / (1 + exp(-x)). */
  sigmoidForward(x: FloatArray, out: FloatArray): void;
  /** dx = dout * out * (1 - out), out being the forward output. */
  sigmoidBackward(dout: FloatArray, out: FloatArray, dx: FloatArray): void;
  /** out = tanh(x). */
  tanhForward(x: FloatArray, out: FloatArray): void;
  /** dx = dout * (1 - out^2), out being the forward output. */
  tanhBackward(dout: FloatArray, out: FloatArray, dx: FloatArray): void;
  /** x: (N, C, H, W) -> out: (N, C, OH, OW) window means; padding cells count as zeros
   *  (the divisor is always FH*FW: ONNX AveragePool with count_include_pad = 1). */
  avgPoolForward(x: FloatArray, g: WindowGeometry, out: FloatArray): void;
  /** dout: (N, C, OH, OW) -> dx: (N, C, H, W), each gradient spread evenly over its window. */
  avgPoolBackward(dout: FloatArray, g: WindowGeometry, dx: FloatArray): void;
  /** Cross-channel local response normalisation (AlexNet 3.3) of x: (N, C, S) (S = H*W):
   *  scale[n,c,s] = k + alpha * sum of x[n,c',s]^2 over c' in [c - floor((size-1)/2), c + ceil((size-1)/2)]
   *  (clipped to the channels), out = x * scale^-beta. Without scale (inference) only out is written. */
  lrnForward(
    x: FloatArray, batch: number, channels: number, spatial: number,
    size: number, k: number, alpha: number, beta: number, out: FloatArray, scale?: FloatArray,
  ): void;
  /** dx of lrnForward, from the input x, the forward's scale and dout. */
  lrnBackward(
    x: FloatArray, scale: FloatArray, dout: FloatArray, batch: number, channels: number, spatial: number,
    size: number, alpha: number, beta: number, dx: FloatArray,
  ): void;
  /** out[i] = a[i] * b[i] (dropout's mask, forward and backward). */
  mul(a: FloatArray, b: FloatArray, out: FloatArray): void;
  /** Batch normalisation of x: (N, C, S) per channel c (S = H*W, or 1 after a dense layer).
   *  train: normalise with the batch's mean and biased variance over (N, S) and update
   *  running = momentum * running + (1 - momentum) * batch; otherwise normalise with the running
   *  statistics. Writes xhat = (x - mean) * invStd, invStd[c] = 1 / sqrt(var + eps) and
   *  out = gamma * xhat + beta. xhat and invStd may be left out at evaluation (inference: out alone). */
  batchNormForward(
    x: FloatArray, batch: number, channels: number, spatial: number,
    gamma: FloatArray, beta: FloatArray, eps: number, train: boolean, momentum: number,
    runningMean: FloatArray, runningVar: FloatArray, out: FloatArray, xhat?: FloatArray, invStd?: FloatArray,
  ): void;
  /** Training-mode backward: dbeta = sum dout, dgamma = sum dout * xhat (over N, S) and
   *  dx = gamma * invStd / M * (M * dout - dbeta - xhat * dgamma), M = N * S. */
  batchNormBackward(
    dout: FloatArray, xhat: FloatArray, invStd: FloatArray, gamma: FloatArray,
    batch: number, channels: number, spatial: number, dx: FloatArray, dgamma: FloatArray, dbeta: FloatArray,
  ): void;
}

/** The names of every op, so tests can assert that no backend misses one. */
export const BACKEND_OPS = [
  'gemm', 'im2row', 'row2im', 'convForward', 'convBackwardFilter', 'convBackwardData', 'maxPoolForward', 'maxPoolBackward', 'transpose021',
  'addBias', 'sumRows', 'reluForward', 'reluBackward', 'softmax', 'crossEntropy',
  'softmaxCrossEntropyBackward', 'argmaxRows', 'firstNonFinite', 'sgdUpdate', 'momentumUpdate', 'adagradUpdate',
  'adamUpdate',
  'sigmoidForward', 'sigmoidBackward', 'tanhForward', 'tanhBackward', 'avgPoolForward', 'avgPoolBackward',
  'lrnForward', 'lrnBackward', 'mul', 'batchNormForward', 'batchNormBackward',
  'reluMaxPoolForward', 'reluMaxPoolBackward',
] as const satisfies readonly (keyof Backend)[];

/** Output size of a sliding window: floor((size + 2*pad - filter) / stride) + 1. */
export function outputSize(size: number, filter: number, stride: number, pad: number): number {
  return Math.floor((size + 2 * pad - filter) / stride) + 1;
}
