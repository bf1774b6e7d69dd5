// Hostile input, fuzzed: valid IDX (plain and gzip), safetensors model files, checkpoints, .npy,
// .npz, PNG and JPEG files are mutated thousands of times (seeded, so any failure reproduces)
// and fed to the real loaders. Every outcome must be a success or a clean ScratchnetError with a
// one-line message; any other exception (a TypeError, a RangeError, an out-of-memory) fails the
// test with the seed, the iteration and the mutations that caused it. Each format has a time
// budget (about 2 s; the whole file stays under 20 s) and must reach its minimum count of runs.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import jpeg from 'jpeg-js';
import pngjs from 'pngjs';
import { parseIdx, readIdx } from '../src/data/idx.js';
import { decodeImage } from '../src/data/image.js';
import { ScratchnetError } from '../src/errors.js';
import { decodeCheckpoint, encodeCheckpoint } from '../src/io/checkpoint.js';
import { decodeModel, encodeModel } from '../src/io/model-file.js';
import { encodeSafetensors } from '../src/io/safetensors.js';
import { crc32, parseNpy, parseNpz } from '../src/io/npy.js';
import { SimpleConvNet } from '../src/models/simple-convnet.js';
import { checkSpec, SpecError } from '../src/models/spec.js';
import { zooSpec } from '../src/models/zoo.js';
import { Tensor } from '../src/tensor.js';
import { Trainer } from '../src/train/trainer.js';
import { lcg } from './helpers.js';
import { exifTiff } from '../scripts/make-photo-fixtures.js';
import { npyBytes, zipBytes } from './fixtures/npy-files.js';

const SEED = Number(process.env.SCRATCHNET_FUZZ_SEED ?? 20261128);
const BUDGET_MS = Number(process.env.SCRATCHNET_FUZZ_MS ?? 1400);

type Rand = () => number;

const INTERESTING_BYTES = [0x00, 0xff, 0x7f, 0x80, 0x01, 0x20, 0x22, 0x2c, 0x3a, 0x7b, 0x7d, 0x5b, 0x5d, 0x2d, 0x30, 0x39, 0x65];
const INTERESTING_WORDS = [0, 1, 0xffffffff, 0x7fffffff, 0x80000000, 0xffff, 0x10000, 1 << 20, 1 << 24, 0x40000000];

/** One to four random mutations; returns the new bytes and a description (for reproduction). */
function mutate(base: Uint8Array, rand: Rand, focus: number): { bytes: Uint8Array; how: string[] } {
  let bytes = Uint8Array.from(base); // a copy (Buffer.slice would be a view of base)
  const how: string[] = [];
  const int = (n: number) => Math.floor(rand() * n);
  // Mostly mutate the first `focus` bytes (headers), sometimes anywhere.
  const at = () => (rand() < 0.75 ? int(Math.min(focus, bytes.length) || 1) : int(bytes.length || 1));
  const count = 1 + int(4);
  for (let m = 0; m < count; m++) {
    const kind = int(8);
    const p = at();
    if (bytes.length === 0) break;
    switch (kind) {
      case 0:
      case 1: {
        const bit = int(8);
        bytes[p] ^= 1 << bit;
        how.push(`flip ${p}:${bit}`);
        break;
      }
      case 2: {
        const v = INTERESTING_BYTES[int(INTERESTING_BYTES.length)];
        bytes[p] = v;
        how.push(`set ${p}=${v}`);
        break;
      }
      case 3: {
        if (p + 4 <= bytes.length) {
          const v = INTERESTING_WORDS[int(INTERESTING_WORDS.length)];
          new DataView(bytes.buffer, bytes.byteOffset).setUint32(p, v, rand() < 0.5);
          how.push(`word ${p}=${v}`);
        }
        break;
      }
      case 4: {
        const len = int(bytes.length + 1);
        bytes = bytes.slice(0, len);
        how.push(`truncate ${len}`);
        break;
      }
      case 5: {
        const n = 1 + int(16);
        const ins = Uint8Array.from({ length: n }, () => (rand() < 0.5 ? INTERESTING_BYTES[int(INTERESTING_BYTES.length)] : int(256)));
        const out = new Uint8Array(bytes.length + n);
        out.set(bytes.subarray(0, p));
        out.set(ins, p);
        out.set(bytes.subarray(p), p + n);
        bytes = out;
        how.push(`insert ${p}+${n}`);
        break;
      }
      case 6: {
        const n = Math.min(1 + int(32), bytes.length - p);
        const out = new Uint8Array(bytes.length - n);
        out.set(bytes.subarray(0, p));
        out.set(bytes.subarray(p + n), p);
        bytes = out;
        how.push(`delete ${p}-${n}`);
        break;
      }
      default: {
        // copy a chunk of the file over another place (duplicated headers, offsets, names)
        const from = int(bytes.length);
        const n = Math.min(1 + int(24), bytes.length - from, bytes.length - p);
        bytes.copyWithin(p, from, from + n);
        how.push(`copy ${from}->${p}x${n}`);
      }
    }
  }
  return { bytes, how };
}

