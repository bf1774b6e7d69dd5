// Flatten: (N, C, H, W) -> (N, C*H*W), and back in backward. No copy: a reshape of the same
// storage (tensors are contiguous). Affine flattens by itself; this layer makes it explicit in
// a spec and gives ONNX export a node to map.

import { ShapeError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { BaseLayer, type Layer } from './layer.js';
import { defineLayer } from './kind.js';

export interface FlattenSpec { type: 'flatten' }

export class Flatten extends BaseLayer implements Layer {
  readonly name = 'Flatten';
  originalXShape: readonly number[] | null = null;

  forward(x: Tensor): Tensor {
    if (x.ndim < 1) throw new ShapeError('Flatten: input needs a batch dimension');
    this.originalXShape = x.shape;
    const N = x.shape[0];
    return x.reshape(N, N === 0 ? 0 : x.size / N);
  }

  backward(dout: Tensor): Tensor {
    if (!this.originalXShape) throw new Error('Flatten.backward called before forward');
    return dout.reshape(...this.originalXShape);
  }
}

/** flatten: (C, H, W) -> (C*H*W,). */
export const flattenKind = defineLayer<FlattenSpec>({
  type: 'flatten',
  prefix: 'Flatten',
  doc: 'flatten: (C, H, W) -> (C*H*W)',
  options: {},
  infer: (_, input) => ({ outputShape: [input.reduce((a, b) => a * b, 1)] }),
  build: (_, c) => new Flatten({ backend: c.backend }),
  onnx: (_, c) => c.node('Flatten', [{ name: 'axis', i: 1 }]),
  describe: () => 'flatten',
});
