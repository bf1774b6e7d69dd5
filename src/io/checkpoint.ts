// Training checkpoints: everything a run needs to continue exactly where it stopped, in one
// safetensors file, so that a resumed run ends with parameters bit-identical to an
// uninterrupted one (same seed, same backend).
//
//   tensors
//     param.<name>          the network's state dictionary (network.stateDict(): parameters
//                           W1 b1 ... and buffers runningMean1 ..., the names model files use)
//     optimizer.<key>       the optimizer's stateTensors() (Adam: m.W1 ... v.W1 ..., AdaGrad: h.*,
//                           Momentum: v.*); Adam's step count is in the metadata (exact integer)
//     trainer.order         I32: the current epoch's permutation of the training set
//     history.trainLoss     F64: every step's loss so far
//     history.trainAcc      F64, history.testAcc F64: per-epoch accuracies so far
//   __metadata__
//     format "scratchnet-checkpoint", format_version "2"
//     spec     the model spec (JSON), as in model files
//     config   the training settings (JSON: epochs, batch size, optimizer, lr, seed, data ...)
//     state    JSON: { step, epoch, rng: {s, spare}, optimizer: {name, iter},
//              generators: {"Dropout1.rng": {s, spare}} } (the state dictionary's generators)
// Version 1 (scratchnet 0.1) is still read: it stored buffers as layer.<layer>.<key>
// (layer.BatchNorm1.runningMean) and the generators as state.layerRng.
//
// Writes are atomic (io/atomic.ts: temp file in the same folder, fsync, rename, fsync the
// folder): a crash or SIGKILL at any moment leaves the previous checkpoint intact. Reads validate everything.

import type { Backend } from '../backend/backend.js';
import { FileFormatError, ScratchnetError } from '../errors.js';
import type { ModelSpec, Network } from '../models/network.js';
import { legacySpec } from '../models/registry.js';
import { layerNames } from '../models/sequential.js';
import { checkSpec } from '../models/spec.js';
import { type Optimizer, zerosLike } from '../optimizers/optimizer.js';
import type { RandomState } from '../random.js';
import { Tensor } from '../tensor.js';
import type { Trainer, TrainerState } from '../train/trainer.js';
import { removeStaleTemps, writeFileAtomic } from './atomic.js';
import { printable } from './npy.js';
import { networkFromTensors } from './model-file.js';
import { decodeSafetensors, encodeSafetensors, type NamedTensor, readSafetensorsFile } from './safetensors.js';

export const CHECKPOINT_FORMAT = 'scratchnet-checkpoint';
export const CHECKPOINT_FORMAT_VERSION = '2';
const CHECKPOINT_EXPECTED = 'a scratchnet checkpoint (safetensors)';

/** Training settings stored with a checkpoint (free-form JSON; the CLI stores its flags). */
export type CheckpointConfig = Record<string, unknown>;

export interface Checkpoint {
  /** The network, rebuilt from the spec, with the saved parameters and layer state. */
  network: Network;
  spec: ModelSpec;
  config: CheckpointConfig;
  trainer: TrainerState;
  optimizerName: string;
  /** Optimizer state tensors by stateTensors() key (e.g. m.W1), plus the step count. */
  optimizerState: Record<string, Tensor>;
  optimizerIter: number | null;
}

/** Version 1's name for each buffer of the state dictionary (runningMean1 was stored as
 *  layer.BatchNorm1.runningMean), from the spec alone. */
function v1BufferNames(spec: ModelSpec): Map<string, string> {
  const out = new Map<string, string>();
  for (const { name, buffers } of layerNames(checkSpec(legacySpec(spec)))) {
    for (const [publicName, key] of Object.entries(buffers)) out.set(publicName, `layer.${name}.${key}`);
  }
  return out;
}

