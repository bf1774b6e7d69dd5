// A persistent pool of worker threads over the one shared WebAssembly.Memory.
//
// Each worker instantiates the same compiled module on the same memory and sleeps in
// Atomics.wait on a generation counter. To run a job the caller writes the job record (layout in
// abi.ts, decoded by runChunk in assembly/kernels.ts), opens a chunk counter, bumps the generation and notifies;
// then every participant, the caller included, claims chunk indices with Atomics.add until
// none are left (dynamic chunking: a core busy with something else simply takes fewer chunks).
// The caller waits for the count of finished chunks, never for particular workers, so a
// worker that wakes late costs nothing. The caller never spins (a spin stalls ~8 ms when the
// other core is taken); a helper looks for the next job for SPIN_MS before it sleeps. No
// postMessage per op.
//
// Starting (measured, BENCHMARKS.md): a Node worker_threads thread starts on its own; a Web
// Worker spawned from a worker starts only once the spawning thread returns to its event loop
// (Chromium: a helper spawned inside a synchronous training loop ran no chunk at all). A pool
// started lazily, at the first big op of a step, thus had a helper that never ran and a caller
// that claimed every chunk itself. `whenRunning()` awaits the helpers' start handshake; the
// backend's `startThreads()` (called by `ready()` and `setThreads()` in browsers) uses it, and a
// browser pool whose first job finds a helper not running says so once.
//
// Control words (Int32 at `ctrl`): 0 generation, 1 next chunk, 2 chunks done, 3 chunk count,
// 4 stop, 5 failed chunks, 6 chunks run by helpers (all jobs; for tests and reports), 7 helpers
// running (each adds 1 once instantiated: the start handshake). A closed pool's block is never
// reused (see close()). Pitfall (seen): the value given to Atomics.wait must be the one just
// checked; loading the counter again to get it can lose a wake-up and deadlock.

import { JOB_WORDS } from './abi.js';
import type { WasmMemory, WasmModuleObject } from './memory.js';

const GEN = 0, NEXT = 1, DONE = 2, COUNT = 3, STOP = 4, FAILED = 5, HELPED = 6, STARTED = 7;
const CLOSED = 0x3fffffff;
/** How long a helper looks for the next job before sleeping (ms): a network's ops follow each
 *  other within microseconds, and a wake-up from Atomics.wait costs ~0.1 ms of the next op
 *  (lenet's inference batch: ~2.4 ms with it, ~2.6 without, medians of alternating runs). Short
 *  enough that an idle pool costs nothing and a busy machine loses at most this per op. */
const SPIN_MS = 0.1;

// The worker's loop, shared by both hosts: Node runs it as CommonJS with `eval: true` (the same
// text works from src/ through tsx and from dist/), browsers as a Blob-URL Web Worker.
const LOOP = `
function serve({ module, memory, ctrl, job, scratch }, instantiate) {
  const run = instantiate(module, memory).exports.runChunk;
  const I = new Int32Array(memory.buffer, ctrl, 8);
  let seen = Atomics.load(I, ${GEN});
  Atomics.add(I, ${STARTED}, 1);
  Atomics.notify(I, ${STARTED});
  if (Atomics.load(I, ${STOP}) !== 0) return; // closed before this helper started
  const SPIN_MS = ${SPIN_MS};
  for (;;) {
    // the next op's job usually follows within microseconds (a network's forward pass): look for
    // it for a bounded while before sleeping, since a wake-up from Atomics.wait costs ~0.1 ms
    if (SPIN_MS > 0 && Atomics.load(I, ${GEN}) === seen) {
      const until = performance.now() + SPIN_MS;
      for (let i = 1; Atomics.load(I, ${GEN}) === seen; i++) if ((i & 255) === 0 && performance.now() > until) break;
    }
    Atomics.wait(I, ${GEN}, seen);
    seen = Atomics.load(I, ${GEN});
    if (Atomics.load(I, ${STOP}) !== 0) break;
    for (;;) {
      const c = Atomics.add(I, ${NEXT}, 1);
      if (c >= Atomics.load(I, ${COUNT})) break;
      // a trap must not leave the chunk unfinished (the caller would wait forever): count it
      // as done and flag the failure, which the caller turns into an exception
      try { run(job, c, scratch); } catch { Atomics.add(I, ${FAILED}, 1); }
      Atomics.add(I, ${HELPED}, 1);
      Atomics.add(I, ${DONE}, 1);
      Atomics.notify(I, ${DONE});
    }
  }
}
`;
export const NODE_WORKER_SOURCE = `${LOOP}
serve(require('node:worker_threads').workerData, (m, memory) => new WebAssembly.Instance(m, { env: { memory } }));
`;
export const BROWSER_WORKER_SOURCE = `${LOOP}
onmessage = (e) => serve(e.data, (m, memory) => new WebAssembly.Instance(m, { env: { memory } }));
`;

/** What a pool needs from a worker thread once started. */
export interface WorkerHandle {
  terminate(): void;
}
/** Starts one worker serving the pool with these settings (its host: Node or a browser);
 *  `failed` is called (once) if it cannot start, so nobody waits for its handshake. */
export type SpawnWorker = (data: { module: WasmModuleObject; memory: unknown; ctrl: number; job: number; scratch: number }, failed: (why: string) => void) => WorkerHandle;

export interface PoolOptions {
  /** A browser: helpers start only when this thread yields (say so if a job finds one idle). */
  browser?: boolean;
}

