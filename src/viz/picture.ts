// Pixel pictures: RGBA buffers (the layout of canvas ImageData) built by pure functions, so the
// same code draws a PNG in Node and a canvas in a browser. No Node APIs here.
//
// Conventions shared by every picture:
//  - values are shown in grey scale, normalised to their own min..max, with the book's
//    colour map `gray_r` by default (min = white, max = black), as matplotlib's imshow does;
//  - the background (PAPER) and the text colour (INK) are not greys (r, g, b differ), so a
//    program (or a test) can tell tile pixels from everything else: a tile pixel has r = g = b.

import type { RgbaImage } from '../data/image.js';
import { drawText, textHeight, textWidth } from './font.js';

export type Rgb = readonly [number, number, number];

/** Background colour of every picture: warm paper, deliberately not a grey. */
export const PAPER: Rgb = [246, 242, 232];
/** Text colour: dark blue, not a grey. */
export const INK: Rgb = [28, 40, 72];
/** Highlight colour (the predicted class, a positive bar). */
export const ACCENT: Rgb = [214, 96, 40];
/** Second data colour (other bars, negative values). */
export const MUTED: Rgb = [70, 120, 180];

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** A picture with the rectangles its tiles occupy (filters, feature maps, digits...). */
export interface TileGrid {
  picture: RgbaImage;
  tiles: Rect[];
}

export function createPicture(width: number, height: number, background: Rgb = PAPER): RgbaImage {
  const w = Math.max(1, Math.round(width));
  const h = Math.max(1, Math.round(height));
  const data = new Uint8Array(w * h * 4);
  for (let i = 0; i < w * h; i++) {
    data[4 * i] = background[0];
    data[4 * i + 1] = background[1];
    data[4 * i + 2] = background[2];
    data[4 * i + 3] = 255;
  }
  return { width: w, height: h, data };
}

export function fillRect(p: RgbaImage, x: number, y: number, width: number, height: number, color: Rgb): void {
  const x0 = Math.max(0, Math.round(x));
  const y0 = Math.max(0, Math.round(y));
  const x1 = Math.min(p.width, Math.round(x + width));
  const y1 = Math.min(p.height, Math.round(y + height));
  for (let py = y0; py < y1; py++) {
    for (let px = x0; px < x1; px++) {
      const o = 4 * (py * p.width + px);
      p.data[o] = color[0];
      p.data[o + 1] = color[1];
      p.data[o + 2] = color[2];
      p.data[o + 3] = 255;
    }
  }
}

/**
 * Values -> grey levels 0..255, normalised to their own min..max (a constant input gives mid
 * grey). invert = true is matplotlib's `gray_r` (the book's colour map): the largest value is
 * black. The exact formula, which tests rely on:
 *   level = (v - min) / (max - min);  grey = round(255 * (invert ? 1 - level : level)).
 */
export function greyLevels(values: ArrayLike<number>, invert = true, range?: { min: number; max: number }): Uint8Array {
  let min = range?.min ?? Infinity;
  let max = range?.max ?? -Infinity;
  if (!range) {
    for (let i = 0; i < values.length; i++) {
      if (values[i] < min) min = values[i];
      if (values[i] > max) max = values[i];
    }
  }
  const out = new Uint8Array(values.length);
  const span = max - min;
  for (let i = 0; i < values.length; i++) {
    const level = span > 0 && Number.isFinite(span) ? Math.min(1, Math.max(0, (values[i] - min) / span)) : 0.5;
    out[i] = Math.round(255 * (invert ? 1 - level : level));
  }
  return out;
}

/** Draws a grey image (levels, row-major width x height) at (x, y), each pixel a scale x scale block. */
export function drawGrey(p: RgbaImage, levels: ArrayLike<number>, width: number, height: number, x: number, y: number, scale = 1): void {
  for (let sy = 0; sy < height * scale; sy++) {
    const py = y + sy;
    if (py < 0 || py >= p.height) continue;
    const row = Math.floor(sy / scale) * width;
    for (let sx = 0; sx < width * scale; sx++) {
      const px = x + sx;
      if (px < 0 || px >= p.width) continue;
      const v = levels[row + Math.floor(sx / scale)];
      const o = 4 * (py * p.width + px);
      p.data[o] = v;
      p.data[o + 1] = v;
      p.data[o + 2] = v;
      p.data[o + 3] = 255;
    }
  }
}

