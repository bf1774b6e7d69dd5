// The owner's side of the trainer worker: createTrainerWorker wraps a Worker (a page's Web
// Worker or Node's worker_threads Worker), waits for its 'ready' handshake, and gives typed
// commands and events. Commands sent before 'ready' are queued by the worker itself, so none is
// lost; `ready` resolves with the backend the worker runs on.

import type { TrainerCommand, TrainerDataSource, TrainerEvent, TrainerSettings } from './protocol.js';
import type { NetworkSpec } from '../models/spec.js';

/** What both Worker kinds have in common (Node's has `on`, a browser's `addEventListener`). */
export interface WorkerLike {
  postMessage(message: unknown, transfer: ArrayBuffer[]): void;
  terminate(): unknown;
  addEventListener?(type: 'message' | 'error', f: (e: { data?: unknown; message?: string }) => void): void;
  on?(event: 'message' | 'error', f: (m: unknown) => void): unknown;
}

export interface TrainerWorker {
  /** Resolves once the worker's backend is loaded and its thread pool runs: { backend: 'wasm', threads }. */
  readonly ready: Promise<{ backend: string; threads: number }>;
  start(model: string | NetworkSpec, data: TrainerDataSource, settings?: TrainerSettings): void;
  pause(): void;
  resume(): void;
  stop(): void;
  /** Applied between steps. */
  set(change: { lr?: number; batchSize?: number }): void;
  /** The model as it is now, as model-file bytes. */
  snapshot(): Promise<Uint8Array>;
  /** Every event the worker posts; returns a function that unsubscribes. */
  on(listener: (event: TrainerEvent) => void): () => void;
  /** Resolves with the 'done' event (model bytes included); rejects with an 'error' event's message. */
  done(): Promise<Extract<TrainerEvent, { type: 'done' }>>;
  terminate(): void;
}


/** Wraps a started worker running trainer-worker.ts (e.g. `new Worker(new URL('./trainer-worker.js',
 *  import.meta.url), { type: 'module' })`). */
export function createTrainerWorker(worker: WorkerLike): TrainerWorker {
  const listeners = new Set<(e: TrainerEvent) => void>();
  let resolveReady!: (v: { backend: string; threads: number }) => void;
  let rejectReady!: (e: Error) => void;
  const ready = new Promise<{ backend: string; threads: number }>((res, rej) => {
    resolveReady = res;
    rejectReady = rej;
  });
  let isReady = false;
  const deliver = (event: TrainerEvent) => {
    if (event.type === 'ready') {
      isReady = true;
      resolveReady({ backend: event.backend, threads: event.threads });
    } else if (event.type === 'error' && !isReady) {
      rejectReady(new Error(event.message));
    }
    for (const f of [...listeners]) f(event);
  };
  const fail = (message: string) => deliver({ type: 'error', message });
  if (worker.addEventListener) {
    worker.addEventListener('message', (e) => deliver(e.data as TrainerEvent));
    worker.addEventListener('error', (e) => fail(`worker error: ${e.message ?? 'unknown'}`));
  } else if (worker.on) {
    worker.on('message', (m) => deliver(m as TrainerEvent));
    worker.on('error', (e) => fail(`worker error: ${(e as Error)?.message ?? String(e)}`));
  }
  const send = (cmd: TrainerCommand, transfer: ArrayBuffer[] = []) => worker.postMessage(cmd, transfer);
  const on = (f: (e: TrainerEvent) => void) => {
    listeners.add(f);
    return () => listeners.delete(f);
  };
  const next = <T extends TrainerEvent['type']>(type: T) => new Promise<Extract<TrainerEvent, { type: T }>>((resolve, reject) => {
    const off = on((e) => {
      if (e.type === type) {
        off();
        resolve(e as Extract<TrainerEvent, { type: T }>);
      } else if (e.type === 'error') {
        off();
        reject(new Error(e.message));
      }
    });
  });
  return {
    ready,
    start(model, data, settings) {
      // the data set's buffers move to the worker instead of being copied (55 MB for MNIST)
      const transfer = 'base' in data ? [] : [...new Set(Object.values(data).filter((v) => typeof v === 'object').map((v) => (v instanceof ArrayBuffer ? v : (v as Uint8Array).buffer as ArrayBuffer)))];
      send({ type: 'start', model, data, settings }, transfer);
    },
    pause: () => send({ type: 'pause' }),
    resume: () => send({ type: 'resume' }),
    stop: () => send({ type: 'stop' }),
    set: (change) => send({ type: 'set', ...change }),
    async snapshot() {
      const answer = next('model');
      send({ type: 'snapshot' });
      return (await answer).bytes;
    },
    on,
    done: () => next('done'),
    terminate: () => void worker.terminate(),
  };
}
