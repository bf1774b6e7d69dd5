// safetensors (huggingface/safetensors): an 8-byte little-endian u64 header length N, N bytes
// of UTF-8 JSON header, then the raw little-endian tensor data. The header maps each tensor
// name to {dtype, shape, data_offsets: [begin, end]} (offsets relative to the data section),
// plus an optional "__metadata__" string -> string map.
//
// Writing follows the reference serializer byte for byte: tensors sorted by descending dtype
// (F64, F32, I32, U8), then by name (UTF-8 byte order); "__metadata__" first in the header;
// header JSON compact and padded with spaces so the data starts at a multiple of 8 (which keeps
// every tensor aligned for zero-copy readers).
//
// Reading never trusts the file: every offset, shape and size is checked before any
// allocation, and each failure is a one-line FileFormatError.

import { FileFormatError, ScratchnetError, ShapeError } from '../errors.js';
import { Tensor } from '../tensor.js';
import { writeFileAtomic } from './atomic.js';
import { openBounded } from './read-file.js';
import { sniffFormat } from './read-sniff.js';

export type SafetensorsDType = 'F32' | 'F64' | 'I32' | 'U8';

export interface NamedTensor {
  dtype: SafetensorsDType;
  shape: number[];
  data: Float32Array | Float64Array | Int32Array | Uint8Array;
}

export interface DecodeOptions {
  /** Refuse headers longer than this many bytes (default 100 MB, as the reference reader). */
  maxHeaderBytes?: number;
  /**
   * What the caller expected, for messages about a file of another kind: "is a PNG image, not
   * <expected>". Default "a safetensors file (a scratchnet model or checkpoint)".
   */
  expected?: string;
}

export interface ReadSafetensorsOptions extends DecodeOptions {
  /** Refuse files larger than this (default MAX_SAFETENSORS_FILE_BYTES), before reading them. */
  maxFileBytes?: number;
  /** The file's role for "is a folder, not <what>" messages (default "a safetensors file"). */
  what?: string;
}

/**
 * Largest safetensors file read (2 GiB): the zoo's AlexNet is 0.25 GB, its Adam checkpoint
 * (parameters + two moments) 0.75 GB. Larger files are refused from fstat, before any read.
 */
export const MAX_SAFETENSORS_FILE_BYTES = 2 ** 31;
const DEFAULT_EXPECTED = 'a safetensors file (a scratchnet model or checkpoint)';

export interface DecodedSafetensors {
  tensors: Record<string, NamedTensor>;
  metadata: Record<string, string>;
}

const DEFAULT_MAX_HEADER_BYTES = 100_000_000;
const METADATA_KEY = '__metadata__';

const ITEM_SIZE: Record<SafetensorsDType, number> = { F64: 8, F32: 4, I32: 4, U8: 1 };
// Position in the reference's Dtype enum (U8 < I32 < F32 < F64); larger sorts first.
const DTYPE_RANK: Record<SafetensorsDType, number> = { U8: 0, I32: 1, F32: 2, F64: 3 };
const SUPPORTED = 'F32, F64, I32, U8';

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function isDType(s: string): s is SafetensorsDType {
  return Object.prototype.hasOwnProperty.call(ITEM_SIZE, s);
}

/** Own-property assignment: a tensor named "__proto__" must not change the prototype. */
function setOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

