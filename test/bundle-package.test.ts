// The package as users get it: `npm pack`, the tarball installed into a fresh app whose files
// import only 'scratchnet' (test/fixtures/browser-app) and say nothing about where the wasm is,
// built with each bundler's defaults - esbuild (esm and iife), `vite build` (no config), webpack 5
// (`webpack --mode production`, the entry named on the command line, no config) - and run by the
// Vite dev server (`vite`, with the one config it needs: the COOP/COEP headers). Served cross-origin
// isolated from 127.0.0.1 and run in headless Chromium: SimpleConvNet trains on the wasm backend
// in the page (one thread) and in a module worker (two threads); the loss falls and the console
// stays clean (no error, no `scratchnet:` warning). Where the wasm came from is checked from the
// network: Vite and webpack emit the .wasm files and the page fetches one, never the lazy chunk
// with the inline copy; esbuild emits none, nothing .wasm is requested, and the inline copy in the
// bundle is what loads.
//
// The app's dependencies are linked from this checkout's node_modules (the tarball itself is
// unpacked as npm would): `npm install --offline` needs registry metadata the cache may lack,
// and this test must run without a network.

import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
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
  let vite: ChildProcess | null = null;
  let devBase = '';
  let inlineMarker = '';
  const served = new Set<string>(); // paths served (by our server) that hold the inline copy

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

    // esbuild with its defaults: it emits no .wasm for `new URL(..., import.meta.url)` (and an
    // iife has no import.meta.url): the package's inline copy must bring the kernels.
    const esbuild = await import('esbuild');
    await esbuild.build({ absWorkingDir: app, entryPoints: ['main.js', 'worker.js'], bundle: true, format: 'esm', outdir: 'out-esbuild', minify: true, logLevel: 'error' });
    await esbuild.build({ absWorkingDir: app, entryPoints: ['iife.js', 'worker.js'], bundle: true, format: 'iife', outdir: 'out-iife', logLevel: 'error' });
    writeFileSync(join(app, 'out-esbuild/index.html'), '<!doctype html><script type="module" src="./main.js"></script>');
    writeFileSync(join(app, 'out-iife/index.html'), '<!doctype html><script src="./iife.js"></script>');
    // Vite: `vite build` with no config file at all.
    execFileSync(process.execPath, [join(root, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'error'], { cwd: app, stdio: 'pipe' });
    // webpack 5: no config file; its default entry is ./src/index.js, so the entry is named.
    execFileSync(process.execPath, [join(root, 'node_modules/webpack-cli/bin/cli.js'), '--mode', 'production', '--entry', './main.js', '--output-path', './out-webpack'], { cwd: app, stdio: 'pipe' });
    writeFileSync(join(app, 'out-webpack/index.html'), '<!doctype html><script type="module" src="./main.js"></script>');
    // A marker of the inline copy (a stretch of its base64, past the constant gzip header): a
    // served file that contains it carries the inline kernels.
    const inlineJs = readFileSync(join(pkgDir, 'dist/backend/wasm/kernels-inline.js'), 'utf8');
    const b64 = /GZIP_BASE64 = '([A-Za-z0-9+/=]+)'/.exec(inlineJs)?.[1] ?? '';
    assert.ok(b64.length > 10000, 'the package has its inline kernels');
    inlineMarker = b64.slice(1000, 1048);

    // The Vite dev server: `vite` with the smallest config it needs, the isolation headers (the
    // builds above ran before this file existed).
    writeFileSync(join(app, 'vite.config.js'), ISOLATION_CONFIG);
    const port = await freePort();
    vite = spawn(process.execPath, [join(root, 'node_modules/vite/bin/vite.js'), '--host', '127.0.0.1', '--port', String(port), '--strictPort'], {
      cwd: app,
      stdio: ['ignore', 'pipe', 'pipe'],
      // CI may set FORCE_COLOR: Vite then wraps the port in bold codes, and the log no longer
      // contains "127.0.0.1:PORT" as typed. Ask for plain text, and strip codes anyway below.
      env: { ...withoutForceColor(process.env), NO_COLOR: '1' },
    });
    let viteLog = '';
    vite.stderr!.on('data', (d) => (viteLog += d));
    devBase = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`vite dev server did not start: ${viteLog}`)), 30000);
      vite!.stdout!.on('data', (d) => {
        viteLog += d;
        if (viteLog.replace(/\x1b\[[0-9;]*m/g, '').includes(`127.0.0.1:${port}`)) {
          clearTimeout(timer);
          resolve(`http://127.0.0.1:${port}`);
        }
      });
      vite!.on('exit', (code) => reject(new Error(`vite exited (${code}): ${viteLog}`)));
    });

    server = createServer((req, res) => {
      const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
      // Vite's output is served at the root, as its default base ('/') expects.
      let file = path === '/' || path.startsWith('/assets/') ? join(app, 'dist', path) : join(app, path);
      if (!file.startsWith(app)) return void res.writeHead(403).end();
      if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
      if (!existsSync(file)) return void res.writeHead(404).end();
      const body = readFileSync(file);
      if (inlineMarker && body.includes(inlineMarker)) served.add(path);
      res.writeHead(200, {
        'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
        'cross-origin-opener-policy': 'same-origin',
        'cross-origin-embedder-policy': 'require-corp',
      });
      res.end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM ?? undefined, args: CHROMIUM_ARGS });
  });

  after(async () => {
    vite?.kill();
    await browser?.close();
    server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  interface Opened {
    result: Record<string, Record<string, unknown>>;
    problems: string[];
    /** URLs of the .wasm files requested (page and workers). */
    wasm: string[];
    /** URLs requested (or paths served) that hold the inline copy. */
    inline: string[];
  }

  async function open(url: string): Promise<Opened> {
    const page = await browser.newPage();
    const problems: string[] = [];
    const requested: string[] = [];
    served.clear();
    page.on('console', (m: { type(): string; text(): string }) => {
      if (m.type() === 'error' || m.text().startsWith('scratchnet:')) problems.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e: Error) => problems.push(`page error: ${e.message}`));
    page.on('request', (r: { url(): string }) => requested.push(r.url()));
    page.on('requestfailed', (r: { url(): string }) => problems.push(`request failed: ${r.url()}`));
    page.on('response', (r: { url(): string; status(): number }) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`); });
    try {
      await page.goto(url);
      await page.waitForFunction('globalThis.result !== undefined', undefined, { timeout: 60000 }).catch((e: Error) => {
        throw new Error(`${url}: no result (${e.message.split('\n')[0]}); console: ${problems.join(' | ') || 'empty'}`);
      });
      const result = await page.evaluate('globalThis.result');
      const wasm = requested.filter((u) => new URL(u).pathname.endsWith('.wasm'));
      const inline = [...requested.filter((u) => u.includes('kernels-inline')), ...served];
      return { result, problems, wasm, inline };
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

  function checkPageAndWorker(r: Opened): void {
    assert.deepEqual(r.problems, [], 'a clean console');
    checkTraining('page', r.result.page, 1);
    checkTraining('worker', r.result.worker, 2);
    assert.ok((r.result.worker.parallelJobs as number) > 0, 'the worker\'s thread pool ran jobs');
    assert.ok((r.result.worker.helperChunks as number) > 0, 'the pool\'s helper worker ran chunks of them');
  }

  it('esbuild (esm): trains on wasm in the page and a worker, the kernels from the inline copy (no .wasm requested)', async () => {
    const r = await open(`${base}/out-esbuild/`);
    checkPageAndWorker(r);
    assert.deepEqual(r.wasm, [], 'esbuild emitted no .wasm, and none is requested (no 404 either)');
    assert.ok(r.inline.some((p) => p.endsWith('/main.js')) && r.inline.some((p) => p.endsWith('/worker.js')), `the bundles hold the inline copy: ${r.inline}`);
  });

  it('esbuild (iife: a classic script and a classic worker): trains on wasm from the inline copy', async () => {
    const r = await open(`${base}/out-iife/`);
    checkPageAndWorker(r);
    assert.deepEqual(r.wasm, [], 'no .wasm requested');
  });

  // What holds the inline copy and is loaded anyway: nothing, except Vite's worker bundle (its
  // default worker format is iife, which cannot split a dynamic import off: the copy rides along,
  // unused; `worker: { format: 'es' }` in a vite.config splits it off as in the page).
  for (const [name, url, wasmAt, inlineLoaded] of [
    ['Vite (vite build)', () => `${base}/`, /\/assets\/kernels-fma-shared-[\w-]+\.wasm$/, [/^\/assets\/worker-[\w-]+\.js$/]],
    ['webpack 5 (webpack --mode production)', () => `${base}/out-webpack/`, /\/out-webpack\/[0-9a-f]+\.wasm$/, []],
    ['the Vite dev server (vite)', () => `${devBase}/`, /\/node_modules\/.*kernels-fma-shared\.wasm$/, []],
  ] as const) {
    it(`${name}: trains on wasm in the page and a worker, fetching the emitted .wasm, never the inline copy`, async () => {
      const r = await open(url());
      checkPageAndWorker(r);
      assert.ok(r.wasm.length > 0 && r.wasm.every((u) => wasmAt.test(u)), `the .wasm requested: ${r.wasm.join(', ')}`);
      assert.ok(r.inline.length === inlineLoaded.length && r.inline.every((p, i) => inlineLoaded[i].test(p)), `the lazy chunk with the inline copy is never loaded: ${r.inline.join(', ')}`);
    });
  }
});

const ISOLATION_CONFIG = `export default {
  server: { headers: { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' } },
};
`;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

function withoutForceColor(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { FORCE_COLOR: _ignored, ...rest } = env;
  return rest;
}
