// Networks as data: a typed, JSON-serialisable list of layers with the input shape given once
// (convnetjs' makeLayers style). Every other size is derived with the book's arithmetic
// (floor division), and the whole spec is checked here, before anything is allocated: an
// unknown type or option, a non-positive size, a negative stride or a window that does not fit
// is one SpecError line naming the layer (layers[i] and its type) and the shapes involved.
//
//   { input: [1, 28, 28], layers: [
//       { type: 'conv', filters: 6, size: 5, pad: 2, init: 'xavier' }, { type: 'sigmoid' },
//       { type: 'avgpool', size: 2, stride: 2 }, ..., { type: 'dense', units: 10 } ] }

import { ScratchnetError } from '../errors.js';

/** Initial weights: a fixed standard deviation (the book's 0.01), or a rule on the fan-in:
 *  'he' / 'relu' = sqrt(2 / fan_in), 'xavier' / 'sigmoid' = sqrt(1 / fan_in). */
export type WeightInit = number | 'he' | 'relu' | 'xavier' | 'sigmoid';

export interface ConvSpec { type: 'conv'; filters: number; size: number; stride?: number; pad?: number; init?: WeightInit }
export interface DenseSpec { type: 'dense'; units: number; init?: WeightInit }
export interface PoolSpec { type: 'maxpool' | 'avgpool'; size: number; stride?: number; pad?: number }
export interface ActivationSpec { type: 'relu' | 'sigmoid' | 'tanh' }
export interface LrnSpec { type: 'lrn'; n?: number; k?: number; alpha?: number; beta?: number }
export interface DropoutSpec { type: 'dropout'; ratio?: number }
export interface BatchNormSpec { type: 'batchnorm'; momentum?: number; eps?: number }
export interface FlattenSpec { type: 'flatten' }

export type LayerSpec = ConvSpec | DenseSpec | PoolSpec | ActivationSpec | LrnSpec | DropoutSpec | BatchNormSpec | FlattenSpec;
export type LayerType = LayerSpec['type'];

/** A whole network: input shape (C, H, W) or (D,), the layers in order (SoftmaxWithLoss is
 *  appended by the builder), an optional name and a default init for conv/dense layers. */
export interface NetworkSpec {
  /** 'Sequential' in model files; optional in hand-written specs. */
  model?: 'Sequential';
  name?: string;
  input: number[];
  /** Default for conv/dense layers without their own init (default 'he'). */
  init?: WeightInit;
  layers: LayerSpec[];
}

/** A bad network spec: exit code 2 at the command line, like a bad flag. */
export class SpecError extends ScratchnetError {
  constructor(message: string) {
    super(message, 2);
    this.name = 'SpecError';
  }
}

/** Allowed options and their defaults, per layer type. */
const OPTIONS: Record<LayerType, Record<string, number | string | undefined>> = {
  conv: { filters: undefined, size: undefined, stride: 1, pad: 0, init: undefined },
  dense: { units: undefined, init: undefined },
  maxpool: { size: undefined, stride: undefined, pad: 0 },
  avgpool: { size: undefined, stride: undefined, pad: 0 },
  relu: {},
  sigmoid: {},
  tanh: {},
  lrn: { n: 5, k: 2, alpha: 1e-4, beta: 0.75 },
  dropout: { ratio: 0.5 },
  batchnorm: { momentum: 0.9, eps: 1e-5 },
  flatten: {},
};
export const LAYER_TYPES = Object.keys(OPTIONS) as LayerType[];

/** What the checker derived for one layer. */
export interface LayerInfo {
  index: number;
  type: LayerType;
  /** The layer's spec with every default filled in. */
  spec: LayerSpec;
  inputShape: number[];
  outputShape: number[];
  /** Trainable parameters by short name (W, b, gamma, beta) with their shapes. */
  params: Record<string, number[]>;
  /** Non-trainable state (batch norm's running statistics). */
  buffers: Record<string, number[]>;
  /** Number of trainable values. */
  paramCount: number;
  /** Fan-in of a conv/dense layer's weights (for the init rule). */
  fanIn?: number;
}

export interface CheckedSpec {
  spec: NetworkSpec & { model: 'Sequential'; init: WeightInit };
  layers: LayerInfo[];
  outputShape: number[];
  paramCount: number;
}

const shapeText = (s: readonly number[]) => `(${s.join(', ')})`;

