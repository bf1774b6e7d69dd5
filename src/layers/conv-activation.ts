// A convolution directly followed by a sigmoid (LeNet's two) or by a ReLU that no max pooling
// follows (deep's first conv of each block, AlexNet's), run as one op: the backend's convForward
// applies the function to each chunk of outputs as its thread computes them (wasm: while they
// are in that core's cache; no second pass over memory, no second op). Like ReluMaxPool
// (relu-max-pool.ts) this is an execution detail of a network's forward: the layers, their names,
// parameters, files and ONNX export stay two layers, and a forward with a tap runs them one by
// one.
//
// The conv keeps its input for backward as usual. The sigmoid's backward needs its output: the
// fused op's output, handed to the Sigmoid layer as its `out`. The ReLU's backward needs its
// mask: the fused op writes it into the Relu layer's buffer (training only). So backward runs
// the two layers unchanged. The values are the bits of the two ops run apart
// (test/kernels-fused.test.ts).

import type { Tensor } from '../tensor.js';
import type { Convolution } from './convolution.js';
import type { Relu } from './relu.js';
import type { Sigmoid } from './sigmoid.js';

export class ConvSigmoid {
  readonly conv: Convolution;
  readonly sigmoid: Sigmoid;

  constructor(conv: Convolution, sigmoid: Sigmoid) {
    this.conv = conv;
    this.sigmoid = sigmoid;
  }

  /** x: the convolution's input -> the sigmoid's output. */
  forward(x: Tensor, train: boolean): Tensor {
    const out = this.conv.forward(x, train, 'sigmoid');
    this.sigmoid.out = out;
    return out;
  }
}

export class ConvRelu {
  readonly conv: Convolution;
  readonly relu: Relu;

  constructor(conv: Convolution, relu: Relu) {
    this.conv = conv;
    this.relu = relu;
  }

  /** x: the convolution's input -> the ReLU's output; train: the ReLU's mask written too. */
  forward(x: Tensor, train: boolean): Tensor {
    const g = this.conv.geometryFor(x.shape);
    const size = g.batch * this.conv.W.shape[0] * g.outputHeight * g.outputWidth;
    const mask = this.relu.fusedMask(train ? size : 0);
    return this.conv.forward(x, train, 'relu', mask ?? undefined);
  }
}
