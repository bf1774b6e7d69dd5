// A network built from a NetworkSpec (spec.ts): the spec is checked and every shape derived
// first, then the layers are allocated in order and SoftmaxWithLoss is appended (by Network).
// Parameters are named as in the book: W1 b1 W2 b2 ... for conv and dense layers in order,
// gamma1 beta1 ... for batch norms (with their running statistics runningMean1 runningVar1 ...
// as non-trainable buffers, saved in model files too).
// Weights are drawn from one generator seeded by `seed`, layer by layer in order (biases start at
// zero), which is the book's draw order: SimpleConvNet is this class with a three-layer spec.

import { type Backend } from '../backend/backend.js';
import { getBackend } from '../backend/registry.js';
import { Affine } from '../layers/affine.js';
import { AvgPooling } from '../layers/avg-pooling.js';
import { BatchNormalization } from '../layers/batch-normalization.js';
import { Convolution } from '../layers/convolution.js';
import { Dropout } from '../layers/dropout.js';
import { Flatten } from '../layers/flatten.js';
import type { Layer } from '../layers/layer.js';
import { LRN } from '../layers/lrn.js';
import { Pooling } from '../layers/pooling.js';
import { Relu } from '../layers/relu.js';
import { Sigmoid } from '../layers/sigmoid.js';
import { Tanh } from '../layers/tanh.js';
import { Random } from '../random.js';
import { type DType, randn, zeros } from '../tensor.js';
import { type ModelSpec, Network } from './network.js';
import { type CheckedSpec, checkInit, checkSpec, formatSummary, initStd, type LayerInfo, type NetworkSpec, type WeightInit } from './spec.js';

export interface SequentialOptions {
  /** Seed of the generator that draws the initial weights (and seeds the dropout masks). */
  seed?: number;
  dtype?: DType;
  backend?: Backend | string;
  /** Override every conv/dense layer's init (recorded in the network's spec). */
  init?: WeightInit;
  /** Refuse a spec whose output is not this many classes. */
  classes?: number;
}

/** Layer names in the network, per type (Conv1, Relu1, Pool1, Affine1, ... as in the book). */
const LAYER_PREFIX: Record<LayerInfo['type'], string> = {
  conv: 'Conv', dense: 'Affine', maxpool: 'Pool', avgpool: 'AvgPool', relu: 'Relu', sigmoid: 'Sigmoid',
  tanh: 'Tanh', lrn: 'LRN', dropout: 'Dropout', batchnorm: 'BatchNorm', flatten: 'Flatten',
};

export class SequentialNetwork extends Network {
  /** The checked spec with every default filled in (what model files store). */
  readonly networkSpec: CheckedSpec['spec'];
  /** Per layer: input/output shapes and parameter shapes, as derived by checkSpec. */
  readonly layerInfos: readonly LayerInfo[];
  readonly outputShape: readonly number[];
  private readonly checked: CheckedSpec;

  constructor(spec: NetworkSpec | unknown, options: SequentialOptions = {}) {
    // Everything is checked before anything is allocated.
    const checked = checkSpec(spec, options.classes);
    if (options.init !== undefined) {
      const init = checkInit(options.init, 'init');
      checked.spec.init = init;
      for (const l of checked.layers) if (l.spec.type === 'conv' || l.spec.type === 'dense') l.spec.init = init;
    }
    const seed = options.seed ?? 0;
    const dtype = options.dtype ?? 'float32';
    const backend = typeof options.backend === 'string' ? getBackend(options.backend) : options.backend ?? getBackend();
    super(checked.spec.input, dtype, backend);
    this.checked = checked;
    this.networkSpec = checked.spec;
    this.layerInfos = checked.layers;
    this.outputShape = checked.outputShape;

    const rng = new Random(seed);
    const masks = new Random(seed + 1_000_003); // dropout masks: a stream apart from the weights
    const count: Partial<Record<string, number>> = {};
    let weightLayers = 0;
    let batchNorms = 0;
    const layerOptions = { backend };
    for (const info of checked.layers) {
      const prefix = LAYER_PREFIX[info.type];
      count[prefix] = (count[prefix] ?? 0) + 1;
      const name = `${prefix}${count[prefix]}`;
      const s = info.spec;
      let layer: Layer;
      let params: Record<string, string> = {};
      switch (s.type) {
        case 'conv':
        case 'dense': {
          weightLayers++;
          const std = initStd(s.init ?? checked.spec.init, info.fanIn!);
          const W = randn(rng, info.params.W, std, dtype);
          const b = zeros(info.params.b, dtype);
          layer = s.type === 'conv' ? new Convolution(W, b, s.stride, s.pad, layerOptions) : new Affine(W, b, layerOptions);
          params = { [`W${weightLayers}`]: 'W', [`b${weightLayers}`]: 'b' };
          break;
        }
        case 'maxpool':
          layer = new Pooling(s.size, s.size, s.stride, s.pad, layerOptions);
          break;
        case 'avgpool':
          layer = new AvgPooling(s.size, s.size, s.stride, s.pad, layerOptions);
          break;
        case 'relu':
          layer = new Relu(layerOptions);
          break;
        case 'sigmoid':
          layer = new Sigmoid(layerOptions);
          break;
        case 'tanh':
          layer = new Tanh(layerOptions);
          break;
        case 'flatten':
          layer = new Flatten(layerOptions);
          break;
        case 'lrn':
          layer = new LRN({ n: s.n, k: s.k, alpha: s.alpha, beta: s.beta, ...layerOptions });
          break;
        case 'dropout':
          layer = new Dropout(s.ratio, { seed: masks.nextUint32(), ...layerOptions });
          break;
        case 'batchnorm': {
          batchNorms++;
          const bn = new BatchNormalization(info.params.gamma[0], { momentum: s.momentum, eps: s.eps, dtype, ...layerOptions });
          params = { [`gamma${batchNorms}`]: 'gamma', [`beta${batchNorms}`]: 'beta' };
          this.buffers[`runningMean${batchNorms}`] = bn.runningMean;
          this.buffers[`runningVar${batchNorms}`] = bn.runningVar;
          layer = bn;
          break;
        }
      }
      this.addLayer(name, layer, params);
    }
  }

  spec(): ModelSpec {
    return this.networkSpec as unknown as ModelSpec;
  }

  override get outputSize(): number {
    return this.outputShape[0];
  }

  /** The layer table: output shape and parameter count per layer, and the totals. */
  summary(title?: string): string {
    return formatSummary(this.checked, title);
  }
}

/** Build a network from a spec: checked first (SpecError naming the layer), then allocated. */
export function buildFromSpec(spec: NetworkSpec | unknown, options: SequentialOptions = {}): SequentialNetwork {
  return new SequentialNetwork(spec, options);
}
