// A tiny built-in 5x7 bitmap font, so pictures can carry labels (layer names, true/predicted
// digits) without a font file or a text renderer: pure pixels, the same in Node and a browser.
// Upper case, digits and common punctuation; lower case letters are drawn as capitals and any
// other character as '?'. Each glyph is 7 rows of 5 pixels ('#' = ink), one cell is 6x8 with
// the spacing.

import type { RgbaImage } from '../data/image.js';

const GLYPHS: Record<string, string> = {
  ' ': '..... ..... ..... ..... ..... ..... .....',
  A: '.###. #...# #...# ##### #...# #...# #...#',
  B: '####. #...# #...# ####. #...# #...# ####.',
  C: '.###. #...# #.... #.... #.... #...# .###.',
  D: '####. #...# #...# #...# #...# #...# ####.',
  E: '##### #.... #.... ####. #.... #.... #####',
  F: '##### #.... #.... ####. #.... #.... #....',
  G: '.###. #...# #.... #.### #...# #...# .####',
  H: '#...# #...# #...# ##### #...# #...# #...#',
  I: '.###. ..#.. ..#.. ..#.. ..#.. ..#.. .###.',
  J: '..### ...#. ...#. ...#. ...#. #..#. .##..',
  K: '#...# #..#. #.#.. ##... #.#.. #..#. #...#',
  L: '#.... #.... #.... #.... #.... #.... #####',
  M: '#...# ##.## #.#.# #.#.# #...# #...# #...#',
  N: '#...# #...# ##..# #.#.# #..## #...# #...#',
  O: '.###. #...# #...# #...# #...# #...# .###.',
  P: '####. #...# #...# ####. #.... #.... #....',
  Q: '.###. #...# #...# #...# #.#.# #..#. .##.#',
  R: '####. #...# #...# ####. #.#.. #..#. #...#',
  S: '.#### #.... #.... .###. ....# ....# ####.',
  T: '##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#..',
  U: '#...# #...# #...# #...# #...# #...# .###.',
  V: '#...# #...# #...# #...# #...# .#.#. ..#..',
  W: '#...# #...# #...# #.#.# #.#.# #.#.# .#.#.',
  X: '#...# #...# .#.#. ..#.. .#.#. #...# #...#',
  Y: '#...# #...# .#.#. ..#.. ..#.. ..#.. ..#..',
  Z: '##### ....# ...#. ..#.. .#... #.... #####',
  '0': '.###. #...# #..## #.#.# ##..# #...# .###.',
  '1': '..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###.',
  '2': '.###. #...# ....# ...#. ..#.. .#... #####',
  '3': '##### ...#. ..#.. ...#. ....# #...# .###.',
  '4': '...#. ..##. .#.#. #..#. ##### ...#. ...#.',
  '5': '##### #.... ####. ....# ....# #...# .###.',
  '6': '..##. .#... #.... ####. #...# #...# .###.',
  '7': '##### ....# ...#. ..#.. .#... .#... .#...',
  '8': '.###. #...# #...# .###. #...# #...# .###.',
  '9': '.###. #...# #...# .#### ....# ...#. .##..',
  '.': '..... ..... ..... ..... ..... .##.. .##..',
  ',': '..... ..... ..... ..... .##.. ..#.. .#...',
  ':': '..... .##.. .##.. ..... .##.. .##.. .....',
  ';': '..... .##.. .##.. ..... .##.. ..#.. .#...',
  '-': '..... ..... ..... ##### ..... ..... .....',
  '+': '..... ..#.. ..#.. ##### ..#.. ..#.. .....',
  '=': '..... ..... ##### ..... ##### ..... .....',
  '_': '..... ..... ..... ..... ..... ..... #####',
  '/': '..... ....# ...#. ..#.. .#... #.... .....',
  '\\': '..... #.... .#... ..#.. ...#. ....# .....',
  '%': '##... ##..# ...#. ..#.. .#... #..## ...##',
  '(': '...#. ..#.. .#... .#... .#... ..#.. ...#.',
  ')': '.#... ..#.. ...#. ...#. ...#. ..#.. .#...',
  '[': '.###. .#... .#... .#... .#... .#... .###.',
  ']': '.###. ...#. ...#. ...#. ...#. ...#. .###.',
  '<': '...#. ..#.. .#... #.... .#... ..#.. ...#.',
  '>': '.#... ..#.. ...#. ....# ...#. ..#.. .#...',
  '!': '..#.. ..#.. ..#.. ..#.. ..#.. ..... ..#..',
  '?': '.###. #...# ....# ...#. ..#.. ..... ..#..',
  "'": '..#.. ..#.. .#... ..... ..... ..... .....',
  '"': '.#.#. .#.#. ..... ..... ..... ..... .....',
  '*': '..... ..#.. #.#.# .###. #.#.# ..#.. .....',
  '#': '.#.#. .#.#. ##### .#.#. ##### .#.#. .#.#.',
  x: '..... ..... #...# .#.#. ..#.. .#.#. #...#',
};

export const GLYPH_WIDTH = 5;
export const GLYPH_HEIGHT = 7;
/** Horizontal advance and line height, in font pixels (before scaling). */
export const CELL_WIDTH = 6;
export const CELL_HEIGHT = 8;

const BITMAPS = new Map<string, Uint8Array>();
for (const [ch, rows] of Object.entries(GLYPHS)) {
  const bits = new Uint8Array(GLYPH_WIDTH * GLYPH_HEIGHT);
  rows.split(' ').forEach((row, y) => {
    for (let x = 0; x < GLYPH_WIDTH; x++) bits[y * GLYPH_WIDTH + x] = row[x] === '#' ? 1 : 0;
  });
  BITMAPS.set(ch, bits);
}

function glyph(ch: string): Uint8Array {
  return BITMAPS.get(ch) ?? BITMAPS.get(ch.toUpperCase()) ?? BITMAPS.get('?')!;
}

/** Width in pixels of `text` drawn at `scale` (no trailing space). */
export function textWidth(text: string, scale = 1): number {
  return text.length === 0 ? 0 : (text.length * CELL_WIDTH - 1) * scale;
}

/** Height in pixels of one line at `scale`. */
export function textHeight(scale = 1): number {
  return GLYPH_HEIGHT * scale;
}

/** Draws `text` with its top-left corner at (x, y); pixels outside the picture are clipped. */
export function drawText(picture: RgbaImage, text: string, x: number, y: number, color: readonly [number, number, number], scale = 1): void {
  const { width, height, data } = picture;
  for (let c = 0; c < text.length; c++) {
    const bits = glyph(text[c]);
    const left = x + c * CELL_WIDTH * scale;
    for (let gy = 0; gy < GLYPH_HEIGHT; gy++) {
      for (let gx = 0; gx < GLYPH_WIDTH; gx++) {
        if (!bits[gy * GLYPH_WIDTH + gx]) continue;
        for (let sy = 0; sy < scale; sy++) {
          const py = y + gy * scale + sy;
          if (py < 0 || py >= height) continue;
          for (let sx = 0; sx < scale; sx++) {
            const px = left + gx * scale + sx;
            if (px < 0 || px >= width) continue;
            const o = 4 * (py * width + px);
            data[o] = color[0];
            data[o + 1] = color[1];
            data[o + 2] = color[2];
            data[o + 3] = 255;
          }
        }
      }
    }
  }
}
