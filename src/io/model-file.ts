// Model files: one safetensors file holding the parameters (W1 b1 ...) and, in __metadata__,
// the model spec (so the network can be rebuilt without code) and the training facts.
//   __metadata__ = { format: "scratchnet", format_version: "1", spec: JSON, training: JSON }
// Writes are atomic (temp file + rename). Reads are validated: every tensor present with the
// shape the spec implies, no unknown tensors, finite values.

import type { Backend } from '../backend/backend.js';
import { FileFormatError, ScratchnetError } from '../errors.js';
import type { ModelSpec, Network } from '../models/network.js';
import { buildNetwork } from '../models/registry.js';
import { decodeSafetensors, encodeSafetensors, type DecodeOptions, type NamedTensor, readSafetensorsFile } from './safetensors.js';
import { writeFileAtomic } from './atomic.js';
import { specValueCount } from './spec-size.js';

export const MODEL_FORMAT = 'scratchnet';
export const MODEL_FORMAT_VERSION = '1';
const MODEL_EXPECTED = 'a scratchnet model (safetensors)';

/** What a training run records about itself (all optional). */
export interface TrainingFacts {
  epochs?: number;
  batchSize?: number;
  optimizer?: string;
  optimizerParam?: Record<string, unknown>;
  seed?: number;
  backend?: string;
  steps?: number;
  seconds?: number;
  trainLossList?: number[];
  trainAccList?: number[];
  testAccList?: number[];
  finalTestAcc?: number;
  data?: string;
  [key: string]: unknown;
}

export interface ModelFile {
  network: Network;
  spec: ModelSpec;
  training: TrainingFacts | null;
  metadata: Record<string, string>;
}

/** The model file's bytes, for writing or sending elsewhere (e.g. a download in a browser). */
export function encodeModel(network: Network, training?: TrainingFacts): Uint8Array {
  const metadata: Record<string, string> = {
    format: MODEL_FORMAT,
    format_version: MODEL_FORMAT_VERSION,
    spec: JSON.stringify(network.spec()),
  };
  if (training) metadata.training = JSON.stringify(training);
  // The state dictionary: parameters and batch norm's running statistics (network.buffers).
  const { tensors } = network.stateDict();
  for (const [name, t] of Object.entries(tensors)) {
    const at = network.backend.firstNonFinite(t.data);
    if (at >= 0) throw new ScratchnetError(`cannot save the model: parameter ${name} holds a non-finite value (${t.data[at]}) at index ${at}`);
  }
  return encodeSafetensors(tensors, metadata);
}

/** Save the network's parameters and spec to one safetensors file, atomically. */
export async function saveModel(network: Network, path: string, training?: TrainingFacts): Promise<void> {
  await writeFileAtomic(path, encodeModel(network, training));
}

function parseJsonField(file: string, metadata: Record<string, string>, key: string): unknown {
  try {
    return JSON.parse(metadata[key]);
  } catch {
    throw new FileFormatError(file, `metadata field "${key}" is not valid JSON`);
  }
}

/** The network a stored spec and its tensors describe, validated: the spec checked and its
 *  size compared with what the file holds before anything is allocated, every tensor present
 *  with the right shape, finite, running variances non-negative, nothing extra. Shared by
 *  model files and checkpoints (`names` maps a state-dict name to the file's tensor name). */
