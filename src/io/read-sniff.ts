// What is this file? (pure, no Node APIs) A loader that is handed the wrong kind of file should
// say so, instead of reading a PNG signature as a safetensors header length
// ("header length 7021784114765367048", which is the bytes 08 07 12 0a 's' 'c' 'r' 'a' of an
// ONNX file read as a little-endian u64). Loaders call this only after their own format check
// fails, so a recognised magic never turns a valid file into a refusal.

function startsWith(bytes: Uint8Array, magic: readonly number[], at = 0): boolean {
  return bytes.length >= at + magic.length && magic.every((b, i) => bytes[at + i] === b);
}

const ascii = (s: string): number[] => Array.from(s, (c) => c.charCodeAt(0));

/**
 * A noun phrase for the file's kind ("a PNG image", "an ONNX model"), or null when the first
 * bytes match nothing known. Heuristic for ONNX and text; exact for formats with a magic number.
 */
export function sniffFormat(bytes: Uint8Array): string | null {
  if (bytes.length === 0) return 'an empty file';
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'a PNG image';
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'a JPEG image';
  if (startsWith(bytes, ascii('GIF87a')) || startsWith(bytes, ascii('GIF89a'))) return 'a GIF image';
  if (startsWith(bytes, ascii('RIFF')) && startsWith(bytes, ascii('WEBP'), 8)) return 'a WebP image';
  if (startsWith(bytes, ascii('II*\0')) || startsWith(bytes, ascii('MM\0*'))) return 'a TIFF image';
  if (startsWith(bytes, ascii('ftyp'), 4)) {
    const brand = String.fromCharCode(...bytes.subarray(8, 12));
    if (/^(heic|heix|hevc|heim|heis|mif1|msf1)$/.test(brand)) return 'a HEIC/HEIF image (the iPhone photo format)';
    if (/^avi[fs]$/.test(brand)) return 'an AVIF image';
    return 'an MP4/QuickTime video';
  }
  if (startsWith(bytes, ascii('BM')) && bytes.length >= 14 && bytes[6] === 0 && bytes[7] === 0 && bytes[8] === 0 && bytes[9] === 0) return 'a BMP image';
  if (startsWith(bytes, [0x1f, 0x8b])) return 'a gzip file';
  if (startsWith(bytes, ascii('PK\x03\x04')) || startsWith(bytes, ascii('PK\x05\x06'))) return 'a zip archive (a .npz or a PyTorch .pt file?)';
  if (startsWith(bytes, [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59])) return 'a NumPy .npy array';
  if (bytes.length >= 2 && bytes[0] === 0x80 && bytes[1] >= 2 && bytes[1] <= 5) return 'a Python pickle (a PyTorch file or the book\'s params.pkl?)';
  if (startsWith(bytes, [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a])) return 'an HDF5 file (a Keras .h5 model?)';
  if (startsWith(bytes, ascii('GGUF'))) return 'a GGUF model';
  if (startsWith(bytes, ascii('TFL3'), 4)) return 'a TensorFlow Lite model';
  if (startsWith(bytes, ascii('%PDF'))) return 'a PDF document';
  if (bytes.length >= 4 && bytes[0] === 0 && bytes[1] === 0 && bytes[2] >= 0x08 && bytes[2] <= 0x0e && bytes[3] >= 1 && bytes[3] <= 4) {
    return 'an IDX data file (MNIST images or labels)';
  }
  // safetensors: a small little-endian u64 header length, then a JSON object.
  if (bytes.length >= 10 && bytes[4] === 0 && bytes[5] === 0 && bytes[6] === 0 && bytes[7] === 0 && bytes[8] === 0x7b) return 'a safetensors file';
  // ONNX ModelProto (protobuf): field 1 ir_version (varint, 3..12 in practice), then
  // producer_name (2), producer_version (3), domain (4), model_version (5), doc (6), graph (7)
  // or opset_import (8): tags 0x12 0x1a 0x22 0x28 0x32 0x3a 0x42.
  if (bytes.length >= 3 && bytes[0] === 0x08 && bytes[1] >= 1 && bytes[1] <= 20 && [0x12, 0x1a, 0x22, 0x28, 0x32, 0x3a, 0x42].includes(bytes[2])) {
    return 'an ONNX model';
  }
  const head = bytes.subarray(0, 512);
  if (isText(head, bytes.length > head.length)) {
    const first = String.fromCharCode(...head.subarray(0, 64)).trimStart()[0];
    if (first === '{' || first === '[') return 'a JSON text file';
    if (first === '<') return 'an HTML/XML/SVG text file';
    return 'a text file';
  }
  return null;
}

/** No control characters but tab/newline/return, and valid UTF-8 (a sequence cut at the end allowed). */
function isText(head: Uint8Array, cut: boolean): boolean {
  for (const b of head) if ((b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) || b === 0x7f) return false;
  const decoder = new TextDecoder('utf-8', { fatal: true });
  for (let drop = 0; drop <= (cut ? 3 : 0); drop++) {
    try {
      decoder.decode(head.subarray(0, head.length - drop));
      return true;
    } catch {
      // try without the last bytes: a multi-byte character may be cut at 512
    }
  }
  return false;
}
