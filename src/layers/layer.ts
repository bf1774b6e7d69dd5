// What every layer looks like: forward and backward side by side, caches kept between them
// (named as in the book), parameter gradients left in `grads` after backward.
//
// A layer computes on a backend and keeps its outputs in a workspace (its scope of an arena,
// backend/arena.ts). Both come from the network the layer belongs to (`bind`, called once when
// the network is built), so every layer of a network shares one backend and one arena. A layer
// built on its own (the book's `Convolution(W, b)`, tests) uses `options.backend`, or the default
// backend at its first use, with an arena of its own.

import type { Backend } from '../backend/backend.js';
import { Arena, type Workspace } from '../backend/arena.js';
import { getBackend } from '../backend/registry.js';
import type { Tensor } from '../tensor.js';

export interface Layer {
  readonly name: string;
  /** `train` matters only for layers that behave differently while training (dropout, batch norm). */
  forward(x: Tensor, train?: boolean): Tensor;
  /** Optional: the evaluation forward that keeps nothing for backward (no masks, no caches);
   *  a network's forward with `train: false` calls it where a layer has one. A backward after
   *  it fails with a clear error instead of using a stale cache. */
  infer?(x: Tensor): Tensor;
  /** dout: gradient of the loss w.r.t. this layer's output -> gradient w.r.t. its input.
   *  needInputGrad = false lets the first layer skip computing a dx nobody reads (the network
   *  input's gradient); the layer then returns an empty tensor. Parameter gradients are
   *  always computed. */
  backward(dout: Tensor, needInputGrad?: boolean): Tensor;
  /** Trainable parameters by short name (e.g. W, b), live storage. */
  readonly params?: Record<string, Tensor>;
  /** Gradients by the same short names, filled by backward. */
  readonly grads?: Record<string, Tensor>;
  /** Non-trainable state by short name (batch norm's running statistics), live storage. */
  readonly buffers?: Record<string, Tensor>;
  /** The backend the layer computes on. */
  readonly backend: Backend;
  /** Join a network: compute on its backend, keep buffers in its arena. */
  bind(backend: Backend, workspace: Workspace): void;
}

export interface LayerOptions {
  backend?: Backend;
}

/** The backend/workspace plumbing every layer shares. */
export abstract class BaseLayer {
  abstract readonly name: string;
  private bound: { backend: Backend; ws: Workspace } | null = null;
  private readonly requested: Backend | undefined;

  constructor(options: LayerOptions = {}) {
    this.requested = options.backend;
  }

  bind(backend: Backend, workspace: Workspace): void {
    this.bound = { backend, ws: workspace };
  }

  private context(): { backend: Backend; ws: Workspace } {
    if (!this.bound) {
      const backend = this.requested ?? getBackend();
      this.bound = { backend, ws: new Arena(backend).scope(this.name) };
    }
    return this.bound;
  }

  get backend(): Backend {
    return this.context().backend;
  }

  /** Outputs, caches and gradients, allocated once per shape and reused (backend/arena.ts). */
  protected get ws(): Workspace {
    return this.context().ws;
  }
}

/** What Convolution and Affine share: weights W and bias b (given, live storage) and their
 *  gradients dW and db (the book's names), kept in the layer's workspace. */
export abstract class WeightLayer extends BaseLayer {
  W: Tensor;
  b: Tensor;
  /** Gradients (filled by backward, in the layer's workspace). */
  dW: Tensor | null = null;
  db: Tensor | null = null;

  constructor(W: Tensor, b: Tensor, options: LayerOptions = {}) {
    super(options);
    this.W = W;
    this.b = b;
  }

  get params(): Record<string, Tensor> {
    return { W: this.W, b: this.b };
  }

  get grads(): Record<string, Tensor> {
    this.dW ??= this.ws.tensor('dW', this.W.shape, this.W.dtype);
    this.db ??= this.ws.tensor('db', this.b.shape, this.b.dtype);
    return { W: this.dW, b: this.db };
  }
}
