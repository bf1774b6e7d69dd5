// Loading the backends (src/backend/registry.ts, src/backend/wasm/loader.ts): importing loads
// nothing; `await ready()` is idempotent; in Node the first getBackend() loads the wasm backend
// synchronously; outside Node getBackend() before ready() throws one clear line; wasmBytes and
// wasmPaths work; bytes without the \0asm magic (an HTML page for a missing file) are refused
// with one warning and js is used, or, where a URL failed, the inline copy with one warning; the
// inline copy is the four builds byte for byte and is what an esbuild or iife bundle loads; the
// module graph has no top-level await. Each case that needs a fresh registry runs in a child
// process (or, for the browser case, a vm context).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import vm from 'node:vm';
import { describe, it } from 'node:test';
import { getBackend, ready } from '../src/backend/registry.js';

const root = new URL('../', import.meta.url);
const REGISTRY = new URL('src/backend/registry.ts', root).href;
const WASM_INDEX = new URL('src/backend/wasm/loader.ts', root).href;
const dist = new URL('dist/wasm/', root);
const { SCRATCHNET_BACKEND: _outer, ...cleanEnv } = process.env;

/** Runs an ES module snippet (imports by absolute URL) in a fresh Node process through tsx. */
function child(code: string, env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: root, env: { ...cleanEnv, ...env }, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
function childJson(code: string, env: Record<string, string> = {}): Record<string, unknown> & { stderr: string } {
  const r = child(code, env);
  assert.equal(r.status, 0, `child failed: ${r.stderr}`);
  const last = r.stdout.trim().split('\n').pop() ?? '';
  return { ...(JSON.parse(last) as Record<string, unknown>), stderr: r.stderr };
}
const warnings = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('scratchnet:'));

