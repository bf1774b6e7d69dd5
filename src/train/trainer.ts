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

import { ShapeError } from '../errors.js';
import type { Labels } from '../layers/functions.js';
import type { Network } from '../models/network.js';
import { createOptimizer, type OptimizerName, type OptimizerParam } from '../optimizers/index.js';
import type { Optimizer } from '../optimizers/optimizer.js';
import { Random } from '../random.js';
import { Tensor } from '../tensor.js';

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

export interface TrainResult {
  trainLossList: number[];
  trainAccList: number[];
  testAccList: number[];
  finalTestAcc: number;
  steps: number;
  seconds: number;
}

function labelCount(t: Labels): number {
  return t instanceof Tensor ? t.shape[0] : t.length;
}

function gatherLabels(t: Labels, idx: Int32Array): Labels {
  if (t instanceof Tensor) return t.gatherRows(idx);
  const out = new Int32Array(idx.length);
  for (let i = 0; i < idx.length; i++) out[i] = t[idx[i]];
  return out;
}

function headLabels(t: Labels, n: number): Labels {
  return t instanceof Tensor ? t.sliceRows(0, n) : t.subarray(0, n);
}

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
  private readonly options: TrainerOptions;

  constructor(network: Network, data: TrainData, options: TrainerOptions = {}) {
    this.network = network;
    this.data = data;
    this.options = options;
    this.epochs = options.epochs ?? 20;
    this.batchSize = options.batchSize ?? 100;
    if (!Number.isInteger(this.epochs) || this.epochs < 1) throw new ShapeError(`epochs must be a positive integer, got ${this.epochs}`);
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1) throw new ShapeError(`batchSize must be a positive integer, got ${this.batchSize}`);
    const opt = options.optimizer ?? 'sgd';
    this.optimizer = typeof opt === 'string'
      ? createOptimizer(opt, { backend: network.backend, ...(options.optimizerParam ?? (opt.toLowerCase() === 'adam' ? {} : { lr: 0.01 })) })
      : opt;
    this.evaluateSampleNumPerEpoch = options.evaluateSampleNumPerEpoch;
    this.verbose = options.verbose ?? false;
    this.rng = new Random(options.seed ?? 0);

    this.trainSize = data.train.x.shape[0];
    if (this.trainSize < 1) throw new ShapeError('the training set is empty');
    if (labelCount(data.train.t) !== this.trainSize) throw new ShapeError(`${this.trainSize} training images but ${labelCount(data.train.t)} labels`);
    if (labelCount(data.test.t) !== data.test.x.shape[0]) throw new ShapeError(`${data.test.x.shape[0]} test images but ${labelCount(data.test.t)} labels`);
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
    const xBatch = this.data.train.x.gatherRows(idx);
    const tBatch = gatherLabels(this.data.train.t, idx);

    const grads = this.network.gradient(xBatch, tBatch);
    const loss = this.network.lastLayer.loss!;
    this.optimizer.update(this.network.params, grads);
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
    const head = (s: Split): [Tensor, Labels] => n === undefined ? [s.x, s.t] : [s.x.sliceRows(0, Math.min(n, s.x.shape[0])), headLabels(s.t, Math.min(n, s.x.shape[0]))];
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

  /** Train to the end (or until stopRequested), then measure accuracy on the full test set. */
  train(): TrainResult {
    const started = Date.now();
    this.epochStart = started;
    while (this.currentIter < this.maxIter && !this.stopRequested) {
      const loss = this.trainStep();
      this.log(`train loss: ${loss}`);
    }
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
}
