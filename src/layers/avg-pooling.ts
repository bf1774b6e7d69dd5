// Average pooling (LeNet-5's subsampling, book 7.4.4's "average pooling"): the mean of each
// window, per channel; backward spreads each gradient evenly over its window.
//   x: (N, C, H, W) -> out: (N, C, OH, OW), OH = floor((H + 2*pad - poolH) / stride) + 1
// Padding cells count as zeros in the mean (countIncludePad: always divide by poolH*poolW, as
// the book's im2row + mean would; ONNX AveragePool with count_include_pad = 1).

import { type Backend, type WindowGeometry } from '../backend/backend.js';
import { getBackend } from '../backend/registry.js';
import { checkPoolWindow, windowGeometry } from './im2row.js';
import { Tensor } from '../tensor.js';
import type { Layer, LayerOptions } from './layer.js';
import { Workspace } from '../backend/workspace.js';

export class AvgPooling implements Layer {
  readonly name = 'AvgPooling';
  backend: Backend;
  /** Outputs and scratch, allocated once per shape and reused (backend/workspace.ts). */
  private readonly ws = new Workspace(this);
  poolH: number;
  poolW: number;
  stride: number;
  pad: number;
  /** Padding cells count in the divisor (always poolH * poolW). */
  readonly countIncludePad = true;
  x: Tensor | null = null;
  geometry: WindowGeometry | null = null;

  constructor(poolH: number, poolW: number, stride = 1, pad = 0, options: LayerOptions = {}) {
    checkPoolWindow('AvgPooling', poolH, poolW, stride, pad);
    this.poolH = poolH;
    this.poolW = poolW;
    this.stride = stride;
    this.pad = pad;
    this.backend = options.backend ?? getBackend();
  }

  geometryFor(shape: readonly number[]): WindowGeometry {
    return windowGeometry(shape, this.poolH, this.poolW, this.stride, this.pad, 'AvgPooling');
  }

  forward(x: Tensor): Tensor {
    const g = this.geometryFor(x.shape);
    const out = this.ws.tensor('out', [g.batch, g.channels, g.outputHeight, g.outputWidth], x.dtype);
    this.backend.avgPoolForward(x.data, g, out.data);
    this.x = x;
    this.geometry = g;
    return out;
  }

  backward(dout: Tensor): Tensor {
    if (!this.x || !this.geometry) throw new Error('AvgPooling.backward called before forward');
    const dx = this.ws.tensor('dx', this.x.shape, dout.dtype);
    this.backend.avgPoolBackward(dout.data, this.geometry, dx.data);
    return dx;
  }
}
