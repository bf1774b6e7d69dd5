// Messages that mislead (issue 13, item 13), for the loaders in src/data and src/io: a file of
// another kind is named as what it is, with what was expected ("is a PNG image, not a
// safetensors file ..."), never as a number read from its magic ("header length
// 7021784114765367048"); a cut PNG says "truncated PNG" (pngjs: "There are some read requests
// waitng on finished stream"), a cut JPEG "truncated JPEG".

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import jpeg from 'jpeg-js';
import pngjs from 'pngjs';
import { readIdx } from '../src/data/idx.js';
import { decodeImage, loadImage } from '../src/data/image.js';
import { FileFormatError, ScratchnetError } from '../src/errors.js';
import { decodeModel, encodeModel } from '../src/io/model-file.js';
import { parseNpz, readNumpyFile } from '../src/io/npy.js';
import { exportOnnx } from '../src/io/onnx.js';
import { decodeSafetensors, loadSafetensors, readSafetensorsFile } from '../src/io/safetensors.js';
import { SimpleConvNet } from '../src/models/simple-convnet.js';
import { npyBytes, zipBytes } from './fixtures/npy-files.js';

const dir = mkdtempSync(join(tmpdir(), 'scratchnet-messages-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const net = new SimpleConvNet({ inputDim: [1, 8, 8], convParam: { filterNum: 2, filterSize: 3 }, hiddenSize: 4, outputSize: 3, seed: 1 });

function pngBytes(width = 24, height = 16): Uint8Array {
  const png = new pngjs.PNG({ width, height });
  for (let i = 0; i < png.data.length; i++) png.data[i] = (i * 37) & 0xff;
  return pngjs.PNG.sync.write(png);
}

function jpegBytes(width = 48, height = 32): Uint8Array {
  const data = Buffer.alloc(width * height * 4);
  for (let i = 0; i < data.length; i++) data[i] = (i * 53) & 0xff;
  return jpeg.encode({ data, width, height }, 80).data;
}

const ascii = (s: string): Uint8Array => Uint8Array.from(Array.from(s, (c) => c.charCodeAt(0)));

/** Files of other kinds, with the words their messages must use. */
function others(): [string, Uint8Array, string][] {
  const idx = new Uint8Array(8 + 10);
  new DataView(idx.buffer).setUint32(0, 0x801);
  new DataView(idx.buffer).setUint32(4, 10);
  return [
    ['model.onnx', exportOnnx(net), 'an ONNX model'],
    ['digit.png', pngBytes(), 'a PNG image'],
    ['photo.jpg', jpegBytes(), 'a JPEG image'],
    ['labels.gz', gzipSync(idx), 'a gzip file'],
    ['params.npz', zipBytes([{ name: 'W1.npy', data: npyBytes('<f4', [2], [1, 2]) }]), 'a zip archive'],
    ['W1.npy', npyBytes('<f4', [2], [1, 2]), 'a NumPy .npy array'],
    ['train-labels-idx1-ubyte', idx, 'an IDX data file'],
    ['params.pkl', Uint8Array.of(0x80, 0x04, 0x95, 0x10, 0, 0, 0, 0, 0, 0, 0), 'a Python pickle'],
    ['spec.json', ascii('{"model": "SimpleConvNet", "inputDim": [1, 28, 28]}\n'), 'a JSON text file'],
    ['photo.heic', Uint8Array.from([0, 0, 0, 0x18, ...ascii('ftypheic'), 0, 0, 0, 0, ...ascii('mif1heic')]), 'a HEIC/HEIF image'],
    ['photo.webp', Uint8Array.from([...ascii('RIFF'), 0x24, 0, 0, 0, ...ascii('WEBPVP8 '), 0, 0, 0, 0]), 'a WebP image'],
    ['model.h5', Uint8Array.from([0x89, ...ascii('HDF\r\n\x1a\n'), 0, 0, 0, 0, 0, 0, 0, 0]), 'an HDF5 file'],
  ];
}

describe('a file of another kind is named, with what was expected', () => {
  it('as a safetensors model: decodeSafetensors, decodeModel, loadSafetensors', async () => {
    for (const [name, bytes, kind] of others()) {
      const expected = `${name}: is ${kind}`;
      assert.throws(() => decodeSafetensors(bytes, name), (e: unknown) => e instanceof FileFormatError && e.message.startsWith(expected) && e.message.includes('not a safetensors file (a scratchnet model or checkpoint)') && !/header length \d{6,}/.test(e.message), `${name}: decodeSafetensors`);
      assert.throws(() => decodeModel(bytes, name), (e: unknown) => e instanceof FileFormatError && e.message.startsWith(expected), `${name}: decodeModel`);
      assert.throws(() => decodeSafetensors(bytes, name, { expected: 'a scratchnet model (safetensors)' }), { message: new RegExp(`, not a scratchnet model \\(safetensors\\)$`) });
      const path = join(dir, name);
      writeFileSync(path, bytes);
      await assert.rejects(loadSafetensors(path), (e: unknown) => e instanceof FileFormatError && e.message.startsWith(`${path}: is ${kind}`));
      await assert.rejects(readSafetensorsFile(path, { expected: 'a scratchnet model (safetensors)' }), { message: /, not a scratchnet model \(safetensors\)$/ });
    }
    // The case, word for word.
    assert.throws(() => decodeSafetensors(exportOnnx(net), 'm.onnx'), { message: 'm.onnx: is an ONNX model, not a safetensors file (a scratchnet model or checkpoint)' });
  });

  it('a real model still loads (sniffing only runs after the format check fails)', async () => {
    const path = join(dir, 'real.safetensors');
    writeFileSync(path, encodeModel(net, { epochs: 1 }));
    const { metadata } = await loadSafetensors(path);
    assert.equal(metadata.format, 'scratchnet');
  });

  it('as an image, IDX data or a .npz', async () => {
    for (const [name, bytes, kind] of others()) {
      const path = join(dir, name);
      writeFileSync(path, bytes);
      if (!['a PNG image', 'a JPEG image'].includes(kind)) {
        await assert.rejects(loadImage(path), (e: unknown) => e instanceof FileFormatError && e.message.startsWith(`${path}: is ${kind}`) && e.message.includes('not a PNG or JPEG image'), `${name} as an image`);
      }
      if (!['a gzip file', 'an IDX data file'].includes(kind)) {
        await assert.rejects(readIdx(path), (e: unknown) => e instanceof FileFormatError && e.message.startsWith(`${path}: is ${kind}`) && e.message.endsWith(', not an IDX file (MNIST images or labels)'), `${name} as IDX`);
      }
      if (!['a zip archive', 'a NumPy .npy array', 'a Python pickle'].includes(kind)) {
        await assert.rejects(readNumpyFile(path), (e: unknown) => e instanceof FileFormatError && e.message.startsWith(`${path}: is ${kind}`) && e.message.endsWith('not a .npz file (a zip archive of .npy arrays)'), `${name} as .npz`);
      }
    }
    await assert.rejects(loadImage(join(dir, 'photo.heic')), { message: `${join(dir, 'photo.heic')}: is a HEIC/HEIF image (the iPhone photo format), not a PNG or JPEG image (convert it to PNG or JPEG first)` });
    assert.throws(() => parseNpz(pngBytes(), 'p.npz'), { message: 'p.npz: is a PNG image, not a .npz file (a zip archive of .npy arrays)' });
  });
});

describe('truncated images say "truncated"', () => {
  it('a PNG cut anywhere after its header: "truncated PNG", never pngjs\'s words', async () => {
    const png = pngBytes(64, 48);
    for (let cut = 24; cut < png.length; cut += Math.max(1, Math.floor(png.length / 60))) {
      await assert.rejects(decodeImage(png.subarray(0, cut), 'cut.png'), (e: unknown) => {
        assert.ok(e instanceof FileFormatError, String(e));
        assert.match(e.message, /^cut\.png: truncated PNG: /, `cut at ${cut}`);
        assert.ok(!/waitng|read requests/.test(e.message), e.message);
        return true;
      });
    }
    // Whole chunks but the compressed data stops early (IDAT shortened, CRC and IEND kept).
    const view = new DataView(png.buffer, png.byteOffset, png.length);
    const idat = 8 + 25; // pngjs writes IHDR then IDAT
    assert.equal(String.fromCharCode(...png.subarray(idat + 4, idat + 8)), 'IDAT');
    const length = view.getUint32(idat);
    const short = Buffer.concat([png.subarray(0, idat), Uint8Array.of(0, 0, 0, 20), png.subarray(idat + 4, idat + 8 + 20), new Uint8Array(4), png.subarray(idat + 12 + length)]);
    await assert.rejects(decodeImage(short, 'short.png'), (e: unknown) => e instanceof ScratchnetError && /^short\.png: (truncated PNG|corrupt PNG)/.test(e.message) && !/waitng/.test(e.message));
  });

  it('a JPEG cut anywhere: "truncated JPEG" (or corrupt, for a cut inside a marker segment)', async () => {
    const jpg = jpegBytes();
    let truncated = 0;
    for (let cut = 3; cut < jpg.length - 2; cut += 7) {
      await assert.rejects(decodeImage(jpg.subarray(0, cut), 'cut.jpg'), (e: unknown) => {
        assert.ok(e instanceof FileFormatError, String(e));
        assert.match(e.message, /^cut\.jpg: (truncated|corrupt) JPEG/, `cut at ${cut}`);
        if (e.message.includes('truncated JPEG')) truncated++;
        return true;
      });
    }
    assert.ok(truncated > 0.9 * Math.floor((jpg.length - 5) / 7), `${truncated} cuts said "truncated"`);
    await assert.rejects(decodeImage(jpg.subarray(0, jpg.length >> 1), 'half.jpg'), { message: /^half\.jpg: truncated JPEG: the image data has no end-of-image marker/ });
  });
});
