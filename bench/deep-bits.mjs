// deep's numbers are frozen (a recorded training run): this checks that a build leaves every
// result of deep's shapes bit-identical to a snapshot build's. For deep's six conv layers
// (forward, dW + db, dx) and the whole network's gradient (conv, ReLU + max pool, affine, ...),
// batch 100 and 37, threads 1 and 2, the bytes of both builds are compared.
//   node bench/deep-bits.mjs SNAPSHOT_DIST [DIST=dist]
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

const [snap, mine = 'dist'] = process.argv.slice(2);
if (!snap) throw new Error('usage: node bench/deep-bits.mjs SNAPSHOT_DIST [DIST]');
// [name, C, H, W, FN, pad]
const LAYERS = [['conv1', 1, 28, 28, 16, 1], ['conv2', 16, 28, 28, 16, 1], ['conv3', 16, 14, 14, 32, 1],
  ['conv4', 32, 14, 14, 32, 2], ['conv5', 32, 8, 8, 64, 1], ['conv6', 64, 8, 8, 64, 1]];

async function results(dist, threads, N) {
  const m = await import(pathToFileURL(resolve(dist, 'index.js')).href);
  await m.ready?.();
  const be = m.getBackend('wasm');
  be.setThreads(threads);
  const out = [];
  for (const [name, C, H, W, FN, pad] of LAYERS) {
    const rng = new m.Random(7);
    const up = (t) => m.uploadTensor(be, t.data, t.shape);
    const layer = new m.Convolution(up(m.randn(rng, [FN, C, 3, 3])), up(m.randn(rng, [FN])), 1, pad, { backend: be });
    const x = up(m.randn(rng, [N, C, H, W]));
    const y = layer.forward(x);
    const dout = up(m.randn(rng, y.shape));
    out.push([`${name} forward`, Float32Array.from(y.data)]);
    const dx = layer.backward(dout, true);
    out.push([`${name} dW`, Float32Array.from(layer.grads.W.data)], [`${name} db`, Float32Array.from(layer.grads.b.data)]);
    out.push([`${name} dx`, Float32Array.from(dx.data)]);
  }
  const net = new m.SequentialNetwork(m.zooSpec('deep'), { seed: 3, backend: be });
  const x = m.randn(new m.Random(5), [N, 1, 28, 28]);
  const t = Int32Array.from({ length: N }, (_, i) => (i * 7) % 10);
  const grads = net.gradient(x, t);
  for (const [k, g] of Object.entries(grads)) out.push([`network d${k}`, Float32Array.from(g.data)]);
  out.push(['network predict', Float32Array.from(net.predict(x).data)]);
  return out;
}

let bad = 0, count = 0;
for (const threads of [1, 2]) {
  for (const N of [100, 37]) {
    const a = await results(snap, threads, N), b = await results(mine, threads, N);
    for (let i = 0; i < a.length; i++) {
      const [name, u] = a[i], v = b[i][1];
      const same = u.length === v.length && Buffer.compare(Buffer.from(u.buffer), Buffer.from(v.buffer)) === 0;
      count++;
      if (!same) { bad++; console.log(`DIFFERENT: ${name}, threads ${threads}, batch ${N}`); }
    }
  }
}
console.log(bad === 0 ? `deep: all ${count} results bit-identical to ${snap}` : `deep: ${bad} of ${count} results differ`);
process.exitCode = bad === 0 ? 0 : 1;
