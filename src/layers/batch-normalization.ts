// Batch normalisation (Ioffe & Szegedy 2015; book 6.3): normalise each channel with the
// mini-batch's mean and variance while training, with running averages at evaluation, then
// scale and shift by the learned gamma and beta.
//   after a convolution: x (N, C, H, W), statistics per channel over (N, H, W), gamma/beta (C,)
//   after a dense layer: x (N, D), statistics per feature over N, gamma/beta (D,)
// (The book's version flattens 4-D input and normalises every C*H*W position separately; per
// channel is what the paper prescribes for convolutions, and what ONNX BatchNormalization means.)
// running = momentum * running + (1 - momentum) * batch statistic; the variance is the biased one
// (divided by N*H*W), as in the book.

import { ShapeError, ValueError } from '../errors.js';
import { type DType, type Tensor, zeros } from '../tensor.js';
import { BaseLayer, type Layer, type LayerOptions } from './layer.js';
import { defineLayer } from './kind.js';

export interface BatchNormSpec { type: 'batchnorm'; momentum?: number; eps?: number }

export interface BatchNormalizationOptions {
  momentum?: number;
  eps?: number;
  dtype?: DType;
  /** The layer's tensors, when its network allocated them (on its backend); else host zeros/ones. */
  gamma?: Tensor;
  beta?: Tensor;
  runningMean?: Tensor;
  runningVar?: Tensor;
}

export class BatchNormalization extends BaseLayer implements Layer {
  readonly name = 'BatchNormalization';
  gamma: Tensor;
  beta: Tensor;
  /** Running statistics used at evaluation (saved in model files, not trained). */
  runningMean: Tensor;
  runningVar: Tensor;
  momentum: number;
  eps: number;
  /** Gradients (filled by backward, in the layer's workspace). */
  dgamma: Tensor | null = null;
  dbeta: Tensor | null = null;
  // caches
  xhat: Tensor | null = null;
  invStd: Tensor | null = null;
  train = false;

  /** `channels`: C after a convolution, D after a dense layer. gamma starts at 1, beta at 0. */
  constructor(channels: number, options: BatchNormalizationOptions & LayerOptions = {}) {
    super(options);
    if (!Number.isInteger(channels) || channels < 1) throw new ValueError(`BatchNormalization: channels must be a positive integer, got ${channels}`);
    this.momentum = options.momentum ?? 0.9;
    this.eps = options.eps ?? 1e-5;
    if (!(this.momentum >= 0 && this.momentum <= 1)) throw new ValueError(`BatchNormalization: momentum must be in [0, 1], got ${this.momentum}`);
    if (!(this.eps > 0 && Number.isFinite(this.eps))) throw new ValueError(`BatchNormalization: eps must be a positive number, got ${this.eps}`);
    const dtype = options.dtype ?? 'float32';
    const given = (t: Tensor | undefined, fill: number): Tensor => {
      if (t && t.size !== channels) throw new ShapeError(`BatchNormalization: a tensor of ${t.size} values for ${channels} channels`);
      if (t) return t;
      const z = zeros([channels], dtype);
      z.data.fill(fill);
      return z;
    };
    this.gamma = given(options.gamma, 1);
    this.beta = given(options.beta, 0);
    this.runningMean = given(options.runningMean, 0);
    this.runningVar = given(options.runningVar, 1);
  }

  get params(): Record<string, Tensor> {
    return { gamma: this.gamma, beta: this.beta };
  }

  get grads(): Record<string, Tensor> {
    this.dgamma ??= this.ws.tensor('dgamma', this.gamma.shape, this.gamma.dtype);
    this.dbeta ??= this.ws.tensor('dbeta', this.beta.shape, this.beta.dtype);
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

  /** Evaluation with the running statistics: the output alone (no xhat kept for backward). */
  infer(x: Tensor): Tensor {
    const [N, C, S] = this.dims(x.shape);
    const out = this.ws.tensor('out', x.shape, x.dtype);
    this.backend.batchNormForward(
      x.data, N, C, S, this.gamma.data, this.beta.data, this.eps, false, this.momentum,
      this.runningMean.data, this.runningVar.data, out.data,
    );
    this.xhat = null;
    this.invStd = null;
    this.train = false;
    return out;
  }

  backward(dout: Tensor): Tensor {
    if (!this.xhat || !this.invStd) throw new Error('BatchNormalization.backward called before a training forward');
    if (!this.train) throw new Error('BatchNormalization.backward needs a training-mode forward pass');
    const [N, C, S] = this.dims(dout.shape);
    const dx = this.ws.tensor('dx', dout.shape, dout.dtype);
    const { gamma: dgamma, beta: dbeta } = this.grads;
    this.backend.batchNormBackward(dout.data, this.xhat.data, this.invStd.data, this.gamma.data, N, C, S, dx.data, dgamma.data, dbeta.data);
    return dx;
  }
}

/** batchnorm: per channel after a conv, per feature after a dense layer. */
export const batchnormKind = defineLayer<BatchNormSpec>({
  type: 'batchnorm',
  prefix: 'BatchNorm',
  group: 'gamma',
  doc: 'batch normalisation per channel; running statistics saved with the model',
  options: {
    momentum: { kind: 'number', default: 0.9, check: (v) => v >= 0 && v <= 1, what: 'in [0, 1]' },
    eps: { kind: 'number', default: 1e-5, check: (v) => v > 0, what: 'a positive number' },
  },
  infer(_, input) {
    const C = input[0]; // channels after a conv, features after a dense layer
    return {
      outputShape: [...input],
      params: { gamma: { shape: [C], init: 'ones' }, beta: { shape: [C], init: 'zeros' } },
      buffers: { runningMean: { shape: [C], init: 'zeros' }, runningVar: { shape: [C], init: 'ones' } },
    };
  },
  build: (s, c) => new BatchNormalization(c.param('gamma').size, {
    momentum: s.momentum, eps: s.eps, dtype: c.dtype, backend: c.backend,
    gamma: c.param('gamma'), beta: c.param('beta'), runningMean: c.buffer('runningMean'), runningVar: c.buffer('runningVar'),
  }),
  onnx: (s, c) => c.node('BatchNormalization', [{ name: 'epsilon', f: s.eps! }], [c.tensor('gamma'), c.tensor('beta'), c.tensor('runningMean'), c.tensor('runningVar')]),
  describe: () => 'batchnorm',
});
