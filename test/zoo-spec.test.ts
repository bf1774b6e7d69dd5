// Networks as data: spec checking (one line naming the layer and the shapes, before any
// allocation), the built-in specs' sizes, SimpleConvNet as a spec, a whole-network gradient
// check through every layer type, save/load round trips for every built-in, and LeNet learning.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ScratchnetError } from '../src/errors.js';
import { readModelFile, saveModel } from '../src/io/model-file.js';
import { softmax } from '../src/layers/functions.js';
import { Dropout } from '../src/layers/dropout.js';
import { BatchNormalization } from '../src/layers/batch-normalization.js';
import { SequentialNetwork, buildFromSpec } from '../src/models/sequential.js';
import { SimpleConvNet, simpleConvNetSpec } from '../src/models/simple-convnet.js';
import { checkSpec, type NetworkSpec, SpecError } from '../src/models/spec.js';
import { zooSpec, ZOO_NAMES } from '../src/models/zoo.js';
import { Adam } from '../src/optimizers/adam.js';
import { Random } from '../src/random.js';
import { randn, type Tensor } from '../src/tensor.js';
import { assertClose, numericalGradient } from './helpers.js';

const dir = await mkdtemp(join(tmpdir(), 'scratchnet-zoo-'));
after(() => rm(dir, { recursive: true, force: true }));

