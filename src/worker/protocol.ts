// The messages between a page (or a Node thread) and the trainer worker. Plain data only: every
// message survives structured cloning, and big arrays (data sets, model bytes) are transferred,
// not copied.

import type { NetworkSpec } from '../models/spec.js';
import type { OptimizerName } from '../optimizers/index.js';

/** The four IDX files (plain or gzip) as bytes, or a base URL the worker fetches them from
 *  (MNIST's file names; `.gz` is tried when the plain name is missing). */
export type TrainerDataSource =
  | { base: string }
  | { trainImages: ArrayBuffer | Uint8Array; trainLabels: ArrayBuffer | Uint8Array; testImages: ArrayBuffer | Uint8Array; testLabels: ArrayBuffer | Uint8Array; name?: string };

export interface TrainerSettings {
  optimizer?: OptimizerName;
  lr?: number;
  batchSize?: number;
  epochs?: number;
  seed?: number;
  /** 'he', 'xavier' or a standard deviation; undefined: the recipe's (built-ins) or the spec's. */
  init?: 'he' | 'xavier' | number;
  /** Use only the first N training images (quick runs). */
  trainSamples?: number;
  /** Train/test samples scored at each evaluation (default 1000). */
  evalSamples?: number;
  /** Also evaluate every N steps (default: only at epoch ends). */
  evalEvery?: number;
  /** Post the first layer's weights every N steps (default 10; 0: never). */
  snapshotEvery?: number;
}

export interface StartCommand {
  type: 'start';
  /** A built-in network (zoo name: simple, lenet, ...) or a full spec. */
  model: string | NetworkSpec;
  data: TrainerDataSource;
  settings?: TrainerSettings;
}

export type TrainerCommand =
  | StartCommand
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'stop' }
  /** Applied between steps; a new batch size restarts the current epoch's shuffle with it. */
  | { type: 'set'; lr?: number; batchSize?: number }
  /** Ask for the model as it is now (a 'model' message answers). */
  | { type: 'snapshot' };

export interface ProgressMessage {
  type: 'progress';
  step: number;
  totalSteps: number;
  epoch: number;
  /** Losses of the steps since the previous progress message (in order; the last is `step`'s). */
  losses: number[];
  loss: number;
  stepsPerSecond: number;
  /** Seconds left at the current speed. */
  eta: number;
  lr: number;
  batchSize: number;
}

export interface EvalMessage {
  type: 'eval';
  step: number;
  epoch: number;
  trainAcc: number;
  testAcc: number;
  /** confusion[true][predicted] over the evaluated test samples. */
  confusion: number[][];
}

export interface WeightsMessage {
  type: 'weights';
  step: number;
  /** The first convolution layer's name and (FN, C, FH, FW) weights. */
  layer: string;
  shape: number[];
  data: Float32Array;
}

export type TrainerEvent =
  | { type: 'ready'; backend: string; /** threads working: the worker's own and the pool's helpers running */ threads: number }
  | { type: 'started'; model: string; parameters: number; trainSize: number; testSize: number; totalSteps: number; stepsPerEpoch: number; settings: Required<Pick<TrainerSettings, 'optimizer' | 'lr' | 'batchSize' | 'epochs'>> }
  | { type: 'status'; state: 'loading' | 'training' | 'paused' }
  | ProgressMessage
  | EvalMessage
  | WeightsMessage
  /** The model file's bytes (encodeModel): after 'snapshot', and with 'done'. */
  | { type: 'model'; bytes: Uint8Array; step: number }
  /** Training ended: completed (finalTestAcc on the whole test set) or stopped (NaN). */
  | { type: 'done'; completed: boolean; steps: number; seconds: number; finalTestAcc: number; bytes: Uint8Array }
  | { type: 'error'; message: string };
