// The package as users get it: `npm pack`, the tarball installed into a fresh app whose files
// import only 'scratchnet' (test/fixtures/browser-app), bundled with esbuild's defaults (esm and
// iife) and Vite's `vite build` defaults, served cross-origin isolated from 127.0.0.1 and run in
// headless Chromium: SimpleConvNet trains on the wasm backend in the page (one thread) and in a
// module worker (two threads); the loss falls and the console stays clean.
//
// The app's dependencies are linked from this checkout's node_modules (the tarball itself is
// unpacked as npm would): `npm install --offline` needs registry metadata the cache may lack,
// and this test must run without a network.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CHROMIUM_ARGS, chromiumPath } from './chromium.js';

const root = new URL('../', import.meta.url).pathname;
const CHROMIUM = await chromiumPath();
const built = existsSync(join(root, 'dist/index.js')) && existsSync(join(root, 'dist/wasm/kernels-simd.wasm'));
const skip = !CHROMIUM ? 'no Chromium (@sparticuz/chromium, CHROMIUM_PATH or /usr/bin/chromium)' : !built ? 'dist/ is not built: run `npm run build`' : false;

const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json' };

describe('the packed package in a fresh app, bundled and run in Chromium', { skip }, () => {
  let dir = '';
  let server: Server;
  let base = '';
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let browser: any;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'scratchnet-app-'));
    // --ignore-scripts: `prepare` would rebuild; `npm test` has just built dist/.
    const tarball = execFileSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', dir], { cwd: root, encoding: 'utf8' }).trim().split('\n').pop()!;
    const app = join(dir, 'app');
    const pkgDir = join(app, 'node_modules/scratchnet');
    mkdirSync(pkgDir, { recursive: true });
    execFileSync('tar', ['xzf', join(dir, tarball), '-C', pkgDir, '--strip-components=1']);
    const manifest = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    for (const dep of Object.keys(manifest.dependencies ?? {})) {
      const target = join(app, 'node_modules', dep);
      mkdirSync(join(target, '..'), { recursive: true });
      symlinkSync(join(root, 'node_modules', dep), target, 'dir');
    }
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    cpSync(join(root, 'test/fixtures/browser-app'), app, { recursive: true });

    // esbuild with its defaults (it emits no .wasm for `new URL(..., import.meta.url)`, so the page
    // says where the package's wasm files are served: ready({ wasmPaths })).
    const esbuild = await import('esbuild');
    await esbuild.build({ absWorkingDir: app, entryPoints: ['main.js', 'worker.js'], bundle: true, format: 'esm', outdir: 'out-esbuild', minify: true, logLevel: 'error' });
    await esbuild.build({ absWorkingDir: app, entryPoints: ['iife.js'], bundle: true, format: 'iife', outdir: 'out-iife', logLevel: 'error' });
    const wasmPaths = '<script>globalThis.SCRATCHNET_WASM_PATHS = "/node_modules/scratchnet/dist/wasm/";</script>';
    writeFileSync(join(app, 'out-esbuild/index.html'), `<!doctype html>${wasmPaths}<script type="module" src="./main.js"></script>`);
    writeFileSync(join(app, 'out-iife/index.html'), `<!doctype html>${wasmPaths}<script src="./iife.js"></script>`);
    // Vite: `vite build` with no config file at all.
    execFileSync(process.execPath, [join(root, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'error'], { cwd: app, stdio: 'pipe' });

    server = createServer((req, res) => {
      const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
      // Vite's output is served at the root, as its default base ('/') expects.
      let file = path === '/' || path.startsWith('/assets/') ? join(app, 'dist', path) : join(app, path);
      if (!file.startsWith(app)) return void res.writeHead(403).end();
      if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
      if (!existsSync(file)) return void res.writeHead(404).end();
      res.writeHead(200, {
        'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
        'cross-origin-opener-policy': 'same-origin',
        'cross-origin-embedder-policy': 'require-corp',
      });
      res.end(readFileSync(file));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM ?? undefined, args: CHROMIUM_ARGS });
  });

  after(async () => {
    await browser?.close();
    server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function open(path: string): Promise<{ result: Record<string, Record<string, unknown>>; problems: string[] }> {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (m: { type(): string; text(): string }) => { if (m.type() === 'error') problems.push(`${m.type()}: ${m.text()}`); });
    page.on('pageerror', (e: Error) => problems.push(`page error: ${e.message}`));
    page.on('requestfailed', (r: { url(): string }) => problems.push(`request failed: ${r.url()}`));
    page.on('response', (r: { url(): string; status(): number }) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`); });
    try {
      await page.goto(`${base}${path}`);
      await page.waitForFunction('globalThis.result !== undefined', undefined, { timeout: 30000 }).catch((e: Error) => {
        throw new Error(`${path}: no result (${e.message.split('\n')[0]}); console: ${problems.join(' | ') || 'empty'}`);
      });
      return { result: await page.evaluate('globalThis.result'), problems };
    } finally {
      await page.close();
    }
  }

  function checkTraining(where: string, r: Record<string, unknown>, threads: number): void {
    assert.equal(r.error, undefined, `${where}: ${String(r.error)}`);
    assert.equal(r.backend, 'wasm', `${where}: getBackend().name`);
    assert.equal(r.isolated, true, `${where}: cross-origin isolated`);
    assert.equal(r.threads, threads, `${where}: threads`);
    const losses = r.losses as number[];
    assert.ok(losses.every(Number.isFinite), `${where}: finite losses ${losses}`);
    assert.ok(losses[losses.length - 1] < losses[0], `${where}: the loss falls (${losses.map((l) => l.toFixed(3)).join(' ')})`);
  }

  for (const [name, path] of [['esbuild (esm)', '/out-esbuild/'], ['Vite (vite build)', '/']] as const) {
    it(`${name}: trains on wasm in the page (1 thread) and in a worker (2 threads)`, async () => {
      const { result, problems } = await open(path);
      assert.deepEqual(problems, [], 'a clean console');
      checkTraining('page', result.page, 1);
      checkTraining('worker', result.worker, 2);
      assert.ok((result.worker.parallelJobs as number) > 0, 'the worker\'s thread pool ran jobs');
      assert.ok((result.worker.helperChunks as number) > 0, 'the pool\'s helper worker ran chunks of them');
    });
  }

  it('esbuild (iife, a classic script): trains on wasm', async () => {
    const { result, problems } = await open('/out-iife/');
    assert.deepEqual(problems, [], 'a clean console');
    checkTraining('page', result.page, 1);
  });
});
