// Feature maps (book 7.6.1, second half): every first-layer filter applied to one image, each
// output shown as a grey tile normalised on its own (gray_r), 15 per row. As in the reference,
// a colour image is reduced to one channel by taking its first (red) channel, 0..255, and the
// bias is left out (b = 0): the picture shows what each filter responds to.

import type { RgbaImage } from '../data/image.js';
import { ShapeError } from '../errors.js';
import { Convolution } from '../layers/convolution.js';
import { Tensor, zeros } from '../tensor.js';
import { greyGrid, type TileGrid } from './picture.js';

/**
 * RGBA pixels -> a (1, C, H, W) float tensor with values 0..255: C = 1 takes the first (red)
 * channel, the reference's `img[:, :, 0:1]`; C = 3 keeps red, green and blue.
 */
export function imageToTensor(image: RgbaImage, channels = 1): Tensor {
  if (channels !== 1 && channels !== 3) throw new ShapeError(`imageToTensor: channels must be 1 or 3, got ${channels}`);
  const { width, height, data } = image;
  const out = zeros([1, channels, height, width]);
  for (let c = 0; c < channels; c++) {
    for (let i = 0; i < width * height; i++) out.data[c * width * height + i] = data[4 * i + c];
  }
  return out;
}

export interface FeatureMapOptions {
  stride?: number;
  pad?: number;
}

/**
 * Each filter convolved with the image, bias 0 (the reference's `Convolution(w, 0)`):
 *   filters: (FN, C, FH, FW), image: (1, C, H, W) or (C, H, W) -> (FN, OH, OW)
 */
export function featureMaps(filters: Tensor, image: Tensor, options: FeatureMapOptions = {}): Tensor {
  const x = image.ndim === 3 ? image.reshape(1, ...image.shape) : image;
  if (filters.ndim !== 4 || x.ndim !== 4 || x.shape[0] !== 1 || x.shape[1] !== filters.shape[1]) {
    throw new ShapeError(`featureMaps: filters (${filters.shape.join(', ')}) do not fit an image of shape (${image.shape.join(', ')})`);
  }
  const input = x.dtype === filters.dtype ? x : x.astype(filters.dtype);
  const conv = new Convolution(filters, zeros([filters.shape[0]], filters.dtype), options.stride ?? 1, options.pad ?? 0);
  const out = conv.forward(input); // (1, FN, OH, OW)
  return new Tensor(out.data, out.shape.slice(1));
}

export interface FeatureGridOptions {
  columns?: number;
  margin?: number;
  /** Each value a scale x scale block; default: the smallest that makes a tile at least 48 px. */
  scale?: number;
  invert?: boolean;
}

/** Feature maps (FN, OH, OW) as a grid of FN tiles, each normalised on its own. */
export function featureMapGrid(maps: Tensor, options: FeatureGridOptions = {}): TileGrid {
  if (maps.ndim !== 3) throw new ShapeError(`featureMapGrid: maps must be (FN, OH, OW), got (${maps.shape.join(', ')})`);
  const [FN, OH, OW] = maps.shape;
  const scale = options.scale ?? Math.max(1, Math.ceil(48 / Math.max(1, Math.min(OH, OW))));
  const tiles: ArrayLike<number>[] = [];
  for (let f = 0; f < FN; f++) tiles.push(maps.data.subarray(f * OH * OW, (f + 1) * OH * OW));
  return greyGrid(tiles, OW, OH, { columns: options.columns ?? 15, margin: options.margin ?? 3, scale, invert: options.invert ?? true });
}
