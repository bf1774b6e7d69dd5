// Trainer (the book's common/trainer.py): mini-batch training with per-epoch evaluation and
// loss/accuracy history. Differences from the reference, each on purpose:
//  - an epoch is one shuffled pass over the training set (the reference samples batches with
//    replacement), the last partial batch included;
//  - evaluation happens at the end of every epoch (the reference evaluates after the first
//    step of each epoch and never after the last one);
//  - the recorded step loss is the one computed by the gradient's own forward pass, before
//    the update (the reference runs a second forward pass after the update just to log it);
//  - the final accuracy is measured on the full test set.
// Progress is reported through callbacks, so a CLI prints a bar and a page can draw a chart.

import { ScratchnetError, ShapeError, ValueError } from '../errors.js';
import { type Labels, toClassIndices } from '../layers/functions.js';
import type { Network } from '../models/network.js';
import { createOptimizer, type OptimizerName, type OptimizerParam } from '../optimizers/index.js';
import type { Optimizer } from '../optimizers/optimizer.js';
import { Random, type RandomState } from '../random.js';
import { Tensor } from '../tensor.js';
import type { Workspace } from '../backend/arena.js';

export interface Split {
  x: Tensor;
  t: Labels;
}

export interface TrainData {
  train: Split;
  test: Split;
}

export interface StepInfo {
  /** 1-based count of steps done so far. */
  step: number;
  totalSteps: number;
  epoch: number;
  stepInEpoch: number;
  stepsPerEpoch: number;
  loss: number;
}

export interface EpochInfo {
  epoch: number;
  epochs: number;
  trainAcc: number;
  testAcc: number;
  /** Mean training loss over the epoch's steps. */
  meanLoss: number;
  seconds: number;
}

export interface TrainerOptions {
  epochs?: number;
  batchSize?: number;
  optimizer?: OptimizerName | Optimizer;
  optimizerParam?: OptimizerParam;
  /** Evaluate on the first N train and test samples at each epoch end (all when undefined). */
  evaluateSampleNumPerEpoch?: number;
  verbose?: boolean;
  /** Seed for the shuffling. */
  seed?: number;
  onStep?: (info: StepInfo) => void;
  onEpoch?: (info: EpochInfo) => void;
  /** Print function for verbose output (defaults to console.log). */
  log?: (line: string) => void;
}

export interface TrainAsyncOptions {
  /** Awaited after every step (a checkpoint, progress to post to a page). */
  afterStep?: (trainer: Trainer) => Promise<void> | void;
  /** Stops training after the current step when aborted. */
  signal?: AbortSignal;
}

export interface TrainResult {
  trainLossList: number[];
  trainAccList: number[];
  testAccList: number[];
  finalTestAcc: number;
  steps: number;
  seconds: number;
}

/** Everything a Trainer needs to continue exactly where it stopped (see io/checkpoint.ts). */
export interface TrainerState {
  /** Steps done so far. */
  step: number;
  /** Epochs completed. */
  epoch: number;
  /** The shuffling generator's state. */
  rng: RandomState;
  /** The current epoch's permutation of the training set (null before the first step). */
  order: Int32Array | null;
  trainLossList: number[];
  trainAccList: number[];
  testAccList: number[];
}

/** Training produced a NaN or an infinity; `step` is the 1-based step, `where` names the layer or parameter. */
export class NonFiniteError extends ScratchnetError {
  readonly step: number;
  readonly where: string;
  constructor(step: number, what: string, where: string) {
    super(`training stopped at step ${step}: ${what}; the first non-finite values appear ${where}`);
    this.name = 'NonFiniteError';
    this.step = step;
    this.where = where;
  }
}

function labelCount(t: Labels): number {
  return t instanceof Tensor ? t.shape[0] : t.length;
}

/** Yield to the event loop (signal handlers, a page's input events, a worker's messages) and
 *  come back at once: setImmediate in Node, a MessageChannel message elsewhere (setTimeout(0)
 *  would add its ~1-4 ms clamp to every ~9 ms step). */
const yieldToEventLoop: () => Promise<void> = typeof setImmediate === 'function'
  ? () => new Promise((resolve) => setImmediate(resolve))
  : (() => {
    const waiting: (() => void)[] = [];
    let channel: InstanceType<typeof MessageChannel> | null = null;
    return () => new Promise<void>((resolve) => {
      if (!channel) {
        channel = new MessageChannel();
        channel.port1.addEventListener('message', () => waiting.shift()?.());
        channel.port1.start();
      }
      waiting.push(resolve);
      channel.port2.postMessage(0);
    });
  })();

