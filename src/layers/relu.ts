// Relu (book 5.5.1): out = x where x > 0, else 0. The mask keeps where x <= 0, as the book does.
// A network runs a ReLU that is directly followed by max pooling fused with it
// (relu-max-pool.ts): the pooling's backward then hands back a gradient already masked.

import type { Tensor } from '../tensor.js';
import { BaseLayer, type Layer } from './layer.js';
import { defineLayer } from './kind.js';

export interface ReluSpec { type: 'relu' }

export class Relu extends BaseLayer implements Layer {
  readonly name = 'Relu';
  mask: Uint8Array | null = null;
  /** The last forward ran fused into the max pooling after this layer (relu-max-pool.ts). */
  fused = false;

  forward(x: Tensor): Tensor {
    const out = this.ws.tensor('out', x.shape, x.dtype);
    this.mask = this.ws.uint8('mask', x.size);
    this.fused = false;
    this.backend.reluForward(x.data, out.data, this.mask);
    return out;
  }

  /** Evaluation: the output alone, no mask (nothing kept for backward). */
  infer(x: Tensor): Tensor {
    const out = this.ws.tensor('out', x.shape, x.dtype);
    this.mask = null;
    this.fused = false;
    this.backend.reluForward(x.data, out.data);
    return out;
  }

  /** The convolution before this layer applies the ReLU (conv-activation.ts): the mask it is
   *  to write (size values, training) or null (inference); backward then runs as usual. */
  fusedMask(size: number): Uint8Array | null {
    this.fused = false;
    this.mask = size > 0 ? this.ws.uint8('mask', size) : null;
    return this.mask;
  }

  backward(dout: Tensor): Tensor {
    // fused: the pooling's backward (argMax -1 where this ReLU cut the maximum) did the masking
    if (this.fused) return dout;
    if (!this.mask) throw new Error('Relu.backward called before a training forward');
    // The book zeroes dout in place; we write a new tensor so the caller's dout stays intact.
    const dx = this.ws.tensor('dx', dout.shape, dout.dtype);
    this.backend.reluBackward(dout.data, this.mask, dx.data);
    return dx;
  }
}

/** relu: max(x, 0), any shape. */
export const reluKind = defineLayer<ReluSpec>({
  type: 'relu',
  prefix: 'Relu',
  doc: 'ReLU: max(x, 0)',
  options: {},
  infer: (_, input) => ({ outputShape: [...input] }),
  build: (_, c) => new Relu({ backend: c.backend }),
  onnx: (_, c) => c.node('Relu'),
  describe: () => 'relu',
});
