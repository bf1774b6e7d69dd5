// Tanh: out = tanh(x); backward uses the output: dx = dout * (1 - out^2). LeNet-5's original
// squashing function (a scaled tanh), and the classic alternative to the sigmoid.

import { type Backward, type Forward, OutputActivation } from './activation.js';
import { defineLayer } from './kind.js';

export interface TanhSpec { type: 'tanh' }

export class Tanh extends OutputActivation {
  readonly name = 'Tanh';
  protected readonly f: Forward = (b, x, out) => b.tanhForward(x, out);
  protected readonly df: Backward = (b, dout, out, dx) => b.tanhBackward(dout, out, dx);
}

/** tanh, any shape. */
export const tanhKind = defineLayer<TanhSpec>({
  type: 'tanh',
  prefix: 'Tanh',
  doc: 'tanh',
  options: {},
  infer: (_, input) => ({ outputShape: [...input] }),
  build: (_, c) => new Tanh({ backend: c.backend }),
  onnx: (_, c) => c.node('Tanh'),
  describe: () => 'tanh',
});
