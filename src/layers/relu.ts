// Relu (book 5.5.1): out = x where x > 0, else 0. The mask keeps where x <= 0, as the book does.

import { type Backend, getBackend } from '../backend/backend.js';
import { Tensor, zeros } from '../tensor.js';
import type { Layer, LayerOptions } from './layer.js';

export class Relu implements Layer {
  readonly name = 'Relu';
  backend: Backend;
  mask: Uint8Array | null = null;

  constructor(options: LayerOptions = {}) {
    this.backend = options.backend ?? getBackend();
  }

  forward(x: Tensor): Tensor {
    const out = zeros(x.shape, x.dtype);
    this.mask = new Uint8Array(x.size);
    this.backend.reluForward(x.data, out.data, this.mask);
    return out;
  }

  backward(dout: Tensor): Tensor {
    if (!this.mask) throw new Error('Relu.backward called before forward');
    // The book zeroes dout in place; we write a new tensor so the caller's dout stays intact.
    const dx = zeros(dout.shape, dout.dtype);
    this.backend.reluBackward(dout.data, this.mask, dx.data);
    return dx;
  }
}
