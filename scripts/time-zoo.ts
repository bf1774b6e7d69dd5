// Time training steps of every built-in network (batch 100, Adam, real MNIST batches) on the
// given backends and extrapolate to a 600-step epoch (without the per-epoch evaluation).
//   node --import tsx scripts/time-zoo.ts [STEPS=20] [BACKENDS=js,wasm] [MODELS=simple,lenet,alexnet,deep]
// The first 2 steps of each network are warm-up and not timed.

import { getBackend } from '../src/backend/registry.js';
import { loadMnist } from '../src/data/mnist.js';
import { SequentialNetwork } from '../src/models/sequential.js';
import { SimpleConvNet } from '../src/models/simple-convnet.js';
import { zooSpec } from '../src/models/zoo.js';
import { Adam } from '../src/optimizers/adam.js';
import { Random } from '../src/random.js';

const steps = Number(process.argv[2] ?? 20);
const backends = (process.argv[3] ?? 'js,wasm').split(',');
const models = (process.argv[4] ?? 'simple,lenet,alexnet,deep').split(',');
const data = await loadMnist({ flatten: false });
const order = new Random(1).permutation(data.train.x.shape[0]);

console.log(`| network | backend | ms / step | epoch (600 steps) |`);
console.log(`|---|---|---|---|`);
for (const backendName of backends) {
  const backend = getBackend(backendName);
  for (const name of models) {
    const network = name === 'simple'
      ? new SimpleConvNet({ seed: 1, weightInitStd: 'he', backend })
      : new SequentialNetwork(zooSpec(name), { seed: 1, backend });
    const optimizer = new Adam({ lr: 0.001, backend });
    let started = 0;
    for (let s = 0; s < steps + 2; s++) {
      if (s === 2) started = performance.now();
      const idx = order.subarray((s * 100) % 60000, ((s * 100) % 60000) + 100);
      const labels = Int32Array.from(idx, (i) => data.train.t[i]);
      optimizer.update(network.params, network.gradient(data.train.x.gatherRows(idx), labels));
    }
    const ms = (performance.now() - started) / steps;
    const epoch = (ms * 600) / 1000;
    console.log(`| ${name} | ${backendName} | ${ms.toFixed(0)} | ${epoch >= 120 ? `${(epoch / 60).toFixed(1)} min` : `${epoch.toFixed(0)} s`} |`);
  }
}
