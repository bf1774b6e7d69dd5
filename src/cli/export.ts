// scratchnet export: a saved model as an ONNX file (see io/onnx.ts for the mapping).

import { dirname, resolve } from 'node:path';
import { stat } from 'node:fs/promises';
import { ScratchnetError } from '../errors.js';
import { readModelFile } from '../io/model-file.js';
import { ONNX_MAX_OPSET, ONNX_MIN_OPSET, saveOnnx } from '../io/onnx.js';
import { type CommandSpec, formatHelp, parseArgs, requireFlag } from './args.js';
import type { Io } from './io.js';

export const exportSpec: CommandSpec = {
  name: 'export',
  summary: 'Export a saved model to ONNX (inputs "input" (N, C, H, W); outputs "scores" and "probabilities").',
  usage: 'scratchnet export --model FILE --onnx OUT.onnx [--opset N]',
  flags: {
    model: { type: 'string', description: 'model file written by scratchnet train or import', value: 'FILE' },
    onnx: { type: 'string', description: 'ONNX file to write', value: 'FILE' },
    opset: { type: 'int', default: ONNX_MIN_OPSET, min: ONNX_MIN_OPSET, max: ONNX_MAX_OPSET, description: 'ONNX operator set version', value: 'N' },
  },
};

export async function exportCommand(argv: string[], io: Io): Promise<number> {
  const { flags, help } = parseArgs(exportSpec, argv);
  if (help) {
    io.out(formatHelp(exportSpec));
    return 0;
  }
  const modelPath = requireFlag(exportSpec, flags, 'model');
  const onnxPath = requireFlag(exportSpec, flags, 'onnx');
  const folder = dirname(resolve(onnxPath));
  if (!(await stat(folder).catch(() => null))?.isDirectory()) throw new ScratchnetError(`${onnxPath}: cannot write there: folder ${folder} does not exist`);
  const { network } = await readModelFile(modelPath);
  const summary = await saveOnnx(network, onnxPath, { opset: flags.opset as number });
  io.out(`wrote ${onnxPath}: ONNX opset ${summary.opset}, ${summary.nodes.length} nodes (${summary.nodes.join(' ')}), input (${summary.inputShape.join(', ')}), outputs scores and probabilities (${summary.outputShape.join(', ')})`);
  return 0;
}
