// ONNX export: any scratchnet network (its `layers` list) as an ONNX model that onnxruntime,
// Netron, PyTorch or TensorFlow tooling can load. Inference form: Dropout disappears (scratchnet's
// dropout is inverted, so evaluation is the identity), batch normalisation uses its running
// statistics. Opset 13 by default (IR version 7; up to 21); the batch dimension is symbolic ("N").
//
//   input  "input"          float (N, C, H, W)
//   output "scores"         float (N, classes): what network.predict returns
//   output "probabilities"  float (N, classes): Softmax(scores) along axis 1
//
// Layer -> node mapping (dispatch on layer.name):
//   Convolution        Conv (kernel_shape, strides, pads; W (FN, C, FH, FW), b (FN))
//   Pooling            MaxPool (padded cells never win, as in scratchnet; floor sizes: ceil_mode 0)
//   AvgPooling         AveragePool with count_include_pad = 1 (scratchnet divides by the window size)
//   Relu/Sigmoid/Tanh  Relu / Sigmoid / Tanh
//   LRN                LRN with size = n, bias = k, alpha = n * alpha (ONNX divides alpha by size)
//   BatchNormalization BatchNormalization (gamma, beta, running mean / variance, epsilon)
//   Dropout            nothing
//   Flatten            Flatten (axis 1)
//   Affine             Flatten (axis 1) when its input is not 2-D, then Gemm (A x W + b)
// Initializers keep the public parameter names (W1 b1 ...). float64 networks are written as
// float32 (what ONNX runtimes run fastest, and what the network was trained for).
//
// Protobuf field numbers are those of onnx/onnx.proto (ModelProto, GraphProto, NodeProto, ...).

import { ScratchnetError } from '../errors.js';
import type { Layer } from '../layers/layer.js';
import type { Network } from '../models/network.js';
import { type Tensor, zeros } from '../tensor.js';
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

type Attr = { name: string; f: number } | { name: string; i: number } | { name: string; ints: number[] };

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

