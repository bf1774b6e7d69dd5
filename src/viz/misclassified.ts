// The worst-misclassified test images as a grid, each tile labelled with the true and the
// predicted class and the confidence of the wrong answer. Digits are drawn as MNIST shows them
// (white on black, gray), so they look like the data the network saw.

import { ShapeError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import type { Mistake } from './evaluate.js';
import { CELL_HEIGHT, drawText, textWidth } from './font.js';
import { ACCENT, createPicture, drawGrey, gridLayout, greyLevels, INK, type TileGrid } from './picture.js';

export interface MistakeGridOptions {
  columns?: number;
  /** Each pixel a scale x scale block (default 3). */
  scale?: number;
  classNames?: readonly string[];
}

/** images: (N, C, H, W) (channel 0 is drawn); one labelled tile per mistake, worst first. */
export function mistakeGrid(images: Tensor, mistakes: Mistake[], options: MistakeGridOptions = {}): TileGrid {
  if (images.ndim !== 4) throw new ShapeError(`mistakeGrid: images must be (N, C, H, W), got (${images.shape.join(', ')})`);
  const [, C, H, W] = images.shape;
  const scale = options.scale ?? 3;
  const name = (c: number) => options.classNames?.[c] ?? String(c);
  const labelLines = 2;
  const labelHeight = labelLines * (CELL_HEIGHT + 2) + 4;
  const tileWidth = Math.max(W * scale, textWidth('pred 0 100%'));
  const layout = gridLayout(mistakes.length, tileWidth, H * scale + labelHeight, options.columns ?? 10, 8);
  const picture = createPicture(Math.max(layout.width, 40), Math.max(layout.height, 20));
  const tiles = mistakes.map((m, i) => {
    const cell = layout.tiles[i];
    const start = m.index * C * H * W;
    const pixels = images.data.subarray(start, start + H * W);
    // Fixed 0..1 range for MNIST-like data so faint digits stay faint; else the image's own range.
    let lo = Infinity;
    let hi = -Infinity;
    for (let k = 0; k < pixels.length; k++) {
      lo = Math.min(lo, pixels[k]);
      hi = Math.max(hi, pixels[k]);
    }
    const range = lo >= 0 && hi <= 1 ? { min: 0, max: 1 } : undefined;
    drawGrey(picture, greyLevels(pixels, false, range), W, H, cell.x, cell.y, scale);
    const textY = cell.y + H * scale + 3;
    drawText(picture, `true ${name(m.label)}`, cell.x, textY, INK);
    drawText(picture, `pred ${name(m.predicted)} ${Math.round(100 * m.confidence)}%`, cell.x, textY + CELL_HEIGHT + 2, ACCENT);
    return { x: cell.x, y: cell.y, width: W * scale, height: H * scale };
  });
  return { picture, tiles };
}