export class Trainer {
  readonly network: Network;
  readonly data: TrainData;
  readonly epochs: number;
  readonly batchSize: number;
  readonly optimizer: Optimizer;
  readonly evaluateSampleNumPerEpoch: number | undefined;
  readonly verbose: boolean;
  readonly rng: Random;
  readonly trainSize: number;
  readonly iterPerEpoch: number;
  readonly maxIter: number;
  currentIter = 0;
  currentEpoch = 0;
  trainLossList: number[] = [];
  trainAccList: number[] = [];
  testAccList: number[] = [];
  finalTestAcc: number | null = null;
  /** Set to true (e.g. from a signal handler) to stop after the current step. */
  stopRequested = false;
  private order: Int32Array | null = null;
  /** The mini-batch's images and labels, reused every step (in the network's arena). */
  private readonly batchBuffers: Workspace;
  /** Class indices of the training labels (converted once from whatever form they came in). */
  private readonly trainLabels: Int32Array;
  private readonly options: TrainerOptions;

  constructor(network: Network, data: TrainData, options: TrainerOptions = {}) {
    this.network = network;
    this.batchBuffers = network.arena.scope('Trainer');
    this.data = data;
    this.options = options;
    this.epochs = options.epochs ?? 20;
    this.batchSize = options.batchSize ?? 100;
    if (!Number.isInteger(this.epochs) || this.epochs < 1) throw new ValueError(`epochs must be a positive integer, got ${this.epochs}`);
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1) throw new ValueError(`batchSize must be a positive integer, got ${this.batchSize}`);
    const fits = network.largestBatch();
    if (this.batchSize > fits) {
      const gib = (b: number) => `${(b / 2 ** 30).toFixed(1)} GiB`;
      throw new ValueError(`a batch of ${this.batchSize} needs about ${gib(4 * network.valuesPerSample * this.batchSize)} of working memory for this network, above the ${network.backend.name} backend's ${gib(network.backend.maxBytes!)}: the largest batch that fits is ${fits}`);
    }
    const opt = options.optimizer ?? 'sgd';
    this.optimizer = typeof opt === 'string'
      ? createOptimizer(opt, { backend: network.backend, ...options.optimizerParam }) // defaults: the optimizer's own (the book's)
      : opt;
    this.evaluateSampleNumPerEpoch = options.evaluateSampleNumPerEpoch;
    this.verbose = options.verbose ?? false;
    this.rng = new Random(options.seed ?? 0);

