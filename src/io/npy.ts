// NumPy files: .npy (one array) and .npz (a zip of .npy files, what numpy.savez writes), so that
// parameters trained with the book's Python code become scratchnet models.
//
// .npy (numpy/lib/format.py): "\x93NUMPY", major, minor, header length (u16 LE for 1.0, u32 LE
// for 2.0/3.0), then a Python dict literal such as
//   {'descr': '<f4', 'fortran_order': False, 'shape': (30, 1, 5, 5), }
// padded with spaces and a newline, then the raw data. Read here: float32 and float64 in either
// byte order, C or Fortran order (returned in C order). Object arrays (pickled) are refused.
//
// .npz: a zip file (PKWARE APPNOTE): the end-of-central-directory record (zip64 when numpy
// forces it), the central directory, each entry's local header, then its data, stored (method 0)
// or deflated (method 8, node:zlib inflateRawSync). Sizes come from the central directory and
// are checked before anything is inflated (with an output cap: a zip bomb costs nothing), and
// every entry's CRC-32 is verified.
//
// Pickle files (the book's params.pkl) are refused with an explanation: unpickling can run any code.

import { FileFormatError } from '../errors.js';
import { nodeBuiltin } from './node-builtins.js';
import { openBounded } from './read-file.js';
import { sniffFormat } from './read-sniff.js';

export interface NpyArray {
  dtype: 'float32' | 'float64';
  shape: number[];
  /** Values in C (row-major) order, whatever the file's order. */
  data: Float32Array | Float64Array;
  /** Whether the file stored the array in Fortran (column-major) order. */
  fortranOrder: boolean;
}

/** Largest array or zip entry accepted (bytes). */
export const MAX_NPY_BYTES = 2 ** 30;
/** Largest total of all arrays in one .npz (bytes). */
export const MAX_NPZ_TOTAL_BYTES = 2 ** 31;
const MAX_HEADER_BYTES = 65536;
const MAX_ZIP_ENTRIES = 10000;

const PICKLE_ADVICE = "in Python, save the arrays with numpy instead: params = pickle.load(open('params.pkl', 'rb')); numpy.savez('params.npz', **params)";

const NPY_MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** Text from the file, made safe for a one-line message (control characters escaped). */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function startsWith(bytes: Uint8Array, prefix: number[]): boolean {
  return bytes.length >= prefix.length && prefix.every((b, i) => bytes[i] === b);
}

/** A pickle stream starts with PROTO (0x80) and a protocol number 2..5 (protocols 0/1 are text). */
export function isPickle(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x80 && bytes[1] >= 2 && bytes[1] <= 5;
}

function pickleError(file: string): FileFormatError {
  return new FileFormatError(file, `this is a Python pickle file; scratchnet does not read pickles because loading one can run arbitrary code; ${PICKLE_ADVICE}`);
}

// ---- the header dict: a tiny, strict parser for the literal numpy writes (never eval) ----

type PyValue = string | boolean | number[];

