// Browser rows for the benchmark: a SimpleConvNet training step (batch 100, Adam, random 1x28x28
// input, bench/browser/app.js) timed in headless Chromium (playwright-core, the Chromium of
// scripts/chromium.mjs) on the page (1 thread), in a module worker with 1 and with 2 threads (served
// cross-origin isolated: COOP same-origin + COEP require-corp), in the worker with 2 threads whose
// pool starts lazily inside the synchronous loop (the behaviour before ready() started it),
// TensorFlow.js 4.22 wasm on the page, and Node (the same app.js, bench/browser/node-step.mjs) in the
// same run. Rounds are interleaved; medians of the per-round medians. Each scratchnet row also says
// which share of the parallel jobs' chunks the helper threads ran (the caller ran the rest).
//
// stdout gets one markdown section (## In the browser (Chromium)) and nothing else; progress goes
// to stderr. So bench/bench.mjs can run `node bench/run-browser.mjs --markdown` and paste stdout,
// or import { browserBench } and get the section as a string.
//   node bench/run-browser.mjs [ROUNDS=3] [STEPS=20] [--markdown] [--no-tfjs] [--profile]
// --markdown: the default output, accepted for callers that say so. --profile: also a per-op
// profile in the worker at 1 and 2 threads and the probes of bench/browser/probe.js (slower).
// Needs dist/ built (npm run build).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { loadavg } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const median = (a) => [...a].sort((p, q) => p - q)[a.length >> 1];
const pct = (x) => (x === null || x === undefined ? '-' : `${(100 * x).toFixed(0)}%`);

