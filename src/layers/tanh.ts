// Tanh: out = tanh(x); backward uses the output: dx = dout * (1 - out^2).

import { type Backend } from '../backend/backend.js';
import { getBackend } from '../backend/registry.js';
import { Tensor } from '../tensor.js';
import type { Layer, LayerOptions } from './layer.js';
import { Workspace } from '../backend/workspace.js';

export class Tanh implements Layer {
  readonly name = 'Tanh';
  backend: Backend;
  /** Outputs and scratch, allocated once per shape and reused (backend/workspace.ts). */
  private readonly ws = new Workspace(this);
  out: Tensor | null = null;

  constructor(options: LayerOptions = {}) {
    this.backend = options.backend ?? getBackend();
  }

  forward(x: Tensor): Tensor {
    const out = this.ws.tensor('out', x.shape, x.dtype);
    this.backend.tanhForward(x.data, out.data);
    this.out = out;
    return out;
  }

  backward(dout: Tensor): Tensor {
    if (!this.out) throw new Error('Tanh.backward called before forward');
    const dx = this.ws.tensor('dx', dout.shape, dout.dtype);
    this.backend.tanhBackward(dout.data, this.out.data, dx.data);
    return dx;
  }
}
