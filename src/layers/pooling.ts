// Max pooling (book 7.4.4): the largest value of each window, per channel; backward routes the
// gradient to the position that won (argMax), the first one on ties like np.argmax.
//   x: (N, C, H, W) -> out: (N, C, OH, OW), OH = floor((H + 2*pad - poolH) / stride) + 1
// The reference text computes OH without the pad; here pad counts, and padded cells never win.
// WindowPooling holds what max and average pooling (avg-pooling.ts) share: the window, its
// checks and geometry, the input cache.

import type { WindowGeometry } from '../backend/backend.js';
import { checkPoolWindow, windowGeometry } from './im2row.js';
import type { Tensor } from '../tensor.js';
import { BaseLayer, type Layer, type LayerOptions } from './layer.js';
import { defineLayer, type LayerKind } from './kind.js';

export interface PoolSpec { type: 'maxpool' | 'avgpool'; size: number; stride?: number; pad?: number }

export abstract class WindowPooling extends BaseLayer implements Layer {
  abstract override readonly name: string;
  poolH: number;
  poolW: number;
  stride: number;
  pad: number;
  x: Tensor | null = null;
  geometry: WindowGeometry | null = null;

  constructor(owner: string, poolH: number, poolW: number, stride = 1, pad = 0, options: LayerOptions = {}) {
    super(options);
    checkPoolWindow(owner, poolH, poolW, stride, pad);
    this.poolH = poolH;
    this.poolW = poolW;
    this.stride = stride;
    this.pad = pad;
  }

  geometryFor(shape: readonly number[]): WindowGeometry {
    return windowGeometry(shape, this.poolH, this.poolW, this.stride, this.pad, this.name);
  }

  /** The output tensor for input x (geometry and input cached for backward). */
  protected output(x: Tensor): Tensor {
    const g = this.geometryFor(x.shape);
    this.x = x;
    this.geometry = g;
    return this.ws.tensor('out', [g.batch, g.channels, g.outputHeight, g.outputWidth], x.dtype);
  }

  abstract forward(x: Tensor, train?: boolean): Tensor;
  abstract backward(dout: Tensor, needInputGrad?: boolean): Tensor;
}

export class Pooling extends WindowPooling {
  readonly name = 'Pooling';
  /** Winning window position (ky*poolW + kx) per output element, in (N, C, OH, OW) order. */
  argMax: Int32Array | null = null;

  constructor(poolH: number, poolW: number, stride = 1, pad = 0, options: LayerOptions = {}) {
    super('Pooling', poolH, poolW, stride, pad, options);
  }

  /** The last forward ran fused with the ReLU before it (relu-max-pool.ts): x is the ReLU's
   *  input, argMax is -1 where the ReLU cut the maximum, and backward returns the gradient of
   *  the ReLU's input. */
  fused = false;

  forward(x: Tensor): Tensor {
    const out = this.output(x);
    const argMax = this.ws.int32('argMax', out.size);
    this.backend.maxPoolForward(x.data, this.geometry!, out.data, argMax);
    this.argMax = argMax;
    this.fused = false;
    return out;
  }

  /** ReLU then this pooling in one pass, x being the ReLU's input (relu-max-pool.ts). train
   *  false: the output alone (no argMax written, nothing kept for backward). */
  forwardAfterRelu(x: Tensor, train: boolean): Tensor {
    const out = this.output(x);
    this.fused = true;
    if (!train) {
      this.argMax = null;
      this.backend.reluMaxPoolForward(x.data, this.geometry!, out.data);
      return out;
    }
    const argMax = this.ws.int32('argMax', out.size);
    this.backend.reluMaxPoolForward(x.data, this.geometry!, out.data, argMax);
    this.argMax = argMax;
    return out;
  }

  backward(dout: Tensor): Tensor {
    if (!this.x || !this.argMax || !this.geometry) throw new Error('Pooling.backward called before a training forward');
    const dx = this.ws.tensor('dx', this.x.shape, dout.dtype);
    if (this.fused) this.backend.reluMaxPoolBackward(dout.data, this.argMax, this.geometry, dx.data);
    else this.backend.maxPoolBackward(dout.data, this.argMax, this.geometry, dx.data);
    return dx;
  }
}

/** The spec side both pooling kinds share (stride defaults to the window size). */
export function poolKind(type: PoolSpec['type'], prefix: string, op: string, doc: string, make: (s: PoolSpec, options: LayerOptions) => Layer): LayerKind<PoolSpec> {
  return defineLayer<PoolSpec>({
    type,
    prefix,
    doc,
    options: { size: { kind: 'int', min: 1 }, stride: { kind: 'int', min: 1, defaultFrom: 'size' }, pad: { kind: 'int', min: 0, default: 0 } },
    infer(s, input, c) {
      c.needImage();
      if (s.pad! >= s.size) c.fail(`pad ${s.pad} must be smaller than the window size ${s.size}`);
      const [OH, OW] = c.window(s.size, s.stride!, s.pad!);
      return { outputShape: [input[0], OH, OW] };
    },
    build: (s, c) => make(s, { backend: c.backend }),
    onnx(s, c) {
      const attrs = [
        { name: 'kernel_shape', ints: [s.size, s.size] },
        { name: 'strides', ints: [s.stride!, s.stride!] },
        { name: 'pads', ints: [s.pad!, s.pad!, s.pad!, s.pad!] },
      ];
      // scratchnet divides by the whole window, padding included (count_include_pad = 1)
      c.node(op, op === 'AveragePool' ? [...attrs, { name: 'count_include_pad', i: 1 }] : attrs);
    },
    describe: (s) => `${s.type} ${s.size}x${s.size} s${s.stride ?? s.size} p${s.pad ?? 0}`,
  });
}

/** maxpool: window maxima per channel; stride defaults to the window size. */
export const maxpoolKind = poolKind('maxpool', 'Pool', 'MaxPool', 'max pooling (book 7.4.4): window maxima per channel',
  (s, o) => new Pooling(s.size, s.size, s.stride, s.pad, o));
