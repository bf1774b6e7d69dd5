// Images in: PNG/JPEG files -> RGBA pixels -> grey -> a 28x28 MNIST-style digit.
//
// `loadImage` is the only part that needs Node (read-file.ts takes node:fs when it runs). The
// decoders are pure (fast-png over fflate, jpeg-js), so `decodeImage` works in pages and workers
// as in Node, and `toImageData` / `fromImageData` meet a canvas.
//
// Files come from users, so sizes are checked from the header bytes before any decoder runs:
// a 100-byte PNG that claims 100000x100000 pixels must be refused, not allocated. The file
// itself is read through io/read-file.ts (regular files only, at most MAX_IMAGE_FILE_BYTES).
//
// Photos: the Exif orientation (JPEG APP1, PNG eXIf) is applied, so `decodeImage` returns the
// image upright, as a browser shows it; `toMnistDigit` estimates the paper locally, so unevenly
// lit paper is not ink; `toGray` uses alpha as ink where the colour carries no drawing.

import type { DecodedPng } from 'fast-png';
import { FileFormatError, ScratchnetError } from '../errors.js';
import { sniffFormat } from '../io/read-sniff.js';
import { applyOrientation, exifOrientation } from './exif.js';
import type { GrayImage, RgbaImage } from './pixels.js';

export type { GrayImage, RgbaImage } from './pixels.js';

/** Limits checked before decoding: 40 megapixels, and no side above 16384 pixels. */
export const MAX_IMAGE_PIXELS = 40_000_000;
export const MAX_IMAGE_SIDE = 16384;
/** Files above this size are refused before they are read. */
export const MAX_IMAGE_FILE_BYTES = 256 * 1024 * 1024;

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function startsWith(bytes: Uint8Array, magic: readonly number[]): boolean {
  return bytes.length >= magic.length && magic.every((b, i) => bytes[i] === b);
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0].trim() || 'unknown error';
}

