import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { FileFormatError, ScratchnetError } from '../src/errors.js';
import { Tensor } from '../src/tensor.js';
import { writeFileAtomic, writeFileAtomicSync } from '../src/io/atomic.js';
import {
  decodeSafetensors,
  encodeSafetensors,
  loadSafetensors,
  saveSafetensors,
  type NamedTensor,
} from '../src/io/safetensors.js';

const FILE = 'test.safetensors';

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'scratchnet-st-'));
}

/** A file from a header JSON string and raw data, prefix = exact header length (no padding). */
function rawFile(header: string, data: ArrayLike<number> = [], prefix?: bigint): Uint8Array {
  const json = Buffer.from(header, 'utf8');
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, prefix ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(Array.from(data), 8 + json.length);
  return out;
}

/** Assert decode fails with a FileFormatError whose message contains `fragment` and is one line. */
function refuses(bytes: Uint8Array, fragment: string | RegExp, opts?: { maxHeaderBytes?: number }): void {
  assert.throws(
    () => decodeSafetensors(bytes, FILE, opts),
    (e: unknown) => {
      assert.ok(e instanceof FileFormatError, `expected FileFormatError, got ${String(e)}`);
      assert.ok(!e.message.includes('\n'), `message should be one line: ${e.message}`);
      assert.ok(e.message.startsWith(`${FILE}: `), e.message);
      if (typeof fragment === 'string') assert.ok(e.message.includes(fragment), `"${e.message}" lacks "${fragment}"`);
      else assert.match(e.message, fragment);
      return true;
    },
  );
}

/** Minimal header entry. */
function entry(dtype: unknown, shape: unknown, offsets: unknown): string {
  return JSON.stringify({ dtype, shape, data_offsets: offsets });
}

describe('safetensors round trip', () => {
  test('all dtypes, metadata, empty and scalar tensors', () => {
    const tensors: Record<string, NamedTensor> = {
      f32: { dtype: 'F32', shape: [2, 3], data: new Float32Array([0, 1.5, -2, 3.25, 1e-30, -0]) },
      f64: { dtype: 'F64', shape: [3], data: new Float64Array([Math.PI, -1e300, 5e-324]) },
      i32: { dtype: 'I32', shape: [2, 2], data: new Int32Array([-2147483648, 2147483647, 0, -1]) },
      u8: { dtype: 'U8', shape: [5], data: new Uint8Array([0, 1, 127, 128, 255]) },
      empty: { dtype: 'F32', shape: [0, 3], data: new Float32Array(0) },
      empty64: { dtype: 'F64', shape: [4, 0], data: new Float64Array(0) },
      scalar: { dtype: 'F64', shape: [], data: new Float64Array([42.5]) },
      scalarU8: { dtype: 'U8', shape: [], data: new Uint8Array([7]) },
    };
    const metadata = { format: 'pt', spec: JSON.stringify({ layers: [{ type: 'conv' }] }), 'ü nicode': 'värde\n' };
    const bytes = encodeSafetensors(tensors, metadata);
    const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    assert.equal((8 + headerLength) % 8, 0, 'data section starts on an 8-byte boundary');

    const out = decodeSafetensors(bytes, FILE);
    assert.deepEqual(out.metadata, metadata);
    assert.deepEqual(Object.keys(out.tensors).sort(), Object.keys(tensors).sort());
    for (const [name, t] of Object.entries(tensors)) {
      const got = out.tensors[name];
      assert.equal(got.dtype, t.dtype, name);
      assert.deepEqual(got.shape, t.shape, name);
      assert.equal(got.data.constructor, t.data.constructor, name);
      assert.deepEqual(Array.from(got.data), Array.from(t.data), name);
      // Fresh storage: never a view of the caller's bytes.
      assert.notEqual(got.data.buffer, bytes.buffer, name);
    }
    assert.ok(Object.is(out.tensors.f32.data[5], -0));
  });

  test('Tensor values are stored as F32 or F64 after their data', () => {
    const a = new Tensor(new Float32Array([1, 2, 3, 4]), [2, 2]);
    const b = new Tensor(new Float64Array([0.1, 0.2]), [2]);
    const out = decodeSafetensors(encodeSafetensors({ a, b }), FILE);
    assert.equal(out.tensors.a.dtype, 'F32');
    assert.deepEqual(out.tensors.a.shape, [2, 2]);
    assert.deepEqual(Array.from(out.tensors.a.data), [1, 2, 3, 4]);
    assert.equal(out.tensors.b.dtype, 'F64');
    assert.deepEqual(Array.from(out.tensors.b.data), [0.1, 0.2]);
  });

  test('no tensors, no metadata', () => {
    const bytes = encodeSafetensors({});
    assert.deepEqual(Array.from(bytes), [8, 0, 0, 0, 0, 0, 0, 0, ...Buffer.from('{}      ')]);
    assert.deepEqual(decodeSafetensors(bytes, FILE), { tensors: {}, metadata: {} });
  });

  test('decodes from an unaligned, offset buffer', () => {
    const bytes = encodeSafetensors({ x: { dtype: 'F64', shape: [2], data: new Float64Array([1.25, -3]) } });
    const backing = new Uint8Array(bytes.length + 3);
    backing.set(bytes, 3);
    const out = decodeSafetensors(backing.subarray(3), FILE);
    assert.deepEqual(Array.from(out.tensors.x.data), [1.25, -3]);
  });

  test('a tensor named __proto__ stays an own property', () => {
    const bytes = rawFile(`{"__proto__":${entry('U8', [1], [0, 1])}}`, [9]);
    const out = decodeSafetensors(bytes, FILE);
    assert.ok(Object.prototype.hasOwnProperty.call(out.tensors, '__proto__'));
    assert.equal(Object.getPrototypeOf(out.tensors), Object.prototype);
  });

  test('encode refuses bad input', () => {
    assert.throws(() => encodeSafetensors({ x: { dtype: 'F32', shape: [3], data: new Float32Array(2) } }), /needs 3 values/);
    assert.throws(() => encodeSafetensors({ x: { dtype: 'F32', shape: [2], data: new Float64Array(2) } }), /Float32Array/);
    assert.throws(() => encodeSafetensors({ x: { dtype: 'F16' as 'F32', shape: [1], data: new Float32Array(1) } }), /F16 not supported/);
    assert.throws(() => encodeSafetensors({ x: { dtype: 'F32', shape: [-1], data: new Float32Array(0) } }), /invalid shape/);
    assert.throws(() => encodeSafetensors({ __metadata__: { dtype: 'U8', shape: [0], data: new Uint8Array(0) } }), /reserved/);
    assert.throws(() => encodeSafetensors({}, { k: 1 as unknown as string }), /must be a string/);
  });
});

