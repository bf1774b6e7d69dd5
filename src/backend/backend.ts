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

export interface Backend {
  readonly name: string;

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

  /** x: (N, C, H, W) -> out: (N, C, OH, OW) window maxima; argMax gets the winning window
   *  position (ky*FW + kx) per output, the first one on ties. Padding cells never win. */
  maxPoolForward(x: FloatArray, g: WindowGeometry, out: FloatArray, argMax: Int32Array): void;
  /** dout: (N, C, OH, OW) -> dx: (N, C, H, W): each gradient routed to its window's argmax. */
  maxPoolBackward(dout: FloatArray, argMax: Int32Array, g: WindowGeometry, dx: FloatArray): void;

  /** (A, B, C) -> (A, C, B) for each of the A leading blocks: NHWC <-> NCHW moves. */
  transpose021(x: FloatArray, a: number, b: number, c: number, out: FloatArray): void;

  /** out[i, j] = x[i, j] + bias[j] for an (rows, cols) matrix (out may be x). */
  addBias(x: FloatArray, bias: FloatArray, rows: number, cols: number, out: FloatArray): void;
  /** out[j] = sum_i x[i, j] for an (rows, cols) matrix (the bias gradient). */
  sumRows(x: FloatArray, rows: number, cols: number, out: FloatArray): void;

  /** out = max(x, 0); mask[i] = 1 where x <= 0 (the book's mask), else 0. */
  reluForward(x: FloatArray, out: FloatArray, mask: Uint8Array): void;
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

  /** Optimizer updates, in place on the parameter p (the book's formulas). */
  sgdUpdate(p: FloatArray, g: FloatArray, lr: number): void;
  momentumUpdate(p: FloatArray, g: FloatArray, v: FloatArray, lr: number, momentum: number): void;
  adagradUpdate(p: FloatArray, g: FloatArray, h: FloatArray, lr: number, eps: number): void;
  /** m, v moments; lrT = lr * sqrt(1 - beta2^t) / (1 - beta1^t) (bias correction folded in). */
  adamUpdate(
    p: FloatArray, g: FloatArray, m: FloatArray, v: FloatArray,
    lrT: number, beta1: number, beta2: number, eps: number,
  ): void;
}

/** The names of every op, so tests can assert that no backend misses one. */
export const BACKEND_OPS = [
  'gemm', 'im2row', 'row2im', 'maxPoolForward', 'maxPoolBackward', 'transpose021',
  'addBias', 'sumRows', 'reluForward', 'reluBackward', 'softmax', 'crossEntropy',
  'softmaxCrossEntropyBackward', 'argmaxRows', 'sgdUpdate', 'momentumUpdate', 'adagradUpdate',
  'adamUpdate',
] as const satisfies readonly (keyof Backend)[];

/** Output size of a sliding window: floor((size + 2*pad - filter) / stride) + 1. */
export function outputSize(size: number, filter: number, stride: number, pad: number): number {
  return Math.floor((size + 2 * pad - filter) / stride) + 1;
}

// ---- backend selection -------------------------------------------------------------------
// A network takes a backend in its options; this default is what layers use when none is
// given. Backends register themselves by name so the CLI's `--backend` can pick one.

import { jsBackend } from './js.js';
import { UsageError } from '../errors.js';

const registry = new Map<string, Backend>([['js', jsBackend]]);
let current: Backend = jsBackend;

export function registerBackend(backend: Backend): void {
  registry.set(backend.name, backend);
}

export function backendNames(): string[] {
  return [...registry.keys()];
}

export function getBackend(name?: string): Backend {
  if (name === undefined) return current;
  const b = registry.get(name);
  if (!b) throw new UsageError(`unknown backend '${name}' (available: ${backendNames().join(', ')})`);
  return b;
}

/** Set the default backend for layers and networks created afterwards. */
export function setBackend(name: string | Backend): Backend {
  current = typeof name === 'string' ? getBackend(name) : name;
  if (typeof name !== 'string') registry.set(name.name, name);
  return current;
}
