// Workspaces: a layer's output and scratch buffers, allocated once per shape and reused on
// every call, so a training step allocates nothing in its hot path (a fresh 6.9 MB array
// costs ~18 ms of page faults on a small VM, more than the GEMM that fills it). Where the
// backend has its own memory (wasm), the buffers live there and its kernels use them in place.
//
// The price, as in every framework that reuses buffers: a tensor returned by a layer's
// forward/backward is overwritten by that layer's next call. Network.predict returns a copy.

import type { Backend } from './backend.js';
import { type DType, dtypeOf, type FloatArray, shapeEquals, Tensor } from '../tensor.js';

type Slot = { data: FloatArray | Int32Array | Uint8Array; tensor: Tensor | null; backend: Backend };

export class Workspace {
  private readonly slots = new Map<string, Slot>();
  private readonly owner: { backend: Backend };

  /** owner.backend is read on every call, so a layer whose backend changes gets new buffers. */
  constructor(owner: { backend: Backend }) {
    this.owner = owner;
  }

  private reuse(key: string, length: number, kind: string): Slot | null {
    const slot = this.slots.get(key);
    if (!slot) return null;
    const data = slot.data;
    const sameKind = kind === 'float64' ? data instanceof Float64Array
      : kind === 'float32' ? data instanceof Float32Array
      : kind === 'int32' ? data instanceof Int32Array : data instanceof Uint8Array;
    if (sameKind && data.length === length && slot.backend === this.owner.backend) return slot;
    slot.backend.allocate.release(data);
    this.slots.delete(key);
    return null;
  }

  /** A tensor of this shape and dtype, its contents left from the previous call (not zeroed). */
  tensor(key: string, shape: readonly number[], dtype: DType): Tensor {
    let length = 1;
    for (const d of shape) length *= d;
    const slot = this.reuse(key, length, dtype);
    if (slot) {
      if (!slot.tensor || !shapeEquals(slot.tensor.shape, shape)) slot.tensor = new Tensor(slot.data as FloatArray, shape);
      return slot.tensor;
    }
    const be = this.owner.backend;
    const data = dtype === 'float32' ? be.allocate.float32(length) : be.allocate.float64(length);
    const tensor = new Tensor(data, shape);
    this.slots.set(key, { data, tensor, backend: be });
    return tensor;
  }

  /** A tensor like `like` (same dtype). */
  like(key: string, shape: readonly number[], like: Tensor | FloatArray): Tensor {
    return this.tensor(key, shape, like instanceof Tensor ? like.dtype : dtypeOf(like));
  }

  int32(key: string, length: number): Int32Array {
    const slot = this.reuse(key, length, 'int32');
    if (slot) return slot.data as Int32Array;
    const be = this.owner.backend;
    const data = be.allocate.int32(length);
    this.slots.set(key, { data, tensor: null, backend: be });
    return data;
  }

  uint8(key: string, length: number): Uint8Array {
    const slot = this.reuse(key, length, 'uint8');
    if (slot) return slot.data as Uint8Array;
    const be = this.owner.backend;
    const data = be.allocate.uint8(length);
    this.slots.set(key, { data, tensor: null, backend: be });
    return data;
  }
}

/** Move a float32 tensor's storage into the backend's memory (values kept, same Tensor object),
 *  so its kernels use it in place. Used for long-lived tensors: parameters, gradients,
 *  optimizer state. Does nothing for float64, for backends without memory of their own, or
 *  when the tensor already lives there. */
export function adoptStorage(t: Tensor, backend: Backend): void {
  const alloc = backend.allocate;
  if (!(t.data instanceof Float32Array) || t.size === 0) return;
  if (alloc.owns(t.data)) return;
  const data = alloc.float32(t.size);
  data.set(t.data);
  // Tensor.data is readonly for users; replacing it here, before any kernel has run, is the one
  // place the storage of a live tensor changes.
  (t as { data: FloatArray }).data = data;
}
