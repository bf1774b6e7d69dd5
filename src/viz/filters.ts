// First-layer filters as pictures (book 7.6.1, `filter_show`): one grey tile per filter, each
// normalised on its own, matplotlib's `gray_r` colour map, 15 per row. A freshly initialised
// network beside the trained one shows what training did: noise becomes edges and blobs.

import { ShapeError } from '../errors.js';
import { Convolution } from '../layers/convolution.js';
import type { Network } from '../models/network.js';
import { buildNetwork } from '../models/registry.js';
import type { Tensor } from '../tensor.js';
import { greyGrid, stackPanels, type Rect, type TileGrid } from './picture.js';
import type { RgbaImage } from '../data/image.js';

export interface FilterGridOptions {
  /** Filters per row (default 15, the book's nx). */
  columns?: number;
  /** Pixels between tiles (default 3, the book's margin). */
  margin?: number;
  /** Each weight becomes a scale x scale block (default 10, the book's scale). */
  scale?: number;
  /** Which input channel of each filter to show (default 0, as the book's filters[i, 0]). */
  channel?: number;
  /** gray_r (default: largest weight black, as in the book) or gray. */
  invert?: boolean;
}

/** The filters of a (FN, C, FH, FW) weight tensor, one channel each, as a grid of FN tiles. */
export function filterGrid(filters: Tensor, options: FilterGridOptions = {}): TileGrid {
  if (filters.ndim !== 4) throw new ShapeError(`filterGrid: filters must be (FN, C, FH, FW), got (${filters.shape.join(', ')})`);
  const [FN, C, FH, FW] = filters.shape;
  const channel = options.channel ?? 0;
  if (!Number.isInteger(channel) || channel < 0 || channel >= C) throw new ShapeError(`filterGrid: channel ${channel} is outside 0..${C - 1}`);
  const tiles: ArrayLike<number>[] = [];
  for (let f = 0; f < FN; f++) {
    const start = (f * C + channel) * FH * FW;
    tiles.push(filters.data.subarray(start, start + FH * FW));
  }
  return greyGrid(tiles, FW, FH, { columns: options.columns ?? 15, margin: options.margin ?? 3, scale: options.scale ?? 10, invert: options.invert ?? true });
}

/** The first Convolution layer of any network (its weights are what filter_show draws). */
export function firstConvolution(network: Network): { name: string; layer: Convolution } {
  for (const [name, layer] of network.layers) if (layer instanceof Convolution) return { name, layer };
  throw new ShapeError('this network has no convolution layer');
}

export interface FilterComparison {
  picture: RgbaImage;
  /** Tiles of each panel in picture coordinates, in the order given. */
  panels: { title: string; tiles: Rect[] }[];
}

/** Several filter sets (e.g. random init, then trained) stacked, each under a title line. */
export function compareFilters(sets: { title: string; filters: Tensor }[], options: FilterGridOptions = {}): FilterComparison {
  const { picture, panels } = stackPanels(sets.map((s) => ({ title: s.title, grid: filterGrid(s.filters, options) })));
  return { picture, panels: panels.map(({ title, tiles }) => ({ title, tiles })) };
}

/**
 * The same architecture freshly initialised: with the training run's seed this is the network
 * training started from (the spec records the initialisation rule).
 */
export function initialNetwork(network: Network, seed: number): Network {
  return buildNetwork(network.spec(), { seed, dtype: network.dtype, backend: network.backend });
}
