// SGD (book 6.1.2): W <- W - lr * dL/dW.

import { type Backend } from '../backend/backend.js';
import { getBackend } from '../backend/registry.js';
import type { Tensor } from '../tensor.js';
import { checkGrads, checkNumber, type Optimizer, type OptimizerOptions, type Params } from './optimizer.js';

export interface SGDOptions extends OptimizerOptions {
  lr?: number;
}

export class SGD implements Optimizer {
  readonly name = 'sgd';
  lr: number;
  backend: Backend;

  constructor({ lr = 0.01, backend }: SGDOptions = {}) {
    this.lr = checkNumber('SGD', 'lr', lr, 0);
    this.backend = backend ?? getBackend();
  }

  update(params: Params, grads: Params): void {
    checkGrads(params, grads);
    for (const key of Object.keys(params)) this.backend.sgdUpdate(params[key].data, grads[key].data, this.lr);
  }

  stateTensors(): Record<string, Tensor> {
    return {};
  }
}