function describeValue(v: unknown): string {
  return typeof v === 'string' ? `'${v}'` : JSON.stringify(v) ?? String(v);
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

/**
 * Validate a spec (e.g. parsed from JSON) and derive every layer's shapes and parameters,
 * without allocating anything. Throws SpecError with one line naming the layer.
 */
export function checkSpec(raw: unknown, classes?: number): CheckedSpec {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new SpecError(`a network spec must be an object { input, layers }, got ${describeValue(raw)}`);
  const top = raw as Record<string, unknown>;
  for (const key of Object.keys(top)) {
    if (!['model', 'name', 'input', 'init', 'layers'].includes(key)) throw new SpecError(`unknown spec field '${key}' (fields: input, layers, name, init)`);
  }
  if (top.model !== undefined && top.model !== 'Sequential') throw new SpecError(`spec field model must be 'Sequential', got ${describeValue(top.model)}`);
  if (top.name !== undefined && typeof top.name !== 'string') throw new SpecError(`spec field name must be a string, got ${describeValue(top.name)}`);
  const input = top.input;
  if (!Array.isArray(input) || (input.length !== 1 && input.length !== 3) || !input.every((d) => Number.isInteger(d) && d > 0)) {
    throw new SpecError(`spec input must be [channels, height, width] or [features] of positive integers, got ${describeValue(input)}`);
  }
  const init = top.init === undefined ? 'he' : checkInit(top.init, 'spec');
  if (!Array.isArray(top.layers) || top.layers.length === 0) throw new SpecError(`spec layers must be a non-empty array, got ${describeValue(top.layers)}`);

  let shape = [...(input as number[])];
  const infos: LayerInfo[] = [];
  const layers: LayerSpec[] = [];
  top.layers.forEach((entry: unknown, index: number) => {
    const info = checkLayer(entry, index, shape, init);
    infos.push(info);
    layers.push(info.spec);
    shape = info.outputShape;
  });
  const last = infos[infos.length - 1];
  if (shape.length !== 1) {
    throw new SpecError(`layers[${last.index}] (${last.type}) outputs ${shapeText(shape)}, but a network must end in class scores (classes,): end with a dense layer`);
  }
  if (classes !== undefined && shape[0] !== classes) {
    throw new SpecError(`layers[${last.index}] (${last.type}) outputs ${shape[0]} class scores, the data has ${classes} classes`);
  }
  const spec = { model: 'Sequential' as const, ...(top.name !== undefined ? { name: top.name as string } : {}), input: [...(input as number[])], init, layers };
  return { spec, layers: infos, outputShape: shape, paramCount: infos.reduce((n, l) => n + l.paramCount, 0) };
}

function checkLayer(entry: unknown, index: number, inShape: number[], defaultInit: WeightInit): LayerInfo {
  const at = `layers[${index}]`;
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new SpecError(`${at}: a layer must be an object with a type, got ${describeValue(entry)}`);
  const obj = entry as Record<string, unknown>;
  const type = obj.type;
  if (typeof type !== 'string' || !(type in OPTIONS)) {
    throw new SpecError(`${at}: unknown layer type ${describeValue(type)} (types: ${LAYER_TYPES.join(', ')})`);
  }
  const t = type as LayerType;
  const where = `${at} (${t}) on input ${shapeText(inShape)}`;
  const allowed = OPTIONS[t];
  for (const key of Object.keys(obj)) {
    if (key !== 'type' && !(key in allowed)) {
      const names = Object.keys(allowed);
      throw new SpecError(`${where}: unknown option '${key}' (${names.length ? `options: ${names.join(', ')}` : 'it takes no options'})`);
    }
  }
  const opt = (name: string): unknown => (obj[name] !== undefined ? obj[name] : allowed[name]);
  const int = (name: string, min: number): number => {
    const v = opt(name);
    if (v === undefined) throw new SpecError(`${where}: missing option '${name}'`);
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
      throw new SpecError(`${where}: ${name} must be an integer >= ${min}, got ${describeValue(v)}`);
    }
    return v;
  };
  const num = (name: string, ok: (v: number) => boolean, what: string): number => {
    const v = opt(name);
    if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) throw new SpecError(`${where}: ${name} must be ${what}, got ${describeValue(v)}`);
    return v;
  };
  const needImage = () => {
    if (inShape.length !== 3) throw new SpecError(`${where}: needs (channels, height, width) input; add no flatten/dense before it`);
  };
  const window = (size: number, stride: number, pad: number): [number, number] => {
    const [, H, W] = inShape;
    const OH = Math.floor((H + 2 * pad - size) / stride) + 1;
    const OW = Math.floor((W + 2 * pad - size) / stride) + 1;
    if (OH < 1 || OW < 1) {
      throw new SpecError(`${where}: a ${size}x${size} window (stride ${stride}, pad ${pad}) does not fit ${H}x${W}: output would be ${OH}x${OW}`);
    }
    return [OH, OW];
  };
  const base = { index, type: t, inputShape: [...inShape], params: {} as Record<string, number[]>, buffers: {} as Record<string, number[]>, paramCount: 0 };
  const features = inShape.reduce((a, b) => a * b, 1);

  switch (t) {
    case 'conv': {
      needImage();
      const filters = int('filters', 1), size = int('size', 1), stride = int('stride', 1), pad = int('pad', 0);
      const init = obj.init === undefined ? defaultInit : checkInit(obj.init, where);
      const [OH, OW] = window(size, stride, pad);
      const C = inShape[0];
      const fanIn = C * size * size;
      return { ...base, spec: { type: 'conv', filters, size, stride, pad, init }, outputShape: [filters, OH, OW], params: { W: [filters, C, size, size], b: [filters] }, paramCount: filters * fanIn + filters, fanIn };
    }
    case 'dense': {
      const units = int('units', 1);
      const init = obj.init === undefined ? defaultInit : checkInit(obj.init, where);
      return { ...base, spec: { type: 'dense', units, init }, outputShape: [units], params: { W: [features, units], b: [units] }, paramCount: features * units + units, fanIn: features };
    }
    case 'maxpool':
    case 'avgpool': {
      needImage();
      const size = int('size', 1);
      const stride = obj.stride === undefined ? size : int('stride', 1); // default: non-overlapping windows
      const pad = int('pad', 0);
      if (pad >= size) throw new SpecError(`${where}: pad ${pad} must be smaller than the window size ${size}`);
      const [OH, OW] = window(size, stride, pad);
      return { ...base, spec: { type: t, size, stride, pad }, outputShape: [inShape[0], OH, OW] };
    }
    case 'relu':
    case 'sigmoid':
    case 'tanh':
      return { ...base, spec: { type: t }, outputShape: [...inShape] };
    case 'flatten':
      return { ...base, spec: { type: 'flatten' }, outputShape: [features] };
    case 'lrn': {
      const n = int('n', 1);
      const k = num('k', (v) => v > 0, 'a positive number');
      const alpha = num('alpha', (v) => v >= 0, 'a non-negative number');
      const beta = num('beta', (v) => v >= 0, 'a non-negative number');
      if (inShape.length !== 3) throw new SpecError(`${where}: normalises across channels and needs (channels, height, width) input`);
      return { ...base, spec: { type: 'lrn', n, k, alpha, beta }, outputShape: [...inShape] };
    }
    case 'dropout': {
      const ratio = num('ratio', (v) => v >= 0 && v < 1, 'in [0, 1)');
      return { ...base, spec: { type: 'dropout', ratio }, outputShape: [...inShape] };
    }
    case 'batchnorm': {
      const momentum = num('momentum', (v) => v >= 0 && v <= 1, 'in [0, 1]');
      const eps = num('eps', (v) => v > 0, 'a positive number');
      const C = inShape[0]; // channels after a conv, features after a dense layer
      return { ...base, spec: { type: 'batchnorm', momentum, eps }, outputShape: [...inShape], params: { gamma: [C], beta: [C] }, buffers: { runningMean: [C], runningVar: [C] }, paramCount: 2 * C };
    }
  }
}

