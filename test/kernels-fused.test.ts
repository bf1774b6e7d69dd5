// ReLU + max pooling fused (backend.reluMaxPoolForward / Backward, layers/relu-max-pool.ts) and
// the inference forward: the fused kernels against the js reference of the two unfused ops
// (reluForward then maxPoolForward; maxPoolBackward then reluBackward) on odd shapes, pools 2 and
// 3, strides 1..3, padding, one channel, batch 1, on one thread and split over two; networks with
// and without the fusion (same loss, gradients, predictions); gradient checks through the fused
// pair; inference outputs against training-mode / layer-by-layer evaluation outputs.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { outputSize, type Backend, type WindowGeometry } from '../src/backend/backend.js';
import { getBackend } from '../src/backend/registry.js';
import type { WasmBackend } from '../src/backend/wasm/index.js';
import { FUSED_SCRATCH_OUTPUTS } from '../src/backend/wasm/abi.js';
import { softmax } from '../src/layers/functions.js';
import { Pooling } from '../src/layers/pooling.js';
import { Relu } from '../src/layers/relu.js';
import { ReluMaxPool } from '../src/layers/relu-max-pool.js';
import { SequentialNetwork } from '../src/models/sequential.js';
import { SimpleConvNet } from '../src/models/simple-convnet.js';
import { zooSpec } from '../src/models/zoo.js';
import { Random } from '../src/random.js';
import { randn, Tensor } from '../src/tensor.js';
import { assertClose, lcg, numericalGradient } from './helpers.js';

const js = getBackend('js');
const wasm = getBackend('wasm') as WasmBackend;
const rand = lcg(1212);

function geometry(N: number, C: number, H: number, W: number, size: number, stride: number, pad: number): WindowGeometry {
  return { batch: N, channels: C, height: H, width: W, filterHeight: size, filterWidth: size, stride, pad, outputHeight: outputSize(H, size, stride, pad), outputWidth: outputSize(W, size, stride, pad) };
}

/** Values in [-1, 1) with some exact zeros and whole negative stretches (windows the ReLU cuts). */
function input(n: number, home: 'wasm' | 'js'): Float32Array {
  const a = home === 'wasm' ? wasm.allocate.float32(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const r = rand();
    a[i] = r < 0.1 ? 0 : (i >> 5) % 3 === 0 ? -r : r * 2 - 1;
  }
  return a;
}

/** The unfused reference: relu then max pool forward; max pool then relu backward. */
function unfused(x: Float32Array, g: WindowGeometry, dout: Float32Array): { out: Float32Array; dx: Float32Array } {
  const n = g.batch * g.channels * g.height * g.width, m = dout.length;
  const r = new Float32Array(n), mask = new Uint8Array(n), out = new Float32Array(m), arg = new Int32Array(m);
  js.reluForward(Float32Array.from(x), r, mask);
  js.maxPoolForward(r, g, out, arg);
  const dr = new Float32Array(n), dx = new Float32Array(n);
  js.maxPoolBackward(Float32Array.from(dout), arg, g, dr);
  js.reluBackward(dr, mask, dx);
  return { out, dx };
}

/** The fused op pair on one backend: out, argMax, dx; and the inference output (no argMax). */
function fused(be: Backend, x: Float32Array, g: WindowGeometry, dout: Float32Array, home: 'wasm' | 'js') {
  const m = dout.length, n = x.length;
  const alloc = home === 'wasm' ? wasm.allocate : { float32: (k: number) => new Float32Array(k), int32: (k: number) => new Int32Array(k) };
  const out = alloc.float32(m), arg = alloc.int32(m), infer = alloc.float32(m), dx = alloc.float32(n);
  dx.fill(NaN); // every cell must be written
  be.reluMaxPoolForward(x, g, out, arg);
  be.reluMaxPoolForward(x, g, infer);
  be.reluMaxPoolBackward(dout, arg, g, dx);
  return { out, arg, infer, dx };
}

// (N, C, H, W, pool, stride, pad): odd sizes, pools 2 and 3, strides 1-3, padding, C = 1, N = 1
const SHAPES: [number, number, number, number, number, number, number][] = [
  [1, 1, 7, 9, 2, 2, 0], [2, 3, 6, 8, 2, 2, 0], [3, 1, 9, 7, 3, 2, 0], [1, 2, 13, 13, 3, 2, 0],
  [2, 2, 5, 6, 2, 1, 0], [1, 3, 7, 7, 3, 1, 1], [2, 1, 11, 10, 3, 3, 1], [1, 1, 1, 1, 1, 1, 0], [1, 4, 27, 27, 3, 2, 0],
];

