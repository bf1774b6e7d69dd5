// Adam (book 6.1.6, Kingma & Ba 2015), written as the book's common/optimizer.py:
//   m <- m + (1 - beta1) (g - m);  v <- v + (1 - beta2) (g^2 - v)
//   lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t);  W <- W - lr_t * m / (sqrt(v) + 1e-7)

import { type Backend } from '../backend/backend.js';
import { getBackend } from '../backend/registry.js';
import type { Tensor } from '../tensor.js';
import { fromArray } from '../tensor.js';
import { checkGrads, checkNumber, type Optimizer, type OptimizerOptions, type Params, zerosLike } from './optimizer.js';

export interface AdamOptions extends OptimizerOptions {
  lr?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
}

export class Adam implements Optimizer {
  readonly name = 'adam';
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  iter = 0;
  m: Params | null = null;
  v: Params | null = null;
  backend: Backend;

  constructor({ lr = 0.001, beta1 = 0.9, beta2 = 0.999, eps = 1e-7, backend }: AdamOptions = {}) {
    this.lr = checkNumber('Adam', 'lr', lr, 0);
    this.beta1 = checkNumber('Adam', 'beta1', beta1, 0, 1);
    this.beta2 = checkNumber('Adam', 'beta2', beta2, 0, 1);
    this.eps = checkNumber('Adam', 'eps', eps, 0);
    this.backend = backend ?? getBackend();
  }

  update(params: Params, grads: Params): void {
    checkGrads(params, grads);
    if (this.m === null || this.v === null) {
      this.m = zerosLike(params, this.backend);
      this.v = zerosLike(params, this.backend);
    }
    this.iter += 1;
    const lrT = (this.lr * Math.sqrt(1 - this.beta2 ** this.iter)) / (1 - this.beta1 ** this.iter);
    for (const key of Object.keys(params)) {
      this.backend.adamUpdate(params[key].data, grads[key].data, this.m[key].data, this.v[key].data, lrT, this.beta1, this.beta2, this.eps);
    }
  }

  stateTensors(): Record<string, Tensor> {
    const out: Record<string, Tensor> = { iter: fromArray([this.iter]) };
    for (const [k, t] of Object.entries(this.m ?? {})) out[`m.${k}`] = t;
    for (const [k, t] of Object.entries(this.v ?? {})) out[`v.${k}`] = t;
    return out;
  }
}
