// Sigmoid (book 5.5.2): out = 1 / (1 + exp(-x)); backward uses the output: dx = dout * out * (1 - out).
// LeNet-5's squashing function.

import { type Backward, type Forward, OutputActivation } from './activation.js';
import { defineLayer } from './kind.js';

export interface SigmoidSpec { type: 'sigmoid' }

export class Sigmoid extends OutputActivation {
  readonly name = 'Sigmoid';
  protected readonly f: Forward = (b, x, out) => b.sigmoidForward(x, out);
  protected readonly df: Backward = (b, dout, out, dx) => b.sigmoidBackward(dout, out, dx);
}

/** sigmoid: 1 / (1 + exp(-x)), any shape. */
export const sigmoidKind = defineLayer<SigmoidSpec>({
  type: 'sigmoid',
  prefix: 'Sigmoid',
  doc: 'sigmoid: 1 / (1 + exp(-x))',
  options: {},
  infer: (_, input) => ({ outputShape: [...input] }),
  build: (_, c) => new Sigmoid({ backend: c.backend }),
  onnx: (_, c) => c.node('Sigmoid'),
  describe: () => 'sigmoid',
});
