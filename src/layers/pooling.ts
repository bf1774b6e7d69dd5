// Max pooling (book 7.4.4): the largest value of each window, per channel; backward routes the
// gradient to the position that won (argMax), the first one on ties like np.argmax.
//   x: (N, C, H, W) -> out: (N, C, OH, OW), OH = floor((H + 2*pad - poolH) / stride) + 1
// The reference text computes OH without the pad; here pad counts, and padded cells never win.

import { type Backend, type WindowGeometry } from '../backend/backend.js';
import { getBackend } from '../backend/registry.js';
import { checkPoolWindow, windowGeometry } from './im2row.js';
import { Tensor } from '../tensor.js';
import { Workspace } from '../backend/workspace.js';
import type { Layer, LayerOptions } from './layer.js';

export class Pooling implements Layer {
  readonly name = 'Pooling';
  backend: Backend;
  /** Outputs and scratch, allocated once per shape and reused (backend/workspace.ts). */
  private readonly ws = new Workspace(this);
  poolH: number;
  poolW: number;
  stride: number;
  pad: number;
  x: Tensor | null = null;
  /** Winning window position (ky*poolW + kx) per output element, in (N, C, OH, OW) order. */
  argMax: Int32Array | null = null;
  geometry: WindowGeometry | null = null;

  constructor(poolH: number, poolW: number, stride = 1, pad = 0, options: LayerOptions = {}) {
    checkPoolWindow('Pooling', poolH, poolW, stride, pad);
    this.poolH = poolH;
    this.poolW = poolW;
    this.stride = stride;
    this.pad = pad;
    this.backend = options.backend ?? getBackend();
  }

  geometryFor(shape: readonly number[]): WindowGeometry {
    return windowGeometry(shape, this.poolH, this.poolW, this.stride, this.pad, 'Pooling');
  }


  forward(x: Tensor): Tensor {
    const g = this.geometryFor(x.shape);
    const out = this.ws.tensor('out', [g.batch, g.channels, g.outputHeight, g.outputWidth], x.dtype);
    const argMax = this.ws.int32('argMax', out.size);
    this.backend.maxPoolForward(x.data, g, out.data, argMax);
    this.x = x;
    this.argMax = argMax;
    this.geometry = g;
    return out;
  }

  backward(dout: Tensor): Tensor {
    if (!this.x || !this.argMax || !this.geometry) throw new Error('Pooling.backward called before forward');
    const dx = this.ws.tensor('dx', this.x.shape, dout.dtype);
    this.backend.maxPoolBackward(dout.data, this.argMax, this.geometry, dx.data);
    return dx;
  }
}
