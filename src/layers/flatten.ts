// Flatten: (N, C, H, W) -> (N, C*H*W), and back in backward. No copy: a reshape of the same
// storage (tensors are contiguous). Affine flattens by itself; this layer makes it explicit in
// a spec and gives ONNX export a node to map.

import { type Backend } from '../backend/backend.js';
import { getBackend } from '../backend/registry.js';
import { ShapeError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import type { Layer, LayerOptions } from './layer.js';

export class Flatten implements Layer {
  readonly name = 'Flatten';
  backend: Backend;
  originalXShape: readonly number[] | null = null;

  constructor(options: LayerOptions = {}) {
    this.backend = options.backend ?? getBackend();
  }

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
