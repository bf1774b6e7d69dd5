// How many parameter values a model spec implies, computed from the spec alone (no allocation).
// Model files and checkpoints check this against the tensors they hold *before* building the
// network, so a hostile spec ("hiddenSize": 300000000) is refused in microseconds instead of
// allocating gigabytes (or crashing with a RangeError).

import type { ModelSpec } from '../models/network.js';
import { simpleConvNetSpec, type SimpleConvNetOptions } from '../models/simple-convnet.js';
import { checkSpec } from '../models/spec.js';
import { ScratchnetError } from '../errors.js';

/** Largest input or output of any layer, per sample, that a model file may ask for (2^26 values:
 *  256 MB of float32 for one image; AlexNet on 227x227 needs 0.3 M). */
export const MAX_ACTIVATION_VALUES = 2 ** 26;

/** Trainable values plus non-trainable buffers (batch-norm statistics) the spec's network holds;
 *  null for architectures this function does not know (their builders validate themselves).
 *  Throws a ScratchnetError (SpecError) for a spec that does not check. */
export function specValueCount(spec: ModelSpec): number | null {
  if (typeof spec !== 'object' || spec === null) return null;
  let layers;
  if (spec.model === 'Sequential') layers = checkSpec(spec).layers;
  else if (spec.model === 'SimpleConvNet') {
    const o = spec as unknown as SimpleConvNetOptions;
    try {
      layers = checkSpec(simpleConvNetSpec({ inputDim: o.inputDim, convParam: o.convParam, hiddenSize: o.hiddenSize, outputSize: o.outputSize, weightInitStd: o.weightInitStd })).layers;
    } catch {
      return null; // the SimpleConvNet class reports bad options in its own words, before allocating
    }
  } else return null;
  let count = 0;
  for (const layer of layers) {
    for (const shape of [layer.inputShape, layer.outputShape]) {
      const values = shape.reduce((a, b) => a * b, 1);
      if (!(values <= MAX_ACTIVATION_VALUES)) {
        throw new ScratchnetError(`layers[${layer.index}] (${layer.type}) works on (${shape.join(', ')}) = ${values} values per sample, above the limit of ${MAX_ACTIVATION_VALUES}`);
      }
    }
    for (const shape of [...Object.values(layer.params), ...Object.values(layer.buffers)]) count += shape.reduce((a, b) => a * b, 1);
  }
  return count;
}
