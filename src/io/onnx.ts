// ONNX export: any scratchnet network (its `layers` list) as an ONNX model that onnxruntime,
// Netron, PyTorch or TensorFlow tooling can load. Inference form: Dropout disappears (scratchnet's
// dropout is inverted, so evaluation is the identity), batch normalisation uses its running
// statistics. Opset 13 by default (IR version 7; up to 21); the batch dimension is symbolic ("N").
//
//   input  "input"          float (N, C, H, W)
//   output "scores"         float (N, classes): what network.predict returns
//   output "probabilities"  float (N, classes): Softmax(scores) along axis 1
//
// Each layer kind writes its own nodes (the `onnx` member of its kind, in its file: conv ->
// Conv, maxpool -> MaxPool, dense -> [Flatten] Gemm, dropout -> nothing, ...); shapes come from
// the spec's inference, so exporting runs no forward pass and changes no layer cache.
// Initializers keep the public parameter names (W1 b1 ... runningMean1). float64 networks are
// written as float32 (what ONNX runtimes run fastest, and what the network was trained for).
//
// Protobuf field numbers are those of onnx/onnx.proto (ModelProto, GraphProto, NodeProto, ...).

import { ScratchnetError } from '../errors.js';
import type { OnnxAttr } from '../layers/kind.js';
import { layerKind } from '../layers/registry.js';
import type { Network } from '../models/network.js';
import { legacySpec } from '../models/registry.js';
import { layerNames } from '../models/sequential.js';
import { checkSpec } from '../models/spec.js';
import type { Tensor } from '../tensor.js';
import { writeFileAtomic } from './atomic.js';
import { ProtoWriter } from './protobuf.js';

export interface OnnxExportOptions {
  /** ONNX operator set version (13 or later; default 13). */
  opset?: number;
  /** Written as the model's producer_version. */
  producerVersion?: string;
  /** Graph name (default: the model spec's name, or "scratchnet"). */
  graphName?: string;
}

export interface OnnxExportSummary {
  bytes: Uint8Array;
  opset: number;
  nodes: string[];
  inputShape: (number | string)[];
  outputShape: (number | string)[];
}

export const ONNX_MIN_OPSET = 13;
export const ONNX_MAX_OPSET = 21;

// onnx.proto enums
const FLOAT = 1; // TensorProto.DataType
const ATTR_FLOAT = 1;
const ATTR_INT = 2;
const ATTR_INTS = 7;

type Attr = OnnxAttr;

function attribute(a: Attr): ProtoWriter {
  const w = new ProtoWriter().string(1, a.name);
  if ('f' in a) w.float(2, a.f).int(20, ATTR_FLOAT);
  else if ('i' in a) w.int(3, a.i).int(20, ATTR_INT);
  else {
    for (const v of a.ints) w.int(8, v);
    w.int(20, ATTR_INTS);
  }
  return w;
}

function tensorProto(name: string, t: Tensor): ProtoWriter {
  const w = new ProtoWriter();
  for (const d of t.shape) w.int(1, d);
  w.int(2, FLOAT).string(8, name);
  const raw = new Uint8Array(t.size * 4);
  const view = new DataView(raw.buffer);
  for (let i = 0; i < t.size; i++) view.setFloat32(i * 4, t.data[i], true);
  return w.bytes(9, raw);
}

function valueInfo(name: string, shape: (number | string)[]): ProtoWriter {
  const dims = new ProtoWriter();
  for (const d of shape) dims.message(1, typeof d === 'number' ? new ProtoWriter().int(1, d) : new ProtoWriter().string(2, d));
  const tensorType = new ProtoWriter().int(1, FLOAT).message(2, dims);
  return new ProtoWriter().string(1, name).message(2, new ProtoWriter().message(1, tensorType));
}

interface Node {
  op: string;
  inputs: string[];
  output: string;
  name: string;
  attrs: Attr[];
}

/** The IR version of the ONNX release that introduced an opset (13: ONNX 1.8, IR 7; ... 21: 1.16, IR 10). */
function irVersionFor(opset: number): number {
  if (opset <= 14) return 7;
  if (opset <= 18) return 8;
  if (opset <= 20) return 9;
  return 10;
}

