// The wasm backend in a browser: the library's browser bundle (esbuild, the .wasm files found
// next to it with no path configuration) loads in headless Chromium, with and without
// cross-origin isolation, and a SimpleConvNet forward and backward pass on wasm matches js.
// Chromium comes from test/chromium.ts (@sparticuz/chromium); skipped with a reason where none is found.

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { CHROMIUM_ARGS, chromiumPath } from './chromium.js';

const CHROMIUM = await chromiumPath();
const root = new URL('../', import.meta.url);

describe('wasm backend in headless Chromium', { skip: CHROMIUM ? false : 'no Chromium (@sparticuz/chromium, CHROMIUM_PATH or /usr/bin/chromium)' }, () => {
  let server: Server;
  let base = '';
  let bundle = '';
  let workerBundle = '';
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let browser: any;

  before(async () => {
    const require = createRequire(import.meta.url);
    const esbuild = require('esbuild') as typeof import('esbuild');
    const out = await esbuild.build({
      entryPoints: [new URL('test/fixtures/browser-entry.ts', root).pathname],
      bundle: true, format: 'esm', platform: 'browser', write: false, target: 'es2022',
      external: ['node:*'], logLevel: 'error',
    });
    bundle = out.outputFiles[0].text;
    const workerOut = await esbuild.build({
      entryPoints: [new URL('test/fixtures/browser-worker.ts', root).pathname],
      bundle: true, format: 'esm', platform: 'browser', write: false, target: 'es2022',
      external: ['node:*'], logLevel: 'error',
    });
    workerBundle = workerOut.outputFiles[0].text;
    const wasmDir = new URL('dist/wasm/', root);
    assert.ok(existsSync(new URL('kernels-simd.wasm', wasmDir)), 'dist/wasm is missing: run `npm run build`');
    server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const isolated = url.searchParams.has('isolated') || (req.headers.referer ?? '').includes('isolated');
      const headers: Record<string, string> = isolated ? { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' } : {};
      if (url.pathname === '/' ) {
        res.writeHead(200, { ...headers, 'content-type': 'text/html' });
        res.end('<!doctype html><script type="module">import { run, ready } from "./bundle.js"; await ready(); window.result = run(); </script>');
      } else if (url.pathname === '/worker.html') {
        res.writeHead(200, { ...headers, 'content-type': 'text/html' });
        res.end('<!doctype html><script>const w = new Worker("./worker.js", { type: "module" }); w.onmessage = (e) => { window.result = e.data; }; w.onerror = (e) => { window.result = { error: String(e.message) }; };</script>');
      } else if (url.pathname === '/bundle.js' || url.pathname === '/worker.js') {
        res.writeHead(200, { ...headers, 'content-type': 'text/javascript' });
        res.end(url.pathname === '/bundle.js' ? bundle : workerBundle);
      } else if (url.pathname.startsWith('/wasm/') && /^\/wasm\/[\w.-]+\.wasm$/.test(url.pathname)) {
        const file = new URL(url.pathname.slice(6), wasmDir);
        if (!existsSync(file)) {
          res.writeHead(404).end();
          return;
        }
        res.writeHead(200, { ...headers, 'content-type': 'application/wasm' });
        res.end(readFileSync(file));
      } else res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({
      executablePath: CHROMIUM ?? undefined,
      args: CHROMIUM_ARGS,
    });
  });

  after(async () => {
    await browser?.close();
    server?.close();
  });

  it('inside a Web Worker of an isolated page: the pool of Web Workers splits the work, results match js', async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/worker.html?isolated`);
    await page.waitForFunction('window.result !== undefined', undefined, { timeout: 60000 });
    const r = await page.evaluate('window.result');
    await page.close();
    assert.equal(r.error, undefined, `worker error: ${r.error}`);
    assert.equal(r.shared, true, 'shared memory in an isolated worker');
    assert.equal(r.threads, 2, 'setThreads(2) applied');
    assert.ok(r.parallelJobs > 0, `the pool ran jobs (${r.parallelJobs})`);
    assert.ok(r.scoreErr < 1e-4, `scores differ: ${r.scoreErr}`);
    assert.ok(Math.abs(r.lossWasm - r.lossJs) <= 1e-5 * Math.abs(r.lossJs), `loss js ${r.lossJs} vs wasm ${r.lossWasm}`);
    for (const [k, e] of Object.entries(r.gradErr as Record<string, number>)) assert.ok(e < 1e-3, `gradient ${k} differs: ${e}`);
  });

  for (const isolated of [true, false]) {
    it(`forward and backward on wasm match js ${isolated ? 'with' : 'without'} cross-origin isolation`, async () => {
      const page = await browser.newPage();
      const warnings: string[] = [];
      page.on('console', (m: { type(): string; text(): string }) => { if (m.type() === 'warning' || m.type() === 'error') warnings.push(m.text()); });
      page.on('pageerror', (e: Error) => warnings.push(String(e)));
      await page.goto(`${base}/${isolated ? '?isolated' : ''}`);
      await page.waitForFunction('window.result !== undefined', undefined, { timeout: 20000 });
      const r = await page.evaluate('window.result');
      await page.close();
      assert.equal(r.error, undefined, `page error: ${r.error} (console: ${warnings.join(' | ')})`);
      assert.deepEqual(r.names, ['js', 'wasm'], 'both backends registered');
      assert.equal(r.defaultBackend, 'wasm', 'wasm is the default in the browser too');
      assert.equal(r.crossOriginIsolated, isolated, 'isolation as served');
      assert.equal(r.shared, isolated, 'shared memory exactly when cross-origin isolated');
      assert.ok(['fma', 'simd'].includes(r.flavor), `flavor ${r.flavor}`);
      assert.ok(r.scoreErr < 1e-4, `scores differ: ${r.scoreErr}`);
      assert.ok(Math.abs(r.lossWasm - r.lossJs) <= 1e-5 * Math.abs(r.lossJs), `loss js ${r.lossJs} vs wasm ${r.lossWasm}`);
      for (const [k, e] of Object.entries(r.gradErr as Record<string, number>)) assert.ok(e < 1e-3, `gradient ${k} differs: ${e}`);
      if (!isolated && r.cores > 1) assert.ok(warnings.some((w) => w.includes('cross-origin isolation')), `one notice about one thread: ${warnings.join(' | ')}`);
    });
  }
});
