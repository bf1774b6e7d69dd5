// Dropout (Srivastava et al. 2014; book 6.4.3), inverted: while training each activation is kept
// with probability 1 - ratio and the kept ones are scaled by 1 / (1 - ratio), so evaluation is
// the identity (the book instead scales by 1 - ratio at evaluation; same predictions).
// The mask comes from the layer's own seeded generator (src/random.ts): the same seed gives the
// same masks, and `rng` can be saved and restored with getState/setState to resume training.
//   x: any shape -> out: the same shape

import { ValueError } from '../errors.js';
import { Random } from '../random.js';
import type { Tensor } from '../tensor.js';
import { BaseLayer, type Layer, type LayerOptions } from './layer.js';
import { defineLayer } from './kind.js';

export interface DropoutSpec { type: 'dropout'; ratio?: number }

export class Dropout extends BaseLayer implements Layer {
  readonly name = 'Dropout';
  /** Probability of dropping an activation while training. */
  ratio: number;
  rng: Random;
  /** 0 where dropped, 1 / (1 - ratio) where kept (null after an evaluation pass). */
  mask: Tensor | null = null;

  constructor(ratio = 0.5, options: LayerOptions & { seed?: number; rng?: Random } = {}) {
    super(options);
    if (!(ratio >= 0 && ratio < 1)) throw new ValueError(`Dropout: ratio must be in [0, 1), got ${ratio}`);
    this.ratio = ratio;
    this.rng = options.rng ?? new Random(options.seed ?? 0);
  }

  /** The layer's generator, saved in checkpoints (network.stateDict) so a resumed run draws
   *  the same masks. */
  get generators(): Record<string, Random> {
    return { rng: this.rng };
  }

  forward(x: Tensor, train = false): Tensor {
    if (!train) {
      this.mask = null;
      return x; // identity at evaluation (inverted dropout)
    }
    // Drawing the mask is the one element loop in a layer: the generator lives in JS.
    const mask = this.ws.tensor('mask', x.shape, x.dtype);
    const keep = 1 / (1 - this.ratio);
    for (let i = 0; i < mask.size; i++) mask.data[i] = this.rng.uniform() >= this.ratio ? keep : 0;
    this.mask = mask;
    const out = this.ws.tensor('out', x.shape, x.dtype);
    this.backend.mul(x.data, mask.data, out.data);
    return out;
  }

  backward(dout: Tensor): Tensor {
    if (!this.mask) return dout; // the forward pass was an evaluation: identity
    const dx = this.ws.tensor('dx', dout.shape, dout.dtype);
    this.backend.mul(dout.data, this.mask.data, dx.data);
    return dx;
  }
}

/** dropout: inverted dropout while training, the identity at evaluation. */
export const dropoutKind = defineLayer<DropoutSpec>({
  type: 'dropout',
  prefix: 'Dropout',
  doc: 'dropout (inverted: identity at evaluation)',
  options: { ratio: { kind: 'number', default: 0.5, check: (v) => v >= 0 && v < 1, what: 'in [0, 1)' } },
  infer: (_, input) => ({ outputShape: [...input] }),
  build: (s, c) => new Dropout(s.ratio, { seed: c.seed(), backend: c.backend }),
  onnx: () => undefined, // inverted dropout: the identity at inference, no node
  describe: (s) => `dropout ${s.ratio}`,
});
