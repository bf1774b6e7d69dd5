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

import { FileFormatError } from '../errors.js';
import { nodeBuiltin } from '../io/node-builtins.js';
import { openBounded, type BoundedFile } from '../io/read-file.js';
import { sniffFormat } from '../io/read-sniff.js';

export interface IdxArray {
  dtype: 'uint8';
  /** e.g. [60000, 28, 28] for MNIST training images, [60000] for its labels. */
  dims: number[];
  /** Row-major values; a view into the bytes that were parsed (no copy). */
  data: Uint8Array;
}

/**
 * Largest data block accepted (bytes). EMNIST's biggest file (byclass training images, 697932 x
 * 28 x 28) is 0.55 GB, so 1 GiB is ample; it was 2 GiB, which let a 2 MB gzip whose header
 * declared 2 GiB take 4.3 GB before mnist.ts found the label count wrong. Now a refused file
 * costs at most its declared size (1 GiB) plus one 1 MiB chunk of each stream.
 */
export const MAX_IDX_DATA_BYTES = 2 ** 30;

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
  const typeCode = bytes[2];
  const ndims = bytes[3];
  if (bytes[0] !== 0 || bytes[1] !== 0 || !(typeCode in TYPE_NAMES) || ndims < 1 || ndims > 4) {
    // Not an IDX header: a file of another kind is named as such (a PNG, a gzip'd tarball).
    const kind = sniffFormat(bytes.subarray(0, 512));
    if (kind !== null && !kind.startsWith('an IDX')) throw new FileFormatError(file, `is ${kind}, not an IDX file (MNIST images or labels)`);
  }
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new FileFormatError(
      file,
      `not an IDX file (magic starts with ${hex(bytes[0])} ${hex(bytes[1])}, expected 0x00 0x00)`,
    );
  }
  if (typeCode !== 0x08) {
    const name = TYPE_NAMES[typeCode];
    throw new FileFormatError(
      file,
      name === undefined
        ? `unknown IDX type code ${hex(typeCode)}`
        : `IDX type ${hex(typeCode)} (${name}) is not supported, only 0x08 (unsigned byte)`,
    );
  }
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

/** The compressed file is read in chunks of this size; inflate output comes in chunks of it too. */
const CHUNK = 1 << 20;

/**
 * Inflates a gzip'd IDX file without trusting it, streaming: the first output bytes give the
 * header, which fixes the output size (header + declared data, itself capped by
 * MAX_IDX_DATA_BYTES); output goes straight into one array of that size, and the stream is
 * stopped the moment it would pass it. So a gzip bomb costs the size its header declares (plus a
 * 1 MiB input and output chunk), whatever it inflates to and however its gzip header is padded
 * (a 4 KiB prefix was not enough: a long FNAME field or 200 empty members pushed the IDX header
 * past it, and the fallback allowed 2 GiB, collected as chunks and then concatenated: 4.3 GB).
 * Measured: a 2 MB gzip of 2 GiB whose header declares 47 MB is refused after 47 MB, ~0.2 s.
 */
async function gunzipIdx(file: BoundedFile): Promise<Uint8Array> {
  const path = file.path;
  let out: Uint8Array | null = null; // allocated once the header is known
  let pending: Uint8Array[] = []; // output before the header is complete (a few bytes)
  let received = 0;
  let limit = 0;
  async function* compressed(): AsyncGenerator<Uint8Array> {
    for (let position = 0; ; position += CHUNK) {
      const chunk = await file.read(position, CHUNK);
      if (chunk.length === 0) return;
      yield chunk;
      if (chunk.length < CHUNK && position + chunk.length >= file.size) return;
    }
  }
  try {
    await nodeBuiltin('node:stream/promises').pipeline(compressed, nodeBuiltin('node:zlib').createGunzip({ chunkSize: CHUNK }), async (inflated: AsyncIterable<Buffer>) => {
      for await (const chunk of inflated) {
        if (out === null) {
          pending.push(chunk);
          received += chunk.length;
          const head = pending.length === 1 ? pending[0] : Buffer.concat(pending);
          pending = [head];
          if (head.length < 4 || head.length < 4 + 4 * head[3]) continue;
          const header = parseHeader(head, path); // throws on a bad header or a huge declared size
          limit = header.headerLength + header.dataLength;
          if (received > limit) throw trailing(limit, path);
          out = new Uint8Array(limit);
          out.set(head);
          pending = [];
          continue;
        }
        if (received + chunk.length > limit) throw trailing(limit, path);
        out.set(chunk, received);
        received += chunk.length;
      }
    });
  } catch (error) {
    if (error instanceof FileFormatError) throw error;
    throw new FileFormatError(path, `corrupt gzip data: ${firstLine(error)}`);
  }
  if (out === null) return pending.length === 0 ? new Uint8Array(0) : pending[0];
  return (out as Uint8Array).subarray(0, received);
}

function trailing(limit: number, path: string): FileFormatError {
  return new FileFormatError(path, `trailing bytes: gzip data inflates past the ${limit} bytes (header and data) the IDX header declares`);
}

