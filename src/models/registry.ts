// Rebuild a network from the spec stored in a model file or checkpoint: every network is a
// 'Sequential' spec. Files of scratchnet 0.1 written by the SimpleConvNet class hold
// { model: 'SimpleConvNet', inputDim, convParam, hiddenSize, outputSize, weightInitStd }:
// legacySpec() turns that into the same network's spec, here and nowhere else.

import type { Backend } from '../backend/backend.js';
import { ValueError } from '../errors.js';
import type { DType } from '../tensor.js';
import type { ModelSpec, Network } from './network.js';
import { SequentialNetwork } from './sequential.js';
import { simpleConvNetSpec, type SimpleConvNetOptions } from './simple-convnet.js';
import type { NetworkSpec } from './spec.js';

export interface BuildOptions {
  backend?: Backend | string;
  dtype?: DType;
  seed?: number;
  /** false: parameters left at zero (for a loader that fills them). */
  initialize?: boolean;
}

/** The Sequential spec of a stored spec (legacy kinds converted); refuses unknown kinds. */
export function legacySpec(spec: ModelSpec): NetworkSpec {
  if (!spec || typeof spec !== 'object' || typeof spec.model !== 'string') throw new ValueError('model spec has no "model" name');
  if (spec.model === 'Sequential') return spec as unknown as NetworkSpec;
  if (spec.model === 'SimpleConvNet') return { model: 'Sequential', ...simpleConvNetSpec(spec as unknown as SimpleConvNetOptions) };
  throw new ValueError(`unknown model '${String(spec.model).slice(0, 60)}' (known: Sequential, SimpleConvNet)`);
}

export function buildNetwork(spec: ModelSpec, options: BuildOptions = {}): Network {
  return new SequentialNetwork(legacySpec(spec), options);
}
