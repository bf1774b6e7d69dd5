// Images in: PNG/JPEG files -> RGBA pixels -> grey -> a 28x28 MNIST-style digit.
//
// `loadImage` is the only part that needs Node; it loads `node:fs`, `pngjs` and `jpeg-js` with
// dynamic imports, so a browser bundle can import this module for the pure functions below
// (`toGray`, `firstChannel`, `resizeGray`, `toMnistDigit`) and feed them canvas ImageData.
//
// Files come from users, so sizes are checked from the header bytes before any decoder runs:
// a 100-byte PNG that claims 100000x100000 pixels must be refused, not allocated.

import { FileFormatError, ScratchnetError } from '../errors.js';

/** 8-bit RGBA pixels, row-major, 4 bytes per pixel (the layout of canvas ImageData). */
export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** One float per pixel, row-major. */
export interface GrayImage {
  width: number;
  height: number;
  data: Float32Array;
}

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
 * JPEG: walk the marker segments (ITU T.81 B.1.1) up to the first SOFn frame header, which holds
 * the height and width. Every SOF0..SOF15 is read (except DHT C4, JPG C8, DAC CC, which share the
 * range); whether the decoder supports that coding process is its own business.
 */
function jpegSize(bytes: Uint8Array, file: string): { width: number; height: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
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
    if (marker === 0xd9 || marker === 0xda) {
      throw new FileFormatError(file, 'corrupt JPEG: no frame header (SOF) before the image data');
    }
    if (offset + 2 > bytes.length) break;
    const length = view.getUint16(offset, false); // includes the 2 length bytes
    if (length < 2) throw new FileFormatError(file, `corrupt JPEG: segment length ${length} at byte ${offset}`);
    const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isFrame) {
      if (offset + 7 > bytes.length) break;
      // Frame header: length(2) precision(1) height(2) width(2) ...
      return { height: view.getUint16(offset + 3, false), width: view.getUint16(offset + 5, false) };
    }
    offset += length;
  }
  throw new FileFormatError(file, 'truncated JPEG: no frame header (SOF) found');
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

/** Reads a PNG or JPEG file (recognised by its magic bytes, not its name) as RGBA pixels. */
export async function loadImage(path: string): Promise<RgbaImage> {
  const { readFile, stat } = await import('node:fs/promises');
  let bytes: Uint8Array;
  try {
    const info = await stat(path);
    if (info.isFile() && info.size > MAX_IMAGE_FILE_BYTES) {
      throw new FileFormatError(path, `file too large for an image (${info.size} bytes)`);
    }
    bytes = await readFile(path);
  } catch (error) {
    if (error instanceof ScratchnetError) throw error;
    const code = (error as { code?: string }).code;
    throw new ScratchnetError(code === 'ENOENT' ? `${path}: file not found` : `${path}: ${firstLine(error)}`);
  }
  return decodeImage(bytes, path);
}

/** Decodes PNG or JPEG bytes held in memory; `file` names them in error messages. */
export async function decodeImage(bytes: Uint8Array, file: string): Promise<RgbaImage> {
  if (bytes.length === 0) throw new FileFormatError(file, 'empty file');
  if (startsWith(bytes, PNG_SIGNATURE)) {
    const { width, height } = pngSize(bytes, file);
    checkSize(width, height, file);
    const { PNG } = (await import('pngjs')).default;
    try {
      // pngjs expands palette, grey and 16-bit images to 8-bit RGBA.
      const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length));
      return { width: png.width, height: png.height, data: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.length) };
    } catch (error) {
      throw new FileFormatError(file, `corrupt PNG: ${firstLine(error)}`);
    }
  }
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) {
    const { width, height } = jpegSize(bytes, file);
    checkSize(width, height, file);
    const jpeg = (await import('jpeg-js')).default;
    try {
      const image = jpeg.decode(bytes, {
        useTArray: true,
        formatAsRGBA: true,
        maxResolutionInMP: MAX_IMAGE_PIXELS / 1e6,
        maxMemoryUsageInMB: 1024,
      });
      return { width: image.width, height: image.height, data: image.data };
    } catch (error) {
      throw new FileFormatError(file, `corrupt JPEG: ${firstLine(error)}`);
    }
  }
  throw new FileFormatError(file, 'not a PNG or JPEG image');
}

// ---- pure functions (no Node APIs) ----

/**
 * RGBA -> grey in 0..1 (1 = white): ITU-R BT.601 luminance 0.299 R + 0.587 G + 0.114 B,
 * alpha composited over white, because a drawing with a transparent background (a canvas export)
 * means ink on blank paper.
 */
export function toGray(img: RgbaImage): GrayImage {
  const count = img.width * img.height;
  const out = new Float32Array(count);
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
  // Background = what the border shows. Dark ink on light paper has a bright border: invert.
  const border: number[] = [];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (y === 0 || y === height - 1 || x === 0 || x === width - 1) border.push(gray.data[y * width + x]);
    }
  }
  const invert = border.reduce((a, b) => a + b, 0) / border.length > 0.5;
  const ink = new Float32Array(width * height);
  for (let i = 0; i < ink.length; i++) ink[i] = invert ? 1 - gray.data[i] : gray.data[i];
  // Subtract the background level (grey paper, a dim screen photo) so it does not count as ink.
  const background = median(invert ? border.map((v) => 1 - v) : border);
  let max = 0;
  for (let i = 0; i < ink.length; i++) {
    ink[i] = Math.max(0, ink[i] - background);
    if (ink[i] > max) max = ink[i];
  }
  if (max < 0.05) throw new ScratchnetError('no digit found (image is blank)');

  // Bounding box of the ink; 10% of the maximum ignores faint noise and JPEG ringing.
  const level = 0.1 * max;
  let left = width, right = -1, top = height, bottom = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (ink[y * width + x] > level) {
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
