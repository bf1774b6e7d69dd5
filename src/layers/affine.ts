// Affine (book 5.6.2): out = x . W + b. Accepts 4-D input (N, C, H, W), flattening it to
// (N, C*H*W) as the book's tensor-aware version does, and restores that shape in backward.
//   x: (N, D) . W: (D, M) + b: (M,) -> out: (N, M)

import { ShapeError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { type Layer, type LayerOptions, WeightLayer } from './layer.js';
import { defineLayer, initText, type WeightInit } from './kind.js';

export interface DenseSpec { type: 'dense'; units: number; init?: WeightInit }

export class Affine extends WeightLayer implements Layer {
  readonly name = 'Affine';
  x: Tensor | null = null;
  originalXShape: readonly number[] | null = null;

  constructor(W: Tensor, b: Tensor, options: LayerOptions = {}) {
    super(W, b, options);
    if (W.ndim !== 2 || b.ndim !== 1 || b.shape[0] !== W.shape[1]) {
      throw new ShapeError(`Affine: W (${W.shape.join(', ')}) and b (${b.shape.join(', ')}) do not fit (need W: (D, M), b: (M,))`);
    }
  }

  forward(x: Tensor): Tensor {
    const [D, M] = this.W.shape;
    const N = x.shape[0];
    if (x.ndim < 2 || x.size !== N * D) {
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
    const { W: dW, b: db } = this.grads;
    const dx = this.ws.tensor('dx', [N, D], dout.dtype);
    this.backend.gemm(false, true, N, D, M, 1, dout.data, this.W.data, 0, dx.data); // dx = dout . W^T
    this.backend.gemm(true, false, D, M, N, 1, this.x.data, dout.data, 0, dW.data); // dW = x^T . dout
    this.backend.sumRows(dout.data, N, M, db.data); // db = sum(dout, axis=0)
    return dx.reshape(...this.originalXShape);
  }
}

/** dense: a fully connected layer on the flattened input -> (units,); W (D, units), b (units). */
export const denseKind = defineLayer<DenseSpec>({
  type: 'dense',
  prefix: 'Affine',
  group: 'W',
  doc: 'fully connected (Affine, book 5.6.2) on the flattened input',
  options: { units: { kind: 'int', min: 1 }, init: { kind: 'init' } },
  infer(s, input) {
    const features = input.reduce((a, b) => a * b, 1);
    return { outputShape: [s.units], params: { W: { shape: [features, s.units], init: 'weight' }, b: { shape: [s.units], init: 'zeros' } }, fanIn: features };
  },
  build: (_, c) => new Affine(c.param('W'), c.param('b'), { backend: c.backend }),
  onnx(_, c) {
    if (c.inputShape.length !== 1) c.node('Flatten', [{ name: 'axis', i: 1 }]);
    c.node('Gemm', [{ name: 'alpha', f: 1 }, { name: 'beta', f: 1 }, { name: 'transA', i: 0 }, { name: 'transB', i: 0 }], [c.tensor('W'), c.tensor('b')]);
  },
  describe: (s) => `dense ${s.units}${initText(s.init)}`,
});
