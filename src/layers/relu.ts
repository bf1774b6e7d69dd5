// Relu (book 5.5.1): out = x where x > 0, else 0. The mask keeps where x <= 0, as the book does.

import { type Backend } from '../backend/backend.js';
import { getBackend } from '../backend/registry.js';
import { Tensor } from '../tensor.js';
import { Workspace } from '../backend/workspace.js';
import type { Layer, LayerOptions } from './layer.js';

export class Relu implements Layer {
  readonly name = 'Relu';
  backend: Backend;
  /** Outputs and scratch, allocated once per shape and reused (backend/workspace.ts). */
  private readonly ws = new Workspace(this);
  mask: Uint8Array | null = null;

  constructor(options: LayerOptions = {}) {
    this.backend = options.backend ?? getBackend();
  }

  forward(x: Tensor): Tensor {
    const out = this.ws.tensor('out', x.shape, x.dtype);
    this.mask = this.ws.uint8('mask', x.size);
    this.backend.reluForward(x.data, out.data, this.mask);
    return out;
  }

  backward(dout: Tensor): Tensor {
    if (!this.mask) throw new Error('Relu.backward called before forward');
    // The book zeroes dout in place; we write a new tensor so the caller's dout stays intact.
    const dx = this.ws.tensor('dx', dout.shape, dout.dtype);
    this.backend.reluBackward(dout.data, this.mask, dx.data);
    return dx;
  }
}
