// Browser rows for the benchmark: a SimpleConvNet training step (batch 100, Adam, random
// 1x28x28 input, as bench/run-zoo-step.mjs) timed in headless Chromium (playwright-core, the
// Chromium of test/chromium.ts) on the page (1 thread), in a module worker with 1 and with 2
// threads (served cross-origin isolated: COOP same-origin + COEP require-corp), TensorFlow.js 4.22
// wasm on the page, and Node (`node bench/run-zoo-step.mjs dist simple 20`) in the same run.
// Rounds are interleaved; medians of the per-round medians; a markdown table and the load average.
// Then a per-op profile (profileBackend) inside the worker at 1 and 2 threads.
//   node bench/run-browser.mjs [ROUNDS=3] [STEPS=20] [--no-tfjs] [--no-profile]
// Needs dist/ built (npx tsc -p tsconfig.json; dist/wasm as built by the project).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { loadavg } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const args = process.argv.slice(2);
const [rounds = 3, steps = 20] = args.filter((a) => !a.startsWith('--')).map(Number);
const withTfjs = !args.includes('--no-tfjs');
const withProfile = !args.includes('--no-profile');
const out = join(root, '.bench-tmp/browser');
mkdirSync(out, { recursive: true });

const esbuild = await import('esbuild');
await esbuild.build({ absWorkingDir: root, entryPoints: ['bench/browser/page.js', 'bench/browser/worker.js'], bundle: true, format: 'esm', outdir: out, minify: true, logLevel: 'error' });
if (withTfjs) await esbuild.build({ absWorkingDir: root, entryPoints: ['bench/browser/tfjs.js'], bundle: true, format: 'esm', outdir: out, minify: true, logLevel: 'error', define: { 'process.env.NODE_ENV': '"production"' }, external: ['fs', 'path', 'crypto', 'worker_threads', 'perf_hooks', 'os'] });

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm' };
const server = createServer();
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${server.address().port}`;
const html = (script) => `<!doctype html><meta charset="utf-8"><script type="module" src="/app/${script}"></script>`;
server.on('request', (req, res) => {
  const u = new URL(req.url ?? '/', 'http://x');
  const iso = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };
  if (u.pathname === '/bench.html' || u.pathname === '/tfjs.html') {
    res.writeHead(200, { 'content-type': 'text/html', ...iso });
    return void res.end(html(u.pathname === '/bench.html' ? 'page.js' : 'tfjs.js'));
  }
  const path = normalize(decodeURIComponent(u.pathname));
  const file = path.startsWith('/app/') ? join(out, path.slice(5)) : join(root, path);
  if (!file.startsWith(root) || !existsSync(file) || !statSync(file).isFile()) return void res.writeHead(404).end();
  res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', ...iso });
  res.end(readFileSync(file));
});

const { chromiumPath, CHROMIUM_ARGS } = await import('../scripts/chromium.mjs');
const { chromium } = await import('playwright-core');
const executablePath = await chromiumPath();
if (!executablePath) throw new Error('no Chromium (@sparticuz/chromium, CHROMIUM_PATH or /usr/bin/chromium)');
// BENCH_CHROMIUM_FLAGS: extra flags, e.g. --js-flags=--no-liftoff (compile wasm with the optimizing tier only)
const extra = (process.env.BENCH_CHROMIUM_FLAGS ?? '').split(' ').filter(Boolean);
const browser = await chromium.launch({ executablePath, args: [...CHROMIUM_ARGS, ...extra] });
const version = browser.version();

async function open(path) {
  const page = await browser.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(m.text()); });
  try {
    await page.goto(`${base}${path}`);
    await page.waitForFunction('globalThis.result !== undefined', undefined, { timeout: 120000 });
    const r = await page.evaluate('globalThis.result');
    if (r.error) throw new Error(`${path}: ${r.error}`);
    if (problems.length) r.console = problems;
    return r;
  } finally {
    await page.close();
  }
}

function node() {
  const s = execFileSync(process.execPath, ['bench/run-zoo-step.mjs', 'dist', 'simple', String(steps)], { cwd: root, encoding: 'utf8' });
  return JSON.parse(s.split('\n').find((l) => l.startsWith('RESULT ')).slice(7));
}

const cases = [
  ['Node (run-zoo-step, default threads)', () => node()],
  ['Chromium page, 1 thread', () => open(`/bench.html?mode=page&threads=1&steps=${steps}`)],
  ['Chromium worker, 1 thread', () => open(`/bench.html?mode=worker&threads=1&steps=${steps}`)],
  ['Chromium worker, 2 threads', () => open(`/bench.html?mode=worker&threads=2&steps=${steps}`)],
  ...(withTfjs ? [['TensorFlow.js 4.22 wasm, page', () => open(`/tfjs.html?steps=${Math.min(steps, 10)}`)]] : []),
];
const median = (a) => [...a].sort((p, q) => p - q)[a.length >> 1];
const results = new Map(cases.map(([name]) => [name, []]));
const load = [loadavg()];
for (let r = 0; r < rounds; r++) {
  for (const [name, f] of cases) {
    const res = await f();
    results.get(name).push(res);
    console.error(`round ${r + 1}: ${name}: ${res.stepMs.toFixed(1)} ms${res.threads !== undefined ? ` (threads ${res.threads}, jobs/step ${res.jobsPerStep ?? '-'}, isolated ${res.isolated})` : ''}${res.console ? ` console: ${res.console.join(' | ')}` : ''}`);
  }
}
load.push(loadavg());

const nodeMs = median(results.get(cases[0][0]).map((r) => r.stepMs));
console.log(`\nChromium ${version}${extra.length ? ` (${extra.join(' ')})` : ''}, ${rounds} interleaved rounds, ${steps} timed steps each (median per round; table: median of rounds, range)\n`);
console.log('| where | threads | parallel jobs per step | ms per step (median) | range over rounds | vs Node |');
console.log('|---|---|---|---|---|---|');
for (const [name] of cases) {
  const rs = results.get(name);
  const ms = rs.map((r) => r.stepMs);
  const m = median(ms);
  console.log(`| ${name} | ${rs[0].threads ?? '-'} | ${rs[0].jobsPerStep ?? '-'} | ${m.toFixed(1)} | ${Math.min(...ms).toFixed(1)}-${Math.max(...ms).toFixed(1)} | ${(m / nodeMs).toFixed(2)}x |`);
}
const w1 = median(results.get('Chromium worker, 1 thread').map((r) => r.stepMs));
const w2 = median(results.get('Chromium worker, 2 threads').map((r) => r.stepMs));
console.log(`\nworker 2 threads / Node: ${(w2 / nodeMs).toFixed(2)}; worker 1 thread / worker 2 threads: ${(w1 / w2).toFixed(2)}x`);
console.log(`load average before: ${load[0].map((l) => l.toFixed(2)).join(' ')}; after: ${load[1].map((l) => l.toFixed(2)).join(' ')}`);

if (withProfile) {
  for (const threads of [1, 2]) {
    const r = await open(`/bench.html?mode=worker&threads=${threads}&steps=${steps}&profile=1`);
    console.log(`\n### Chromium worker, ${threads} thread(s), profiled: ${r.stepMs.toFixed(1)} ms per step (median), ${r.jobsPerStep} parallel jobs per step, wasm flavor ${r.flavor}, helper workers started ${r.helpers?.spawned}, helper errors: ${JSON.stringify(r.helpers?.errors)}\n\n${r.profile}`);
  }
}
if (withProfile) {
  const b = await open('/bench.html?mode=worker&probe=1');
  const n = JSON.parse(execFileSync(process.execPath, ['bench/browser/probe-node.mjs'], { cwd: root, encoding: 'utf8' }).split('\n').find((l) => l.startsWith('RESULT ')).slice(7));
  console.log('\n### Probes of the pool machinery (bench/browser/probe.js): Atomics.wait/notify round trip, and a fixed loop alone vs on both threads at once\n');
  console.log('| where | wake round trip (median, p90) | loop alone | loop on 2 threads at once |\n|---|---|---|---|');
  for (const [name, r] of [['Chromium module worker + Blob helper', b], ['Node worker_threads', n]]) {
    console.log(`| ${name} | ${r.wakeRoundTripUs.toFixed(1)} us, ${r.wakeRoundTripP90Us.toFixed(1)} us | ${r.loopAloneMs.toFixed(1)} ms | ${r.loopBothThreadsMs.toFixed(1)} ms |`);
  }
}
await browser.close();
server.close();