describe('fused ReLU + max pooling kernels against the unfused js reference', () => {
  for (const [be, name] of [[js, 'js'], [wasm, 'wasm']] as const) {
    for (const home of ['wasm', 'js'] as const) {
      if (name === 'js' && home === 'wasm') continue;
      it(`${name} (${home} arrays), one thread: ${SHAPES.length} odd shapes`, () => {
        wasm.setThreads(1);
        for (const [N, C, H, W, size, stride, pad] of SHAPES) {
          const g = geometry(N, C, H, W, size, stride, pad);
          const what = `${N}x${C}x${H}x${W} pool ${size} stride ${stride} pad ${pad}`;
          const x = input(N * C * H * W, home);
          const dout = input(N * C * g.outputHeight * g.outputWidth, home);
          const ref = unfused(x, g, dout);
          const got = fused(be, x, g, dout, home);
          assert.deepEqual([...got.out], [...ref.out], `${what}: forward`);
          assert.deepEqual([...got.infer], [...ref.out], `${what}: inference forward (no argMax)`);
          assert.deepEqual([...got.dx], [...ref.dx], `${what}: backward (same sums in the same order)`);
          for (let i = 0; i < got.out.length; i++) if (got.out[i] === 0) assert.equal(got.arg[i], -1, `${what}: a cut-off window routes nothing`);
        }
      });
    }
  }

  it('NaN wins its window and -0 comes out as +0, as through the unfused ReLU and pooling', () => {
    wasm.setThreads(1);
    for (const [N, C, H, W, size, stride, pad] of [[2, 3, 6, 18, 2, 2, 0], [1, 2, 9, 19, 3, 2, 0], [1, 2, 7, 7, 3, 1, 1]] as const) {
      const g = geometry(N, C, H, W, size, stride, pad);
      const x = input(N * C * H * W, 'wasm');
      for (let i = 0; i < x.length; i += 7) x[i] = i % 3 === 0 ? NaN : -0;
      const dout = input(N * C * g.outputHeight * g.outputWidth, 'wasm');
      const ref = unfused(x, g, dout);
      assert.ok(ref.out.some(Number.isNaN), 'some windows hold a NaN');
      for (const be of [js, wasm]) {
        const got = fused(be, x, g, dout, 'wasm');
        const what = `${be.name} pool ${size}/${stride}`;
        assert.deepEqual([...got.out], [...ref.out], `${what}: forward`);
        assert.deepEqual([...got.infer], [...ref.out], `${what}: inference`);
        assert.ok(got.infer.every((v) => !Object.is(v, -0)), `${what}: no -0 out of the ReLU`);
        assert.deepEqual([...got.dx], [...ref.dx], `${what}: backward`);
      }
    }
    wasm.setThreads(2);
  });

  it('wasm split over two threads (2-4 MB, by planes), and one thread, give the reference', () => {
    wasm.setSplitBytes(1 << 20); // split above 1 MB whatever the default: reach the split paths
    for (const [N, C, H, W, size, stride, pad] of [[150, 6, 24, 23, 2, 2, 0], [80, 9, 27, 27, 3, 2, 0], [60, 5, 29, 31, 3, 1, 1]] as const) {
      const g = geometry(N, C, H, W, size, stride, pad);
      const x = input(N * C * H * W, 'wasm');
      const dout = input(N * C * g.outputHeight * g.outputWidth, 'wasm');
      const ref = unfused(x, g, dout);
      for (const threads of [1, 2]) {
        wasm.setThreads(threads);
        const jobs = wasm.parallelJobs;
        const got = fused(wasm, x, g, dout, 'wasm');
        if (threads === 2 && wasm.threads === 2) assert.ok(wasm.parallelJobs - jobs >= 1, 'ran split over the pool');
        const what = `${threads} thread(s) ${N}x${C}x${H}x${W} pool ${size}/${stride}`;
        assert.deepEqual([...got.out], [...ref.out], `${what}: forward`);
        assert.deepEqual([...got.infer], [...ref.out], `${what}: inference`);
        assert.deepEqual([...got.dx], [...ref.dx], `${what}: backward`);
      }
    }
    wasm.setSplitBytes(undefined);
    wasm.setThreads(2);
  });

  it('the 3x3 / stride 2 pool kernels underneath (ragged row ends rerun, constant-division backward) match js', () => {
    wasm.setThreads(1);
    for (const W of [7, 9, 11, 12, 13, 14, 15, 17, 19, 27]) { // OW = 3 .. 13: scalar rows, exact and ragged groups of 4
      const g = geometry(2, 3, W - 2, W, 3, 2, 0);
      const n = 2 * 3 * (W - 2) * W, m = 2 * 3 * g.outputHeight * g.outputWidth;
      const x = input(n, 'wasm'), out = wasm.allocate.float32(m), arg = wasm.allocate.int32(m);
      const out2 = new Float32Array(m), arg2 = new Int32Array(m);
      wasm.maxPoolForward(x, g, out, arg);
      js.maxPoolForward(Float32Array.from(x), g, out2, arg2);
      assert.deepEqual([...arg], [...arg2], `W ${W}: argmax`);
      assert.deepEqual([...out], [...out2], `W ${W}: maxima`);
      const dout = input(m, 'wasm'), dx = wasm.allocate.float32(n).fill(NaN), dx2 = new Float32Array(n);
      wasm.maxPoolBackward(dout, arg, g, dx);
      js.maxPoolBackward(Float32Array.from(dout), arg2, g, dx2);
      assert.deepEqual([...dx], [...dx2], `W ${W}: dx`);
    }
    wasm.setThreads(2);
  });

  it('inference on planes larger than the scratch holds runs the js kernel, with the same result', () => {
    const side = 2 * Math.ceil(Math.sqrt(FUSED_SCRATCH_OUTPUTS + 1)) + 1; // OH*OW > FUSED_SCRATCH_OUTPUTS
    const g = geometry(1, 1, side, side, 2, 2, 0);
    const x = input(side * side, 'wasm');
    const ref = unfused(x, g, new Float32Array(g.outputHeight * g.outputWidth));
    const out = wasm.allocate.float32(ref.out.length);
    wasm.reluMaxPoolForward(x, g, out);
    assert.deepEqual([...out], [...ref.out]);
  });
});

