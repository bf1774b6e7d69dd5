// Generates test/fixtures/photos/: digits as a phone or a drawing app delivers them (issue 13,
// item 10), drawn here, never downloaded. Deterministic (a seeded LCG, jpeg-js and pngjs
// encoders), so test/image.test.ts checks that this script still makes exactly these bytes.
//
//   npx tsx scripts/make-photo-fixtures.ts        (writes the files)
//
// - seven-clean.png: the reference, a black 7 (14 px pen) on white paper, 120x160, upright.
// - seven-exif-<o>.jpg, o = 1..8: the same 7 photographed on off-white paper with sensor noise,
//   stored the way a camera with orientation o stores it (pixels turned/mirrored), and an Exif
//   APP1 segment (built here: IFD0 with Make, Model, Orientation, resolution, an Exif sub-IFD)
//   that says how to turn it back. Byte order alternates: Intel (II) for odd o, Motorola (MM,
//   what iPhones write) for even o. There is no JFIF APP0, as in phone JPEGs.
// - seven-exif-6.png: orientation 6 in a PNG eXIf chunk.
// - seven-uneven-light.jpg: the 7 under light falling off to 20% across the right part of the
//   page (a phone's shadow): the dark paper (0.17) is darker than the ink on the lit side
//   (0.20), so no global threshold separates ink from paper.
// - seven-white-on-transparent.png: a white 7 whose coverage is in alpha alone; see-through
//   pixels are transparent black (0,0,0,0), as canvas exports write them.
// - seven-white-on-transparent-white.png: the same with see-through pixels (255,255,255,0).
//
// The stored layouts are computed from the TIFF 6.0 wording ("the 0th row represents the visual
// right-hand side ..."), from the stored side, independently of src/data/exif.ts's inverse.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import jpeg from 'jpeg-js';
import pngjs from 'pngjs';

export const WIDTH = 120;
export const HEIGHT = 160;

/** Seeded generator (LCG, Numerical Recipes constants): the fixtures never use Math.random. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

function segmentDistance(px: number, py: number, ax: number, ay: number, bx: number, by: number): number {
  const dx = bx - ax, dy = by - ay;
  const t = Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)));
  return Math.hypot(px - (ax + t * dx), py - (ay + t * dy));
}

/** Ink coverage 0..1 of a thick 7 (14 px pen, 4x4 supersampled), WIDTH x HEIGHT, upright. */
export function drawSeven(): Float32Array {
  const strokes = [
    [28, 32, 90, 30], // the bar
    [90, 30, 52, 132], // the stem
    [44, 82, 78, 82], // a continental crossbar
  ];
  const ink = new Float32Array(WIDTH * HEIGHT);
  for (let y = 0; y < HEIGHT; y++) {
    for (let x = 0; x < WIDTH; x++) {
      let hits = 0;
      for (let sy = 0; sy < 4; sy++) {
        for (let sx = 0; sx < 4; sx++) {
          const px = x + (sx + 0.5) / 4, py = y + (sy + 0.5) / 4;
          if (strokes.some(([ax, ay, bx, by]) => segmentDistance(px, py, ax, ay, bx, by) <= 7)) hits++;
        }
      }
      ink[y * WIDTH + x] = hits / 16;
    }
  }
  return ink;
}

interface Rgba { width: number; height: number; data: Uint8Array }

/** Reflectance of paper and ink, times the light at each pixel, plus sensor noise, as RGB. */
function photograph(ink: Float32Array, light: (x: number, y: number) => number, seed: number): Rgba {
  const rand = lcg(seed);
  const paper = [0.86, 0.85, 0.8]; // off-white, slightly warm
  const pen = [0.2, 0.2, 0.24]; // a blue-black ballpoint, as a camera sees it
  const data = new Uint8Array(WIDTH * HEIGHT * 4);
  for (let y = 0; y < HEIGHT; y++) {
    for (let x = 0; x < WIDTH; x++) {
      const i = y * WIDTH + x;
      const l = light(x, y);
      for (let c = 0; c < 3; c++) {
        const reflectance = ink[i] * pen[c] + (1 - ink[i]) * paper[c];
        const noise = (rand() + rand() + rand() - 1.5) * 0.02; // ~N(0, 0.01)
        data[4 * i + c] = Math.max(0, Math.min(255, Math.round(255 * (l * reflectance + noise))));
      }
      data[4 * i + 3] = 255;
    }
  }
  return { width: WIDTH, height: HEIGHT, data };
}

