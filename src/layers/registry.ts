// The layer kinds a network spec may use, in the order `scratchnet models --layers` and the docs
// list them. Adding a layer kind: its file (class + kind, see kind.ts) and one line here.

import { convKind } from './convolution.js';
import { denseKind } from './affine.js';
import { maxpoolKind } from './pooling.js';
import { avgpoolKind } from './avg-pooling.js';
import { reluKind } from './relu.js';
import { sigmoidKind } from './sigmoid.js';
import { tanhKind } from './tanh.js';
import { lrnKind } from './lrn.js';
import { dropoutKind } from './dropout.js';
import { batchnormKind } from './batch-normalization.js';
import { flattenKind } from './flatten.js';
import { globalAvgPoolKind } from './global-avg-pooling.js';
import type { LayerKind } from './kind.js';

export const LAYER_KINDS = [
  convKind, denseKind, maxpoolKind, avgpoolKind, reluKind, sigmoidKind, tanhKind, lrnKind, dropoutKind,
  batchnormKind, flattenKind, globalAvgPoolKind,
] as const;

type SpecOf<K> = K extends LayerKind<infer S> ? S : never;
/** Any layer of a network spec. */
export type LayerSpec = SpecOf<(typeof LAYER_KINDS)[number]>;
export type LayerType = LayerSpec['type'];
export const LAYER_TYPES = LAYER_KINDS.map((k) => k.type) as LayerType[];

const byType = new Map<string, LayerKind<LayerSpec>>(LAYER_KINDS.map((k) => [k.type, k as unknown as LayerKind<LayerSpec>]));

/** The kind of a spec type, or undefined. */
export function layerKind(type: string): LayerKind<LayerSpec> | undefined {
  return byType.get(type);
}