function parseHeaderDict(text: string, fail: (p: string) => never): Record<string, PyValue> {
  let pos = 0;
  const ws = () => {
    while (pos < text.length && ' \t\n\r'.includes(text[pos])) pos++;
  };
  const expect = (c: string) => {
    ws();
    if (text[pos] !== c) fail(`header is not a Python dict literal (expected '${c}' at character ${pos})`);
    pos++;
  };
  const str = (): string => {
    ws();
    const q = text[pos];
    if (q !== "'" && q !== '"') fail(`header: expected a quoted string at character ${pos}`);
    const end = text.indexOf(q, pos + 1);
    if (end < 0) fail('header: unterminated string');
    const s = text.slice(pos + 1, end);
    if (s.includes('\\')) fail('header: escapes in strings are not supported');
    pos = end + 1;
    return s;
  };
  const value = (): PyValue => {
    ws();
    const c = text[pos];
    if (c === "'" || c === '"') return str();
    if (text.startsWith('True', pos)) {
      pos += 4;
      return true;
    }
    if (text.startsWith('False', pos)) {
      pos += 5;
      return false;
    }
    if (c === '(') {
      pos++;
      const dims: number[] = [];
      for (;;) {
        ws();
        if (text[pos] === ')') {
          pos++;
          return dims;
        }
        const m = /^[0-9]+L?/.exec(text.slice(pos, pos + 24));
        if (!m) fail(`header: shape must be a tuple of non-negative integers (at character ${pos})`);
        const d = Number(m![0].replace('L', ''));
        if (!Number.isSafeInteger(d)) fail(`header: shape dimension ${m![0]} is too large`);
        dims.push(d);
        pos += m![0].length;
        ws();
        if (text[pos] === ',') pos++;
        else if (text[pos] !== ')') fail(`header: expected ',' or ')' in the shape at character ${pos}`);
      }
    }
    if (c === '[') fail('header: structured dtypes (a list of fields) are not supported; save plain float arrays');
    return fail(`header: unexpected value at character ${pos}`);
  };
  const out: Record<string, PyValue> = {};
  expect('{');
  for (;;) {
    ws();
    if (text[pos] === '}') {
      pos++;
      break;
    }
    const key = str();
    expect(':');
    if (Object.prototype.hasOwnProperty.call(out, key)) fail(`header: key '${key}' appears twice`);
    Object.defineProperty(out, key, { value: value(), enumerable: true, writable: true, configurable: true });
    ws();
    if (text[pos] === ',') pos++;
    else if (text[pos] !== '}') fail(`header: expected ',' or '}' at character ${pos}`);
  }
  ws();
  if (pos !== text.length) fail('header: unexpected text after the dict');
  return out;
}

const DTYPES: Record<string, { dtype: 'float32' | 'float64'; size: number; little: boolean }> = {
  '<f4': { dtype: 'float32', size: 4, little: true },
  '>f4': { dtype: 'float32', size: 4, little: false },
  '<f8': { dtype: 'float64', size: 8, little: true },
  '>f8': { dtype: 'float64', size: 8, little: false },
};

/** Fortran-order values -> C-order values (a transpose of the axes). */
function fortranToC<T extends Float32Array | Float64Array>(src: T, shape: number[]): T {
  const n = src.length;
  if (shape.length < 2 || n === 0) return src;
  const out = new (src.constructor as { new (n: number): T })(n);
  const rank = shape.length;
  // F strides: stride[0] = 1, stride[k] = stride[k-1] * shape[k-1]
  const fStride = new Array<number>(rank);
  fStride[0] = 1;
  for (let k = 1; k < rank; k++) fStride[k] = fStride[k - 1] * shape[k - 1];
  const index = new Array<number>(rank).fill(0);
  let f = 0;
  for (let c = 0; c < n; c++) {
    out[c] = src[f];
    // advance the C index (last axis fastest), keeping the F offset in step
    for (let k = rank - 1; k >= 0; k--) {
      index[k]++;
      f += fStride[k];
      if (index[k] < shape[k]) break;
      f -= fStride[k] * shape[k];
      index[k] = 0;
    }
  }
  return out;
}

