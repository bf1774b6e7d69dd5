// What sigmoid and tanh share: an elementwise function whose derivative is written with its
// own output (sigmoid: out (1 - out); tanh: 1 - out^2), so forward keeps `out` for backward.
//   x: any shape -> out: the same shape

import type { Backend } from '../backend/backend.js';
import type { FloatArray, Tensor } from '../tensor.js';
import { BaseLayer, type Layer } from './layer.js';

export type Forward = (b: Backend, x: FloatArray, out: FloatArray) => void;
export type Backward = (b: Backend, dout: FloatArray, out: FloatArray, dx: FloatArray) => void;

export abstract class OutputActivation extends BaseLayer implements Layer {
  abstract override readonly name: string;
  /** The forward output (the cache backward needs). */
  out: Tensor | null = null;
  protected abstract readonly f: Forward;
  protected abstract readonly df: Backward;

  forward(x: Tensor): Tensor {
    const out = this.ws.tensor('out', x.shape, x.dtype);
    this.f(this.backend, x.data, out.data);
    this.out = out;
    return out;
  }

  backward(dout: Tensor): Tensor {
    if (!this.out) throw new Error(`${this.name}.backward called before forward`);
    const dx = this.ws.tensor('dx', dout.shape, dout.dtype);
    this.df(this.backend, dout.data, this.out.data, dx.data);
    return dx;
  }
}
