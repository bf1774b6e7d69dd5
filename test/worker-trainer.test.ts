// The worker trainer in Node's worker_threads (the same entry a page runs as a Web Worker):
// the ready handshake (a command sent before it is not lost), progress with falling loss,
// pause/resume, lr and batch size changed between steps, evaluations with a confusion matrix,
// first-layer weight snapshots, a mid-run model snapshot and the final model's bytes, which
// decodeModel reads back into a network that classifies like the one the worker trained.

import assert from 'node:assert/strict';

import { join } from 'node:path';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { defaultMnistDir } from '../src/data/mnist.js';
import { decodeModel } from '../src/io/model-file.js';
import { createTrainerWorker } from '../src/worker/client.js';
import type { TrainerEvent } from '../src/worker/protocol.js';

// Bundled first, as a page gets it (Node 20's workers do not take tsx's loader hooks); the
// .wasm files are named through workerData, as a page names them in the worker's URL.
let entry = '';
let dir = '';
const wasmPaths = fileURLToPath(new URL('../dist/wasm/', import.meta.url));
before(async () => {
  const esbuild = createRequire(import.meta.url)('esbuild') as typeof import('esbuild');
  dir = mkdtempSync(join(tmpdir(), 'scratchnet-worker-'));
  entry = join(dir, 'trainer-worker.mjs');
  await esbuild.build({
    entryPoints: [fileURLToPath(new URL('../src/worker/trainer-worker.ts', import.meta.url))],
    bundle: true, format: 'esm', platform: 'neutral', target: 'es2022', outfile: entry, logLevel: 'error',
    mainFields: ['module', 'main'],
  });
});
after(() => rmSync(dir, { recursive: true, force: true }));

function mnistBytes() {
  const dir = defaultMnistDir();
  // fresh copies: their buffers are transferred to the worker
  const read = (name: string) => new Uint8Array(readFileSync(join(dir, name)));
  return {
    trainImages: read('train-images-idx3-ubyte'), trainLabels: read('train-labels-idx1-ubyte'),
    testImages: read('t10k-images-idx3-ubyte'), testLabels: read('t10k-labels-idx1-ubyte'),
  };
}

describe('trainer worker (worker_threads)', () => {
  it('trains with progress, pause/resume, lr and batch changes, evaluations, snapshots and hands back the model', { timeout: 300_000 } /* ~10 s on wasm; minutes on the js reference backend */, async () => {
    const worker = new Worker(entry, { workerData: { threads: 2, wasmPaths } });
    const trainer = createTrainerWorker(worker);
    const events: TrainerEvent[] = [];
    trainer.on((e) => events.push(e));
    try {
      // sent before 'ready': the worker queues it
      trainer.start('simple', mnistBytes(), { trainSamples: 2000, batchSize: 50, epochs: 2, evalEvery: 20, evalSamples: 500, snapshotEvery: 10, seed: 3 });
      const info = await trainer.ready;
      // the default backend, as the suite runs it (SCRATCHNET_BACKEND=js runs it on js)
      assert.equal(info.backend, process.env.SCRATCHNET_BACKEND ?? 'wasm');
      // 'ready' comes once the pool's helper runs: it counts the threads working
      if (info.backend === 'wasm') assert.equal(info.threads, Math.min(2, availableParallelism()), 'threads running at ready');

      // pause after some progress: no step is taken while paused
      await new Promise<void>((resolve) => {
        const off = trainer.on((e) => {
          if (e.type === 'progress' && e.step >= 15) {
            off();
            resolve();
          }
        });
      });
      trainer.pause();
      // the step in flight finishes and posts its progress (a step takes ~10 ms on wasm, a few
      // hundred on js): wait until the count has stood still for 500 ms, then watch it
      const lastStep = () => Math.max(...events.filter((e) => e.type === 'progress').map((e) => (e as { step: number }).step));
      for (let seen = lastStep(), since = Date.now(); Date.now() - since < 500;) {
        await new Promise((r) => setTimeout(r, 50));
        if (lastStep() !== seen) [seen, since] = [lastStep(), Date.now()];
      }
      const stepAtPause = lastStep();
      await new Promise((r) => setTimeout(r, 600));
      const stepStill = lastStep();
      assert.equal(stepStill, stepAtPause, 'no progress while paused');
      assert.ok(events.some((e) => e.type === 'status' && e.state === 'paused'));

      const mid = decodeModel(await trainer.snapshot(), 'snapshot');
      assert.equal(mid.network.parameterCount > 0, true);
      trainer.set({ lr: 0.002, batchSize: 40 });
      trainer.resume();
      const done = await trainer.done();
      assert.equal(done.completed, true);
      assert.ok(done.finalTestAcc > 0.85, `final accuracy ${done.finalTestAcc}`);

      const progress = events.filter((e): e is Extract<TrainerEvent, { type: 'progress' }> => e.type === 'progress');
      const losses = progress.flatMap((p) => p.losses);
      assert.equal(losses.length, done.steps, 'every step\'s loss is posted once');
      const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
      assert.ok(mean(losses.slice(-10)) < mean(losses.slice(0, 10)) / 2, 'loss falls');
      const last = progress[progress.length - 1];
      assert.equal(last.lr, 0.002);
      assert.equal(last.batchSize, 40);
      assert.ok(last.stepsPerSecond > 0);

      const evals = events.filter((e): e is Extract<TrainerEvent, { type: 'eval' }> => e.type === 'eval');
      assert.ok(evals.length >= 3);
      const cm = evals[evals.length - 1].confusion;
      assert.equal(cm.length, 10);
      assert.equal(cm.flat().reduce((a, b) => a + b, 0), 500);

      const weights = events.filter((e): e is Extract<TrainerEvent, { type: 'weights' }> => e.type === 'weights');
      assert.ok(weights.length >= 5);
      assert.deepEqual(weights[0].shape, [30, 1, 5, 5]);
      assert.notDeepEqual(weights[0].data, weights[weights.length - 1].data, 'the filters changed');

      const model = decodeModel(done.bytes, 'done');
      assert.equal(model.training?.steps, done.steps);
      assert.equal(model.network.parameterCount, mid.network.parameterCount);
    } finally {
      trainer.terminate();
    }
  });

  it('reports a bad spec as an error event, and keeps serving', { timeout: 30_000 }, async () => {
    const worker = new Worker(entry, { workerData: { threads: 1, wasmPaths } });
    const trainer = createTrainerWorker(worker);
    try {
      await trainer.ready;
      const failed = trainer.done().then(() => 'done', (e: Error) => e.message);
      trainer.start({ model: 'Sequential', input: [1, 28, 28], layers: [{ type: 'conv', filters: -1 }] } as never, mnistBytes(), { trainSamples: 100 });
      assert.match(await failed, /filters/);
      const done = trainer.done();
      trainer.start('simple', mnistBytes(), { trainSamples: 100, batchSize: 50, epochs: 1, evalSamples: 50 });
      assert.equal((await done).steps, 2);
    } finally {
      trainer.terminate();
    }
  });
});
