// Tensors that live on a backend: allocation, writes from the host and explicit read-back.
// Host backends (js, wasm) keep tensors in typed arrays the program can read (`tensor.data`),
// so writing is a copy and reading is free. A device backend (WebGPU, planned) keeps them in
// buffers the host cannot touch: it supplies `write` / `read` hooks, and everything above the
// backend goes through these functions (model loading, the trainer's checks, pictures), never
// through `tensor.data` directly - see docs/ARCHITECTURE.md, "A device-resident backend".

import type { Backend } from './backend.js';
import { type DType, type FloatArray, sizeOf, Tensor } from '../tensor.js';

/** A zeroed tensor in the backend's storage. */
export function allocTensor(backend: Backend, shape: readonly number[], dtype: DType = 'float32'): Tensor {
  const n = sizeOf(shape);
  return new Tensor(dtype === 'float64' ? backend.allocate.float64(n) : backend.allocate.float32(n), shape);
}

/** A copy of `values` in the backend's storage. */
export function uploadTensor(backend: Backend, values: ArrayLike<number>, shape: readonly number[], dtype: DType = 'float32'): Tensor {
  const t = allocTensor(backend, shape, dtype);
  writeTensor(t, values);
  return t;
}

/** Copy host values into a tensor (same length). */
export function writeTensor(t: Tensor, values: ArrayLike<number>): void {
  if (values.length !== t.size) throw new RangeError(`writeTensor: ${values.length} values for a tensor of ${t.size}`);
  t.data.set(values);
}

/** The tensor's values on the host (a copy). Synchronous: host backends only. */
export function readTensorSync(t: Tensor): FloatArray {
  return t.data.slice();
}

/** The tensor's values on the host (a copy), once the backend has finished computing them.
 *  The form every caller that may run on a device backend uses. */
export async function readTensor(t: Tensor): Promise<FloatArray> {
  return readTensorSync(t);
}
