// 1 vs 2 threads for the memory-bound ops of the ReLU / max-pooling layers on the built-in
// networks' shapes (batch 100), interleaved, medians: where splitting pays (issue 12).
//   node bench/split-ops.mjs [DIST=dist] [REPS=15]
// Every op is made to split (setSplitBytes(0)) so both columns are measured on every shape.
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import os from 'node:os';

const dist = process.argv[2] ?? 'dist';
const reps = Number(process.argv[3] ?? 15);
const s = await import(pathToFileURL(resolve(dist, 'index.js')).href);
await s.ready();
const be = s.getBackend('wasm');
be.setSplitBytes?.(0);
const geo = (N, C, H, size, stride) => {
  const OH = Math.floor((H - size) / stride) + 1;
  return { batch: N, channels: C, height: H, width: H, filterHeight: size, filterWidth: size, stride, pad: 0, outputHeight: OH, outputWidth: OH };
};
const median = (a) => [...a].sort((p, q) => p - q)[a.length >> 1];
const f32 = (n) => { const a = be.allocate.float32(n); for (let i = 0; i < n; i++) a[i] = Math.sin(i * 1.3); return a; };
// [label, geometry]: the pools and ReLUs of simple, alexnet and deep at batch 100
const pools = [
  ['simple relu+pool 30x24x24 2/2', geo(100, 30, 24, 2, 2)],
  ['alexnet relu+pool 32x6x6 3/2', geo(100, 32, 6, 3, 2)],
  ['alexnet pool 16x28x28 3/2', geo(100, 16, 28, 3, 2)],
  ['alexnet pool 32x13x13 3/2', geo(100, 32, 13, 3, 2)],
  ['deep relu+pool 16x28x28 2/2', geo(100, 16, 28, 2, 2)],
  ['deep relu+pool 32x16x16 2/2', geo(100, 32, 16, 2, 2)],
  ['deep relu+pool 64x8x8 2/2', geo(100, 64, 8, 2, 2)],
];
const relus = [['16x28x28', 100 * 16 * 784], ['32x14x14', 100 * 32 * 196], ['32x13x13', 100 * 32 * 169], ['64x8x8', 100 * 64 * 64], ['48x6x6', 100 * 48 * 36]];
const cases = [];
for (const [label, g] of pools) {
  const n = g.batch * g.channels * g.height * g.width, m = g.batch * g.channels * g.outputHeight * g.outputWidth;
  const x = f32(n), out = f32(m), arg = be.allocate.int32(m), dx = f32(n), d = f32(m);
  be.reluMaxPoolForward(x, g, out, arg);
  const mb = ((n * 4 + m * 8) / 1e6).toFixed(2);
  if (label.includes('relu')) {
    cases.push([`${label} reluMaxPoolForward (${mb} MB)`, () => be.reluMaxPoolForward(x, g, out, arg)]);
    cases.push([`${label} reluMaxPoolForward, inference`, () => be.reluMaxPoolForward(x, g, out)]);
    cases.push([`${label} reluMaxPoolBackward`, () => be.reluMaxPoolBackward(d, arg, g, dx)]);
  } else {
    cases.push([`${label} maxPoolForward (${mb} MB)`, () => be.maxPoolForward(x, g, out, arg)]);
    cases.push([`${label} maxPoolBackward`, () => be.maxPoolBackward(d, arg, g, dx)]);
  }
}
for (const [label, n] of relus) {
  const x = f32(n), out = f32(n), mask = be.allocate.uint8(n);
  cases.push([`relu ${label} reluForward (${(n * 9 / 1e6).toFixed(2)} MB)`, () => be.reluForward(x, out, mask)]);
  cases.push([`relu ${label} reluForward, inference`, () => be.reluForward(x, out)]);
  cases.push([`relu ${label} reluBackward`, () => be.reluBackward(x, mask, out)]);
}
const min = (a) => Math.min(...a);
console.log(`load average ${os.loadavg().map((v) => v.toFixed(2)).join(' ')}; ${reps} interleaved rounds; median and min ms (min: the uncontended case on a loaded machine)`);
console.log('| op and shape | 1 thread median | 2 threads median | 2 / 1 median | 1 thread min | 2 threads min | 2 / 1 min |');
console.log('|---|---|---|---|---|---|---|');
for (const [label, run] of cases) {
  const t = { 1: [], 2: [] };
  for (let r = 0; r < reps; r++) {
    for (const threads of r % 2 ? [2, 1] : [1, 2]) {
      be.setThreads(threads);
      run();
      const t0 = performance.now();
      run(); run();
      t[threads].push((performance.now() - t0) / 2);
    }
  }
  const [a, b, c, d] = [median(t[1]), median(t[2]), min(t[1]), min(t[2])];
  console.log(`| ${label} | ${a.toFixed(3)} | ${b.toFixed(3)} | ${(b / a).toFixed(2)} | ${c.toFixed(3)} | ${d.toFixed(3)} | ${(d / c).toFixed(2)} |`);
}