function sameBits(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

/** The spec must be refused with one SpecError line (exit code 2) matching every pattern. */
function refuses(spec: unknown, ...patterns: RegExp[]): void {
  assert.throws(() => checkSpec(spec), (e: unknown) => {
    assert.ok(e instanceof SpecError, `not a SpecError: ${String(e)}`);
    assert.equal(e.exitCode, 2, 'exit code 2');
    assert.ok(!e.message.includes('\n'), `one line: ${e.message}`);
    for (const p of patterns) assert.match(e.message, p);
    return true;
  }, `spec ${JSON.stringify(spec)} was accepted`);
}

const conv = (filters: number, size: number, extra: object = {}) => ({ type: 'conv', filters, size, ...extra });

describe('spec checking', () => {
  it('derives every size with floor division', () => {
    const c = checkSpec({ input: [3, 11, 10], layers: [conv(4, 3, { stride: 2, pad: 1 }), { type: 'maxpool', size: 2 }, { type: 'avgpool', size: 2, stride: 1 }, { type: 'flatten' }, { type: 'dense', units: 5 }] });
    assert.deepEqual(c.layers.map((l) => l.outputShape), [[4, 6, 5], [4, 3, 2], [4, 2, 1], [8], [5]], 'output shapes');
    assert.deepEqual(c.layers[0].params, { W: [4, 3, 3, 3], b: [4] }, 'conv params');
    assert.equal(c.paramCount, 4 * 27 + 4 + 8 * 5 + 5, 'parameter count');
    assert.equal(c.layers[1].spec.type === 'maxpool' && c.layers[1].spec.stride, 2, 'pool stride defaults to its size');
  });

  it('refuses unknown layer types and options, naming the layer', () => {
    refuses({ input: [1, 8, 8], layers: [conv(2, 3), { type: 'softplus' }, { type: 'dense', units: 2 }] }, /layers\[1\]/, /unknown layer type 'softplus'/, /types: conv, dense/);
    refuses({ input: [1, 8, 8], layers: [conv(2, 3, { padding: 1 }), { type: 'dense', units: 2 }] }, /layers\[0\] \(conv\) on input \(1, 8, 8\): unknown option 'padding'/, /options: filters, size, stride, pad, init/);
    refuses({ input: [1, 8, 8], layers: [{ type: 'relu', inplace: true }, { type: 'dense', units: 2 }] }, /layers\[0\] \(relu\).*unknown option 'inplace' \(it takes no options\)/);
    refuses({ input: [1, 8, 8], layers: [{ units: 3 }] }, /layers\[0\]: unknown layer type undefined/);
    refuses({ input: [1, 8, 8], layers: [conv(2, 3), 'relu'] }, /layers\[1\]: a layer must be an object/);
  });

  it('refuses negative strides, non-positive sizes and windows that do not fit, with the shapes', () => {
    refuses({ input: [1, 28, 28], layers: [conv(4, 5), { type: 'maxpool', size: 2, stride: -1 }, { type: 'dense', units: 10 }] }, /layers\[1\] \(maxpool\) on input \(4, 24, 24\): stride must be an integer >= 1, got -1/);
    refuses({ input: [1, 28, 28], layers: [conv(0, 5), { type: 'dense', units: 10 }] }, /layers\[0\] \(conv\) on input \(1, 28, 28\): filters must be an integer >= 1, got 0/);
    refuses({ input: [1, 28, 28], layers: [conv(4, 5, { pad: -1 }), { type: 'dense', units: 10 }] }, /layers\[0\] \(conv\).*pad must be an integer >= 0, got -1/);
    refuses({ input: [1, 28, 28], layers: [conv(4, 2.5), { type: 'dense', units: 10 }] }, /size must be an integer >= 1, got 2\.5/);
    refuses({ input: [1, 28, 28], layers: [conv(4, 5), { type: 'dense', units: 0 }] }, /layers\[1\] \(dense\) on input \(4, 24, 24\): units must be an integer >= 1, got 0/);
    // 28 -> 24 -> 12 -> 8 -> 4 -> 1 -> a 5x5 conv no longer fits
    refuses({ input: [1, 28, 28], layers: [conv(4, 5), { type: 'maxpool', size: 2 }, conv(8, 5), { type: 'maxpool', size: 2 }, { type: 'maxpool', size: 4 }, conv(8, 5), { type: 'dense', units: 10 }] },
      /layers\[5\] \(conv\) on input \(8, 1, 1\): a 5x5 window \(stride 1, pad 0\) does not fit 1x1: output would be -3x-3/);
    refuses({ input: [1, 6, 6], layers: [{ type: 'maxpool', size: 3, pad: 3 }, { type: 'dense', units: 2 }] }, /pad 3 must be smaller than the window size 3/);
    refuses({ input: [1, 8, 8], layers: [{ type: 'dropout', ratio: 1 }, { type: 'dense', units: 2 }] }, /layers\[0\] \(dropout\).*ratio must be in \[0, 1\), got 1/);
    refuses({ input: [1, 8, 8], layers: [{ type: 'lrn', k: 0 }, { type: 'dense', units: 2 }] }, /layers\[0\] \(lrn\).*k must be a positive number, got 0/);
    refuses({ input: [1, 8, 8], layers: [conv(2, 3, { init: 'orthogonal' }), { type: 'dense', units: 2 }] }, /layers\[0\] \(conv\).*init must be 'he', 'xavier' or a positive standard deviation, got 'orthogonal'/);
  });

  it('refuses layers that need images after a dense/flatten, and a network that does not end in scores', () => {
    refuses({ input: [1, 8, 8], layers: [{ type: 'dense', units: 20 }, conv(2, 3)] }, /layers\[1\] \(conv\) on input \(20\): needs \(channels, height, width\) input/);
    refuses({ input: [1, 8, 8], layers: [{ type: 'flatten' }, { type: 'lrn' }, { type: 'dense', units: 2 }] }, /layers\[1\] \(lrn\) on input \(64\)/);
    refuses({ input: [1, 8, 8], layers: [conv(2, 3)] }, /layers\[0\] \(conv\) outputs \(2, 6, 6\), but a network must end in class scores/);
  });

  it('refuses a bad top level', () => {
    refuses(null, /must be an object/);
    refuses({ input: [1, 28], layers: [{ type: 'dense', units: 2 }] }, /spec input must be \[channels, height, width\] or \[features\]/);
    refuses({ input: [1, 28, -28], layers: [{ type: 'dense', units: 2 }] }, /spec input/);
    refuses({ input: [1, 28, 28], layers: [] }, /layers must be a non-empty array/);
    refuses({ input: [1, 28, 28], layers: [{ type: 'dense', units: 2 }], optimizer: 'adam' }, /unknown spec field 'optimizer'/);
    refuses({ model: 'GPT', input: [1, 28, 28], layers: [{ type: 'dense', units: 2 }] }, /model must be 'Sequential'/);
  });

  it('checks before allocating: a bad layer after a big one fails on the bad one, a 40-billion-value layer on the limit', () => {
    const spec = { input: [1, 200, 200], layers: [{ type: 'dense', units: 1000 }, { type: 'relu' }, { type: 'maxpool', size: 2 }, { type: 'dense', units: 10 }] };
    assert.throws(() => buildFromSpec(spec), (e: unknown) => e instanceof SpecError && /layers\[2\] \(maxpool\) on input \(1000\)/.test(e.message), 'SpecError, not an out-of-memory');
    const huge = { input: [1, 200, 200], layers: [{ type: 'dense', units: 1_000_000 }, { type: 'dense', units: 10 }] };
    assert.throws(() => buildFromSpec(huge), (e: unknown) => e instanceof SpecError && /layers\[0\] \(dense\) brings the network to 40001000000 parameters, above the limit of 268435456/.test(e.message), 'refused by its size');
  });
});

describe('built-in specs', () => {
  const expected: Record<string, [number, number[]]> = {
    simple: [433_890, [10]],
    lenet: [61_706, [10]],
    alexnet: [154_954, [10]],
    'alexnet-227': [62_378_344, [1000]],
    deep: [123_552, [10]],
  };
  it('every built-in checks, with the expected parameter count', () => {
    assert.deepEqual(ZOO_NAMES, Object.keys(expected), 'the built-ins');
    for (const name of ZOO_NAMES) {
      const c = checkSpec(zooSpec(name));
      assert.equal(c.paramCount, expected[name][0], `${name} parameters`);
      assert.deepEqual(c.outputShape, expected[name][1], `${name} output`);
    }
  });
  it('LeNet, AlexNet and DeepConvNet have the published structure', () => {
    const lenet = checkSpec(zooSpec('lenet'));
    assert.deepEqual(lenet.layers.filter((l) => l.type === 'conv' || l.type === 'dense').map((l) => l.outputShape), [[6, 28, 28], [16, 10, 10], [120], [84], [10]], 'lenet sizes');
    assert.equal(lenet.layers.filter((l) => l.type === 'avgpool').length, 2, 'two subsampling layers');
    const alex = checkSpec(zooSpec('alexnet-227'));
    const convs = alex.layers.filter((l) => l.type === 'conv');
    assert.deepEqual(convs.map((l) => l.outputShape), [[96, 55, 55], [256, 27, 27], [384, 13, 13], [384, 13, 13], [256, 13, 13]], 'alexnet conv sizes');
    assert.deepEqual(alex.layers.filter((l) => l.type === 'maxpool').map((l) => l.outputShape), [[96, 27, 27], [256, 13, 13], [256, 6, 6]], 'three overlapping pools');
    assert.deepEqual(alex.layers.filter((l) => l.type === 'lrn').map((l) => l.index), [2, 6], 'LRN after the first two conv+relu');
    assert.equal(alex.layers.filter((l) => l.type === 'dropout').length, 2, 'dropout in the two hidden dense layers');
    const deep = checkSpec(zooSpec('deep'));
    assert.deepEqual(deep.layers.filter((l) => l.type === 'conv').map((l) => l.spec.type === 'conv' && [l.spec.filters, l.spec.size, l.spec.init]), [[16, 3, 'he'], [16, 3, 'he'], [32, 3, 'he'], [32, 3, 'he'], [64, 3, 'he'], [64, 3, 'he']], 'deep convs');
  });
  it('input and classes are parameters', () => {
    const c = checkSpec(zooSpec('alexnet', { input: [3, 32, 32], classes: 100 }));
    assert.deepEqual(c.spec.input, [3, 32, 32], 'input');
    assert.deepEqual(c.outputShape, [100], 'classes');
    assert.throws(() => zooSpec('vgg16'), (e: unknown) => e instanceof SpecError && /unknown model 'vgg16'/.test(e.message), 'unknown built-in');
  });
});

describe('networks built from specs', () => {
  it('SimpleConvNet is its spec: same layers, same parameter names, bit-identical weights', () => {
    for (const opts of [{}, { inputDim: [1, 10, 12] as const, convParam: { filterNum: 4, filterSize: 3, pad: 1, stride: 2 }, hiddenSize: 7, outputSize: 5, weightInitStd: 'he' as const }]) {
      const a = new SimpleConvNet({ ...opts, seed: 5 });
      const b = buildFromSpec(simpleConvNetSpec(opts), { seed: 5 });
      assert.deepEqual(a.layers.map(([n]) => n), ['Conv1', 'Relu1', 'Pool1', 'Affine1', 'Relu2', 'Affine2'], 'layer names');
      assert.deepEqual(b.layers.map(([n]) => n), a.layers.map(([n]) => n), 'same layer names');
      assert.deepEqual(Object.keys(b.params), ['W1', 'b1', 'W2', 'b2', 'W3', 'b3'], 'parameter names');
      for (const k of Object.keys(a.params)) assert.ok(sameBits(a.params[k].data, b.params[k].data), `${k} identical`);
      assert.equal(a.spec().model, 'Sequential', 'a SimpleConvNet is stored as its spec');
      assert.equal(a.spec().name, 'SimpleConvNet', 'named after the book\'s class');
    }
  });

  it('names parameters W/b per weight layer and gamma/beta (+ running statistics) per batch norm', () => {
    const net = buildFromSpec({ input: [2, 6, 6], layers: [conv(3, 3), { type: 'batchnorm' }, { type: 'relu' }, { type: 'flatten' }, { type: 'dense', units: 4 }, { type: 'batchnorm' }, { type: 'dense', units: 3 }] });
    assert.deepEqual(Object.keys(net.params), ['W1', 'b1', 'gamma1', 'beta1', 'W2', 'b2', 'gamma2', 'beta2', 'W3', 'b3'], 'params');
    assert.deepEqual(Object.keys(net.buffers), ['runningMean1', 'runningVar1', 'runningMean2', 'runningVar2'], 'buffers');
    assert.deepEqual(net.layers.map(([n]) => n), ['Conv1', 'BatchNorm1', 'Relu1', 'Flatten1', 'Affine1', 'BatchNorm2', 'Affine2'], 'layer names');
    assert.deepEqual([...net.params.gamma1.shape], [3], 'per-channel gamma after a conv');
    assert.deepEqual([...net.params.gamma2.shape], [4], 'per-feature gamma after a dense layer');
    assert.equal(net.outputSize, 3, 'output size');
  });

  it('initialises per layer: he, xavier, a fixed std; --init overrides', () => {
    const spec: NetworkSpec = { input: [4, 10, 10], layers: [{ type: 'conv', filters: 200, size: 5, init: 'he' }, { type: 'flatten' }, { type: 'dense', units: 300, init: 'xavier' }, { type: 'dense', units: 10, init: 0.05 }] };
    const std = (t: Tensor) => Math.sqrt(t.toArray().reduce((s, v) => s + v * v, 0) / t.size);
    const net = buildFromSpec(spec, { seed: 3 });
    const near = (a: number, b: number, what: string) => assert.ok(Math.abs(a / b - 1) < 0.03, `${what}: std ${a} vs ${b}`);
    near(std(net.params.W1), Math.sqrt(2 / 100), 'he on fan-in 4*5*5');
    near(std(net.params.W2), Math.sqrt(1 / (200 * 36)), 'xavier on fan-in 200*6*6');
    near(std(net.params.W3), 0.05, 'fixed std');
    const over = buildFromSpec(spec, { seed: 3, init: 0.01 });
    near(std(over.params.W2), 0.01, 'override');
    assert.ok((over.spec().layers as { init?: unknown }[]).every((l) => l.init === undefined || l.init === 0.01), 'the override is recorded in the spec');
  });

  it('whole-network gradient check through every layer type (float64, training mode, fixed dropout masks)', () => {
    const spec: NetworkSpec = {
      input: [2, 9, 9],
      layers: [
        { type: 'conv', filters: 6, size: 3, pad: 1, init: 0.4 }, { type: 'batchnorm' }, { type: 'relu' }, { type: 'lrn', n: 3, k: 1, alpha: 0.3, beta: 0.75 },
        { type: 'maxpool', size: 3, stride: 2 }, { type: 'conv', filters: 5, size: 2, init: 0.4 }, { type: 'tanh' }, { type: 'avgpool', size: 2, stride: 1, pad: 1 },
        { type: 'flatten' }, { type: 'dense', units: 7, init: 0.3 }, { type: 'batchnorm' }, { type: 'sigmoid' }, { type: 'dropout', ratio: 0.3 }, { type: 'dense', units: 4, init: 0.5 },
      ],
    };
    const net = buildFromSpec(spec, { seed: 11, dtype: 'float64' });
    const rng = new Random(4);
    for (const p of Object.values(net.params)) for (let i = 0; i < p.size; i++) p.data[i] += 0.1 * rng.gaussian(); // non-trivial b, gamma, beta
    const dropouts = net.layers.map(([, l]) => l).filter((l): l is Dropout => l instanceof Dropout);
    const fixMasks = () => dropouts.forEach((d, i) => (d.rng = new Random(100 + i)));
    const x = randn(rng, [5, 2, 9, 9], 1, 'float64');
    const t = Int32Array.from([0, 3, 1, 2, 3]);
    fixMasks();
    const grads = net.gradient(x, t);
    const analytic: Record<string, Float64Array> = {};
    for (const [k, g] of Object.entries(grads)) analytic[k] = Float64Array.from(g.data);
    const exactLoss = () => {
      fixMasks();
      const y = softmax(net.predict(x, true));
      let s = 0;
      for (let i = 0; i < t.length; i++) s -= Math.log(y.data[i * 4 + t[i]]);
      return s / t.length;
    };
    // b1 and b3 feed straight into a batch norm, which subtracts the mean: their gradient is
    // exactly zero (numerically ~1e-10 noise), so check that instead of a relative error.
    const zeroByBatchNorm = new Set(['b1', 'b3']);
    for (const [k, p] of Object.entries(net.params)) {
      const numeric = numericalGradient(exactLoss, p.data, 1e-6);
      if (zeroByBatchNorm.has(k)) {
        assert.ok(analytic[k].every((v) => Math.abs(v) < 1e-12) && numeric.every((v) => Math.abs(v) < 1e-8), `d${k} is zero before a batch norm`);
      } else {
        assertClose(analytic[k], numeric, 1e-5, `network d${k}`);
      }
    }
  });
});

describe('save/load round trips', () => {
  async function roundTrip(net: SequentialNetwork | SimpleConvNet, name: string): Promise<void> {
    const path = join(dir, `${name}.safetensors`);
    await saveModel(net, path, { epochs: 0 });
    const { network, spec } = await readModelFile(path);
    assert.deepEqual(spec, JSON.parse(JSON.stringify(net.spec())), `${name}: spec stored`);
    assert.deepEqual(Object.keys(network.params), Object.keys(net.params), `${name}: parameter names`);
    assert.deepEqual(Object.keys(network.buffers), Object.keys(net.buffers), `${name}: buffer names`);
    const x = randn(new Random(9), [3, ...net.inputShape], 1);
    assert.ok(sameBits(network.predict(x).data, net.predict(x).data), `${name}: predictions differ after loading`);
  }

  for (const name of ZOO_NAMES.filter((n) => n !== 'alexnet-227')) { // alexnet-227: test/zoo-alexnet227.test.ts
    it(`${name}: identical predictions after save and load`, async () => {
      const net = name === 'simple' ? new SimpleConvNet({ seed: 2, weightInitStd: 'he' }) : buildFromSpec(zooSpec(name), { seed: 2 });
      await roundTrip(net, name);
    });
  }

  it('batch norm running statistics are saved and restored (eval predictions depend on them)', async () => {
    const net = buildFromSpec({ input: [1, 8, 8], layers: [conv(3, 3), { type: 'batchnorm', momentum: 0.5 }, { type: 'relu' }, { type: 'dense', units: 6 }, { type: 'batchnorm' }, { type: 'dense', units: 3 }] }, { seed: 1 });
    const x = randn(new Random(3), [8, 1, 8, 8], 2);
    for (let i = 0; i < 3; i++) net.gradient(x, Int32Array.from([0, 1, 2, 0, 1, 2, 0, 1])); // moves the running statistics
    const bn = net.layer('BatchNorm1') as BatchNormalization;
    assert.ok(bn.runningMean.toArray().some((v) => v !== 0), 'running mean moved');
    await roundTrip(net, 'batchnorm');
    const path = join(dir, 'batchnorm.safetensors');
    const loaded = (await readModelFile(path)).network;
    assert.ok(sameBits(loaded.buffers.runningVar1.data, net.buffers.runningVar1.data), 'running variance restored');
  });

  it('model files written by the original SimpleConvNet still load', async () => {
    const net = new SimpleConvNet({ inputDim: [1, 12, 12], convParam: { filterNum: 3, filterSize: 3 }, hiddenSize: 5, seed: 4 });
    const { encodeSafetensors } = await import('../src/io/safetensors.js');
    const { writeFile } = await import('node:fs/promises');
    const path = join(dir, 'legacy.safetensors');
    await writeFile(path, encodeSafetensors(net.params, { format: 'scratchnet', format_version: '1', spec: JSON.stringify({ model: 'SimpleConvNet', inputDim: [1, 12, 12], convParam: { filterNum: 3, filterSize: 3, pad: 0, stride: 1 }, hiddenSize: 5, outputSize: 10, weightInitStd: 0.01 }) }));
    const back = await readModelFile(path);
    assert.deepEqual(back.network.layers.map(([n]) => n), net.layers.map(([n]) => n), 'the same network again');
    const x = randn(new Random(1), [2, 1, 12, 12], 1);
    assert.ok(sameBits(back.network.predict(x).data, net.predict(x).data), 'same predictions');
  });

  it('refuses a model file whose batch-norm statistics are missing or negative, with one line', async () => {
    const { encodeSafetensors } = await import('../src/io/safetensors.js');
    const { writeFile } = await import('node:fs/promises');
    const net = buildFromSpec({ input: [4], layers: [{ type: 'dense', units: 3 }, { type: 'batchnorm' }, { type: 'dense', units: 2 }] });
    const meta = { format: 'scratchnet', format_version: '1', spec: JSON.stringify(net.spec()) };
    const missing = join(dir, 'missing-bn.safetensors');
    await writeFile(missing, encodeSafetensors({ ...net.params, runningMean1: net.buffers.runningMean1 }, meta));
    await assert.rejects(readModelFile(missing), (e: unknown) => e instanceof ScratchnetError && /missing-bn\.safetensors: missing parameter runningVar1/.test(e.message), 'missing running variance');
    const neg = net.buffers.runningVar1.clone();
    neg.data[1] = -1;
    const negative = join(dir, 'negative-bn.safetensors');
    await writeFile(negative, encodeSafetensors({ ...net.params, ...net.buffers, runningVar1: neg }, meta));
    await assert.rejects(readModelFile(negative), (e: unknown) => e instanceof ScratchnetError && /running variance runningVar1 is negative/.test(e.message), 'negative running variance');
    const bad = join(dir, 'badspec.safetensors');
    await writeFile(bad, encodeSafetensors(net.params, { ...meta, spec: JSON.stringify({ ...net.spec(), layers: [{ type: 'dense', units: -3 }] }) }));
    await assert.rejects(readModelFile(bad), (e: unknown) => e instanceof ScratchnetError && e.exitCode === 1 && /bad model spec: layers\[0\] \(dense\)/.test(e.message), 'bad spec in a file');
  });
});

describe('training', () => {
  it('LeNet: 160 Adam steps of 32 digits leave the sigmoid plateau (held-out loss and accuracy improve)', async () => {
    // Sigmoid LeNet first learns only the class frequencies (the loss sits near 2.30 for ~100
    // steps) and then starts to separate digits: check both the drop and the accuracy.
    const { loadMnist } = await import('../src/data/mnist.js');
    const data = await loadMnist({ flatten: false });
    const xe = data.test.x.sliceRows(0, 500);
    const te = data.test.t.subarray(0, 500);
    const net = buildFromSpec(zooSpec('lenet'), { seed: 1 });
    const opt = new Adam({ lr: 0.003 });
    const first = net.loss(xe, te);
    for (let i = 0; i < 160; i++) opt.update(net.params, net.gradient(data.train.x.sliceRows(i * 32, i * 32 + 32), data.train.t.subarray(i * 32, i * 32 + 32)));
    const last = net.loss(xe, te);
    const acc = net.accuracy(xe, te);
    assert.ok(last < 0.85 * first, `held-out loss ${first.toFixed(3)} -> ${last.toFixed(3)} should drop by 15%`);
    assert.ok(acc > 0.4, `held-out accuracy ${acc} should be well above chance (0.1)`);
  });
});
