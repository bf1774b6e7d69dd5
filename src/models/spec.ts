// Networks as data: a typed, JSON-serialisable list of layers with the input shape given once
// (convnetjs' makeLayers style). Every other size is derived with the book's arithmetic
// (floor division), and the whole spec is checked here, before anything is allocated: an
// unknown type or option, a non-positive size, a negative stride, a window that does not fit
// or a size past the limits is one SpecError line naming the layer (layers[i] and its type)
// and the shapes involved. What each layer type allows and derives is its kind's business
// (layers/<layer>.ts); this file runs them in order.
//
//   { input: [1, 28, 28], layers: [
//       { type: 'conv', filters: 6, size: 5, pad: 2, init: 'xavier' }, { type: 'sigmoid' },
//       { type: 'avgpool', size: 2, stride: 2 }, ..., { type: 'dense', units: 10 } ] }

import { checkInit, describeValue, type LayerPlan, specContext, SpecError, type WeightInit } from '../layers/kind.js';
import { LAYER_TYPES, layerKind, type LayerSpec, type LayerType } from '../layers/registry.js';

export { checkInit, initStd, SpecError, type WeightInit } from '../layers/kind.js';
export { LAYER_TYPES, type LayerSpec, type LayerType } from '../layers/registry.js';
export type { ConvSpec } from '../layers/convolution.js';
export type { DenseSpec } from '../layers/affine.js';
export type { PoolSpec } from '../layers/pooling.js';
export type { LrnSpec } from '../layers/lrn.js';
export type { DropoutSpec } from '../layers/dropout.js';
export type { BatchNormSpec } from '../layers/batch-normalization.js';
export type { FlattenSpec } from '../layers/flatten.js';
export type { GlobalAvgPoolSpec } from '../layers/global-avg-pooling.js';
export type ActivationSpec = { type: 'relu' | 'sigmoid' | 'tanh' };

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

/** Largest input or output of any layer per sample (2^26 values: 256 MB of float32 for one
 *  image; AlexNet on 227x227 needs 0.3 M). */
export const MAX_ACTIVATION_VALUES = 2 ** 26;
/** Most parameter values a network may have (2^28: 1 GiB of float32; AlexNet-227 has 62 M). */
export const MAX_PARAMETER_VALUES = 2 ** 28;
/** Most layers in a spec. */
export const MAX_LAYERS = 10_000;

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
  /** What the layer's kind derived (parameter and buffer shapes with their initialisation). */
  plan: LayerPlan;
}

export interface CheckedSpec {
  spec: NetworkSpec & { model: 'Sequential'; init: WeightInit };
  layers: LayerInfo[];
  outputShape: number[];
  paramCount: number;
  /** Values per sample a training step keeps (outputs, input gradients, caches, scratch). */
  valuesPerSample: number;
}

const shapeText = (s: readonly number[]) => `(${s.join(', ')})`;
const count = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/**
 * Validate a spec (e.g. parsed from JSON) and derive every layer's shapes and parameters,
 * without allocating anything. Throws SpecError with one line naming the layer.
 */
export function checkSpec(raw: unknown, classes?: number): CheckedSpec {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new SpecError(`a network spec must be an object { input, layers }, got ${describeValue(raw)}`);
  const top = raw as Record<string, unknown>;
  for (const key of Object.keys(top)) {
    if (!['model', 'name', 'input', 'init', 'layers'].includes(key)) throw new SpecError(`unknown spec field '${describeValue(key).slice(1, -1)}' (fields: input, layers, name, init)`);
  }
  if (top.model !== undefined && top.model !== 'Sequential') throw new SpecError(`spec field model must be 'Sequential', got ${describeValue(top.model)}`);
  if (top.name !== undefined && typeof top.name !== 'string') throw new SpecError(`spec field name must be a string, got ${describeValue(top.name)}`);
  const input = top.input;
  if (!Array.isArray(input) || (input.length !== 1 && input.length !== 3) || !input.every((d) => Number.isInteger(d) && d > 0)) {
    throw new SpecError(`spec input must be [channels, height, width] or [features] of positive integers, got ${describeValue(input)}`);
  }
  if (!(count(input) <= MAX_ACTIVATION_VALUES)) throw new SpecError(`spec input ${shapeText(input)} has ${count(input)} values per sample, above the limit of ${MAX_ACTIVATION_VALUES}`);
  const init = top.init === undefined ? 'he' : checkInit(top.init, 'spec');
  if (!Array.isArray(top.layers) || top.layers.length === 0) throw new SpecError(`spec layers must be a non-empty array, got ${describeValue(top.layers)}`);
  if (top.layers.length > MAX_LAYERS) throw new SpecError(`spec has ${top.layers.length} layers, above the limit of ${MAX_LAYERS}`);

  let shape = [...(input as number[])];
  const infos: LayerInfo[] = [];
  let paramCount = 0;
  for (let index = 0; index < top.layers.length; index++) {
    const info = checkLayer(top.layers[index], index, shape, init);
    paramCount += info.paramCount;
    if (!(paramCount <= MAX_PARAMETER_VALUES)) throw new SpecError(`layers[${index}] (${info.type}) brings the network to ${paramCount} parameters, above the limit of ${MAX_PARAMETER_VALUES}`);
    infos.push(info);
    shape = info.outputShape;
  }
  const last = infos[infos.length - 1];
  if (shape.length !== 1) {
    throw new SpecError(`layers[${last.index}] (${last.type}) outputs ${shapeText(shape)}, but a network must end in class scores (classes,): end with a dense layer`);
  }
  if (classes !== undefined && shape[0] !== classes) {
    throw new SpecError(`layers[${last.index}] (${last.type}) outputs ${shape[0]} class scores, the data has ${classes} classes`);
  }
  const spec = { model: 'Sequential' as const, ...(top.name !== undefined ? { name: top.name as string } : {}), input: [...(input as number[])], init, layers: infos.map((l) => l.spec) };
  const valuesPerSample = infos.reduce((n, l) => n + count(l.inputShape) + count(l.outputShape) + (l.plan.scratch ?? count(l.outputShape)), 0);
  return { spec, layers: infos, outputShape: shape, paramCount, valuesPerSample };
}