/** Parse one .npy file held in memory; `file` names it in errors. */
export function parseNpy(bytes: Uint8Array, file: string): NpyArray {
  const fail = (problem: string): never => {
    throw new FileFormatError(printable(file), printable(problem));
  };
  if (isPickle(bytes)) throw pickleError(file);
  if (!startsWith(bytes, NPY_MAGIC)) fail('not a .npy file (no \\x93NUMPY magic)');
  if (bytes.length < 10) fail(`truncated .npy header (${bytes.length} bytes)`);
  const major = bytes[6];
  const minor = bytes[7];
  if (major < 1 || major > 3 || minor !== 0) fail(`.npy format version ${major}.${minor} is not supported (1.0, 2.0 and 3.0 are)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const prefix = major === 1 ? 10 : 12;
  if (bytes.length < prefix) fail(`truncated .npy header (${bytes.length} bytes)`);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  if (headerLength > MAX_HEADER_BYTES) fail(`header length ${headerLength} is above the ${MAX_HEADER_BYTES} byte limit`);
  const dataStart = prefix + headerLength;
  if (dataStart > bytes.length) fail(`header length ${headerLength} runs past the end of the file (${bytes.length} bytes)`);
  let text = '';
  try {
    text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1', { fatal: true }).decode(bytes.subarray(prefix, dataStart));
  } catch {
    fail('header is not valid text');
  }
  const header = parseHeaderDict(text, fail);
  for (const key of Object.keys(header)) if (!['descr', 'fortran_order', 'shape'].includes(key)) fail(`header has an unknown key '${key}'`);
  const { descr, fortran_order: fortranOrder, shape } = header;
  if (typeof descr !== 'string') fail("header has no 'descr' string");
  if (typeof fortranOrder !== 'boolean') fail("header has no 'fortran_order' True/False");
  if (!Array.isArray(shape)) fail("header has no 'shape' tuple");
  if ((descr as string).includes('O')) {
    fail(`the array holds Python objects (dtype ${descr}), stored as a pickle, which can run arbitrary code when loaded; save float arrays (numpy.asarray(a, dtype=numpy.float32))`);
  }
  const dt = DTYPES[(descr as string).replace(/^=/, '<')];
  if (!dt) fail(`dtype ${descr} is not supported (float32 '<f4' or float64 '<f8', either byte order)`);
  const dims = shape as number[];
  let count = 1;
  for (const d of dims) count *= d;
  const byteLength = count * dt.size;
  if (!Number.isSafeInteger(byteLength) || byteLength > MAX_NPY_BYTES) fail(`shape (${dims.join(', ')}) needs ${byteLength} bytes, above the ${MAX_NPY_BYTES} byte limit`);
  const found = bytes.length - dataStart;
  if (found < byteLength) fail(`truncated: shape (${dims.join(', ')}) ${descr} needs ${byteLength} bytes of data, found ${found}`);
  if (found > byteLength) fail(`${found - byteLength} trailing bytes after the ${byteLength} bytes of data the header declares`);
  const data = dt.dtype === 'float32' ? new Float32Array(count) : new Float64Array(count);
  const dv = new DataView(bytes.buffer, bytes.byteOffset + dataStart, byteLength);
  if (dt.dtype === 'float32') for (let i = 0; i < count; i++) data[i] = dv.getFloat32(i * 4, dt.little);
  else for (let i = 0; i < count; i++) data[i] = dv.getFloat64(i * 8, dt.little);
  return { dtype: dt.dtype, shape: [...dims], data: fortranOrder ? fortranToC(data, dims) : data, fortranOrder: fortranOrder as boolean };
}

// ---- zip ----

let crcTable: Int32Array | null = null;

/** CRC-32 (IEEE 802.3, as zip uses). */
export function crc32(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Int32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c;
    }
  }
  let crc = -1;
  for (let i = 0; i < bytes.length; i++) crc = crcTable[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ -1) >>> 0;
}

const isZip = (bytes: Uint8Array): boolean => startsWith(bytes, [0x50, 0x4b, 0x03, 0x04]) || startsWith(bytes, [0x50, 0x4b, 0x05, 0x06]);

interface ZipEntry {
  name: string;
  method: number;
  flags: number;
  crc: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

function readCentralDirectory(bytes: Uint8Array, fail: (p: string) => never): ZipEntry[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u16 = (o: number) => view.getUint16(o, true);
  const u32 = (o: number) => view.getUint32(o, true);
  const u64 = (o: number) => {
    const v = view.getBigUint64(o, true);
    return v > BigInt(Number.MAX_SAFE_INTEGER) ? Infinity : Number(v);
  };
  // End of central directory: 22 bytes + a comment of up to 65535 bytes, at the very end.
  let eocd = -1;
  for (let p = bytes.length - 22; p >= Math.max(0, bytes.length - 22 - 65535); p--) {
    if (u32(p) === 0x06054b50 && p + 22 + u16(p + 20) === bytes.length) {
      eocd = p;
      break;
    }
  }
  if (eocd < 0) fail('not a complete zip file (no end-of-central-directory record: truncated?)');
  let count = u16(eocd + 10);
  let cdSize = u32(eocd + 12);
  let cdOffset = u32(eocd + 16);
  if (u16(eocd + 4) !== 0 || u16(eocd + 6) !== 0) fail('multi-part zip files are not supported');
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const loc = eocd - 20;
    if (loc < 0 || u32(loc) !== 0x07064b50) fail('zip64 end-of-central-directory locator missing');
    const rec = u64(loc + 8);
    if (!(rec + 56 <= bytes.length) || u32(rec) !== 0x06064b50) fail('zip64 end-of-central-directory record missing or out of range');
    count = u64(rec + 32);
    cdSize = u64(rec + 40);
    cdOffset = u64(rec + 48);
  }
  if (count > MAX_ZIP_ENTRIES) fail(`zip declares ${count} entries, above the limit of ${MAX_ZIP_ENTRIES}`);
  if (!(cdOffset + cdSize <= bytes.length)) fail('zip central directory lies outside the file');
  const entries: ZipEntry[] = [];
  let p = cdOffset;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cdOffset + cdSize || u32(p) !== 0x02014b50) fail(`zip central directory entry ${i} is corrupt`);
    const flags = u16(p + 8);
    const method = u16(p + 10);
    const crc = u32(p + 16);
    let compressedSize = u32(p + 20);
    let size = u32(p + 24);
    const nameLen = u16(p + 28);
    const extraLen = u16(p + 30);
    const commentLen = u16(p + 32);
    let localOffset = u32(p + 42);
    const end = p + 46 + nameLen + extraLen + commentLen;
    if (end > cdOffset + cdSize) fail(`zip central directory entry ${i} runs past the directory`);
    let name = '';
    try {
      name = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(p + 46, p + 46 + nameLen));
    } catch {
      fail(`zip entry ${i} has a name that is not UTF-8`);
    }
    // zip64 extended information (header id 1): the 0xFFFFFFFF fields, in this order.
    let e = p + 46 + nameLen;
    const extraEnd = e + extraLen;
    while (e + 4 <= extraEnd) {
      const id = u16(e);
      const len = u16(e + 2);
      if (e + 4 + len > extraEnd) fail(`zip entry ${name}: corrupt extra field`);
      if (id === 1) {
        let q = e + 4;
        const take = (): number => {
          if (q + 8 > e + 4 + len) fail(`zip entry ${name}: zip64 field too short`);
          const v = u64(q);
          q += 8;
          return v;
        };
        if (size === 0xffffffff) size = take();
        if (compressedSize === 0xffffffff) compressedSize = take();
        if (localOffset === 0xffffffff) localOffset = take();
      }
      e += 4 + len;
    }
    entries.push({ name, method, flags, crc, compressedSize, size, localOffset });
    p = end;
  }
  return entries;
}

/** Parse a .npz (zip of .npy files) held in memory: arrays by name (without ".npy"). */
export function parseNpz(bytes: Uint8Array, file: string): Record<string, NpyArray> {
  const fail = (problem: string): never => {
    throw new FileFormatError(printable(file), printable(problem));
  };
  if (isPickle(bytes)) throw pickleError(file);
  if (!isZip(bytes)) {
    if (startsWith(bytes, NPY_MAGIC)) fail('this is a single .npy array, not a .npz archive');
    const kind = sniffFormat(bytes.subarray(0, 512));
    fail(kind === null ? 'not a .npz file (not a zip archive)' : `is ${kind}, not a .npz file (a zip archive of .npy arrays)`);
  }
  if (bytes.length < 22) fail('truncated zip file');
  const entries = readCentralDirectory(bytes, fail);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Record<string, NpyArray> = {};
  let total = 0;
  for (const entry of entries) {
    const where = `${file}[${entry.name}]`;
    if (entry.name.endsWith('/')) continue; // a folder entry
    if (!entry.name.endsWith('.npy')) fail(`zip entry ${entry.name} is not a .npy array`);
    const key = entry.name.slice(0, -4);
    if (Object.prototype.hasOwnProperty.call(out, key)) fail(`zip holds ${entry.name} twice`);
    if (entry.flags & 1) fail(`zip entry ${entry.name} is encrypted`);
    if (entry.method !== 0 && entry.method !== 8) fail(`zip entry ${entry.name} uses compression method ${entry.method} (stored and deflate are supported)`);
    if (entry.size > MAX_NPY_BYTES) fail(`zip entry ${entry.name} declares ${entry.size} bytes, above the ${MAX_NPY_BYTES} byte limit`);
    total += entry.size;
    if (total > MAX_NPZ_TOTAL_BYTES) fail(`the arrays add up to more than ${MAX_NPZ_TOTAL_BYTES} bytes`);
    const lo = entry.localOffset;
    if (!(lo + 30 <= bytes.length) || view.getUint32(lo, true) !== 0x04034b50) fail(`zip entry ${entry.name}: local header missing or out of range`);
    const start = lo + 30 + view.getUint16(lo + 26, true) + view.getUint16(lo + 28, true);
    if (!(start + entry.compressedSize <= bytes.length)) fail(`zip entry ${entry.name} runs past the end of the file (truncated?)`);
    const raw = bytes.subarray(start, start + entry.compressedSize);
    let content: Uint8Array;
    if (entry.method === 0) {
      if (entry.compressedSize !== entry.size) fail(`zip entry ${entry.name}: stored sizes disagree`);
      content = raw;
    } else {
      try {
        content = nodeBuiltin('node:zlib').inflateRawSync(raw, { maxOutputLength: Math.max(1, entry.size) });
      } catch (e) {
        const code = (e as { code?: string }).code;
        return fail(code === 'ERR_BUFFER_TOO_LARGE' ? `zip entry ${entry.name} inflates past its declared ${entry.size} bytes` : `zip entry ${entry.name}: corrupt deflate data`);
      }
      if (content.length !== entry.size) fail(`zip entry ${entry.name} inflates to ${content.length} bytes, not the declared ${entry.size}`);
    }
    if (crc32(content) !== entry.crc) fail(`zip entry ${entry.name}: CRC-32 mismatch (corrupt data)`);
    Object.defineProperty(out, key, { value: parseNpy(content, where), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** Read .npz (or a single .npy, keyed by its file name) from disk, refusing pickles with advice. */
export async function readNumpyFile(path: string): Promise<Record<string, NpyArray>> {
  // Regular files only, at most MAX_NPZ_TOTAL_BYTES; the magic is checked on the first bytes
  // before the rest is read, so a 2 GB file of another kind costs 16 bytes, not 2 GB.
  const file = await openBounded(path, { maxBytes: MAX_NPZ_TOTAL_BYTES, what: 'a .npz file' });
  let bytes: Uint8Array;
  try {
    const head = await file.read(0, 512);
    if (!isZip(head) && !startsWith(head, NPY_MAGIC)) return parseNpz(head, path); // says what it is
    bytes = await file.readAll();
  } finally {
    await file.close();
  }
  if (startsWith(bytes, NPY_MAGIC)) {
    const name = path.replace(/^.*[\\/]/, '').replace(/\.npy$/, '');
    return { [name]: parseNpy(bytes, path) };
  }
  return parseNpz(bytes, path);
}
