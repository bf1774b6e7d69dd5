// scratchnet eval: accuracy of a saved model on the full test set, with a confusion matrix.

import { backendNames, getBackend, setThreads } from '../backend/registry.js';
import { ScratchnetError } from '../errors.js';
import { loadMnist } from '../data/mnist.js';
import { readModelInput } from './model-input.js';
import type { Network } from '../models/network.js';
import type { Tensor } from '../tensor.js';
import { evaluateNetwork } from '../viz/evaluate.js';
import { type CommandSpec, formatHelp, parseArgs, requireFlag } from './args.js';
import type { Io } from './io.js';

export const evalSpec: CommandSpec = {
  name: 'eval',
  summary: 'Measure a saved model on the full test set and print a confusion matrix.',
  usage: 'scratchnet eval --model FILE [--data DIR]',
  flags: {
    model: { type: 'string', description: 'model file written by scratchnet train', value: 'FILE' },
    data: { type: 'string', description: 'folder with IDX files (default: the bundled MNIST)', value: 'DIR' },
    backend: { type: 'string', default: getBackend().name, choices: backendNames(), description: 'compute backend (wasm: WebAssembly SIMD kernels; js: the reference loops)', value: 'NAME' },
    threads: { type: 'int', min: 1, max: 256, description: 'threads for the wasm backend (default: all available cores)', value: 'N' },
  },
};

/** The test images must have the shape the model was built for (eval and report). */
export function checkTestImages(modelPath: string, network: Network, x: Tensor): void {
  if (x.shape.slice(1).join('x') !== network.inputShape.join('x')) {
    throw new ScratchnetError(`${modelPath}: model expects inputs of ${network.inputShape.join('x')}, the test images are ${x.shape.slice(1).join('x')}`);
  }
}

export function formatConfusion(m: number[][]): string {
  const width = Math.max(5, ...m.flat().map((v) => String(v).length + 1));
  const head = 'true\\pred'.padEnd(10) + m.map((_, j) => String(j).padStart(width)).join('') + '   recall';
  const rows = m.map((row, i) => {
    const total = row.reduce((a, b) => a + b, 0);
    const recall = total ? ((100 * row[i]) / total).toFixed(1) + '%' : '-';
    return String(i).padEnd(10) + row.map((v) => String(v).padStart(width)).join('') + recall.padStart(9);
  });
  return [head, ...rows].join('\n');
}

export async function evalCommand(argv: string[], io: Io): Promise<number> {
  const { flags, help } = parseArgs(evalSpec, argv);
  if (flags.threads !== undefined) setThreads(flags.threads as number);
  if (help) {
    io.out(formatHelp(evalSpec));
    return 0;
  }
  const modelPath = requireFlag(evalSpec, flags, 'model');
  const { network, spec } = await readModelInput(modelPath, { backend: flags.backend as string });
  const data = await loadMnist({ flatten: false, dir: flags.data as string | undefined, split: 'test' });
  const { x, t } = data.test;
  checkTestImages(modelPath, network, x);
  const { correct, total, confusion } = evaluateNetwork(network, x, t);
  io.out(`model: ${modelPath} (${typeof spec.name === 'string' ? spec.name : spec.model}, ${network.parameterCount.toLocaleString('en-US')} parameters)`);
  io.out(`test accuracy: ${((100 * correct) / total).toFixed(2)}% (${correct}/${total})`);
  io.out('');
  io.out(formatConfusion(confusion));
  return 0;
}
