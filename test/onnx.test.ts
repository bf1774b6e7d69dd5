// ONNX export checked by a real runtime: onnxruntime-node runs the exported file on real MNIST
// test digits and must give scratchnet's scores and probabilities within 1e-4, for SimpleConvNet
// and every network of the zoo (LeNet with sigmoid/avg-pool, the narrow AlexNet with LRN and
// dropout, DeepConvNet) plus a spec with batch norm, tanh, flatten and padded pooling.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { run } from '../src/cli/cli.js';
import type { Io } from '../src/cli/io.js';
import { parseIdx } from '../src/data/idx.js';
import { defaultMnistDir } from '../src/data/mnist.js';
import type { Layer } from '../src/layers/layer.js';
import { saveModel } from '../src/io/model-file.js';
import { exportOnnx, exportOnnxModel } from '../src/io/onnx.js';
import { decodeFields, ProtoWriter } from '../src/io/protobuf.js';
import type { Network } from '../src/models/network.js';
import { buildFromSpec } from '../src/models/sequential.js';
import { SimpleConvNet } from '../src/models/simple-convnet.js';
import { zooSpec } from '../src/models/zoo.js';
import { Tensor } from '../src/tensor.js';
import { Trainer } from '../src/train/trainer.js';
import { lcg } from './helpers.js';

const require = createRequire(import.meta.url);
const ort = require('onnxruntime-node') as typeof import('onnxruntime-node');

const dir = await mkdtemp(join(tmpdir(), 'scratchnet-onnx-'));

/** The first n MNIST test digits, scaled to 0..1, as (n, 1, 28, 28). */
function testDigits(n: number): Tensor {
  const idx = parseIdx(readFileSync(join(defaultMnistDir(), 't10k-images-idx3-ubyte')), 't10k');
  const x = new Float32Array(n * 784);
  for (let i = 0; i < x.length; i++) x[i] = idx.data[i] / 255;
  return new Tensor(x, [n, 1, 28, 28]);
}
const digits = testDigits(64);

function softmaxRows(y: Tensor): Float64Array {
  const [n, k] = y.shape;
  const out = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    let max = -Infinity;
    for (let j = 0; j < k; j++) max = Math.max(max, y.data[i * k + j]);
    let sum = 0;
    for (let j = 0; j < k; j++) sum += (out[i * k + j] = Math.exp(y.data[i * k + j] - max));
    for (let j = 0; j < k; j++) out[i * k + j] /= sum;
  }
  return out;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'same length');
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = d;
  }
  return m;
}

/** Export, run in onnxruntime on the digits (and on one digit: the batch is symbolic), compare. */
async function checkInRuntime(network: Network, what: string): Promise<{ scores: number; probabilities: number; nodes: string[] }> {
  const { bytes, nodes } = exportOnnxModel(network);
  const session = await ort.InferenceSession.create(bytes);
  assert.deepEqual(session.inputNames, ['input'], `${what}: input names`);
  assert.deepEqual([...session.outputNames].sort(), ['probabilities', 'scores'], `${what}: output names`);
  const expected = network.predict(digits);
  const expectedP = softmaxRows(expected);
  const out = await session.run({ input: new ort.Tensor('float32', Float32Array.from(digits.data), [...digits.shape]) });
  assert.deepEqual(out.scores.dims, expected.shape, `${what}: scores shape`);
  const scores = maxAbsDiff(out.scores.data as Float32Array, expected.data);
  const probabilities = maxAbsDiff(out.probabilities.data as Float32Array, expectedP);
  assert.ok(scores <= 1e-4, `${what}: scores differ by ${scores}`);
  assert.ok(probabilities <= 1e-4, `${what}: probabilities differ by ${probabilities}`);
  const one = await session.run({ input: new ort.Tensor('float32', Float32Array.from(digits.data.subarray(0, 784)), [1, 1, 28, 28]) });
  assert.ok(maxAbsDiff(one.scores.data as Float32Array, expected.data.subarray(0, expected.shape[1])) <= 1e-4, `${what}: batch of one`);
  return { scores, probabilities, nodes };
}

/** Random but reproducible values in a tensor (so biases and running statistics are not trivial). */
function scramble(t: Tensor, rand: () => number, lo: number, hi: number): void {
  for (let i = 0; i < t.size; i++) t.data[i] = lo + (hi - lo) * rand();
}

function randomizeNonWeights(network: Network, seed: number): void {
  const rand = lcg(seed);
  for (const [, layer] of network.layers) {
    const l = layer as Layer & Record<string, unknown>;
    if (l.b instanceof Tensor) scramble(l.b, rand, -0.1, 0.1);
    if (l.name === 'BatchNormalization') {
      scramble(l.gamma as Tensor, rand, 0.5, 1.5);
      scramble(l.beta as Tensor, rand, -0.2, 0.2);
      scramble(l.runningMean as Tensor, rand, -0.3, 0.3);
      scramble(l.runningVar as Tensor, rand, 0.5, 2);
    }
  }
}

