// Image loading and the MNIST-style digit preprocessing: synthetic digits written as PNG and
// JPEG, malformed files, and real MNIST digits round-tripped through PNG.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pngjs from 'pngjs';
import jpeg from 'jpeg-js';
import { FileFormatError, ScratchnetError } from '../src/errors.js';
import { parseIdx } from '../src/data/idx.js';
import { defaultMnistDir } from '../src/data/mnist.js';
import {
  firstChannel,
  loadImage,
  resizeGray,
  toGray,
  toMnistDigit,
  type GrayImage,
  type RgbaImage,
} from '../src/data/image.js';

const { PNG } = pngjs;

const tmp = await mkdtemp(join(tmpdir(), 'scratchnet-image-'));
test.after(() => rm(tmp, { recursive: true, force: true }));

// ---- helpers ----

/** Distance from (px, py) to the segment (ax, ay)-(bx, by). */
function segmentDistance(px: number, py: number, ax: number, ay: number, bx: number, by: number): number {
  const dx = bx - ax, dy = by - ay;
  const t = Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)));
  return Math.hypot(px - (ax + t * dx), py - (ay + t * dy));
}

/**
 * A "7" drawn with a 5 px pen on a 100x60 canvas: ink coverage 0..1 per pixel, anti-aliased by
 * 4x4 supersampling. Lopsided on purpose, so centring by mass differs from centring the box.
 */
function drawSeven(width = 100, height = 60): Float32Array {
  const strokes = [
    [36, 10, 64, 10],
    [64, 10, 46, 51],
  ];
  const ink = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let hits = 0;
      for (let sy = 0; sy < 4; sy++) {
        for (let sx = 0; sx < 4; sx++) {
          const px = x + (sx + 0.5) / 4, py = y + (sy + 0.5) / 4;
          if (strokes.some(([ax, ay, bx, by]) => segmentDistance(px, py, ax, ay, bx, by) <= 2.5)) hits++;
        }
      }
      ink[y * width + x] = hits / 16;
    }
  }
  return ink;
}

/** Ink coverage -> RGBA, mixing an ink colour over a paper colour (alpha 255). */
function paint(ink: Float32Array, width: number, height: number, inkRgb: number[], paperRgb: number[]): RgbaImage {
  const data = new Uint8Array(width * height * 4);
  for (let i = 0; i < ink.length; i++) {
    for (let c = 0; c < 3; c++) data[4 * i + c] = Math.round(ink[i] * inkRgb[c] + (1 - ink[i]) * paperRgb[c]);
    data[4 * i + 3] = 255;
  }
  return { width, height, data };
}

async function writePng(name: string, img: RgbaImage, colorType: 0 | 2 | 6 = 6): Promise<string> {
  const png = new PNG({ width: img.width, height: img.height });
  png.data = Buffer.from(img.data);
  const path = join(tmp, name);
  await writeFile(path, PNG.sync.write(png, { colorType, inputColorType: 6 }));
  return path;
}

async function writeJpeg(name: string, img: RgbaImage, quality = 90): Promise<string> {
  const path = join(tmp, name);
  await writeFile(path, jpeg.encode({ width: img.width, height: img.height, data: img.data }, quality).data);
  return path;
}

const meanAbsDiff = (a: Float32Array, b: Float32Array): number =>
  a.reduce((sum, v, i) => sum + Math.abs(v - b[i]), 0) / a.length;

function centreOfMass(digit: Float32Array): [number, number] {
  let mass = 0, sx = 0, sy = 0;
  for (let y = 0; y < 28; y++) {
    for (let x = 0; x < 28; x++) {
      mass += digit[y * 28 + x];
      sx += x * digit[y * 28 + x];
      sy += y * digit[y * 28 + x];
    }
  }
  return [sx / mass, sy / mass];
}

/** Width and height of the box holding pixels above `level`. */
function inkBox(digit: Float32Array, level: number): [number, number] {
  let left = 28, right = -1, top = 28, bottom = -1;
  for (let y = 0; y < 28; y++) {
    for (let x = 0; x < 28; x++) {
      if (digit[y * 28 + x] > level) {
        left = Math.min(left, x);
        right = Math.max(right, x);
        top = Math.min(top, y);
        bottom = Math.max(bottom, y);
      }
    }
  }
  return [right - left + 1, bottom - top + 1];
}

