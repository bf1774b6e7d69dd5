// scratchnet: SimpleConvNet training step (batch 100, Adam) and inference on the 10,000 test
// images (batch 100). Usage: node bench/run-scratchnet.mjs BACKEND THREADS
import { Adam, SimpleConvNet, Tensor, getBackend, setThreads } from '../dist/index.js';
import { BATCH, emit, median, mnistBatches, timeMedian } from './common.mjs';

const [backendName = 'wasm', threadsArg = '1'] = process.argv.slice(2);
setThreads(Number(threadsArg));
const backend = getBackend(backendName);
const { mnist, batches } = await mnistBatches();
const net = new SimpleConvNet({ seed: 1, weightInitStd: 'he', backend });
const opt = new Adam({ lr: 0.001, backend });
const xs = batches.map((b) => new Tensor(b.x, [BATCH, 1, 28, 28]));
const slow = backendName === 'js';

const stepMs = timeMedian((i) => {
  const k = i % xs.length;
  opt.update(net.params, net.gradient(xs[k], batches[k].t));
}, slow ? 2 : 10, slow ? 8 : 60);

const testX = mnist.test.x;
const n = testX.shape[0];
const inferRuns = [];
for (let r = 0; r < (slow ? 1 : 4); r++) {
  const t0 = performance.now();
  let correct = 0;
  for (let s = 0; s < n; s += BATCH) {
    const pred = net.classify(testX.sliceRows(s, Math.min(n, s + BATCH)));
    for (let i = 0; i < pred.length; i++) if (pred[i] === mnist.test.t[s + i]) correct++;
  }
  if (r > 0 || slow) inferRuns.push(performance.now() - t0);
}
const inferMs = median(inferRuns);
emit({ stepMs, imagesPerSec: (n / inferMs) * 1000, flavor: backend.flavor, threads: backend.threads ?? 1 });
process.exit(0);