describe('safetensors byte layout (reference format)', () => {
  test('single F32 tensor, header exactly 64 bytes', () => {
    const data = new Float32Array([0, 1, 2, 3, 4, 5]);
    const bytes = encodeSafetensors({ 'attn.0': { dtype: 'F32', shape: [1, 2, 3], data } });
    const header = '{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}';
    assert.equal(header.length, 64);
    const expected = [
      64, 0, 0, 0, 0, 0, 0, 0,
      ...Buffer.from(header, 'ascii'),
      0x00, 0x00, 0x00, 0x00, // 0.0f
      0x00, 0x00, 0x80, 0x3f, // 1.0f
      0x00, 0x00, 0x00, 0x40, // 2.0f
      0x00, 0x00, 0x40, 0x40, // 3.0f
      0x00, 0x00, 0x80, 0x40, // 4.0f
      0x00, 0x00, 0xa0, 0x40, // 5.0f
    ];
    assert.deepEqual(Array.from(bytes), expected);
  });

  test('mixed dtypes: metadata first, dtype-descending then name order, space padding', () => {
    const bytes = encodeSafetensors(
      {
        b: { dtype: 'U8', shape: [3], data: new Uint8Array([1, 2, 3]) },
        w: { dtype: 'F32', shape: [2], data: new Float32Array([0.5, -2]) },
        c: { dtype: 'I32', shape: [2], data: new Int32Array([-1, 7]) },
        a: { dtype: 'F64', shape: [], data: new Float64Array([1.5]) },
        v: { dtype: 'F32', shape: [0], data: new Float32Array(0) },
      },
      { format: 'pt', arch: 'x' },
    );
    const header =
      '{"__metadata__":{"arch":"x","format":"pt"},' +
      '"a":{"dtype":"F64","shape":[],"data_offsets":[0,8]},' +
      '"v":{"dtype":"F32","shape":[0],"data_offsets":[8,8]},' +
      '"w":{"dtype":"F32","shape":[2],"data_offsets":[8,16]},' +
      '"c":{"dtype":"I32","shape":[2],"data_offsets":[16,24]},' +
      '"b":{"dtype":"U8","shape":[3],"data_offsets":[24,27]}}';
    assert.equal(header.length, 311); // 311 + 1 space = 312, a multiple of 8
    const expected = [
      0x38, 0x01, 0, 0, 0, 0, 0, 0, // 312 = 0x138, little-endian u64
      ...Buffer.from(header + ' ', 'ascii'),
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf8, 0x3f, // 1.5 (f64)
      0x00, 0x00, 0x00, 0x3f, // 0.5f
      0x00, 0x00, 0x00, 0xc0, // -2.0f
      0xff, 0xff, 0xff, 0xff, // -1 (i32)
      0x07, 0x00, 0x00, 0x00, // 7
      0x01, 0x02, 0x03,
    ];
    assert.deepEqual(Array.from(bytes), expected);
  });

  test('reads files written in any tensor order (older writers sorted by name only)', () => {
    const header = `{"z":${entry('U8', [1], [0, 1])},"a":${entry('F32', [1], [1, 5])}}`;
    const out = decodeSafetensors(rawFile(header, [9, 0, 0, 0x80, 0x3f]), FILE);
    assert.deepEqual(Array.from(out.tensors.z.data), [9]);
    assert.deepEqual(Array.from(out.tensors.a.data), [1]);
  });
});