    this.trainSize = data.train.x.shape[0];
    if (this.trainSize < 1) throw new ShapeError('the training set is empty');
    if (labelCount(data.train.t) !== this.trainSize) throw new ShapeError(`${this.trainSize} training images but ${labelCount(data.train.t)} labels`);
    if (labelCount(data.test.t) !== data.test.x.shape[0]) throw new ShapeError(`${data.test.x.shape[0]} test images but ${labelCount(data.test.t)} labels`);
    this.trainLabels = toClassIndices(data.train.t, this.trainSize, network.outputSize, new Int32Array(this.trainSize));
    this.iterPerEpoch = Math.ceil(this.trainSize / this.batchSize);
    this.maxIter = this.epochs * this.iterPerEpoch;
  }

  private log(line: string): void {
    if (this.verbose) (this.options.log ?? console.log)(line);
  }

  /** One mini-batch: gradient, update, record the loss. Evaluates when it ends an epoch. */
  trainStep(): number {
    const stepInEpoch = this.currentIter % this.iterPerEpoch;
    if (stepInEpoch === 0) this.order = this.rng.permutation(this.trainSize);
    const start = stepInEpoch * this.batchSize;
    const idx = this.order!.subarray(start, Math.min(this.trainSize, start + this.batchSize));
    // the batch is gathered into buffers reused every step (in the backend's memory for wasm)
    const x = this.data.train.x;
    const xBatch = x.gatherRows(idx, this.batchBuffers.tensor('x', [idx.length, ...x.shape.slice(1)], x.dtype));
    const tBatch = this.batchBuffers.int32('t', idx.length);
    for (let i = 0; i < idx.length; i++) tBatch[i] = this.trainLabels[idx[i]];

    const { loss, grads } = this.network.lossAndGradient(xBatch, tBatch);
    // Non-finite guard: stop before the update, so the parameters stay the last good ones.
    // (firstNonFinite is a backend reduction: nothing is read back to the host.)
    const be = this.network.backend;
    if (!Number.isFinite(loss)) throw new NonFiniteError(this.currentIter + 1, `the loss is ${loss}`, this.locateNonFinite(xBatch, tBatch));
    for (const [name, g] of Object.entries(grads)) {
      const at = be.firstNonFinite(g.data);
      if (at >= 0) throw new NonFiniteError(this.currentIter + 1, `the gradient of ${name} is ${g.data[at]} at index ${at}`, this.locateNonFinite(xBatch, tBatch));
    }
    this.optimizer.update(this.network.params, grads);
    // An update can overflow even from finite gradients (a huge learning rate): stop before
    // anyone (a checkpoint) saves such parameters.
    for (const [name, p] of Object.entries(this.network.params)) {
      const at = be.firstNonFinite(p.data);
      if (at >= 0) throw new NonFiniteError(this.currentIter + 1, `the ${this.optimizer.name} update made parameter ${name} ${p.data[at]} at index ${at}`, `in parameter ${name} after the update (is the learning rate too high?)`);
    }
    this.trainLossList.push(loss);
    this.currentIter += 1;
    this.options.onStep?.({
      step: this.currentIter, totalSteps: this.maxIter, epoch: this.currentEpoch + 1,
      stepInEpoch: stepInEpoch + 1, stepsPerEpoch: this.iterPerEpoch, loss,
    });
    if (this.currentIter % this.iterPerEpoch === 0) this.endEpoch();
    return loss;
  }

  private epochStart = Date.now();

  /** Accuracy on the first evaluateSampleNumPerEpoch samples of train and test. */
  private endEpoch(): void {
    this.currentEpoch += 1;
    const n = this.evaluateSampleNumPerEpoch;
    const { train, test } = this.data;
    const head = (s: Split): [Tensor, Labels] => {
      if (n === undefined || n >= s.x.shape[0]) return [s.x, s.t];
      return [s.x.viewRows(0, n), s.t instanceof Tensor ? s.t.viewRows(0, n) : Array.prototype.slice.call(s.t, 0, n)];
    };
    const trainAcc = this.network.accuracy(...head(train));
    const testAcc = this.network.accuracy(...head(test));
    this.trainAccList.push(trainAcc);
    this.testAccList.push(testAcc);
    const losses = this.trainLossList.slice(-this.iterPerEpoch);
    const meanLoss = losses.reduce((a, b) => a + b, 0) / losses.length;
    const seconds = (Date.now() - this.epochStart) / 1000;
    this.epochStart = Date.now();
    this.log(`=== epoch ${this.currentEpoch}, train acc ${trainAcc.toFixed(4)}, test acc ${testAcc.toFixed(4)} ===`);
    this.options.onEpoch?.({ epoch: this.currentEpoch, epochs: this.epochs, trainAcc, testAcc, meanLoss, seconds });
  }

  /** Where NaN/Inf first appears for this batch: a parameter, the input, a layer's output, or the loss. */
  private locateNonFinite(x: Tensor, t: Labels): string {
    const be = this.network.backend;
    for (const [name, p] of Object.entries(this.network.params)) {
      const at = be.firstNonFinite(p.data);
      if (at >= 0) return `in parameter ${name} (value ${p.data[at]} at index ${at})`;
    }
    if (be.firstNonFinite(x.data) >= 0) return 'in the input batch';
    let found: string | null = null;
    let out: Tensor;
    try {
      // Inference mode: changes no state (dropout masks, batch-norm running statistics).
      out = this.network.forward(x, {
        tap: (name, layer, y) => {
          if (found === null && be.firstNonFinite(y.data) >= 0) found = `in the output of layer ${name} (${layer.name})`;
        },
      });
    } catch {
      return 'somewhere in the forward pass (it could not be repeated)';
    }
    if (found !== null) return found;
    let loss = NaN;
    try {
      loss = this.network.lastLayer.forward(out, t);
    } catch {
      // reported below as not finite
    }
    if (!Number.isFinite(loss)) return 'in the loss (every layer output is finite: the scores overflow the softmax / cross entropy)';
    return `nowhere when the batch is run again in inference mode (finite outputs, loss ${loss}): in a training-mode layer (dropout, batch norm) or a fault in the ${be.name} backend`;
  }

  /** A snapshot of the trainer's progress (copies: later steps do not change it). */
  getState(): TrainerState {
    return {
      step: this.currentIter,
      epoch: this.currentEpoch,
      rng: this.rng.getState(),
      order: this.order ? this.order.slice() : null,
      trainLossList: [...this.trainLossList],
      trainAccList: [...this.trainAccList],
      testAccList: [...this.testAccList],
    };
  }

  /** Continue from a snapshot taken by getState() on a trainer with the same data and settings. */
  setState(state: TrainerState): void {
    if (!Number.isInteger(state.step) || state.step < 0 || state.step > this.maxIter) throw new ValueError(`trainer state: step ${state.step} is outside 0..${this.maxIter}`);
    if (state.epoch !== Math.floor(state.step / this.iterPerEpoch)) throw new ValueError(`trainer state: epoch ${state.epoch} does not match step ${state.step} (${this.iterPerEpoch} steps per epoch)`);
    if (state.step % this.iterPerEpoch !== 0) {
      if (!state.order || state.order.length !== this.trainSize) throw new ValueError(`trainer state: a mid-epoch state needs the epoch's permutation of ${this.trainSize} samples`);
      for (let i = 0; i < state.order.length; i++) {
        const v = state.order[i];
        if (!(v >= 0 && v < this.trainSize)) throw new ValueError(`trainer state: permutation entry ${v} is outside 0..${this.trainSize - 1}`);
      }
    }
    this.currentIter = state.step;
    this.currentEpoch = state.epoch;
    this.rng.setState(state.rng);
    this.order = state.order ? state.order.slice() : null;
    this.trainLossList = [...state.trainLossList];
    this.trainAccList = [...state.trainAccList];
    this.testAccList = [...state.testAccList];
  }

  private paused: { promise: Promise<void>; resume: () => void } | null = null;

  /** Hold trainAsync after the current step until resume() (a page's pause button). */
  pause(): void {
    if (this.paused) return;
    let resume!: () => void;
    const promise = new Promise<void>((r) => (resume = r));
    this.paused = { promise, resume };
  }

  resume(): void {
    const p = this.paused;
    this.paused = null;
    p?.resume();
  }

  get isPaused(): boolean {
    return this.paused !== null;
  }

  /** Like train(), but yields to the event loop after every step (signal handlers, a page's
   *  events and a worker's messages run between steps), awaits `afterStep` (e.g. to write a
   *  checkpoint), waits while paused, and stops after the current step when stopRequested is
   *  set or `signal` aborts (the result then holds the history so far, finalTestAcc NaN).
   *  Settings may change between steps: the optimizer's `lr`, for one. Runs in Node, browsers
   *  and workers alike (no Node API). */
  async trainAsync(options: TrainAsyncOptions | ((trainer: Trainer) => Promise<void> | void) = {}): Promise<TrainResult> {
    const { afterStep, signal } = typeof options === 'function' ? { afterStep: options, signal: undefined } : options;
    const started = Date.now();
    this.epochStart = started;
    const stopped = () => this.stopRequested || signal?.aborted === true;
    while (this.currentIter < this.maxIter && !stopped()) {
      const loss = this.trainStep();
      this.log(`train loss: ${loss}`);
      await afterStep?.(this);
      await yieldToEventLoop();
      while (this.paused && !stopped()) {
        const wake = this.paused.promise;
        // an abort while paused ends the wait too
        await (signal ? Promise.race([wake, new Promise<void>((r) => signal.addEventListener('abort', () => r(), { once: true }))]) : wake);
      }
    }
    return this.finish(started);
  }

  private finish(started: number): TrainResult {
    if (this.currentIter >= this.maxIter) {
      this.finalTestAcc = this.network.accuracy(this.data.test.x, this.data.test.t);
      this.log(`=============== Final Test Accuracy ===============\ntest acc: ${this.finalTestAcc}`);
    }
    return {
      trainLossList: this.trainLossList,
      trainAccList: this.trainAccList,
      testAccList: this.testAccList,
      finalTestAcc: this.finalTestAcc ?? NaN,
      steps: this.currentIter,
      seconds: (Date.now() - started) / 1000,
    };
  }

  /** Train to the end (or until stopRequested), then measure accuracy on the full test set. */
  train(): TrainResult {
    const started = Date.now();
    this.epochStart = started;
    while (this.currentIter < this.maxIter && !this.stopRequested) {
      const loss = this.trainStep();
      this.log(`train loss: ${loss}`);
    }
    return this.finish(started);
  }
}