/**
 * The stored image for Exif orientation o: stored pixel (sx, sy) is shown at display (x, y).
 * TIFF 6.0 tag 274: 1 row 0 top / column 0 left; 2 top / right; 3 bottom / right; 4 bottom /
 * left; 5 left / top; 6 right / top; 7 right / bottom; 8 left / bottom.
 */
export function storeForOrientation(upright: Rgba, o: number): Rgba {
  const { width: dw, height: dh } = upright;
  const swap = o >= 5;
  const sw = swap ? dh : dw, sh = swap ? dw : dh;
  const data = new Uint8Array(upright.data.length);
  for (let sy = 0; sy < sh; sy++) {
    for (let sx = 0; sx < sw; sx++) {
      const [x, y] = ({
        1: [sx, sy], 2: [dw - 1 - sx, sy], 3: [dw - 1 - sx, dh - 1 - sy], 4: [sx, dh - 1 - sy],
        5: [sy, sx], 6: [dw - 1 - sy, sx], 7: [dw - 1 - sy, dh - 1 - sx], 8: [sy, dh - 1 - sx],
      } as Record<number, number[]>)[o];
      data.set(upright.data.subarray(4 * (y * dw + x), 4 * (y * dw + x) + 4), 4 * (sy * sw + sx));
    }
  }
  return { width: sw, height: sh, data };
}

/** A TIFF block (as in Exif) with IFD0 holding camera tags, the orientation and an Exif IFD. */
export function exifTiff(orientation: number, little: boolean): Uint8Array {
  const out = new Uint8Array(256);
  const view = new DataView(out.buffer);
  out.set(little ? [0x49, 0x49] : [0x4d, 0x4d]);
  view.setUint16(2, 42, little);
  view.setUint32(4, 8, little); // IFD0 right after the header
  const ascii = (s: string) => Uint8Array.from(Array.from(s + '\0', (c) => c.charCodeAt(0)));
  const make = ascii('Scratchphone'), model = ascii('Model 7');
  const ifd0Entries = 8;
  const ifd0End = 8 + 2 + 12 * ifd0Entries + 4;
  let extra = ifd0End; // where values longer than 4 bytes go
  const place = (bytes: Uint8Array): number => {
    const at = extra;
    out.set(bytes, at);
    extra += bytes.length + (bytes.length & 1);
    return at;
  };
  const rational = (n: number, d: number) => {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setUint32(0, n, little);
    new DataView(b.buffer).setUint32(4, d, little);
    return b;
  };
  const exifIfd = 200;
  const entries: [number, number, number, number][] = [
    [0x010f, 2, make.length, place(make)], // Make, ASCII
    [0x0110, 2, model.length, place(model)], // Model
    [0x0112, 3, 1, orientation], // Orientation, SHORT: the value sits in the field itself
    [0x011a, 5, 1, place(rational(72, 1))], // XResolution, RATIONAL
    [0x011b, 5, 1, place(rational(72, 1))], // YResolution
    [0x0128, 3, 1, 2], // ResolutionUnit: inches
    [0x0213, 3, 1, 1], // YCbCrPositioning: centred
    [0x8769, 4, 1, exifIfd], // Exif IFD pointer, LONG
  ];
  view.setUint16(8, entries.length, little);
  entries.forEach(([tag, type, count, value], i) => {
    const at = 10 + 12 * i;
    view.setUint16(at, tag, little);
    view.setUint16(at + 2, type, little);
    view.setUint32(at + 4, count, little);
    if (type === 3 && count === 1) view.setUint16(at + 8, value, little); // left-justified
    else view.setUint32(at + 8, value, little);
  });
  view.setUint32(10 + 12 * entries.length, 0, little); // no IFD1 (thumbnail)
  // Exif IFD: one entry, ExifVersion "0232" (UNDEFINED, 4 bytes in place).
  view.setUint16(exifIfd, 1, little);
  view.setUint16(exifIfd + 2, 0x9000, little);
  view.setUint16(exifIfd + 4, 7, little);
  view.setUint32(exifIfd + 6, 4, little);
  out.set([0x30, 0x32, 0x33, 0x32], exifIfd + 10);
  view.setUint32(exifIfd + 14, 0, little);
  return out.subarray(0, exifIfd + 18);
}

