// The scratchnet side of bench/run-browser.mjs: a SimpleConvNet training step (batch 100, Adam,
// random 1x28x28 input, as bench/run-zoo-step.mjs) timed where this bundle runs (page, worker, or
// Node: bench/browser/node-step.mjs runs the same function). Besides the step time it reports how
// many chunks of the pool's parallel jobs the helper threads ran (the rest the calling thread ran).
// `lazy`: load with 1 thread and switch to `threads` synchronously, so that the pool starts at the
// first big op, inside the synchronous loop (what every run did before ready() started the pool).
import { Adam, Random, SimpleConvNet, getBackend, profileBackend, randn, ready } from '../../dist/index.js';

const median = (a) => [...a].sort((p, q) => p - q)[a.length >> 1];

export async function measure({ threads = 1, steps = 20, profile = false, wasmPaths, lazy = false }) {
  await ready({ threads: lazy ? 1 : threads, wasmPaths });
  const inner = getBackend();
  if (lazy) inner.setThreads(threads); // the backend's own, not awaited: no pool until the first big op
  const p = profile ? profileBackend(inner) : null;
  const backend = p ? p.backend : inner;
  const net = new SimpleConvNet({ seed: 1, weightInitStd: 'he', backend });
  const optimizer = new Adam({ lr: 0.001, backend });
  const x = randn(new Random(5), [100, 1, 28, 28]);
  const t = Int32Array.from({ length: 100 }, (_, i) => (i * 7) % 10);
  for (let i = 0; i < 3; i++) optimizer.update(net.params, net.gradient(x, t));
  p?.reset();
  const jobs0 = inner.parallelJobs ?? 0, chunks0 = inner.parallelChunks ?? 0, helper0 = inner.helperChunks ?? 0;
  const ms = [];
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    optimizer.update(net.params, net.gradient(x, t));
    ms.push(performance.now() - t0);
  }
  const chunks = (inner.parallelChunks ?? 0) - chunks0;
  return {
    backend: inner.name, flavor: inner.flavor, threads: inner.threads ?? 1, jobsPerStep: ((inner.parallelJobs ?? 0) - jobs0) / steps,
    chunksPerStep: chunks / steps, helperShare: chunks > 0 ? ((inner.helperChunks ?? 0) - helper0) / chunks : null,
    isolated: globalThis.crossOriginIsolated === true, cores: globalThis.navigator?.hardwareConcurrency,
    stepMs: median(ms), minMs: Math.min(...ms), profile: p ? p.format(steps) : undefined,
  };
}
