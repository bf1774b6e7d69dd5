// SimpleConvNet (book 7.5): conv - relu - pool - affine - relu - affine - softmax.
//   input (C, H, W) -> Conv1 (FN, OH, OW) -> Pool1 2x2/2 (FN, PH, PW) -> Affine1 hidden -> Affine2 classes
// Sizes use floor division, so any pad / stride combination works. (The book computes the
// pool output as conv_output_size / 2 without flooring, which breaks for stride 2.)
// It is one network spec (simpleConvNetSpec) built by SequentialNetwork; its constructor
// options, parameter names (W1 b1 W2 b2 W3 b3), weight draws and model-file spec
// ({ model: 'SimpleConvNet', ... }) are those of the original class.

import { type Backend, outputSize } from '../backend/backend.js';
import { getBackend } from '../backend/registry.js';
import { ShapeError } from '../errors.js';
import type { DType } from '../tensor.js';
import type { ModelSpec } from './network.js';
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

function positiveInt(name: string, v: unknown, min = 1): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new ShapeError(`SimpleConvNet: ${name} must be an integer >= ${min}, got ${String(v)}`);
  }
  return v;
}

export class SimpleConvNet extends SequentialNetwork {
  readonly options: Required<Omit<SimpleConvNetOptions, 'backend' | 'convParam' | 'inputDim'>> & {
    inputDim: [number, number, number];
    convParam: Required<ConvParam>;
  };

  constructor(options: SimpleConvNetOptions = {}) {
    // Options may come from a JSON spec in a file: check types before using them.
    if (options.inputDim !== undefined && !(Array.isArray(options.inputDim) && options.inputDim.length === 3)) {
      throw new ShapeError(`SimpleConvNet: inputDim must be [channels, height, width], got ${JSON.stringify(options.inputDim)}`);
    }
    if (options.convParam !== undefined && (typeof options.convParam !== 'object' || options.convParam === null)) {
      throw new ShapeError(`SimpleConvNet: convParam must be an object, got ${JSON.stringify(options.convParam)}`);
    }
    const inputDim = [...(options.inputDim ?? [1, 28, 28])] as [number, number, number];
    const convParam = { filterNum: 30, filterSize: 5, pad: 0, stride: 1, ...options.convParam };
    const hiddenSize = options.hiddenSize ?? 100;
    const outputSizeN = options.outputSize ?? 10;
    const weightInitStd = options.weightInitStd ?? 0.01;
    const seed = options.seed ?? 0;
    const dtype = options.dtype ?? 'float32';
    const backend = typeof options.backend === 'string' ? getBackend(options.backend) : options.backend ?? getBackend();
    inputDim.forEach((d, i) => positiveInt(`inputDim[${i}]`, d));
    const filterNum = positiveInt('convParam.filterNum', convParam.filterNum);
    const filterSize = positiveInt('convParam.filterSize', convParam.filterSize);
    const pad = positiveInt('convParam.pad', convParam.pad, 0);
    const stride = positiveInt('convParam.stride', convParam.stride);
    positiveInt('hiddenSize', hiddenSize);
    positiveInt('outputSize', outputSizeN, 2);
    const namedInit = ['he', 'relu', 'xavier', 'sigmoid'].includes(weightInitStd as string);
    if (!namedInit && !(typeof weightInitStd === 'number' && weightInitStd > 0 && Number.isFinite(weightInitStd))) {
      throw new ShapeError(`SimpleConvNet: weightInitStd must be a positive number or 'he' or 'xavier', got ${JSON.stringify(weightInitStd)}`);
    }
    const [, H, W] = inputDim;
    const convH = outputSize(H, filterSize, stride, pad);
    const convW = outputSize(W, filterSize, stride, pad);
    if (convH < 1 || convW < 1 || outputSize(convH, 2, 2, 0) < 1 || outputSize(convW, 2, 2, 0) < 1) {
      throw new ShapeError(`SimpleConvNet: input ${H}x${W} is too small for a ${filterSize}x${filterSize} filter (pad ${pad}, stride ${stride}) followed by 2x2 pooling`);
    }
    // Same draw order as the book: W1, W2, W3 (biases start at zero).
    super(simpleConvNetSpec({ inputDim, convParam: { filterNum, filterSize, pad, stride }, hiddenSize, outputSize: outputSizeN, weightInitStd }), { seed, dtype, backend });

    this.options = { inputDim, convParam: { filterNum, filterSize, pad, stride }, hiddenSize, outputSize: outputSizeN, weightInitStd, seed, dtype };
  }

  override spec(): ModelSpec {
    const { inputDim, convParam, hiddenSize, outputSize: out, weightInitStd } = this.options;
    return { model: 'SimpleConvNet', inputDim, convParam, hiddenSize, outputSize: out, weightInitStd };
  }
}

/** SimpleConvNet as a network spec (defaults as in the book). */
export function simpleConvNetSpec(options: Omit<SimpleConvNetOptions, 'seed' | 'dtype' | 'backend'> = {}): NetworkSpec {
  const [C, H, W] = options.inputDim ?? [1, 28, 28];
  const { filterNum = 30, filterSize = 5, pad = 0, stride = 1 } = options.convParam ?? {};
  const init = options.weightInitStd ?? 0.01;
  return {
    input: [C, H, W],
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