describe('safetensors refuses malformed files', () => {
  test('too short, header length out of range', () => {
    refuses(new Uint8Array(0), 'too short');
    refuses(new Uint8Array(7), 'file is 7 bytes, too short');
    refuses(rawFile('{}', [], 100n), 'header length 100 runs past the end of the file (10 bytes)');
    refuses(rawFile('{}', [], 0xffffffffffffffffn), 'above the limit of 100000000 bytes');
    refuses(encodeSafetensors({}), 'header length 8 is above the limit of 4 bytes', { maxHeaderBytes: 4 });
  });

  test('header not UTF-8, not JSON, not an object', () => {
    const bad = rawFile('{"a":1}');
    bad[9] = 0xff;
    refuses(bad, 'header is not valid UTF-8');
    refuses(rawFile('\ufeff{}'), 'header is not valid JSON'); // a BOM is not JSON
    refuses(rawFile('{"a":'), 'header is not valid JSON');
    refuses(rawFile(''), 'header is not valid JSON');
    refuses(rawFile('[1,2]'), 'header is not a JSON object');
    refuses(rawFile('null'), 'header is not a JSON object');
    refuses(rawFile('"x"'), 'header is not a JSON object');
  });

  test('entries missing or invalid fields', () => {
    refuses(rawFile('{"a":5}'), 'tensor "a": entry is not an object');
    refuses(rawFile('{"a":{"shape":[1],"data_offsets":[0,1]}}', [0]), 'tensor "a": missing dtype');
    refuses(rawFile('{"a":{"dtype":"U8","data_offsets":[0,1]}}', [0]), 'tensor "a": missing shape');
    refuses(rawFile('{"a":{"dtype":"U8","shape":[1]}}', [0]), 'tensor "a": missing data_offsets');
    refuses(rawFile(`{"a":${entry(4, [1], [0, 1])}}`, [0]), 'dtype is not a string');
  });

  test('unsupported dtypes are named', () => {
    refuses(rawFile(`{"a":${entry('F16', [1], [0, 2])}}`, [0, 0]), 'dtype F16 not supported');
    refuses(rawFile(`{"a":${entry('BF16', [1], [0, 2])}}`, [0, 0]), 'dtype BF16 not supported');
    refuses(rawFile(`{"a":${entry('I64', [1], [0, 8])}}`, new Array(8).fill(0)), 'supported: F32, F64, I32, U8');
    refuses(rawFile(`{"a":${entry('f32', [1], [0, 4])}}`, [0, 0, 0, 0]), 'dtype f32 not supported');
  });

  test('invalid shapes', () => {
    refuses(rawFile(`{"a":${entry('U8', 3, [0, 3])}}`, [0, 0, 0]), 'tensor "a": shape is not an array');
    refuses(rawFile(`{"a":${entry('U8', [-1], [0, 0])}}`), 'invalid dimension -1');
    refuses(rawFile(`{"a":${entry('U8', [1.5], [0, 1])}}`, [0]), 'invalid dimension 1.5');
    refuses(rawFile(`{"a":${entry('U8', ['2'], [0, 2])}}`, [0, 0]), 'invalid dimension "2"');
    refuses(rawFile(`{"a":${entry('U8', [null], [0, 1])}}`, [0]), 'invalid dimension null');
    refuses(rawFile('{"a":{"dtype":"U8","shape":[1e400],"data_offsets":[0,1]}}', [0]), 'invalid dimension');
  });

  test('invalid offsets', () => {
    refuses(rawFile(`{"a":${entry('U8', [1], [0])}}`, [0]), 'data_offsets is not a [begin, end] pair');
    refuses(rawFile(`{"a":${entry('U8', [1], [0, 1, 2])}}`, [0]), 'data_offsets is not a [begin, end] pair');
    refuses(rawFile(`{"a":${entry('U8', [1], { begin: 0, end: 1 })}}`, [0]), 'data_offsets is not a [begin, end] pair');
    refuses(rawFile(`{"a":${entry('U8', [1], [0.5, 1.5])}}`, [0, 0]), 'are not non-negative integers');
    refuses(rawFile(`{"a":${entry('U8', [1], [-1, 0])}}`, [0]), 'are not non-negative integers');
    refuses(rawFile(`{"a":${entry('U8', [1], ['0', '1'])}}`, [0]), 'are not non-negative integers');
    refuses(rawFile(`{"a":${entry('U8', [1], [2, 1])}}`, [0, 0]), 'data_offsets begin 2 > end 1');
    refuses(rawFile(`{"a":${entry('U8', [4], [0, 4])}}`, [0, 0, 0]), 'data_offsets end 4 is beyond the data section (3 bytes)');
  });

  test('byte length must match shape and dtype', () => {
    refuses(rawFile(`{"a":${entry('F32', [2], [0, 4])}}`, [0, 0, 0, 0]), 'byte length 4 does not match shape [2] x F32 (8 bytes)');
    refuses(rawFile(`{"a":${entry('F64', [], [0, 4])}}`, [0, 0, 0, 0]), 'does not match shape [] x F64 (8 bytes)');
    refuses(rawFile(`{"a":${entry('U8', [2 ** 40, 2 ** 40], [0, 1])}}`, [0]), 'does not match');
  });

  test('overlapping tensors and unused bytes', () => {
    const eight = new Array(12).fill(0);
    refuses(rawFile(`{"a":${entry('F32', [2], [0, 8])},"b":${entry('F32', [2], [4, 12])}}`, eight), 'tensors "a" and "b" overlap');
    refuses(rawFile(`{"b":${entry('U8', [4], [0, 4])},"a":${entry('U8', [4], [0, 4])}}`, [0, 0, 0, 0]), 'overlap');
    refuses(rawFile(`{"a":${entry('U8', [2], [0, 2])},"b":${entry('U8', [1], [3, 4])}}`, [0, 0, 0, 0]), 'unused bytes 2..3 in the data section');
    refuses(rawFile(`{"a":${entry('U8', [2], [1, 3])}}`, [0, 0, 0]), 'unused bytes 0..1');
    refuses(rawFile(`{"a":${entry('U8', [2], [0, 2])}}`, [0, 0, 0, 0]), 'unused bytes 2..4 at the end of the data section');
    refuses(rawFile('{}', [1]), 'unused bytes 0..1');
    // Empty tensors take no bytes and may share an offset with anything that starts there.
    const ok = rawFile(`{"a":${entry('U8', [2], [0, 2])},"e":${entry('F32', [0], [2, 2])},"f":${entry('U8', [0], [0, 0])}}`, [5, 6]);
    assert.deepEqual(Array.from(decodeSafetensors(ok, FILE).tensors.a.data), [5, 6]);
  });

  test('__metadata__ must map strings to strings', () => {
    refuses(rawFile('{"__metadata__":"x"}'), '__metadata__ is not a map of strings to strings');
    refuses(rawFile('{"__metadata__":["a"]}'), '__metadata__ is not a map of strings to strings');
    refuses(rawFile('{"__metadata__":{"epochs":20}}'), '__metadata__ value for "epochs" is not a string');
    refuses(rawFile('{"__metadata__":{"a":{"b":"c"}}}'), '__metadata__ value for "a" is not a string');
    assert.deepEqual(decodeSafetensors(rawFile('{"__metadata__":null}'), FILE).metadata, {});
  });

  test('hostile names stay on one line', () => {
    refuses(rawFile(`{"a\\nb":${entry('F16', [1], [0, 2])}}`, [0, 0]), 'tensor "a\\nb": dtype F16 not supported');
  });

  test('fuzz: mutated files either decode or throw FileFormatError', () => {
    // Seeded LCG (Numerical Recipes constants) so failures reproduce.
    let state = 0x2545f491;
    const next = (): number => {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      return state / 4294967296;
    };
    const int = (n: number): number => Math.floor(next() * n);

    const base = encodeSafetensors(
      {
        w: { dtype: 'F32', shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6]) },
        b: { dtype: 'F64', shape: [2], data: new Float64Array([0.5, -0.5]) },
        i: { dtype: 'I32', shape: [], data: new Int32Array([3]) },
        u: { dtype: 'U8', shape: [3], data: new Uint8Array([1, 2, 3]) },
        e: { dtype: 'F32', shape: [0, 2], data: new Float32Array(0) },
      },
      { spec: '{"a":[1,2]}' },
    );
    const headerEnd = 8 + Number(new DataView(base.buffer).getBigUint64(0, true));
    const jsonish = Buffer.from('{}[],:"-0123456789.eE \\ufF');

    const deadline = Date.now() + 2000;
    let runs = 0;
    let decoded = 0;
    while (runs < 5000 && Date.now() < deadline) {
      runs++;
      let bytes = base.slice();
      const mutations = 1 + int(3);
      for (let m = 0; m < mutations; m++) {
        const kind = int(6);
        if (kind === 0) {
          // flip bits anywhere, mostly in the header where parsing happens
          const at = next() < 0.8 ? int(headerEnd) : int(bytes.length);
          if (at < bytes.length) bytes[at] ^= 1 << int(8);
        } else if (kind === 1) {
          // replace a header byte with a JSON-significant character
          const at = 8 + int(headerEnd - 8);
          if (at < bytes.length) bytes[at] = jsonish[int(jsonish.length)];
        } else if (kind === 2) {
          bytes = bytes.slice(0, int(bytes.length + 1));
        } else if (kind === 3 && bytes.length >= 8) {
          const view = new DataView(bytes.buffer, bytes.byteOffset);
          const choice = int(3);
          const value = choice === 0 ? BigInt(headerEnd - 8 + int(17) - 8) : choice === 1 ? BigInt(int(bytes.length * 2)) : BigInt.asUintN(64, BigInt(int(2 ** 32)) << BigInt(int(33)));
          view.setBigUint64(0, value < 0n ? 0n : value, true);
        } else if (kind === 4) {
          // insert or delete one byte (shifts the data section against the offsets)
          const at = int(bytes.length + 1);
          const grown = new Uint8Array(bytes.length + 1);
          grown.set(bytes.subarray(0, at));
          grown[at] = int(256);
          grown.set(bytes.subarray(at), at + 1);
          bytes = next() < 0.5 ? grown : new Uint8Array([...bytes.subarray(0, at), ...bytes.subarray(at + 1)]);
        } else {
          // append garbage
          bytes = new Uint8Array([...bytes, ...Array.from({ length: 1 + int(9) }, () => int(256))]);
        }
      }
      try {
        decodeSafetensors(bytes, FILE);
        decoded++;
      } catch (e) {
        if (!(e instanceof FileFormatError)) {
          throw new Error(`run ${runs}: non-FileFormatError ${String(e)} for bytes ${Buffer.from(bytes).toString('hex')}`);
        }
        assert.ok(!e.message.includes('\n'), e.message);
      }
    }
    assert.ok(runs >= 1000, `only ${runs} fuzz runs in time`);
    assert.ok(decoded > 0 && decoded < runs, `decoded ${decoded} of ${runs}`);
  });
});

