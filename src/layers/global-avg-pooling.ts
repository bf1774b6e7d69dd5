// Global average pooling (Lin, Chen & Yan 2014, "Network in Network", section 3.2): the mean of
// each channel over the whole image, so a network can end in C class maps instead of a large
// dense layer (and takes any input size).
//   x: (N, C, H, W) -> out: (N, C);  dx[n, c, :, :] = dout[n, c] / (H*W)
// Written with the backend's GEMM against a vector of ones, so it needs no kernel of its own:
//   out (N*C, 1) = x (N*C, S) . ones (S, 1) / S,   dx (N*C, S) = dout (N*C, 1) . ones (1, S) / S

import { ShapeError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { BaseLayer, type Layer } from './layer.js';
import { defineLayer } from './kind.js';

export interface GlobalAvgPoolSpec { type: 'globalavgpool' }

export class GlobalAvgPooling extends BaseLayer implements Layer {
  readonly name = 'GlobalAvgPooling';
  xShape: readonly number[] | null = null;

  /** S ones (in the workspace: written once per size). */
  private ones(S: number, x: Tensor): Tensor {
    const ones = this.ws.tensor('ones', [S], x.dtype);
    if (ones.data[0] !== 1 || ones.data[S - 1] !== 1) ones.data.fill(1);
    return ones;
  }

  forward(x: Tensor): Tensor {
    if (x.ndim !== 4) throw new ShapeError(`GlobalAvgPooling: input must be (N, C, H, W), got (${x.shape.join(', ')})`);
    const [N, C, H, W] = x.shape;
    const S = H * W;
    const out = this.ws.tensor('out', [N, C], x.dtype);
    this.backend.gemm(false, false, N * C, 1, S, 1 / S, x.data, this.ones(S, x).data, 0, out.data);
    this.xShape = x.shape;
    return out;
  }

  backward(dout: Tensor): Tensor {
    if (!this.xShape) throw new Error('GlobalAvgPooling.backward called before forward');
    const [N, C, H, W] = this.xShape;
    const S = H * W;
    const dx = this.ws.tensor('dx', this.xShape, dout.dtype);
    this.backend.gemm(false, false, N * C, S, 1, 1 / S, dout.data, this.ones(S, dout).data, 0, dx.data);
    return dx;
  }
}

/** globalavgpool: (C, H, W) -> (C,), each channel's mean. */
export const globalAvgPoolKind = defineLayer<GlobalAvgPoolSpec>({
  type: 'globalavgpool',
  prefix: 'GlobalAvgPool',
  doc: 'global average pooling: (C, H, W) -> (C), each channel\'s mean',
  options: {},
  infer(_, input, c) {
    c.needImage();
    return { outputShape: [input[0]] };
  },
  build: (_, c) => new GlobalAvgPooling({ backend: c.backend }),
  // ONNX's GlobalAveragePool keeps (N, C, 1, 1): flatten to the (N, C) scratchnet returns
  onnx(_, c) {
    c.node('GlobalAveragePool');
    c.node('Flatten', [{ name: 'axis', i: 1 }]);
  },
  describe: () => 'globalavgpool',
});