function checkLayer(entry: unknown, index: number, inShape: number[], defaultInit: WeightInit): LayerInfo {
  const at = `layers[${index}]`;
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new SpecError(`${at}: a layer must be an object with a type, got ${describeValue(entry)}`);
  const obj = entry as Record<string, unknown>;
  const kind = typeof obj.type === 'string' ? layerKind(obj.type) : undefined;
  if (!kind) throw new SpecError(`${at}: unknown layer type ${describeValue(obj.type)} (types: ${LAYER_TYPES.join(', ')})`);
  const c = specContext(index, kind.type, inShape);
  const rules = kind.options;
  for (const key of Object.keys(obj)) {
    if (key !== 'type' && !(key in rules)) {
      const names = Object.keys(rules);
      c.fail(`unknown option '${describeValue(key).slice(1, -1)}' (${names.length ? `options: ${names.join(', ')}` : 'it takes no options'})`);
    }
  }
  // Every option checked and its default filled in, in the kind's order.
  const spec: Record<string, unknown> = { type: kind.type };
  for (const [name, rule] of Object.entries(rules)) {
    const given = obj[name];
    if (rule.kind === 'init') {
      spec[name] = given === undefined ? defaultInit : checkInit(given, c.where);
    } else if (rule.kind === 'int') {
      const v = given !== undefined ? given : rule.defaultFrom !== undefined ? spec[rule.defaultFrom] : rule.default;
      if (v === undefined) c.fail(`missing option '${name}'`);
      if (typeof v !== 'number' || !Number.isInteger(v) || v < rule.min) c.fail(`${name} must be an integer >= ${rule.min}, got ${describeValue(v)}`);
      if (!((v as number) <= 2 ** 31 - 1)) c.fail(`${name} ${v} is too large`);
      spec[name] = v;
    } else {
      const v = given !== undefined ? given : rule.default;
      if (typeof v !== 'number' || !Number.isFinite(v) || !rule.check(v)) c.fail(`${name} must be ${rule.what}, got ${describeValue(v)}`);
      spec[name] = v;
    }
  }
  const plan = kind.infer(spec as unknown as LayerSpec, inShape, c);
  for (const s of [plan.outputShape]) {
    if (!(count(s) <= MAX_ACTIVATION_VALUES)) c.fail(`outputs ${shapeText(s)} = ${count(s)} values per sample, above the limit of ${MAX_ACTIVATION_VALUES}`);
  }
  const shapes = (r: LayerPlan['params']) => Object.fromEntries(Object.entries(r ?? {}).map(([k, p]) => [k, [...p.shape]]));
  const params = shapes(plan.params);
  return {
    index, type: kind.type, spec: spec as unknown as LayerSpec, inputShape: [...inShape], outputShape: plan.outputShape,
    params, buffers: shapes(plan.buffers), paramCount: Object.values(params).reduce((n, s) => n + count(s), 0),
    ...(plan.fanIn !== undefined ? { fanIn: plan.fanIn } : {}), plan,
  };
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
  const weightLayers = checked.layers.filter((l) => l.plan.fanIn !== undefined).length;
  out.push(`total: ${checked.paramCount.toLocaleString('en-US')} parameters in ${weightLayers} weight layers; output ${shapeText(checked.outputShape)}`);
  return out.join('\n');
}

/** One short description of a layer spec, e.g. "conv 6@5x5 s1 p2 xavier". */
export function describeLayer(s: LayerSpec): string {
  const kind = layerKind(s.type);
  return kind ? kind.describe(s) : String(s.type);
}
