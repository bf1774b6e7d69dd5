// softmax and cross entropy as plain functions (book 3.5 and 4.2.4), batch or single sample.

import { type Backend } from '../backend/backend.js';
import { getBackend } from '../backend/registry.js';
import { ShapeError, ValueError } from '../errors.js';
import { Tensor, zeros } from '../tensor.js';

/** Labels: class indices (Int32Array, or any array of integer values: number[], Uint8Array,
 *  Float32Array ... are converted), or a one-hot (N, classes) Tensor (argmax taken, as the book
 *  does). Every backend accepts the same forms and refuses the same values. */
export type Labels = Int32Array | Tensor | ArrayLike<number>;

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

/** Class indices from labels given any accepted way; checks count, integrality and range.
 *  Written into `into` (a workspace buffer, so the backend reads it in place) when given. */
export function toClassIndices(t: Labels, rows: number, classes: number, into?: Int32Array): Int32Array {
  if (t instanceof Tensor) {
    // One-hot: the book's `t = t.argmax(axis=1)`.
    if (t.size !== rows * classes) {
      throw new ShapeError(`one-hot labels of shape (${t.shape.join(', ')}) do not match ${rows} rows of ${classes} classes`);
    }
    const labels = into ?? new Int32Array(rows);
    getBackend('js').argmaxRows(t.data, rows, classes, labels);
    return labels;
  }
  if (t === null || typeof t !== 'object' || typeof (t as ArrayLike<number>).length !== 'number') {
    throw new ShapeError(`labels must be an array of class indices or a one-hot Tensor, got ${t === null ? 'null' : typeof t}`);
  }
  if (t.length !== rows) throw new ShapeError(`got ${t.length} labels for ${rows} samples`);
  const labels = into ?? (t instanceof Int32Array ? t : new Int32Array(rows));
  for (let i = 0; i < rows; i++) {
    const v = t[i];
    if (!(typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < classes)) {
      throw new ValueError(`label ${String(v)} at index ${i} is not a class index in 0..${classes - 1}`);
    }
    labels[i] = v;
  }
  return labels;
}

/** Mean cross-entropy error of probabilities y against labels t, with the book's 1e-7 guard. */
export function crossEntropyError(y: Tensor, t: Labels, backend: Backend = getBackend()): number {
  const [rows, cols] = rowsCols(y);
  const labels = toClassIndices(t, rows, cols);
  return backend.crossEntropy(y.data, labels, rows, cols);
}