describe('the fused pair in a network: an execution detail', () => {
  const batch = (n: number, seed: number) => randn(new Random(seed), [n, 1, 28, 28]);
  const labels = (n: number) => Int32Array.from({ length: n }, (_, i) => (i * 3) % 10);

  for (const model of ['simple', 'lenet', 'alexnet', 'deep']) {
    for (const backend of ['wasm', 'js']) {
      it(`${model} on ${backend}: the same loss, gradients and predictions with and without fusion`, () => {
        const make = (fusion: boolean) => {
          const net = new SequentialNetwork(zooSpec(model), { seed: 3, backend });
          net.fusion = fusion;
          return net;
        };
        const [a, b] = [make(true), make(false)];
        const x = batch(6, 4), t = labels(6);
        const ga = a.lossAndGradient(x, t), gb = b.lossAndGradient(x, t);
        // tolerance 0: the fused kernels add the same values in the same order
        assert.equal(ga.loss, gb.loss, 'loss');
        for (const k of Object.keys(gb.grads)) assert.deepEqual([...ga.grads[k].data], [...gb.grads[k].data], `gradient ${k}`);
        assert.deepEqual([...a.predict(x).data], [...b.predict(x).data], 'predictions');
        a.dispose();
        b.dispose();
      });
    }
  }

  it('a tap sees the ReLU output (the pair runs unfused), and the output is the same', () => {
    const net = new SequentialNetwork(zooSpec('simple'), { seed: 1, backend: 'wasm' });
    const x = batch(3, 9);
    const plain = Float32Array.from(net.forward(x).data);
    const seen: Record<string, number[]> = {};
    const tapped = net.forward(x, { tap: (name, _layer, y) => (seen[name] = [...y.shape]) });
    assert.deepEqual(Object.keys(seen), net.layers.map(([n]) => n), 'every layer tapped');
    assert.deepEqual(seen.Relu1, seen.Conv1, 'the ReLU output, conv-sized, before pooling');
    assert.deepEqual([...tapped.data], [...plain]);
  });

  it('walking network.layers backward after a fused training forward gives the same gradients', () => {
    const net = new SimpleConvNet({ inputDim: [1, 10, 10], convParam: { filterNum: 3, filterSize: 3 }, hiddenSize: 5, outputSize: 4, dtype: 'float64', seed: 2, backend: 'js' });
    const x = new Tensor(Float64Array.from({ length: 4 * 100 }, (_, i) => Math.sin(i * 0.7)), [4, 1, 10, 10]);
    const t = new Int32Array([0, 1, 2, 3]);
    const reference = [...net.gradient(x, t).W1.data];
    net.loss(x, t, true);
    let dout = net.lastLayer.backward(1);
    for (let i = net.layers.length - 1; i >= 0; i--) dout = net.layers[i][1].backward(dout, i > 0);
    assert.deepEqual([...net.layers[0][1].grads!.W.data], reference);
  });

  it('a backward after an inference forward fails with a clear error (no stale cache used)', () => {
    const net = new SequentialNetwork(zooSpec('deep'), { seed: 1, backend: 'js', dtype: 'float64' });
    const x = batch(2, 5).astype('float64');
    net.lossAndGradient(x, labels(2)); // caches of a training step ...
    net.forward(x); // ... then an inference pass
    const pool = net.layer('Pool1');
    assert.throws(() => pool.backward(new Tensor(new Float64Array(2 * 16 * 14 * 14), [2, 16, 14, 14])), /training forward/);
    assert.throws(() => net.layer('Relu1').backward(new Tensor(new Float64Array(2 * 16 * 28 * 28), [2, 16, 28, 28])), /training forward/);
  });
});

