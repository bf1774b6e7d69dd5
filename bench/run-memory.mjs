// Memory and agreement checks. Usage: node bench/run-memory.mjs STEPS
//  - trains SimpleConvNet with the wasm backend for STEPS steps (batch 100, Adam, the Trainer's
//    shuffled epochs with per-epoch evaluation) and samples RSS: growth is measured from step
//    200 (warm: workspaces allocated, JIT done) to the end; peak RSS from the kernel's maxRSS.
//  - runs the same 20 steps from the same seed on js and on wasm and compares the losses.
import { SimpleConvNet, Trainer, getBackend, loadMnist } from '../dist/node.js';
import { emit } from './common.mjs';

const steps = Number(process.argv[2] ?? 2000);
const mnist = await loadMnist({ normalize: true, flatten: false });
const data = { train: mnist.train, test: mnist.test };
const net = new SimpleConvNet({ seed: 1, weightInitStd: 'he', backend: 'wasm' });
const trainer = new Trainer(net, data, { epochs: Math.ceil((steps * 100) / 60000), batchSize: 100, optimizer: 'adam', evaluateSampleNumPerEpoch: 1000, seed: 1 });
let rssWarm = 0;
const samples = [];
const t0 = performance.now();
for (let i = 1; i <= steps; i++) {
  trainer.trainStep();
  if (i === 200) rssWarm = process.memoryUsage().rss;
  if (i % 200 === 0) samples.push(process.memoryUsage().rss);
}
const seconds = (performance.now() - t0) / 1000;
const rssEnd = process.memoryUsage().rss;
const wasmBytes = getBackend('wasm').memory.bytesReserved;

function losses(backend) {
  const n = new SimpleConvNet({ seed: 3, weightInitStd: 'he', backend });
  const t = new Trainer(n, { train: { x: mnist.train.x.sliceRows(0, 2000), t: mnist.train.t.slice(0, 2000) }, test: { x: mnist.test.x.sliceRows(0, 100), t: mnist.test.t.slice(0, 100) } }, { epochs: 1, batchSize: 100, optimizer: 'adam', seed: 9 });
  return Array.from({ length: 20 }, () => t.trainStep());
}
const a = losses('js'), b = losses('wasm');
let maxRel = 0;
for (let i = 0; i < 20; i++) maxRel = Math.max(maxRel, Math.abs(a[i] - b[i]) / Math.abs(a[i]));

emit({
  steps, seconds, rssWarmMB: rssWarm / 2 ** 20, rssEndMB: rssEnd / 2 ** 20, growthPct: (100 * (rssEnd - rssWarm)) / rssWarm,
  peakRssMB: process.resourceUsage().maxRSS / 1024, wasmMemoryMB: wasmBytes / 2 ** 20,
  samplesMB: samples.map((r) => Math.round(r / 2 ** 20)), agreeMaxRel: maxRel, lossJs20: a[19], lossWasm20: b[19],
});
process.exit(0);
