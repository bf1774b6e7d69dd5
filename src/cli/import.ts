// scratchnet import: parameters saved with NumPy (.npz; e.g. the book's Python code,
// numpy.savez('params.npz', **network.params)) -> a scratchnet model file.
// 'simple' reads the SimpleConvNet hyper-parameters off the array shapes (W1: (FN, C, FH, FW),
// W2: (D, hidden), W3: (hidden, classes)); the zoo's networks and spec files need arrays with
// their parameter names and shapes (W1 b1 ... gamma1 beta1 runningMean1 runningVar1 ...).

import { resolve } from 'node:path';
import { FileFormatError, ScratchnetError, UsageError } from '../errors.js';
import { saveModel } from '../io/model-file.js';
import { type NpyArray, readNumpyFile } from '../io/npy.js';
import type { Network } from '../models/network.js';
import { SequentialNetwork } from '../models/sequential.js';
import { SimpleConvNet } from '../models/simple-convnet.js';
import { isSpecPath, readSpecFile, ZOO_NAMES, zooSpec } from '../models/zoo.js';
import { checkOutputPath, refuseOverlaps } from './paths.js';
import { type CommandSpec, formatHelp, parseArgs, requireFlag } from './args.js';
import type { Io } from './io.js';

export const importSpec: CommandSpec = {
  name: 'import',
  summary: 'Turn NumPy parameters (.npz, e.g. saved from the book\'s Python code) into a scratchnet model file.',
  usage: 'scratchnet import --npz PARAMS.npz --model simple --out FILE [--input C,H,W] [--pad N] [--stride N]',
  flags: {
    npz: { type: 'string', description: "arrays named as the model's parameters (W1 b1 W2 b2 W3 b3 for simple); .npz or a single .npy", value: 'FILE' },
    model: { type: 'string', default: 'simple', description: `the network: simple (SimpleConvNet, sizes read off the arrays), ${ZOO_NAMES.filter((n) => n !== 'simple').join(', ')}, or a JSON spec file`, value: 'NAME|FILE' },
    out: { type: 'string', description: 'model file to write', value: 'FILE' },
    input: { type: 'string', default: '1,28,28', description: 'input image shape C,H,W', value: 'C,H,W' },
    pad: { type: 'int', default: 0, min: 0, description: "simple: the convolution's padding (not visible in the arrays)", value: 'N' },
    stride: { type: 'int', default: 1, min: 1, description: "simple: the convolution's stride (not visible in the arrays)", value: 'N' },
  },
};

function parseInput(raw: string): [number, number, number] {
  const parts = raw.split(',').map((s) => Number(s.trim()));
  if (parts.length !== 3 || parts.some((d) => !Number.isInteger(d) || d < 1)) throw new UsageError(`--input must be C,H,W (three positive integers), got '${raw}'`);
  return parts as [number, number, number];
}

function shapeOf(arrays: Record<string, NpyArray>, name: string, rank: number, file: string): number[] {
  const a = arrays[name];
  if (!a) throw new FileFormatError(file, `no array ${name} (found: ${Object.keys(arrays).join(' ') || 'none'})`);
  if (a.shape.length !== rank) throw new FileFormatError(file, `${name} has shape (${a.shape.join(', ')}), expected ${rank} dimensions`);
  return a.shape;
}

/** SimpleConvNet sized from the arrays; the flags give what the arrays do not show. */
function simpleFromArrays(arrays: Record<string, NpyArray>, file: string, input: [number, number, number], pad: number, stride: number): Network {
  const [filterNum, channels, filterSize, filterWidth] = shapeOf(arrays, 'W1', 4, file);
  const [, hiddenSize] = shapeOf(arrays, 'W2', 2, file);
  const [, outputSize] = shapeOf(arrays, 'W3', 2, file);
  if (filterSize !== filterWidth) throw new FileFormatError(file, `W1 has ${filterSize}x${filterWidth} filters; SimpleConvNet's are square`);
  if (channels !== input[0]) throw new UsageError(`W1 takes ${channels} input channels but --input says ${input[0]}`);
  try {
    return new SimpleConvNet({ inputDim: input, convParam: { filterNum, filterSize, pad, stride }, hiddenSize, outputSize });
  } catch (e) {
    if (e instanceof ScratchnetError) throw new FileFormatError(file, `the arrays do not make a SimpleConvNet for ${input.join('x')} inputs: ${e.message}`);
    throw e;
  }
}

/** Copy arrays into the network's parameters and buffers; every name must be there with its exact shape. */
export function loadArraysInto(network: Network, arrays: Record<string, NpyArray>, file: string, hint = ''): void {
  const targets = { ...network.params, ...((network as { buffers?: Network['params'] }).buffers ?? {}) };
  for (const [name, t] of Object.entries(targets)) {
    const a = arrays[name];
    if (!a) throw new FileFormatError(file, `no array ${name} (the model needs ${Object.keys(targets).join(' ')})`);
    if (a.shape.length !== t.shape.length || a.shape.some((d, i) => d !== t.shape[i])) {
      throw new FileFormatError(file, `${name} has shape (${a.shape.join(', ')}) but the model needs (${t.shape.join(', ')})${hint}`);
    }
    for (let i = 0; i < a.data.length; i++) {
      if (!Number.isFinite(a.data[i])) throw new FileFormatError(file, `${name} contains a non-finite value (${a.data[i]}) at index ${i}`);
    }
    t.data.set(a.data);
  }
  const extra = Object.keys(arrays).filter((k) => !(k in targets));
  if (extra.length > 0) throw new FileFormatError(file, `array ${extra[0]} is not a parameter of the model (it needs ${Object.keys(targets).join(' ')})`);
}

export async function importCommand(argv: string[], io: Io): Promise<number> {
  const { flags, help } = parseArgs(importSpec, argv);
  if (help) {
    io.out(formatHelp(importSpec));
    return 0;
  }
  const file = requireFlag(importSpec, flags, 'npz');
  const outPath = requireFlag(importSpec, flags, 'out');
  const model = flags.model as string;
  const input = parseInput(flags.input as string);
  const inputs = [{ flag: '--npz', path: file }, ...(isSpecPath(model) ? [{ flag: '--model', path: model }] : [])];
  await refuseOverlaps([{ flag: '--out', path: outPath }], inputs);
  await checkOutputPath(outPath, 'the model');

  const arrays = await readNumpyFile(file);
  let network: Network;
  let hint = '';
  if (model === 'simple') {
    network = simpleFromArrays(arrays, file, input, flags.pad as number, flags.stride as number);
    hint = ' (check --input, --pad and --stride)';
  } else {
    const spec = isSpecPath(model) ? await readSpecFile(model) : zooSpec(model, { input });
    network = new SequentialNetwork(spec);
  }
  loadArraysInto(network, arrays, file, hint);
  const dtypes = [...new Set(Object.values(arrays).map((a) => a.dtype))].join('/');
  await saveModel(network, outPath, { importedFrom: resolve(file) });
  io.out(`imported ${Object.keys(arrays).length} arrays (${dtypes}) from ${file} into ${model === 'simple' ? 'SimpleConvNet' : model} (${network.parameterCount.toLocaleString('en-US')} parameters, float32); saved ${outPath}`);
  return 0;
}
