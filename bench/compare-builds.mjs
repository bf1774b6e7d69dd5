// Old build vs new build, side by side in one run: every built-in network's training step
// and inference batch (bench/run-zoo-step.mjs), each measurement its own process, the two
// builds interleaved round by round (load drifts hit both alike), medians over the rounds.
//   node bench/compare-builds.mjs OLD_DIST NEW_DIST [ROUNDS=3] [MODELS=simple,lenet,alexnet,deep]
import { spawnSync } from 'node:child_process';
import os from 'node:os';

const [oldDist, newDist, roundsArg, modelsArg] = process.argv.slice(2);
const rounds = Number(roundsArg ?? 3);
const models = (modelsArg ?? 'simple,lenet,alexnet,deep').split(',');
const median = (a) => [...a].sort((p, q) => p - q)[a.length >> 1];
const runOne = (dist, model) => {
  const r = spawnSync(process.execPath, ['bench/run-zoo-step.mjs', dist, model, model === 'deep' || model === 'alexnet' ? '8' : '20'], { encoding: 'utf8' });
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`${dist} ${model}: ${r.stderr}`);
  return JSON.parse(line.slice(7));
};
console.log(`load average before: ${os.loadavg().map((v) => v.toFixed(2)).join(' ')}`);
console.log('| network | old step ms | new step ms | new/old | old inference ms | new inference ms | new/old |');
console.log('|---|---|---|---|---|---|---|');
for (const model of models) {
  const o = { step: [], infer: [] }, n = { step: [], infer: [] };
  for (let r = 0; r < rounds; r++) {
    for (const [dist, acc] of r % 2 ? [[newDist, n], [oldDist, o]] : [[oldDist, o], [newDist, n]]) {
      const res = runOne(dist, model);
      acc.step.push(res.stepMs);
      acc.infer.push(res.inferMs);
    }
  }
  const [os_, ns, oi, ni] = [median(o.step), median(n.step), median(o.infer), median(n.infer)];
  console.log(`| ${model} | ${os_.toFixed(1)} | ${ns.toFixed(1)} | ${(ns / os_).toFixed(2)} | ${oi.toFixed(1)} | ${ni.toFixed(1)} | ${(ni / oi).toFixed(2)} |`);
}
console.log(`load average after: ${os.loadavg().map((v) => v.toFixed(2)).join(' ')}`);
