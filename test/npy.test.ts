// NumPy import: .npy / .npz files written by NumPy itself (test/fixtures/numpy, made by make.py:
// float32/float64, both byte orders, C and Fortran order, stored and deflated zips with numpy's
// zip64 headers), files built here byte by byte (every refusal), pickles refused with advice,
// and `scratchnet import` producing a model that predicts exactly like the original network.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { run } from '../src/cli/cli.js';
import type { Io } from '../src/cli/io.js';
import { FileFormatError } from '../src/errors.js';
import { loadModel } from '../src/io/model-file.js';
import { parseNpy, parseNpz, readNumpyFile } from '../src/io/npy.js';
import type { Network } from '../src/models/network.js';
import { buildFromSpec } from '../src/models/sequential.js';
import { SimpleConvNet } from '../src/models/simple-convnet.js';
import { zooSpec } from '../src/models/zoo.js';
import { Tensor } from '../src/tensor.js';
import { lcg } from './helpers.js';
import { npyBytes, zipBytes } from './fixtures/npy-files.js';

const FIXTURES = new URL('./fixtures/numpy/', import.meta.url).pathname;
const dir = await mkdtemp(join(tmpdir(), 'scratchnet-npy-'));

/** make.py's values: element i (C order) of the array made with k is sin(0.37 i + k). */
function expected(n: number, k: number, dtype: 'float32' | 'float64'): number[] {
  const v = Array.from({ length: n }, (_, i) => Math.sin(0.37 * i + k));
  return dtype === 'float32' ? Array.from(Float32Array.from(v)) : v;
}

/** numpy.savez of a network's parameters (and buffers), some entries deflated. */
function npzOf(network: Network): Uint8Array {
  const all = { ...network.params, ...network.buffers };
  return zipBytes(Object.entries(all).map(([name, t], i) => ({ name: `${name}.npy`, data: npyBytes('<f4', [...t.shape], t.data), deflate: i % 2 === 0 })));
}

function refuses(f: () => unknown, pattern: RegExp, what: string): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof FileFormatError, `${what}: FileFormatError expected, got ${String(e)}`);
    assert.ok(!e.message.includes('\n'), `${what}: one line`);
    assert.match(e.message, pattern, what);
    return true;
  });
}

describe('files written by NumPy', () => {
  for (const name of ['simple-small.npz', 'simple-small-stored.npz']) {
    it(`${name}: float32/float64, both byte orders, C and Fortran order`, async () => {
      const arrays = await readNumpyFile(join(FIXTURES, name));
      assert.deepEqual(Object.keys(arrays).sort(), ['W1', 'W2', 'W3', 'b1', 'b2', 'b3'], 'array names');
      const cases: [string, number[], number, 'float32' | 'float64', boolean][] = [
        ['W1', [2, 1, 3, 3], 1, 'float32', false], ['b1', [2], 2, 'float64', false], ['W2', [32, 4], 3, 'float32', true],
        ['b2', [4], 4, 'float32', false], ['W3', [4, 3], 5, 'float64', true], ['b3', [3], 6, 'float32', false],
      ];
      for (const [key, shape, k, dtype, fortran] of cases) {
        const a = arrays[key];
        assert.deepEqual(a.shape, shape, `${key} shape`);
        assert.equal(a.dtype, dtype, `${key} dtype`);
        assert.equal(a.fortranOrder, fortran, `${key} order`);
        // (NumPy's sin and V8's may differ in the last bit of a float64.)
        const want = expected(a.data.length, k, dtype);
        for (let i = 0; i < want.length; i++) assert.ok(Math.abs(a.data[i] - want[i]) <= 1e-15, `${key}[${i}] = ${a.data[i]}, expected ${want[i]} (C order)`);
      }
    });
  }

  it('a single .npy; pickles and object arrays are refused with the reason and what to do', async () => {
    const one = await readNumpyFile(join(FIXTURES, 'one.npy'));
    assert.deepEqual(one.one.shape, [2, 3], 'one.npy shape');
    assert.deepEqual(Array.from(one.one.data), expected(6, 0, 'float32'), 'one.npy values');
    await assert.rejects(readNumpyFile(join(FIXTURES, 'params.pkl')), /params\.pkl: this is a Python pickle file; scratchnet does not read pickles because loading one can run arbitrary code; .*numpy\.savez\('params\.npz', \*\*params\)/, 'pickle');
    await assert.rejects(readNumpyFile(join(FIXTURES, 'objects.npy')), /objects\.npy: the array holds Python objects .*pickle, which can run arbitrary code/, 'object array');
  });
});

