import { AdaGrad, type AdaGradOptions } from './adagrad.js';
import { Adam, type AdamOptions } from './adam.js';
import { Momentum, type MomentumOptions } from './momentum.js';
import type { Optimizer } from './optimizer.js';
import { SGD, type SGDOptions } from './sgd.js';
import { UsageError } from '../errors.js';

export type OptimizerName = 'sgd' | 'momentum' | 'adagrad' | 'adam';
export type OptimizerParam = SGDOptions & MomentumOptions & AdaGradOptions & AdamOptions;
export const OPTIMIZER_NAMES: readonly OptimizerName[] = ['sgd', 'momentum', 'adagrad', 'adam'];

/** The Trainer's `optimizer_class_dict`: a name (any case) and its options -> an optimizer. */
export function createOptimizer(name: string, param: OptimizerParam = {}): Optimizer {
  switch (name.toLowerCase()) {
    case 'sgd': return new SGD(param);
    case 'momentum': return new Momentum(param);
    case 'adagrad': return new AdaGrad(param);
    case 'adam': return new Adam(param);
    default: throw new UsageError(`unknown optimizer '${name}' (choose from ${OPTIMIZER_NAMES.join(', ')})`);
  }
}
