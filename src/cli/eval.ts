// scratchnet eval: accuracy of a saved model on the full test set, with a confusion matrix.

import { backendNames } from '../backend/backend.js';
import { ScratchnetError } from '../errors.js';
import { loadMnist } from '../data/mnist.js';
import { readModelFile } from '../io/model-file.js';
import { type CommandSpec, formatHelp, parseArgs, requireFlag } from './args.js';
import type { Io } from './io.js';

export const evalSpec: CommandSpec = {
  name: 'eval',
  summary: 'Measure a saved model on the full test set and print a confusion matrix.',
  usage: 'scratchnet eval --model FILE [--data DIR]',
  flags: {
    model: { type: 'string', description: 'model file written by scratchnet train', value: 'FILE' },
    data: { type: 'string', description: 'folder with IDX files (default: the bundled MNIST)', value: 'DIR' },
    backend: { type: 'string', default: 'js', choices: backendNames(), description: 'compute backend', value: 'NAME' },
  },
};

/** confusion[true][predicted] counts. */
export function confusionMatrix(truth: Int32Array, predicted: Int32Array, classes: number): number[][] {
  const m = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (let i = 0; i < truth.length; i++) m[truth[i]][predicted[i]]++;
  return m;
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
  if (help) {
    io.out(formatHelp(evalSpec));
    return 0;
  }
  const modelPath = requireFlag(evalSpec, flags, 'model');
  const { network, spec } = await readModelFile(modelPath, { backend: flags.backend as string });
  const data = await loadMnist({ flatten: false, dir: flags.data as string | undefined });
  const { x, t } = data.test;
  if (x.shape.slice(1).join('x') !== network.inputShape.join('x')) {
    throw new ScratchnetError(`${modelPath}: model expects inputs of ${network.inputShape.join('x')}, the test images are ${x.shape.slice(1).join('x')}`);
  }
  const predicted = new Int32Array(x.shape[0]);
  for (let start = 0; start < x.shape[0]; start += 100) {
    const end = Math.min(x.shape[0], start + 100);
    predicted.set(network.classify(x.sliceRows(start, end)), start);
  }
  const classes = network.outputSize;
  let correct = 0;
  for (let i = 0; i < t.length; i++) {
    if (t[i] >= classes) throw new ScratchnetError(`test label ${t[i]} at index ${i} is outside the model's ${classes} classes`);
    if (predicted[i] === t[i]) correct++;
  }
  io.out(`model: ${modelPath} (${spec.model}, ${network.parameterCount.toLocaleString('en-US')} parameters)`);
  io.out(`test accuracy: ${((100 * correct) / t.length).toFixed(2)}% (${correct}/${t.length})`);
  io.out('');
  io.out(formatConfusion(confusionMatrix(t, predicted, classes)));
  return 0;
}
