// TensorFlow.js 4.22 wasm in the page: the SimpleConvNet of bench/run-tfjs.mjs (NHWC, Adam, with
// its Conv2D filter-gradient workaround), batch 100 of seeded random input.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { getThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { registerConv2dGradient, simpleConvNetTf } from '../tfjs-model.mjs';

const median = (a) => [...a].sort((p, q) => p - q)[a.length >> 1];
async function run() {
  setWasmPaths('/node_modules/@tensorflow/tfjs-backend-wasm/dist/');
  registerConv2dGradient(tf);
  await tf.setBackend('wasm');
  await tf.ready();
  const { vars, W3, predict, gauss } = simpleConvNetTf(tf);
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