export function networkFromTensors(
  spec: ModelSpec, tensors: Record<string, NamedTensor>, file: string,
  options: { backend?: Backend | string; names?: (stateName: string) => string; other?: (name: string) => boolean } = {},
): Network {
  const fileName = options.names ?? ((n: string) => n);
  const own = Object.entries(tensors).filter(([k]) => !options.other?.(k));
  const dtypes = new Set(own.map(([, t]) => t.dtype));
  for (const d of dtypes) if (d !== 'F32' && d !== 'F64') throw new FileFormatError(file, `parameters must be F32 or F64, found ${d}`);
  if (dtypes.size > 1) throw new FileFormatError(file, 'parameters mix F32 and F64');
  const dtype = dtypes.has('F64') ? 'float64' : 'float32';

  let network: Network;
  try {
    // Size check before allocating: a hostile spec must not cost gigabytes.
    const needed = specValueCount(spec);
    const held = own.reduce((n, [, t]) => n + t.data.length, 0);
    // Only a spec far bigger than the file is refused here; smaller mismatches are left to
    // the per-tensor check below, whose message names the tensor and both shapes.
    if (needed > held + (1 << 20)) throw new FileFormatError(file, `the model spec needs ${needed} parameter values but the file holds ${held}`);
    network = buildNetwork(spec, { backend: options.backend, dtype, initialize: false }); // the file's values replace them
  } catch (e) {
    if (e instanceof FileFormatError) throw e;
    if (e instanceof ScratchnetError) throw new FileFormatError(file, `bad model spec: ${e.message}`);
    throw e;
  }
  const state = network.stateDict().tensors;
  const values: Record<string, ArrayLike<number>> = {};
  for (const [name, target] of Object.entries(state)) {
    const key = fileName(name);
    const t = tensors[key];
    if (!t) throw new FileFormatError(file, `missing parameter ${key} (the spec needs ${Object.keys(state).map(fileName).join(' ')})`);
    if (t.shape.length !== target.shape.length || t.shape.some((d, i) => d !== target.shape[i])) {
      throw new FileFormatError(file, `parameter ${key} has shape (${t.shape.join(', ')}) but the spec needs (${target.shape.join(', ')})`);
    }
    for (let i = 0; i < t.data.length; i++) {
      if (!Number.isFinite(t.data[i])) throw new FileFormatError(file, `parameter ${key} contains a non-finite value (${t.data[i]}) at index ${i}`);
      if (name.startsWith('runningVar') && name in network.buffers && t.data[i] < 0) throw new FileFormatError(file, `running variance ${key} is negative (${t.data[i]}) at index ${i}`);
    }
    values[name] = t.data;
  }
  const expected = new Set(Object.keys(state).map(fileName));
  const extra = own.map(([k]) => k).find((k) => !expected.has(k));
  if (extra !== undefined) throw new FileFormatError(file, `unexpected tensor ${extra} (not a parameter of this ${String(spec.name ?? spec.model)} network)`);
  network.loadStateDict({ tensors: values });
  return network;
}

/** Rebuild a network from model-file bytes; `file` names the source in error messages. */
export function decodeModel(bytes: Uint8Array, file = 'model bytes', options: { backend?: Backend | string } & DecodeOptions = {}): ModelFile {
  const { tensors, metadata } = decodeSafetensors(bytes, file, { expected: MODEL_EXPECTED, ...options });
  if (metadata.format === 'scratchnet-checkpoint') {
    throw new FileFormatError(file, 'is a training checkpoint, not a model file: resume it with `scratchnet train --resume`, or let the run finish to get the model');
  }
  if (metadata.format !== MODEL_FORMAT) {
    throw new FileFormatError(file, 'not a scratchnet model (safetensors metadata has no format "scratchnet"; plain safetensors weights can be imported with a spec)');
  }
  if (metadata.format_version !== MODEL_FORMAT_VERSION) {
    throw new FileFormatError(file, `model format version ${metadata.format_version} is not supported (this scratchnet reads version ${MODEL_FORMAT_VERSION})`);
  }
  if (metadata.spec === undefined) throw new FileFormatError(file, 'metadata has no model spec');
  const spec = parseJsonField(file, metadata, 'spec') as ModelSpec;
  const training = metadata.training === undefined ? null : (parseJsonField(file, metadata, 'training') as TrainingFacts);
  const network = networkFromTensors(spec, tensors, file, { backend: options.backend });
  return { network, spec, training, metadata };
}

/** Read and validate a model file: the network with its parameters, spec and training facts. */
export async function readModelFile(path: string, options: { backend?: Backend | string } & DecodeOptions = {}): Promise<ModelFile> {
  // bounded: regular files only, the header validated against the size before the data is read
  const bytes = await readSafetensorsFile(path, { what: 'a model file', expected: MODEL_EXPECTED, maxHeaderBytes: options.maxHeaderBytes });
  return decodeModel(bytes, path, options);
}

/** Load a saved model: a network that predicts exactly as the saved one did. */
export async function loadModel(path: string, options: { backend?: Backend | string } = {}): Promise<Network> {
  return (await readModelFile(path, options)).network;
}
