// How many values (parameters and buffers) a stored model spec implies, computed from the spec
// alone (no allocation). Model files and checkpoints check this against the tensors they hold
// *before* building the network, so a hostile spec ("units": 300000000) is refused in
// microseconds instead of allocating gigabytes. checkSpec enforces the size limits.

import type { ModelSpec } from '../models/network.js';
import { legacySpec } from '../models/registry.js';
import { checkSpec } from '../models/spec.js';

/** Trainable values plus non-trainable buffers the spec's network holds. Throws a
 *  ScratchnetError (SpecError) for a spec that does not check. */
export function specValueCount(spec: ModelSpec): number {
  let count = 0;
  for (const layer of checkSpec(legacySpec(spec)).layers) {
    for (const shape of [...Object.values(layer.params), ...Object.values(layer.buffers)]) count += shape.reduce((a, b) => a * b, 1);
  }
  return count;
}
