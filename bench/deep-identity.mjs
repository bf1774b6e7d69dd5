// Checks that a build leaves every result of deep's shapes bit-identical to a reference build
// (the frozen numerics of /work/notes/frozen.md): deep's network (conv 3x3 1->16 ... 64->64,
// dense ->50->10) takes a gradient and a prediction on fixed inputs in both builds, at 1 and 2
// threads (split paths forced with setSplitBytes(0)), batch 100 and 37, and every gradient, the
// loss and the scores are compared byte for byte.
//   node bench/deep-identity.mjs REF_DIST NEW_DIST
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

const [refDist, newDist] = process.argv.slice(2);
const bytes = (t) => new Uint8Array(t.data.buffer.slice(t.data.byteOffset, t.data.byteOffset + t.data.byteLength));
async function results(dist) {
  const s = await import(pathToFileURL(resolve(dist, 'index.js')).href);
  await s.ready();
  const be = s.getBackend('wasm');
  const out = [];
  for (const threads of [1, 2]) {
    await be.setThreads(threads);
    for (const split of [undefined, 0]) {
      if (split !== undefined && be.setSplitBytes) be.setSplitBytes(split);
      for (const batch of [100, 37]) {
        const net = new s.SequentialNetwork(s.zooSpec('deep'), { seed: 3, backend: be });
        const x = s.randn(new s.Random(5 + batch), [batch, 1, 28, 28]);
        const t = Int32Array.from({ length: batch }, (_, i) => (i * 7) % 10);
        const { loss, grads } = net.lossAndGradient(x, t);
        for (const [k, g] of Object.entries(grads)) out.push([`t${threads} s${split} b${batch} d${k}`, bytes(g)]);
        out.push([`t${threads} s${split} b${batch} loss`, new Uint8Array(Float64Array.of(loss).buffer)]);
        out.push([`t${threads} s${split} b${batch} predict`, bytes(net.predict(x, false))]);
      }
      if (split !== undefined && be.setSplitBytes) be.setSplitBytes(undefined);
    }
  }
  return out;
}
const a = await results(refDist);
const b = await results(newDist);
let bad = 0;
for (let i = 0; i < a.length; i++) {
  const [name, x] = a[i], y = b[i][1];
  const same = x.length === y.length && x.every((v, j) => v === y[j]);
  if (!same) { bad++; console.log(`DIFFERENT ${name}`); }
}
console.log(`${a.length} results compared, ${bad} different`);
process.exit(bad ? 1 : 0);
