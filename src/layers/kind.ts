// A layer kind: everything the rest of the house needs to know about one type of layer, kept
// in the layer's own file beside its class. The registry (layers/registry.ts) lists the kinds;
// spec checking, the network builder, ONNX export, `scratchnet models` and the docs loop over
// it. Adding a layer = its file (+ its kernels) + one registry line (docs/ARCHITECTURE.md).
//
//   type       the spec's `type` ('conv')        options   allowed spec options and defaults
//   prefix     layer names in a network (Conv1)  infer     output shape, parameter and buffer
//   group      parameter numbering (W1 b1 ...)               shapes, checked (SpecError)
//   build      the layer, parameters allocated    onnx      its ONNX nodes
//              and initialised by the network     describe  the one-line summary

import type { Backend } from '../backend/backend.js';
import { outputSize } from '../backend/backend.js';
import { ScratchnetError } from '../errors.js';
import type { DType, Tensor } from '../tensor.js';
import type { Layer } from './layer.js';

/** Initial weights: a fixed standard deviation (the book's 0.01), or a rule on the fan-in:
 *  'he' / 'relu' = sqrt(2 / fan_in), 'xavier' / 'sigmoid' = sqrt(1 / fan_in). */
export type WeightInit = number | 'he' | 'relu' | 'xavier' | 'sigmoid';

/** A bad network spec: exit code 2 at the command line, like a bad flag. */
export class SpecError extends ScratchnetError {
  constructor(message: string) {
    super(message, 2);
    this.name = 'SpecError';
  }
}

/** One option of a layer spec. Without a default (or `defaultFrom`, another option's value)
 *  it is required. */
export type OptionRule =
  | { kind: 'int'; min: number; default?: number; defaultFrom?: string }
  | { kind: 'number'; default: number; check: (v: number) => boolean; what: string }
  | { kind: 'init' };

/** A tensor a layer holds, as the spec implies it: shape and how it starts. */
export interface TensorPlan {
  shape: number[];
  /** 'weight': std * N(0, 1) from the network's generator, std from the init rule and fan-in. */
  init: 'weight' | 'zeros' | 'ones';
}

/** What a kind derives from its spec and input shape (per sample, no batch axis). */
export interface LayerPlan {
  outputShape: number[];
  /** Trainable parameters by short name, in the order their weights are drawn. */
  params?: Record<string, TensorPlan>;
  /** Non-trainable state (saved with the model, never seen by optimizers). */
  buffers?: Record<string, TensorPlan>;
  /** Inputs per output of a weight layer (for the init rule). */
  fanIn?: number;
  /** Values per sample the layer keeps in its workspace besides its output and dx (im2row
   *  rows, masks, caches); default: one more output's worth. Sizes the batch a backend's
   *  memory can hold before anything is allocated. */
  scratch?: number;
}

/** Helpers for `infer`: errors name the layer (layers[i] (type) on input (shape)). */
export interface SpecContext {
  readonly where: string;
  fail(problem: string): never;
  /** The input must be (channels, height, width). */
  needImage(): void;
  /** Output size of a size x size window, refused when it does not fit. */
  window(size: number, stride: number, pad: number): [number, number];
}

/** What `build` gets from the network: parameters already allocated on its backend and
 *  initialised, and a seed for a layer's own generator (dropout masks). */
export interface BuildContext {
  readonly backend: Backend;
  readonly dtype: DType;
  param(key: string): Tensor;
  buffer(key: string): Tensor;
  seed(): number;
}

export type OnnxAttr = { name: string; f: number } | { name: string; i: number } | { name: string; ints: number[] };

/** What `onnx` gets: shapes from spec inference (no forward pass), and node/initializer emitters. */
export interface OnnxContext {
  /** The layer's input and output shapes without the batch axis. */
  readonly inputShape: readonly number[];
  readonly outputShape: readonly number[];
  /** Adds a node reading `inputs` (the current value first unless given); its output becomes current. */
  node(op: string, attrs?: OnnxAttr[], extraInputs?: string[]): void;
  /** The initializer name of the layer's parameter or buffer `key` (W1, runningMean1 ...). */
  tensor(key: string): string;
}

export interface LayerKind<S extends { type: string } = { type: string }> {
  readonly type: S['type'];
  /** Layer names in a network: prefix + count (Conv1, Pool1, Affine1 ... as in the book). */
  readonly prefix: string;
  /** Parameters of layers in one group are numbered together: conv and dense share 'W'
   *  (W1 b1 W2 b2 ...), batch norms have 'gamma' (gamma1 beta1 runningMean1 ...). */
  readonly group?: string;
  /** One line for `scratchnet models --layers` and the docs. */
  readonly doc: string;
  readonly options: Readonly<Record<string, OptionRule>>;
  infer(spec: S, input: readonly number[], c: SpecContext): LayerPlan;
  build(spec: S, c: BuildContext): Layer;
  onnx(spec: S, c: OnnxContext): void;
  describe(spec: S): string;
}

/** Identity for kinds: checks a kind's own spec type against its methods. */
export function defineLayer<S extends { type: string }>(kind: LayerKind<S>): LayerKind<S> {
  return kind;
}

const shapeText = (s: readonly number[]) => `(${s.join(', ')})`;

/** A value as an error message quotes it: JSON, cut to 80 characters (a hostile value can be
 *  huge or nested 100,000 deep, where JSON.stringify itself overflows the stack). */
export function describeValue(v: unknown): string {
  if (typeof v === 'string') return `'${v.length > 60 ? `${v.slice(0, 60)}...` : v}'`;
  let s: string | undefined;
  try {
    s = JSON.stringify(v);
  } catch {
    return Array.isArray(v) ? 'a deeply nested array' : 'a deeply nested object';
  }
  if (s === undefined) return String(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

export function specContext(index: number, type: string, input: readonly number[]): SpecContext {
  const where = `layers[${index}] (${type}) on input ${shapeText(input)}`;
  const fail = (problem: string): never => {
    throw new SpecError(`${where}: ${problem}`);
  };
  return {
    where,
    fail,
    needImage() {
      if (input.length !== 3) fail('needs (channels, height, width) input; add no flatten/dense before it');
    },
    window(size, stride, pad) {
      const [, H, W] = input;
      const OH = outputSize(H, size, stride, pad);
      const OW = outputSize(W, size, stride, pad);
      if (OH < 1 || OW < 1) fail(`a ${size}x${size} window (stride ${stride}, pad ${pad}) does not fit ${H}x${W}: output would be ${OH}x${OW}`);
      return [OH, OW];
    },
  };
}

/** Check an init value; `where` prefixes the error. */
export function checkInit(v: unknown, where: string): WeightInit {
  if (v === 'he' || v === 'relu' || v === 'xavier' || v === 'sigmoid') return v;
  if (typeof v === 'number' && v > 0 && Number.isFinite(v)) return v;
  throw new SpecError(`${where}: init must be 'he', 'xavier' or a positive standard deviation, got ${describeValue(v)}`);
}

/** The standard deviation for a weight with `fanIn` inputs per output. */
export function initStd(init: WeightInit, fanIn: number): number {
  if (init === 'he' || init === 'relu') return Math.sqrt(2 / fanIn);
  if (init === 'xavier' || init === 'sigmoid') return Math.sqrt(1 / fanIn);
  return init;
}

/** ' he', ' 0.01' or '' for describe(). */
export function initText(v: WeightInit | undefined): string {
  return v === undefined ? '' : ` ${v}`;
}
