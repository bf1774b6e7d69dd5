// The `scratchnet` command: train, eval and predict. User errors (bad flags, bad files) are
// one line on stderr and a non-zero exit (2 for usage, 1 for bad input); only a bug in
// scratchnet itself prints a stack trace.

import { readFileSync } from 'node:fs';
import { backendNames } from '../backend/registry.js';
import { ScratchnetError, UsageError } from '../errors.js';
import { parseIntValue } from './args.js';
import { evalCommand } from './eval.js';
import { exportCommand } from './export.js';
import { importCommand } from './import.js';
import { type Io, processIo } from './io.js';
import { predictCommand } from './predict.js';
import { reportCommand } from './report.js';
import { serveCommand } from './serve.js';
import { modelsCommand } from './models.js';
import { trainCommand } from './train.js';
import { vizCommand } from './viz.js';

type Command = (argv: string[], io: Io) => Promise<number>;

const commands: Record<string, [Command, string]> = {
  train: [trainCommand, 'train a network (SimpleConvNet, lenet, alexnet, deep or a spec file) on MNIST and save the model'],
  models: [modelsCommand, 'list the built-in networks with their layer tables'],
  eval: [evalCommand, 'accuracy and confusion matrix of a saved model on the test set'],
  predict: [predictCommand, 'classify PNG/JPEG digit images with a saved model'],
  export: [exportCommand, 'write a saved model as an ONNX file'],
  import: [importCommand, 'make a model file from NumPy parameters (.npz)'],
  viz: [vizCommand, 'draw filters, feature maps, layer outputs, curves, confusion matrix, mistakes'],
  report: [reportCommand, 'write a self-contained HTML report about a saved model'],
  serve: [serveCommand, 'start the playground in the browser (train, draw, inspect) on a local server'],
};

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function usage(): string {
  const lines = ['scratchnet: convolutional neural networks from scratch', '', 'Usage: scratchnet <command> [options]', '', 'Commands:'];
  for (const [name, [, summary]] of Object.entries(commands)) lines.push(`  ${name.padEnd(10)}${summary}`);
  lines.push('', "Run 'scratchnet <command> --help' for a command's options.");
  return lines.join('\n');
}

/** The environment settings the library reads (SCRATCHNET_BACKEND, SCRATCHNET_THREADS) are
 *  ignored there when bad; a command refuses them instead of running with something else. */
export function checkEnvironment(env: NodeJS.ProcessEnv = process.env): void {
  const backend = env.SCRATCHNET_BACKEND;
  if (backend !== undefined && backend !== '') {
    const names = [...new Set([...backendNames(), 'js', 'wasm'])];
    if (!names.includes(backend)) throw new UsageError(`SCRATCHNET_BACKEND must be one of ${names.join(', ')}, got '${backend}'`);
  }
  const threads = env.SCRATCHNET_THREADS;
  if (threads !== undefined && threads !== '') parseIntValue('SCRATCHNET_THREADS', threads, 1, 256);
}

export async function run(argv: string[], io: Io = processIo): Promise<number> {
  let [name, ...rest] = argv;
  try {
    // `scratchnet help train` is `scratchnet train --help`.
    if (name === 'help' && rest.length > 0) {
      if (!commands[rest[0]]) throw new UsageError(`unknown command '${rest[0]}' (commands: ${Object.keys(commands).join(', ')})`);
      if (rest.length > 1) throw new UsageError(`help takes one command name, got '${rest.slice(1).join(' ')}' too`);
      [name, rest] = [rest[0], ['--help']];
    }
    if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
      io.out(usage());
      return name === undefined ? 2 : 0;
    }
    if (name === '--version' || name === '-v') {
      io.out(version());
      return 0;
    }
    const entry = commands[name];
    if (!entry) throw new UsageError(`unknown command '${name}' (commands: ${Object.keys(commands).join(', ')})`);
    checkEnvironment();
    return await entry[0](rest, io);
  } catch (e) {
    if (e instanceof ScratchnetError) {
      io.err(`scratchnet${name && commands[name] ? ` ${name}` : ''}: ${e.message.split('\n')[0]}`);
      return e.exitCode;
    }
    throw e;
  }
}
