// One WebAssembly.Memory for everything the wasm kernels touch, laid out from JavaScript.
//
//   [0, 64 KiB)      reserved for the module (AssemblyScript puts any static data at 1 KiB)
//   [64 KiB, ...)    blocks handed out by `alloc`: parameters, gradients, optimizer state,
//                    layer workspaces, per-thread scratch, the thread pool's control words
//
// The allocator is first-fit over a sorted free list with neighbour merging; blocks are
// 64-byte aligned (cache lines; v128 loads never straddle one). Allocation happens once per
// shape (workspaces are reused), so the list stays short and O(blocks) is fine.
//
// Views handed out by `float32()` etc. stay valid for the memory's lifetime only when the
// memory is *shared*: growing a SharedArrayBuffer-backed memory keeps old buffers usable,
// growing an ordinary one detaches every view. So views are offered only for shared memory;
// with an ordinary memory (browsers without cross-origin isolation) operands are copied in
// and out per op (`Staging`) and nothing outside this file keeps a view.

export type View = Float32Array | Int32Array | Uint8Array;

// The few WebAssembly types used here, declared locally: the project compiles without the DOM
// lib (where TypeScript keeps them), and declaring the global namespace could clash with it.
export interface WasmMemoryObject {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  grow(pages: number): number;
}
export type WasmModuleObject = object;
export interface WasmApi {
  Memory: new (descriptor: { initial: number; maximum: number; shared: boolean }) => WasmMemoryObject;
  validate(bytes: Uint8Array): boolean;
  compile(bytes: Uint8Array): Promise<WasmModuleObject>;
  instantiate(module: WasmModuleObject, imports: object): Promise<{ exports: object }>;
  /** Synchronous compilation (Node; browsers refuse it on the main thread above a few KB). */
  Module: new (bytes: Uint8Array) => WasmModuleObject;
  Instance: new (module: WasmModuleObject, imports: object) => { exports: object };
}
/** The engine's WebAssembly object, if it has one. */
export const webAssembly = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

const PAGE = 65536;
const ALIGN = 64;
const RESERVED = 65536;

export class WasmMemory {
  readonly memory: WasmMemoryObject;
  readonly shared: boolean;
  /** Every ArrayBuffer this memory has exposed (one per growth): a view is resident when its
   *  buffer is one of them. They all alias the same bytes from offset 0. */
  private readonly buffers = new Set<ArrayBufferLike>();
  private current: ArrayBufferLike;
  private top = RESERVED; // end of the highest block ever handed out
  private readonly freeList: { start: number; size: number }[] = [];
  private readonly sizes = new Map<number, number>();
  private readonly finalizer: FinalizationRegistry<number>;

  constructor(memory: WasmMemoryObject, shared: boolean) {
    this.memory = memory;
    this.shared = shared;
    this.current = memory.buffer;
    this.buffers.add(this.current);
    // A view dropped without release() gives its block back when it is collected.
    this.finalizer = new FinalizationRegistry((offset) => this.free(offset));
  }

  get buffer(): ArrayBufferLike {
    if (this.memory.buffer !== this.current) {
      this.current = this.memory.buffer;
      if (this.shared) this.buffers.add(this.current);
    }
    return this.current;
  }

  /** True when `a` is a view into this memory (so a kernel can use it in place). */
  resident(a: ArrayBufferView): boolean {
    return this.shared && this.buffers.has(a.buffer);
  }

  /** Bytes in use by live blocks (for tests and memory reports). */
  get bytesInUse(): number {
    let n = 0;
    for (const s of this.sizes.values()) n += s;
    return n;
  }

  get bytesReserved(): number {
    return this.buffer.byteLength;
  }

