// ReLU directly followed by max pooling, run as one op (simple, AlexNet's last pool, deep's three
// blocks). The fusion is an execution detail of a network: the spec, the layer list and names,
// the parameters, ONNX export and saved files all still have the two layers; the network's
// forward (models/network.ts) runs a pair it finds here through this step instead of one layer
// after the other, unless a `tap` asks for every layer's output (then it runs them unfused).
//
// Forward: max commutes with the ReLU, so maxPool(relu(x)) = relu(maxPool(x)): the conv output is
// read once and the pooled result clipped (backend.reluMaxPoolForward); no ReLU output or mask
// is written. A window whose maximum the ReLU cut off (<= 0) gets argMax -1.
// Backward: the pooling routes each gradient to its argmax and nothing where it is -1, which is
// exactly the ReLU-masked gradient of the ReLU's input (backend.reluMaxPoolBackward); the ReLU's
// backward is then the identity. Both layers keep that state (Relu.fused, Pooling.fused), so a
// caller that walks `network.layers` backward after a fused forward still gets the right
// gradients.

import type { Tensor } from '../tensor.js';
import { ConvRelu, ConvSigmoid } from './conv-activation.js';
import { Convolution } from './convolution.js';
import type { Layer } from './layer.js';
import { Pooling } from './pooling.js';
import { Relu } from './relu.js';
import { Sigmoid } from './sigmoid.js';

export class ReluMaxPool {
  readonly relu: Relu;
  readonly pool: Pooling;

  constructor(relu: Relu, pool: Pooling) {
    this.relu = relu;
    this.pool = pool;
  }

  /** x: the ReLU's input -> the pooling's output. train false: nothing kept for backward. */
  forward(x: Tensor, train: boolean): Tensor {
    this.relu.fused = true;
    this.relu.mask = null;
    return this.pool.forwardAfterRelu(x, train);
  }
}

/** One step of a network's forward: a layer, or a fused pair covering `span` layers. */
export interface ForwardStep {
  step: Layer | ReluMaxPool | ConvSigmoid | ConvRelu;
  span: number;
}

/** The forward steps of a layer list: every ReLU directly followed by max pooling fused, and
 *  every convolution directly followed by a sigmoid, or by a ReLU that max pooling does not
 *  follow (conv-activation.ts; a ReLU before max pooling fuses with the pooling instead, which
 *  writes neither the ReLU's output nor its mask). */
export function fuseLayers(layers: readonly Layer[]): ForwardStep[] {
  const steps: ForwardStep[] = [];
  for (let i = 0; i < layers.length; i++) {
    const [a, b] = [layers[i], layers[i + 1]];
    if (a instanceof Relu && b instanceof Pooling) {
      steps.push({ step: new ReluMaxPool(a, b), span: 2 });
      i++;
    } else if (a instanceof Convolution && b instanceof Sigmoid) {
      steps.push({ step: new ConvSigmoid(a, b), span: 2 });
      i++;
    } else if (a instanceof Convolution && b instanceof Relu && !(layers[i + 2] instanceof Pooling)) {
      steps.push({ step: new ConvRelu(a, b), span: 2 });
      i++;
    } else steps.push({ step: a, span: 1 });
  }
  return steps;
}
