// The command line for the model zoo: `scratchnet models` (layer tables), `train --model`
// with a built-in or a spec file, eval/predict on the saved file, and bad specs (one line naming
// the layer, exit code 2). Training runs on a small IDX set cut from MNIST (300 train / 200 test).

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pngjs from 'pngjs';
import { loadMnist } from '../src/data/mnist.js';
import { readModelFile } from '../src/io/model-file.js';
import { assertOneLineError, cli } from './cli-helpers.js';

const dir = await mkdtemp(join(tmpdir(), 'scratchnet-zoo-cli-'));
after(() => rm(dir, { recursive: true, force: true }));


async function specFile(name: string, spec: unknown): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, typeof spec === 'string' ? spec : JSON.stringify(spec));
  return path;
}

/** An IDX data set of the first `trainN` / `testN` MNIST digits (plain, uncompressed). */
async function smallMnist(trainN: number, testN: number): Promise<string> {
  const data = await loadMnist({ normalize: false, flatten: false });
  const folder = join(dir, 'mnist-small');
  const { mkdir } = await import('node:fs/promises');
  await mkdir(folder, { recursive: true });
  const images = (x: { data: ArrayLike<number> }, n: number) => {
    const head = Buffer.alloc(16);
    head.writeUInt32BE(0x803, 0); head.writeUInt32BE(n, 4); head.writeUInt32BE(28, 8); head.writeUInt32BE(28, 12);
    return Buffer.concat([head, Buffer.from(Uint8Array.from({ length: n * 784 }, (_, i) => x.data[i]))]);
  };
  const labels = (t: Int32Array, n: number) => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(0x801, 0); head.writeUInt32BE(n, 4);
    return Buffer.concat([head, Buffer.from(Uint8Array.from(t.subarray(0, n)))]);
  };
  await writeFile(join(folder, 'train-images-idx3-ubyte'), images(data.train.x, trainN));
  await writeFile(join(folder, 'train-labels-idx1-ubyte'), labels(data.train.t as Int32Array, trainN));
  await writeFile(join(folder, 't10k-images-idx3-ubyte'), images(data.test.x, testN));
  await writeFile(join(folder, 't10k-labels-idx1-ubyte'), labels(data.test.t as Int32Array, testN));
  return folder;
}

