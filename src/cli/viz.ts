// scratchnet viz: pictures of what a saved model learned (book 7.6), each a file a person can
// open: PNG for pixel pictures (filters, feature maps, layer outputs, misclassified digits),
// PNG or SVG (by the --out extension) for charts (learning curves, confusion matrix).

import { resolve } from 'node:path';
import { backendNames } from '../backend/registry.js';
import { type GrayImage, loadImage, resizeGray, type RgbaImage, toGray, toMnistDigit } from '../data/image.js';
import { loadMnist } from '../data/mnist.js';
import { ScratchnetError, UsageError } from '../errors.js';
import { readModelInput } from './model-input.js';
import { checkOutputPath, refuseOverlaps } from './paths.js';
import type { Network } from '../models/network.js';
import { Tensor } from '../tensor.js';
import { checkHistory, confusionChartSpec, learningCurvesSpec } from '../viz/charts.js';
import { evaluateNetwork, worstMistakes } from '../viz/evaluate.js';
import { featureMapGrid, featureMaps, imageToTensor } from '../viz/features.js';
import { compareFilters, firstConvolution, initialNetwork } from '../viz/filters.js';
import { activationsPicture, layerActivations } from '../viz/layers.js';
import { mistakeGrid } from '../viz/misclassified.js';
import { writeChart, writePng } from '../viz/node.js';
import { type CommandSpec, formatHelp, parseArgs, requireFlag } from './args.js';
import type { Io } from './io.js';

export const VIZ_KINDS = ['filters', 'features', 'layers', 'curves', 'confusion', 'misclassified'] as const;
type VizKind = (typeof VIZ_KINDS)[number];

/** The default image for feature maps: drawn by scripts/make-sample-image.ts, shipped in assets/. */
export const SAMPLE_IMAGE = new URL('../../assets/sample.png', import.meta.url).pathname;

export const vizSpec: CommandSpec = {
  name: 'viz',
  summary: [
    'Draw what a saved model learned:',
    '  filters        first-layer filters, freshly initialised (training seed) above trained (PNG)',
    '  features       every first-layer filter applied to an image (PNG; default image: assets/sample.png)',
    '  layers         the output of every layer for one input (PNG; --image or test image --index)',
    '  curves         accuracy per epoch and loss per step from the training history (PNG or SVG)',
    '  confusion      confusion matrix on the test set (PNG or SVG)',
    '  misclassified  the worst-misclassified test images with true and predicted labels (PNG)',
  ].join('\n'),
  usage: `scratchnet viz ${VIZ_KINDS.join('|')} --model FILE [--image IMG] [--out FILE]`,
  flags: {
    model: { type: 'string', description: 'model file written by scratchnet train', value: 'FILE' },
    out: { type: 'string', description: 'output file (default: <picture>.png; .svg for a chart writes SVG)', value: 'FILE' },
    image: { type: 'string', description: 'PNG or JPEG input for features and layers', value: 'IMG' },
    index: { type: 'int', min: 0, description: 'layers: which test image to feed when no --image is given (default 0)', value: 'N' },
    data: { type: 'string', description: 'folder with IDX files (default: the bundled MNIST)', value: 'DIR' },
    count: { type: 'int', min: 1, max: 1000, description: 'misclassified: how many images to show (default 40)', value: 'N' },
    columns: { type: 'int', min: 1, max: 1000, description: 'tiles per row (default 15, the book\'s filter_show)', value: 'N' },
    seed: { type: 'int', min: 0, description: 'filters: seed of the freshly initialised network (default: the training seed)', value: 'N' },
    'max-side': { type: 'int', min: 8, description: 'features: shrink larger images to this many pixels on the longest side', default: 256, value: 'N' },
    backend: { type: 'string', default: 'js', choices: backendNames(), description: 'compute backend', value: 'NAME' },
  },
  positionals: { name: `what to draw (${VIZ_KINDS.join(', ')})`, min: 1 },
};

/** Which flags apply to which picture (the rest are refused, not silently ignored). */
const APPLIES: Record<string, readonly VizKind[]> = {
  image: ['features', 'layers'],
  index: ['layers'],
  data: ['layers', 'confusion', 'misclassified'],
  count: ['misclassified'],
  columns: ['filters', 'features', 'layers', 'misclassified'],
  seed: ['filters'],
  'max-side': ['features'],
};

const CHARTS: readonly VizKind[] = ['curves', 'confusion'];

function checkOut(kind: VizKind, out: string): void {
  if (out.toLowerCase().endsWith('.svg') && !CHARTS.includes(kind)) {
    throw new UsageError(`viz ${kind} draws pixels and writes PNG only (SVG is for the charts: ${CHARTS.join(', ')})`);
  }
}