interface Stats { runs: number; ok: number; refused: number; slowest: number }

/** Feed mutations of `base` to `load` until the budget is spent; every failure must be clean. */
async function fuzz(name: string, base: Uint8Array, focus: number, load: (bytes: Uint8Array, i: number) => unknown, minRuns: number, seedOffset: number, fix?: (bytes: Uint8Array) => void): Promise<Stats> {
  const rand = lcg(SEED + seedOffset);
  const stats: Stats = { runs: 0, ok: 0, refused: 0, slowest: 0 };
  // The unmutated file must load: otherwise the fuzz would only exercise the first check.
  await load(base, -1);
  const deadline = Date.now() + BUDGET_MS;
  while (Date.now() < deadline || stats.runs < minRuns) {
    const { bytes, how } = mutate(base, rand, focus);
    // Half the time, repair checksums so the mutation reaches the decoder behind them.
    if (fix && rand() < 0.5) {
      fix(bytes);
      how.push('checksums fixed');
    }
    const t0 = Date.now();
    try {
      await load(bytes, stats.runs);
      stats.ok++;
    } catch (e) {
      if (!(e instanceof ScratchnetError)) {
        assert.fail(`${name}: run ${stats.runs} (seed ${SEED}, mutations ${how.join(', ')}) threw ${e instanceof Error ? `${e.name}: ${e.message}\n${e.stack}` : String(e)}`);
      }
      assert.ok(!e.message.includes('\n') && e.message.length > 0, `${name}: run ${stats.runs}: message must be one line: ${JSON.stringify(e.message)}`);
      stats.refused++;
    }
    stats.slowest = Math.max(stats.slowest, Date.now() - t0);
    stats.runs++;
    if (stats.runs >= 200_000) break;
  }
  assert.ok(stats.runs >= minRuns, `${name}: only ${stats.runs} runs`);
  assert.ok(stats.refused > 0, `${name}: no mutation was refused (the fuzz is not reaching the checks)`);
  assert.ok(stats.slowest < 1500, `${name}: one input took ${stats.slowest} ms (a hang in the making?)`);
  console.log(`fuzz ${name}: ${stats.runs} runs, ${stats.ok} loaded, ${stats.refused} refused cleanly, slowest ${stats.slowest} ms`);
  return stats;
}

// ---- valid files to start from ----

function idxImages(): Uint8Array {
  const rand = lcg(1);
  const n = 5, rows = 6, cols = 6;
  const out = new Uint8Array(16 + n * rows * cols);
  const view = new DataView(out.buffer);
  view.setUint32(0, 0x00000803, false);
  view.setUint32(4, n, false);
  view.setUint32(8, rows, false);
  view.setUint32(12, cols, false);
  for (let i = 16; i < out.length; i++) out[i] = Math.floor(rand() * 256);
  return out;
}

function smallNetwork(): SimpleConvNet {
  return new SimpleConvNet({ inputDim: [1, 6, 6], convParam: { filterNum: 2, filterSize: 3 }, hiddenSize: 3, outputSize: 2, seed: 1 });
}