describe('protobuf writer', () => {
  it('varints, negative int64, floats, strings and nested messages', () => {
    const hex = (w: ProtoWriter) => Buffer.from(w.finish()).toString('hex');
    assert.equal(hex(new ProtoWriter().int(1, 150)), '089601', 'the protobuf docs example: field 1 = 150');
    assert.equal(hex(new ProtoWriter().int(2, -1)), '10ffffffffffffffffff01', '-1 as a 10-byte int64');
    assert.equal(hex(new ProtoWriter().int(1, 2 ** 40)), '08808080808020', '2^40: five zero groups, then 1 << 5');
    assert.equal(hex(new ProtoWriter().float(2, 1.5)), '150000c03f', 'float field');
    assert.equal(hex(new ProtoWriter().string(4, 'Relu')), '220452656c75', 'string field');
    const nested = new ProtoWriter().message(7, new ProtoWriter().int(1, 3).string(2, 'x')).finish();
    const [outer] = decodeFields(nested);
    assert.equal(outer.field, 7, 'outer field');
    const inner = decodeFields(outer.value as Uint8Array);
    assert.deepEqual(inner.map((f) => f.field), [1, 2], 'inner fields');
    assert.equal(inner[0].value, 3n, 'inner varint');
  });

  it('the exported model has ONNX\'s top-level fields: ir_version 7, opset 13, producer scratchnet', () => {
    const net = new SimpleConvNet({ inputDim: [1, 10, 10], convParam: { filterNum: 2, filterSize: 3 }, hiddenSize: 4, outputSize: 3 });
    const fields = decodeFields(exportOnnx(net));
    assert.equal(fields.find((f) => f.field === 1)?.value, 7n, 'ir_version');
    assert.equal(Buffer.from(fields.find((f) => f.field === 2)!.value as Uint8Array).toString(), 'scratchnet', 'producer');
    const opset = decodeFields(fields.find((f) => f.field === 8)!.value as Uint8Array);
    assert.equal(opset.find((f) => f.field === 2)?.value, 13n, 'opset version');
  });
});

describe('ONNX export matches scratchnet in onnxruntime (real test digits, 1e-4)', () => {
  it('SimpleConvNet, briefly trained', async () => {
    const net = new SimpleConvNet({ seed: 1, weightInitStd: 'he' });
    const t = Int32Array.from(parseIdx(readFileSync(join(defaultMnistDir(), 't10k-labels-idx1-ubyte')), 'labels').data.subarray(0, 64));
    // A few Adam steps on the digits themselves: trained weights, not just the initial draw.
    const trainer = new Trainer(net, { train: { x: digits, t }, test: { x: digits, t } }, { epochs: 2, batchSize: 16, optimizer: 'adam', seed: 1 });
    trainer.train();
    const r = await checkInRuntime(net, 'simple');
    assert.deepEqual(r.nodes, ['Conv', 'Relu', 'MaxPool', 'Flatten', 'Gemm', 'Relu', 'Gemm', 'Softmax'], 'node list');
  });

  for (const name of ['lenet', 'alexnet', 'deep']) {
    it(`zoo: ${name}`, async () => {
      const net = buildFromSpec(zooSpec(name), { seed: 3 });
      randomizeNonWeights(net, 9);
      const r = await checkInRuntime(net, name);
      if (name === 'lenet') assert.ok(r.nodes.includes('Sigmoid') && r.nodes.includes('AveragePool'), `lenet nodes: ${r.nodes}`);
      if (name === 'alexnet') assert.ok(r.nodes.includes('LRN') && !r.nodes.includes('Dropout'), `alexnet nodes: ${r.nodes}`);
    });
  }

  it('batch norm (conv and dense), tanh, flatten, padded max and average pooling, dropout', async () => {
    const net = buildFromSpec({
      input: [1, 28, 28],
      layers: [
        { type: 'conv', filters: 4, size: 3, stride: 2, pad: 1 }, { type: 'batchnorm' }, { type: 'tanh' },
        { type: 'maxpool', size: 3, stride: 2, pad: 1 },
        { type: 'conv', filters: 6, size: 3, pad: 1 }, { type: 'relu' }, { type: 'lrn', n: 3, k: 1, alpha: 0.01, beta: 0.5 },
        { type: 'avgpool', size: 3, stride: 2, pad: 1 },
        { type: 'flatten' }, { type: 'dense', units: 12 }, { type: 'batchnorm', eps: 1e-3 }, { type: 'sigmoid' },
        { type: 'dropout', ratio: 0.3 }, { type: 'dense', units: 10 },
      ],
    }, { seed: 4 });
    randomizeNonWeights(net, 5);
    const r = await checkInRuntime(net, 'mixed');
    assert.equal(r.nodes.filter((n) => n === 'BatchNormalization').length, 2, `nodes: ${r.nodes}`);
  });

  it('global average pooling (GlobalAveragePool + Flatten), after conv, batch norm and relu', async () => {
    const net = buildFromSpec({
      input: [1, 28, 28],
      layers: [{ type: 'conv', filters: 5, size: 3, pad: 1 }, { type: 'batchnorm' }, { type: 'relu' }, { type: 'globalavgpool' }, { type: 'dense', units: 4 }],
    }, { seed: 8 });
    randomizeNonWeights(net, 9);
    const r = await checkInRuntime(net, 'globalavgpool');
    assert.ok(r.nodes.includes('GlobalAveragePool'), `nodes: ${r.nodes}`);
  });

  it('exporting runs no forward pass: the layer caches of a training step survive it', () => {
    const net = new SimpleConvNet({ inputDim: [1, 10, 10], convParam: { filterNum: 2, filterSize: 3 }, hiddenSize: 4, outputSize: 3, dtype: 'float64', seed: 2 });
    const x = new Tensor(Float64Array.from({ length: 5 * 100 }, (_, i) => Math.sin(i)), [5, 1, 10, 10]);
    const t = new Int32Array([0, 1, 2, 1, 0]);
    const reference = net.gradient(x, t).W1.toArray();
    // forward (caches for a batch of 5), export, then backward from those caches
    net.loss(x, t, true);
    exportOnnx(net);
    let dout = net.lastLayer.backward(1);
    for (let i = net.layers.length - 1; i >= 0; i--) dout = net.layers[i][1].backward(dout, i > 0);
    assert.deepEqual(net.layers[0][1].grads!.W.toArray(), reference, 'same gradient as without the export in between');
  });
});

