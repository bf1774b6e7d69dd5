// Local response normalisation across channels (Krizhevsky, Sutskever & Hinton 2012, AlexNet,
// section 3.3): each activation is divided by the activity of its neighbours in nearby channels
// at the same position:
//   out[c] = x[c] / (k + alpha * sum_{c' = c - lo .. c + hi} x[c']^2)^beta,
//   lo = floor((n-1)/2), hi = ceil((n-1)/2), the window clipped at the first and last channel.
// AlexNet: k = 2, n = 5, alpha = 1e-4, beta = 0.75 (the defaults).
// Note: alpha multiplies the plain sum, as in the paper. ONNX / PyTorch / Caffe divide alpha by
// n (alpha / size * sum), so their alpha is this alpha * n.
//   x: (N, C, H, W) (or (N, C)) -> out: the same shape

import { ShapeError, ValueError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { BaseLayer, type Layer, type LayerOptions } from './layer.js';
import { defineLayer } from './kind.js';

export interface LrnSpec { type: 'lrn'; n?: number; k?: number; alpha?: number; beta?: number }

export interface LrnOptions {
  /** Channels in the window (the paper's n). */
  n?: number;
  k?: number;
  alpha?: number;
  beta?: number;
}

export class LRN extends BaseLayer implements Layer {
  readonly name = 'LRN';
  /** Channels in the window (the paper's n; ONNX's size). */
  n: number;
  k: number;
  alpha: number;
  beta: number;
  // caches
  x: Tensor | null = null;
  /** k + alpha * (sum of squares over the window), per element. */
  scale: Tensor | null = null;

  constructor(options: LrnOptions & LayerOptions = {}) {
    super(options);
    this.n = options.n ?? 5;
    this.k = options.k ?? 2;
    this.alpha = options.alpha ?? 1e-4;
    this.beta = options.beta ?? 0.75;
    if (!Number.isInteger(this.n) || this.n < 1) throw new ValueError(`LRN: n must be a positive integer, got ${this.n}`);
    if (!(this.k > 0 && Number.isFinite(this.k))) throw new ValueError(`LRN: k must be a positive number, got ${this.k}`);
    if (!(this.alpha >= 0 && Number.isFinite(this.alpha))) throw new ValueError(`LRN: alpha must be a non-negative number, got ${this.alpha}`);
    if (!(this.beta >= 0 && Number.isFinite(this.beta))) throw new ValueError(`LRN: beta must be a non-negative number, got ${this.beta}`);
  }

  private dims(shape: readonly number[]): [number, number, number] {
    if (shape.length < 2) throw new ShapeError(`LRN: input must be (N, C, ...), got (${shape.join(', ')})`);
    const [N, C] = shape;
    return [N, C, shape.slice(2).reduce((a, b) => a * b, 1)];
  }

  forward(x: Tensor): Tensor {
    const [N, C, S] = this.dims(x.shape);
    const out = this.ws.tensor('out', x.shape, x.dtype);
    const scale = this.ws.tensor('scale', x.shape, x.dtype);
    this.backend.lrnForward(x.data, N, C, S, this.n, this.k, this.alpha, this.beta, out.data, scale.data);
    this.x = x;
    this.scale = scale;
    return out;
  }

  /** Evaluation: the output alone (no scale kept for backward). */
  infer(x: Tensor): Tensor {
    const [N, C, S] = this.dims(x.shape);
    const out = this.ws.tensor('out', x.shape, x.dtype);
    this.backend.lrnForward(x.data, N, C, S, this.n, this.k, this.alpha, this.beta, out.data);
    this.x = null;
    this.scale = null;
    return out;
  }

  backward(dout: Tensor): Tensor {
    if (!this.x || !this.scale) throw new Error('LRN.backward called before a training forward');
    const [N, C, S] = this.dims(this.x.shape);
    const dx = this.ws.tensor('dx', this.x.shape, dout.dtype);
    this.backend.lrnBackward(this.x.data, this.scale.data, dout.data, N, C, S, this.n, this.alpha, this.beta, dx.data);
    return dx;
  }
}

/** lrn: local response normalisation across channels (AlexNet 3.3); paper's alpha. */
export const lrnKind = defineLayer<LrnSpec>({
  type: 'lrn',
  prefix: 'LRN',
  doc: 'local response normalisation across channels (AlexNet; the paper\'s alpha)',
  options: {
    n: { kind: 'int', min: 1, default: 5 },
    k: { kind: 'number', default: 2, check: (v) => v > 0, what: 'a positive number' },
    alpha: { kind: 'number', default: 1e-4, check: (v) => v >= 0, what: 'a non-negative number' },
    beta: { kind: 'number', default: 0.75, check: (v) => v >= 0, what: 'a non-negative number' },
  },
  infer(_, input, c) {
    if (input.length !== 3) c.fail('normalises across channels and needs (channels, height, width) input');
    return { outputShape: [...input] };
  },
  build: (s, c) => new LRN({ n: s.n, k: s.k, alpha: s.alpha, beta: s.beta, backend: c.backend }),
  // ONNX divides alpha by the window size: its alpha is ours times n
  onnx: (s, c) => c.node('LRN', [{ name: 'size', i: s.n! }, { name: 'alpha', f: s.alpha! * s.n! }, { name: 'beta', f: s.beta! }, { name: 'bias', f: s.k! }]),
  describe: (s) => `lrn n=${s.n} k=${s.k} alpha=${s.alpha} beta=${s.beta}`,
});
