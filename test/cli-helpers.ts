// Running the command line inside the test process, and checking its one-line errors: shared by
// the CLI tests of every area (core, wasm, pictures, zoo, resume).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultMnistDir } from '../src/data/mnist.js';
import { run } from '../src/cli/cli.js';
import type { Io } from '../src/cli/io.js';

export interface Result { code: number; stdout: string; stderr: string }

/** Run `scratchnet ARGV...` in-process with captured output. */
export async function cli(...argv: string[]): Promise<Result> {
  let stdout = '', stderr = '';
  const io: Io = { out: (l) => (stdout += l + '\n'), err: (l) => (stderr += l + '\n'), progress: { write: () => true, isTTY: false } };
  const code = await run(argv, io);
  return { code, stdout, stderr };
}

/** The exit code, exactly one line on stderr matching every pattern, and no stack trace. */
export function assertOneLineError(r: Result, code: number, ...patterns: RegExp[]): void {
  assert.equal(r.code, code, `exit code (stderr: ${r.stderr})`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line, got: ${r.stderr}`);
  for (const p of patterns) assert.match(lines[0], p);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
}

/** An IDX data set of the first `trainN` training and `testN` test MNIST digits, written to
 *  `folder` under MNIST's file names (trainN 0: only the two t10k-* files). */
export function smallMnist(folder: string, trainN: number, testN: number): string {
  mkdirSync(folder, { recursive: true });
  const src = defaultMnistDir();
  const copy = (name: string, n: number, per: number, headerLength: number) => {
    const bytes = readFileSync(join(src, name));
    const head = Buffer.from(bytes.subarray(0, headerLength));
    head.writeUInt32BE(n, 4);
    writeFileSync(join(folder, name), Buffer.concat([head, bytes.subarray(headerLength, headerLength + n * per)]));
  };
  if (trainN > 0) {
    copy('train-images-idx3-ubyte', trainN, 784, 16);
    copy('train-labels-idx1-ubyte', trainN, 1, 8);
  }
  copy('t10k-images-idx3-ubyte', testN, 784, 16);
  copy('t10k-labels-idx1-ubyte', testN, 1, 8);
  return folder;
}

const MAIN_TS = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const TSX = fileURLToPath(new URL('../node_modules/tsx/dist/esm/index.mjs', import.meta.url));

/** The real command (src/cli/main.ts through tsx) as a child process, output collected. */
/** Start the real command through tsx; `slowWrites`: checkpoint writes take SLOW_WRITE_MS
 *  (the preload test/fixtures/slow-writes.ts), so a test can interrupt one. */
export function spawnCli(argv: string[], options: { env?: Record<string, string>; cwd?: string; slowWrites?: boolean } = {}) {
  const preload = options.slowWrites ? ['--import', fileURLToPath(new URL('./fixtures/slow-writes.ts', import.meta.url))] : [];
  const proc = spawn(process.execPath, ['--import', TSX, ...preload, MAIN_TS, ...argv], { env: { ...process.env, ...options.env }, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '', stderr = '';
  proc.stdout.on('data', (d) => (stdout += d));
  proc.stderr.on('data', (d) => (stderr += d));
  const done = new Promise<Result & { signal: NodeJS.Signals | null }>((resolve) => {
    proc.on('close', (code, signal) => resolve({ code: code ?? -1, signal, stdout, stderr }));
  });
  return { proc, done, stderr: () => stderr, stdout: () => stdout };
}