/** The checkpoint's bytes for a trainer (its network, optimizer and progress) and settings. */
export function encodeCheckpoint(trainer: Trainer, config: CheckpointConfig): Uint8Array {
  const network = trainer.network;
  const state = trainer.getState();
  const dict = network.stateDict();
  const tensors: Record<string, NamedTensor | Tensor> = {};
  for (const [name, t] of Object.entries(dict.tensors)) tensors[`param.${name}`] = t;
  const optimizer = trainer.optimizer;
  let optimizerIter: number | null = null;
  for (const [key, t] of Object.entries(optimizer.stateTensors())) {
    // Adam's step count: an exact integer in the metadata rather than a float32 tensor.
    if (key === 'iter') optimizerIter = t.data[0];
    else tensors[`optimizer.${key}`] = t;
  }
  if (state.order) tensors['trainer.order'] = { dtype: 'I32', shape: [state.order.length], data: state.order };
  const f64 = (a: number[]): NamedTensor => ({ dtype: 'F64', shape: [a.length], data: Float64Array.from(a) });
  tensors['history.trainLoss'] = f64(state.trainLossList);
  tensors['history.trainAcc'] = f64(state.trainAccList);
  tensors['history.testAcc'] = f64(state.testAccList);
  const generators: Record<string, RandomState> = {};
  for (const [k, r] of Object.entries(dict.generators)) generators[k] = r.getState();
  const meta = {
    step: state.step,
    epoch: state.epoch,
    rng: state.rng,
    optimizer: { name: optimizer.name, iter: optimizerIter },
    generators,
  };
  return encodeSafetensors(tensors, {
    format: CHECKPOINT_FORMAT,
    format_version: CHECKPOINT_FORMAT_VERSION,
    spec: JSON.stringify(network.spec()),
    config: JSON.stringify(config),
    state: JSON.stringify(meta),
  });
}