/** The layer table of a checked spec: one row per layer with its output shape and parameter
 *  count, and the totals (like Keras' summary). */
export function formatSummary(checked: CheckedSpec, title?: string): string {
  const rows: [string, string, string, string][] = [['#', 'layer', 'output shape', 'parameters']];
  rows.push(['', 'input', shapeText(checked.spec.input), '']);
  for (const l of checked.layers) rows.push([String(l.index), describeLayer(l.spec), shapeText(l.outputShape), l.paramCount ? l.paramCount.toLocaleString('en-US') : '-']);
  const widths = [0, 1, 2, 3].map((c) => Math.max(...rows.map((r) => r[c].length)));
  const line = (r: string[]) => `${r[0].padStart(widths[0])}  ${r[1].padEnd(widths[1])}  ${r[2].padEnd(widths[2])}  ${r[3].padStart(widths[3])}`.trimEnd();
  const rule = '-'.repeat(widths.reduce((a, b) => a + b, 0) + 6);
  const out: string[] = [];
  if (title) out.push(title);
  out.push(line(rows[0]), rule, ...rows.slice(1).map(line), rule);
  const weightLayers = checked.layers.filter((l) => l.type === 'conv' || l.type === 'dense').length;
  out.push(`total: ${checked.paramCount.toLocaleString('en-US')} parameters in ${weightLayers} weight layers; output ${shapeText(checked.outputShape)}`);
  return out.join('\n');
}

/** One short description of a layer spec, e.g. "conv 6@5x5 s1 p2 xavier". */
export function describeLayer(s: LayerSpec): string {
  const init = (v: WeightInit | undefined) => (v === undefined ? '' : ` ${v}`);
  switch (s.type) {
    case 'conv': return `conv ${s.filters}@${s.size}x${s.size} s${s.stride ?? 1} p${s.pad ?? 0}${init(s.init)}`;
    case 'dense': return `dense ${s.units}${init(s.init)}`;
    case 'maxpool':
    case 'avgpool': return `${s.type} ${s.size}x${s.size} s${s.stride ?? s.size} p${s.pad ?? 0}`;
    case 'lrn': return `lrn n=${s.n} k=${s.k} alpha=${s.alpha} beta=${s.beta}`;
    case 'dropout': return `dropout ${s.ratio}`;
    case 'batchnorm': return 'batchnorm';
    default: return s.type;
  }
}
