// Why 2 threads may not beat 1 in a Chromium worker: two probes of the machinery the pool uses
// (src/backend/wasm/threads.ts), run where the pool runs (a module worker, Blob-URL helper):
//  - wake: a ping-pong over Atomics.wait/notify between this thread and one helper (round trip);
//  - parallel: both threads run the same fixed arithmetic loop at once; wall time against one alone.
// Works in Node too (worker_threads), for comparison.
const HELPER = `
function serve(sab, spawnTime) {
  const I = new Int32Array(sab);
  let seen = Atomics.load(I, 0);
  for (;;) {
    Atomics.wait(I, 0, seen);
    seen = Atomics.load(I, 0);
    const cmd = Atomics.load(I, 1);
    if (cmd === 1) { Atomics.add(I, 2, 1); Atomics.notify(I, 2); }
    else if (cmd === 2) { let x = 0; for (let i = 0; i < I[3]; i++) x = (x * 1103515245 + 12345) | 0; I[4] = x; Atomics.add(I, 2, 1); Atomics.notify(I, 2); }
    else if (cmd === 3) break;
  }
}
`;
const loop = (n) => { let x = 0; for (let i = 0; i < n; i++) x = (x * 1103515245 + 12345) | 0; return x; };
const median = (a) => [...a].sort((p, q) => p - q)[a.length >> 1];

export async function probe({ spawn }) {
  const sab = new SharedArrayBuffer(64);
  const I = new Int32Array(sab);
  const w = await spawn(HELPER, sab);
  await new Promise((r) => setTimeout(r, 200));
  const call = (cmd) => {
    Atomics.store(I, 1, cmd);
    const d = Atomics.load(I, 2);
    Atomics.add(I, 0, 1);
    Atomics.notify(I, 0);
    return d;
  };
  const waitDone = (d) => { let v; while ((v = Atomics.load(I, 2)) === d) Atomics.wait(I, 2, v); };
  // wake round trip
  const rt = [];
  for (let i = 0; i < 300; i++) {
    const t0 = performance.now();
    waitDone(call(1));
    rt.push((performance.now() - t0) * 1000);
  }
  // parallel compute: n iterations ~ a few ms
  const n = 20_000_000;
  I[3] = n;
  loop(n);
  const alone = [], both = [];
  for (let r = 0; r < 5; r++) {
    let t0 = performance.now(); loop(n); alone.push(performance.now() - t0);
    t0 = performance.now(); const d = call(2); loop(n); waitDone(d); both.push(performance.now() - t0);
  }
  Atomics.store(I, 1, 3); Atomics.add(I, 0, 1); Atomics.notify(I, 0);
  w.terminate();
  return { wakeRoundTripUs: median(rt), wakeRoundTripP90Us: [...rt].sort((a, b) => a - b)[Math.floor(rt.length * 0.9)], loopAloneMs: median(alone), loopBothThreadsMs: median(both) };
}

export const browserSpawn = async (src, sab) => {
  const url = URL.createObjectURL(new Blob([`${src}\nonmessage = (e) => serve(e.data);`], { type: 'text/javascript' }));
  const w = new Worker(url);
  w.postMessage(sab);
  return w;
};
