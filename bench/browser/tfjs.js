// TensorFlow.js 4.22 wasm in the page: the SimpleConvNet of bench/run-tfjs.mjs (NHWC, Adam, with
// its Conv2D filter-gradient workaround), batch 100 of seeded random input.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { getThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';

const median = (a) => [...a].sort((p, q) => p - q)[a.length >> 1];
async function run() {
  setWasmPaths('/node_modules/@tensorflow/tfjs-backend-wasm/dist/');
  tf.registerGradient({
    kernelName: 'Conv2D', inputsToSave: ['x', 'filter'],
    gradFunc: (dy, saved, attrs) => {
      const [x, filter] = saved;
      return {
        x: () => tf.conv2dTranspose(dy, filter, x.shape, attrs.strides, attrs.pad),
        filter: () => tf.tidy(() => tf.transpose(tf.conv2d(tf.transpose(x, [3, 1, 2, 0]), tf.transpose(dy, [1, 2, 0, 3]), 1, 'valid'), [1, 2, 0, 3])),
      };
    },
  });
  await tf.setBackend('wasm');
  await tf.ready();
  let s = 12345;
  const rnd = () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 4294967296; };
  const gauss = (n, std) => Float32Array.from({ length: n }, () => std * Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd()));
  const W1 = tf.variable(tf.tensor4d(gauss(750, Math.sqrt(2 / 25)), [5, 5, 1, 30]));
  const b1 = tf.variable(tf.zeros([30]));
  const W2 = tf.variable(tf.tensor2d(gauss(4320 * 100, Math.sqrt(2 / 4320)), [4320, 100]));
  const b2 = tf.variable(tf.zeros([100]));
  const W3 = tf.variable(tf.tensor2d(gauss(1000, Math.sqrt(2 / 100)), [100, 10]));
  const b3 = tf.variable(tf.zeros([10]));
  const vars = [W1, b1, W2, b2, W3, b3];
  const predict = (x) => {
    let h = tf.relu(tf.add(tf.conv2d(x, W1, 1, 'valid'), b1));
    h = tf.maxPool(h, [2, 2], 2, 'valid');
    h = tf.reshape(h, [x.shape[0], 4320]);
    h = tf.relu(tf.add(tf.matMul(h, W2), b2));
    return tf.add(tf.matMul(h, W3), b3);
  };
  const x = tf.tensor4d(gauss(100 * 784, 1), [100, 28, 28, 1]);
  const y = tf.oneHot(tf.tensor1d(Int32Array.from({ length: 100 }, (_, i) => (i * 7) % 10), 'int32'), 10);
  const opt = tf.train.adam(0.001, 0.9, 0.999, 1e-7);
  const step = () => { tf.tidy(() => { opt.minimize(() => tf.losses.softmaxCrossEntropy(y, predict(x)), false, vars); }); W3.dataSync(); };
  for (let i = 0; i < 3; i++) step();
  const steps = Number(new URLSearchParams(location.search).get('steps') ?? 10);
  const ms = [];
  for (let i = 0; i < steps; i++) { const t0 = performance.now(); step(); ms.push(performance.now() - t0); }
  const threads = getThreadsCount();
  return { backend: tf.getBackend(), threads, isolated: globalThis.crossOriginIsolated === true, stepMs: median(ms), minMs: Math.min(...ms) };
}
run().then((r) => { globalThis.result = r; }, (e) => { globalThis.result = { error: String(e?.stack ?? e) }; });