describe('saving and loading files', () => {
  test('save then load; no temp files remain', async () => {
    const dir = tmpDir();
    try {
      const file = path.join(dir, 'model.safetensors');
      const w = new Tensor(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]);
      await saveSafetensors(file, { w }, { epochs: '3' });
      await saveSafetensors(file, { w }, { epochs: '4' }); // replaces the existing file
      assert.deepEqual(fs.readdirSync(dir), ['model.safetensors']);
      const out = await loadSafetensors(file);
      assert.deepEqual(out.metadata, { epochs: '4' });
      assert.deepEqual(Array.from(out.tensors.w.data), [1, 2, 3, 4, 5, 6]);
      assert.deepEqual(out.tensors.w.shape, [2, 3]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('concurrent saves to one path leave one complete file', async () => {
    const dir = tmpDir();
    try {
      const file = path.join(dir, 'm.safetensors');
      const versions = Array.from({ length: 8 }, (_, k) => ({ v: { dtype: 'I32' as const, shape: [1000], data: new Int32Array(1000).fill(k) } }));
      await Promise.all(versions.map((t) => saveSafetensors(file, t)));
      assert.deepEqual(fs.readdirSync(dir), ['m.safetensors']);
      const data = (await loadSafetensors(file)).tensors.v.data;
      assert.ok(data.every((x) => x === data[0]));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('load: missing file, a folder, a corrupt file', async () => {
    const dir = tmpDir();
    try {
      const missing = path.join(dir, 'nope.safetensors');
      await assert.rejects(loadSafetensors(missing), (e: unknown) => {
        assert.ok(e instanceof ScratchnetError && !(e instanceof FileFormatError));
        assert.equal(e.message, `${missing}: no such file`);
        return true;
      });
      await assert.rejects(loadSafetensors(dir), { message: `${dir}: is a folder, not a safetensors file` });
      const corrupt = path.join(dir, 'bad.safetensors');
      fs.writeFileSync(corrupt, 'abc');
      await assert.rejects(loadSafetensors(corrupt), (e: unknown) => e instanceof FileFormatError && e.file === corrupt);
      const big = path.join(dir, 'big.safetensors');
      fs.writeFileSync(big, encodeSafetensors({}, { note: 'x'.repeat(100) }));
      await assert.rejects(loadSafetensors(big, { maxHeaderBytes: 64 }), /above the limit of 64 bytes/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('atomic writes', () => {
  for (const [label, write] of [
    ['async', (p: string, d: Uint8Array | string) => writeFileAtomic(p, d)],
    ['sync', async (p: string, d: Uint8Array | string) => writeFileAtomicSync(p, d)],
  ] as const) {
    test(`${label}: writes and replaces; no temp files remain`, async () => {
      const dir = tmpDir();
      try {
        const file = path.join(dir, 'a.txt');
        await write(file, 'first');
        await write(file, new Uint8Array([104, 105]));
        assert.equal(fs.readFileSync(file, 'utf8'), 'hi');
        assert.deepEqual(fs.readdirSync(dir), ['a.txt']);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    test(`${label}: a missing folder is a one-line ScratchnetError and leaves nothing`, async () => {
      const dir = tmpDir();
      try {
        const file = path.join(dir, 'no', 'such', 'model.safetensors');
        await assert.rejects(write(file, 'x'), (e: unknown) => {
          assert.ok(e instanceof ScratchnetError);
          assert.equal(e.message, `${file}: cannot write: folder does not exist`);
          return true;
        });
        assert.deepEqual(fs.readdirSync(dir), []);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    test(`${label}: a failed write keeps the old file and removes the temp file`, async () => {
      const dir = tmpDir();
      try {
        const file = path.join(dir, 'keep.txt');
        fs.writeFileSync(file, 'old content');
        // Invalid data makes the write itself throw after the temp file was created.
        await assert.rejects(write(file, 12345 as unknown as string));
        assert.equal(fs.readFileSync(file, 'utf8'), 'old content');
        assert.deepEqual(fs.readdirSync(dir), ['keep.txt']);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    test(`${label}: writing over a folder fails at rename and leaves the folder intact`, async () => {
      const dir = tmpDir();
      try {
        const target = path.join(dir, 'out');
        fs.mkdirSync(target);
        fs.writeFileSync(path.join(target, 'inner.txt'), 'old content');
        await assert.rejects(write(target, 'new'), (e: unknown) => {
          assert.ok(e instanceof ScratchnetError);
          assert.equal(e.message, `${target}: cannot write: path is a folder`);
          return true;
        });
        assert.equal(fs.readFileSync(path.join(target, 'inner.txt'), 'utf8'), 'old content');
        assert.deepEqual(fs.readdirSync(dir), ['out']);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  test('saveSafetensors: an encode error leaves the old file untouched', async () => {
    const dir = tmpDir();
    try {
      const file = path.join(dir, 'm.safetensors');
      await saveSafetensors(file, { a: { dtype: 'U8', shape: [1], data: new Uint8Array([1]) } });
      const before = fs.readFileSync(file);
      await assert.rejects(saveSafetensors(file, { a: { dtype: 'U8', shape: [2], data: new Uint8Array([1]) } }));
      assert.deepEqual(fs.readFileSync(file), before);
      assert.deepEqual(fs.readdirSync(dir), ['m.safetensors']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