let idleNoticed = false;
const IDLE_NOTICE = "scratchnet: the wasm thread pool's helper workers are not running yet: in a browser they start only once this thread yields to its event loop, so a synchronous loop runs on one thread; `await ready()` (or `await setThreads(n)`) before it starts them";

type WaitAsync = (a: Int32Array, i: number, v: number, t: number) => { async: boolean; value: Promise<string> | string };

export class ThreadPool {
  readonly threads: number;
  private readonly runChunk: (job: number, c: number, scratch: number) => void;
  private readonly ctrl: Int32Array;
  readonly ctrlOffset: number;
  /** Byte offset of the job record (JOB_WORDS i32 words). */
  readonly job: number;
  /** Per-participant scratch offsets; [0] is the calling thread's. */
  readonly scratch: number[];
  private readonly workers: WorkerHandle[] = [];
  private readonly browser: boolean;
  private failedStarts: string[] = [];
  private closed = false;
  private helpedAtClose = 0;
  /** Parallel jobs run so far, and their chunks (for tests and reports). */
  jobs = 0;
  chunks = 0;

  constructor(mem: WasmMemory, module: WasmModuleObject, runChunk: (job: number, c: number, scratch: number) => void, scratch: number[], spawn: SpawnWorker, options: PoolOptions = {}) {
    this.browser = options.browser ?? false;
    this.runChunk = runChunk;
    this.threads = scratch.length;
    this.scratch = scratch;
    this.ctrlOffset = mem.alloc(64 + JOB_WORDS * 4);
    this.job = this.ctrlOffset + 64;
    this.ctrl = new Int32Array(mem.buffer, this.ctrlOffset, 16);
    this.ctrl.fill(0);
    Atomics.store(this.ctrl, NEXT, CLOSED);
    for (let t = 1; t < this.threads; t++) {
      let failed = false;
      const onFail = (why: string) => {
        if (!failed) this.failedStarts.push(why);
        failed = true;
      };
      this.workers.push(spawn({ module, memory: mem.memory, ctrl: this.ctrlOffset, job: this.job, scratch: scratch[t] }, onFail));
    }
  }

  /** Run chunks 0..count-1 of the job already written at `job`, on every thread; returns when all are done. */
  run(count: number): void {
    const I = this.ctrl;
    if (this.jobs === 0 && this.browser && !idleNoticed && Atomics.load(I, STARTED) + this.failedStarts.length < this.threads - 1) {
      idleNoticed = true;
      console.warn(IDLE_NOTICE);
    }
    this.jobs++;
    this.chunks += count;
    Atomics.store(I, COUNT, count);
    Atomics.store(I, DONE, 0);
    Atomics.store(I, FAILED, 0);
    Atomics.store(I, NEXT, 0);
    Atomics.add(I, GEN, 1);
    Atomics.notify(I, GEN);
    const s = this.scratch[0];
    let error: unknown = null;
    for (;;) {
      const c = Atomics.add(I, NEXT, 1);
      if (c >= count) break;
      try {
        this.runChunk(this.job, c, s);
      } catch (e) {
        error ??= e;
      }
      Atomics.add(I, DONE, 1);
    }
    let d: number;
    while ((d = Atomics.load(I, DONE)) < count) Atomics.wait(I, DONE, d);
    Atomics.store(I, NEXT, CLOSED);
    if (error) throw error;
    if (Atomics.load(I, FAILED) > 0) throw new Error('scratchnet: a wasm kernel failed in a worker thread');
  }

  /** Chunks the helper threads ran so far (the rest the calling thread ran itself). */
  get helperChunks(): number {
    return this.closed ? this.helpedAtClose : Atomics.load(this.ctrl, HELPED);
  }

  /** Helpers that have instantiated the module and wait for jobs. */
  get running(): number {
    return this.closed ? 0 : Atomics.load(this.ctrl, STARTED);
  }

  /** Why helpers failed to start (a failed helper only means fewer hands). */
  get startErrors(): readonly string[] {
    return this.failedStarts;
  }

  /** Resolves, yielding to the event loop meanwhile, once every helper has started (or failed
   *  to), or after `timeoutMs`; with the number running. */
  async whenRunning(timeoutMs = 10_000): Promise<number> {
    const helpers = this.threads - 1;
    const end = Date.now() + timeoutMs;
    const waitAsync = (Atomics as unknown as { waitAsync?: WaitAsync }).waitAsync;
    for (;;) {
      if (this.closed) return 0;
      const n = Atomics.load(this.ctrl, STARTED);
      if (n + this.failedStarts.length >= helpers || Date.now() >= end) return n;
      // short waits: a failed start is reported by an event, not through the control word
      const w = waitAsync?.(this.ctrl, STARTED, n, 20);
      if (w?.async) await w.value;
      else await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** Stop the workers (they finish nothing in flight: call between jobs). */
  close(): void {
    this.helpedAtClose = Atomics.load(this.ctrl, HELPED);
    this.closed = true;
    Atomics.store(this.ctrl, STOP, 1);
    Atomics.add(this.ctrl, GEN, 1);
    Atomics.notify(this.ctrl, GEN);
    for (const w of this.workers) w.terminate();
    this.workers.length = 0;
    // The control block (256 bytes) is never freed. terminate() is asynchronous: a helper the
    // OS has not scheduled yet may still be waiting on GEN. Were the block handed to the next
    // pool (setThreads), its cleared STOP and bumped GEN would wake that stale helper into the
    // new pool's jobs, with a scratch area since freed (seen: a helper "ran chunks" of a pool
    // whose own helper had not started). Kept, STOP stays 1 and it can only exit.
  }
}