describe('convolution + sigmoid / ReLU in one op (convForward with activation, layers/conv-activation.ts)', () => {
  // [N, C, H, W, FN, size, pad]: lenet's two layers, deep's first, an odd one (tail of n % 4 outputs)
  const SHAPES: [number, number, number, number, number, number, number][] = [[3, 1, 28, 28, 6, 5, 2], [4, 6, 14, 14, 16, 5, 0], [2, 1, 28, 28, 16, 3, 1], [2, 3, 7, 5, 5, 3, 1]];
  const convGeometry = (N: number, C: number, H: number, W: number, size: number, pad: number): WindowGeometry => geometry(N, C, H, W, size, 1, pad);
  for (const name of ['wasm', 'js'] as const) {
    for (const activation of ['sigmoid', 'relu'] as const) {
      it(`${name}, ${activation}: the bits of convForward then ${activation}Forward (and the ReLU's mask), one thread and split over two`, () => {
        const be: Backend = name === 'wasm' ? wasm : js;
        for (const threads of name === 'wasm' ? [1, 2] : [1]) {
          if (name === 'wasm') {
            wasm.setThreads(threads);
            wasm.setSplitBytes(threads > 1 ? 1 : undefined); // split every shape
          }
          try {
            for (const [N, C, H, W, FN, size, pad] of SHAPES) {
              const g = convGeometry(N, C, H, W, size, pad);
              const home = name === 'wasm' ? 'wasm' : 'js';
              const x = input(N * C * H * W, home), Wt = input(FN * C * size * size, home), b = input(FN, home);
              const n = N * FN * g.outputHeight * g.outputWidth;
              const fused = home === 'wasm' ? wasm.allocate.float32(n) : new Float32Array(n);
              const mask = home === 'wasm' ? wasm.allocate.uint8(n).fill(7) : new Uint8Array(n).fill(7);
              const plain = new Float32Array(n), ref = new Float32Array(n), refMask = new Uint8Array(n);
              be.convForward(x, Wt, b, FN, g, fused, activation, activation === 'relu' ? mask : undefined);
              be.convForward(x, Wt, b, FN, g, plain);
              if (activation === 'sigmoid') be.sigmoidForward(plain, ref);
              else be.reluForward(plain, ref, refMask);
              const what = `${name}, ${threads} thread(s), N${N} C${C} ${H}x${W} FN${FN} ${size}x${size} p${pad}`;
              assert.deepEqual([...fused], [...ref], what);
              if (activation === 'sigmoid') assert.ok(fused.some((v) => v > 0.01 && v < 0.99), `${what}: values in the sigmoid's curve`);
              else {
                assert.deepEqual([...mask], [...refMask], `${what}: the ReLU's mask`);
                assert.ok(refMask.includes(1) && refMask.includes(0), `${what}: outputs on both sides of 0`);
              }
            }
          } finally {
            if (name === 'wasm') {
              wasm.setSplitBytes(undefined);
              wasm.setThreads(2);
            }
          }
        }
      });
    }
  }

  it('a ReLU before max pooling fuses with the pooling, not with the conv; one before a conv fuses with its conv', () => {
    const net = new SequentialNetwork(zooSpec('deep'), { seed: 1, backend: 'js' });
    net.forward(randn(new Random(2), [1, 1, 28, 28]));
    const plan = (net as unknown as { steps(): { step: object; span: number }[] }).steps().map(({ step }) => step.constructor.name);
    assert.deepEqual(plan.slice(0, 4), ['ConvRelu', 'Convolution', 'ReluMaxPool', 'ConvRelu']);
    net.dispose();
  });

  it('lenet: the sigmoid gets the fused output as its backward cache; a tap sees the conv output before the sigmoid', () => {
    const net = new SequentialNetwork(zooSpec('lenet'), { seed: 2, backend: 'wasm' });
    const x = randn(new Random(8), [3, 1, 28, 28]);
    const plain = Float32Array.from(net.forward(x).data);
    const seen: Record<string, Float32Array> = {};
    const tapped = net.forward(x, { tap: (name, _layer, y) => (seen[name] = Float32Array.from(y.data)) });
    assert.deepEqual([...tapped.data], [...plain]);
    assert.ok(seen.Conv1.some((v) => v < 0), 'the tapped conv output is before the sigmoid (has negatives)');
    net.lossAndGradient(x, new Int32Array([1, 2, 3]));
    const sigmoid = net.layer('Sigmoid1') as unknown as { out: Tensor | null };
    const expected = new Float32Array(seen.Conv1.length);
    js.sigmoidForward(seen.Conv1, expected);
    assert.ok(sigmoid.out, 'the fused training forward set the cache');
    assert.deepEqual([...sigmoid.out.data].map((v, i) => Math.abs(v - expected[i]) <= 2e-7), new Array(expected.length).fill(true), 'the cache is sigmoid(conv output)');
    net.dispose();
  });
});

