// What `npm install scratchnet` costs on disk, and what a minimal training page costs over the
// wire: the package packed (`npm pack`) and installed into an empty app (`npm install --offline`
// from npm's cache; where that fails, unpacked with its dependencies copied from this checkout's
// node_modules), then a minimal training app bundled with esbuild's defaults (esm, minified) and
// with `vite build`. Sizes are bytes as written and gzip -9 (zlib level 9), in KB (1000 bytes).
//   node scripts/measure-size.mjs        (needs dist/ built: npm run build)
// Prints markdown (the README's "Size" section comes from it).

import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const kb = (n) => (n / 1000).toFixed(1);
const gz = (buf) => gzipSync(buf, { level: 9 }).length;

/** Bytes of every file under dir (symlinks not followed), and the files themselves. */
function walk(dir, out = []) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (e.isFile()) out.push([p, statSync(p).size]);
  }
  return out;
}
const total = (files) => files.reduce((s, [, n]) => s + n, 0);

const work = mkdtempSync(join(tmpdir(), 'scratchnet-size-'));
try {
  const tarball = join(work, execFileSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', work], { cwd: root, encoding: 'utf8' }).trim().split('\n').pop());
  const app = join(work, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  let how = '`npm install --offline` of the packed tarball into an empty app';
  try {
    execFileSync('npm', ['install', '--offline', '--ignore-scripts', '--no-audit', '--no-fund', tarball], { cwd: app, stdio: 'pipe' });
  } catch {
    // no npm cache here: unpack as npm would, dependencies (and theirs) from this checkout
    how = 'the packed tarball unpacked, its dependencies copied from this checkout (npm install --offline failed)';
    const pkg = join(app, 'node_modules/scratchnet');
    mkdirSync(pkg, { recursive: true });
    execFileSync('tar', ['xzf', tarball, '-C', pkg, '--strip-components=1']);
    const todo = Object.keys(JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')).dependencies ?? {});
    for (let dep; (dep = todo.pop()) !== undefined;) {
      const to = join(app, 'node_modules', dep);
      if (existsSync(to)) continue;
      cpSync(join(root, 'node_modules', dep), to, { recursive: true, dereference: true });
      todo.push(...Object.keys(JSON.parse(readFileSync(join(to, 'package.json'), 'utf8')).dependencies ?? {}));
    }
  }
  const nm = join(app, 'node_modules');
  const packages = readdirSync(nm).filter((d) => !d.startsWith('.')).sort();
  const own = walk(join(nm, 'scratchnet'));
  const part = (test) => total(own.filter(([p]) => test(relative(join(nm, 'scratchnet'), p))));
  const out = [];
  out.push(`- Installed (${how}): **${kb(total(walk(nm)))} KB** in node_modules, ${packages.length} packages (${packages.map((p) => `${p} ${kb(total(walk(join(nm, p))))} KB`).join(', ')}); the tarball is ${kb(statSync(tarball).size)} KB.`);
  out.push(`- Of scratchnet's ${kb(total(own))} KB: dist/ JavaScript ${kb(part((p) => p.startsWith('dist/') && p.endsWith('.js') && !p.startsWith('dist/playground/')))} KB, type declarations ${kb(part((p) => p.endsWith('.d.ts')))} KB, source maps ${kb(part((p) => p.endsWith('.map')))} KB, the four .wasm builds ${kb(part((p) => p.endsWith('.wasm')))} KB, the playground ${kb(part((p) => p.startsWith('dist/playground/') && !p.endsWith('.map')))} KB, the TypeScript sources ${kb(part((p) => p.startsWith('src/')))} KB, assets/ ${kb(part((p) => p.startsWith('assets/')))} KB; the inline copy of the kernels is ${kb(part((p) => /kernels-inline\.(js|ts|d\.ts|js\.map)$/.test(p)))} KB of it (in dist/ and src/).`);

  // A minimal training page.
  writeFileSync(join(app, 'main.js'), [
    "import { Adam, Random, SimpleConvNet, randn, ready } from 'scratchnet';",
    'await ready();',
    "const net = new SimpleConvNet({ seed: 1, weightInitStd: 'he' });",
    'const optimizer = new Adam({ lr: 0.001 });',
    'const x = randn(new Random(2), [8, 1, 28, 28]);',
    'const t = Int32Array.from({ length: 8 }, (_, i) => i % 10);',
    'for (let i = 0; i < 10; i++) optimizer.update(net.params, net.gradient(x, t));',
    'document.body.textContent = `loss ${net.loss(x, t)}`;',
    '',
  ].join('\n'));
  writeFileSync(join(app, 'index.html'), '<!doctype html><script type="module" src="./main.js"></script>\n');
  const esbuild = await import('esbuild');
  const bundle = async (external) => {
    const r = await esbuild.build({ absWorkingDir: app, entryPoints: ['main.js'], bundle: true, format: 'esm', minify: true, write: false, logLevel: 'error', external });
    return r.outputFiles[0].contents;
  };
  const full = await bundle([]);
  const lean = await bundle(['*/kernels-inline.js']);
  const wasm = (f) => readFileSync(join(nm, 'scratchnet/dist/wasm', `kernels-${f}.wasm`));
  const fmaShared = wasm('fma-shared');
  out.push('');
  out.push('A minimal training page (`ready()`, SimpleConvNet, Adam, 10 steps), bundled:');
  out.push('');
  out.push('| build | JavaScript min | min+gz | wasm fetched | wasm min+gz | total min+gz |');
  out.push('|---|---:|---:|---|---:|---:|');
  out.push(`| esbuild (esm, minify; the kernels inline) | ${kb(full.length)} KB | ${kb(gz(full))} KB | none | - | ${kb(gz(full))} KB |`);
  out.push(`| of which the inline kernels (both shared builds) | ${kb(full.length - lean.length)} KB | ${kb(gz(full) - gz(lean))} KB | | | |`);
  execFileSync(process.execPath, [join(root, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'error'], { cwd: app, stdio: 'pipe' });
  const assets = walk(join(app, 'dist/assets'));
  const js = assets.filter(([p]) => p.endsWith('.js'));
  const entry = js.filter(([p]) => !p.includes('kernels-inline'));
  const lazy = js.filter(([p]) => p.includes('kernels-inline'));
  const entryGz = entry.reduce((s, [p]) => s + gz(readFileSync(p)), 0);
  out.push(`| Vite (vite build; one .wasm fetched) | ${kb(total(entry))} KB | ${kb(entryGz)} KB | kernels-fma-shared (${kb(fmaShared.length)} KB) | ${kb(gz(fmaShared))} KB | ${kb(entryGz + gz(fmaShared))} KB |`);
  out.push(`| Vite's lazy chunk with the inline kernels (never fetched when the .wasm loads) | ${kb(total(lazy))} KB | ${kb(lazy.reduce((s, [p]) => s + gz(readFileSync(p)), 0))} KB | | | |`);
  out.push('');
  out.push(`- Each .wasm build: ${['fma-shared', 'simd-shared', 'fma', 'simd'].map((f) => `${f} ${kb(wasm(f).length)} KB (${kb(gz(wasm(f)))} KB gz)`).join(', ')}.`);
  process.stdout.write(out.join('\n') + '\n');
} finally {
  rmSync(work, { recursive: true, force: true });
}