/** Encode the network as ONNX bytes, with a summary of what was written. */
export function exportOnnxModel(network: Network, options: OnnxExportOptions = {}): OnnxExportSummary {
  const opset = options.opset ?? ONNX_MIN_OPSET;
  if (!Number.isInteger(opset) || opset < ONNX_MIN_OPSET || opset > ONNX_MAX_OPSET) {
    throw new ScratchnetError(`ONNX export: opset must be an integer from ${ONNX_MIN_OPSET} to ${ONNX_MAX_OPSET}, got ${opset}`);
  }
  const spec = network.spec();
  const checked = checkSpec(legacySpec(spec));
  const names = layerNames(checked);
  const state = network.stateDict().tensors;
  const initializers: [string, Tensor][] = [];
  const nodes: Node[] = [];
  let current = 'input';
  let counter = 0;
  checked.layers.forEach((info, index) => {
    const { name: layerName, params, buffers } = names[index];
    const publicOf = (key: string): string => {
      const found = Object.entries({ ...params, ...buffers }).find(([, k]) => k === key)?.[0];
      if (found === undefined || !state[found]) throw new ScratchnetError(`ONNX export: layer ${layerName} has no tensor ${key}`);
      if (!initializers.some(([n]) => n === found)) initializers.push([found, state[found]]);
      return found;
    };
    layerKind(info.type)!.onnx(info.spec, {
      inputShape: info.inputShape,
      outputShape: info.outputShape,
      node(op, attrs = [], extraInputs = []) {
        counter += 1;
        const output = `${layerName}_${op}_${counter}`.replace(/[^A-Za-z0-9_.]/g, '_');
        nodes.push({ op, inputs: [current, ...extraInputs], output, name: `${layerName}/${op}`, attrs });
        current = output;
      },
      tensor: publicOf,
    });
  });
  if (nodes.length === 0) throw new ScratchnetError('ONNX export: the network has no layers');
  // The last value is renamed "scores"; Softmax adds "probabilities".
  nodes[nodes.length - 1].output = 'scores';
  nodes.push({ op: 'Softmax', inputs: ['scores'], output: 'probabilities', name: 'Softmax', attrs: [{ name: 'axis', i: 1 }] });

  const graph = new ProtoWriter();
  for (const n of nodes) {
    const w = new ProtoWriter();
    for (const i of n.inputs) w.string(1, i);
    w.string(2, n.output).string(3, n.name).string(4, n.op);
    for (const a of n.attrs) w.message(5, attribute(a));
    graph.message(1, w);
  }
  graph.string(2, options.graphName ?? (typeof spec.name === 'string' ? spec.name : String(spec.model ?? 'scratchnet')));
  for (const [name, t] of initializers) graph.message(5, tensorProto(name, t));
  const inputShape: (number | string)[] = ['N', ...network.inputShape];
  const outputShape: (number | string)[] = ['N', ...checked.outputShape];
  graph.message(11, valueInfo('input', inputShape));
  graph.message(12, valueInfo('scores', outputShape));
  graph.message(12, valueInfo('probabilities', outputShape));

  const model = new ProtoWriter()
    .int(1, irVersionFor(opset))
    .string(2, 'scratchnet')
    .string(3, options.producerVersion ?? '')
    .string(6, 'Exported by scratchnet: outputs "scores" (what predict returns) and "probabilities" (their softmax).')
    .message(7, graph)
    .message(8, new ProtoWriter().string(1, '').int(2, opset))
    .message(14, new ProtoWriter().string(1, 'scratchnet_spec').string(2, JSON.stringify(spec)));
  return { bytes: model.finish(), opset, nodes: nodes.map((n) => n.op), inputShape, outputShape };
}

/** The ONNX file's bytes for a network. */
export function exportOnnx(network: Network, options: OnnxExportOptions = {}): Uint8Array {
  return exportOnnxModel(network, options).bytes;
}

/** Write the network as an ONNX file, atomically. */
export async function saveOnnx(network: Network, path: string, options: OnnxExportOptions = {}): Promise<OnnxExportSummary> {
  const summary = exportOnnxModel(network, options);
  await writeFileAtomic(path, summary.bytes);
  return summary;
}