describe('scratchnet models', () => {
  it('lists every built-in with its layer table and totals', async () => {
    const r = await cli('models');
    assert.equal(r.code, 0, r.stderr);
    for (const [name, total] of [['simple', '433,890'], ['lenet', '61,706'], ['alexnet', '154,954'], ['alexnet-227', '62,378,344'], ['deep', '123,552']]) {
      assert.match(r.stdout, new RegExp(`^${name}: `, 'm'), `${name} listed`);
      assert.match(r.stdout, new RegExp(`total: ${total} parameters`), `${name} total`);
    }
    // LeNet's rows: output shape and parameter count per layer
    assert.match(r.stdout, /0 {2}conv 6@5x5 s1 p2 xavier\s+\(6, 28, 28\)\s+156\n/);
    assert.match(r.stdout, /2 {2}avgpool 2x2 s2 p0\s+\(6, 14, 14\)\s+-\n/);
    assert.match(r.stdout, /6 {2}dense 120 xavier\s+\(120\)\s+48,120\n/);
    assert.match(r.stdout, /lrn n=5 k=2 alpha=0\.0001 beta=0\.75\s+\(96, 55, 55\)/);
  });

  it('shows one network by name, prints its spec as JSON, and reads a spec file', async () => {
    const one = await cli('models', 'lenet');
    assert.equal(one.code, 0, one.stderr);
    assert.equal((one.stdout.match(/total:/g) ?? []).length, 1, 'one table');
    const json = await cli('models', 'lenet', '--json');
    assert.equal(json.code, 0, json.stderr);
    const spec = JSON.parse(json.stdout);
    assert.equal(spec.name, 'lenet', 'spec name');
    assert.equal(spec.layers.length, 11, 'eleven layers');
    const path = await specFile('lenet.json', spec);
    const again = await cli('models', '--spec', path);
    assert.equal(again.code, 0, again.stderr);
    // The same table; the recipe line differs (a spec file has none of its own: the default).
    const table = (out: string) => out.split('\n').slice(1).filter((l) => !l.startsWith('recipe: ')).join('\n');
    assert.equal(table(again.stdout), table(one.stdout), 'same table from the file');
    assert.match(again.stdout, /recipe: none of its own; train uses the default: adam lr 0\.001, 20 epochs/);
  });

  it('refuses unknown names and bad spec files with one line (exit 2)', async () => {
    assertOneLineError(await cli('models', 'vgg16'), 2, /^scratchnet models: unknown model 'vgg16' \(built-in: simple, lenet, alexnet, alexnet-227, deep/);
    const neg = await specFile('neg.json', { input: [1, 28, 28], layers: [{ type: 'conv', filters: 4, size: 5 }, { type: 'maxpool', size: 2, stride: -2 }, { type: 'dense', units: 10 }] });
    assertOneLineError(await cli('models', '--spec', neg), 2, /neg\.json: layers\[1\] \(maxpool\) on input \(4, 24, 24\): stride must be an integer >= 1, got -2/);
    assertOneLineError(await cli('models', '--spec', await specFile('broken.json', '{"input": [1, 28, 28], "layers": [')), 2, /broken\.json: not valid JSON/);
    assertOneLineError(await cli('models', '--spec', join(dir, 'nope.json')), 1, /nope\.json: no such file/);
  });
});

describe('scratchnet train --model', () => {
  let data = '';
  before(async () => {
    data = await smallMnist(300, 200);
  });
  const quick = () => ['--epochs', '1', '--batch-size', '50', '--eval-samples', '50', '--data', data, '--quiet'];

  it('bad specs exit 2 with one line naming the layer: wrong sizes, unknown layer, negative stride, wrong input', async () => {
    const cases: [unknown, RegExp][] = [
      [{ input: [1, 28, 28], layers: [{ type: 'conv', filters: 4, size: 5 }, { type: 'maxpool', size: 2 }, { type: 'conv', filters: 4, size: 13 }, { type: 'dense', units: 10 }] },
        /layers\[2\] \(conv\) on input \(4, 12, 12\): a 13x13 window \(stride 1, pad 0\) does not fit 12x12: output would be 0x0/],
      [{ input: [1, 28, 28], layers: [{ type: 'conv', filters: 4, size: 5 }, { type: 'swish' }, { type: 'dense', units: 10 }] }, /layers\[1\]: unknown layer type 'swish'/],
      [{ input: [1, 28, 28], layers: [{ type: 'conv', filters: 4, size: 5, stride: -1 }, { type: 'dense', units: 10 }] }, /layers\[0\] \(conv\) on input \(1, 28, 28\): stride must be an integer >= 1, got -1/],
      [{ input: [1, 32, 32], layers: [{ type: 'dense', units: 10 }] }, /the network takes 1x32x32 inputs, the data's images are 1x28x28/],
      [{ input: [1, 28, 28], layers: [{ type: 'dense', units: 5 }] }, /outputs 5 class scores, the labels need 10/],
    ];
    for (const [i, [spec, pattern]] of cases.entries()) {
      const path = await specFile(`bad${i}.json`, spec);
      assertOneLineError(await cli('train', '--model', path, ...quick(), '--out', join(dir, 'never.safetensors')), 2, /^scratchnet train: /, pattern);
    }
    assertOneLineError(await cli('train', '--model', 'resnet', ...quick()), 2, /unknown model 'resnet'/);
  });

  it('trains LeNet, and eval and predict work on the saved file', async () => {
    const out = join(dir, 'lenet.safetensors');
    const r = await cli('train', '--model', 'lenet', ...quick(), '--lr', '0.003', '--out', out);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /final test accuracy: [\d.]+% on 200 test images \(6 steps/);
    const file = await readModelFile(out);
    assert.equal(file.spec.model, 'Sequential', 'stored as a layer spec');
    assert.equal(file.spec.name, 'lenet', 'with its name');
    assert.equal(file.training?.model, 'lenet', 'training facts name the model');
    const ev = await cli('eval', '--model', out, '--data', data);
    assert.equal(ev.code, 0, ev.stderr);
    assert.match(ev.stdout, /\(lenet, 61,706 parameters\)/);
    assert.match(ev.stdout, /test accuracy: [\d.]+% \(\d+\/200\)/);
    // predict: the first test digit as a PNG
    const mnist = await loadMnist({ normalize: false, flatten: false });
    const png = new pngjs.PNG({ width: 28, height: 28 });
    for (let i = 0; i < 784; i++) png.data.set([mnist.test.x.data[i], mnist.test.x.data[i], mnist.test.x.data[i], 255], i * 4);
    const image = join(dir, 'digit.png');
    await writeFile(image, pngjs.PNG.sync.write(png));
    const p = await cli('predict', '--model', out, image);
    assert.equal(p.code, 0, p.stderr);
    assert.match(p.stdout, /digit\.png: \d {2}\(\d: [\d.]+%, \d: [\d.]+%, \d: [\d.]+%\)/);
  });

  it('trains a network from a spec file (batch norm, dropout, tanh) and evaluates it', async () => {
    const spec = {
      name: 'tiny', input: [1, 28, 28],
      layers: [{ type: 'conv', filters: 4, size: 3, stride: 2, pad: 1 }, { type: 'batchnorm' }, { type: 'tanh' }, { type: 'maxpool', size: 2 }, { type: 'flatten' }, { type: 'dropout', ratio: 0.2 }, { type: 'dense', units: 10, init: 'xavier' }],
    };
    const path = await specFile('tiny.json', spec);
    const out = join(dir, 'tiny.safetensors');
    const r = await cli('train', '--model', path, ...quick(), '--out', out);
    assert.equal(r.code, 0, r.stderr);
    const file = await readModelFile(out);
    assert.deepEqual(Object.keys(file.network.buffers), ['runningMean1', 'runningVar1'], 'batch-norm statistics saved');
    assert.ok(file.network.buffers.runningMean1.toArray().some((v) => v !== 0), 'running mean was trained');
    const ev = await cli('eval', '--model', out, '--data', data);
    assert.equal(ev.code, 0, ev.stderr);
    assert.match(ev.stdout, /\(tiny, 2,018 parameters\)/);
  });

  it('--help shows --model', async () => {
    const r = await cli('train', '--help');
    assert.match(r.stdout, /--model NAME\|FILE\s+network to train: a built-in \(simple, lenet, alexnet, deep; see scratchnet models\) or a JSON spec file \(default: simple\)/);
    assert.match((await cli('--help')).stdout, /models\s+list the built-in networks/);
  });
});
