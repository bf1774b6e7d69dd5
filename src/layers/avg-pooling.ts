// Average pooling (LeNet-5's subsampling, book 7.4.4's "average pooling"): the mean of each
// window, per channel; backward spreads each gradient evenly over its window.
//   x: (N, C, H, W) -> out: (N, C, OH, OW), OH = floor((H + 2*pad - poolH) / stride) + 1
// Padding cells count as zeros in the mean: always divide by poolH*poolW, as the book's
// im2row + mean would (ONNX AveragePool with count_include_pad = 1).

import type { Tensor } from '../tensor.js';
import type { LayerOptions } from './layer.js';
import { poolKind, WindowPooling } from './pooling.js';

export class AvgPooling extends WindowPooling {
  readonly name = 'AvgPooling';

  constructor(poolH: number, poolW: number, stride = 1, pad = 0, options: LayerOptions = {}) {
    super('AvgPooling', poolH, poolW, stride, pad, options);
  }

  forward(x: Tensor): Tensor {
    const out = this.output(x);
    this.backend.avgPoolForward(x.data, this.geometry!, out.data);
    return out;
  }

  backward(dout: Tensor): Tensor {
    if (!this.x || !this.geometry) throw new Error('AvgPooling.backward called before forward');
    const dx = this.ws.tensor('dx', this.x.shape, dout.dtype);
    this.backend.avgPoolBackward(dout.data, this.geometry, dx.data);
    return dx;
  }
}

/** avgpool: window means per channel (padding counts as zeros); stride defaults to the size. */
export const avgpoolKind = poolKind('avgpool', 'AvgPool', 'AveragePool', 'average pooling (LeNet\'s subsampling): window means per channel',
  (s, o) => new AvgPooling(s.size, s.size, s.stride, s.pad, o));
