// Layer by layer (book 7.6.2): what every layer of a network outputs for one input. Works on
// any Network through its generic layer list, so it draws any architecture:
//   (1, C, H, W) outputs (convolution, pooling, activations of them) -> a grid of C channel tiles,
//     all tiles of one layer on one shared grey scale (so strong and silent channels show);
//   (1, n) outputs (affine and what follows it) -> a bar strip, one bar per unit;
//   the last layer's scores -> softmax probabilities as a labelled bar chart.

import type { RgbaImage } from '../data/image.js';
import { ShapeError } from '../errors.js';
import { softmax } from '../layers/functions.js';
import type { Network } from '../models/network.js';
import { type FloatArray, Tensor } from '../tensor.js';
import { CELL_HEIGHT, drawText, textWidth } from './font.js';
import { ACCENT, createPicture, fillRect, greyGrid, INK, MUTED, rangeOf, stackPanels, type Rect, type TileGrid } from './picture.js';

export interface Activation {
  /** 'input', the layer's name in the network (Conv1, Relu1, ...) or 'probabilities'. */
  name: string;
  /** The layer's kind (Convolution, Relu, ...), 'Input' or 'Softmax'. */
  kind: string;
  /** Output shape without the batch axis. */
  shape: number[];
  values: FloatArray;
}

/** One input (C, H, W), (1, C, H, W) or flat) through every layer; softmax probabilities last. */
export function layerActivations(network: Network, input: Tensor): Activation[] {
  const per = network.inputShape.reduce((a, b) => a * b, 1);
  if (input.size !== per) {
    throw new ShapeError(`input of shape (${input.shape.join(', ')}) does not fit this network, which expects (${network.inputShape.join(', ')})`);
  }
  let x = input.reshape(1, ...network.inputShape);
  if (x.dtype !== network.dtype) x = x.astype(network.dtype);
  const out: Activation[] = [{ name: 'input', kind: 'Input', shape: [...network.inputShape], values: x.data.slice() }];
  const last = network.forward(x, { tap: (name, layer, y) => out.push({ name, kind: layer.name, shape: y.shape.slice(1), values: y.data.slice() }) });
  const scores = last.reshape(1, -1);
  out.push({ name: 'probabilities', kind: 'Softmax', shape: [scores.shape[1]], values: softmax(scores, network.backend).data.slice() });
  return out;
}

/**
 * Bars for a vector: up for positive, down for negative, scaled to the largest |value|. Long
 * vectors (a flattened conv output has thousands of units) wrap onto several rows of bars.
 */
export function barStrip(values: ArrayLike<number>, options: { height?: number; maxWidth?: number } = {}): RgbaImage {
  const n = values.length;
  const maxWidth = options.maxWidth ?? 760;
  const barWidth = Math.max(1, Math.min(12, Math.floor(maxWidth / Math.max(1, n))));
  const perRow = Math.max(1, Math.floor(maxWidth / barWidth));
  const rows = Math.max(1, Math.ceil(n / perRow));
  const gap = barWidth >= 4 ? 1 : 0;
  let maxAbs = 0;
  let negative = false;
  for (let i = 0; i < n; i++) {
    maxAbs = Math.max(maxAbs, Math.abs(values[i]));
    if (values[i] < 0) negative = true;
  }
  const height = options.height ?? (rows > 1 ? 40 : 64);
  const picture = createPicture(Math.min(n, perRow) * barWidth + 6, rows * (height + 6));
  const half = negative ? Math.floor(height / 2) : height;
  for (let row = 0; row < rows; row++) {
    const baseline = row * (height + 6) + 3 + half;
    const first = row * perRow;
    const count = Math.min(perRow, n - first);
    fillRect(picture, 3, baseline, count * barWidth, 1, INK);
    for (let k = 0; k < count; k++) {
      const v = values[first + k];
      const h = maxAbs > 0 ? Math.round((Math.abs(v) / maxAbs) * (half - 1)) : 0;
      if (h === 0) continue;
      const x = 3 + k * barWidth;
      if (v > 0) fillRect(picture, x, baseline - h, barWidth - gap, h, ACCENT);
      else fillRect(picture, x, baseline + 1, barWidth - gap, h, MUTED);
    }
  }
  return picture;
}