describe('gradient checks through the fused pair (float64, central differences)', () => {
  it('ReluMaxPool: dx for pools 2/2, 3/2 and 3/1 pad 1', () => {
    for (const [size, stride, pad] of [[2, 2, 0], [3, 2, 0], [3, 1, 1]]) {
      const relu = new Relu({ backend: js }), pool = new Pooling(size, size, stride, pad, { backend: js });
      const pair = new ReluMaxPool(relu, pool);
      const x = randn(new Random(7 + size), [2, 2, 7, 6], 1, 'float64');
      const out0 = pair.forward(x, true);
      const R = randn(new Random(1), [...out0.shape], 1, 'float64');
      const f = () => {
        const y = pair.forward(x, true);
        let s = 0;
        for (let i = 0; i < y.size; i++) s += y.data[i] * R.data[i];
        return s;
      };
      f();
      const dx = relu.backward(pool.backward(R));
      assertClose(Float64Array.from(dx.data), numericalGradient(f, x.data, 1e-6), 1e-6, `pool ${size}/${stride} pad ${pad} dx`);
    }
  });

  it('a network with fused pairs: parameter gradients against central differences', () => {
    const net = new SequentialNetwork({
      input: [1, 9, 9],
      layers: [{ type: 'conv', filters: 3, size: 3, pad: 1 }, { type: 'relu' }, { type: 'maxpool', size: 3, stride: 2 }, { type: 'dense', units: 4 }, { type: 'relu' }, { type: 'dense', units: 3 }],
    }, { seed: 5, dtype: 'float64', backend: 'js' });
    const x = randn(new Random(8), [3, 1, 9, 9], 1, 'float64');
    const t = new Int32Array([0, 2, 1]);
    const { grads } = net.lossAndGradient(x, t);
    const analytic = Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, Float64Array.from(g.data)]));
    // the exact cross entropy (the loss's 1e-7 guard is not in the analytic gradient: gradcheck.test.ts)
    const exactLoss = () => {
      const y = softmax(net.forward(x, { train: true }));
      let s = 0;
      for (let i = 0; i < t.length; i++) s -= Math.log(y.data[i * 3 + t[i]]);
      return s / t.length;
    };
    for (const [k, p] of Object.entries(net.params)) {
      assertClose(analytic[k], numericalGradient(exactLoss, p.data, 1e-6), 1e-5, `d${k}`);
    }
  });
});