/** Shrinks an RGBA image so its longest side is at most maxSide (area averaging, per channel). */
export function shrinkImage(image: RgbaImage, maxSide: number): RgbaImage {
  const longest = Math.max(image.width, image.height);
  if (longest <= maxSide) return image;
  const width = Math.max(1, Math.round((image.width * maxSide) / longest));
  const height = Math.max(1, Math.round((image.height * maxSide) / longest));
  const out = new Uint8Array(width * height * 4);
  for (let c = 0; c < 4; c++) {
    const channel: GrayImage = { width: image.width, height: image.height, data: new Float32Array(image.width * image.height) };
    for (let i = 0; i < channel.data.length; i++) channel.data[i] = image.data[4 * i + c];
    const small = resizeGray(channel, width, height);
    for (let i = 0; i < width * height; i++) out[4 * i + c] = Math.round(small.data[i]);
  }
  return { width, height, data: out };
}

/** An image file as network input: an MNIST-style digit for 1x28x28 networks, else resized to fit (0..1). */
async function imageInput(network: Network, file: string): Promise<Tensor> {
  const [C, H, W] = network.inputShape;
  const rgba = await loadImage(file);
  if (C === 1 && H === 28 && W === 28) return new Tensor(toMnistDigit(toGray(rgba)), [1, 1, 28, 28]);
  if (C !== 1 && C !== 3) throw new ScratchnetError(`${file}: cannot feed an image to a network with ${C} input channels`);
  const small = imageToTensor(shrinkImage(rgba, Math.max(H, W)), C);
  const out = new Float32Array(C * H * W);
  const [, , h, w] = small.shape;
  for (let c = 0; c < C; c++) {
    const resized = resizeGray({ width: w, height: h, data: small.data.slice(c * h * w, (c + 1) * h * w) as Float32Array }, W, H);
    for (let i = 0; i < H * W; i++) out[c * H * W + i] = resized.data[i] / 255;
  }
  return new Tensor(out, [1, C, H, W]);
}

async function testSet(network: Network, dir: string | undefined, modelPath: string): Promise<{ x: Tensor; t: Int32Array }> {
  const data = await loadMnist({ flatten: false, dir, split: 'test' });
  const { x, t } = data.test;
  if (x.shape.slice(1).join('x') !== network.inputShape.join('x')) {
    throw new ScratchnetError(`${modelPath}: model expects inputs of ${network.inputShape.join('x')}, the test images are ${x.shape.slice(1).join('x')}`);
  }
  return { x, t };
}