function checkpointBytes(): Uint8Array {
  const rand = lcg(2);
  const x = new Tensor(Float32Array.from({ length: 6 * 36 }, () => rand()), [6, 1, 6, 6]);
  const t = Int32Array.from({ length: 6 }, (_, i) => i % 2);
  const trainer = new Trainer(smallNetwork(), { train: { x, t }, test: { x, t } }, { epochs: 2, batchSize: 4, optimizer: 'adam', seed: 3 });
  trainer.trainStep();
  return encodeCheckpoint(trainer, { epochs: 2 });
}

function pngBytes(): Uint8Array {
  const png = new pngjs.PNG({ width: 8, height: 8 });
  for (let i = 0; i < png.data.length; i++) png.data[i] = (i * 37) & 0xff;
  return pngjs.PNG.sync.write(png);
}

/** Recompute every PNG chunk's CRC (where the chunk layout still holds together). */
function fixPngCrcs(bytes: Uint8Array): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let p = 8;
  while (p + 12 <= bytes.length) {
    const len = view.getUint32(p, false);
    if (p + 12 + len > bytes.length) break;
    view.setUint32(p + 8 + len, crc32(bytes.subarray(p + 4, p + 8 + len)), false);
    p += 12 + len;
  }
}

function jpegBytes(): Uint8Array {
  const data = Buffer.alloc(8 * 8 * 4);
  for (let i = 0; i < data.length; i++) data[i] = (i * 53) & 0xff;
  return jpeg.encode({ data, width: 8, height: 8 }, 80).data;
}

