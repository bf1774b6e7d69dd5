// The convolution layers of simple, lenet and deep (batch 100) timed forward + backward on the
// wasm backend, one dist against others, interleaved rounds, medians:
// `node bench/conv-layers.mjs ROUNDS THREADS DIST...` (each DIST a built dist/ directory).
// Times are the process's CPU time (user + system), not wall time: on a shared machine that
// other work keeps busy, CPU time of a single-threaded run barely moves with the load, while
// wall time follows it (use THREADS = 1 for comparisons under load).
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

const rounds = Number(process.argv[2] ?? 5);
const threads = Number(process.argv[3] ?? 1);
const dists = process.argv.slice(4);
if (dists.length === 0) dists.push('dist');
// [name, C, H, W, FN, size, pad, needInputGrad]
const LAYERS = [
  ['simple conv1', 1, 28, 28, 30, 5, 0, false],
  ['lenet conv1', 1, 28, 28, 6, 5, 2, false],
  ['lenet conv2', 6, 14, 14, 16, 5, 0, true],
  ['deep conv1', 1, 28, 28, 16, 3, 1, false],
  ['deep conv2', 16, 28, 28, 16, 3, 1, true],
  ['deep conv3', 16, 14, 14, 32, 3, 1, true],
  ['deep conv4', 32, 14, 14, 32, 3, 2, true],
  ['deep conv5', 32, 8, 8, 64, 3, 1, true],
  ['deep conv6', 64, 8, 8, 64, 3, 1, true],
];
const libs = [];
for (const d of dists) {
  const m = await import(pathToFileURL(resolve(d, 'index.js')).href);
  const be = m.getBackend('wasm');
  be.setThreads(threads);
  const setups = LAYERS.map(([, C, H, W, FN, size, pad, grad]) => {
    const rng = new m.Random(1);
    const up = (t) => m.uploadTensor(be, t.data, t.shape); // in the wasm memory, as a network's
    const Wt = up(m.randn(rng, [FN, C, size, size]));
    const b = up(m.randn(rng, [FN]));
    const layer = new m.Convolution(Wt, b, 1, pad, { backend: be });
    const x = up(m.randn(rng, [100, C, H, W]));
    const out = layer.forward(x);
    const dout = up(m.randn(rng, out.shape));
    return () => { layer.forward(x); layer.backward(dout, grad); };
  });
  libs.push(setups);
}
const times = LAYERS.map(() => dists.map(() => []));
for (let r = 0; r < rounds; r++) {
  for (let l = 0; l < LAYERS.length; l++) {
    for (let d = 0; d < dists.length; d++) {
      const f = libs[d][l];
      f();
      const t0 = process.cpuUsage();
      for (let i = 0; i < 3; i++) f();
      const u = process.cpuUsage(t0);
      times[l][d].push((u.user + u.system) / 1000 / 3);
    }
  }
}
const med = (a) => { const s = [...a].sort((x, y) => x - y); return s[s.length >> 1]; };
console.log(`| layer (fwd+bwd, CPU ms, ${threads} thread(s)) | ${dists.join(' | ')} |`);
console.log(`|---|${dists.map(() => '---').join('|')}|`);
const tot = dists.map(() => 0);
for (let l = 0; l < LAYERS.length; l++) {
  const ms = times[l].map(med);
  ms.forEach((v, i) => { tot[i] += v; });
  console.log(`| ${LAYERS[l][0]} | ${ms.map((v) => v.toFixed(2)).join(' | ')} |`);
}
console.log(`| total | ${tot.map((v) => v.toFixed(1)).join(' | ')} |`);