/** PNG: the first chunk must be IHDR (PNG spec 5.6), so width and height sit at bytes 16 and 20. */
function pngSize(bytes: Uint8Array, file: string): { width: number; height: number } {
  if (bytes.length < 24) throw new FileFormatError(file, `truncated PNG (${bytes.length} bytes, no IHDR chunk)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const chunkType = String.fromCharCode(bytes[12], bytes[13], bytes[14], bytes[15]);
  if (chunkType !== 'IHDR') throw new FileFormatError(file, `corrupt PNG: first chunk is '${chunkType}', not IHDR`);
  return { width: view.getUint32(16, false), height: view.getUint32(20, false) };
}

/**
 * Walks the PNG chunks (length, type, data, CRC; PNG spec 5.3) up to IEND: a file that ends
 * inside a chunk or before IEND is "truncated PNG" here, because pngjs then says only "There are
 * some read requests waitng on finished stream". Also returns the Exif orientation of an eXIf
 * chunk (PNG 1.5 extension; orientation applies as in JPEG). One pass, no allocation.
 */
function scanPng(bytes: Uint8Array, file: string): { orientation: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  let orientation = 1;
  let sawData = false;
  let offset = 8;
  while (offset + 8 <= bytes.length) {
    const length = view.getUint32(offset, false);
    const type = String.fromCharCode(bytes[offset + 4], bytes[offset + 5], bytes[offset + 6], bytes[offset + 7]);
    const end = offset + 12 + length;
    if (end > bytes.length) {
      throw new FileFormatError(file, `truncated PNG: the file ends inside its '${type.replace(/[^\x20-\x7e]/g, '?')}' chunk (${bytes.length} bytes, the chunk needs ${end})`);
    }
    if (type === 'IEND') {
      if (!sawData) throw new FileFormatError(file, 'corrupt PNG: no image data (IDAT) before IEND');
      return { orientation };
    }
    if (type === 'IDAT') sawData = true;
    else if (type === 'eXIf' && !sawData) orientation = exifOrientation(bytes.subarray(offset + 8, offset + 8 + length));
    offset = end;
  }
  throw new FileFormatError(file, sawData ? 'truncated PNG: the image data ends without an IEND chunk' : `truncated PNG: no image data (the file ends after ${bytes.length} bytes)`);
}

/**
 * JPEG: walk the marker segments (ITU T.81 B.1.1) up to the start of scan. The first SOFn frame
 * header holds the height and width (every SOF0..SOF15 is read, except DHT C4, JPG C8, DAC CC,
 * which share the range; whether the decoder supports that coding process is its own
 * business); the first APP1 "Exif" segment holds the orientation. A file that ends before the
 * scan, or whose scan has no end-of-image marker (FF D9) after it, is "truncated JPEG": jpeg-js
 * would otherwise decode the missing part as grey or fail with an unrelated message.
 */
function scanJpeg(bytes: Uint8Array, file: string): { width: number; height: number; orientation: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  let size: { width: number; height: number } | null = null;
  let orientation = 1;
  let sawExif = false;
  let offset = 2; // after SOI (FF D8)
  while (offset < bytes.length) {
    if (bytes[offset] !== 0xff) {
      throw new FileFormatError(file, `corrupt JPEG: expected a marker at byte ${offset}`);
    }
    while (offset < bytes.length && bytes[offset] === 0xff) offset++; // fill bytes
    if (offset >= bytes.length) break;
    const marker = bytes[offset++];
    // Stand-alone markers carry no length: TEM, RSTn, SOI.
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) continue;
    if (marker === 0xd9 || (marker === 0xda && size === null)) {
      throw new FileFormatError(file, 'corrupt JPEG: no frame header (SOF) before the image data');
    }
    if (offset + 2 > bytes.length) break;
    const length = view.getUint16(offset, false); // includes the 2 length bytes
    if (length < 2) throw new FileFormatError(file, `corrupt JPEG: segment length ${length} at byte ${offset}`);
    if (offset + length > bytes.length) break;
    if (marker === 0xda) {
      // Entropy-coded data follows; a real FF D9 there is always the end (data bytes FF are
      // stuffed as FF 00). Trailing bytes after EOI (some phones append data) are allowed.
      for (let i = bytes.length - 2; i >= offset + length; i--) {
        if (bytes[i] === 0xff && bytes[i + 1] === 0xd9) return { ...(size as { width: number; height: number }), orientation };
      }
      throw new FileFormatError(file, `truncated JPEG: the image data has no end-of-image marker (the file ends after ${bytes.length} bytes)`);
    }
    const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isFrame && size === null) {
      if (length < 7) throw new FileFormatError(file, `corrupt JPEG: frame header of ${length} bytes`);
      // Frame header: length(2) precision(1) height(2) width(2) ...
      size = { height: view.getUint16(offset + 3, false), width: view.getUint16(offset + 5, false) };
      checkSize(size.width, size.height, file); // refuse a huge frame before reading further
    } else if (marker === 0xe1 && !sawExif && length >= 8 && bytes[offset + 2] === 0x45 && bytes[offset + 3] === 0x78 && bytes[offset + 4] === 0x69 && bytes[offset + 5] === 0x66) {
      sawExif = true; // "Exif": only the first such segment counts (later ones are often thumbnails' or XMP)
      orientation = exifOrientation(bytes.subarray(offset + 2, offset + length));
    }
    offset += length;
  }
  throw new FileFormatError(file, size === null ? 'truncated JPEG: no frame header (SOF) found' : `truncated JPEG: the file ends before the image data (${bytes.length} bytes)`);
}

function checkSize(width: number, height: number, file: string): void {
  if (width === 0 || height === 0) throw new FileFormatError(file, `zero-size image (${width}x${height})`);
  if (width > MAX_IMAGE_SIDE || height > MAX_IMAGE_SIDE || width * height > MAX_IMAGE_PIXELS) {
    throw new FileFormatError(
      file,
      `image too large: ${width}x${height} pixels (limit ${MAX_IMAGE_PIXELS / 1e6} megapixels, ${MAX_IMAGE_SIDE} per side)`,
    );
  }
}

/**
 * Reads a PNG or JPEG file (recognised by its magic bytes, not its name) as upright RGBA pixels.
 * Only regular files of at most MAX_IMAGE_FILE_BYTES are read: /dev/zero, a FIFO, a folder (or a
 * link to one) is refused in one line, in milliseconds.
 */
export async function loadImage(path: string): Promise<RgbaImage> {
  // Dynamic: read-file.ts needs node:fs, and this module's pure functions must bundle for browsers.
  const { readFileBounded } = await import('../io/read-file.js');
  const bytes = await readFileBounded(path, { maxBytes: MAX_IMAGE_FILE_BYTES, what: 'an image (PNG or JPEG)' });
  return decodeImage(bytes, path);
}

/** Decodes PNG or JPEG bytes held in memory; `file` names them in error messages. */
export async function decodeImage(bytes: Uint8Array, file: string): Promise<RgbaImage> {
  if (bytes.length === 0) throw new FileFormatError(file, 'empty file');
  if (startsWith(bytes, PNG_SIGNATURE)) {
    const { width, height } = pngSize(bytes, file);
    checkSize(width, height, file);
    const { orientation } = scanPng(bytes, file);
    // Loaded on first use (like jpeg-js): pure, but no module should pull in a decoder it never calls.
    const { decode: decodePng } = await import('fast-png');
    let image: RgbaImage;
    try {
      image = pngToRgba(decodePng(bytes));
    } catch (error) {
      // fflate's word for compressed data that stops early (the chunks were whole).
      const why = firstLine(error) + ' ' + firstLine((error as { cause?: unknown }).cause ?? '');
      if (/unexpected EOF|end of (file|data)/i.test(why)) throw new FileFormatError(file, 'truncated PNG: the compressed image data ends early');
      throw new FileFormatError(file, `corrupt PNG: ${why.trim()}`);
    }
    return applyOrientation(image, orientation);
  }
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) {
    const { orientation } = scanJpeg(bytes, file); // checks the frame size before the decoder runs
    const jpeg = (await import('jpeg-js')).default;
    try {
      const image = jpeg.decode(bytes, {
        useTArray: true,
        formatAsRGBA: true,
        maxResolutionInMP: MAX_IMAGE_PIXELS / 1e6,
        maxMemoryUsageInMB: 1024,
      });
      return applyOrientation({ width: image.width, height: image.height, data: image.data }, orientation);
    } catch (error) {
      throw new FileFormatError(file, `corrupt JPEG: ${firstLine(error)}`);
    }
  }
  const kind = sniffFormat(bytes.subarray(0, 512));
  if (kind === null || kind === 'a text file') throw new FileFormatError(file, 'not a PNG or JPEG image');
  const convert = / image/.test(kind) ? ' (convert it to PNG or JPEG first)' : '';
  throw new FileFormatError(file, `is ${kind}, not a PNG or JPEG image${convert}`);
}

/**
 * fast-png's samples (1-16 bits, grey / grey+alpha / RGB / RGBA / palette; rows of sub-byte
 * samples stay packed) -> 8-bit RGBA, with tRNS transparency applied as a browser does.
 */
function pngToRgba(png: DecodedPng): RgbaImage {
  const { width, height, depth, channels, palette } = png;
  const src = png.data;
  const out = new Uint8Array(width * height * 4);
  const rowSamples = width * channels;
  const rowBytes = depth < 8 ? Math.ceil((rowSamples * depth) / 8) : rowSamples;
  const max = 2 ** depth - 1;
  const sample = (y: number, i: number): number =>
    depth < 8 ? (src[y * rowBytes + ((i * depth) >> 3)] >> (8 - depth - ((i * depth) & 7))) & max : src[y * rowSamples + i];
  const to8 = (v: number): number => (depth === 8 ? v : Math.round((v * 255) / max)); // 16 bit: v / 257, as pngjs and browsers
  const key = palette ? undefined : png.transparency; // the one fully transparent colour, in sample units
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 4;
      const i = x * channels;
      if (palette) {
        const c = palette[sample(y, i)] ?? [0, 0, 0];
        out[o] = c[0]; out[o + 1] = c[1]; out[o + 2] = c[2]; out[o + 3] = c[3] ?? 255;
      } else if (channels <= 2) {
        const g = sample(y, i);
        out[o] = out[o + 1] = out[o + 2] = to8(g);
        out[o + 3] = channels === 2 ? to8(sample(y, i + 1)) : key && key.length >= 1 && key[0] === g ? 0 : 255;
      } else {
        const r = sample(y, i), g = sample(y, i + 1), b = sample(y, i + 2);
        out[o] = to8(r); out[o + 1] = to8(g); out[o + 2] = to8(b);
        out[o + 3] = channels === 4 ? to8(sample(y, i + 3)) : key && key.length >= 3 && key[0] === r && key[1] === g && key[2] === b ? 0 : 255;
      }
    }
  }
  return { width, height, data: out };
}

/** The DOM's `ImageData`, structurally (this library compiles without the DOM types); a value of
 *  this type is assignable to `ImageData` for `putImageData`. */
export interface CanvasImageData {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8ClampedArray<ArrayBuffer>;
  readonly colorSpace: 'srgb' | 'display-p3';
}

/** RGBA pixels -> a canvas `ImageData` (a copy: ImageData may not view a shared or wasm buffer). */
export function toImageData(image: RgbaImage): CanvasImageData {
  const data = new Uint8ClampedArray(image.data);
  const Ctor = (globalThis as { ImageData?: new (d: Uint8ClampedArray<ArrayBuffer>, w: number, h: number) => CanvasImageData }).ImageData;
  if (Ctor) return new Ctor(data, image.width, image.height);
  return { width: image.width, height: image.height, data, colorSpace: 'srgb' }; // Node: the same shape
}

/** A canvas `ImageData` (or anything shaped like it) -> RGBA pixels, e.g. for `toMnistDigit`. */
export function fromImageData(imageData: { width: number; height: number; data: Uint8ClampedArray | Uint8Array }): RgbaImage {
  const { data } = imageData;
  return { width: imageData.width, height: imageData.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}

// ---- pure functions (no Node APIs) ----

/**
 * RGBA -> grey in 0..1 (1 = white): ITU-R BT.601 luminance 0.299 R + 0.587 G + 0.114 B,
 * alpha composited over white, because a drawing with a transparent background (a canvas export)
 * means ink on blank paper.
 *
 * Except where the colour says nothing: if alpha varies (some pixels see-through, some opaque)
 * but every visible pixel has about the same colour, the drawing is in the alpha channel alone
 * (white ink on a transparent PNG composited over white was all white: "blank"). Then
 * grey = 1 - alpha: opaque is ink, transparent is paper, whatever the ink's colour. For black
 * ink this is exactly the composite over white, so those images do not change.
 */
export function toGray(img: RgbaImage): GrayImage {
  const count = img.width * img.height;
  const out = new Float32Array(count);
  if (alphaCarriesTheDrawing(img)) {
    for (let i = 0; i < count; i++) out[i] = 1 - img.data[4 * i + 3] / 255;
    return { width: img.width, height: img.height, data: out };
  }
  for (let i = 0; i < count; i++) {
    const r = img.data[4 * i];
    const g = img.data[4 * i + 1];
    const b = img.data[4 * i + 2];
    const alpha = img.data[4 * i + 3] / 255;
    const luminance = (0.299 * r + 0.587 * g + 0.114 * b) / 255;
    out[i] = luminance * alpha + (1 - alpha);
  }
  return { width: img.width, height: img.height, data: out };
}

/**
 * True when alpha spans see-through to opaque and the visible colour is uniform: each of R, G, B,
 * over the pixels weighted by their alpha, has a standard deviation below 0.1 (anti-aliased edges
 * of a one-colour drawing stay well under it: measured 0.000 for a white 7 with 4x4 supersampled
 * alpha; a photo or a coloured logo is far above). Per channel, not luminance: red and blue
 * strokes have nearly the same luminance but plainly say something.
 */
function alphaCarriesTheDrawing(img: RgbaImage): boolean {
  const count = img.width * img.height;
  let minAlpha = 255, maxAlpha = 0;
  let weight = 0;
  const sum = [0, 0, 0], sumSquares = [0, 0, 0];
  for (let i = 0; i < count; i++) {
    const a = img.data[4 * i + 3];
    if (a < minAlpha) minAlpha = a;
    if (a > maxAlpha) maxAlpha = a;
    if (a === 0) continue;
    const w = a / 255;
    weight += w;
    for (let c = 0; c < 3; c++) {
      const v = img.data[4 * i + c] / 255;
      sum[c] += w * v;
      sumSquares[c] += w * v * v;
    }
  }
  if (minAlpha > 64 || maxAlpha < 192 || weight === 0) return false;
  for (let c = 0; c < 3; c++) {
    const mean = sum[c] / weight;
    if (Math.sqrt(Math.max(0, sumSquares[c] / weight - mean * mean)) >= 0.1) return false;
  }
  return true;
}

/** The red channel as 0..255 floats: the reference code's `img[:, :, 0:1]`. */
export function firstChannel(img: RgbaImage): GrayImage {
  const count = img.width * img.height;
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = img.data[4 * i];
  return { width: img.width, height: img.height, data: out };
}

/**
 * For each output index along one axis, the source indices and weights that make it.
 * Shrinking: area averaging (each output pixel is the mean of the source area it covers), which
 * is what keeps thin strokes from vanishing or aliasing. Growing: bilinear with pixel centres at
 * i + 0.5 (the OpenCV / Pillow convention), so the image does not shift.
 */
function axisWeights(srcLength: number, dstLength: number): { index: number[]; weight: number[] }[] {
  const taps: { index: number[]; weight: number[] }[] = [];
  const scale = srcLength / dstLength;
  for (let i = 0; i < dstLength; i++) {
    const index: number[] = [];
    const weight: number[] = [];
    if (dstLength < srcLength) {
      const start = i * scale;
      const end = (i + 1) * scale;
      for (let j = Math.floor(start); j < Math.min(Math.ceil(end), srcLength); j++) {
        const overlap = Math.min(j + 1, end) - Math.max(j, start);
        if (overlap > 0) {
          index.push(j);
          weight.push(overlap / scale);
        }
      }
    } else {
      const x = Math.min(Math.max((i + 0.5) * scale - 0.5, 0), srcLength - 1);
      const j0 = Math.floor(x);
      const j1 = Math.min(j0 + 1, srcLength - 1);
      const f = x - j0;
      index.push(j0, j1);
      weight.push(1 - f, f);
    }
    taps.push({ index, weight });
  }
  return taps;
}

/** Resizes a grey image: area averaging along an axis that shrinks, bilinear along one that grows. */
export function resizeGray(gray: GrayImage, width: number, height: number): GrayImage {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new ScratchnetError(`resizeGray: invalid size ${width}x${height}`);
  }
  const { width: srcWidth, height: srcHeight, data: src } = gray;
  // Separable: rows first (srcHeight x width), then columns (height x width).
  const columnTaps = axisWeights(srcWidth, width);
  const rowPass = new Float32Array(srcHeight * width);
  for (let y = 0; y < srcHeight; y++) {
    for (let x = 0; x < width; x++) {
      const { index, weight } = columnTaps[x];
      let sum = 0;
      for (let k = 0; k < index.length; k++) sum += weight[k] * src[y * srcWidth + index[k]];
      rowPass[y * width + x] = sum;
    }
  }
  const rowTaps = axisWeights(srcHeight, height);
  const out = new Float32Array(height * width);
  for (let y = 0; y < height; y++) {
    const { index, weight } = rowTaps[y];
    for (let x = 0; x < width; x++) {
      let sum = 0;
      for (let k = 0; k < index.length; k++) sum += weight[k] * rowPass[index[k] * width + x];
      out[y * width + x] = sum;
    }
  }
  return { width, height, data: out };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Sliding max (or min) over a window of 2 * radius + 1 along rows (step 1) or columns. */
function slidingExtreme(src: Float32Array, width: number, height: number, radius: number, alongRows: boolean, takeMax: boolean): Float32Array {
  const out = new Float32Array(src.length);
  const lines = alongRows ? height : width;
  const length = alongRows ? width : height;
  const step = alongRows ? 1 : width;
  for (let line = 0; line < lines; line++) {
    const base = alongRows ? line * width : line;
    for (let i = 0; i < length; i++) {
      let best = src[base + i * step];
      const from = Math.max(0, i - radius), to = Math.min(length - 1, i + radius);
      for (let j = from; j <= to; j++) {
        const v = src[base + j * step];
        if (takeMax ? v > best : v < best) best = v;
      }
      out[base + i * step] = best;
    }
  }
  return out;
}

/** Mean over a (2 * radius + 1)^2 square (clipped at the edges), separable, with running sums. */
function boxBlur(src: Float32Array, width: number, height: number, radius: number): Float32Array {
  const blurLine = (input: Float32Array, lines: number, length: number, step: number, lineStep: number): Float32Array => {
    const out = new Float32Array(input.length);
    for (let line = 0; line < lines; line++) {
      const base = line * lineStep;
      let sum = 0, count = 0;
      for (let j = 0; j < Math.min(radius, length); j++) {
        sum += input[base + j * step];
        count++;
      }
      for (let i = 0; i < length; i++) {
        const add = i + radius, drop = i - radius - 1;
        if (add < length) {
          sum += input[base + add * step];
          count++;
        }
        if (drop >= 0) {
          sum -= input[base + drop * step];
          count--;
        }
        out[base + i * step] = sum / count;
      }
    }
    return out;
  };
  return blurLine(blurLine(src, height, width, 1, width), width, height, width, 1);
}

/**
 * The paper's level at every pixel: a morphological closing (max filter, then min filter; for
 * light ink on dark, an opening) with a square window about half the image's shorter side,
 * which removes every stroke (a stroke never contains such a square) and follows the lighting:
 * on a linear gradient a closing is exact (the max shifts it by +radius, the min back).
 * Computed on a copy at most 256 pixels a side (area-averaged; at most 256 x 256 x 129 x 4
 * comparisons, ~40 ms) and scaled back bilinearly, so a 40-megapixel photo costs no more.
 */
function localBackground(gray: GrayImage, paperIsLight: boolean): Float32Array {
  const { width, height } = gray;
  const shrink = Math.min(1, 256 / Math.max(width, height));
  const small = shrink < 1 ? resizeGray(gray, Math.max(1, Math.round(width * shrink)), Math.max(1, Math.round(height * shrink))) : gray;
  // Blur first: a max filter of raw pixels picks the noise's peaks, so the paper came out ~3
  // sigma too bright; where light is dim (paper at 0.17) that made the whole dark band read as
  // 15% ink. A box mean over ~1/40 of the side cuts sigma ~7x (measured: the band's ink 0.15 ->
  // 0.02 on test/fixtures/photos/seven-uneven-light.jpg). Strokes survive it: they only widen.
  const blurRadius = Math.max(1, Math.round(Math.min(small.width, small.height) / 40));
  const radius = Math.max(1, Math.round(Math.min(small.width, small.height) / 4));
  const pass = (src: Float32Array, takeMax: boolean): Float32Array =>
    slidingExtreme(slidingExtreme(src, small.width, small.height, radius, true, takeMax), small.width, small.height, radius, false, takeMax);
  const first = pass(boxBlur(small.data, small.width, small.height, blurRadius), paperIsLight);
  const level = pass(first, !paperIsLight);
  if (small === gray) return level;
  return resizeGray({ width: small.width, height: small.height, data: level }, width, height).data;
}

/** Side of the MNIST canvas, and of the box the digit is scaled into (LeCun et al.'s description). */
const CANVAS = 28;
const BOX = 20;

/**
 * A grey image of one digit (any size, 0..1, either polarity) -> 784 floats laid out like an
 * MNIST sample: white digit on black, scaled so its longest side is 20 px (aspect kept), placed
 * in a 28x28 field with its centre of mass at pixel (14, 14), maximum 1.
 */
export function toMnistDigit(gray: GrayImage): Float32Array {
  const { width, height } = gray;
  if (width < 1 || height < 1 || gray.data.length !== width * height) {
    throw new ScratchnetError(`toMnistDigit: ${width}x${height} image with ${gray.data.length} values`);
  }
  // Polarity from the border: it is paper. Dark ink on light paper has a border brighter than
  // the middle of the image's range: invert. (The middle of the range, not 0.5: under uneven
  // light the paper's mean can fall below 0.5 while it stays brighter than the ink.)
  let borderSum = 0, borderCount = 0, lo = Infinity, hi = -Infinity;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = gray.data[y * width + x];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
      if (y === 0 || y === height - 1 || x === 0 || x === width - 1) {
        borderSum += v;
        borderCount++;
      }
    }
  }
  const invert = borderSum / borderCount > (lo + hi) / 2 && hi - lo > 1e-6;
  // Ink relative to the paper around it, not to one global level: a darker band of paper must
  // not count as ink (issue 13, item 10: a 7 under uneven light was predicted 9).
  const paper = localBackground(gray, invert);
  const ink = new Float32Array(width * height);
  for (let i = 0; i < ink.length; i++) {
    // Dark ink: light is multiplied by the paper's and the ink's reflectance, so divide by the
    // local paper level (uniform white paper: 1 - grey, as before). Light ink on a dark field
    // (a screen, MNIST itself): subtract the local dark level.
    ink[i] = invert ? (paper[i] > 1e-3 ? Math.max(0, 1 - gray.data[i] / paper[i]) : 0) : Math.max(0, gray.data[i] - paper[i]);
  }
  // Subtract what is left of the background along the border (noise, JPEG ringing, a smudge).
  const border: number[] = [];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (y === 0 || y === height - 1 || x === 0 || x === width - 1) border.push(ink[y * width + x]);
    }
  }
  const background = median(border);
  let max = 0;
  for (let i = 0; i < ink.length; i++) {
    ink[i] = Math.max(0, ink[i] - background);
    if (ink[i] > max) max = ink[i];
  }
  // Ink that is under 5% of the paper's level (or a 0.05 step on a dark field) is no digit.
  if (max < 0.05) throw new ScratchnetError('no digit found (image is blank)');

  // Bounding box of the ink; 10% of the maximum ignores faint noise and JPEG ringing. A pixel
  // also needs ink around it (its 3x3 mean above that level too), so noisy pixels (in a
  // photo's shadow, noise is large against the dim paper) do not stretch the box; a
  // stroke's edge pixels have neighbours, so clean images get the box they always had (taking
  // the box on the 3x3 mean itself grew it by a pixel: JPEG digits moved 0.05 from PNG ones).
  const smoothed = boxBlur(ink, width, height, 1);
  const level = 0.1 * max;
  let left = width, right = -1, top = height, bottom = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (ink[y * width + x] > level && smoothed[y * width + x] > level) {
        left = Math.min(left, x);
        right = Math.max(right, x);
        top = Math.min(top, y);
        bottom = Math.max(bottom, y);
      }
    }
  }
  const cropWidth = right - left + 1;
  const cropHeight = bottom - top + 1;
  const crop = new Float32Array(cropWidth * cropHeight);
  for (let y = 0; y < cropHeight; y++) {
    crop.set(ink.subarray((top + y) * width + left, (top + y) * width + left + cropWidth), y * cropWidth);
  }

  // Longest side -> 20 px, aspect ratio kept (a "1" stays thin).
  const scale = BOX / Math.max(cropWidth, cropHeight);
  const boxWidth = Math.max(1, Math.min(BOX, Math.round(cropWidth * scale)));
  const boxHeight = Math.max(1, Math.min(BOX, Math.round(cropHeight * scale)));
  const digit = resizeGray({ width: cropWidth, height: cropHeight, data: crop }, boxWidth, boxHeight);

  // Centre of mass in pixel-index coordinates; MNIST's sits at (14, 14) on average (measured on
  // t10k: 14.01, 13.99). Whole-pixel shift keeps strokes sharp; clamping keeps the digit inside.
  let mass = 0, sumX = 0, sumY = 0;
  for (let y = 0; y < boxHeight; y++) {
    for (let x = 0; x < boxWidth; x++) {
      const v = digit.data[y * boxWidth + x];
      mass += v;
      sumX += v * x;
      sumY += v * y;
    }
  }
  const clamp = (v: number, hi: number): number => Math.min(Math.max(v, 0), hi);
  const offsetX = clamp(Math.round(CANVAS / 2 - sumX / mass), CANVAS - boxWidth);
  const offsetY = clamp(Math.round(CANVAS / 2 - sumY / mass), CANVAS - boxHeight);

  const out = new Float32Array(CANVAS * CANVAS);
  let outMax = 0;
  for (let y = 0; y < boxHeight; y++) {
    for (let x = 0; x < boxWidth; x++) {
      const v = digit.data[y * boxWidth + x];
      out[(y + offsetY) * CANVAS + x + offsetX] = v;
      if (v > outMax) outMax = v;
    }
  }
  for (let i = 0; i < out.length; i++) out[i] /= outMax;
  return out;
}
