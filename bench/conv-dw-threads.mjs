// The filter gradient (dW + db) of every built-in network's conv layers, batch 100, wall ms on 1
// thread and split over 2 (forced: what convBackwardFilter's `pays` in
// src/backend/wasm/wasm-backend.ts decides from), medians of 5: `node bench/conv-dw-threads.mjs [small]`.
import * as m from '../dist/index.js';
const be = m.getBackend('wasm');
const L = (process.argv[2] === 'small') ? [['simple1', 1, 28, 28, 30, 0, 5], ['lenet1', 1, 28, 28, 6, 2, 5], ['lenet2', 6, 14, 14, 16, 0, 5], ['deep1', 1, 28, 28, 16, 1, 3], ['deep3', 16, 14, 14, 32, 1, 3]] : [['conv1', 1, 28, 28, 16, 1], ['conv2', 16, 28, 28, 16, 1], ['conv3', 16, 14, 14, 32, 1], ['conv4', 32, 14, 14, 32, 2], ['conv5', 32, 8, 8, 64, 1], ['conv6', 64, 8, 8, 64, 1]];
for (const [name, C, H, W, FN, pad, k = 3] of L) {
  const rng = new m.Random(1);
  const up = (t) => m.uploadTensor(be, t.data, t.shape);
  const Wt = up(m.randn(rng, [FN, C, k, k])), b = up(m.randn(rng, [FN]));
  const layer = new m.Convolution(Wt, b, 1, pad, { backend: be });
  const x = up(m.randn(rng, [100, C, H, W]));
  const out = layer.forward(x, true);
  const dout = up(m.randn(rng, out.shape));
  const res = [];
  for (const th of [1, 2]) {
    be.setThreads(th);
    be.setSplitBytes(th > 1 ? 1 : undefined);
    const f = () => layer.backward(dout, false);
    f(); f();
    const ts = [];
    for (let r = 0; r < 5; r++) { const t0 = performance.now(); f(); ts.push(performance.now() - t0); }
    ts.sort((a, b) => a - b); res.push(ts[2]);
  }
  console.log(`${name}: 1 thread ${res[0].toFixed(2)} ms, split over 2 ${res[1].toFixed(2)} ms, speedup ${(res[0] / res[1]).toFixed(2)}`);
}
