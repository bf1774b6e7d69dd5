#!/usr/bin/env node
// Entry point of the `scratchnet` binary (see cli.ts for the commands).

import { run } from './cli.js';

// A reader that stops early (`scratchnet models | head -1`) closes the pipe; the next write
// fails with EPIPE, which Node reports as an unhandled 'error' event with a stack trace. A
// closed output is the reader's choice, not a failure: stop quietly, exit code 0 (the work
// left would only produce output nobody reads; checkpoints and models are written atomically,
// so stopping mid-write loses nothing).
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED') process.exit(0);
    throw e;
  });
}

run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`scratchnet: internal error (please report): ${e instanceof Error ? e.stack : String(e)}\n`);
    process.exitCode = 70;
  },
);
