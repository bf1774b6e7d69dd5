// TensorFlow.js 4.22 (tfjs-core + the wasm or cpu backend): the same SimpleConvNet, NHWC,
// trained with tf.train.adam. The wasm backend has no Conv2DBackpropFilter kernel (tfjs issue
// 8474), so, as its users must, we register a Conv2D gradient whose filter part is written with
// ops it does have: dW = conv2d(x^T, dy^T) (batch and channels swapped), transposed back.
// Usage: node bench/run-tfjs.mjs wasm|cpu
import * as tf from '@tensorflow/tfjs-core';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

// tfjs-core's Node bundle registers no gradients (the @tensorflow/tfjs union package does that
// from core's ES modules, whose extensionless imports Node cannot load): bundle them once with
// esbuild (installed with tsx). They register into tfjs's global registries, shared by both copies.
const gradients = new URL('../.bench-tmp/tfjs-gradients.mjs', import.meta.url);
if (!existsSync(gradients)) {
  const require = createRequire(import.meta.url);
  await require('esbuild').build({
    entryPoints: [require.resolve('@tensorflow/tfjs-core/dist/register_all_gradients.js')],
    bundle: true, format: 'esm', platform: 'node', outfile: gradients.pathname, logLevel: 'error',
  });
}
await import(pathToFileURL(gradients.pathname).href);
import { BATCH, emit, median, mnistBatches, timeMedian } from './common.mjs';
import { registerConv2dGradient, simpleConvNetTf } from './tfjs-model.mjs';

const which = process.argv[2] ?? 'wasm';
if (which === 'wasm') {
  await import('@tensorflow/tfjs-backend-wasm');
  registerConv2dGradient(tf);
} else {
  await import('@tensorflow/tfjs-backend-cpu');
}
await tf.setBackend(which);
await tf.ready();

// seeded init, He-scaled
const { vars, W3, predict } = simpleConvNetTf(tf);

const { mnist, batches } = await mnistBatches();
// MNIST is (N, 1, 28, 28); with one channel NCHW and NHWC hold the same bytes.
const xs = batches.map((b) => tf.tensor4d(b.x, [BATCH, 28, 28, 1]));
const ys = batches.map((b) => tf.oneHot(tf.tensor1d(b.t, 'int32'), 10));
const opt = tf.train.adam(0.001, 0.9, 0.999, 1e-7);

const stepMs = timeMedian((i) => {
  const k = i % xs.length;
  tf.tidy(() => {
    opt.minimize(() => tf.losses.softmaxCrossEntropy(ys[k], predict(xs[k])), false, vars);
  });
  // dataSync of one weight: make sure the step has really run (the cpu/wasm backends are synchronous anyway)
  W3.dataSync();
}, 5, which === 'cpu' ? 10 : 20);

const n = mnist.test.x.shape[0];
const testX = mnist.test.x.data;
const runs = [];
const slow = which === 'cpu';
for (let r = 0; r < (slow ? 2 : 3); r++) {
  const t0 = performance.now();
  let correct = 0;
  // the cpu backend is slow: its warm-up pass is 5 batches, then one full timed pass
  for (let st = 0; st < (slow && r === 0 ? 5 * BATCH : n); st += BATCH) {
    const pred = tf.tidy(() => tf.argMax(predict(tf.tensor4d(testX.subarray(st * 784, (st + BATCH) * 784), [BATCH, 28, 28, 1])), 1).dataSync());
    for (let i = 0; i < pred.length; i++) if (pred[i] === mnist.test.t[st + i]) correct++;
  }
  if (r > 0) runs.push(performance.now() - t0);
}
emit({ stepMs, imagesPerSec: (n / median(runs)) * 1000 });
process.exit(0);
