// Running the command line inside the test process, and checking its one-line errors: shared by
// the CLI tests of every area (core, wasm, pictures, zoo, resume).

import assert from 'node:assert/strict';
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
