// What every layer looks like: forward and backward side by side, caches kept between them
// (named as in the book), parameter gradients left in `grads` after backward.

import type { Backend } from '../backend/backend.js';
import type { Tensor } from '../tensor.js';

export interface Layer {
  readonly name: string;
  /** `train` matters only for layers that behave differently while training (dropout, batch norm). */
  forward(x: Tensor, train?: boolean): Tensor;
  /** dout: gradient of the loss w.r.t. this layer's output -> gradient w.r.t. its input.
   *  needInputGrad = false lets the first layer skip computing a dx nobody reads (the network
   *  input's gradient); the layer then returns an empty tensor. Parameter gradients are
   *  always computed. */
  backward(dout: Tensor, needInputGrad?: boolean): Tensor;
  /** Trainable parameters by short name (e.g. W, b), live storage. */
  readonly params?: Record<string, Tensor>;
  /** Gradients by the same short names, filled by backward. */
  readonly grads?: Record<string, Tensor>;
  backend: Backend;
}

export interface LayerOptions {
  backend?: Backend;
}
