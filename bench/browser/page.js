// ?mode=page|worker&threads=N[&profile=1][&lazy=1]: one measurement, left in globalThis.result.
import { measure } from './app.js';

const q = new URLSearchParams(location.search);
const opts = { threads: Number(q.get('threads') ?? 1), steps: Number(q.get('steps') ?? 20), profile: q.get('profile') === '1', wasmPaths: '/dist/wasm/', probe: q.get('probe') === '1', lazy: q.get('lazy') === '1' };
const done = (r) => { globalThis.result = r; };
if (q.get('mode') === 'worker') {
  const w = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  w.onmessage = (e) => { if (e.data === 'ready') w.postMessage(opts); else done(e.data); };
  w.onerror = (e) => done({ error: String(e.message) });
} else {
  measure(opts).then(done, (e) => done({ error: String(e?.stack ?? e) }));
}
