// softmax and cross entropy as plain functions (book 3.5 and 4.2.4), batch or single sample.

import { type Backend } from '../backend/backend.js';
import { getBackend } from '../backend/registry.js';
import { ShapeError } from '../errors.js';
import { Tensor, zeros } from '../tensor.js';

/** Labels as class indices: Int32Array, or a one-hot (N, classes) Tensor (argmax taken, as the book does). */
export type Labels = Int32Array | Tensor;

function rowsCols(x: Tensor): [number, number] {
  if (x.ndim === 1) return [1, x.shape[0]];
  if (x.ndim !== 2) throw new ShapeError(`expected scores of shape (N, classes), got (${x.shape.join(', ')})`);
  return [x.shape[0], x.shape[1]];
}

/** Row-wise softmax of (N, classes) scores, or of a single score vector. */
export function softmax(x: Tensor, backend: Backend = getBackend()): Tensor {
  const [rows, cols] = rowsCols(x);
  const out = zeros(x.shape, x.dtype);
  backend.softmax(x.data, rows, cols, out.data);
  return out;
}

/** Class indices from labels given either way; checks count and range. */
export function toClassIndices(t: Labels, rows: number, classes: number): Int32Array {
  let labels: Int32Array;
  if (t instanceof Tensor) {
    // One-hot: the book's `t = t.argmax(axis=1)`.
    if (t.size !== rows * classes) {
      throw new ShapeError(`one-hot labels of shape (${t.shape.join(', ')}) do not match ${rows} rows of ${classes} classes`);
    }
    labels = new Int32Array(rows);
    getBackend('js').argmaxRows(t.data, rows, classes, labels);
  } else {
    labels = t;
  }
  if (labels.length !== rows) throw new ShapeError(`got ${labels.length} labels for ${rows} samples`);
  for (let i = 0; i < rows; i++) {
    if (!(labels[i] >= 0 && labels[i] < classes)) {
      throw new ShapeError(`label ${labels[i]} at index ${i} is outside 0..${classes - 1}`);
    }
  }
  return labels;
}

/** Mean cross-entropy error of probabilities y against labels t, with the book's 1e-7 guard. */
export function crossEntropyError(y: Tensor, t: Labels, backend: Backend = getBackend()): number {
  const [rows, cols] = rowsCols(y);
  const labels = toClassIndices(t, rows, cols);
  return backend.crossEntropy(y.data, labels, rows, cols);
}
