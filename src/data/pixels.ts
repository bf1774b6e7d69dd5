// The two picture types the image code passes around (apart from image.ts so that exif.ts,
// which image.ts uses, can name them without an import circle).

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
