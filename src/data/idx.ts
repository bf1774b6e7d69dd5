// IDX reader: the file format of MNIST (and Fashion-MNIST, EMNIST), described at
// http://yann.lecun.com/exdb/mnist/ under "FILE FORMATS FOR THE MNIST DATABASE".
//
//   bytes 0-1   0x00 0x00
//   byte  2     type code: 0x08 unsigned byte (the only one MNIST uses; the others are refused)
//   byte  3     number of dimensions (1 for labels, 3 for images)
//   then        one big-endian uint32 per dimension, then the data, row-major
//
// Files come from the internet, so everything is checked before anything is allocated: a header
// that declares 100000 x 100000 x 100000 must cost nothing, and so must a gzip bomb.

import { readFile } from 'node:fs/promises';
import { constants as zlibConstants, gunzipSync } from 'node:zlib';
import { FileFormatError, ScratchnetError } from '../errors.js';

export interface IdxArray {
  dtype: 'uint8';
  /** e.g. [60000, 28, 28] for MNIST training images, [60000] for its labels. */
  dims: number[];
  /** Row-major values; a view into the bytes that were parsed (no copy). */
  data: Uint8Array;
}

/** Largest data block accepted (bytes); EMNIST's biggest file is ~0.5 GiB, so 2 GiB is ample. */
export const MAX_IDX_DATA_BYTES = 2 ** 31;

// Type codes from the IDX description, named so that a refusal can say what the file holds.
const TYPE_NAMES: Record<number, string> = {
  0x08: 'unsigned byte',
  0x09: 'signed byte',
  0x0b: 'int16',
  0x0c: 'int32',
  0x0d: 'float32',
  0x0e: 'float64',
};

const hex = (byte: number): string => '0x' + byte.toString(16).padStart(2, '0');

interface IdxHeader {
  dims: number[];
  headerLength: number;
  dataLength: number;
}

/** Validates the magic, type code and dimensions; does not look at the data. */
function parseHeader(bytes: Uint8Array, file: string): IdxHeader {
  if (bytes.length < 4) {
    throw new FileFormatError(file, `too short for an IDX header (${bytes.length} bytes)`);
  }
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new FileFormatError(
      file,
      `not an IDX file (magic starts with ${hex(bytes[0])} ${hex(bytes[1])}, expected 0x00 0x00)`,
    );
  }
  const typeCode = bytes[2];
  if (typeCode !== 0x08) {
    const name = TYPE_NAMES[typeCode];
    throw new FileFormatError(
      file,
      name === undefined
        ? `unknown IDX type code ${hex(typeCode)}`
        : `IDX type ${hex(typeCode)} (${name}) is not supported, only 0x08 (unsigned byte)`,
    );
  }
  const ndims = bytes[3];
  if (ndims < 1 || ndims > 4) {
    throw new FileFormatError(file, `IDX header declares ${ndims} dimensions, expected 1 to 4`);
  }
  const headerLength = 4 + 4 * ndims;
  if (bytes.length < headerLength) {
    throw new FileFormatError(
      file,
      `truncated header: ${ndims} dimensions need ${headerLength} bytes, found ${bytes.length}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, headerLength);
  const dims: number[] = [];
  for (let i = 0; i < ndims; i++) dims.push(view.getUint32(4 + 4 * i, false)); // big-endian
  if (dims.some((d) => d === 0)) {
    throw new FileFormatError(file, `IDX header has a zero dimension (${dims.join(' x ')})`);
  }
  // Product in float64: exact up to 2^53, and anything near that is refused just below anyway.
  const dataLength = dims.reduce((a, b) => a * b, 1);
  if (dataLength > MAX_IDX_DATA_BYTES) {
    throw new FileFormatError(
      file,
      `IDX header declares ${dims.join(' x ')} = ${dataLength} bytes of data, above the ${MAX_IDX_DATA_BYTES} byte limit`,
    );
  }
  return { dims, headerLength, dataLength };
}

/** Parses an uncompressed IDX file held in memory; `file` names it in error messages. */
export function parseIdx(bytes: Uint8Array, file: string): IdxArray {
  const { dims, headerLength, dataLength } = parseHeader(bytes, file);
  const found = bytes.length - headerLength;
  if (found < dataLength) {
    throw new FileFormatError(file, `truncated: expected ${dataLength} bytes of data, found ${found}`);
  }
  if (found > dataLength) {
    throw new FileFormatError(
      file,
      `${found - dataLength} trailing bytes after the ${dataLength} bytes of data the header declares`,
    );
  }
  // A plain Uint8Array view (not a Buffer), whatever the caller passed in.
  const data = new Uint8Array(bytes.buffer, bytes.byteOffset + headerLength, dataLength);
  return { dtype: 'uint8', dims, data };
}

const isGzip = (bytes: Uint8Array): boolean => bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0];
}

/**
 * Decompresses a gzip'd IDX file without trusting it: first inflate only a small prefix to read
 * the header, then inflate the rest with an output cap of exactly what the header declares
 * (+1 byte, so trailing data is noticed). A gzip bomb therefore costs at most the declared size,
 * which itself is capped by MAX_IDX_DATA_BYTES.
 */
function gunzipIdx(bytes: Uint8Array, file: string): Uint8Array {
  let limit = MAX_IDX_DATA_BYTES + 4 + 16 + 1;
  try {
    // 4 KiB of deflate input inflates to at most ~4.2 MB (deflate's ratio is below 1032:1).
    // Z_SYNC_FLUSH: return what a truncated stream gives instead of throwing.
    const prefix = gunzipSync(bytes.subarray(0, 4096), {
      finishFlush: zlibConstants.Z_SYNC_FLUSH,
      maxOutputLength: 8 << 20,
    });
    if (prefix.length >= 4 && prefix.length >= 4 + 4 * prefix[3]) {
      const header = parseHeader(prefix, file);
      limit = header.headerLength + header.dataLength + 1;
    }
  } catch (error) {
    if (error instanceof FileFormatError) throw error;
    // A corrupt prefix: the full inflate below reports it.
  }
  try {
    return gunzipSync(bytes, { maxOutputLength: limit });
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new FileFormatError(file, `trailing bytes: gzip data inflates past the ${limit - 1} bytes (header and data) the IDX header declares`);
    }
    throw new FileFormatError(file, `corrupt gzip data: ${firstLine(error)}`);
  }
}

/** Reads an IDX file, plain or gzip-compressed (detected by its magic bytes 1f 8b, not its name). */
export async function readIdx(path: string): Promise<IdxArray> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new ScratchnetError(code === 'ENOENT' ? `${path}: file not found` : `${path}: ${firstLine(error)}`);
  }
  return parseIdx(isGzip(bytes) ? gunzipIdx(bytes, path) : bytes, path);
}
