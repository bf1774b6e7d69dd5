// Builds the playground (playground/*.ts + index.html + style.css) into dist/playground with
// esbuild: app.js for the page, worker.js for the trainer worker (src/worker/trainer-worker.ts).
// Both are ES modules for browsers; the .wasm kernels are not copied: `scratchnet serve` serves
// dist/wasm under /wasm/ and the page names that folder (ready({ wasmPaths }), worker.js?wasm=).
// Usage: node scripts/build-playground.mjs [--outdir DIR] [--sourcemap]

import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const esbuild = require('esbuild'); // present through tsx (a devDependency)
const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const at = args.indexOf('--outdir');
const outdir = at >= 0 ? args[at + 1] : `${root}dist/playground`;

mkdirSync(outdir, { recursive: true });
const common = {
  bundle: true, format: 'esm', platform: 'browser', target: 'es2022', minify: true,
  sourcemap: args.includes('--sourcemap'), logLevel: 'warning', legalComments: 'none',
  // Node built-ins are reached only through process.getBuiltinModule (never in a page); a
  // static node:* import left anywhere would fail the build here, loudly, rather than the page.
};
const started = Date.now();
await Promise.all([
  esbuild.build({ ...common, entryPoints: [`${root}playground/main.ts`], outfile: `${outdir}/app.js` }),
  esbuild.build({ ...common, entryPoints: [`${root}src/worker/trainer-worker.ts`], outfile: `${outdir}/worker.js` }),
]);
for (const f of ['index.html', 'style.css']) copyFileSync(`${root}playground/${f}`, `${outdir}/${f}`);
console.log(`playground built into ${outdir} in ${Date.now() - started} ms`);
