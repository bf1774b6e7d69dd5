// The trainer worker's side: takes commands, runs the whole training loop (Trainer.trainAsync on
// the default backend: wasm, with its thread pool when the worker may share memory), and posts
// progress, evaluations, first-layer weights and the model file's bytes.
//
// Host-neutral: it talks through an Endpoint, so the same code serves a Web Worker (`self`) and
// a Node worker_threads thread (`parentPort`); see trainer-worker.ts for both entries.
//
// Why the handshake: the wasm backend loads asynchronously (fetch + compile), and a command that
// arrived meanwhile must neither be lost nor run on a half-loaded backend. The listener is
// attached at once, commands queue, and 'ready' is posted after `await ready()` and once the
// thread pool's helpers run (its `threads`: the threads working).

import { getBackend, ready, type ReadyOptions } from '../backend/registry.js';
import { readTensorSync } from '../backend/storage.js';
import { mnistFromBytes, type Mnist } from '../data/mnist.js';
import { encodeModel } from '../io/model-file.js';
import type { Network } from '../models/network.js';
import { SequentialNetwork } from '../models/sequential.js';
import type { NetworkSpec } from '../models/spec.js';
import { DEFAULT_RECIPE, zooRecipe, zooSpec } from '../models/zoo.js';
import { createOptimizer, type OptimizerName } from '../optimizers/index.js';
import type { Optimizer } from '../optimizers/optimizer.js';
import { Tensor } from '../tensor.js';
import { Trainer, type TrainData } from '../train/trainer.js';
import { evaluateNetwork } from '../viz/evaluate.js';
import { firstConvolution } from '../viz/filters.js';
import type { StartCommand, TrainerCommand, TrainerDataSource, TrainerEvent } from './protocol.js';

/** How the worker talks to its owner. */
export interface Endpoint {
  post(message: TrainerEvent, transfer?: ArrayBuffer[]): void;
  listen(handler: (message: TrainerCommand) => void): void;
}

const MNIST_FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

/** Progress is posted at most this often (plus on pause, evaluation and the end): a message per
 *  ~5 ms step would keep the page busy drawing what nobody can see. */
const PROGRESS_INTERVAL_MS = 100;

function firstLine(e: unknown): string {
  return String((e as Error)?.message ?? e).split('\n')[0];
}

async function fetchBytes(base: URL, name: string): Promise<ArrayBuffer> {
  for (const file of [name, `${name}.gz`]) {
    const response = await fetch(new URL(file, base));
    if (response.ok) return response.arrayBuffer();
  }
  throw new Error(`cannot fetch ${new URL(name, base).href} (nor ${name}.gz)`);
}

/** Serves trainer commands on `endpoint`; posts 'ready' once the backend is loaded. */
export function serveTrainer(endpoint: Endpoint, options: { ready?: ReadyOptions; location?: string } = {}): void {
  const queue: TrainerCommand[] = [];
  let loaded = false;
  let run: Run | null = null;
  let cache: { key: string; data: Mnist<Int32Array> } | null = null;
  const post = (m: TrainerEvent, transfer?: ArrayBuffer[]) => endpoint.post(m, transfer);

  async function loadData(source: TrainerDataSource): Promise<Mnist<Int32Array>> {
    if ('base' in source) {
      const base = new URL(source.base, options.location ?? (globalThis as { location?: { href: string } }).location?.href);
      if (cache?.key === base.href) return cache.data; // 55 MB: fetched once per worker, not per run
      const entries = await Promise.all(Object.entries(MNIST_FILES).map(async ([k, name]) => [k, await fetchBytes(base, name)] as const));
      const data = await mnistFromBytes(Object.fromEntries(entries) as Record<keyof typeof MNIST_FILES, ArrayBuffer>, { flatten: false });
      cache = { key: base.href, data };
      return data;
    }
    cache = null;
    return mnistFromBytes(source, { flatten: false });
  }

  function handle(cmd: TrainerCommand): void {
    switch (cmd.type) {
      case 'start':
        if (run && !run.finished) {
          post({ type: 'error', message: 'a training run is in progress: stop it first' });
          return;
        }
        run = new Run(cmd, post, loadData);
        void run.go();
        return;
      case 'snapshot':
        if (!run?.network) {
          post({ type: 'error', message: 'no model yet: start a training run first' });
          return;
        }
        try {
          const bytes = encodeModel(run.network, run.facts());
          post({ type: 'model', bytes, step: run.step }, [bytes.buffer as ArrayBuffer]);
        } catch (e) {
          post({ type: 'error', message: firstLine(e) });
        }
        return;
      default:
        run?.command(cmd);
    }
  }

  endpoint.listen((cmd) => {
    if (!loaded) queue.push(cmd);
    else handle(cmd);
  });
  // The pool is started before the first command, and 'ready' says how many threads run: in a
  // browser a helper Web Worker starts only when this thread yields, never inside a training
  // step (ready() waits for them there; in Node this starts them ahead of the first step).
  ready(options.ready).then(
    async (backend) => {
      const threads = (await getBackend().startThreads?.()) ?? 1;
      loaded = true;
      post({ type: 'ready', backend: backend.name, threads });
      for (const cmd of queue.splice(0)) handle(cmd);
    },
    (e) => post({ type: 'error', message: `the backend did not load: ${firstLine(e)}` }),
  );
}

