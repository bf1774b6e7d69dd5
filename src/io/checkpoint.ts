// Training checkpoints: everything a run needs to continue exactly where it stopped, in one
// safetensors file, so that a resumed run ends with parameters bit-identical to an
// uninterrupted one (same seed, same backend).
//
//   tensors
//     param.<name>          the network's parameters (W1 b1 ...), F32 or F64
//     optimizer.<key>       the optimizer's stateTensors() (Adam: m.W1 ... v.W1 ..., AdaGrad: h.*,
//                           Momentum: v.*); Adam's step count is in the metadata (exact integer)
//     layer.<layer>.<key>   non-trainable layer state (batch-norm running mean / variance)
//     trainer.order         I32: the current epoch's permutation of the training set
//     history.trainLoss     F64: every step's loss so far
//     history.trainAcc      F64, history.testAcc F64: per-epoch accuracies so far
//   __metadata__
//     format "scratchnet-checkpoint", format_version "1"
//     spec     the model spec (JSON), as in model files
//     config   the training settings (JSON: epochs, batch size, optimizer, lr, seed, data ...)
//     state    JSON: { step, epoch, rng: {s, spare}, optimizer: {name, iter}, layerRng: {layer: {s, spare}} }
//
// Writes are atomic (temp file in the same folder, fsync, rename, fsync the folder): a crash or
// SIGKILL at any moment leaves the previous checkpoint intact. Reads validate everything.

import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as nodePath from 'node:path';
import type { Backend } from '../backend/backend.js';
import { FileFormatError, ScratchnetError } from '../errors.js';
import type { ModelSpec, Network } from '../models/network.js';
import { buildNetwork } from '../models/registry.js';
import { type Optimizer, zerosLike } from '../optimizers/optimizer.js';
import { Random, type RandomState } from '../random.js';
import { Tensor } from '../tensor.js';
import type { Trainer, TrainerState } from '../train/trainer.js';
import { printable } from './npy.js';
import { specValueCount } from './spec-size.js';
import { decodeSafetensors, encodeSafetensors, type NamedTensor } from './safetensors.js';

export const CHECKPOINT_FORMAT = 'scratchnet-checkpoint';
export const CHECKPOINT_FORMAT_VERSION = '1';

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

/** Layer state that is not trained (a layer's `buffers`, e.g. batch norm's running statistics). */
function layerStateTensors(network: Network): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const [name, layer] of network.layers) {
    const buffers = (layer as unknown as { buffers?: Record<string, unknown> }).buffers;
    if (typeof buffers !== 'object' || buffers === null) continue;
    for (const [key, v] of Object.entries(buffers)) if (v instanceof Tensor) out[`layer.${name}.${key}`] = v;
  }
  return out;
}

function layerRngs(network: Network): Record<string, Random> {
  const out: Record<string, Random> = {};
  for (const [name, layer] of network.layers) {
    for (const [key, v] of Object.entries(layer as unknown as Record<string, unknown>)) {
      if (v instanceof Random) out[`${name}.${key}`] = v;
    }
  }
  return out;
}