function isRandomState(v: unknown): v is RandomState {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as { s?: unknown; spare?: unknown };
  return Array.isArray(r.s) && r.s.length === 4 && r.s.every((x) => Number.isInteger(x) && x >= -0x80000000 && x <= 0xffffffff)
    && (r.s as number[]).some((x) => x !== 0)
    && (r.spare === null || (typeof r.spare === 'number' && Number.isFinite(r.spare)));
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** Validate checkpoint bytes and rebuild the network; `file` names the source in errors. */
export function decodeCheckpoint(bytes: Uint8Array, file: string, options: { backend?: Backend | string } = {}): Checkpoint {
  const fail = (problem: string): never => {
    throw new FileFormatError(file, printable(problem));
  };
  const { tensors, metadata } = decodeSafetensors(bytes, file, { expected: CHECKPOINT_EXPECTED });
  if (metadata.format !== CHECKPOINT_FORMAT) {
    fail(metadata.format === 'scratchnet' ? 'this is a model file, not a training checkpoint (checkpoints are written by train --checkpoint-every or when a run is interrupted)' : 'not a scratchnet checkpoint');
  }
  const version = metadata.format_version;
  if (version !== '1' && version !== CHECKPOINT_FORMAT_VERSION) fail(`checkpoint format version ${version} is not supported (this scratchnet reads versions 1 and ${CHECKPOINT_FORMAT_VERSION})`);
  const json = (key: string): unknown => {
    if (metadata[key] === undefined) fail(`metadata has no "${key}"`);
    try {
      return JSON.parse(metadata[key]);
    } catch {
      return fail(`metadata field "${key}" is not valid JSON`);
    }
  };
  const spec = json('spec') as ModelSpec;
  const config = json('config');
  if (typeof config !== 'object' || config === null || Array.isArray(config)) fail('metadata field "config" is not an object');
  const meta = json('state') as Record<string, unknown>;
  if (typeof meta !== 'object' || meta === null) fail('metadata field "state" is not an object');
  if (!isCount(meta.step) || !isCount(meta.epoch)) fail('state has no valid step / epoch counts');
  if (!isRandomState(meta.rng)) fail('state has no valid random generator state');
  const opt = meta.optimizer as { name?: unknown; iter?: unknown } | undefined;
  if (typeof opt !== 'object' || opt === null || typeof opt.name !== 'string') fail('state has no optimizer name');
  if (opt!.iter !== null && opt!.iter !== undefined && !isCount(opt!.iter)) fail('state has an invalid optimizer step count');

  // The network's state dictionary: param.<name> (version 1: buffers as layer.<layer>.<key>).
  const isState = (k: string) => k.startsWith('param.') || (version === '1' && k.startsWith('layer.'));
  let v1Names: Map<string, string> | null = null;
  if (version === '1') {
    try {
      v1Names = v1BufferNames(spec);
    } catch {
      // a bad spec: networkFromTensors reports it
    }
  }
  const network = networkFromTensors(spec, tensors, file, {
    backend: options.backend,
    other: (k) => !isState(k),
    names: (name) => v1Names?.get(name) ?? `param.${name}`,
  });
  const used = new Set<string>(Object.keys(tensors).filter(isState));
  const savedGenerators = ((version === '1' ? meta.layerRng : meta.generators) ?? {}) as Record<string, unknown>;
  const generators: Record<string, RandomState> = {};
  for (const key of Object.keys(network.stateDict().generators)) {
    const g = savedGenerators[key];
    if (!isRandomState(g)) fail(`state has no valid random generator state for layer ${key}`);
    generators[key] = g as RandomState;
  }
  network.loadStateDict({ tensors: {}, generators }, { tensors: false });

  const optimizerState: Record<string, Tensor> = {};
  for (const [key, t] of Object.entries(tensors)) {
    if (!key.startsWith('optimizer.')) continue;
    if (t.dtype !== 'F32' && t.dtype !== 'F64') fail(`${key} must be F32 or F64, found ${t.dtype}`);
    optimizerState[key.slice('optimizer.'.length)] = new Tensor(t.data as Float32Array | Float64Array, t.shape);
    used.add(key);
  }

  const history = (key: string): number[] => {
    const t = tensors[key];
    if (!t || t.dtype !== 'F64' || t.shape.length !== 1) fail(`missing or malformed ${key}`);
    used.add(key);
    return Array.from(t.data);
  };
  const trainLossList = history('history.trainLoss');
  const trainAccList = history('history.trainAcc');
  const testAccList = history('history.testAcc');
  let order: Int32Array | null = null;
  const o = tensors['trainer.order'];
  if (o) {
    if (o.dtype !== 'I32' || o.shape.length !== 1) fail('trainer.order must be a 1-D I32 tensor');
    order = o.data as Int32Array;
    used.add('trainer.order');
  }
  if (trainLossList.length !== meta.step) fail(`history has ${trainLossList.length} step losses but the state says step ${meta.step}`);
  const extra = Object.keys(tensors).filter((k) => !used.has(k));
  if (extra.length > 0) fail(`unexpected tensor ${extra[0]}`);
  return {
    network,
    spec,
    config: config as CheckpointConfig,
    trainer: { step: meta.step as number, epoch: meta.epoch as number, rng: meta.rng as RandomState, order, trainLossList, trainAccList, testAccList },
    optimizerName: opt!.name as string,
    optimizerState,
    optimizerIter: (opt!.iter as number | null | undefined) ?? null,
  };
}

/** Put saved optimizer state into a fresh optimizer of the same kind (allocating its buffers). */
export function restoreOptimizerState(optimizer: Optimizer, params: Record<string, Tensor>, state: Record<string, Tensor>, iter: number | null, file = 'checkpoint'): void {
  const fields = optimizer as unknown as Record<string, unknown>;
  for (const [key, t] of Object.entries(state)) {
    const dot = key.indexOf('.');
    const field = key.slice(0, dot);
    const param = key.slice(dot + 1);
    const p = params[param];
    if (dot < 1 || !p || !(field in fields)) throw new FileFormatError(file, `optimizer state ${printable(key)} does not fit a ${optimizer.name} optimizer for these parameters`);
    // Allocated as the optimizer itself would (in the backend's memory, for wasm).
    if (fields[field] === null) fields[field] = zerosLike(params, fields.backend as Backend | undefined);
    const target = (fields[field] as Record<string, Tensor>)[param];
    if (!(target instanceof Tensor) || target.size !== t.size) throw new FileFormatError(file, `optimizer state ${key} has ${t.size} values, needs ${target?.size}`);
    target.data.set(t.data);
  }
  if (iter !== null) {
    if (typeof fields.iter !== 'number') throw new FileFormatError(file, `the checkpoint has a step count but a ${optimizer.name} optimizer keeps none`);
    fields.iter = iter;
  }
}

/** Restore a trainer built on `checkpoint.network` (same data and settings) to the saved point. */
export function restoreTrainer(trainer: Trainer, checkpoint: Checkpoint, file = 'checkpoint'): void {
  if (trainer.network !== checkpoint.network) throw new ScratchnetError('restoreTrainer: the trainer must train the checkpoint\'s network');
  if (trainer.optimizer.name !== checkpoint.optimizerName) {
    throw new FileFormatError(file, `the checkpoint was trained with ${checkpoint.optimizerName}, not ${trainer.optimizer.name}`);
  }
  restoreOptimizerState(trainer.optimizer, trainer.network.params, checkpoint.optimizerState, checkpoint.optimizerIter, file);
  try {
    trainer.setState(checkpoint.trainer);
  } catch (e) {
    if (e instanceof ScratchnetError) throw new FileFormatError(file, e.message);
    throw e;
  }
}


/** Save a checkpoint of the trainer atomically (and clear temp files left by killed runs). */
export async function saveCheckpoint(path: string, trainer: Trainer, config: CheckpointConfig): Promise<void> {
  await writeFileAtomic(path, encodeCheckpoint(trainer, config));
  await removeStaleTemps(path);
}

/** Read and validate a checkpoint file. */
export async function readCheckpoint(path: string, options: { backend?: Backend | string } = {}): Promise<Checkpoint> {
  const bytes = await readSafetensorsFile(path, { what: 'a checkpoint', expected: CHECKPOINT_EXPECTED });
  return decodeCheckpoint(bytes, path, options);
}