async function rejectsWith(promise: Promise<unknown>, type: new (...args: never[]) => Error, ...parts: string[]): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof type, `expected ${type.name}, got ${String(error)}`);
    for (const part of parts) assert.ok(error.message.includes(part), `'${error.message}' lacks '${part}'`);
    assert.ok(!error.message.includes('\n'), 'message is one line');
    return true;
  });
}

const W = 100, H = 60;
const seven = drawSeven(W, H);
const BLACK = [0, 0, 0], WHITE = [255, 255, 255];

// ---- digits ----

test('a black "7" on white (PNG) becomes a centred white-on-black MNIST digit', async () => {
  const path = await writePng('seven.png', paint(seven, W, H, BLACK, WHITE));
  const img = await loadImage(path);
  assert.equal(img.width, W);
  assert.equal(img.height, H);
  assert.equal(img.data.length, W * H * 4);
  const digit = toMnistDigit(toGray(img));
  assert.equal(digit.length, 784);
  assert.equal(Math.max(...digit), 1);
  assert.ok(Math.min(...digit) >= 0, 'non-negative');
  // Background is black: most pixels, the corners and the top rows are empty. (The bottom row may
  // hold ink: a top-heavy 7 centred by mass sits low, as in MNIST.)
  assert.ok(digit.filter((v) => v < 0.01).length > 0.7 * 784, 'mostly black');
  for (const i of [0, 27, 28 * 27, 28 * 28 - 1]) assert.equal(digit[i], 0, `corner ${i}`);
  assert.ok(digit.subarray(0, 4 * 28).every((v) => v === 0), 'top rows empty');
  // The stroke's core is full white.
  assert.ok(digit.filter((v) => v > 0.9).length > 20, 'white stroke');
  const [cx, cy] = centreOfMass(digit);
  assert.ok(Math.abs(cx - 14) <= 1 && Math.abs(cy - 14) <= 1, `centre of mass (${cx}, ${cy})`);
  const [boxWidth, boxHeight] = inkBox(digit, 0.05);
  assert.ok(Math.abs(Math.max(boxWidth, boxHeight) - 20) <= 1, `ink box ${boxWidth}x${boxHeight}`);
  assert.ok(boxWidth < boxHeight, 'aspect ratio kept (the 7 is taller than wide)');
});

test('polarity, colour, transparency and JPEG give the same digit', async () => {
  const reference = toMnistDigit(toGray(await loadImage(await writePng('ref.png', paint(seven, W, H, BLACK, WHITE)))));
  const variants: [string, string][] = [
    ['white on black', await writePng('inverse.png', paint(seven, W, H, WHITE, BLACK))],
    ['greyscale PNG', await writePng('grey.png', paint(seven, W, H, BLACK, WHITE), 0)],
    ['RGB PNG', await writePng('rgb.png', paint(seven, W, H, BLACK, WHITE), 2)],
    ['navy ink on cream', await writePng('colour.png', paint(seven, W, H, [20, 30, 120], [250, 240, 200]))],
    ['pencil on grey paper', await writePng('pencil.png', paint(seven, W, H, [60, 60, 60], [200, 200, 200]))],
    ['JPEG', await writeJpeg('seven.jpg', paint(seven, W, H, BLACK, WHITE))],
  ];
  // Black ink drawn with alpha on a transparent background (a canvas export).
  const transparent = paint(seven, W, H, BLACK, BLACK);
  for (let i = 0; i < seven.length; i++) transparent.data[4 * i + 3] = Math.round(seven[i] * 255);
  variants.push(['transparent background', await writePng('alpha.png', transparent)]);
  for (const [name, path] of variants) {
    const digit = toMnistDigit(toGray(await loadImage(path)));
    const diff = meanAbsDiff(digit, reference);
    assert.ok(diff < (name === 'JPEG' ? 0.03 : 0.01), `${name}: mean abs diff ${diff}`);
  }
});