describe('fuzz: mutated files through the real loaders (seeded, time-bounded)', { timeout: 120_000 }, () => {
  it('IDX (plain)', async () => {
    const base = idxImages();
    await fuzz('idx', base, 16, (b) => parseIdx(b, 'f.idx'), 3000, 1);
  });

  it('IDX (gzip, through readIdx and a file)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'scratchnet-fuzz-'));
    try {
      const base = gzipSync(idxImages());
      const file = join(dir, 'f.idx.gz');
      await fuzz('idx.gz', base, base.length, async (b) => {
        writeFileSync(file, b);
        return readIdx(file);
      }, 500, 2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('safetensors model files (header, offsets, spec metadata)', async () => {
    const base = encodeModel(smallNetwork(), { epochs: 1 });
    const headerEnd = 8 + Number(new DataView(base.buffer, base.byteOffset).getBigUint64(0, true));
    await fuzz('model', base, headerEnd, (b) => decodeModel(b, 'm.safetensors'), 3000, 3);
  });

  it('training checkpoints', async () => {
    const base = checkpointBytes();
    const headerEnd = 8 + Number(new DataView(base.buffer, base.byteOffset).getBigUint64(0, true));
    await fuzz('checkpoint', base, headerEnd, (b) => decodeCheckpoint(b, 'c.ckpt'), 2000, 4);
  });

  it('.npy', async () => {
    const base = npyBytes('<f4', [2, 3], [1, 2, 3, 4, 5, 6], { fortran: true });
    await fuzz('npy', base, 64, (b) => parseNpy(b, 'a.npy'), 3000, 5);
  });

  it('.npz (stored and deflated entries)', async () => {
    const base = zipBytes([
      { name: 'W1.npy', data: npyBytes('<f4', [2, 2], [1, 2, 3, 4]), deflate: true },
      { name: 'b1.npy', data: npyBytes('>f8', [2], [5, 6]) },
    ]);
    await fuzz('npz', base, base.length, (b) => parseNpz(b, 'p.npz'), 3000, 6);
  });

  it('network specs (JSON text -> checkSpec)', async () => {
    const base = Buffer.from(JSON.stringify(zooSpec('alexnet')));
    await fuzz('spec', base, base.length, (b) => {
      let raw: unknown;
      try {
        raw = JSON.parse(Buffer.from(b).toString('utf8'));
      } catch {
        throw new ScratchnetError('not JSON'); // what readSpecFile reports for broken JSON
      }
      return checkSpec(raw);
    }, 3000, 9);
  });

  it('PNG', async () => {
    const base = pngBytes();
    await fuzz('png', base, base.length, (b) => decodeImage(b, 'i.png'), 1500, 7, fixPngCrcs);
  });

  it('JPEG', async () => {
    const base = jpegBytes();
    await fuzz('jpeg', base, base.length, (b) => decodeImage(b, 'i.jpg'), 1000, 8);
  });

  it('JPEG with a phone\'s Exif block (orientation 6): mutations focused on the Exif segment', async () => {
    const { bytes: base, tiffStart } = exifJpeg();
    await fuzz('jpeg+exif', base, tiffStart + exifTiff(6, true).length, (b) => decodeImage(b, 'i.jpg'), 1000, 10);
  });
});

// ---- images carrying size attacks: every dimension and offset field set to hostile values ----

/** Seeded hostile 16- and 32-bit values: extremes, powers of two, and random large ones. */
function hostileValues(rand: Rand, bits: 16 | 32): number[] {
  const max = bits === 16 ? 0xffff : 0xffffffff;
  const fixed = bits === 16 ? [0, 1, 16385, 32768, 60000, 0xffff] : [0, 1, 16385, 100000, 0x7fffffff, 0x80000000, 0xffffffff, 1 << 24];
  const random = Array.from({ length: 6 }, () => Math.floor(rand() * (max + 1)));
  return [...fixed, ...random];
}

/** A JPEG with a phone's Exif APP1 (orientation 6) in front of jpeg-js's frame. */
function exifJpeg(): { bytes: Uint8Array; tiffStart: number; sof: number } {
  const base = jpegBytes();
  const tiff = exifTiff(6, true);
  const app1 = new Uint8Array(10 + tiff.length);
  app1.set([0xff, 0xe1, (app1.length - 2) >> 8, (app1.length - 2) & 0xff, 0x45, 0x78, 0x69, 0x66, 0, 0]);
  app1.set(tiff, 10);
  const bytes = Buffer.concat([base.subarray(0, 2), app1, base.subarray(2)]);
  let sof = -1;
  for (let i = 2; i < bytes.length - 1; i++) if (bytes[i] === 0xff && bytes[i + 1] === 0xc0) { sof = i; break; }
  return { bytes, tiffStart: 2 + 10, sof };
}

describe('images with size attacks: refused (or read) in one line, quickly, without huge allocations', () => {
  async function expectClean(name: string, bytes: Uint8Array, allowLoad: boolean): Promise<'loaded' | 'refused'> {
    const t0 = performance.now();
    const rssBefore = process.memoryUsage().rss;
    try {
      await decodeImage(bytes, 'attack');
      assert.ok(allowLoad, `${name}: loaded, should have been refused`);
      return 'loaded';
    } catch (e) {
      if (!(e instanceof ScratchnetError)) assert.fail(`${name}: threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
      assert.ok(!e.message.includes('\n'), `${name}: one line: ${e.message}`);
      return 'refused';
    } finally {
      const ms = performance.now() - t0;
      assert.ok(ms < 500, `${name}: ${ms.toFixed(0)} ms`);
      // No decoder ran on a hostile size: RSS grows by far less than the pixels it claims.
      assert.ok(process.memoryUsage().rss - rssBefore < 256 << 20, `${name}: RSS grew ${(process.memoryUsage().rss - rssBefore) >> 20} MB`);
    }
  }

  it('PNG IHDR width and height (up to 100000x100000 and 2^32-1): refused from the header', async () => {
    const rand = lcg(SEED + 20);
    const base = pngBytes();
    let refused = 0, runs = 0;
    for (const width of hostileValues(rand, 32)) {
      for (const height of [...hostileValues(rand, 32), 8]) {
        const bytes = Uint8Array.from(base);
        const view = new DataView(bytes.buffer);
        view.setUint32(16, width);
        view.setUint32(20, height);
        if (runs % 2 === 0) fixPngCrcs(bytes); // half with a valid CRC, so pngjs would believe it
        const oversize = width === 0 || height === 0 || width > 16384 || height > 16384 || width * height > 40e6;
        const outcome = await expectClean(`PNG ${width}x${height}`, bytes, !oversize);
        if (oversize) assert.equal(outcome, 'refused', `PNG ${width}x${height}`);
        refused += outcome === 'refused' ? 1 : 0;
        runs++;
      }
    }
    assert.ok(runs >= 150 && refused > 0.9 * runs, `${refused}/${runs} refused`);
    await assert.rejects(decodeImage(Uint8Array.from(Buffer.concat([base.subarray(0, 16), Buffer.from([0, 1, 0x86, 0xa0, 0, 1, 0x86, 0xa0]), base.subarray(24)])), 'p.png'), { message: /^p\.png: image too large: 100000x100000 pixels/ });
  });

  it('JPEG SOF height and width (up to 65535x65535): refused from the frame header', async () => {
    const rand = lcg(SEED + 21);
    const { bytes: base, sof } = exifJpeg();
    let runs = 0;
    for (const height of hostileValues(rand, 16)) {
      for (const width of hostileValues(rand, 16)) {
        const bytes = Uint8Array.from(base);
        const view = new DataView(bytes.buffer);
        view.setUint16(sof + 5, height);
        view.setUint16(sof + 7, width);
        const oversize = width > 16384 || height > 16384 || width * height > 40e6;
        const outcome = await expectClean(`JPEG ${width}x${height}`, bytes, !oversize && width > 0 && height > 0);
        if (oversize) assert.equal(outcome, 'refused', `JPEG ${width}x${height}`);
        runs++;
      }
    }
    assert.ok(runs >= 100, `${runs} runs`);
  });

  it('Exif offsets and counts (IFD0 offset, entry count, value offsets up to 2^32-1): ignored or refused, never followed', async () => {
    const rand = lcg(SEED + 22);
    const { bytes: base, tiffStart } = exifJpeg();
    // Fields: IFD0 offset (4 bytes at 4), entry count (2 at 8), each entry's count and value.
    const fields: [number, 16 | 32][] = [[4, 32], [8, 16]];
    for (let e = 0; e < 8; e++) fields.push([10 + 12 * e + 4, 32], [10 + 12 * e + 8, 32], [10 + 12 * e + 2, 16]);
    let loaded = 0, runs = 0;
    for (const [at, bits] of fields) {
      for (const value of hostileValues(rand, bits)) {
        for (const little of [true, false]) {
          const bytes = Uint8Array.from(base);
          const view = new DataView(bytes.buffer);
          if (bits === 16) view.setUint16(tiffStart + at, value, little);
          else view.setUint32(tiffStart + at, value, little);
          const outcome = await expectClean(`Exif field ${at} = ${value}`, bytes, true);
          if (outcome === 'loaded') {
            loaded++;
            const img = await decodeImage(bytes, 'attack');
            assert.ok(img.width === 8 && img.height === 8, `Exif field ${at} = ${value}: ${img.width}x${img.height}`);
          }
          runs++;
        }
      }
    }
    // A broken Exif block is ignored, as browsers do: the pixels are still a valid image.
    assert.ok(runs >= 300 && loaded === runs, `${loaded}/${runs} loaded`);
  });
});

describe('hostile model specs are refused before anything is allocated', () => {
  it('structural fuzz: specs with size and nesting attacks in every field (seeded)', () => {
    const rand = lcg(SEED + 30);
    const pick = <T,>(a: T[]): T => a[Math.floor(rand() * a.length)];
    const deep = (depth: number, leaf: unknown): unknown => {
      let v = leaf;
      for (let i = 0; i < depth; i++) v = rand() < 0.5 ? [v] : { type: v };
      return v;
    };
    const hostile = (): unknown => pick([
      0, -1, 1.5, 1e9, 2 ** 31, 2 ** 53 + 1, 1e308, Infinity, NaN, null, 'x'.repeat(1000), true, [], {},
      () => deep(1 + Math.floor(rand() * 100_000), 1),
    ].map((v) => (typeof v === 'function' ? v() : v)));
    const base = zooSpec('alexnet') as unknown as { input: unknown; layers: Record<string, unknown>[] };
    const t0 = Date.now();
    let runs = 0, refused = 0, slowest = 0;
    while (Date.now() - t0 < BUDGET_MS || runs < 300) {
      const spec = JSON.parse(JSON.stringify(base)) as typeof base & Record<string, unknown>;
      const attacks = 1 + Math.floor(rand() * 3);
      for (let a = 0; a < attacks; a++) {
        const where = rand();
        if (where < 0.1) spec.input = rand() < 0.5 ? hostile() : [1, pick([1, 28, 1e5, 2 ** 31]), pick([28, 1e5, 1e9])];
        else if (where < 0.2) spec.layers = rand() < 0.5 ? (hostile() as never) : Array.from({ length: pick([0, 1, 10_001, 50_000]) }, () => ({ type: 'relu' }));
        else if (!Array.isArray(spec.layers) || spec.layers.length === 0) continue;
        else if (where < 0.3) spec.layers.splice(Math.floor(rand() * spec.layers.length), 0, hostile() as never);
        else {
          const layer = spec.layers[Math.floor(rand() * spec.layers.length)];
          if (typeof layer !== 'object' || layer === null) continue;
          const key = pick([...Object.keys(layer), 'type', 'filters', 'units', 'size', 'stride', 'pad', 'n', 'ratio', 'init', 'extra']);
          layer[key] = hostile();
        }
      }
      const t = Date.now();
      try {
        checkSpec(spec);
      } catch (e) {
        assert.ok(e instanceof SpecError, `run ${runs}: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
        assert.ok(!e.message.includes('\n') && e.message.length < 2000, `run ${runs}: one short line: ${e.message.slice(0, 200)}`);
        refused++;
      }
      slowest = Math.max(slowest, Date.now() - t);
      runs++;
    }
    assert.ok(refused > runs / 2, `most attacks refused (${refused} of ${runs})`);
    assert.ok(slowest < 1500, `slowest ${slowest} ms`);
    console.log(`fuzz spec structure: ${runs} runs, ${refused} refused cleanly, slowest ${slowest} ms`);
  });

  it('a spec that implies gigabytes of parameters: one line, in milliseconds', () => {
    const net = smallNetwork();
    const legacy = { model: 'SimpleConvNet', inputDim: [1, 6, 6], convParam: { filterNum: 2, filterSize: 3, pad: 0, stride: 1 }, hiddenSize: 3, outputSize: 2, weightInitStd: 0.01 };
    const specs: unknown[] = [
      // the legacy SimpleConvNet kind of 0.1 model files, and Sequential specs
      { ...legacy, hiddenSize: 300000000 },
      { ...legacy, inputDim: [1, 60000, 60000] },
      { ...legacy, convParam: { filterNum: 100000, filterSize: 3, pad: 0, stride: 1 }, hiddenSize: 100000 },
      { model: 'Sequential', input: [1, 6, 6], layers: [{ type: 'dense', units: 2000000000 }] },
      { model: 'Sequential', input: [1, 60000, 60000], layers: [{ type: 'conv', filters: 3, size: 3 }, { type: 'dense', units: 2 }] },
    ];
    for (const spec of specs) {
      const bytes = encodeSafetensors(net.params, { format: 'scratchnet', format_version: '1', spec: JSON.stringify(spec) });
      const t0 = Date.now();
      assert.throws(() => decodeModel(bytes, 'm.safetensors'), /m\.safetensors: bad model spec: (spec input \(1, 60000, 60000\) has 3600000000 values per sample, above the limit of 67108864|layers\[\d\] \(\w+\) (brings the network to \d+ parameters, above the limit of 268435456|on input .*: outputs \(\d+\) = \d+ values per sample, above the limit of 67108864))$/, JSON.stringify(spec));
      assert.ok(Date.now() - t0 < 500, `refused quickly: ${JSON.stringify(spec)}`);
    }
  });

  it('a spec with few parameters but gigantic images (predict would allocate them) is refused', () => {
    const spec = { model: 'Sequential', input: [1, 60000, 60000], layers: [{ type: 'maxpool', size: 60000, stride: 60000 }, { type: 'dense', units: 2 }] };
    const params = { W1: new Tensor(new Float32Array(2), [1, 2]), b1: new Tensor(new Float32Array(2), [2]) };
    const bytes = encodeSafetensors(params, { format: 'scratchnet', format_version: '1', spec: JSON.stringify(spec) });
    assert.throws(() => decodeModel(bytes, 'm.safetensors'), /m\.safetensors: bad model spec: spec input \(1, 60000, 60000\) has 3600000000 values per sample, above the limit/, 'refused');
  });
});
