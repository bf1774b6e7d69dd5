#!/usr/bin/env node
// Entry point of the `scratchnet` binary (see cli.ts for the commands).

import { run } from './cli.js';

run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`scratchnet: internal error (please report): ${e instanceof Error ? e.stack : String(e)}\n`);
    process.exitCode = 70;
  },
);
