// Batch normalisation (Ioffe & Szegedy 2015; book 6.3): normalise each channel with the
// mini-batch's mean and variance while training, with running averages at evaluation, then
// scale and shift by the learned gamma and beta.
//   after a convolution: x (N, C, H, W), statistics per channel over (N, H, W), gamma/beta (C,)
//   after a dense layer: x (N, D), statistics per feature over N, gamma/beta (D,)
// (The book's version flattens 4-D input and normalises every C*H*W position separately; per
// channel is what the paper prescribes for convolutions, and what ONNX BatchNormalization means.)
// running = momentum * running + (1 - momentum) * batch statistic; the variance is the biased one
// (divided by N*H*W), as in the book.

import { type Backend } from '../backend/backend.js';
import { getBackend } from '../backend/registry.js';
import { ShapeError } from '../errors.js';
import { type DType, Tensor, zeros } from '../tensor.js';
import type { Layer, LayerOptions } from './layer.js';
import { Workspace } from '../backend/workspace.js';

export interface BatchNormalizationOptions {
  momentum?: number;
  eps?: number;
  dtype?: DType;
}

export class BatchNormalization implements Layer {
  readonly name = 'BatchNormalization';
  backend: Backend;
  /** Outputs and scratch, allocated once per shape and reused (backend/workspace.ts). */
  private readonly ws = new Workspace(this);
  gamma: Tensor;
  beta: Tensor;
  /** Running statistics used at evaluation (saved in model files, not trained). */
  runningMean: Tensor;
  runningVar: Tensor;
  momentum: number;
  eps: number;
  dgamma: Tensor;
  dbeta: Tensor;
  // caches
  xhat: Tensor | null = null;
  invStd: Tensor | null = null;
  train = false;

  /** `channels`: C after a convolution, D after a dense layer. gamma starts at 1, beta at 0. */
  constructor(channels: number, options: BatchNormalizationOptions & LayerOptions = {}) {
    if (!Number.isInteger(channels) || channels < 1) throw new ShapeError(`BatchNormalization: channels must be a positive integer, got ${channels}`);
    this.momentum = options.momentum ?? 0.9;
    this.eps = options.eps ?? 1e-5;
    if (!(this.momentum >= 0 && this.momentum <= 1)) throw new ShapeError(`BatchNormalization: momentum must be in [0, 1], got ${this.momentum}`);
    if (!(this.eps > 0 && Number.isFinite(this.eps))) throw new ShapeError(`BatchNormalization: eps must be a positive number, got ${this.eps}`);
    const dtype = options.dtype ?? 'float32';
    this.gamma = zeros([channels], dtype);
    this.gamma.data.fill(1);
    this.beta = zeros([channels], dtype);
    this.runningMean = zeros([channels], dtype);
    this.runningVar = zeros([channels], dtype);
    this.runningVar.data.fill(1);
    this.dgamma = zeros([channels], dtype);
    this.dbeta = zeros([channels], dtype);
    this.backend = options.backend ?? getBackend();
  }

  get params(): Record<string, Tensor> {
    return { gamma: this.gamma, beta: this.beta };
  }

  get grads(): Record<string, Tensor> {
    return { gamma: this.dgamma, beta: this.dbeta };
  }

  /** Non-trainable state, by short name. */
  get buffers(): Record<string, Tensor> {
    return { runningMean: this.runningMean, runningVar: this.runningVar };
  }

  private dims(shape: readonly number[]): [number, number, number] {
    const C = this.gamma.size;
    if (shape.length < 2 || shape[1] !== C) {
      throw new ShapeError(`BatchNormalization: input (${shape.join(', ')}) must be (N, ${C}, ...) for ${C} channels`);
    }
    return [shape[0], C, shape.slice(2).reduce((a, b) => a * b, 1)];
  }

  forward(x: Tensor, train = false): Tensor {
    const [N, C, S] = this.dims(x.shape);
    const out = this.ws.tensor('out', x.shape, x.dtype);
    const xhat = this.ws.tensor('xhat', x.shape, x.dtype);
    const invStd = this.ws.tensor('invStd', [C], x.dtype);
    this.backend.batchNormForward(
      x.data, N, C, S, this.gamma.data, this.beta.data, this.eps, train, this.momentum,
      this.runningMean.data, this.runningVar.data, out.data, xhat.data, invStd.data,
    );
    this.xhat = xhat;
    this.invStd = invStd;
    this.train = train;
    return out;
  }

  backward(dout: Tensor): Tensor {
    if (!this.xhat || !this.invStd) throw new Error('BatchNormalization.backward called before forward');
    if (!this.train) throw new Error('BatchNormalization.backward needs a training-mode forward pass');
    const [N, C, S] = this.dims(dout.shape);
    const dx = this.ws.tensor('dx', dout.shape, dout.dtype);
    this.backend.batchNormBackward(dout.data, this.xhat.data, this.invStd.data, this.gamma.data, N, C, S, dx.data, this.dgamma.data, this.dbeta.data);
    return dx;
  }
}
