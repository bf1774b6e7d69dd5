// One measurement for bench/compare-builds.mjs: the training step (batch 100, Adam) and the
// inference batch of one built-in network, with the scratchnet build in DIST (a dist/ folder:
// this checkout's or an older release's), on random 1x28x28 input. Prints one RESULT line.
//   node bench/run-zoo-step.mjs DIST MODEL [STEPS=20]
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

const [dist, model, stepsArg] = process.argv.slice(2);
const steps = Number(stepsArg ?? 20);
const s = await import(pathToFileURL(resolve(dist, 'index.js')).href);
if (s.ready) await s.ready();
const backend = s.getBackend('wasm');
const network = model === 'simple'
  ? new s.SimpleConvNet({ seed: 1, weightInitStd: 'he', backend })
  : new s.SequentialNetwork(s.zooSpec(model), { seed: 1, backend });
const optimizer = new s.Adam({ lr: 0.001, backend });
const rng = new s.Random(5);
const x = s.randn(rng, [100, 1, 28, 28]);
const t = Int32Array.from({ length: 100 }, (_, i) => (i * 7) % 10);
const median = (a) => [...a].sort((p, q) => p - q)[a.length >> 1];
const step = [];
for (let i = 0; i < steps + 3; i++) {
  const t0 = performance.now();
  optimizer.update(network.params, network.gradient(x, t));
  if (i >= 3) step.push(performance.now() - t0);
}
const infer = [];
for (let i = 0; i < steps + 3; i++) {
  const t0 = performance.now();
  network.predict(x);
  if (i >= 3) infer.push(performance.now() - t0);
}
console.log(`RESULT ${JSON.stringify({ stepMs: median(step), inferMs: median(infer) })}`);