export async function vizCommand(argv: string[], io: Io): Promise<number> {
  const { flags, positionals, help } = parseArgs(vizSpec, argv);
  if (help) {
    io.out(formatHelp(vizSpec));
    return 0;
  }
  if (positionals.length > 1) throw new UsageError(`unexpected argument '${positionals[1]}' (see scratchnet viz --help)`);
  const kind = positionals[0] as VizKind;
  if (!VIZ_KINDS.includes(kind)) throw new UsageError(`unknown picture '${positionals[0]}' (choose one of ${VIZ_KINDS.join(', ')})`);
  for (const [flag, kinds] of Object.entries(APPLIES)) {
    if (flags[flag] !== undefined && vizSpec.flags[flag].default === undefined && !kinds.includes(kind)) {
      throw new UsageError(`--${flag} does not apply to viz ${kind} (it is for ${kinds.join(', ')})`);
    }
  }
  if (flags.image !== undefined && flags.index !== undefined) throw new UsageError('give --image or --index, not both');
  const modelPath = requireFlag(vizSpec, flags, 'model');
  const outName = (flags.out as string | undefined) ?? `${kind}.png`;
  checkOut(kind, outName);
  const out = resolve(outName);
  // Before any work: the picture can be written, and it would not replace an input.
  await refuseOverlaps([{ flag: '--out', path: outName }], [{ flag: '--model', path: modelPath }, ...(flags.image !== undefined ? [{ flag: '--image', path: flags.image as string }] : [])]);
  await checkOutputPath(outName, 'the picture');
  const { network, training } = await readModelInput(modelPath, { backend: flags.backend as string });
  const columns = flags.columns as number | undefined;

  switch (kind) {
    case 'filters': {
      const conv = firstConvolution(network);
      const seed = (flags.seed as number | undefined) ?? (typeof training?.seed === 'number' && Number.isSafeInteger(training.seed) && training.seed >= 0 ? training.seed : 0);
      const fresh = firstConvolution(initialNetwork(network, seed)).layer.W;
      const { picture, panels } = compareFilters([
        { title: `random init (seed ${seed})`, filters: fresh },
        { title: `trained${typeof training?.epochs === 'number' ? ` (${training.epochs} epochs)` : ''}`, filters: conv.layer.W },
      ], { columns });
      await writePng(out, picture);
      io.out(`wrote ${outName} (${picture.width}x${picture.height} PNG: ${panels[1].tiles.length} filters of ${conv.name}, random init above trained)`);
      return 0;
    }
    case 'features': {
      const conv = firstConvolution(network);
      const C = conv.layer.W.shape[1];
      if (C !== 1 && C !== 3) throw new ScratchnetError(`${modelPath}: feature maps need filters over 1 or 3 channels, ${conv.name} has ${C}`);
      const file = (flags.image as string | undefined) ?? SAMPLE_IMAGE;
      const original = await loadImage(file);
      const image = shrinkImage(original, flags['max-side'] as number);
      if (image !== original) io.err(`scratchnet viz: ${file} is ${original.width}x${original.height}, shrunk to ${image.width}x${image.height} (--max-side)`);
      const maps = featureMaps(conv.layer.W, imageToTensor(image, C), { stride: conv.layer.stride, pad: conv.layer.pad });
      const { picture, tiles } = featureMapGrid(maps, { columns });
      await writePng(out, picture);
      io.out(`wrote ${outName} (${picture.width}x${picture.height} PNG: ${tiles.length} feature maps of ${maps.shape[1]}x${maps.shape[2]} from ${flags.image ?? 'the sample image'})`);
      return 0;
    }
    case 'layers': {
      let input: Tensor;
      let source: string;
      if (flags.image !== undefined) {
        input = await imageInput(network, flags.image as string);
        source = flags.image as string;
      } else {
        const { x, t } = await testSet(network, flags.data as string | undefined, modelPath);
        const index = (flags.index as number | undefined) ?? 0;
        if (index >= x.shape[0]) throw new ScratchnetError(`--index ${index} is past the last test image (${x.shape[0] - 1})`);
        input = x.sliceRows(index, index + 1);
        source = `test image ${index} (label ${t[index]})`;
      }
      const acts = layerActivations(network, input);
      const { picture, sections } = activationsPicture(acts, { columns });
      await writePng(out, picture);
      const probs = acts[acts.length - 1].values;
      let best = 0;
      for (let c = 1; c < probs.length; c++) if (probs[c] > probs[best]) best = c;
      io.out(`wrote ${outName} (${picture.width}x${picture.height} PNG: ${sections.length} sections for ${source}; predicted ${best}, ${(100 * probs[best]).toFixed(1)}%)`);
      return 0;
    }
    case 'curves': {
      let history;
      try {
        history = checkHistory(training);
      } catch (e) {
        if (e instanceof ScratchnetError) throw new ScratchnetError(`${modelPath}: ${e.message}`);
        throw e;
      }
      const n = (history.trainLossList?.length ?? 0) + (history.trainAccList?.length ?? 0) + (history.testAccList?.length ?? 0);
      if (n === 0) throw new ScratchnetError(`${modelPath}: the model file has no training history (trainLossList, trainAccList, testAccList)`);
      await writeChart(out, learningCurvesSpec(history));
      io.out(`wrote ${outName} (learning curves: ${history.testAccList?.length ?? 0} epochs, ${history.trainLossList?.length ?? 0} steps)`);
      return 0;
    }
    case 'confusion': {
      const { x, t } = await testSet(network, flags.data as string | undefined, modelPath);
      const evaluation = evaluateNetwork(network, x, t);
      await writeChart(out, confusionChartSpec(evaluation.confusion, { title: `Confusion matrix (${evaluation.total} test images, ${(100 * evaluation.accuracy).toFixed(2)}% correct)` }));
      io.out(`wrote ${outName} (confusion matrix, test accuracy ${(100 * evaluation.accuracy).toFixed(2)}%)`);
      return 0;
    }
    case 'misclassified': {
      const { x, t } = await testSet(network, flags.data as string | undefined, modelPath);
      const evaluation = evaluateNetwork(network, x, t);
      const mistakes = worstMistakes(evaluation, t, (flags.count as number | undefined) ?? 40);
      if (mistakes.length === 0) {
        io.out(`no misclassified test images (${evaluation.total} of ${evaluation.total} correct); nothing written`);
        return 0;
      }
      const { picture, tiles } = mistakeGrid(x, mistakes, { columns });
      await writePng(out, picture);
      io.out(`wrote ${outName} (${picture.width}x${picture.height} PNG: ${tiles.length} of ${evaluation.total - evaluation.correct} misclassified test images, worst first)`);
      return 0;
    }
  }
}