/** Runs the browser benchmark; resolves with the markdown section. `log` gets progress lines. */
export async function browserBench({ rounds = 3, steps = 20, tfjs = true, profile = false, log = (line) => console.error(line) } = {}) {
  if (!existsSync(join(root, 'dist/index.js'))) throw new Error('dist/ is not built: run `npm run build`');
  const out = join(root, '.bench-tmp/browser');
  mkdirSync(out, { recursive: true });
  const esbuild = await import('esbuild');
  await esbuild.build({ absWorkingDir: root, entryPoints: ['bench/browser/page.js', 'bench/browser/worker.js'], bundle: true, format: 'esm', outdir: out, minify: true, logLevel: 'error' });
  if (tfjs) await esbuild.build({ absWorkingDir: root, entryPoints: ['bench/browser/tfjs.js'], bundle: true, format: 'esm', outdir: out, minify: true, logLevel: 'error', define: { 'process.env.NODE_ENV': '"production"' }, external: ['fs', 'path', 'crypto', 'worker_threads', 'perf_hooks', 'os'] });

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
  const lines = [];
  const say = (s = '') => lines.push(s);
  try {
    const version = browser.version();
    async function open(path) {
      const page = await browser.newPage();
      const messages = [];
      page.on('pageerror', (e) => messages.push(e.message));
      page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') messages.push(m.text()); });
      try {
        await page.goto(`${base}${path}`);
        await page.waitForFunction('globalThis.result !== undefined', undefined, { timeout: 120000 });
        const r = await page.evaluate('globalThis.result');
        if (r.error) throw new Error(`${path}: ${r.error}`);
        if (messages.length) r.console = messages;
        return r;
      } finally {
        await page.close();
      }
    }
    const node = (threads) => {
      const s = execFileSync(process.execPath, ['bench/browser/node-step.mjs', String(threads), String(steps)], { cwd: root, encoding: 'utf8' });
      return JSON.parse(s.split('\n').find((l) => l.startsWith('RESULT ')).slice(7));
    };

    const NODE = 'Node 2 threads (worker_threads)', W1 = 'Chromium worker, 1 thread', W2 = 'Chromium worker, 2 threads';
    const LAZY = 'Chromium worker, 2 threads, pool started inside the loop';
    const cases = [
      [NODE, () => node(2)],
      ['Chromium page, 1 thread', () => open(`/bench.html?mode=page&threads=1&steps=${steps}`)],
      [W1, () => open(`/bench.html?mode=worker&threads=1&steps=${steps}`)],
      [W2, () => open(`/bench.html?mode=worker&threads=2&steps=${steps}`)],
      [LAZY, () => open(`/bench.html?mode=worker&threads=2&lazy=1&steps=${steps}`)],
      ...(tfjs ? [['TensorFlow.js 4.22 wasm, page', () => open(`/tfjs.html?steps=${Math.min(steps, 10)}`)]] : []),
    ];
    const results = new Map(cases.map(([name]) => [name, []]));
    const load = [loadavg()];
    for (let r = 0; r < rounds; r++) {
      for (const [name, f] of cases) {
        const res = await f();
        results.get(name).push(res);
        log(`round ${r + 1}/${rounds}: ${name}: ${res.stepMs.toFixed(1)} ms${res.threads !== undefined ? ` (threads ${res.threads}, jobs/step ${res.jobsPerStep ?? '-'}, helper share ${pct(res.helperShare)})` : ''}${res.console ? ` console: ${res.console.join(' | ')}` : ''}`);
      }
    }
    load.push(loadavg());

    const ms = (name) => median(results.get(name).map((r) => r.stepMs));
    const nodeMs = ms(NODE);
    say('## In the browser (Chromium)');
    say();
    say(`\`node bench/run-browser.mjs ${rounds} ${steps}\`: a SimpleConvNet training step (batch 100, Adam, random 1x28x28 input; bench/browser/app.js) in headless Chromium ${version}${extra.length ? ` (${extra.join(' ')})` : ''} (@sparticuz/chromium, playwright-core), served cross-origin isolated from 127.0.0.1, against Node ${process.version} running the same app.js; ${rounds} interleaved rounds of ${steps} timed steps (median per round; table: median of the rounds, range; and the fastest single step of the run, less disturbed by other load on the machine). Helper share: the part of the parallel jobs' chunks that the pool's helper threads ran (the calling thread ran the rest; \`backend.helperChunks / backend.parallelChunks\`).`);
    say();
    say('| where | threads | parallel jobs per step | helper share of chunks | ms per step | range over rounds | vs Node | fastest step | vs Node |');
    say('|---|---|---|---|---|---|---|---|---|');
    const best = (name) => Math.min(...results.get(name).map((r) => r.minMs));
    for (const [name] of cases) {
      const rs = results.get(name);
      const all = rs.map((r) => r.stepMs);
      const shares = rs.map((r) => r.helperShare).filter((x) => typeof x === 'number');
      const share = shares.length ? pct(median(shares)) : '-';
      say(`| ${name} | ${rs[0].threads ?? '-'} | ${rs[0].jobsPerStep ?? '-'} | ${share} | ${ms(name).toFixed(1)} | ${Math.min(...all).toFixed(1)}-${Math.max(...all).toFixed(1)} | ${(ms(name) / nodeMs).toFixed(2)}x | ${best(name).toFixed(1)} | ${(best(name) / best(NODE)).toFixed(2)}x |`);
    }
    say();
    const ratio = ms(W2) / nodeMs;
    say(`Worker 2 threads / Node: **${ratio.toFixed(2)}** (fastest steps: ${(best(W2) / best(NODE)).toFixed(2)}; target: within 1.3, ${ratio <= 1.3 ? 'met' : 'not met'}); worker 1 thread / worker 2 threads: **${(ms(W1) / ms(W2)).toFixed(2)}x** (fastest steps: ${(best(W1) / best(W2)).toFixed(2)}x); pool started inside the loop / started by \`ready()\`: ${(ms(LAZY) / ms(W2)).toFixed(2)}x (${(best(LAZY) / best(W2)).toFixed(2)}x). Load average (1, 5, 15 min) before: ${load[0].map((l) => l.toFixed(2)).join(' ')}; after: ${load[1].map((l) => l.toFixed(2)).join(' ')}.`);
    say();
    say('Why the pool started inside the loop gives nothing: Chromium starts a Web Worker spawned from a worker only once the spawning thread returns to its event loop. The pool spawns its helper at the first op big enough to split, in the middle of a synchronous training step, so the helper never ran and the caller claimed every chunk itself (dynamic chunking hides it: `parallelJobs` still rises). Node\'s worker_threads start on their own. So in browsers `await ready()` starts the pool and waits for each helper\'s handshake (it signals after instantiating the module), `await setThreads(n)` does the same for a new size, and a pool whose first job finds a helper not running says so once on the console (src/backend/wasm/threads.ts; test/browser-threads.test.ts).');

    if (profile) {
      for (const threads of [1, 2]) {
        const r = await open(`/bench.html?mode=worker&threads=${threads}&steps=${steps}&profile=1`);
        say();
        say(`### Chromium worker, ${threads} thread(s), profiled: ${r.stepMs.toFixed(1)} ms per step (median), ${r.jobsPerStep} parallel jobs per step, helper share ${pct(r.helperShare)}, wasm flavor ${r.flavor}, helper workers started ${r.helpers?.spawned}, helper errors: ${JSON.stringify(r.helpers?.errors)}`);
        say();
        say(r.profile);
      }
      const b = await open('/bench.html?mode=worker&probe=1');
      const n = JSON.parse(execFileSync(process.execPath, ['bench/browser/probe-node.mjs'], { cwd: root, encoding: 'utf8' }).split('\n').find((l) => l.startsWith('RESULT ')).slice(7));
      say();
      say('### Probes of the pool machinery (bench/browser/probe.js): Atomics.wait/notify round trip, and a fixed loop alone vs on both threads at once');
      say();
      say('| where | wake round trip (median, p90) | loop alone | loop on 2 threads at once |\n|---|---|---|---|');
      for (const [name, r] of [['Chromium module worker + Blob helper', b], ['Node worker_threads', n]]) {
        say(`| ${name} | ${r.wakeRoundTripUs.toFixed(1)} us, ${r.wakeRoundTripP90Us.toFixed(1)} us | ${r.loopAloneMs.toFixed(1)} ms | ${r.loopBothThreadsMs.toFixed(1)} ms |`);
      }
    }
  } finally {
    await browser.close();
    server.close();
  }
  return `${lines.join('\n')}\n`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const known = new Set(['--markdown', '--no-tfjs', '--profile', '--no-profile']);
  const bad = args.find((a) => a.startsWith('--') && !known.has(a));
  if (bad) {
    console.error(`run-browser: unknown option ${bad} (usage: node bench/run-browser.mjs [ROUNDS=3] [STEPS=20] [--markdown] [--no-tfjs] [--profile])`);
    process.exit(2);
  }
  const [rounds = 3, steps = 20] = args.filter((a) => !a.startsWith('--')).map(Number);
  if (!(Number.isInteger(rounds) && rounds > 0 && Number.isInteger(steps) && steps > 0)) {
    console.error('run-browser: ROUNDS and STEPS must be positive integers');
    process.exit(2);
  }
  process.stdout.write(await browserBench({ rounds, steps, tfjs: !args.includes('--no-tfjs'), profile: args.includes('--profile') }));
}
