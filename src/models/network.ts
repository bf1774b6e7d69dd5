// A feed-forward network: an ordered list of layers ending in SoftmaxWithLoss, with the
// book's predict / loss / accuracy / gradient methods. Models (SimpleConvNet, ...) build the
// layers and name the parameters (W1 b1 W2 b2 ...); the methods below are shared.

import { type Backend } from '../backend/backend.js';
import { adoptStorage } from '../backend/workspace.js';
import { ShapeError } from '../errors.js';
import { toClassIndices, type Labels } from '../layers/functions.js';
import type { Layer } from '../layers/layer.js';
import { SoftmaxWithLoss } from '../layers/softmax-with-loss.js';
import { type DType, Tensor } from '../tensor.js';

export type Params = Record<string, Tensor>;

/** The JSON-serialisable description stored in model files, enough to rebuild the network. */
export interface ModelSpec {
  model: string;
  [option: string]: unknown;
}

export abstract class Network {
  /** Named layers in forward order (the book's OrderedDict). */
  readonly layers: [string, Layer][] = [];
  readonly lastLayer: SoftmaxWithLoss;
  /** Parameters by public name; `params.X.data` is the storage the layers compute with. */
  readonly params: Params = {};
  /** Non-trainable state by public name (batch norm's runningMean1 runningVar1 ...): live
   *  storage, saved in model files beside the parameters, never touched by optimizers. */
  readonly buffers: Params = {};
  /** Where each public parameter lives: [layer name, layer's parameter key]. */
  protected readonly paramOwners: Record<string, [string, string]> = {};
  readonly inputShape: readonly number[];
  readonly dtype: DType;
  readonly backend: Backend;

  protected constructor(inputShape: readonly number[], dtype: DType, backend: Backend) {
    this.inputShape = inputShape;
    this.dtype = dtype;
    this.backend = backend;
    this.lastLayer = new SoftmaxWithLoss({ backend });
  }

  /** The spec that rebuilds this network (architecture and options, no weights). */
  abstract spec(): ModelSpec;

  protected addLayer(name: string, layer: Layer, params: Record<string, string> = {}): void {
    this.layers.push([name, layer]);
    for (const [publicName, key] of Object.entries(params)) {
      const p = layer.params?.[key];
      if (!p) throw new Error(`layer ${name} has no parameter ${key}`);
      this.params[publicName] = p;
      this.paramOwners[publicName] = [name, key];
      // parameters and gradients live where the kernels compute (wasm memory), no copies per op
      adoptStorage(p, this.backend);
      const g = layer.grads?.[key];
      if (g) adoptStorage(g, this.backend);
    }
  }

  layer(name: string): Layer {
    const entry = this.layers.find(([n]) => n === name);
    if (!entry) throw new Error(`no layer named ${name}`);
    return entry[1];
  }

  /** Accept (N, C, H, W) or flattened (N, C*H*W) input; check it fits the network. */
  protected checkInput(x: Tensor): Tensor {
    const per = this.inputShape.reduce((a, b) => a * b, 1);
    if (x.ndim === 2 && x.shape[1] === per) return x.reshape(x.shape[0], ...this.inputShape);
    if (x.ndim !== this.inputShape.length + 1 || x.shape.slice(1).some((d, i) => d !== this.inputShape[i])) {
      throw new ShapeError(`input of shape (${x.shape.join(', ')}) does not fit this network, which expects (N, ${this.inputShape.join(', ')})`);
    }
    return x;
  }

  /** Scores (N, classes) before softmax. */
  predict(x: Tensor, train = false): Tensor {
    let out = this.checkInput(x);
    if (out.dtype !== this.dtype) out = out.astype(this.dtype);
    for (const [, layer] of this.layers) out = layer.forward(out, train);
    // layers reuse their output buffers (backend/workspace.ts): hand the caller its own copy
    return out.clone();
  }

  loss(x: Tensor, t: Labels, train = false): number {
    const y = this.predict(x, train);
    return this.lastLayer.forward(y, t);
  }

  /** Fraction of correct predictions, evaluated in batches (the last, partial batch included). */
  accuracy(x: Tensor, t: Labels, batchSize = 100): number {
    const n = x.shape[0];
    if (n === 0) return 0;
    const classes = this.outputSize;
    const labels = toClassIndices(t, n, classes);
    let correct = 0;
    for (let start = 0; start < n; start += batchSize) {
      const end = Math.min(n, start + batchSize);
      const predicted = this.classify(x.viewRows(start, end)); // a view: evaluation copies nothing
      for (let i = 0; i < predicted.length; i++) if (predicted[i] === labels[start + i]) correct++;
    }
    return correct / n;
  }

  /** Predicted class per sample. */
  classify(x: Tensor): Int32Array {
    const y = this.predict(x);
    const out = new Int32Array(y.shape[0]);
    this.backend.argmaxRows(y.data, y.shape[0], y.shape[1], out);
    return out;
  }

  get outputSize(): number {
    const last = this.params[this.lastWeightName()];
    return last.shape[last.shape.length - 1];
  }

  protected lastWeightName(): string {
    const names = Object.keys(this.params).filter((k) => k.startsWith('W'));
    return names[names.length - 1];
  }

  /** Backpropagation: gradients of the loss for every parameter, by public name.
   *  The returned tensors are the layers' gradient buffers, overwritten by the next call. */
  gradient(x: Tensor, t: Labels): Params {
    this.loss(x, t, true);
    let dout = this.lastLayer.backward(1);
    // The first layer's dx (the gradient w.r.t. the input image) is never used: skip it.
    for (let i = this.layers.length - 1; i >= 0; i--) dout = this.layers[i][1].backward(dout, i > 0);
    const grads: Params = {};
    for (const [publicName, [layerName, key]] of Object.entries(this.paramOwners)) {
      grads[publicName] = this.layer(layerName).grads![key];
    }
    return grads;
  }

  /** Number of trainable values. */
  get parameterCount(): number {
    return Object.values(this.params).reduce((n, p) => n + p.size, 0);
  }

  /** Copy values into the live parameters (shapes must match). */
  setParams(values: Record<string, ArrayLike<number> & { length: number }>): void {
    for (const [name, p] of Object.entries(this.params)) {
      const v = values[name];
      if (!v) throw new ShapeError(`missing parameter ${name}`);
      if (v.length !== p.size) throw new ShapeError(`parameter ${name} needs ${p.size} values, got ${v.length}`);
      p.data.set(v);
    }
  }
}