/** The checkpoint's bytes for a trainer (its network, optimizer and progress) and settings. */
export function encodeCheckpoint(trainer: Trainer, config: CheckpointConfig): Uint8Array {
  const network = trainer.network;
  const state = trainer.getState();
  const tensors: Record<string, NamedTensor | Tensor> = {};
  for (const [name, p] of Object.entries(network.params)) tensors[`param.${name}`] = p;
  const optimizer = trainer.optimizer;
  let optimizerIter: number | null = null;
  for (const [key, t] of Object.entries(optimizer.stateTensors())) {
    // Adam's step count: an exact integer in the metadata rather than a float32 tensor.
    if (key === 'iter') optimizerIter = t.data[0];
    else tensors[`optimizer.${key}`] = t;
  }
  const iterField = (optimizer as unknown as { iter?: unknown }).iter;
  if (typeof iterField === 'number') optimizerIter = iterField;
  Object.assign(tensors, layerStateTensors(network));
  if (state.order) tensors['trainer.order'] = { dtype: 'I32', shape: [state.order.length], data: state.order };
  const f64 = (a: number[]): NamedTensor => ({ dtype: 'F64', shape: [a.length], data: Float64Array.from(a) });
  tensors['history.trainLoss'] = f64(state.trainLossList);
  tensors['history.trainAcc'] = f64(state.trainAccList);
  tensors['history.testAcc'] = f64(state.testAccList);
  const layerRng: Record<string, RandomState> = {};
  for (const [k, r] of Object.entries(layerRngs(network))) layerRng[k] = r.getState();
  const meta = {
    step: state.step,
    epoch: state.epoch,
    rng: state.rng,
    optimizer: { name: optimizer.name, iter: optimizerIter },
    layerRng,
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
  const { tensors, metadata } = decodeSafetensors(bytes, file);
  if (metadata.format !== CHECKPOINT_FORMAT) {
    fail(metadata.format === 'scratchnet' ? 'this is a model file, not a training checkpoint (checkpoints are written by train --checkpoint-every or when a run is interrupted)' : 'not a scratchnet checkpoint');
  }
  if (metadata.format_version !== CHECKPOINT_FORMAT_VERSION) fail(`checkpoint format version ${metadata.format_version} is not supported (this scratchnet reads version ${CHECKPOINT_FORMAT_VERSION})`);
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

  const params = Object.entries(tensors).filter(([k]) => k.startsWith('param.'));
  const dtypes = new Set(params.map(([, t]) => t.dtype));
  for (const d of dtypes) if (d !== 'F32' && d !== 'F64') fail(`parameters must be F32 or F64, found ${d}`);
  if (dtypes.size > 1) fail('parameters mix F32 and F64');
  const dtype = dtypes.has('F64') ? 'float64' : 'float32';
  let network: Network;
  try {
    // Size check before allocating: a hostile spec must not cost gigabytes.
    const needed = specValueCount(spec);
    const held = Object.entries(tensors).reduce((n, [k, t]) => n + (k.startsWith('param.') || k.startsWith('layer.') ? t.data.length : 0), 0);
    if (needed !== null && needed !== held) fail(`the model spec needs ${needed} parameter values but the checkpoint holds ${held}`);
    network = buildNetwork(spec, { backend: options.backend, dtype });
  } catch (e) {
    if (e instanceof FileFormatError) throw e;
    if (e instanceof ScratchnetError) fail(`bad model spec: ${e.message}`);
    throw e;
  }
  const used = new Set<string>();
  const copyInto = (key: string, target: Tensor, what: string): void => {
    const t = tensors[key];
    if (!t) fail(`missing ${what} ${key}`);
    if ((t.dtype !== 'F32' && t.dtype !== 'F64') || t.data.length !== target.size || t.shape.length !== target.shape.length || t.shape.some((d, i) => d !== target.shape[i])) {
      fail(`${key} has shape (${t.shape.join(', ')}) ${t.dtype} but needs (${target.shape.join(', ')}) floats`);
    }
    for (let i = 0; i < t.data.length; i++) if (!Number.isFinite(t.data[i])) fail(`${key} contains a non-finite value at index ${i}`);
    target.data.set(t.data);
    used.add(key);
  };
  for (const [name, p] of Object.entries(network!.params)) copyInto(`param.${name}`, p, 'parameter');
  for (const [key, t] of Object.entries(layerStateTensors(network!))) copyInto(key, t, 'layer state');
  const layerRng = (meta.layerRng ?? {}) as Record<string, unknown>;
  for (const [key, r] of Object.entries(layerRngs(network!))) {
    const s = layerRng[key];
    if (!isRandomState(s)) fail(`state has no valid random generator state for layer ${key}`);
    r.setState(s as RandomState);
  }

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
    network: network!,
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

/** Testing hook: milliseconds to pause halfway through writing the temp file (simulates a slow disk). */
function stallMs(): number {
  const v = Number(process.env.SCRATCHNET_TEST_CHECKPOINT_STALL_MS ?? 0);
  return Number.isFinite(v) && v > 0 ? v : 0;
}

let tempCounter = 0;

/** Write bytes atomically: temp file in the same folder, fsync, rename over `path`, fsync folder. */
async function writeAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const dir = nodePath.dirname(path);
  tempCounter += 1;
  const tmp = nodePath.join(dir, `.${nodePath.basename(path)}.${process.pid}.${tempCounter}.tmp`);
  let handle: fsp.FileHandle | undefined;
  let created = false;
  try {
    handle = await fsp.open(tmp, 'wx', 0o666);
    created = true;
    const half = bytes.byteLength >> 1;
    await handle.write(bytes, 0, half, 0);
    const stall = stallMs();
    if (stall > 0) {
      await handle.sync();
      await new Promise((resolve) => setTimeout(resolve, stall));
    }
    await handle.write(bytes, half, bytes.byteLength - half, half);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fsp.rename(tmp, path);
    created = false;
    try {
      const fd = fs.openSync(dir, 'r');
      try {
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
    } catch {
      // some platforms cannot fsync a folder; the rename itself already happened
    }
  } catch (e) {
    if (handle) await handle.close().catch(() => undefined);
    if (created) await fsp.unlink(tmp).catch(() => undefined);
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string') {
      const err = new ScratchnetError(`${path}: cannot write the checkpoint (${code === 'ENOENT' ? 'folder does not exist' : code === 'ENOSPC' ? 'no space left on device' : code})`);
      err.cause = e;
      throw err;
    }
    throw e;
  }
}

/** Remove temp files that a killed writer (a process no longer alive) left next to `path`. */
async function removeStaleTemps(path: string): Promise<void> {
  const dir = nodePath.dirname(path);
  const prefix = `.${nodePath.basename(path)}.`;
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith('.tmp')) continue;
    const m = /^(\d+)\.\d+\.tmp$/.exec(name.slice(prefix.length));
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid) continue;
    try {
      process.kill(pid, 0); // still running: its write may be in progress
      continue;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ESRCH') continue;
    }
    await fsp.unlink(nodePath.join(dir, name)).catch(() => undefined);
  }
}

/** Save a checkpoint of the trainer atomically (and clear temp files left by killed runs). */
export async function saveCheckpoint(path: string, trainer: Trainer, config: CheckpointConfig): Promise<void> {
  await writeAtomic(path, encodeCheckpoint(trainer, config));
  await removeStaleTemps(path);
}

/** Read and validate a checkpoint file. */
export async function readCheckpoint(path: string, options: { backend?: Backend | string } = {}): Promise<Checkpoint> {
  let bytes: Uint8Array;
  try {
    const s = await fsp.stat(path);
    if (s.isDirectory()) throw new ScratchnetError(`${path}: is a folder, not a checkpoint`);
    bytes = await fsp.readFile(path);
  } catch (e) {
    if (e instanceof ScratchnetError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new ScratchnetError(`${path}: ${code === 'ENOENT' ? 'no such file' : `cannot read (${code ?? String(e)})`}`);
  }
  return decodeCheckpoint(bytes, path, options);
}
