// The convolution's filter gradient alone (dW + db, no dx) for simple's, LeNet's and deep's first
// layers and deep's second, batch 100, one thread, builds interleaved round by round, median
// process CPU time in ms (robust on a loaded machine):
//   node bench/conv-dw.mjs ROUNDS DIST...
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
const dists = process.argv.slice(3); const rounds = Number(process.argv[2]);
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const shapes = [['simple', 1, 28, 30, 5, 0], ['lenet1', 1, 28, 6, 5, 2], ['deep1', 1, 28, 16, 3, 1], ['deep2', 16, 28, 16, 3, 1]];
const runs = [];
for (const d of dists) {
  const m = await import(pathToFileURL(resolve(d, 'index.js')).href); await m.ready();
  const be = m.getBackend('wasm'); await be.setThreads(1);
  console.log(d, be.flavor);
  runs.push(shapes.map(([n, C, H, FN, k, pad]) => {
    const rng = new m.Random(1); const up = (t) => m.uploadTensor(be, t.data, t.shape);
    const layer = new m.Convolution(up(m.randn(rng, [FN, C, k, k])), up(m.randn(rng, [FN])), 1, pad, { backend: be });
    const x = up(m.randn(rng, [100, C, H, H])); const out = layer.forward(x); const dout = up(m.randn(rng, out.shape));
    return () => layer.backward(dout, false);
  }));
}
const t = runs.map(() => shapes.map(() => []));
for (let r = 0; r < rounds; r++) for (let i = 0; i < runs.length; i++) for (let j = 0; j < shapes.length; j++) { const a = cpu(); runs[i][j](); t[i][j].push(cpu() - a); }
const med = (a) => a.sort((x, y) => x - y)[a.length >> 1];
for (let j = 0; j < shapes.length; j++) console.log(shapes[j][0], runs.map((_, i) => med(t[i][j]).toFixed(2)).join(' '));