/** Typed access to a layer's fields (the layer classes are duck-typed here on purpose: any layer with these fields exports). */
function field<T>(layer: Layer, key: string, layerName: string): T {
  const v = (layer as unknown as Record<string, unknown>)[key];
  if (v === undefined) throw new ScratchnetError(`ONNX export: layer ${layerName} (${layer.name}) has no field ${key}`);
  return v as T;
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
  // Public names for initializers: W1 b1 ... (parameters) and running statistics (buffers).
  const publicName = new Map<Tensor, string>();
  for (const [k, t] of Object.entries(network.params)) publicName.set(t, k);
  const buffers = (network as unknown as { buffers?: Record<string, Tensor> }).buffers ?? {};
  for (const [k, t] of Object.entries(buffers)) publicName.set(t, k);

  const initializers: [string, Tensor][] = [];
  const init = (layerName: string, key: string, t: Tensor): string => {
    const name = publicName.get(t) ?? `${layerName}.${key}`;
    if (!initializers.some(([n]) => n === name)) initializers.push([name, t]);
    return name;
  };

  const perSample = network.inputShape.reduce((a, b) => a * b, 1);
  if (!(perSample <= 2 ** 26)) throw new ScratchnetError(`ONNX export: the input (${network.inputShape.join(', ')}) is too large (${perSample} values per sample)`);
  // Each layer's output shape, from one inference-mode forward pass of a single zero image
  // (no state changes: dropout is the identity and batch norm uses its running statistics).
  let probe = zeros([1, ...network.inputShape], network.dtype);
  const nodes: Node[] = [];
  let current = 'input';
  let rank = network.inputShape.length + 1;
  let counter = 0;
  const emit = (op: string, layerName: string, inputs: string[], attrs: Attr[] = []): void => {
    counter += 1;
    const output = `${layerName}_${op}_${counter}`.replace(/[^A-Za-z0-9_.]/g, '_');
    nodes.push({ op, inputs, output, name: `${layerName}/${op}`, attrs });
    current = output;
  };

  for (const [layerName, layer] of network.layers) {
    switch (layer.name) {
      case 'Convolution': {
        const W = field<Tensor>(layer, 'W', layerName);
        const b = field<Tensor>(layer, 'b', layerName);
        const stride = field<number>(layer, 'stride', layerName);
        const pad = field<number>(layer, 'pad', layerName);
        emit('Conv', layerName, [current, init(layerName, 'W', W), init(layerName, 'b', b)], [
          { name: 'kernel_shape', ints: [W.shape[2], W.shape[3]] },
          { name: 'strides', ints: [stride, stride] },
          { name: 'pads', ints: [pad, pad, pad, pad] },
          { name: 'dilations', ints: [1, 1] },
          { name: 'group', i: 1 },
        ]);
        break;
      }
      case 'Pooling':
      case 'AvgPooling': {
        const poolH = field<number>(layer, 'poolH', layerName);
        const poolW = field<number>(layer, 'poolW', layerName);
        const stride = field<number>(layer, 'stride', layerName);
        const pad = field<number>(layer, 'pad', layerName);
        const attrs: Attr[] = [
          { name: 'kernel_shape', ints: [poolH, poolW] },
          { name: 'strides', ints: [stride, stride] },
          { name: 'pads', ints: [pad, pad, pad, pad] },
        ];
        if (layer.name === 'AvgPooling') attrs.push({ name: 'count_include_pad', i: 1 });
        emit(layer.name === 'Pooling' ? 'MaxPool' : 'AveragePool', layerName, [current], attrs);
        break;
      }
      case 'Relu':
      case 'Sigmoid':
      case 'Tanh':
        emit(layer.name, layerName, [current]);
        break;
      case 'LRN': {
        const n = field<number>(layer, 'n', layerName);
        emit('LRN', layerName, [current], [
          { name: 'size', i: n },
          { name: 'alpha', f: field<number>(layer, 'alpha', layerName) * n },
          { name: 'beta', f: field<number>(layer, 'beta', layerName) },
          { name: 'bias', f: field<number>(layer, 'k', layerName) },
        ]);
        break;
      }
      case 'BatchNormalization':
        emit('BatchNormalization', layerName, [
          current,
          init(layerName, 'gamma', field<Tensor>(layer, 'gamma', layerName)),
          init(layerName, 'beta', field<Tensor>(layer, 'beta', layerName)),
          init(layerName, 'runningMean', field<Tensor>(layer, 'runningMean', layerName)),
          init(layerName, 'runningVar', field<Tensor>(layer, 'runningVar', layerName)),
        ], [{ name: 'epsilon', f: field<number>(layer, 'eps', layerName) }]);
        break;
      case 'Dropout':
        break; // inverted dropout: the identity at inference
      case 'Flatten':
        emit('Flatten', layerName, [current], [{ name: 'axis', i: 1 }]);
        break;
      case 'Affine': {
        if (rank !== 2) emit('Flatten', layerName, [current], [{ name: 'axis', i: 1 }]);
        const W = field<Tensor>(layer, 'W', layerName);
        const b = field<Tensor>(layer, 'b', layerName);
        emit('Gemm', layerName, [current, init(layerName, 'W', W), init(layerName, 'b', b)], [
          { name: 'alpha', f: 1 },
          { name: 'beta', f: 1 },
          { name: 'transA', i: 0 },
          { name: 'transB', i: 0 },
        ]);
        break;
      }
      default:
        throw new ScratchnetError(`ONNX export: layer ${layerName} (${layer.name}) has no ONNX mapping`);
    }
    probe = layer.forward(probe, false);
    rank = probe.ndim;
  }
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
  const spec = network.spec();
  graph.string(2, options.graphName ?? (typeof spec.name === 'string' ? spec.name : String(spec.model ?? 'scratchnet')));
  for (const [name, t] of initializers) graph.message(5, tensorProto(name, t));
  const inputShape: (number | string)[] = ['N', ...network.inputShape];
  const outputShape: (number | string)[] = ['N', ...probe.shape.slice(1)];
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