/**
 * Reads an IDX file, plain or gzip-compressed (detected by its magic bytes 1f 8b, not its name).
 * Only regular files are read (a FIFO, /dev/zero or a folder is refused in one line), and a plain
 * file's header is checked against its size before its data is read.
 */
export async function readIdx(path: string): Promise<IdxArray> {
  // Plain: header (at most 20 bytes) + MAX_IDX_DATA_BYTES. Gzip can be a little larger than its
  // content (stored blocks: 5 bytes per 64 KiB), hence the margin.
  const file = await openBounded(path, { maxBytes: MAX_IDX_DATA_BYTES + (MAX_IDX_DATA_BYTES >> 10) + 1024, what: 'an IDX file' });
  try {
    const head = await file.read(0, 20);
    if (isGzip(head)) return parseIdx(await gunzipIdx(file), path);
    const { headerLength, dataLength } = parseHeader(head, path);
    const found = file.size - headerLength;
    if (found < dataLength) throw new FileFormatError(path, `truncated: expected ${dataLength} bytes of data, found ${found}`);
    if (found > dataLength) throw new FileFormatError(path, `${found - dataLength} trailing bytes after the ${dataLength} bytes of data the header declares`);
    return parseIdx(await file.readAll(), path);
  } finally {
    await file.close();
  }
}

/** The dimensions an IDX file declares, from its header alone (plain or gzip), without its data. */
export async function readIdxHeader(path: string): Promise<{ dims: number[]; gzip: boolean }> {
  const file = await openBounded(path, { maxBytes: MAX_IDX_DATA_BYTES + (MAX_IDX_DATA_BYTES >> 10) + 1024, what: 'an IDX file' });
  try {
    const head = await file.read(0, 20);
    if (!isGzip(head)) return { dims: parseHeader(head, path).dims, gzip: false };
  } finally {
    await file.close();
  }
  // Inflate just enough for the header: a stream stopped after its first output chunk.
  const file2 = await openBounded(path, { maxBytes: MAX_IDX_DATA_BYTES + (MAX_IDX_DATA_BYTES >> 10) + 1024, what: 'an IDX file' });
  try {
    let header: IdxHeader | null = null;
    const stop = new Error('header read');
    try {
      await nodeBuiltin('node:stream/promises').pipeline(
        async function* () {
          for (let position = 0; position < file2.size; position += 65536) yield await file2.read(position, 65536);
        },
        nodeBuiltin('node:zlib').createGunzip(),
        async (inflated: AsyncIterable<Buffer>) => {
          let head = new Uint8Array(0);
          for await (const chunk of inflated) {
            head = Buffer.concat([head, chunk.subarray(0, 20)]).subarray(0, 20);
            if (head.length >= 4 && head.length >= 4 + 4 * head[3]) {
              header = parseHeader(head, path);
              throw stop;
            }
          }
          header = parseHeader(head, path); // too short: says so
        },
      );
    } catch (error) {
      if (error !== stop) {
        if (error instanceof FileFormatError) throw error;
        throw new FileFormatError(path, `corrupt gzip data: ${firstLine(error)}`);
      }
    }
    return { dims: (header as IdxHeader | null)!.dims, gzip: true };
  } finally {
    await file2.close();
  }
}

/**
 * An IDX data set held in memory (a fetch response, a dropped file), plain or gzip-compressed
 * (its magic bytes 1f 8b): gzip is inflated with `DecompressionStream` (browsers, Node 18+), so
 * no node:zlib is needed. As from a file, the inflated size is bounded by what the header declares.
 */
export async function idxFromBytes(bytes: Uint8Array, file = 'IDX data'): Promise<IdxArray> {
  if (!isGzip(bytes)) return parseIdx(bytes, file);
  if (typeof DecompressionStream !== 'function') throw new FileFormatError(file, 'gzip data needs DecompressionStream (a browser or Node 18+); pass the inflated bytes instead');
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('gzip'));
  const reader = stream.getReader();
  let out: Uint8Array | null = null;
  let head = new Uint8Array(0);
  let received = 0;
  let limit = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (out === null) {
        const joined = new Uint8Array(head.length + value.length);
        joined.set(head);
        joined.set(value, head.length);
        head = joined;
        received = head.length;
        if (head.length < 4 || head.length < 4 + 4 * head[3]) continue;
        const header = parseHeader(head, file);
        limit = header.headerLength + header.dataLength;
        if (received > limit) throw trailing(limit, file);
        out = new Uint8Array(limit);
        out.set(head);
        continue;
      }
      if (received + value.length > limit) throw trailing(limit, file);
      out.set(value, received);
      received += value.length;
    }
  } catch (error) {
    await reader.cancel().catch(() => undefined);
    if (error instanceof FileFormatError) throw error;
    throw new FileFormatError(file, `corrupt gzip data: ${firstLine(error)}`);
  }
  return parseIdx(out === null ? head : out.subarray(0, received), file);
}
