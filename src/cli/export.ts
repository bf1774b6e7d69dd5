// scratchnet export: a saved model as an ONNX file (see io/onnx.ts for the mapping).

import { readModelInput } from './model-input.js';
import { checkOutputPath, refuseOverlaps } from './paths.js';
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
  await refuseOverlaps([{ flag: '--onnx', path: onnxPath }], [{ flag: '--model', path: modelPath }]);
  await checkOutputPath(onnxPath, 'the ONNX file');
  const { network } = await readModelInput(modelPath);
  const summary = await saveOnnx(network, onnxPath, { opset: flags.opset as number });
  io.out(`wrote ${onnxPath}: ONNX opset ${summary.opset}, ${summary.nodes.length} nodes (${summary.nodes.join(' ')}), input (${summary.inputShape.join(', ')}), outputs scores and probabilities (${summary.outputShape.join(', ')})`);
  return 0;
}
