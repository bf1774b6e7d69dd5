// A feed-forward network: an ordered list of layers ending in SoftmaxWithLoss, with the
// book's predict / loss / accuracy / gradient methods. Models (SequentialNetwork, built from a
// spec) build the layers and name the parameters (W1 b1 W2 b2 ...); the methods below are shared.
//
// The network owns where its memory lives: every layer computes on the network's backend and
// keeps its activations, caches and gradients in the network's arena (backend/arena.ts), and
// its parameters were allocated on that backend when it was built. `dispose()` gives it back.

import type { Backend } from '../backend/backend.js';
import { Arena } from '../backend/arena.js';
import { writeTensor } from '../backend/storage.js';
import { ScratchnetError, ShapeError, ValueError } from '../errors.js';
import { type Labels, toClassIndices } from '../layers/functions.js';
import type { Layer } from '../layers/layer.js';
import { type ForwardStep, fuseLayers } from '../layers/relu-max-pool.js';
import { SoftmaxWithLoss } from '../layers/softmax-with-loss.js';
import type { Random, RandomState } from '../random.js';
import { type DType, Tensor, zeros } from '../tensor.js';

export type Params = Record<string, Tensor>;

/** What lossAndGradient() returns: the loss of the forward pass and the gradients by
 *  parameter name (the book's `grads` dictionary, which gradient() returns alone). */
export interface Gradients {
  loss: number;
  grads: Params;
}

/** The JSON-serialisable description stored in model files, enough to rebuild the network. */
export interface ModelSpec {
  model: string;
  [option: string]: unknown;
}

export interface ForwardOptions {
  /** Training mode (dropout draws masks, batch norm uses and updates batch statistics). */
  train?: boolean;
  /** Called with each layer's output as it is computed (pictures, debugging, the NaN guard).
   *  The tensor is the layer's buffer: copy what must outlive the next forward pass. */
  tap?: (name: string, layer: Layer, out: Tensor) => void;
}

/** Everything that makes a network what it is besides its architecture: parameters, buffers
 *  (batch-norm statistics) and the state of the layers' own generators (dropout masks). Model
 *  files store the tensors; checkpoints store all of it. */
export interface StateDict {
  /** Parameters and buffers by public name (W1 b1 ... gamma1 beta1 runningMean1 ...). */
  tensors: Record<string, Tensor>;
  /** Layer generators by `<layer>.<key>` (Dropout1.rng). */
  generators: Record<string, Random>;
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
  /** Every activation, cache and gradient buffer of this network (one arena, reused). */
  readonly arena: Arena;

  protected constructor(inputShape: readonly number[], dtype: DType, backend: Backend) {
    this.inputShape = inputShape;
    this.dtype = dtype;
    this.backend = backend;
    this.arena = new Arena(backend);
    this.lastLayer = new SoftmaxWithLoss();
    this.lastLayer.bind(backend, this.arena.scope('SoftmaxWithLoss'));
  }

  /** The spec that rebuilds this network (architecture and options, no weights). */
  abstract spec(): ModelSpec;

  /** Number of classes the network scores. */
  abstract get outputSize(): number;

  /** Values per sample a training step keeps in the arena (from the spec, before allocating). */
  abstract get valuesPerSample(): number;

  /** The largest batch whose training step fits the backend's memory (Infinity where the
   *  backend states no limit): parameters, gradients and optimizer state (4 copies) first,
   *  10% kept free. */
  largestBatch(): number {
    const max = this.backend.maxBytes;
    if (max === undefined || this.dtype === 'float64') return Infinity; // float64 lives on the host
    const free = 0.9 * max - 4 * 4 * this.parameterCount;
    return Math.max(0, Math.floor(free / (4 * this.valuesPerSample)));
  }

  /** Add a layer: it computes on this network's backend and keeps its buffers in its arena.
   *  `params` / `buffers` map public names (W1, runningMean1) to the layer's keys (W, runningMean). */
  protected addLayer(name: string, layer: Layer, params: Record<string, string> = {}, buffers: Record<string, string> = {}): void {
    layer.bind(this.backend, this.arena.scope(name));
    this.layers.push([name, layer]);
    for (const [publicName, key] of Object.entries(params)) {
      const p = layer.params?.[key];
      if (!p) throw new Error(`layer ${name} has no parameter ${key}`);
      this.params[publicName] = p;
      this.paramOwners[publicName] = [name, key];
    }
    for (const [publicName, key] of Object.entries(buffers)) {
      const b = layer.buffers?.[key];
      if (!b) throw new Error(`layer ${name} has no buffer ${key}`);
      this.buffers[publicName] = b;
    }
  }

