// AdaGrad (book 6.1.5): h <- h + g*g; W <- W - lr * g / (sqrt(h) + 1e-7).
// (The book's common/optimizer.py adds 1e-7 after the square root; the blog's transcription
// puts it inside. We follow the book's code.)

import { type Backend } from '../backend/backend.js';
import { getBackend } from '../backend/registry.js';
import type { Tensor } from '../tensor.js';
import { checkGrads, checkNumber, type Optimizer, type OptimizerOptions, type Params, zerosLike } from './optimizer.js';

export interface AdaGradOptions extends OptimizerOptions {
  lr?: number;
  eps?: number;
}

export class AdaGrad implements Optimizer {
  readonly name = 'adagrad';
  lr: number;
  eps: number;
  h: Params | null = null;
  backend: Backend;

  constructor({ lr = 0.01, eps = 1e-7, backend }: AdaGradOptions = {}) {
    this.lr = checkNumber('AdaGrad', 'lr', lr, 0);
    this.eps = checkNumber('AdaGrad', 'eps', eps, 0);
    this.backend = backend ?? getBackend();
  }

  update(params: Params, grads: Params): void {
    checkGrads(params, grads);
    if (this.h === null) this.h = zerosLike(params, this.backend);
    for (const key of Object.keys(params)) {
      this.backend.adagradUpdate(params[key].data, grads[key].data, this.h[key].data, this.lr, this.eps);
    }
  }

  stateTensors(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const [k, t] of Object.entries(this.h ?? {})) out[`h.${k}`] = t;
    return out;
  }
}
