// Affine (book 5.6.2): out = x . W + b. Accepts 4-D input (N, C, H, W), flattening it to
// (N, C*H*W) as the book's tensor-aware version does, and restores that shape in backward.
//   x: (N, D) . W: (D, M) + b: (M,) -> out: (N, M)

import { type Backend } from '../backend/backend.js';
import { getBackend } from '../backend/registry.js';
import { ShapeError } from '../errors.js';
import { Tensor, zeros } from '../tensor.js';
import { Workspace } from '../backend/workspace.js';
import type { Layer, LayerOptions } from './layer.js';

export class Affine implements Layer {
  readonly name = 'Affine';
  backend: Backend;
  /** Outputs and scratch, allocated once per shape and reused (backend/workspace.ts). */
  private readonly ws = new Workspace(this);
  W: Tensor;
  b: Tensor;
  x: Tensor | null = null;
  originalXShape: readonly number[] | null = null;
  dW: Tensor;
  db: Tensor;

  constructor(W: Tensor, b: Tensor, options: LayerOptions = {}) {
    if (W.ndim !== 2 || b.ndim !== 1 || b.shape[0] !== W.shape[1]) {
      throw new ShapeError(`Affine: W (${W.shape.join(', ')}) and b (${b.shape.join(', ')}) do not fit (need W: (D, M), b: (M,))`);
    }
    this.W = W;
    this.b = b;
    this.dW = zeros(W.shape, W.dtype);
    this.db = zeros(b.shape, b.dtype);
    this.backend = options.backend ?? getBackend();
  }

  get params(): Record<string, Tensor> {
    return { W: this.W, b: this.b };
  }

  get grads(): Record<string, Tensor> {
    return { W: this.dW, b: this.db };
  }

  forward(x: Tensor): Tensor {
    const [D, M] = this.W.shape;
    const N = x.shape[0];
    if (x.ndim < 2 || x.size / N !== D) {
      throw new ShapeError(`Affine: input (${x.shape.join(', ')}) has ${N > 0 ? x.size / N : 0} features per sample, W expects ${D}`);
    }
    this.originalXShape = x.shape;
    this.x = x.reshape(N, D);
    const out = this.ws.tensor('out', [N, M], x.dtype);
    this.backend.gemm(false, false, N, M, D, 1, this.x.data, this.W.data, 0, out.data);
    this.backend.addBias(out.data, this.b.data, N, M, out.data);
    return out;
  }

  backward(dout: Tensor): Tensor {
    if (!this.x || !this.originalXShape) throw new Error('Affine.backward called before forward');
    const [D, M] = this.W.shape;
    const N = this.x.shape[0];
    const dx = this.ws.tensor('dx', [N, D], dout.dtype);
    this.backend.gemm(false, true, N, D, M, 1, dout.data, this.W.data, 0, dx.data); // dx = dout . W^T
    this.backend.gemm(true, false, D, M, N, 1, this.x.data, dout.data, 0, this.dW.data); // dW = x^T . dout
    this.backend.sumRows(dout.data, N, M, this.db.data); // db = sum(dout, axis=0)
    return dx.reshape(...this.originalXShape);
  }
}
