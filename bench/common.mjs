// Shared by the benchmark runners: MNIST, fixed mini-batches, timing helpers.
// Each runner is its own process (bench/bench.mjs starts them one after another), so peers
// never share a heap, a thread pool or a warm cache.

import { loadMnist } from '../dist/node.js';

export const BATCH = 100;

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** MNIST as float32 NCHW in [0, 1] plus labels; `batches` fixed training mini-batches. */
export async function mnistBatches(count = 10) {
  const m = await loadMnist({ normalize: true, flatten: false, oneHotLabel: false });
  const per = 28 * 28;
  const batches = [];
  for (let b = 0; b < count; b++) {
    const x = m.train.x.data.slice(b * BATCH * per, (b + 1) * BATCH * per);
    const t = m.train.t.slice(b * BATCH, (b + 1) * BATCH);
    batches.push({ x, t });
  }
  return { mnist: m, batches };
}

/** ms per call: `warm` untimed calls, then the median of `reps` timed ones. */
export function timeMedian(fn, warm, reps) {
  for (let i = 0; i < warm; i++) fn(i);
  const ts = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    fn(warm + i);
    ts.push(performance.now() - t0);
  }
  return median(ts);
}

export function emit(result) {
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
}
