// What every optimizer looks like: update(params, grads) in place, state allocated on first
// use (as in the book), keyed by parameter name.

import type { Backend } from '../backend/backend.js';
import { allocTensor } from '../backend/storage.js';
import { ShapeError, ValueError } from '../errors.js';
import { type Tensor, zeros } from '../tensor.js';

export type Params = Record<string, Tensor>;

export interface Optimizer {
  readonly name: string;
  update(params: Params, grads: Params): void;
  /** Named state tensors (moments, step count) so a checkpoint can save and restore them. */
  stateTensors(): Record<string, Tensor>;
}

export interface OptimizerOptions {
  backend?: Backend;
}

export function checkGrads(params: Params, grads: Params): void {
  for (const key of Object.keys(params)) {
    const g = grads[key];
    if (!g) throw new ShapeError(`no gradient for parameter ${key}`);
    if (g.size !== params[key].size) throw new ShapeError(`gradient ${key} has ${g.size} values, parameter has ${params[key].size}`);
  }
}

/** One zero tensor per parameter, the book's `np.zeros_like(val)` loop; with a backend that
 *  has its own memory (wasm) the state lives there, so updates run without copies. */
export function zerosLike(params: Params, backend?: Backend): Params {
  const out: Params = {};
  for (const [key, val] of Object.entries(params)) out[key] = backend ? allocTensor(backend, val.shape, val.dtype) : zeros(val.shape, val.dtype);
  return out;
}

export function checkNumber(owner: string, name: string, value: number, min: number, max = Infinity): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new ValueError(`${owner}: ${name} must be a number in [${min}, ${max}], got ${value}`);
  }
  return value;
}