describe('scratchnet export', () => {
  async function cli(...argv: string[]) {
    let stdout = '', stderr = '';
    const io: Io = { out: (l) => (stdout += l + '\n'), err: (l) => (stderr += l + '\n'), progress: { write: () => true, isTTY: false } };
    const code = await run(argv, io);
    return { code, stdout, stderr };
  }

  it('writes an ONNX file onnxruntime loads; errors are one line', async () => {
    const model = join(dir, 'm.safetensors');
    const net = buildFromSpec(zooSpec('lenet'), { seed: 2 });
    await saveModel(net, model);
    const out = join(dir, 'm.onnx');
    const r = await cli('export', '--model', model, '--onnx', out);
    assert.equal(r.code, 0, `exit code (stderr: ${r.stderr})`);
    assert.match(r.stdout, /wrote .*m\.onnx: ONNX opset 13, \d+ nodes .*input \(N, 1, 28, 28\), outputs scores and probabilities \(N, 10\)/, r.stdout);
    const session = await ort.InferenceSession.create(readFileSync(out));
    const y = await session.run({ input: new ort.Tensor('float32', Float32Array.from(digits.data.subarray(0, 784 * 2)), [2, 1, 28, 28]) });
    assert.ok(maxAbsDiff(y.scores.data as Float32Array, net.predict(digits.sliceRows(0, 2)).data) <= 1e-4, 'file predicts as the model');

    const usage = await cli('export', '--model', model);
    assert.equal(usage.code, 2, 'missing --onnx is a usage error');
    assert.match(usage.stderr, /--onnx is required/, usage.stderr);
    const opset = await cli('export', '--model', model, '--onnx', out, '--opset', '9');
    assert.equal(opset.code, 2, 'opset below 13');
    const out17 = join(dir, 'm17.onnx');
    assert.equal((await cli('export', '--model', model, '--onnx', out17, '--opset', '17')).code, 0, 'opset 17');
    const s17 = await ort.InferenceSession.create(readFileSync(out17));
    const y17 = await s17.run({ input: new ort.Tensor('float32', Float32Array.from(digits.data.subarray(0, 784)), [1, 1, 28, 28]) });
    assert.ok(maxAbsDiff(y17.scores.data as Float32Array, net.predict(digits.sliceRows(0, 1)).data) <= 1e-4, 'opset 17 file predicts as the model');
    const missing = await cli('export', '--model', join(dir, 'none.safetensors'), '--onnx', out);
    assert.equal(missing.code, 1, 'missing model');
    assert.match(missing.stderr, /none\.safetensors: no such file/, missing.stderr);
    const folder = await cli('export', '--model', model, '--onnx', join(dir, 'no', 'x.onnx'));
    assert.equal(folder.code, 1, 'missing folder');
    assert.match(folder.stderr, /folder .* does not exist/, folder.stderr);
  });
});
