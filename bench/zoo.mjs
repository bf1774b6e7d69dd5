// The zoo table of `npm run bench`: every built-in network's training step (batch 100, Adam)
// and inference batch, scratchnet (wasm, all threads) against its PyTorch twin built from the
// same spec (bench/run-torch-spec.py), interleaved round by round, medians, load printed.
//   node bench/zoo.mjs [ROUNDS=3] [MODELS=simple,lenet,alexnet,deep]
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { zooSpec } from '../dist/index.js';

const rounds = Number(process.argv[2] ?? 3);
const models = (process.argv[3] ?? 'simple,lenet,alexnet,deep').split(',');
const tmp = join(process.cwd(), '.bench-tmp');
mkdirSync(tmp, { recursive: true });
const median = (a) => [...a].sort((p, q) => p - q)[a.length >> 1];
const result = (r, what) => {
  const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`${what} failed: ${(r.stderr || String(r.error)).trim().split('\n').slice(-3).join(' | ')}`);
  return JSON.parse(line.slice(7));
};
const torchEnv = { ...process.env, OPENBLAS_NUM_THREADS: '1' };
delete torchEnv.OPENBLAS_CORETYPE;
delete torchEnv.OPENBLAS_L2_SIZE;
// Debian's python3-torch lives in the system interpreter, which a pyenv shim may hide
const python = ['python3', '/usr/bin/python3'].find((py) => spawnSync(py, ['-c', 'import torch'], { env: torchEnv }).status === 0);
const hasTorch = python !== undefined;
console.log(`load average before: ${os.loadavg().map((v) => v.toFixed(2)).join(' ')}; ${os.cpus().length} cores; PyTorch ${hasTorch ? 'found' : 'not installed (apt-get install python3-torch libopenblas0-pthread)'}`);
console.log('| network | scratchnet step ms | PyTorch step ms | scratchnet / PyTorch | scratchnet inference ms | PyTorch inference ms | PyTorch / scratchnet (images/s ratio) |');
console.log('|---|---|---|---|---|---|---|');
for (const model of models) {
  const specFile = join(tmp, `${model}.json`);
  writeFileSync(specFile, JSON.stringify(zooSpec(model)));
  const steps = model === 'alexnet' || model === 'deep' ? '8' : '20';
  const s = { step: [], infer: [] }, p = { step: [], infer: [] };
  for (let r = 0; r < rounds; r++) {
    const runS = () => { const x = result(spawnSync(process.execPath, ['bench/run-zoo-step.mjs', 'dist', model, steps], { encoding: 'utf8' }), `scratchnet ${model}`); s.step.push(x.stepMs); s.infer.push(x.inferMs); };
    const runP = () => { if (!hasTorch) return; const x = result(spawnSync(python, ['bench/run-torch-spec.py', specFile, steps, '2'], { encoding: 'utf8', env: torchEnv }), `PyTorch ${model}`); p.step.push(x.stepMs); p.infer.push(x.inferMs); };
    if (r % 2) { runP(); runS(); } else { runS(); runP(); }
  }
  const [ss, si] = [median(s.step), median(s.infer)];
  const [ps, pi] = hasTorch ? [median(p.step), median(p.infer)] : [NaN, NaN];
  const f = (v) => (Number.isNaN(v) ? '-' : v.toFixed(1));
  console.log(`| ${model} | ${f(ss)} | ${f(ps)} | ${hasTorch ? (ss / ps).toFixed(2) : '-'} | ${f(si)} | ${f(pi)} | ${hasTorch ? (pi / si).toFixed(2) : '-'} |`);
}
console.log(`load average after: ${os.loadavg().map((v) => v.toFixed(2)).join(' ')}`);
