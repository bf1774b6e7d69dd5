// SimpleConvNet (book 7.5): conv - relu - pool - affine - relu - affine - softmax.
//   input (C, H, W) -> Conv1 (FN, OH, OW) -> Pool1 2x2/2 (FN, PH, PW) -> Affine1 hidden -> Affine2 classes
// Sizes use floor division, so any pad / stride combination works. (The book computes the
// pool output as conv_output_size / 2 without flooring, which breaks for stride 2.)

import { type Backend, getBackend, outputSize } from '../backend/backend.js';
import { ShapeError } from '../errors.js';
import { Affine } from '../layers/affine.js';
import { Convolution } from '../layers/convolution.js';
import { Pooling } from '../layers/pooling.js';
import { Relu } from '../layers/relu.js';
import { Random } from '../random.js';
import { type DType, randn, zeros } from '../tensor.js';
import { type ModelSpec, Network } from './network.js';

export type WeightInit = number | 'he' | 'relu' | 'xavier' | 'sigmoid';

/** The standard deviation for a weight with `fanIn` inputs per output. */
export function initStd(init: WeightInit, fanIn: number): number {
  if (init === 'he' || init === 'relu') return Math.sqrt(2 / fanIn);
  if (init === 'xavier' || init === 'sigmoid') return Math.sqrt(1 / fanIn);
  return init;
}

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

export class SimpleConvNet extends Network {
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
    super(inputDim, dtype, backend);

    const [C, H, W] = inputDim;
    const convH = outputSize(H, filterSize, stride, pad);
    const convW = outputSize(W, filterSize, stride, pad);
    const poolH = outputSize(convH, 2, 2, 0);
    const poolW = outputSize(convW, 2, 2, 0);
    if (convH < 1 || convW < 1 || poolH < 1 || poolW < 1) {
      throw new ShapeError(`SimpleConvNet: input ${H}x${W} is too small for a ${filterSize}x${filterSize} filter (pad ${pad}, stride ${stride}) followed by 2x2 pooling`);
    }
    const poolOutputSize = filterNum * poolH * poolW;

    // Same draw order as the book: W1, W2, W3 (biases start at zero).
    const rng = new Random(seed);
    const W1 = randn(rng, [filterNum, C, filterSize, filterSize], initStd(weightInitStd, C * filterSize * filterSize), dtype);
    const W2 = randn(rng, [poolOutputSize, hiddenSize], initStd(weightInitStd, poolOutputSize), dtype);
    const W3 = randn(rng, [hiddenSize, outputSizeN], initStd(weightInitStd, hiddenSize), dtype);
    const layerOptions = { backend };
    this.addLayer('Conv1', new Convolution(W1, zeros([filterNum], dtype), stride, pad, layerOptions), { W1: 'W', b1: 'b' });
    this.addLayer('Relu1', new Relu(layerOptions));
    this.addLayer('Pool1', new Pooling(2, 2, 2, 0, layerOptions));
    this.addLayer('Affine1', new Affine(W2, zeros([hiddenSize], dtype), layerOptions), { W2: 'W', b2: 'b' });
    this.addLayer('Relu2', new Relu(layerOptions));
    this.addLayer('Affine2', new Affine(W3, zeros([outputSizeN], dtype), layerOptions), { W3: 'W', b3: 'b' });

    this.options = { inputDim, convParam: { filterNum, filterSize, pad, stride }, hiddenSize, outputSize: outputSizeN, weightInitStd, seed, dtype };
  }

  spec(): ModelSpec {
    const { inputDim, convParam, hiddenSize, outputSize: out, weightInitStd } = this.options;
    return { model: 'SimpleConvNet', inputDim, convParam, hiddenSize, outputSize: out, weightInitStd };
  }
}
