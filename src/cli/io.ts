// Where a command writes: results to stdout, progress and diagnostics to stderr. Passed in so
// tests can capture output.

import type { ProgressStream } from './progress.js';

export interface Io {
  out(line: string): void;
  err(line: string): void;
  progress: ProgressStream;
}

export const processIo: Io = {
  out: (line) => process.stdout.write(line + '\n'),
  err: (line) => process.stderr.write(line + '\n'),
  progress: process.stderr,
};