/** A labelled horizontal bar chart of class probabilities; the most probable class highlighted. */
export function probabilityBars(probabilities: ArrayLike<number>, classNames?: readonly string[]): RgbaImage {
  const n = probabilities.length;
  const names = Array.from({ length: n }, (_, i) => classNames?.[i] ?? String(i));
  const scale = 2;
  const rowHeight = CELL_HEIGHT * scale + 6;
  const labelWidth = Math.max(...names.map((s) => textWidth(s, scale))) + 10;
  const barMax = 320;
  const valueWidth = textWidth('100.0%', scale) + 10;
  const picture = createPicture(8 + labelWidth + barMax + valueWidth, 8 + n * rowHeight);
  let best = 0;
  for (let i = 1; i < n; i++) if (probabilities[i] > probabilities[best]) best = i;
  for (let i = 0; i < n; i++) {
    const p = probabilities[i];
    const y = 8 + i * rowHeight;
    drawText(picture, names[i], 8, y + 3, INK, scale);
    const w = Math.round(p * barMax);
    fillRect(picture, 8 + labelWidth, y + 1, Math.max(w, 1), rowHeight - 4, i === best ? ACCENT : MUTED);
    drawText(picture, `${(100 * p).toFixed(1)}%`, 8 + labelWidth + w + 6, y + 3, INK, scale);
  }
  return picture;
}

/** Title line: name, kind, shape. Words in capitals: the bitmap font's lower-case 'x' is kept for sizes (30x24x24). */
function describe(a: Activation): string {
  const kind = a.kind.toLowerCase() === a.name.toLowerCase() ? '' : ` ${a.kind}`;
  return `${a.name}${kind}`.toUpperCase() + ` (${a.shape.join('x')})`;
}

export interface ActivationSection {
  title: string;
  /** 'channels' (a grid of tiles), 'bars' (a strip) or 'probabilities' (a bar chart). */
  kind: 'channels' | 'bars' | 'probabilities';
  origin: { x: number; y: number };
  /** Channel tiles in picture coordinates (empty for bar strips and charts). */
  tiles: Rect[];
}

/** Every activation as one picture, top to bottom, each section under a title line. */
export function activationsPicture(activations: Activation[], options: { classNames?: readonly string[]; columns?: number } = {}): { picture: RgbaImage; sections: ActivationSection[] } {
  const kinds: ActivationSection['kind'][] = [];
  const panels = activations.map((a) => {
    let grid: TileGrid;
    if (a.kind === 'Softmax') {
      grid = { picture: probabilityBars(a.values, options.classNames), tiles: [] };
      kinds.push('probabilities');
    } else if (a.shape.length === 3) {
      const [C, H, W] = a.shape;
      const channels: FloatArray[] = [];
      for (let c = 0; c < C; c++) channels.push(a.values.subarray(c * H * W, (c + 1) * H * W));
      const scale = Math.max(1, Math.ceil(48 / Math.max(1, Math.min(H, W))));
      grid = greyGrid(channels, W, H, { columns: options.columns ?? 15, margin: 3, scale, range: rangeOf(channels) });
      kinds.push('channels');
    } else {
      grid = { picture: barStrip(a.values), tiles: [] };
      kinds.push('bars');
    }
    const title = a.kind === 'Softmax' ? 'SOFTMAX PROBABILITIES' : describe(a);
    return { title, grid };
  });
  const { picture, panels: placed } = stackPanels(panels);
  return { picture, sections: placed.map((p, i) => ({ title: p.title, kind: kinds[i], origin: p.origin, tiles: p.tiles })) };
}
