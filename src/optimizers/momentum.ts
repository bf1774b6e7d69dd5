// Momentum (book 6.1.4): v <- momentum * v - lr * dL/dW; W <- W + v.

import { type Backend } from '../backend/backend.js';
import { getBackend } from '../backend/registry.js';
import type { Tensor } from '../tensor.js';
import { checkGrads, checkNumber, type Optimizer, type OptimizerOptions, type Params, zerosLike } from './optimizer.js';

export interface MomentumOptions extends OptimizerOptions {
  lr?: number;
  momentum?: number;
}

export class Momentum implements Optimizer {
  readonly name = 'momentum';
  lr: number;
  momentum: number;
  v: Params | null = null;
  backend: Backend;

  constructor({ lr = 0.01, momentum = 0.9, backend }: MomentumOptions = {}) {
    this.lr = checkNumber('Momentum', 'lr', lr, 0);
    this.momentum = checkNumber('Momentum', 'momentum', momentum, 0, 1);
    this.backend = backend ?? getBackend();
  }

  update(params: Params, grads: Params): void {
    checkGrads(params, grads);
    if (this.v === null) this.v = zerosLike(params, this.backend);
    for (const key of Object.keys(params)) {
      this.backend.momentumUpdate(params[key].data, grads[key].data, this.v[key].data, this.lr, this.momentum);
    }
  }

  stateTensors(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const [k, t] of Object.entries(this.v ?? {})) out[`v.${k}`] = t;
    return out;
  }
}