describe('the inference forward', () => {
  it('kernels without their backward caches (ReLU mask, LRN scale, batch-norm xhat) write the same output', () => {
    for (const threads of [1, 2]) {
      wasm.setThreads(threads);
      for (const be of [js, wasm]) {
        const n = 538_001; // > 1 MB: split over two threads where the table splits it
        const x = input(n, 'wasm'), out = wasm.allocate.float32(n), out2 = wasm.allocate.float32(n);
        be.reluForward(x, out, wasm.allocate.uint8(n));
        be.reluForward(x, out2);
        assert.deepEqual([...out2], [...out], `${be.name} relu, ${threads} thread(s)`);
        const [N, C, S] = [40, 16, 203]; // 2 MB, odd spatial size
        const lx = input(N * C * S, 'wasm'), lo = wasm.allocate.float32(N * C * S), lo2 = wasm.allocate.float32(N * C * S);
        be.lrnForward(lx, N, C, S, 5, 2, 1e-4, 0.75, lo, wasm.allocate.float32(N * C * S));
        be.lrnForward(lx, N, C, S, 5, 2, 1e-4, 0.75, lo2);
        assert.deepEqual([...lo2], [...lo], `${be.name} lrn, ${threads} thread(s)`);
        const [gamma, beta, rm, rv] = [input(C, 'wasm'), input(C, 'wasm'), input(C, 'wasm'), input(C, 'wasm').map((v) => 0.5 + Math.abs(v))];
        be.batchNormForward(lx, N, C, S, gamma, beta, 1e-5, false, 0.9, rm, rv, lo, wasm.allocate.float32(N * C * S), wasm.allocate.float32(C));
        be.batchNormForward(lx, N, C, S, gamma, beta, 1e-5, false, 0.9, rm, rv, lo2);
        assert.deepEqual([...lo2], [...lo], `${be.name} batch norm, ${threads} thread(s)`);
      }
    }
    wasm.setThreads(2);
  });

  it('equals the training-mode forward where no layer differs (simple: no dropout, no batch norm)', () => {
    for (const backend of ['wasm', 'js']) {
      const net = new SequentialNetwork(zooSpec('simple'), { seed: 2, backend });
      const x = randn(new Random(3), [5, 1, 28, 28]);
      const infer = Float32Array.from(net.forward(x, { train: false }).data);
      assert.deepEqual([...net.forward(x, { train: true }).data], [...infer], backend);
    }
  });

  for (const model of ['simple', 'lenet', 'alexnet', 'deep']) {
    it(`${model}: equals the layer-by-layer evaluation forward (caches kept, unfused)`, () => {
      const net = new SequentialNetwork(zooSpec(model), { seed: 2, backend: 'wasm' });
      const x = randn(new Random(4), [4, 1, 28, 28]);
      const infer = Float32Array.from(net.forward(x, { train: false }).data);
      let out = x;
      for (const [, layer] of net.layers) out = layer.forward(out, false);
      assert.deepEqual([...out.data], [...infer]);
      net.dispose();
    });
  }

  it('a batch-norm network: inference equals the evaluation forward of every layer', () => {
    const net = new SequentialNetwork({
      input: [2, 8, 8],
      layers: [{ type: 'conv', filters: 4, size: 3, pad: 1 }, { type: 'batchnorm' }, { type: 'relu' }, { type: 'maxpool', size: 2 }, { type: 'dropout' }, { type: 'dense', units: 3 }],
    }, { seed: 6, backend: 'wasm' });
    const x = randn(new Random(5), [3, 2, 8, 8]);
    net.lossAndGradient(x, new Int32Array([0, 1, 2])); // running statistics move off their start
    const infer = Float32Array.from(net.forward(x).data);
    let out = x;
    for (const [, layer] of net.layers) out = layer.forward(out, false);
    assert.deepEqual([...out.data], [...infer]);
  });
});