/** A JPEG as a phone writes it: SOI, APP1 Exif (no JFIF APP0), then the rest of jpeg-js's file. */
function phoneJpeg(img: Rgba, orientation: number, little: boolean, quality = 90): Uint8Array {
  const encoded = jpeg.encode({ width: img.width, height: img.height, data: img.data }, quality).data;
  let rest = 2;
  if (encoded[2] === 0xff && encoded[3] === 0xe0) rest = 4 + ((encoded[4] << 8) | encoded[5]); // drop JFIF
  const tiff = exifTiff(orientation, little);
  const app1 = new Uint8Array(4 + 6 + tiff.length);
  app1.set([0xff, 0xe1, (app1.length - 2) >> 8, (app1.length - 2) & 0xff, 0x45, 0x78, 0x69, 0x66, 0, 0]);
  app1.set(tiff, 10);
  return Buffer.concat([encoded.subarray(0, 2), app1, encoded.subarray(rest)]);
}

function crc32(bytes: Uint8Array): number {
  let crc = -1;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? 0xedb88320 ^ (crc >>> 1) : crc >>> 1;
  }
  return (crc ^ -1) >>> 0;
}

function png(img: Rgba, exifOrientation?: number): Uint8Array {
  const p = new pngjs.PNG({ width: img.width, height: img.height });
  p.data = Buffer.from(img.data);
  const bytes = pngjs.PNG.sync.write(p, { colorType: 6 });
  if (exifOrientation === undefined) return bytes;
  // eXIf goes after IHDR (8 + 25 bytes) and before IDAT: length, type, TIFF data, CRC.
  const tiff = exifTiff(exifOrientation, false);
  const chunk = new Uint8Array(12 + tiff.length);
  const view = new DataView(chunk.buffer);
  view.setUint32(0, tiff.length);
  chunk.set([0x65, 0x58, 0x49, 0x66], 4); // "eXIf"
  chunk.set(tiff, 8);
  view.setUint32(8 + tiff.length, crc32(chunk.subarray(4, 8 + tiff.length)));
  return Buffer.concat([bytes.subarray(0, 33), chunk, bytes.subarray(33)]);
}

/** Every fixture, by file name. */
export function photoFixtures(): Record<string, Uint8Array> {
  const ink = drawSeven();
  const files: Record<string, Uint8Array> = {};
  const clean = new Uint8Array(WIDTH * HEIGHT * 4);
  for (let i = 0; i < ink.length; i++) {
    const v = Math.round(255 * (1 - ink[i]));
    clean.set([v, v, v, 255], 4 * i);
  }
  files['seven-clean.png'] = png({ width: WIDTH, height: HEIGHT, data: clean });

  // Even indoor light, slightly brighter at the top (a ceiling lamp).
  const photo = photograph(ink, (_x, y) => 1 - 0.1 * (y / HEIGHT), 6);
  for (let o = 1; o <= 8; o++) files[`seven-exif-${o}.jpg`] = phoneJpeg(storeForOrientation(photo, o), o, o % 2 === 1);
  files['seven-exif-6.png'] = png(storeForOrientation(photo, 6), 6);

  // Light falls from 1.0 to 0.2 between 35% and 70% of the width (smoothstep): a shadow.
  const shadow = (x: number): number => {
    const t = Math.min(1, Math.max(0, (x / WIDTH - 0.35) / 0.35));
    return 1 - 0.8 * t * t * (3 - 2 * t);
  };
  files['seven-uneven-light.jpg'] = phoneJpeg(photograph(ink, shadow, 7), 1, true, 92);

  for (const [name, paperRgb] of [['seven-white-on-transparent.png', 0], ['seven-white-on-transparent-white.png', 255]] as const) {
    const data = new Uint8Array(WIDTH * HEIGHT * 4);
    for (let i = 0; i < ink.length; i++) {
      const alpha = Math.round(255 * ink[i]);
      data.set(alpha === 0 ? [paperRgb, paperRgb, paperRgb, 0] : [255, 255, 255, alpha], 4 * i);
    }
    files[name] = png({ width: WIDTH, height: HEIGHT, data });
  }
  return files;
}

export const PHOTO_DIR = fileURLToPath(new URL('../test/fixtures/photos/', import.meta.url));

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  mkdirSync(PHOTO_DIR, { recursive: true });
  for (const [name, bytes] of Object.entries(photoFixtures())) {
    writeFileSync(join(PHOTO_DIR, name), bytes);
    console.log(`${name}: ${bytes.length} bytes`);
  }
}
