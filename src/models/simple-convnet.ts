// SimpleConvNet (book 7.5): conv - relu - pool - affine - relu - affine - softmax.
//   input (C, H, W) -> Conv1 (FN, OH, OW) -> Pool1 2x2/2 (FN, PH, PW) -> Affine1 hidden -> Affine2 classes
// Sizes use floor division, so any pad / stride combination works. (The book computes the
// pool output as conv_output_size / 2 without flooring, which breaks for stride 2.)
// It is one network spec (simpleConvNetSpec) built by SequentialNetwork, which checks it like
// any spec; its constructor options, parameter names (W1 b1 W2 b2 W3 b3) and weight draws are
// those of the book's class. Model files store the spec (model 'Sequential', name
// 'SimpleConvNet'); files of scratchnet 0.1 ({ model: 'SimpleConvNet', ... }) are read through
// legacySpec() in models/registry.ts.

import type { Backend } from '../backend/backend.js';
import { ShapeError } from '../errors.js';
import type { DType } from '../tensor.js';
import { SequentialNetwork } from './sequential.js';
import { initStd, type NetworkSpec, type WeightInit } from './spec.js';

export { initStd, type WeightInit };

export interface ConvParam {
  filterNum?: number;
  filterSize?: number;
  pad?: number;
  stride?: number;
}

export interface SimpleConvNetOptions {
  inputDim?: readonly [number, number, number];
  convParam?: ConvParam;
  hiddenSize?: number;
  outputSize?: number;
  /** A standard deviation for every weight (the book's 0.01), or a per-layer rule from the
   *  book's MultiLayerNet: 'he' / 'relu' = sqrt(2 / fan_in), 'xavier' / 'sigmoid' = sqrt(1 / fan_in). */
  weightInitStd?: WeightInit;
  /** Seed of the generator that draws the initial weights. */
  seed?: number;
  dtype?: DType;
  backend?: Backend | string;
}

export class SimpleConvNet extends SequentialNetwork {
  readonly options: Required<Omit<SimpleConvNetOptions, 'backend' | 'convParam' | 'inputDim'>> & {
    inputDim: [number, number, number];
    convParam: Required<ConvParam>;
  };

  constructor(options: SimpleConvNetOptions = {}) {
    const spec = simpleConvNetSpec(options);
    super(spec, { seed: options.seed, dtype: options.dtype, backend: options.backend });
    const [conv, , , hidden, , out] = this.networkSpec.layers as [{ filters: number; size: number; pad: number; stride: number; init: WeightInit }, unknown, unknown, { units: number }, unknown, { units: number }];
    this.options = {
      inputDim: [...this.networkSpec.input] as [number, number, number],
      convParam: { filterNum: conv.filters, filterSize: conv.size, pad: conv.pad, stride: conv.stride },
      hiddenSize: hidden.units, outputSize: out.units, weightInitStd: conv.init,
      seed: options.seed ?? 0, dtype: this.dtype,
    };
  }
}

/** SimpleConvNet as a network spec (defaults as in the book). Options from a file are
 *  type-checked here; the spec checker (SequentialNetwork) checks every value and size. */
export function simpleConvNetSpec(options: Omit<SimpleConvNetOptions, 'seed' | 'dtype' | 'backend'> = {}): NetworkSpec {
  if (options.inputDim !== undefined && !(Array.isArray(options.inputDim) && options.inputDim.length === 3)) {
    throw new ShapeError(`SimpleConvNet: inputDim must be [channels, height, width], got ${JSON.stringify(options.inputDim)}`);
  }
  if (options.convParam !== undefined && (typeof options.convParam !== 'object' || options.convParam === null)) {
    throw new ShapeError(`SimpleConvNet: convParam must be an object, got ${JSON.stringify(options.convParam)}`);
  }
  const [C, H, W] = options.inputDim ?? [1, 28, 28];
  const { filterNum = 30, filterSize = 5, pad = 0, stride = 1 } = options.convParam ?? {};
  const init = options.weightInitStd ?? 0.01;
  return {
    name: 'SimpleConvNet',
    input: [C, H, W],
    init,
    layers: [
      { type: 'conv', filters: filterNum, size: filterSize, stride, pad, init },
      { type: 'relu' },
      { type: 'maxpool', size: 2, stride: 2, pad: 0 },
      { type: 'dense', units: options.hiddenSize ?? 100, init },
      { type: 'relu' },
      { type: 'dense', units: options.outputSize ?? 10, init },
    ],
  };
}