/** Copies `src` into `dst` with its top-left corner at (x, y). */
export function blit(dst: RgbaImage, src: RgbaImage, x: number, y: number): void {
  for (let sy = 0; sy < src.height; sy++) {
    const py = y + sy;
    if (py < 0 || py >= dst.height) continue;
    for (let sx = 0; sx < src.width; sx++) {
      const px = x + sx;
      if (px < 0 || px >= dst.width) continue;
      const s = 4 * (sy * src.width + sx);
      const d = 4 * (py * dst.width + px);
      dst.data[d] = src.data[s];
      dst.data[d + 1] = src.data[s + 1];
      dst.data[d + 2] = src.data[s + 2];
      dst.data[d + 3] = src.data[s + 3];
    }
  }
}

/**
 * Where `count` equal tiles go in a grid of `columns` columns with `margin` pixels around and
 * between them (the book's filter_show: nx = 15 columns, ny = ceil(count / nx) rows).
 */
export function gridLayout(count: number, tileWidth: number, tileHeight: number, columns: number, margin: number): { tiles: Rect[]; width: number; height: number } {
  const cols = Math.max(1, Math.min(columns, count));
  const rows = Math.max(1, Math.ceil(count / cols));
  const tiles: Rect[] = [];
  for (let i = 0; i < count; i++) {
    const col = i % cols;
    const row = Math.floor(i / cols);
    tiles.push({ x: margin + col * (tileWidth + margin), y: margin + row * (tileHeight + margin), width: tileWidth, height: tileHeight });
  }
  return { tiles, width: margin + cols * (tileWidth + margin), height: margin + rows * (tileHeight + margin) };
}

export interface GreyGridOptions {
  /** Tiles per row (default 15, as the book's filter_show). */
  columns?: number;
  /** Pixels around and between tiles (default 3). */
  margin?: number;
  /** Each value becomes a scale x scale block (default 1). */
  scale?: number;
  /** gray_r (largest = black, default) or gray (largest = white). */
  invert?: boolean;
  /** One shared range for every tile instead of each tile's own min..max. */
  range?: { min: number; max: number };
}

/** A grid of grey tiles, each normalised on its own (or to `range`). Every tile is width x height values. */
export function greyGrid(images: ArrayLike<number>[], width: number, height: number, options: GreyGridOptions = {}): TileGrid {
  const { columns = 15, margin = 3, scale = 1, invert = true, range } = options;
  const layout = gridLayout(images.length, width * scale, height * scale, columns, margin);
  const picture = createPicture(layout.width, layout.height);
  images.forEach((values, i) => {
    const r = layout.tiles[i];
    drawGrey(picture, greyLevels(values, invert, range), width, height, r.x, r.y, scale);
  });
  return { picture, tiles: layout.tiles };
}

/** Range (min, max) of many arrays together. */
export function rangeOf(arrays: ArrayLike<number>[]): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (const a of arrays) {
    for (let i = 0; i < a.length; i++) {
      if (a[i] < min) min = a[i];
      if (a[i] > max) max = a[i];
    }
  }
  return { min, max };
}

export interface Panel {
  title: string;
  grid: TileGrid;
}

/**
 * Panels stacked top to bottom, each with a title line above it; the tiles of each panel are
 * returned in picture coordinates.
 */
export function stackPanels(panels: Panel[], options: { textScale?: number; gap?: number } = {}): { picture: RgbaImage; panels: { title: string; tiles: Rect[]; origin: { x: number; y: number } }[] } {
  const textScale = options.textScale ?? 2;
  const gap = options.gap ?? 8;
  const titleHeight = textHeight(textScale) + 6;
  const width = Math.max(...panels.map((p) => Math.max(p.grid.picture.width, textWidth(p.title, textScale) + 2 * gap)));
  const height = panels.reduce((h, p) => h + gap + titleHeight + p.grid.picture.height, gap);
  const picture = createPicture(width, height);
  const placed: { title: string; tiles: Rect[]; origin: { x: number; y: number } }[] = [];
  let y = gap;
  for (const p of panels) {
    drawText(picture, p.title, gap, y, INK, textScale);
    y += titleHeight;
    blit(picture, p.grid.picture, 0, y);
    placed.push({ title: p.title, origin: { x: 0, y }, tiles: p.grid.tiles.map((t) => ({ ...t, y: t.y + y })) });
    y += p.grid.picture.height + gap;
  }
  return { picture, panels: placed };
}
