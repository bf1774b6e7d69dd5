// Model files: one safetensors file holding the parameters (W1 b1 ...) and, in __metadata__,
// the model spec (so the network can be rebuilt without code) and the training facts.
//   __metadata__ = { format: "scratchnet", format_version: "1", spec: JSON, training: JSON }
// Writes are atomic (temp file + rename). Reads are validated: every tensor present with the
// shape the spec implies, no unknown tensors, finite values.

import type { Backend } from '../backend/backend.js';
import { FileFormatError, ScratchnetError } from '../errors.js';
import type { ModelSpec, Network } from '../models/network.js';
import { buildNetwork } from '../models/registry.js';
import { decodeSafetensors, encodeSafetensors, type DecodeOptions } from './safetensors.js';
import { writeFileAtomic } from './atomic.js';
import { specValueCount } from './spec-size.js';
import { readFile, stat } from 'node:fs/promises';

export const MODEL_FORMAT = 'scratchnet';
export const MODEL_FORMAT_VERSION = '1';

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
  // Batch norm's running statistics (network.buffers) are saved beside the parameters.
  return encodeSafetensors({ ...network.params, ...network.buffers }, metadata);
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

/** Rebuild a network from model-file bytes; `file` names the source in error messages. */
export function decodeModel(bytes: Uint8Array, file: string, options: { backend?: Backend | string } & DecodeOptions = {}): ModelFile {
  const { tensors, metadata } = decodeSafetensors(bytes, file, options);
  if (metadata.format !== MODEL_FORMAT) {
    throw new FileFormatError(file, 'not a scratchnet model (safetensors metadata has no format "scratchnet"; plain safetensors weights can be imported with a spec)');
  }
  if (metadata.format_version !== MODEL_FORMAT_VERSION) {
    throw new FileFormatError(file, `model format version ${metadata.format_version} is not supported (this scratchnet reads version ${MODEL_FORMAT_VERSION})`);
  }
  if (metadata.spec === undefined) throw new FileFormatError(file, 'metadata has no model spec');
  const spec = parseJsonField(file, metadata, 'spec') as ModelSpec;
  const training = metadata.training === undefined ? null : (parseJsonField(file, metadata, 'training') as TrainingFacts);

  const dtypes = new Set(Object.values(tensors).map((t) => t.dtype));
  for (const d of dtypes) if (d !== 'F32' && d !== 'F64') throw new FileFormatError(file, `parameters must be F32 or F64, found ${d}`);
  if (dtypes.size > 1) throw new FileFormatError(file, 'parameters mix F32 and F64');
  const dtype = dtypes.has('F64') ? 'float64' : 'float32';

  let network: Network;
  try {
    // Size check before allocating: a hostile spec must not cost gigabytes.
    const needed = specValueCount(spec);
    const held = Object.values(tensors).reduce((n, t) => n + t.data.length, 0);
    // Only a spec far bigger than the file is refused here; smaller mismatches are left to
    // the per-parameter check below, whose message names the tensor and both shapes.
    if (needed !== null && needed > held + (1 << 20)) throw new FileFormatError(file, `the model spec needs ${needed} parameter values but the file holds ${held}`);
    network = buildNetwork(spec, { backend: options.backend, dtype });
  } catch (e) {
    if (e instanceof FileFormatError) throw e;
    if (e instanceof ScratchnetError) throw new FileFormatError(file, `bad model spec: ${e.message}`);
    throw e;
  }
  const stored = { ...network.params, ...network.buffers };
  for (const [name, param] of Object.entries(stored)) {
    const t = tensors[name];
    if (!t) throw new FileFormatError(file, `missing parameter ${name} (the ${spec.model} spec needs ${Object.keys(stored).join(' ')})`);
    if (t.shape.length !== param.shape.length || t.shape.some((d, i) => d !== param.shape[i])) {
      throw new FileFormatError(file, `parameter ${name} has shape (${t.shape.join(', ')}) but the spec needs (${param.shape.join(', ')})`);
    }
    for (let i = 0; i < t.data.length; i++) {
      if (!Number.isFinite(t.data[i])) throw new FileFormatError(file, `parameter ${name} contains a non-finite value (${t.data[i]}) at index ${i}`);
      if (name.startsWith('runningVar') && name in network.buffers && t.data[i] < 0) throw new FileFormatError(file, `running variance ${name} is negative (${t.data[i]}) at index ${i}`);
    }
    param.data.set(t.data);
  }
  const extra = Object.keys(tensors).filter((k) => !(k in stored));
  if (extra.length > 0) throw new FileFormatError(file, `unexpected tensor ${extra[0]} (not a parameter of ${spec.model})`);
  return { network, spec, training, metadata };
}

/** Read and validate a model file: the network with its parameters, spec and training facts. */
export async function readModelFile(path: string, options: { backend?: Backend | string } & DecodeOptions = {}): Promise<ModelFile> {
  let bytes: Uint8Array;
  try {
    const s = await stat(path);
    if (s.isDirectory()) throw new ScratchnetError(`${path}: is a folder, not a model file`);
    bytes = await readFile(path);
  } catch (e) {
    if (e instanceof ScratchnetError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new ScratchnetError(`${path}: ${code === 'ENOENT' ? 'no such file' : `cannot read (${code ?? String(e)})`}`);
  }
  return decodeModel(bytes, path, options);
}

/** Load a saved model: a network that predicts exactly as the saved one did. */
export async function loadModel(path: string, options: { backend?: Backend | string } = {}): Promise<Network> {
  return (await readModelFile(path, options)).network;
}