function product(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

// TextEncoder, not Buffer: encoding must work in pages and workers too.
const utf8 = new TextEncoder();

/** Byte order of the UTF-8 encodings (the order safetensors writers sort names in). */
function compareUtf8(a: string, b: string): number {
  const x = utf8.encode(a);
  const y = utf8.encode(b);
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}

function expectedArrayType(dtype: SafetensorsDType): string {
  return { F32: 'Float32Array', F64: 'Float64Array', I32: 'Int32Array', U8: 'Uint8Array' }[dtype];
}

function arrayMatches(dtype: SafetensorsDType, data: NamedTensor['data']): boolean {
  switch (dtype) {
    case 'F32':
      return data instanceof Float32Array;
    case 'F64':
      return data instanceof Float64Array;
    case 'I32':
      return data instanceof Int32Array;
    case 'U8':
      // A Node Buffer is a Uint8Array too, and is accepted.
      return data instanceof Uint8Array;
  }
}

function toNamed(name: string, value: NamedTensor | Tensor): NamedTensor {
  if (value instanceof Tensor) {
    const dtype: SafetensorsDType = value.data instanceof Float64Array ? 'F64' : 'F32';
    return { dtype, shape: [...value.shape], data: value.data };
  }
  const { dtype, shape, data } = value;
  if (typeof dtype !== 'string' || !isDType(dtype)) {
    throw new ScratchnetError(`tensor ${JSON.stringify(name)}: dtype ${String(dtype)} not supported (supported: ${SUPPORTED})`);
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new ShapeError(`tensor ${JSON.stringify(name)}: invalid shape ${formatShape(shape ?? [])}`);
  }
  if (!arrayMatches(dtype, data)) {
    throw new ScratchnetError(`tensor ${JSON.stringify(name)}: dtype ${dtype} needs a ${expectedArrayType(dtype)}`);
  }
  if (data.length !== product(shape)) {
    throw new ShapeError(`tensor ${JSON.stringify(name)}: shape ${formatShape(shape)} needs ${product(shape)} values, got ${data.length}`);
  }
  return value;
}

/** Raw little-endian bytes of a typed array, whatever the host byte order. */
function littleEndianBytes(t: NamedTensor): Uint8Array {
  const raw = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  if (LITTLE_ENDIAN_HOST || t.dtype === 'U8') return raw;
  const out = new Uint8Array(t.data.byteLength);
  const view = new DataView(out.buffer);
  const size = ITEM_SIZE[t.dtype];
  for (let i = 0; i < t.data.length; i++) {
    const v = t.data[i];
    if (t.dtype === 'F64') view.setFloat64(i * size, v, true);
    else if (t.dtype === 'F32') view.setFloat32(i * size, v, true);
    else view.setInt32(i * size, v, true);
  }
  return out;
}

/** Serialize tensors (a Tensor is stored as F32 or F64 after its data) into safetensors bytes. */
export function encodeSafetensors(tensors: Record<string, NamedTensor | Tensor>, metadata?: Record<string, string>): Uint8Array {
  const entries: { name: string; tensor: NamedTensor }[] = [];
  for (const name of Object.keys(tensors)) {
    if (name === METADATA_KEY) throw new ScratchnetError(`"${METADATA_KEY}" is reserved and cannot name a tensor`);
    entries.push({ name, tensor: toNamed(name, tensors[name]) });
  }
  entries.sort((a, b) => DTYPE_RANK[b.tensor.dtype] - DTYPE_RANK[a.tensor.dtype] || compareUtf8(a.name, b.name));

  // Build the JSON by hand: key order is part of the byte-exact layout.
  const parts: string[] = [];
  if (metadata !== undefined) {
    const keys = Object.keys(metadata).sort(compareUtf8);
    const fields: string[] = [];
    for (const k of keys) {
      const v = metadata[k];
      if (typeof v !== 'string') throw new ScratchnetError(`metadata ${JSON.stringify(k)}: value must be a string`);
      fields.push(`${JSON.stringify(k)}:${JSON.stringify(v)}`);
    }
    parts.push(`${JSON.stringify(METADATA_KEY)}:{${fields.join(',')}}`);
  }
  let offset = 0;
  const chunks: Uint8Array[] = [];
  for (const { name, tensor } of entries) {
    const bytes = littleEndianBytes(tensor);
    const begin = offset;
    offset += bytes.byteLength;
    chunks.push(bytes);
    parts.push(`${JSON.stringify(name)}:{"dtype":"${tensor.dtype}","shape":[${tensor.shape.join(',')}],"data_offsets":[${begin},${offset}]}`);
  }
  const json = utf8.encode(`{${parts.join(',')}}`);
  const padding = (8 - (json.byteLength % 8)) % 8;
  const headerLength = json.byteLength + padding;

  const out = new Uint8Array(8 + headerLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.byteLength, 8 + headerLength);
  let pos = 8 + headerLength;
  for (const c of chunks) {
    out.set(c, pos);
    pos += c.byteLength;
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A fresh, aligned typed array holding the bytes (copied: the input may be unaligned). */
function readArray(dtype: SafetensorsDType, src: Uint8Array, count: number): NamedTensor['data'] {
  const buffer = new ArrayBuffer(src.byteLength);
  new Uint8Array(buffer).set(src);
  if (dtype === 'U8') return new Uint8Array(buffer);
  if (LITTLE_ENDIAN_HOST) {
    if (dtype === 'F32') return new Float32Array(buffer);
    if (dtype === 'F64') return new Float64Array(buffer);
    return new Int32Array(buffer);
  }
  const view = new DataView(buffer);
  if (dtype === 'F64') return Float64Array.from({ length: count }, (_, i) => view.getFloat64(i * 8, true));
  if (dtype === 'F32') return Float32Array.from({ length: count }, (_, i) => view.getFloat32(i * 4, true));
  return Int32Array.from({ length: count }, (_, i) => view.getInt32(i * 4, true));
}

interface Entry {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  begin: number;
  end: number;
}

/**
 * The first checks, on the first 8 bytes and the file's size alone: a file of another kind (a
 * PNG, an ONNX model) is named as such instead of having its magic read as a header length.
 */
function checkPrefix(prefix: Uint8Array, fileSize: number, fail: (problem: string) => never, opts: DecodeOptions): number {
  const maxHeaderBytes = opts.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
  if (!Number.isSafeInteger(maxHeaderBytes) || maxHeaderBytes < 0) {
    throw new ScratchnetError(`maxHeaderBytes must be a non-negative integer, got ${maxHeaderBytes}`);
  }
  const otherKind = (): void => {
    const kind = sniffFormat(prefix);
    if (kind === null || kind === 'a safetensors file') return;
    // A few bytes of nothing in particular: "too short" says more than "an empty/text file".
    if (fileSize < 8 && (kind === 'an empty file' || kind === 'a text file')) return;
    fail(`is ${kind}, not ${opts.expected ?? DEFAULT_EXPECTED}`);
  };
  if (fileSize < 8) {
    otherKind();
    fail(`file is ${fileSize} bytes, too short for the 8-byte header length`);
  }
  const n = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(maxHeaderBytes) || n > BigInt(fileSize - 8)) otherKind();
  if (n > BigInt(maxHeaderBytes)) fail(`header length ${n} is above the limit of ${maxHeaderBytes} bytes`);
  if (n > BigInt(fileSize - 8)) fail(`header length ${n} runs past the end of the file (${fileSize} bytes)`);
  return Number(n);
}

/** Parses and validates the JSON header; `dataLength` is the size of the data section. */
function parseHeader(headerBytes: Uint8Array, dataLength: number, fail: (problem: string) => never): { metadata: Record<string, string>; entries: Entry[] } {
  let text = '';
  try {
    // ignoreBOM: keep a BOM in the text so JSON.parse refuses it, as the reference reader does.
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(headerBytes);
  } catch {
    fail('header is not valid UTF-8');
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch {
    fail('header is not valid JSON');
  }
  if (!isPlainObject(header)) fail('header is not a JSON object');
  const headerObj = header as Record<string, unknown>;
  const metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  for (const name of Object.keys(headerObj)) {
    const value = headerObj[name];
    if (name === METADATA_KEY) {
      // null is what the reference writes for "no metadata" in some versions; treat as empty.
      if (value === null) continue;
      if (!isPlainObject(value)) fail(`${METADATA_KEY} is not a map of strings to strings`);
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`${METADATA_KEY} value for ${JSON.stringify(k)} is not a string`);
        setOwn(metadata, k, v as string);
      }
      continue;
    }
    const where = `tensor ${JSON.stringify(name)}`;
    if (!isPlainObject(value)) fail(`${where}: entry is not an object`);
    const info = value as Record<string, unknown>;

    if (!('dtype' in info)) fail(`${where}: missing dtype`);
    const dtype = info.dtype;
    if (typeof dtype !== 'string') fail(`${where}: dtype is not a string`);
    if (!isDType(dtype as string)) {
      fail(`${where}: dtype ${JSON.stringify(dtype).slice(1, -1)} not supported (supported: ${SUPPORTED})`);
    }

    if (!('shape' in info)) fail(`${where}: missing shape`);
    const shape = info.shape;
    if (!Array.isArray(shape)) fail(`${where}: shape is not an array`);
    for (const d of shape as unknown[]) {
      if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
        fail(`${where}: shape has an invalid dimension ${JSON.stringify(d)} (dimensions are non-negative integers)`);
      }
    }

    if (!('data_offsets' in info)) fail(`${where}: missing data_offsets`);
    const offsets = info.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2) fail(`${where}: data_offsets is not a [begin, end] pair`);
    const [begin, end] = offsets as unknown[];
    if (typeof begin !== 'number' || typeof end !== 'number' || !Number.isSafeInteger(begin) || !Number.isSafeInteger(end) || begin < 0 || end < 0) {
      fail(`${where}: data_offsets ${JSON.stringify(offsets)} are not non-negative integers`);
    }
    const b = begin as number;
    const e = end as number;
    if (b > e) fail(`${where}: data_offsets begin ${b} > end ${e}`);
    if (e > dataLength) fail(`${where}: data_offsets end ${e} is beyond the data section (${dataLength} bytes)`);

    const dims = shape as number[];
    const size = ITEM_SIZE[dtype as SafetensorsDType];
    const count = product(dims);
    // count * size could lose precision past 2^53; such a tensor cannot fit the file anyway.
    const expected = count * size;
    if (!Number.isSafeInteger(expected) || expected !== e - b) {
      fail(`${where}: byte length ${e - b} does not match shape ${formatShape(dims)} x ${dtype} (${Number.isSafeInteger(expected) ? expected : 'too many'} bytes)`);
    }
    entries.push({ name, dtype: dtype as SafetensorsDType, shape: [...dims], begin: b, end: e });
  }

  // Tensors must tile the data section exactly: no overlaps, no holes (as the reference checks).
  const byOffset = [...entries].sort((x, y) => x.begin - y.begin || x.end - y.end);
  let covered = 0;
  let last: Entry | undefined;
  for (const t of byOffset) {
    if (t.begin < covered && last) {
      fail(`tensors ${JSON.stringify(last.name)} and ${JSON.stringify(t.name)} overlap`);
    }
    if (t.begin > covered) fail(`unused bytes ${covered}..${t.begin} in the data section`);
    if (t.end > covered) {
      covered = t.end;
      last = t;
    }
  }
  if (covered < dataLength) fail(`unused bytes ${covered}..${dataLength} at the end of the data section`);

  return { metadata, entries };
}