  layer(name: string): Layer {
    const entry = this.layers.find(([n]) => n === name);
    if (!entry) throw new Error(`no layer named ${name}`);
    return entry[1];
  }

  /** Accept (N, C, H, W) or flattened (N, C*H*W) input; check it fits the network. */
  protected checkInput(x: Tensor): Tensor {
    if (!(x instanceof Tensor)) {
      const what = x === null ? 'null' : ArrayBuffer.isView(x) ? (x as object).constructor.name : typeof x;
      throw new ShapeError(`the input must be a Tensor of shape (N, ${this.inputShape.join(', ')}), got ${what}: wrap the values with new Tensor(data, [N, ${this.inputShape.join(', ')}])`);
    }
    if (x.shape[0] === 0) throw new ShapeError('the input is an empty batch (0 samples)');
    const per = this.inputShape.reduce((a, b) => a * b, 1);
    if (x.ndim === 2 && x.shape[1] === per) return x.reshape(x.shape[0], ...this.inputShape);
    if (x.ndim !== this.inputShape.length + 1 || x.shape.slice(1).some((d, i) => d !== this.inputShape[i])) {
      throw new ShapeError(`input of shape (${x.shape.join(', ')}) does not fit this network, which expects (N, ${this.inputShape.join(', ')})`);
    }
    return x;
  }

  /** The one forward pass: every layer in order. Returns the last layer's output buffer
   *  (overwritten by the next call: predict() returns a copy). */
  forward(x: Tensor, options: ForwardOptions = {}): Tensor {
    if (this.disposed) throw new ScratchnetError('this network was disposed');
    let out = this.checkInput(x);
    if (out.dtype !== this.dtype) out = out.astype(this.dtype);
    const train = options.train ?? false;
    const tap = options.tap;
    if (tap || !this.fusion) {
      // every layer on its own: a tap sees each layer's output (the ReLU's too)
      for (const [name, layer] of this.layers) {
        out = !train && layer.infer ? layer.infer(out) : layer.forward(out, train);
        tap?.(name, layer, out);
      }
      return out;
    }
    for (const { step } of this.steps()) {
      out = train ? step.forward(out, true) : 'infer' in step && step.infer ? step.infer(out) : step.forward(out, false);
    }
    return out;
  }

  /** Run a ReLU directly followed by max pooling as one op (layers/relu-max-pool.ts): an
   *  execution detail (same outputs, losses and gradients, see test/kernels-fused.test.ts).
   *  false: every layer on its own (a forward with a tap always runs them so). */
  fusion = true;
  private plan: ForwardStep[] | null = null;

  /** The forward steps: the layers, fused pairs in one step (built at the first forward). */
  protected steps(): ForwardStep[] {
    if (!this.plan || this.plan.reduce((n, s) => n + s.span, 0) !== this.layers.length) {
      this.plan = fuseLayers(this.layers.map(([, layer]) => layer));
    }
    return this.plan;
  }

  /** Scores (N, classes) before softmax. A batch larger than the backend's memory holds
   *  runs in chunks that fit. */
  predict(x: Tensor, train = false): Tensor {
    const input = this.checkInput(x);
    const n = input.shape[0];
    const chunk = Math.max(1, Math.min(n, this.largestBatch()));
    // layers reuse their output buffers (backend/arena.ts): hand the caller its own copy
    if (chunk >= n) return this.forward(input, { train }).clone();
    let out: Tensor | null = null;
    for (let start = 0; start < n; start += chunk) {
      const y = this.forward(input.viewRows(start, Math.min(n, start + chunk)), { train });
      out ??= zeros([n, ...y.shape.slice(1)], y.dtype);
      out.data.set(y.data, start * (y.size / y.shape[0]));
    }
    return out!;
  }

  loss(x: Tensor, t: Labels, train = false): number {
    return this.lastLayer.forward(this.forward(x, { train }), t);
  }

  /** Fraction of correct predictions, evaluated in batches (the last, partial batch included). */
  accuracy(x: Tensor, t: Labels, batchSize = 100): number {
    const n = this.checkInput(x).shape[0];
    const labels = toClassIndices(t, n, this.outputSize);
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
    const y = this.forward(x);
    const out = new Int32Array(y.shape[0]);
    this.backend.argmaxRows(y.data, y.shape[0], y.shape[1], out);
    return out;
  }

