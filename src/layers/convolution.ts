// Convolution (book 7.4.3): im2row turns every filter-sized window into a row, so the
// convolution of a whole batch is one matrix product.
//   x: (N, C, H, W), W: (FN, C, FH, FW), b: (FN,) -> out: (N, FN, OH, OW)
//   OH = floor((H + 2*pad - FH) / stride) + 1 (floor division: any pad/stride combination).

import type { ConvActivation, WindowGeometry } from '../backend/backend.js';
import { windowGeometry } from './im2row.js';
import { ShapeError, ValueError } from '../errors.js';
import { type Tensor, zeros } from '../tensor.js';
import { type Layer, type LayerOptions, WeightLayer } from './layer.js';
import { defineLayer, initText, type WeightInit } from './kind.js';

export interface ConvSpec { type: 'conv'; filters: number; size: number; stride?: number; pad?: number; init?: WeightInit }

export class Convolution extends WeightLayer implements Layer {
  readonly name = 'Convolution';
  stride: number;
  pad: number;
  // caches (the book's names)
  x: Tensor | null = null;
  geometry: WindowGeometry | null = null;

  constructor(W: Tensor, b: Tensor, stride = 1, pad = 0, options: LayerOptions = {}) {
    super(W, b, options);
    if (W.ndim !== 4 || b.ndim !== 1 || b.shape[0] !== W.shape[0]) {
      throw new ShapeError(`Convolution: W (${W.shape.join(', ')}) and b (${b.shape.join(', ')}) do not fit (need W: (FN, C, FH, FW), b: (FN,))`);
    }
    if (!Number.isInteger(stride) || stride < 1) throw new ValueError(`Convolution: stride must be a positive integer, got ${stride}`);
    if (!Number.isInteger(pad) || pad < 0) throw new ValueError(`Convolution: pad must be a non-negative integer, got ${pad}`);
    this.stride = stride;
    this.pad = pad;
  }

  /** The window geometry for an input shape, with the sizes checked. */
  geometryFor(shape: readonly number[]): WindowGeometry {
    const [FN, C, FH, FW] = this.W.shape;
    if (shape.length !== 4 || shape[1] !== C) {
      throw new ShapeError(`Convolution: input (${shape.join(', ')}) must be (N, ${C}, H, W) for filters (${FN}, ${C}, ${FH}, ${FW})`);
    }
    return windowGeometry(shape, FH, FW, this.stride, this.pad, 'Convolution');
  }


  // The book's forward: col = im2row(x) (N*OH*OW, C*FH*FW), out = col . W.reshape(FN, -1)^T + b,
  // reshaped to (N, OH, OW, FN) and transposed to (N, FN, OH, OW). The backend's convForward is
  // that computation: the js backend runs it literally (im2row, gemm, transpose021 adding the
  // bias); the wasm backend never builds col: it packs each block of the product straight from
  // the image and writes (N, FN, OH, OW) with the bias added.
  // activation: the next layer's function applied in the same op (layers/conv-activation.ts).
  // mask: the ReLU's (activation 'relu', training).
  forward(x: Tensor, _train?: boolean, activation?: ConvActivation, mask?: Uint8Array): Tensor {
    const g = this.geometryFor(x.shape);
    const FN = this.W.shape[0];
    const out = this.ws.tensor('out', [g.batch, FN, g.outputHeight, g.outputWidth], x.dtype);
    this.backend.convForward(x.data, this.W.data, this.b.data, FN, g, out.data, activation, mask);
    this.x = x;
    this.geometry = g;
    return out;
  }

  // The book's backward: dout moved to rows d (N*OH*OW, FN); db = sum(d, axis=0);
  // dW = d^T . col; dcol = d . W; dx = row2im(dcol) (col2im: overlapping windows summed).
  // convBackwardFilter gives dW and db (col rebuilt from x, block by block on wasm),
  // convBackwardData gives dx (on wasm a correlation of dout with the flipped filters for
  // stride 1: no dcol, no scatter).
  backward(dout: Tensor, needInputGrad = true): Tensor {
    const g = this.geometry;
    if (!g || !this.x) throw new Error('Convolution.backward called before forward');
    const FN = this.W.shape[0];
    const be = this.backend;
    const { W: dW, b: db } = this.grads;
    be.convBackwardFilter(this.x.data, dout.data, FN, g, dW.data, db.data);
    if (!needInputGrad) return zeros([0], dout.dtype); // first layer: dx is never used
    const dx = this.ws.tensor('dx', this.x.shape, dout.dtype);
    be.convBackwardData(dout.data, this.W.data, FN, g, dx.data);
    return dx;
  }
}

/** conv: FN filters of size x size over (C, H, W) -> (FN, OH, OW); parameters W (FN, C, FH, FW), b (FN). */
export const convKind = defineLayer<ConvSpec>({
  type: 'conv',
  prefix: 'Conv',
  group: 'W',
  doc: 'convolution (book 7.4): filters of size x size over every channel',
  options: { filters: { kind: 'int', min: 1 }, size: { kind: 'int', min: 1 }, stride: { kind: 'int', min: 1, default: 1 }, pad: { kind: 'int', min: 0, default: 0 }, init: { kind: 'init' } },
  infer(s, input, c) {
    c.needImage();
    const [OH, OW] = c.window(s.size, s.stride!, s.pad!);
    const fanIn = input[0] * s.size * s.size;
    return {
      outputShape: [s.filters, OH, OW],
      params: { W: { shape: [s.filters, input[0], s.size, s.size], init: 'weight' }, b: { shape: [s.filters], init: 'zeros' } },
      fanIn,
      // no workspace beyond the output: the backend's conv ops keep no im2row rows in the arena
      scratch: 0,
    };
  },
  build: (s, c) => new Convolution(c.param('W'), c.param('b'), s.stride, s.pad, { backend: c.backend }),
  onnx(s, c) {
    c.node('Conv', [
      { name: 'kernel_shape', ints: [s.size, s.size] },
      { name: 'strides', ints: [s.stride!, s.stride!] },
      { name: 'pads', ints: [s.pad!, s.pad!, s.pad!, s.pad!] },
      { name: 'dilations', ints: [1, 1] },
      { name: 'group', i: 1 },
    ], [c.tensor('W'), c.tensor('b')]);
  },
  describe: (s) => `conv ${s.filters}@${s.size}x${s.size} s${s.stride ?? 1} p${s.pad ?? 0}${initText(s.init)}`,
});
