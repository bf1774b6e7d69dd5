// EXIF orientation (pure, no Node APIs): phones store the sensor's pixels as they came and write
// in the Exif block which way is up (TIFF 6.0 tag 0x0112 "Orientation", in IFD0; Exif 2.32
// section 4.6.4). jpeg-js and pngjs ignore it, so a portrait photo of a 7 came out lying on its
// side and was predicted as an 8 (issue 13, item 10).
//
// Only IFD0's Orientation is read. The block comes from the user's file, so every offset is
// checked against the block's length before it is followed, and nothing is allocated from a
// count in the file. A malformed block is ignored (orientation 1), as browsers do: the pixels
// are still a valid image; only the hint is broken.

import type { RgbaImage } from './pixels.js';

/** The Exif APP1 identifier that precedes the TIFF header in a JPEG: "Exif\0\0". */
const EXIF_ID = [0x45, 0x78, 0x69, 0x66, 0x00, 0x00];

/**
 * Orientation (1..8) from a TIFF-structured Exif block ("II*\0" or "MM\0*" header, then IFDs).
 * Accepts the block with or without the "Exif\0\0" prefix (PNG eXIf chunks are written both ways).
 * Returns 1 (as stored) when the tag is absent, out of range or the block is malformed.
 */
export function exifOrientation(block: Uint8Array): number {
  let tiff = block;
  if (tiff.length >= 6 && EXIF_ID.every((b, i) => tiff[i] === b)) tiff = tiff.subarray(6);
  if (tiff.length < 8) return 1;
  let little: boolean;
  if (tiff[0] === 0x49 && tiff[1] === 0x49) little = true;
  else if (tiff[0] === 0x4d && tiff[1] === 0x4d) little = false;
  else return 1;
  const view = new DataView(tiff.buffer, tiff.byteOffset, tiff.length);
  if (view.getUint16(2, little) !== 42) return 1;
  const ifd0 = view.getUint32(4, little);
  // The entry count (2 bytes) must lie inside the block; offsets are unsigned, so one check
  // also covers 0xFFFFFFFF-style attacks.
  if (ifd0 < 8 || ifd0 + 2 > tiff.length) return 1;
  const count = view.getUint16(ifd0, little);
  // Read only the entries that fit (a count of 65535 in a 100-byte block reads what is there).
  const fit = Math.min(count, Math.floor((tiff.length - ifd0 - 2) / 12));
  for (let i = 0; i < fit; i++) {
    const entry = ifd0 + 2 + 12 * i;
    if (view.getUint16(entry, little) !== 0x0112) continue;
    const type = view.getUint16(entry + 2, little);
    const valueCount = view.getUint32(entry + 4, little);
    // SHORT (3), one value, stored left-justified in the 4-byte value field.
    if (type !== 3 || valueCount !== 1) return 1;
    const value = view.getUint16(entry + 8, little);
    return value >= 1 && value <= 8 ? value : 1;
  }
  return 1;
}

/**
 * The upright image for an Exif orientation. The tag says where the stored 0th row and 0th
 * column belong when displayed (TIFF 6.0, p. 37), e.g. 6: "the 0th row is the visual right-hand
 * side, the 0th column the visual top", i.e. turn the stored pixels 90 degrees clockwise.
 * Orientations 5-8 swap width and height. Returns the input itself for 1 (or anything else).
 */
export function applyOrientation(img: RgbaImage, orientation: number): RgbaImage {
  if (!Number.isInteger(orientation) || orientation < 2 || orientation > 8) return img;
  const { width: w, height: h, data: src } = img;
  const swap = orientation >= 5;
  const outWidth = swap ? h : w;
  const outHeight = swap ? w : h;
  const out = new Uint8Array(src.length);
  const pixels = new Uint32Array(src.buffer, src.byteOffset, (src.byteOffset & 3) === 0 ? w * h : 0);
  const outPixels = new Uint32Array(out.buffer);
  // Display pixel (x, y) comes from stored pixel (sx, sy):
  for (let y = 0; y < outHeight; y++) {
    for (let x = 0; x < outWidth; x++) {
      let sx: number, sy: number;
      switch (orientation) {
        case 2: sx = w - 1 - x; sy = y; break; // mirrored left-right
        case 3: sx = w - 1 - x; sy = h - 1 - y; break; // turned 180
        case 4: sx = x; sy = h - 1 - y; break; // mirrored top-bottom
        case 5: sx = y; sy = x; break; // transposed
        case 6: sx = y; sy = h - 1 - x; break; // turn 90 clockwise to view
        case 7: sx = w - 1 - y; sy = h - 1 - x; break; // transverse
        default: sx = w - 1 - y; sy = x; break; // 8: turn 90 anticlockwise to view
      }
      const from = sy * w + sx;
      const to = y * outWidth + x;
      if (pixels.length > 0) outPixels[to] = pixels[from];
      else out.set(src.subarray(4 * from, 4 * from + 4), 4 * to);
    }
  }
  return { width: outWidth, height: outHeight, data: out };
}