describe('loading the backends', () => {
  it('ready() is idempotent: one promise, resolved with the default backend', async () => {
    const p = ready();
    assert.equal(ready(), p, 'the same promise');
    assert.equal(ready({ fma: false }), p, 'later options do not start a second load');
    const b = await p;
    assert.equal(b.name, process.env.SCRATCHNET_BACKEND ?? 'wasm');
    assert.equal(getBackend(), b, 'getBackend() is what ready() resolved with');
    assert.equal(await ready(), b);
  });

  it('importing loads nothing; in Node the first getBackend() loads wasm synchronously; later ready() reuses it', () => {
    const r = childJson(`
      const w = await import('${WASM_INDEX}');
      const r = await import('${REGISTRY}');
      const before = w.getWasmBackend();
      const b = r.getBackend();
      const again = await r.ready();
      console.log(JSON.stringify({ before, name: b.name, same: w.getWasmBackend() === b, readySame: again === b, names: r.backendNames() }));
    `);
    assert.equal(r.before, null, 'nothing loaded by the import');
    assert.equal(r.name, 'wasm');
    assert.equal(r.same, true, 'getWasmBackend() returns the loaded default');
    assert.equal(r.readySame, true, 'ready() after a synchronous load resolves with the same backend');
    assert.deepEqual(r.names, ['js', 'wasm']);
    assert.deepEqual(warnings(r.stderr), [], 'no warning when wasm loads');
  });

  it('SCRATCHNET_BACKEND=js and setBackend(\'js\') choose js; getBackend(\'wasm\') still loads it', () => {
    const r = childJson(`
      const r = await import('${REGISTRY}');
      const first = r.getBackend().name;
      const w = r.getBackend('wasm').name;
      console.log(JSON.stringify({ first, w, after: r.getBackend().name }));
    `, { SCRATCHNET_BACKEND: 'js' });
    assert.deepEqual([r.first, r.w, r.after], ['js', 'wasm', 'js']);
    const s = childJson(`
      const r = await import('${REGISTRY}');
      r.setBackend('js');
      console.log(JSON.stringify({ name: (await r.ready()).name }));
    `);
    assert.equal(s.name, 'js', 'the user\'s choice stays the default after ready()');
  });

  it('setThreads before the wasm backend loads is applied when it loads', () => {
    const r = childJson(`
      const r = await import('${REGISTRY}');
      r.setThreads(1);
      const b = await r.ready();
      console.log(JSON.stringify({ threads: b.threads }));
    `, { SCRATCHNET_THREADS: '2' });
    assert.equal(r.threads, 1);
  });

  it('wasmBytes: the given module is used (shared build: threads; plain build: one thread, said once)', () => {
    const shared = childJson(`
      const { readFileSync } = await import('node:fs');
      const r = await import('${REGISTRY}');
      const bytes = readFileSync(new URL('kernels-simd-shared.wasm', '${dist.href}'));
      const b = await r.ready({ wasmBytes: { 'simd-shared': bytes } });
      const x = b.allocate.float32(4); x[2] = NaN;
      console.log(JSON.stringify({ name: b.name, flavor: b.flavor, shared: b.memory.shared, nan: b.firstNonFinite(x) }));
    `);
    assert.deepEqual([shared.name, shared.flavor, shared.shared, shared.nan], ['wasm', 'simd', true, 2]);
    assert.deepEqual(warnings(shared.stderr), []);
    const plain = childJson(`
      const { readFileSync } = await import('node:fs');
      const r = await import('${REGISTRY}');
      const bytes = readFileSync(new URL('kernels-simd.wasm', '${dist.href}'));
      const b = await r.ready({ wasmBytes: { simd: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) } });
      console.log(JSON.stringify({ name: b.name, shared: b.memory.shared, threads: b.threads }));
    `);
    assert.deepEqual([plain.name, plain.shared, plain.threads], ['wasm', false, 1]);
    assert.equal(warnings(plain.stderr).length, 1, 'one notice: no shared memory, one thread');
  });

  it('bytes without the \\0asm magic (an HTML page for a missing file) are refused: one warning, js', () => {
    const r = childJson(`
      const r = await import('${REGISTRY}');
      const html = new TextEncoder().encode('<!doctype html><title>app</title>');
      const b = await r.ready({ wasmBytes: { simd: html, 'simd-shared': html, fma: html, 'fma-shared': html } });
      let wasm = '';
      try { r.getBackend('wasm'); } catch (e) { wasm = e.name + ': ' + e.message; }
      console.log(JSON.stringify({ name: b.name, now: r.getBackend().name, wasm }));
    `);
    assert.equal(r.name, 'js');
    assert.equal(r.now, 'js');
    const w = warnings(r.stderr);
    assert.equal(w.length, 1, `one warning line: ${r.stderr}`);
    assert.match(w[0], /^scratchnet: the wasm backend is unavailable, using the js backend \(wasmBytes\['simd'\]: not a WebAssembly module \(no \\0asm magic; it starts with "<!doctype html><"\: an HTML page served for a missing file\?\)\)$/);
    assert.match(r.wasm as string, /^UsageError: the wasm backend is unavailable here: wasmBytes/);
  });

  it('wasmPaths: a folder (path prefix or file URL) with the builds works; HTML or no files there: one warning naming the file, and the inline copy stands in', () => {
    const good = mkdtempSync(join(tmpdir(), 'scratchnet-wasm-'));
    for (const f of ['simd', 'fma', 'simd-shared', 'fma-shared']) copyFileSync(new URL(`kernels-${f}.wasm`, dist), join(good, `kernels-${f}.wasm`));
    const ok = childJson(`
      const r = await import('${REGISTRY}');
      const b = await r.ready({ wasmPaths: ${JSON.stringify(good + '/')} });
      console.log(JSON.stringify({ name: b.name, flavor: b.flavor }));
    `);
    assert.deepEqual([ok.name, ok.flavor], ['wasm', 'fma']);
    assert.deepEqual(warnings(ok.stderr), []);
    const okUrl = childJson(`
      const r = await import('${REGISTRY}');
      const b = await r.ready({ wasmPaths: new URL(${JSON.stringify(pathToFileURL(good + '/').href)}) });
      console.log(JSON.stringify({ name: b.name }));
    `);
    assert.equal(okUrl.name, 'wasm');
    const bad = mkdtempSync(join(tmpdir(), 'scratchnet-html-'));
    for (const f of ['simd', 'fma', 'simd-shared', 'fma-shared']) writeFileSync(join(bad, `kernels-${f}.wasm`), '<!DOCTYPE html>\n<html>not found</html>');
    const html = childJson(`
      const r = await import('${REGISTRY}');
      const b = await r.ready({ wasmPaths: ${JSON.stringify(bad + '/')} });
      console.log(JSON.stringify({ name: b.name, flavor: b.flavor, shared: b.memory.shared }));
    `);
    assert.deepEqual([html.name, html.flavor, html.shared], ['wasm', 'fma', true], 'the inline copy of kernels-fma-shared.wasm');
    assert.equal(warnings(html.stderr).length, 1, html.stderr);
    assert.match(warnings(html.stderr)[0], new RegExp(`^scratchnet: ${bad}/kernels-fma-shared\\.wasm: not a WebAssembly module .*HTML page.*; using the copy of the kernels inlined in the JavaScript instead$`));
    const missing = childJson(`
      const r = await import('${REGISTRY}');
      console.log(JSON.stringify({ name: (await r.ready({ wasmPaths: '/nonexistent/scratchnet/' })).name }));
    `);
    assert.equal(missing.name, 'wasm');
    assert.deepEqual(warnings(missing.stderr), ['scratchnet: /nonexistent/scratchnet/kernels-fma-shared.wasm: not found; using the copy of the kernels inlined in the JavaScript instead']);
  });

  it('the inline copy holds the four builds byte for byte (the plain ones derived from the shared ones)', async () => {
    const { inlineBuild } = await import('../src/backend/wasm/inline.js');
    const { PARTS, DERIVED } = await import('../src/backend/wasm/kernels-inline.js');
    assert.deepEqual(PARTS.map(([f]) => f), ['fma-shared', 'simd-shared'], 'only the shared builds are carried');
    assert.deepEqual(DERIVED.map(([f]) => f), ['fma', 'simd'], 'the plain ones are derived');
    for (const f of ['fma-shared', 'simd-shared', 'fma', 'simd'] as const) {
      const got = await inlineBuild(f);
      assert.ok(got instanceof Uint8Array, `${f}: ${String(got)}`);
      assert.ok(Buffer.from(got).equals(readFileSync(new URL(`kernels-${f}.wasm`, dist))), `inline kernels-${f}.wasm is dist/wasm/kernels-${f}.wasm`);
    }
  });

  it('a bundle made with esbuild\'s defaults (no .wasm emitted) loads the inline copy without asking for the missing files', async () => {
    const require = createRequire(import.meta.url);
    const esbuild = require('esbuild') as typeof import('esbuild');
    const out = mkdtempSync(join(tmpdir(), 'scratchnet-esbuild-'));
    await esbuild.build({ entryPoints: [new URL('src/backend/registry.ts', root).pathname], bundle: true, format: 'esm', platform: 'node', outfile: join(out, 'bundle.mjs'), logLevel: 'silent' });
    const r = childJson(`
      const r = await import(${JSON.stringify(pathToFileURL(join(out, 'bundle.mjs')).href)});
      const b = await r.ready();
      console.log(JSON.stringify({ name: b.name, flavor: b.flavor, shared: b.memory.shared }));
    `);
    rmSync(out, { recursive: true, force: true });
    assert.deepEqual([r.name, r.shared], ['wasm', true]);
    assert.deepEqual(warnings(r.stderr), [], 'no warning: the missing file was known to be missing, not tried');
  });

  it('outside Node: getBackend() before ready() throws one line; js works; ready({ wasmBytes }) loads wasm', async () => {
    // The registry bundled as an iife (as a <script> would load it) and run in a vm context
    // without `process`: the code paths of a browser main thread.
    const require = createRequire(import.meta.url);
    const esbuild = require('esbuild') as typeof import('esbuild');
    const out = await esbuild.build({
      entryPoints: [new URL('src/backend/registry.ts', root).pathname], bundle: true, format: 'iife', globalName: 'scratchnet',
      platform: 'browser', write: false, logLevel: 'silent', target: 'es2022',
    });
    const lines: string[] = [];
    const context = vm.createContext({ console: { warn: (...a: unknown[]) => lines.push(a.join(' ')), log: () => undefined }, URL, WebAssembly, TextEncoder });
    vm.runInContext(out.outputFiles[0].text, context);
    const lib = context.scratchnet as typeof import('../src/backend/registry.js');
    assert.throws(() => lib.getBackend(), (e: Error) => e.name === 'ScratchnetError' && e.message === "the wasm backend is not loaded yet: call `await ready()` first (or setBackend('js'))");
    assert.throws(() => lib.getBackend('wasm'), /call `await ready\(\)` first/);
    assert.equal(lib.getBackend('js').name, 'js');
    assert.deepEqual([...lib.backendNames()], ['js']);
    const b = await lib.ready({ wasmBytes: { simd: readFileSync(new URL('kernels-simd.wasm', dist)) } });
    assert.equal(b.name, 'wasm');
    assert.equal(lib.getBackend(), b);
    assert.equal((b as unknown as { memory: { shared: boolean } }).memory.shared, false, 'no cross-origin isolation: ordinary memory');
    assert.equal(lines.length, 0, `no warning: ${lines.join('; ')}`);
    // without wasmBytes, an iife bundle has no import.meta.url to find the files: the inline copy
    // (unpacked with DecompressionStream) brings them, silently
    const globals = { URL, WebAssembly, atob, Response, DecompressionStream };
    const withInline = vm.createContext({ console: { warn: (...a: unknown[]) => lines.push(a.join(' ')) }, ...globals });
    vm.runInContext(out.outputFiles[0].text, withInline);
    const lib2 = withInline.scratchnet as typeof import('../src/backend/registry.js');
    assert.equal((await lib2.ready()).name, 'wasm');
    assert.equal(lines.length, 0, `no warning: ${lines.join('; ')}`);
    // an engine without DecompressionStream: a loud fallback to js that says both reasons
    const without = vm.createContext({ console: { warn: (...a: unknown[]) => lines.push(a.join(' ')) }, ...globals, DecompressionStream: undefined });
    vm.runInContext(out.outputFiles[0].text, without);
    const lib3 = without.scratchnet as typeof import('../src/backend/registry.js');
    assert.equal((await lib3.ready()).name, 'js');
    assert.equal(lines.length, 1);
    assert.match(lines[0], /^scratchnet: the wasm backend is unavailable, using the js backend \(kernels-simd\.wasm: no import\.meta\.url in this bundle .*wasmPaths.*; this engine has no DecompressionStream to unpack the inline kernels with\)$/);
  });

  it('no top-level await in the module graph of src/index.ts (an iife bundle builds)', async () => {
    const require = createRequire(import.meta.url);
    const esbuild = require('esbuild') as typeof import('esbuild');
    // esbuild refuses top-level await in the iife format ("Top-level await is currently not
    // supported"), so a build that succeeds proves there is none anywhere in our sources (the
    // packages they import stay external: this is not the universal-entry check).
    for (const entry of ['src/index.ts', 'src/backend/registry.ts']) {
      const r = await esbuild.build({
        entryPoints: [new URL(entry, root).pathname], bundle: true, format: 'iife', platform: 'node',
        packages: 'external', write: false, logLevel: 'silent', target: 'es2022',
      }).then(() => 'ok', (e: { errors?: { text: string }[] }) => (e.errors ?? []).map((x) => x.text).join('; '));
      assert.equal(r, 'ok', `${entry}: ${r}`);
    }
  });
});
