// The universal entry's byte-level I/O, run in Node with the same code a page runs: models from
// bytes / Blob / Response (no file path), IDX data from bytes (plain and gzip through
// DecompressionStream), PNG decoding without pngjs, and canvas ImageData in and out.

import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import { PNG } from 'pngjs';
import * as universal from '../src/index.js';
import { decodeImage, fromImageData, loadModel, mnistFromBytes, SimpleConvNet, encodeModel, Random, randn, toImageData } from '../src/index.js';

function idx(dims: number[], data: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  out[2] = 0x08;
  out[3] = dims.length;
  const view = new DataView(out.buffer);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

describe('universal I/O', () => {
  it('the root entry exports no file-path function (those are in scratchnet/node)', () => {
    for (const name of ['saveModel', 'readModelFile', 'loadMnist', 'readIdx', 'loadImage', 'writePng', 'saveCheckpoint', 'readCheckpoint', 'writeFileAtomic', 'writeChart']) {
      assert.equal(name in universal, false, name);
    }
  });

  it('loadModel takes a Uint8Array, an ArrayBuffer, a Blob and a Response', async () => {
    const net = new SimpleConvNet({ inputDim: [1, 8, 8], convParam: { filterNum: 2, filterSize: 3, pad: 1, stride: 1 }, hiddenSize: 5, outputSize: 3, seed: 1 });
    const bytes = encodeModel(net) as Uint8Array<ArrayBuffer>;
    const x = randn(new Random(2), [2, 1, 8, 8]);
    const want = Array.from(net.predict(x).data);
    for (const source of [bytes, bytes.slice().buffer, new Blob([bytes]), new Response(bytes)]) {
      const back = await loadModel(source);
      assert.deepEqual(Array.from(back.predict(x).data), want);
    }
    await assert.rejects(loadModel(new Response('<!doctype html>', { status: 404 })), /HTTP 404/);
  });

  it('mnistFromBytes: the loadMnist shape from plain and gzip IDX bytes', async () => {
    const images = idx([3, 2, 2], Uint8Array.from({ length: 12 }, (_, i) => i * 20));
    const labels = idx([3], Uint8Array.from([1, 7, 3]));
    const plain = await mnistFromBytes({ trainImages: images, trainLabels: labels, testImages: images, testLabels: labels }, { flatten: false });
    const gz = await mnistFromBytes({ trainImages: gzipSync(images), trainLabels: gzipSync(labels), testImages: images, testLabels: labels }, { flatten: false });
    assert.deepEqual(plain.train.x.shape, [3, 1, 2, 2]);
    assert.deepEqual(Array.from(gz.train.x.data), Array.from(plain.train.x.data));
    assert.deepEqual(Array.from(gz.train.t as Int32Array), [1, 7, 3]);
    await assert.rejects(mnistFromBytes({ trainImages: gzipSync(images).subarray(0, 20), trainLabels: labels, testImages: images, testLabels: labels }), /trainImages/);
  });

  it('PNG (8 and 16 bit, grey and RGBA) decodes without pngjs; ImageData in and out', async () => {
    const png = new PNG({ width: 3, height: 2 });
    for (let i = 0; i < png.data.length; i++) png.data[i] = (i * 37) % 256;
    for (const [colorType, bitDepth] of [[6, 8], [2, 8], [0, 8], [6, 16]] as const) {
      const file = PNG.sync.write(png, { colorType, bitDepth, inputHasAlpha: true });
      const ref = PNG.sync.read(file);
      const got = await decodeImage(new Uint8Array(file), `test.png (${colorType}/${bitDepth})`);
      assert.deepEqual([got.width, got.height], [3, 2]);
      assert.deepEqual(Array.from(got.data), Array.from(ref.data), `colour type ${colorType}, ${bitDepth} bit`);
    }
    const image = { width: 1, height: 1, data: Uint8Array.from([1, 2, 3, 4]) };
    const data = toImageData(image);
    assert.deepEqual([data.width, data.height, Array.from(data.data)], [1, 1, [1, 2, 3, 4]]);
    assert.deepEqual(Array.from(fromImageData(data).data), [1, 2, 3, 4]);
  });
});
