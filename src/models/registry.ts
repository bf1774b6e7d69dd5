// Rebuild a network from the spec stored in a model file. Each architecture registers a
// builder under the `model` name its spec() writes: 'Sequential' for every network built from
// a layer spec (the zoo, spec files), 'SimpleConvNet' for files of the original class.

import type { Backend } from '../backend/backend.js';
import { ShapeError } from '../errors.js';
import type { DType } from '../tensor.js';
import type { ModelSpec, Network } from './network.js';
import { SequentialNetwork } from './sequential.js';
import { SimpleConvNet, type SimpleConvNetOptions } from './simple-convnet.js';

export interface BuildOptions {
  backend?: Backend | string;
  dtype?: DType;
  seed?: number;
}

type Builder = (spec: ModelSpec, options: BuildOptions) => Network;

const builders = new Map<string, Builder>([
  ['SimpleConvNet', (spec, options) => new SimpleConvNet({ ...(spec as SimpleConvNetOptions), ...options })],
  ['Sequential', (spec, options) => new SequentialNetwork(spec, options)],
]);

export function registerModel(name: string, builder: Builder): void {
  builders.set(name, builder);
}

export function buildNetwork(spec: ModelSpec, options: BuildOptions = {}): Network {
  if (!spec || typeof spec !== 'object' || typeof spec.model !== 'string') throw new ShapeError('model spec has no "model" name');
  const build = builders.get(spec.model);
  if (!build) throw new ShapeError(`unknown model '${spec.model}' (known: ${[...builders.keys()].join(', ')})`);
  return build(spec, options);
}