describe('hostile .npy / .npz bytes', () => {
  it('.npy versions 1 and 2, big-endian, Fortran order in 3-D', () => {
    const v2 = parseNpy(npyBytes('>f8', [2, 2], [1, 2, 3, 4], { version: 2 }), 'v2.npy');
    assert.deepEqual(Array.from(v2.data), [1, 2, 3, 4], 'v2 big-endian');
    // Fortran order: element (i, j, k) is stored at i + 2 j + 6 k.
    const f = Array.from({ length: 24 }, (_, n) => n);
    const fortran = parseNpy(npyBytes('<f4', [2, 3, 4], f.map((_, s) => {
      const i = s % 2, j = Math.floor(s / 2) % 3, k = Math.floor(s / 6);
      return i * 12 + j * 4 + k; // the C-order index of that element
    }), { fortran: true }), 'f.npy');
    assert.deepEqual(Array.from(fortran.data), f, 'Fortran order becomes C order');
  });

  it('every malformed .npy is one line naming the file', () => {
    const good = npyBytes('<f4', [2], [1, 2]);
    refuses(() => parseNpy(good.subarray(0, 5), 'a.npy'), /a\.npy: not a \.npy file/, 'short');
    refuses(() => parseNpy(Uint8Array.from([1, 2, 3]), 'a.npy'), /not a \.npy file/, 'bad magic');
    const v9 = good.slice();
    v9[6] = 9;
    refuses(() => parseNpy(v9, 'a.npy'), /format version 9\.0 is not supported/, 'version');
    refuses(() => parseNpy(good.subarray(0, good.length - 1), 'a.npy'), /truncated: shape \(2\) <f4 needs 8 bytes of data, found 7/, 'truncated');
    refuses(() => parseNpy(Buffer.concat([good, Buffer.from([0])]), 'a.npy'), /1 trailing bytes/, 'trailing');
    refuses(() => parseNpy(npyBytes('<i4', [2], [1, 2]), 'a.npy'), /dtype <i4 is not supported \(float32/, 'int dtype');
    refuses(() => parseNpy(npyBytes('<f2', [1], []), 'a.npy'), /dtype <f2 is not supported/, 'half');
    refuses(() => parseNpy(npyBytes('<f4', [100000, 100000, 100000], []), 'a.npy'), /above the \d+ byte limit/, 'huge shape');
    refuses(() => parseNpy(npyBytes('<f4', [], [], { header: "{'descr': [('x', '<f4')], 'fortran_order': False, 'shape': (1,), }" }), 'a.npy'), /structured dtypes/, 'structured');
    refuses(() => parseNpy(npyBytes('<f4', [], [], { header: "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': True}" }), 'a.npy'), /unknown key 'x'/, 'extra key');
    refuses(() => parseNpy(npyBytes('<f4', [], [], { header: "__import__('os').system('x')" }), 'a.npy'), /not a Python dict literal/, 'code in the header');
    refuses(() => parseNpy(npyBytes('<f4', [], [], { header: "{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}" }), 'a.npy'), /unexpected value/, 'fortran_order not a bool');
    const long = good.slice();
    new DataView(long.buffer).setUint16(8, 60000, true);
    refuses(() => parseNpy(long, 'a.npy'), /header length 60000 runs past the end/, 'header length');
  });

  it('every malformed .npz is one line naming the file; no zip bomb is inflated', () => {
    const entry = npyBytes('<f4', [3], [1, 2, 3]);
    const ok = parseNpz(zipBytes([{ name: 'a.npy', data: entry, deflate: true }, { name: 'b.npy', data: entry }]), 'ok.npz');
    assert.deepEqual(Object.keys(ok), ['a', 'b'], 'names');
    const full = zipBytes([{ name: 'a.npy', data: entry }]);
    refuses(() => parseNpz(full.subarray(0, full.length - 5), 't.npz'), /t\.npz: not a complete zip file/, 'truncated zip');
    refuses(() => parseNpz(Uint8Array.from([1, 2, 3, 4]), 't.npz'), /not a \.npz file/, 'not a zip');
    refuses(() => parseNpz(entry, 't.npz'), /single \.npy array, not a \.npz/, 'an npy given as npz');
    refuses(() => parseNpz(zipBytes([{ name: 'a.npy', data: entry, crc: 1234 }]), 't.npz'), /CRC-32 mismatch/, 'crc');
    refuses(() => parseNpz(zipBytes([{ name: 'a.txt', data: entry }]), 't.npz'), /a\.txt is not a \.npy array/, 'not npy');
    refuses(() => parseNpz(zipBytes([{ name: 'a.npy', data: entry }, { name: 'a.npy', data: entry }]), 't.npz'), /holds a\.npy twice/, 'duplicate');
    refuses(() => parseNpz(zipBytes([{ name: 'a.npy', data: entry, flags: 1 }]), 't.npz'), /encrypted/, 'encrypted');
    // A bomb: 50 MB of zeros deflates to ~50 KB; the directory claims 100 bytes.
    const bomb = zipBytes([{ name: 'a.npy', data: new Uint8Array(50 << 20), deflate: true, declaredSize: 100 }]);
    const t0 = Date.now();
    refuses(() => parseNpz(bomb, 'bomb.npz'), /inflates past its declared 100 bytes/, 'bomb');
    assert.ok(Date.now() - t0 < 2000, 'the bomb is stopped early');
    refuses(() => parseNpz(zipBytes([{ name: 'a.npy', data: entry, declaredSize: 2 ** 31 }]), 't.npz'), /declares 2147483648 bytes, above the/, 'declared size cap');
    const inner = npyBytes('<f4', [3], [1, 2, 3]);
    inner[0] = 0;
    refuses(() => parseNpz(zipBytes([{ name: 'w.npy', data: inner }]), 't.npz'), /t\.npz\[w\.npy\]: not a \.npy file/, 'bad entry names the entry');
  });
});

describe('scratchnet import', () => {
  async function cli(...argv: string[]) {
    let stdout = '', stderr = '';
    const io: Io = { out: (l) => (stdout += l + '\n'), err: (l) => (stderr += l + '\n'), progress: { write: () => true, isTTY: false } };
    const code = await run(argv, io);
    return { code, stdout, stderr };
  }
  const rand = lcg(42);
  const x = new Tensor(Float32Array.from({ length: 4 * 784 }, () => rand()), [4, 1, 28, 28]);

  it('NumPy parameters of the book\'s SimpleConvNet become a model that predicts identically', async () => {
    const original = new SimpleConvNet({ seed: 9, weightInitStd: 'he' });
    for (const p of Object.values(original.params)) if (p.ndim === 1) for (let i = 0; i < p.size; i++) p.data[i] = 0.01 * (i % 7);
    const npz = join(dir, 'params.npz');
    writeFileSync(npz, npzOf(original));
    const out = join(dir, 'imported.safetensors');
    const r = await cli('import', '--npz', npz, '--model', 'simple', '--out', out);
    assert.equal(r.code, 0, `exit code (stderr: ${r.stderr})`);
    assert.match(r.stdout, /imported 6 arrays \(float32\) .* into SimpleConvNet \(433,890 parameters, float32\)/, r.stdout);
    const imported = await loadModel(out);
    assert.deepEqual(imported.predict(x).data, original.predict(x).data, 'identical scores');
  });

  it('the NumPy-written fixture (mixed layouts) with --input; a zoo network by name', async () => {
    const out = join(dir, 'small.safetensors');
    const r = await cli('import', '--npz', join(FIXTURES, 'simple-small.npz'), '--input', '1,10,10', '--out', out);
    assert.equal(r.code, 0, `exit code (stderr: ${r.stderr})`);
    const net = await loadModel(out);
    assert.deepEqual(Array.from(net.params.W3.data), expected(12, 5, 'float32'), 'W3 (big-endian float64, Fortran order) as float32 in C order');

    const lenet = buildFromSpec(zooSpec('lenet'), { seed: 5 });
    const npz = join(dir, 'lenet.npz');
    writeFileSync(npz, npzOf(lenet));
    const lr = await cli('import', '--npz', npz, '--model', 'lenet', '--out', join(dir, 'lenet.safetensors'));
    assert.equal(lr.code, 0, `lenet exit code (stderr: ${lr.stderr})`);
    assert.deepEqual((await loadModel(join(dir, 'lenet.safetensors'))).predict(x).data, lenet.predict(x).data, 'lenet identical');
  });

  it('errors: exit 1 and one line for bad arrays, exit 2 for usage', async () => {
    const small = join(FIXTURES, 'simple-small.npz');
    const out = join(dir, 'never.safetensors');
    const one = async (argv: string[], code: number, pattern: RegExp) => {
      const r = await cli('import', ...argv);
      assert.equal(r.code, code, `${argv.join(' ')}: exit code (stderr: ${r.stderr})`);
      assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
      assert.match(r.stderr, pattern, argv.join(' '));
    };
    await one(['--out', out], 2, /--npz is required/);
    await one(['--npz', small, '--out', out], 1, /W1 takes|does not make a SimpleConvNet|W2 has shape/);
    await one(['--npz', small, '--input', '1,10', '--out', out], 2, /--input must be C,H,W/);
    await one(['--npz', join(FIXTURES, 'params.pkl'), '--out', out], 1, /params\.pkl: this is a Python pickle file/);
    await one(['--npz', small, '--model', 'lenet', '--out', out], 1, /simple-small\.npz: W1 has shape \(2, 1, 3, 3\) but the model needs \(6, 1, 5, 5\)/);
    const extra = join(dir, 'extra.npz');
    const net = new SimpleConvNet({ inputDim: [1, 10, 10], convParam: { filterNum: 2, filterSize: 3 }, hiddenSize: 4, outputSize: 3 });
    writeFileSync(extra, zipBytes([...Object.entries(net.params).map(([k, t]) => ({ name: `${k}.npy`, data: npyBytes('<f4', [...t.shape], t.data) })), { name: 'W9.npy', data: npyBytes('<f4', [1], [0]) }]));
    await one(['--npz', extra, '--input', '1,10,10', '--out', out], 1, /array W9 is not a parameter of the model/);
  });
});
