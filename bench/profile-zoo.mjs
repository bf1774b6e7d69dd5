// Where a training step goes, per backend op, for each built-in network (batch 100, Adam,
// random 1x28x28 input, wasm backend): `node bench/profile-zoo.mjs [STEPS=10] [MODELS] [infer]`
// (infer: an inference batch of 100, network.predict, instead of a training step).
// Prints one table per network (ms per step per op, share); BENCHMARKS.md keeps them.
import { getBackend, profileBackend, SimpleConvNet, SequentialNetwork, zooSpec, Adam, Random, randn } from '../dist/index.js';

const steps = Number(process.argv[2] ?? 10);
const models = (process.argv[3] ?? 'simple,lenet,alexnet,deep').split(',');
const infer = process.argv[4] === 'infer';
for (const model of models) {
  const p = profileBackend(getBackend('wasm'));
  const backend = p.backend;
  const network = model === 'simple' ? new SimpleConvNet({ seed: 1, weightInitStd: 'he', backend }) : new SequentialNetwork(zooSpec(model), { seed: 1, backend });
  const optimizer = new Adam({ lr: 0.001, backend });
  const x = randn(new Random(5), [100, 1, 28, 28]);
  const t = Int32Array.from({ length: 100 }, (_, i) => (i * 7) % 10);
  const run = infer ? () => network.predict(x) : () => optimizer.update(network.params, network.gradient(x, t));
  for (let i = 0; i < 2; i++) run();
  p.reset();
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) run();
  const ms = (performance.now() - t0) / steps;
  console.log(`\n### ${model}: ${ms.toFixed(1)} ms per ${infer ? 'inference batch' : 'training step'} (${steps} ${infer ? 'batches' : 'steps'}, ops below; the rest is JS between ops)\n`);
  console.log(p.format(steps));
  network.dispose();
}