  /** Backpropagation (the book's gradient): gradients of the loss for every parameter, by
   *  public name. The returned tensors are the layers' gradient buffers, overwritten by the
   *  next call. */
  gradient(x: Tensor, t: Labels): Params {
    return this.lossAndGradient(x, t).grads;
  }

  /** One training-mode forward and backward pass: the loss and every parameter's gradient. */
  lossAndGradient(x: Tensor, t: Labels): Gradients {
    const loss = this.loss(x, t, true);
    let dout = this.lastLayer.backward(1);
    // The first layer's dx (the gradient w.r.t. the input image) is never used: skip it.
    for (let i = this.layers.length - 1; i >= 0; i--) dout = this.layers[i][1].backward(dout, i > 0);
    const grads: Params = {};
    for (const [publicName, [layerName, key]] of Object.entries(this.paramOwners)) {
      grads[publicName] = this.layer(layerName).grads![key];
    }
    return { loss, grads };
  }

  /** Number of trainable values. */
  get parameterCount(): number {
    return Object.values(this.params).reduce((n, p) => n + p.size, 0);
  }

  /** The network's state: live tensors and generators (not copies). */
  stateDict(): StateDict {
    const generators: Record<string, Random> = {};
    for (const [name, layer] of this.layers) {
      const own = (layer as { generators?: Record<string, Random> }).generators;
      for (const [key, g] of Object.entries(own ?? {})) generators[`${name}.${key}`] = g;
    }
    return { tensors: { ...this.params, ...this.buffers }, generators };
  }

  /** Copy values into the network's state. `tensors` must hold every parameter and buffer
   *  (and nothing else) with the right sizes, unless `{ tensors: false }` (generators only);
   *  `generators` restores layer generators. */
  loadStateDict(state: { tensors: Record<string, ArrayLike<number>>; generators?: Record<string, RandomState> }, which: { tensors?: boolean } = {}): void {
    const own = this.stateDict();
    const withTensors = which.tensors ?? true;
    for (const [name, t] of Object.entries(withTensors ? own.tensors : {})) {
      const v = state.tensors[name];
      if (!v) throw new ShapeError(`missing parameter ${name}`);
      if (v.length !== t.size) throw new ShapeError(`parameter ${name} needs ${t.size} values, got ${v.length}`);
    }
    const extra = Object.keys(state.tensors).find((k) => !(k in own.tensors));
    if (extra !== undefined) throw new ShapeError(`unexpected tensor ${extra} (not a parameter or buffer of this network)`);
    for (const [name, g] of Object.entries(state.generators ?? {})) {
      if (!own.generators[name]) throw new ValueError(`unexpected generator ${name} (this network's: ${Object.keys(own.generators).join(', ') || 'none'})`);
      own.generators[name].setState(g);
    }
    if (withTensors) for (const [name, t] of Object.entries(own.tensors)) writeTensor(t, state.tensors[name]);
  }

  /** Copy values into the live parameters (shapes must match). */
  setParams(values: Record<string, ArrayLike<number> & { length: number }>): void {
    for (const [name, p] of Object.entries(this.params)) {
      const v = values[name];
      if (!v) throw new ShapeError(`missing parameter ${name}`);
      if (v.length !== p.size) throw new ShapeError(`parameter ${name} needs ${p.size} values, got ${v.length}`);
      writeTensor(p, v);
    }
  }

  private disposed = false;

  /** Give the network's memory back to its backend now: its arena and its parameters (on the
   *  wasm backend they live in WebAssembly memory, which the garbage collector reclaims only
   *  when it gets to the views; a loop that loads models should dispose of each). The network
   *  cannot be used afterwards. Also `using net = ...` (Symbol.dispose). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.arena.dispose();
    for (const t of Object.values({ ...this.params, ...this.buffers })) this.backend.allocate.release(t.data);
    for (const [, layer] of this.layers) {
      // parameters are gone: make later use fail loudly instead of computing on freed memory
      const disposed = () => {
        throw new ScratchnetError('this network was disposed');
      };
      (layer as { forward: Layer['forward'] }).forward = disposed;
      if (layer.infer) (layer as { infer: Layer['infer'] }).infer = disposed;
    }
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}