test('real MNIST test digits survive PNG -> toMnistDigit nearly unchanged', async () => {
  const file = join(defaultMnistDir(), 't10k-images-idx3-ubyte');
  const images = parseIdx(await readFile(file), file);
  for (let k = 0; k < 20; k++) {
    const pixels = images.data.subarray(k * 784, (k + 1) * 784);
    const rgba = new Uint8Array(784 * 4);
    for (let i = 0; i < 784; i++) rgba.set([pixels[i], pixels[i], pixels[i], 255], 4 * i);
    const path = await writePng(`mnist-${k}.png`, { width: 28, height: 28, data: rgba }, 0);
    const digit = toMnistDigit(toGray(await loadImage(path)));
    const original = Float32Array.from(pixels, (v) => v / 255);
    const diff = meanAbsDiff(digit, original);
    assert.ok(diff < 0.1, `test digit ${k}: mean abs diff ${diff}`);
  }
});

test('a blank image has no digit', async () => {
  const blank = paint(new Float32Array(W * H), W, H, BLACK, WHITE);
  await assert.rejects(async () => toMnistDigit(toGray(await loadImage(await writePng('blank.png', blank)))), {
    message: 'no digit found (image is blank)',
  });
  const grey = paint(new Float32Array(W * H), W, H, BLACK, [128, 128, 128]);
  assert.throws(() => toMnistDigit(toGray(grey)), /no digit found/);
  assert.throws(() => toMnistDigit({ width: 3, height: 3, data: new Float32Array(3 * 3) }), /no digit found/);
});

// ---- pure pixel functions ----

test('toGray: BT.601 luminance, alpha over white; firstChannel: red as 0..255', () => {
  const img: RgbaImage = {
    width: 4,
    height: 1,
    data: Uint8Array.from([255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 0, 0, 10, 20, 30, 255]),
  };
  const gray = toGray(img);
  assert.equal(gray.width, 4);
  assert.ok(Math.abs(gray.data[0] - 0.299) < 1e-6, 'within 1e-6');
  assert.ok(Math.abs(gray.data[1] - 0.587) < 1e-6, 'within 1e-6');
  assert.equal(gray.data[2], 1); // fully transparent -> white paper
  assert.ok(Math.abs(gray.data[3] - (0.299 * 10 + 0.587 * 20 + 0.114 * 30) / 255) < 1e-6, 'within 1e-6');
  assert.deepEqual(Array.from(firstChannel(img).data), [255, 0, 0, 10]);
});

test('resizeGray: area averaging down, bilinear up, identity at the same size', () => {
  const src: GrayImage = { width: 4, height: 2, data: Float32Array.from([0, 1, 2, 3, 4, 5, 6, 7]) };
  assert.deepEqual(Array.from(resizeGray(src, 2, 1).data), [(0 + 1 + 4 + 5) / 4, (2 + 3 + 6 + 7) / 4]);
  assert.deepEqual(Array.from(resizeGray(src, 4, 2).data), Array.from(src.data));
  // Non-integer shrink keeps the mean (each source pixel's area is shared out exactly).
  const wide: GrayImage = { width: 5, height: 1, data: Float32Array.from([1, 2, 3, 4, 5]) };
  const shrunk = resizeGray(wide, 2, 1).data;
  assert.ok(Math.abs((shrunk[0] + shrunk[1]) / 2 - 3) < 1e-6, 'within 1e-6');
  assert.ok(Math.abs(shrunk[0] - (1 + 2 + 0.5 * 3) / 2.5) < 1e-6, 'within 1e-6');
  // Bilinear up: a constant stays constant, a ramp stays monotone and inside its range.
  const up = resizeGray({ width: 2, height: 2, data: Float32Array.from([0, 1, 0, 1]) }, 4, 4).data;
  assert.deepEqual(Array.from(up.subarray(0, 4)), [0, 0.25, 0.75, 1]);
  assert.throws(() => resizeGray(src, 0, 3), /invalid size/);
});

// ---- refusals ----

