// Builds the WebAssembly kernels from assembly/kernels.ts (AssemblyScript) into dist/wasm/:
//   kernels-simd.wasm         plain SIMD, ordinary imported memory (browsers without isolation)
//   kernels-fma.wasm          + relaxed-SIMD fused multiply-add
//   kernels-simd-shared.wasm  plain SIMD, imported *shared* memory (thread pool; Node)
//   kernels-fma-shared.wasm   + relaxed-SIMD FMA
// The loader (src/backend/wasm/loader.ts) probes relaxed SIMD, checks the \0asm magic and picks one
// at run time; assembly/kernels.ts shares its job-record constants with TypeScript through
// src/backend/wasm/abi.ts.
// Run by `npm run build` (build:wasm); the .wasm files are never committed.

import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import asc from 'assemblyscript/asc';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'dist', 'wasm');
mkdirSync(outDir, { recursive: true });

const common = [
  join(root, 'assembly', 'kernels.ts'),
  '-O3', '--runtime', 'stub', '--noAssert', '--importMemory', '--noExportMemory',
  // static data (if any) stays below 1 KiB; the JS allocator starts above 64 KiB
  '--memoryBase', '1024', '--initialMemory', '2', '--maximumMemory', '65536',
  '--enable', 'simd',
];
const variants = [
  ['kernels-simd.wasm', []],
  ['kernels-fma.wasm', ['--enable', 'relaxed-simd']],
  ['kernels-simd-shared.wasm', ['--sharedMemory', '--enable', 'threads']],
  ['kernels-fma-shared.wasm', ['--enable', 'relaxed-simd', '--sharedMemory', '--enable', 'threads']],
];

let failed = false;
await Promise.all(variants.map(async ([name, flags]) => {
  const { error, stderr } = await asc.main([...common, ...flags, '--outFile', join(outDir, name)]);
  if (error) {
    failed = true;
    process.stderr.write(`build-wasm: ${name} failed: ${error.message}\n${stderr.toString()}\n`);
  }
}));
if (failed) process.exit(1);
process.stdout.write(`build-wasm: ${variants.length} modules in ${outDir}\n`);