/** One training run: network, optimizer, and a Trainer per batch size. */
class Run {
  network: Network | null = null;
  finished = false;
  step = 0;
  private trainer: Trainer | null = null;
  private optimizer: Optimizer | null = null;
  private readonly abort = new AbortController();
  private paused = false;
  private pendingBatch: number | null = null;
  private batchSize = 100;
  private lr = 0.001;
  private optimizerName: OptimizerName = 'adam';
  private epochs = 1;
  private seed = 1;
  private readonly losses: number[] = [];
  private readonly trainAcc: number[] = [];
  private readonly testAcc: number[] = [];
  private started = 0;

  constructor(
    private readonly cmd: StartCommand,
    private readonly post: (m: TrainerEvent, transfer?: ArrayBuffer[]) => void,
    private readonly loadData: (s: TrainerDataSource) => Promise<Mnist<Int32Array>>,
  ) {}

  command(cmd: TrainerCommand): void {
    switch (cmd.type) {
      case 'pause':
        this.paused = true;
        this.trainer?.pause();
        this.post({ type: 'status', state: 'paused' });
        return;
      case 'resume':
        this.paused = false;
        this.trainer?.resume();
        this.post({ type: 'status', state: 'training' });
        return;
      case 'stop':
        this.abort.abort();
        return;
      case 'set':
        try {
          if (cmd.lr !== undefined) {
            if (!(cmd.lr > 0 && Number.isFinite(cmd.lr))) throw new Error(`learning rate must be above 0, got ${cmd.lr}`);
            this.lr = cmd.lr;
            // every optimizer reads its public `lr` at each update: the next step uses it
            if (this.optimizer) (this.optimizer as unknown as { lr: number }).lr = cmd.lr;
          }
          if (cmd.batchSize !== undefined) {
            if (!(Number.isInteger(cmd.batchSize) && cmd.batchSize >= 1)) throw new Error(`batch size must be a positive integer, got ${cmd.batchSize}`);
            if (cmd.batchSize !== this.batchSize) {
              // Trainer's batch size is fixed (its epoch length depends on it): end this
              // trainer after the current step and continue with a new one (see go()).
              this.pendingBatch = cmd.batchSize;
              if (this.trainer) this.trainer.stopRequested = true;
              this.trainer?.resume();
            }
          }
        } catch (e) {
          this.post({ type: 'error', message: firstLine(e) });
        }
        return;
    }
  }

  facts() {
    return {
      epochs: this.epochs, batchSize: this.batchSize, optimizer: this.optimizerName, optimizerParam: { lr: this.lr },
      seed: this.seed, backend: this.network?.backend.name, steps: this.step, seconds: (Date.now() - this.started) / 1000,
      trainLossList: this.losses, trainAccList: this.trainAcc, testAccList: this.testAcc, data: 'playground',
    };
  }

