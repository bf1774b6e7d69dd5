// Tanh: out = tanh(x); backward uses the output: dx = dout * (1 - out^2).

import { type Backend, getBackend } from '../backend/backend.js';
import { Tensor, zeros } from '../tensor.js';
import type { Layer, LayerOptions } from './layer.js';

export class Tanh implements Layer {
  readonly name = 'Tanh';
  backend: Backend;
  out: Tensor | null = null;

  constructor(options: LayerOptions = {}) {
    this.backend = options.backend ?? getBackend();
  }

  forward(x: Tensor): Tensor {
    const out = zeros(x.shape, x.dtype);
    this.backend.tanhForward(x.data, out.data);
    this.out = out;
    return out;
  }

  backward(dout: Tensor): Tensor {
    if (!this.out) throw new Error('Tanh.backward called before forward');
    const dx = zeros(dout.shape, dout.dtype);
    this.backend.tanhBackward(dout.data, this.out.data, dx.data);
    return dx;
  }
}