  /** A block of at least `bytes` bytes; returns its byte offset. Grows the memory if needed. */
  alloc(bytes: number): number {
    const size = Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
    for (let i = 0; i < this.freeList.length; i++) {
      const f = this.freeList[i];
      if (f.size >= size) {
        const start = f.start;
        if (f.size === size) this.freeList.splice(i, 1);
        else {
          f.start += size;
          f.size -= size;
        }
        this.sizes.set(start, size);
        return start;
      }
    }
    const start = this.top;
    const end = start + size;
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      // grow by at least 25% so a run of growing workspaces does not grow page by page
      const pages = Math.max(Math.ceil((end - have) / PAGE), Math.ceil(have / PAGE / 4));
      try {
        this.memory.grow(pages);
      } catch {
        this.memory.grow(Math.ceil((end - have) / PAGE));
      }
    }
    this.top = end;
    this.sizes.set(start, size);
    return start;
  }

  free(offset: number): void {
    const size = this.sizes.get(offset);
    if (size === undefined) return; // already freed
    this.sizes.delete(offset);
    // insert sorted, then merge with neighbours
    let i = 0;
    while (i < this.freeList.length && this.freeList[i].start < offset) i++;
    this.freeList.splice(i, 0, { start: offset, size });
    if (i + 1 < this.freeList.length && offset + size === this.freeList[i + 1].start) {
      this.freeList[i].size += this.freeList[i + 1].size;
      this.freeList.splice(i + 1, 1);
    }
    if (i > 0 && this.freeList[i - 1].start + this.freeList[i - 1].size === offset) {
      this.freeList[i - 1].size += this.freeList[i].size;
      this.freeList.splice(i, 1);
      i--;
    }
    // a free block at the top goes back to the bump region
    const last = this.freeList[this.freeList.length - 1];
    if (last && last.start + last.size === this.top) {
      this.top = last.start;
      this.freeList.pop();
    }
  }

  // ---- long-lived views (shared memory only) ----------------------------------------------

  float32(length: number): Float32Array {
    const off = this.alloc(length * 4);
    const v = new Float32Array(this.buffer, off, length);
    v.fill(0);
    this.finalizer.register(v, off, v);
    return v;
  }

  int32(length: number): Int32Array {
    const off = this.alloc(length * 4);
    const v = new Int32Array(this.buffer, off, length);
    v.fill(0);
    this.finalizer.register(v, off, v);
    return v;
  }

  uint8(length: number): Uint8Array {
    const off = this.alloc(length);
    const v = new Uint8Array(this.buffer, off, length);
    v.fill(0);
    this.finalizer.register(v, off, v);
    return v;
  }

  /** Give a view's block back now (it must not be used afterwards). */
  release(view: View): void {
    if (!this.resident(view)) return;
    if (this.finalizer.unregister(view)) this.free(view.byteOffset);
  }
}

/** Operands that are not resident are copied into temporary blocks for one kernel call and
 *  the outputs copied back at the end. With everything resident (the normal case in Node)
 *  this does nothing but return byte offsets. */
export class Staging {
  private readonly mem: WasmMemory;
  private readonly temps: number[] = [];
  private readonly outs: { view: View; off: number; bytes: number }[] = [];

  constructor(mem: WasmMemory) {
    this.mem = mem;
  }

  private place(a: View, length: number, copyIn: boolean, copyOut: boolean): number {
    if (this.mem.resident(a)) return a.byteOffset;
    const bytes = length * a.BYTES_PER_ELEMENT;
    const off = this.mem.alloc(bytes);
    this.temps.push(off);
    if (copyIn && length > 0) {
      new Uint8Array(this.mem.buffer, off, bytes).set(new Uint8Array(a.buffer, a.byteOffset, bytes));
    }
    if (copyOut) this.outs.push({ view: a, off, bytes });
    return off;
  }

  /** An input: read by the kernel. */
  in(a: View, length = a.length): number {
    return this.place(a, length, true, false);
  }

  /** An output the kernel overwrites without reading. */
  out(a: View, length = a.length): number {
    return this.place(a, length, false, true);
  }

  /** Read and written (optimizer state, accumulating outputs). */
  inout(a: View, length = a.length): number {
    return this.place(a, length, true, true);
  }

  /** Copy staged outputs back and free the temporaries. */
  end(): void {
    if (this.temps.length === 0) return;
    const buf = this.mem.buffer;
    for (const { view, off, bytes } of this.outs) {
      new Uint8Array(view.buffer, view.byteOffset, bytes).set(new Uint8Array(buf, off, bytes));
    }
    for (const off of this.temps) this.mem.free(off);
    this.temps.length = 0;
    this.outs.length = 0;
  }
}