  async go(): Promise<void> {
    const { cmd, post } = this;
    try {
      post({ type: 'status', state: 'loading' });
      const data = await this.loadData(cmd.data);
      const builtIn = typeof cmd.model === 'string';
      const recipe = builtIn ? zooRecipe(cmd.model as string) : DEFAULT_RECIPE;
      const s = cmd.settings ?? {};
      const [, C, H, W] = data.train.x.shape.length === 4 ? data.train.x.shape : [0, 1, 28, 28];
      const spec: NetworkSpec = builtIn ? zooSpec(cmd.model as string, { input: [C, H, W], classes: 10 }) : (cmd.model as NetworkSpec);
      this.optimizerName = s.optimizer ?? recipe.optimizer;
      // as `scratchnet train`: another optimizer without a rate starts from its own default
      const lrWanted = s.lr ?? (s.optimizer && s.optimizer !== recipe.optimizer ? undefined : recipe.lr);
      this.batchSize = s.batchSize ?? recipe.batchSize;
      this.epochs = s.epochs ?? recipe.epochs;
      this.seed = s.seed ?? 1;
      const evalSamples = s.evalSamples ?? recipe.evalSamples;
      const snapshotEvery = s.snapshotEvery ?? 10;
      const n = Math.min(data.train.x.shape[0], s.trainSamples ?? Infinity);
      const train = { x: data.train.x.viewRows(0, n), t: data.train.t.subarray(0, n) };
      const full: TrainData = { train, test: data.test };

      const network = new SequentialNetwork(spec, { seed: this.seed, init: s.init ?? (builtIn ? recipe.init : undefined), classes: 10 });
      this.network = network;
      const optimizer = createOptimizer(this.optimizerName, { backend: network.backend, ...(lrWanted !== undefined ? { lr: lrWanted } : {}) });
      this.optimizer = optimizer;
      this.lr = (optimizer as unknown as { lr: number }).lr;
      let conv: { name: string; W: Tensor } | null = null;
      try {
        const c = firstConvolution(network);
        conv = { name: c.name, W: c.layer.W };
      } catch {
        conv = null; // a network without convolutions has no filters to show
      }
      const head = (x: Tensor, t: Int32Array) => {
        const k = Math.min(evalSamples, x.shape[0]);
        return { x: x.viewRows(0, k), t: t.subarray(0, k) };
      };
      const evaluate = (step: number, epoch: number) => {
        const tr = head(train.x, train.t);
        const te = head(data.test.x, data.test.t);
        const trainAcc = network.accuracy(tr.x, tr.t);
        const ev = evaluateNetwork(network, te.x, te.t);
        this.trainAcc.push(trainAcc);
        this.testAcc.push(ev.accuracy);
        post({ type: 'eval', step, epoch, trainAcc, testAcc: ev.accuracy, confusion: ev.confusion });
      };
      const postWeights = () => {
        if (!conv) return;
        const w = Float32Array.from(readTensorSync(conv.W));
        post({ type: 'weights', step: this.step, layer: conv.name, shape: [...conv.W.shape], data: w }, [w.buffer]);
      };

      this.started = Date.now();
      let completedEpochs = 0;
      let stepOffset = 0;
      let restarts = 0;
      const times: number[] = [];
      let sinceLast: number[] = [];
      let lastPost = 0;
      postWeights();
      for (;;) {
        const epochsLeft = this.epochs - completedEpochs;
        const trainer = new Trainer(network, full, {
          epochs: epochsLeft, batchSize: this.batchSize, optimizer, seed: this.seed + restarts,
          // the trainer's own per-epoch evaluation is replaced by ours (with the confusion matrix)
          evaluateSampleNumPerEpoch: 1,
        });
        this.trainer = trainer;
        if (this.paused) trainer.pause();
        const totalSteps = stepOffset + trainer.maxIter;
        if (restarts === 0) {
          post({
            type: 'started', model: builtIn ? (cmd.model as string) : (spec.name ?? 'spec'), parameters: network.parameterCount,
            trainSize: n, testSize: data.test.x.shape[0], totalSteps, stepsPerEpoch: trainer.iterPerEpoch,
            settings: { optimizer: this.optimizerName, lr: this.lr, batchSize: this.batchSize, epochs: this.epochs },
          });
          post({ type: 'status', state: this.paused ? 'paused' : 'training' });
        }
        const progress = (force: boolean) => {
          const now = Date.now();
          if (!force && now - lastPost < PROGRESS_INTERVAL_MS) return;
          lastPost = now;
          // speed over the last ~2 s of steps (a pause is not counted: times restart on resume)
          const window = times.filter((t) => t > now - 2000);
          const sps = window.length > 1 ? (window.length - 1) / ((window[window.length - 1] - window[0]) / 1000) : 0;
          const left = totalSteps - this.step;
          post({
            type: 'progress', step: this.step, totalSteps, epoch: Math.min(this.epochs, completedEpochs + trainer.currentEpoch + 1),
            losses: sinceLast, loss: this.losses[this.losses.length - 1], stepsPerSecond: sps, eta: sps > 0 ? left / sps : NaN,
            lr: this.lr, batchSize: this.batchSize,
          });
          sinceLast = [];
        };
        const result = await trainer.trainAsync({
          signal: this.abort.signal,
          afterStep: (t) => {
            this.step = stepOffset + t.currentIter;
            const loss = t.trainLossList[t.trainLossList.length - 1];
            this.losses.push(loss);
            sinceLast.push(loss);
            times.push(Date.now());
            if (times.length > 400) times.splice(0, 200);
            const epochEnd = t.currentIter % t.iterPerEpoch === 0;
            const evalNow = epochEnd || (s.evalEvery !== undefined && s.evalEvery > 0 && this.step % s.evalEvery === 0);
            progress(evalNow || t.currentIter === t.maxIter || this.paused || t.stopRequested);
            if (snapshotEvery > 0 && this.step % snapshotEvery === 0) postWeights();
            if (evalNow) evaluate(this.step, completedEpochs + t.currentEpoch);
            if (this.paused) times.length = 0;
          },
        });
        completedEpochs += trainer.currentEpoch;
        stepOffset += trainer.currentIter;
        if (this.pendingBatch !== null && !this.abort.signal.aborted && completedEpochs < this.epochs) {
          this.batchSize = this.pendingBatch;
          this.pendingBatch = null;
          restarts += 1;
          continue;
        }
        const completed = !this.abort.signal.aborted && completedEpochs >= this.epochs;
        const finalTestAcc = completed ? result.finalTestAcc : NaN; // the trainer's, on the whole test set
        postWeights();
        const bytes = encodeModel(network, { ...this.facts(), finalTestAcc: completed ? finalTestAcc : undefined });
        this.finished = true;
        post({ type: 'done', completed, steps: this.step, seconds: (Date.now() - this.started) / 1000, finalTestAcc, bytes }, [bytes.buffer as ArrayBuffer]);
        return;
      }
    } catch (e) {
      this.finished = true;
      post({ type: 'error', message: firstLine(e) });
    }
  }
}
