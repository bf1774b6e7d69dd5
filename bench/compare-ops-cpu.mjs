// Two builds' per-op CPU time on one thread, in one process, interleaved step by step: the
// process's CPU time (not the wall clock) is what other processes' load disturbs least, so this
// compares builds on a busy machine (bench/compare-builds.mjs: wall time, all threads).
//   node bench/compare-ops-cpu.mjs OLD_DIST NEW_DIST MODEL [STEPS=8] [infer]
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import os from 'node:os';

const [oldDist, newDist, model, stepsArg, mode] = process.argv.slice(2);
const steps = Number(stepsArg ?? 8);
const dists = { before: pathToFileURL(resolve(oldDist, 'index.js')).href, after: pathToFileURL(resolve(newDist, 'index.js')).href };
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const runs = {};
for (const [k, path] of Object.entries(dists)) {
  const s = await import(path);
  await s.ready();
  const inner = s.getBackend('wasm');
  inner.setThreads(1);
  const totals = new Map();
  const backend = { name: inner.name, allocate: inner.allocate, maxBytes: inner.maxBytes, setThreads: (n) => inner.setThreads(n) };
  for (const op of s.BACKEND_OPS) backend[op] = (...a) => { const t = cpu(); const r = inner[op](...a); const e = totals.get(op) ?? { calls: 0, ms: 0 }; e.calls++; e.ms += cpu() - t; totals.set(op, e); return r; };
  const net = model === 'simple' ? new s.SimpleConvNet({ seed: 1, weightInitStd: 'he', backend }) : new s.SequentialNetwork(s.zooSpec(model), { seed: 1, backend });
  const opt = new s.Adam({ lr: 0.001, backend });
  const x = s.randn(new s.Random(5), [100, 1, 28, 28]);
  const t = Int32Array.from({ length: 100 }, (_, i) => (i * 7) % 10);
  const run = mode === 'infer' ? () => net.predict(x) : () => opt.update(net.params, net.gradient(x, t));
  run(); run();
  totals.clear();
  runs[k] = { run, totals, total: 0 };
}
for (let i = 0; i < steps; i++) for (const k of i % 2 ? ['after', 'before'] : ['before', 'after']) { const t0 = cpu(); runs[k].run(); runs[k].total += cpu() - t0; }
const ops = [...new Set([...runs.before.totals.keys(), ...runs.after.totals.keys()])];
const ms = (k, op) => (runs[k].totals.get(op)?.ms ?? 0) / steps;
ops.sort((a, b) => Math.max(ms('before', b), ms('after', b)) - Math.max(ms('before', a), ms('after', a)));
console.log(`load average ${os.loadavg().map((v) => v.toFixed(2)).join(' ')}`);
console.log(`### ${model} ${mode ?? 'train'} (1 thread, process CPU ms per ${mode === 'infer' ? 'inference batch' : 'step'}, ${steps} interleaved): old ${(runs.before.total / steps).toFixed(1)}, new ${(runs.after.total / steps).toFixed(1)}\n`);
console.log('| op | old ms | new ms |');
console.log('|---|---|---|');
for (const op of ops) if (Math.max(ms('before', op), ms('after', op)) >= 0.02) console.log(`| ${op} | ${ms('before', op).toFixed(2)} | ${ms('after', op).toFixed(2)} |`);
process.exit(0);
