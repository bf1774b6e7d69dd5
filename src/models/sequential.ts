// A network built from a NetworkSpec (spec.ts): the spec is checked and every shape derived
// first, then each layer's parameters are allocated on the network's backend and initialised,
// and its kind builds it (layers/registry.ts); SoftmaxWithLoss is appended by Network.
// Parameters are named as in the book: W1 b1 W2 b2 ... for conv and dense layers in order,
// gamma1 beta1 ... for batch norms (with their running statistics runningMean1 runningVar1 ...
// as non-trainable buffers, saved in model files too): a kind's `group` numbers them.
// Weights are drawn from one generator seeded by `seed`, layer by layer in order (biases start at
// zero), which is the book's draw order: SimpleConvNet is this class with a three-layer spec.

import type { Backend } from '../backend/backend.js';
import { getBackend } from '../backend/registry.js';
import { allocTensor } from '../backend/storage.js';
import { initStd, type TensorPlan } from '../layers/kind.js';
import { layerKind } from '../layers/registry.js';
import { Random } from '../random.js';
import type { DType, Tensor } from '../tensor.js';
import { type ModelSpec, Network } from './network.js';
import { type CheckedSpec, checkInit, checkSpec, formatSummary, type LayerInfo, type NetworkSpec, type WeightInit } from './spec.js';

export interface SequentialOptions {
  /** Seed of the generator that draws the initial weights (and seeds the dropout masks). */
  seed?: number;
  dtype?: DType;
  backend?: Backend | string;
  /** Override every conv/dense layer's init (recorded in the network's spec). */
  init?: WeightInit;
  /** Refuse a spec whose output is not this many classes. */
  classes?: number;
  /** false: leave parameters at zero instead of drawing them (a loader is about to overwrite
   *  them; drawing 433,890 gaussians costs more than reading the file). Default true. */
  initialize?: boolean;
}

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
      for (const l of checked.layers) if ('init' in l.spec) l.spec.init = init;
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
    const names = layerNames(checked);
    checked.layers.forEach((info, index) => {
      const kind = layerKind(info.type)!;
      const { name, params: publicParams, buffers: publicBuffers } = names[index];
      const std = info.fanIn !== undefined ? initStd((info.spec as { init?: WeightInit }).init ?? checked.spec.init, info.fanIn) : 1;
      // the layer's tensors, allocated on the backend and initialised in the book's draw order
      const make = (plans: Record<string, TensorPlan> = {}) => Object.fromEntries(Object.entries(plans).map(([key, plan]) => {
        const t = allocTensor(backend, plan.shape, dtype);
        if (options.initialize === false) return [key, t];
        if (plan.init === 'weight') for (let i = 0; i < t.size; i++) t.data[i] = std * rng.gaussian();
        else if (plan.init === 'ones') t.data.fill(1);
        return [key, t];
      }));
      const params: Record<string, Tensor> = make(info.plan.params);
      const buffers: Record<string, Tensor> = make(info.plan.buffers);
      const layer = kind.build(info.spec, {
        backend, dtype,
        param: (key) => params[key],
        buffer: (key) => buffers[key],
        seed: () => masks.nextUint32(),
      });
      this.addLayer(name, layer, publicParams, publicBuffers);
    });
  }

  spec(): ModelSpec {
    return this.networkSpec as unknown as ModelSpec;
  }

  get outputSize(): number {
    return this.outputShape[0];
  }

  get valuesPerSample(): number {
    return this.checked.valuesPerSample;
  }

  /** The layer table: output shape and parameter count per layer, and the totals. */
  summary(title?: string): string {
    return formatSummary(this.checked, title);
  }
}

/** The names a checked spec's network gives its layers (Conv1, Relu1, Pool1 ...) and their
 *  tensors (public name -> the layer's key: W1 -> W, runningMean1 -> runningMean): the prefix
 *  counts layers of a kind, the group numbers tensors (conv and dense share W1 b1 W2 b2 ...). */
export function layerNames(checked: CheckedSpec): { name: string; params: Record<string, string>; buffers: Record<string, string> }[] {
  const names: Record<string, number> = {};
  const groups: Record<string, number> = {};
  return checked.layers.map((info) => {
    const kind = layerKind(info.type)!;
    names[kind.prefix] = (names[kind.prefix] ?? 0) + 1;
    const keys = [Object.keys(info.plan.params ?? {}), Object.keys(info.plan.buffers ?? {})];
    let n = 0;
    if (keys[0].length + keys[1].length > 0) {
      const group = kind.group ?? kind.prefix;
      n = groups[group] = (groups[group] ?? 0) + 1;
    }
    const publicNames = (k: string[]) => Object.fromEntries(k.map((key) => [`${key}${n}`, key]));
    return { name: `${kind.prefix}${names[kind.prefix]}`, params: publicNames(keys[0]), buffers: publicNames(keys[1]) };
  });
}

/** Build a network from a spec: checked first (SpecError naming the layer), then allocated. */
export function buildFromSpec(spec: NetworkSpec | unknown, options: SequentialOptions = {}): SequentialNetwork {
  return new SequentialNetwork(spec, options);
}