test('refused: text file, empty file, truncated PNG, corrupt JPEG, missing file', async () => {
  const text = join(tmp, 'notes.png'); // the name lies; the bytes decide
  await writeFile(text, 'hello, this is not an image\n');
  await rejectsWith(loadImage(text), FileFormatError, text, 'not a PNG or JPEG image');

  const empty = join(tmp, 'empty.png');
  await writeFile(empty, new Uint8Array(0));
  await rejectsWith(loadImage(empty), FileFormatError, empty, 'empty file');

  const good = await readFile(await writePng('whole.png', paint(seven, W, H, BLACK, WHITE)));
  const truncated = join(tmp, 'truncated.png');
  await writeFile(truncated, good.subarray(0, good.length >> 1));
  await rejectsWith(loadImage(truncated), FileFormatError, truncated, 'PNG');
  const headerOnly = join(tmp, 'header-only.png');
  await writeFile(headerOnly, good.subarray(0, 20));
  await rejectsWith(loadImage(headerOnly), FileFormatError, headerOnly, 'truncated PNG');

  const jpg = await readFile(await writeJpeg('whole.jpg', paint(seven, W, H, BLACK, WHITE)));
  const cutJpeg = join(tmp, 'cut.jpg');
  await writeFile(cutJpeg, jpg.subarray(0, 40)); // ends inside the tables, before the frame header
  await rejectsWith(loadImage(cutJpeg), FileFormatError, cutJpeg, 'JPEG');
  const halfJpeg = join(tmp, 'half.jpg');
  await writeFile(halfJpeg, jpg.subarray(0, jpg.length >> 1)); // ends inside the scan data
  await rejectsWith(loadImage(halfJpeg), FileFormatError, halfJpeg, 'truncated JPEG');

  await rejectsWith(loadImage(join(tmp, 'nope.png')), ScratchnetError, join(tmp, 'nope.png'), 'no such file');
});

/** A PNG signature plus an IHDR chunk declaring the given size (no pixel data follows). */
function pngHeader(width: number, height: number): Uint8Array {
  const bytes = new Uint8Array(8 + 25);
  bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const view = new DataView(bytes.buffer);
  view.setUint32(8, 13); // IHDR data length
  bytes.set([0x49, 0x48, 0x44, 0x52], 12); // "IHDR"
  view.setUint32(16, width);
  view.setUint32(20, height);
  bytes.set([8, 6, 0, 0, 0], 24); // 8-bit RGBA, deflate, no filter, no interlace
  return bytes; // CRC left zero: the size check must come first
}

test('refused before decoding: 100000x100000 PNG, zero-size PNG, oversized JPEG', async () => {
  const huge = join(tmp, 'huge.png');
  await writeFile(huge, pngHeader(100000, 100000));
  const started = performance.now();
  await rejectsWith(loadImage(huge), FileFormatError, huge, 'image too large', '100000x100000');
  assert.ok(performance.now() - started < 500, 'refused from the header, without allocating');

  const zero = join(tmp, 'zero.png');
  await writeFile(zero, pngHeader(0, 5));
  await rejectsWith(loadImage(zero), FileFormatError, zero, 'zero-size image (0x5)');

  // Patch a real JPEG's frame header (SOF0) to claim 60000x60000 pixels.
  const jpg = Uint8Array.from(await readFile(await writeJpeg('small.jpg', paint(seven, W, H, BLACK, WHITE))));
  let sof = -1;
  for (let i = 2; i < jpg.length - 1; i++) {
    if (jpg[i] === 0xff && jpg[i + 1] === 0xc0) {
      sof = i;
      break;
    }
  }
  assert.ok(sof > 0, 'SOF0 found');
  const view = new DataView(jpg.buffer);
  assert.equal(view.getUint16(sof + 5), H);
  assert.equal(view.getUint16(sof + 7), W);
  view.setUint16(sof + 5, 60000);
  view.setUint16(sof + 7, 60000);
  const bigJpeg = join(tmp, 'big.jpg');
  await writeFile(bigJpeg, jpg);
  const jpegStarted = performance.now();
  await rejectsWith(loadImage(bigJpeg), FileFormatError, bigJpeg, 'image too large', '60000x60000');
  assert.ok(performance.now() - jpegStarted < 500, 'refused from the header');
});
