// The arena: every activation, cache and scratch buffer of a network, allocated once per shape
// on the network's backend and reused on every call, so a training step allocates nothing in
// its hot path (a fresh 6.9 MB array costs ~18 ms of page faults on a small VM, more than the
// GEMM that fills it). One arena per network, as llm.c keeps its activations in one block:
// `dispose()` gives all of it back at once, and its size is one number (`bytes`).
// Each layer gets a `Workspace`: its scope in the arena (keys prefixed with the layer's name).
//
// The price, as in every framework that reuses buffers: a tensor returned by a layer's
// forward/backward is overwritten by that layer's next call. Network.predict returns a copy.

import type { Backend } from './backend.js';
import { type DType, dtypeOf, type FloatArray, shapeEquals, sizeOf, Tensor } from '../tensor.js';

type Kind = DType | 'int32' | 'uint8';
type Slot = { kind: Kind; data: FloatArray | Int32Array | Uint8Array; tensor: Tensor | null };

export class Arena {
  readonly backend: Backend;
  private readonly slots = new Map<string, Slot>();
  private disposed = false;

  constructor(backend: Backend) {
    this.backend = backend;
  }

  /** The buffers of one owner (a layer, the trainer), keys prefixed with `name`. */
  scope(name: string): Workspace {
    return new Workspace(this, name);
  }

  /** The slot under `key`, holding an array of `kind` and `length`: reused while both stay the
   *  same (contents left from the previous use, not zeroed), else allocated anew. */
  private slot(key: string, kind: Kind, length: number): Slot {
    const slot = this.slots.get(key);
    if (slot && slot.kind === kind && slot.data.length === length) return slot;
    if (this.disposed) throw new Error('this network was disposed: its buffers are gone');
    if (slot) this.backend.allocate.release(slot.data);
    const a = this.backend.allocate;
    const data = kind === 'float32' ? a.float32(length) : kind === 'float64' ? a.float64(length) : kind === 'int32' ? a.int32(length) : a.uint8(length);
    const fresh = { kind, data, tensor: null };
    this.slots.set(key, fresh);
    return fresh;
  }

  /** An array of `kind` and `length` under `key` (see slot()). */
  array(key: string, kind: Kind, length: number): FloatArray | Int32Array | Uint8Array {
    return this.slot(key, kind, length).data;
  }

  /** A tensor of this shape and dtype under `key` (see slot()). */
  tensor(key: string, shape: readonly number[], dtype: DType): Tensor {
    const slot = this.slot(key, dtype, sizeOf(shape));
    if (!slot.tensor || !shapeEquals(slot.tensor.shape, shape)) slot.tensor = new Tensor(slot.data as FloatArray, shape);
    return slot.tensor;
  }

  /** Bytes held by the arena's buffers. */
  get bytes(): number {
    let n = 0;
    for (const s of this.slots.values()) n += s.data.byteLength;
    return n;
  }

  /** Give every buffer back to the backend now (a wasm backend's memory is otherwise reclaimed
   *  only when the garbage collector gets to the views). Later use throws. */
  dispose(): void {
    for (const s of this.slots.values()) this.backend.allocate.release(s.data);
    this.slots.clear();
    this.disposed = true;
  }
}

/** One owner's part of an arena. */
export class Workspace {
  readonly arena: Arena;
  private readonly prefix: string;

  constructor(arena: Arena, prefix: string) {
    this.arena = arena;
    this.prefix = prefix ? `${prefix}.` : '';
  }

  get backend(): Backend {
    return this.arena.backend;
  }

  /** A tensor of this shape and dtype, its contents left from the previous call (not zeroed). */
  tensor(key: string, shape: readonly number[], dtype: DType): Tensor {
    return this.arena.tensor(this.prefix + key, shape, dtype);
  }

  /** A tensor like `like` (same dtype). */
  like(key: string, shape: readonly number[], like: Tensor | FloatArray): Tensor {
    return this.tensor(key, shape, like instanceof Tensor ? like.dtype : dtypeOf(like));
  }

  int32(key: string, length: number): Int32Array {
    return this.arena.array(this.prefix + key, 'int32', length) as Int32Array;
  }

  uint8(key: string, length: number): Uint8Array {
    return this.arena.array(this.prefix + key, 'uint8', length) as Uint8Array;
  }
}