/** Parse and validate safetensors bytes; `file` names the source in error messages. */
export function decodeSafetensors(bytes: Uint8Array, file: string, opts: DecodeOptions = {}): DecodedSafetensors {
  function fail(problem: string): never {
    throw new FileFormatError(file, problem);
  }
  const headerLength = checkPrefix(bytes.subarray(0, 512), bytes.byteLength, fail, opts);
  const dataStart = 8 + headerLength;
  const { metadata, entries } = parseHeader(bytes.subarray(8, dataStart), bytes.byteLength - dataStart, fail);
  const tensors: Record<string, NamedTensor> = {};
  for (const t of entries) {
    const src = bytes.subarray(dataStart + t.begin, dataStart + t.end);
    setOwn(tensors, t.name, { dtype: t.dtype, shape: t.shape, data: readArray(t.dtype, src, product(t.shape)) });
  }
  return { tensors, metadata };
}

/** Write tensors to `path` atomically (temp file + rename). */
export async function saveSafetensors(path: string, tensors: Record<string, NamedTensor | Tensor>, metadata?: Record<string, string>): Promise<void> {
  await writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

/**
 * Reads a safetensors file's bytes through the bounded reader (regular files only, at most
 * maxFileBytes), checking the 8-byte prefix and the JSON header against the file's size before
 * the data is read: a file of another kind, or a header whose offsets do not fit, costs the
 * header, not the file. The bytes still go through decodeSafetensors (or decodeModel /
 * decodeCheckpoint) afterwards.
 */
export async function readSafetensorsFile(path: string, opts: ReadSafetensorsOptions = {}): Promise<Uint8Array> {
  const fail = (problem: string): never => {
    throw new FileFormatError(path, problem);
  };
  const file = await openBounded(path, { maxBytes: opts.maxFileBytes ?? MAX_SAFETENSORS_FILE_BYTES, what: opts.what ?? 'a safetensors file' });
  try {
    const prefix = await file.read(0, 512);
    const headerLength = checkPrefix(prefix, file.size, fail, opts);
    // The header alone (at most maxHeaderBytes, 100 MB by default), validated against the size.
    const header = await file.read(8, headerLength);
    if (header.length < headerLength) fail(`header length ${headerLength} runs past the end of the file (${8 + header.length} bytes)`);
    parseHeader(header, file.size - 8 - headerLength, fail);
    return await file.readAll();
  } finally {
    await file.close();
  }
}

/** Read and validate a safetensors file. */
export async function loadSafetensors(path: string, opts?: ReadSafetensorsOptions): Promise<DecodedSafetensors> {
  return decodeSafetensors(await readSafetensorsFile(path, opts), path, opts);
}
