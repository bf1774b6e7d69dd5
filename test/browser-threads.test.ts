// The wasm backend's thread pool in a browser: inside a module worker of a cross-origin isolated
// page (headless Chromium, from scripts/chromium.mjs), the helper Web Worker must actually run
// chunks of the parallel jobs: `parallelJobs > 0` alone only says the jobs were split, not that
// anyone but the calling thread ran them. Fixture: test/fixtures/browser-threads-worker.ts.
// Found (BENCHMARKS.md): a nested worker starts only once its parent yields to its event loop,
// so `ready()` / `await setThreads()` start the pool and wait for its helpers.

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { CHROMIUM_ARGS, chromiumPath } from './chromium.js';

const CHROMIUM = await chromiumPath();
const root = new URL('../', import.meta.url);
const wasmDir = new URL('dist/wasm/', root);
const skip = !CHROMIUM ? 'no Chromium (@sparticuz/chromium, CHROMIUM_PATH or /usr/bin/chromium)' : !existsSync(new URL('kernels-simd-shared.wasm', wasmDir)) ? 'dist/wasm is not built: run `npm run build`' : false;

interface Phase { jobs: number; chunks: number; helped: number; warnings?: string[] }

describe('the wasm thread pool in a Chromium worker', { skip }, () => {
  let server: Server;
  let base = '';
  let workerBundle = '';
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let browser: any;

  before(async () => {
    const esbuild = createRequire(import.meta.url)('esbuild') as typeof import('esbuild');
    const out = await esbuild.build({
      entryPoints: [new URL('test/fixtures/browser-threads-worker.ts', root).pathname],
      bundle: true, format: 'esm', platform: 'browser', write: false, target: 'es2022', external: ['node:*'], logLevel: 'error',
    });
    workerBundle = out.outputFiles[0].text;
    server = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const headers = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };
      if (path === '/') {
        res.writeHead(200, { ...headers, 'content-type': 'text/html' });
        res.end('<!doctype html><script>const w = new Worker("./worker.js", { type: "module" }); w.onmessage = (e) => { window.result = e.data; }; w.onerror = (e) => { window.result = { error: String(e.message) }; };</script>');
      } else if (path === '/worker.js') {
        res.writeHead(200, { ...headers, 'content-type': 'text/javascript' });
        res.end(workerBundle);
      } else if (/^\/wasm\/[\w.-]+\.wasm$/.test(path) && existsSync(new URL(path.slice(6), wasmDir))) {
        res.writeHead(200, { ...headers, 'content-type': 'application/wasm' });
        res.end(readFileSync(new URL(path.slice(6), wasmDir)));
      } else res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM ?? undefined, args: CHROMIUM_ARGS });
  });

  after(async () => {
    await browser?.close();
    server?.close();
  });

  it('after ready() the helper runs chunks; a pool switched inside a synchronous loop does not until the thread yields, and says so', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e: Error) => errors.push(e.message));
    try {
      await page.goto(base);
      await page.waitForFunction('window.result !== undefined', undefined, { timeout: 60000 });
      const r = await page.evaluate('window.result');
      assert.equal(r.error, undefined, `worker error: ${r.error}`);
      assert.deepEqual(errors, []);
      assert.equal(r.isolated, true, 'cross-origin isolated');
      assert.equal(r.threads, 2, 'two threads after ready({ threads: 2 }) (Chromium reports >= 2 cores here)');
      const { afterReady, syncSwitch, awaited } = r as Record<string, Phase>;
      for (const [name, p] of [['after ready()', afterReady], ['synchronous switch', syncSwitch], ['after await setThreads(2)', awaited]] as const) {
        assert.ok(p.jobs > 0 && p.chunks >= p.jobs, `${name}: parallel jobs ran (${JSON.stringify(p)})`);
      }
      assert.ok(afterReady.helped > 0, `after ready(): the helper ran chunks (${afterReady.helped} of ${afterReady.chunks})`);
      assert.ok(awaited.helped > 0, `after await setThreads(2): the helper ran chunks (${awaited.helped} of ${awaited.chunks})`);
      // the found reason: a nested worker starts only when its parent yields
      assert.equal(syncSwitch.helped, 0, `a helper spawned inside a synchronous loop ran nothing (${syncSwitch.helped} of ${syncSwitch.chunks})`);
      assert.equal(syncSwitch.warnings!.filter((w) => w.includes('helper workers are not running yet')).length, 1, `one notice: ${syncSwitch.warnings!.join(' | ')}`);
    } finally {
      await page.close();
    }
  });
});
