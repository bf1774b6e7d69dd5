// SoftmaxWithLoss (book 5.6.3): softmax + cross entropy as one layer, because together their
// gradient is simply (y - t) / N.
//   x: (N, classes) scores, t: labels -> scalar loss

import { ShapeError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { toClassIndices, type Labels } from './functions.js';
import { BaseLayer } from './layer.js';

export class SoftmaxWithLoss extends BaseLayer {
  readonly name = 'SoftmaxWithLoss';
  loss: number | null = null;
  y: Tensor | null = null; // softmax output
  t: Int32Array | null = null; // labels as class indices

  forward(x: Tensor, t: Labels): number {
    if (x.ndim !== 2) throw new ShapeError(`SoftmaxWithLoss: scores must be (N, classes), got (${x.shape.join(', ')})`);
    const [rows, cols] = x.shape;
    this.t = toClassIndices(t, rows, cols, this.ws.int32('t', rows));
    this.y = this.ws.tensor('y', x.shape, x.dtype);
    this.backend.softmax(x.data, rows, cols, this.y.data);
    this.loss = this.backend.crossEntropy(this.y.data, this.t, rows, cols);
    return this.loss;
  }

  backward(dout = 1): Tensor {
    if (!this.y || !this.t) throw new Error('SoftmaxWithLoss.backward called before forward');
    const [rows, cols] = this.y.shape;
    const dx = this.ws.tensor('dx', this.y.shape, this.y.dtype);
    this.backend.softmaxCrossEntropyBackward(this.y.data, this.t, rows, cols, dx.data);
    if (dout !== 1) for (let i = 0; i < dx.size; i++) dx.data[i] *= dout;
    return dx;
  }
}
