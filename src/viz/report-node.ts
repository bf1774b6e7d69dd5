// Assembles the HTML training report in Node: evaluates the model on the test set, draws the
// pictures (PNG data: URLs), inlines the vega builds, and writes one file atomically.

import type { RgbaImage } from '../data/image.js';
import { writeFileAtomic } from '../io/atomic.js';
import type { Network } from '../models/network.js';
import type { Tensor } from '../tensor.js';
import { ScratchnetError } from '../errors.js';
import { checkHistory, confusionChartSpec, learningCurvesSpec, type TrainingHistory } from './charts.js';
import { evaluateNetwork, worstMistakes } from './evaluate.js';
import { featureMapGrid, featureMaps, imageToTensor } from './features.js';
import { compareFilters, firstConvolution, initialNetwork } from './filters.js';
import { activationsPicture, layerActivations } from './layers.js';
import { mistakeGrid } from './misclassified.js';
import { encodePng, pngDataUrl, vegaBrowserScripts } from './node.js';
import { renderReportHtml, type ReportChart, type ReportImage } from './report.js';

export interface ReportOptions {
  network: Network;
  /** The model file's training facts (history for the curves, settings, timing). */
  training: Record<string, unknown> | null;
  test: { x: Tensor; t: Int32Array };
  /** Where the test set came from (shown in the report). */
  dataName?: string;
  modelFile?: string;
  title?: string;
  /** Image for the feature-map section (RGBA); omitted when not given. */
  sampleImage?: RgbaImage;
  sampleImageName?: string;
  /** How many misclassified digits to show (default 40). */
  mistakes?: number;
  /** Told about parts left out (e.g. a malformed training history), one line each. */
  onWarning?: (line: string) => void;
}

async function image(id: string, title: string, caption: string, picture: RgbaImage): Promise<ReportImage> {
  return { id, title, caption, src: pngDataUrl(await encodePng(picture)), width: picture.width, height: picture.height };
}

/** The report page as a string. */
export async function buildReport(options: ReportOptions): Promise<string> {
  const started = performance.now();
  const { network, training, test } = options;
  const t0 = performance.now();
  const evaluation = evaluateNetwork(network, test.x, test.t);
  const evalSeconds = (performance.now() - t0) / 1000;

  const charts: ReportChart[] = [];
  // A malformed history (the file's metadata is untrusted) costs the curves, not the report.
  let history: TrainingHistory = {};
  try {
    history = checkHistory(training);
  } catch (e) {
    if (!(e instanceof ScratchnetError)) throw e;
    options.onWarning?.(`${e.message}; the report leaves out the learning curves`);
  }
  const hasHistory = (history.trainLossList?.length ?? 0) + (history.trainAccList?.length ?? 0) + (history.testAccList?.length ?? 0) > 0;
  if (hasHistory) {
    charts.push({ id: 'curves', title: 'Learning curves', caption: 'Accuracy at the end of each epoch (train and test samples), and the loss of every mini-batch step with its exponential moving average. Hover for values.', spec: learningCurvesSpec(history) });
  }
  charts.push({ id: 'confusion', title: 'Confusion matrix', caption: `Rows: true class; columns: predicted class; ${evaluation.total.toLocaleString('en-US')} test images. Off-diagonal cells are the mistakes.`, spec: confusionChartSpec(evaluation.confusion) });

  const images: ReportImage[] = [];
  const conv = (() => {
    try {
      return firstConvolution(network);
    } catch {
      return null;
    }
  })();
  if (conv) {
    const seed = typeof training?.seed === 'number' && Number.isSafeInteger(training.seed) && training.seed >= 0 ? training.seed : 0;
    const fresh = firstConvolution(initialNetwork(network, seed)).layer.W;
    const filters = compareFilters([
      { title: `random init (seed ${seed})`, filters: fresh },
      { title: 'trained', filters: conv.layer.W },
    ]);
    images.push(await image('filters', `First-layer filters (${conv.name})`, 'Each filter normalised on its own, grey scale (largest weight black), as the book\'s filter_show. Top: the same network freshly initialised with the training seed; bottom: after training.', filters.picture));
    if (options.sampleImage && (conv.layer.W.shape[1] === 1 || conv.layer.W.shape[1] === 3)) {
      const maps = featureMaps(conv.layer.W, imageToTensor(options.sampleImage, conv.layer.W.shape[1]), { stride: conv.layer.stride, pad: conv.layer.pad });
      images.push(await image('features', 'Feature maps', `Every trained first-layer filter applied to ${options.sampleImageName ?? 'the sample image'} (first colour channel, bias left out, as in the reference), each map normalised on its own.`, featureMapGrid(maps).picture));
    }
  }
  const mistakes = worstMistakes(evaluation, test.t, options.mistakes ?? 40);
  if (mistakes.length > 0) {
    images.push(await image('misclassified', 'Worst-misclassified test images', `The ${mistakes.length} mistakes with the lowest probability on the true class, worst first: true class, predicted class and the network's confidence in it.`, mistakeGrid(test.x, mistakes).picture));
  }
  if (test.x.shape[0] > 0) {
    const acts = layerActivations(network, test.x.sliceRows(0, 1));
    images.push(await image('layers', 'Layer by layer (first test image)', `The output of every layer for test image 0 (label ${test.t[0]}): channel grids share one grey scale per layer; dense outputs are bars (orange positive, blue negative); last, the softmax probabilities.`, activationsPicture(acts).picture));
  }

  const scripts = await vegaBrowserScripts();
  const html = renderReportHtml({
    title: options.title ?? 'scratchnet training report',
    modelFile: options.modelFile,
    spec: network.spec(),
    parameterCount: network.parameterCount,
    training,
    evaluation: { correct: evaluation.correct, total: evaluation.total, accuracy: evaluation.accuracy, seconds: evalSeconds, data: options.dataName ?? 'test set' },
    charts,
    images,
    scripts,
    timing: [['report built in', `${((performance.now() - started) / 1000).toFixed(1)} s`]],
    generated: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
  });
  return html;
}

/** Builds the report and writes it to `path` atomically. */
export async function writeReport(path: string, options: ReportOptions): Promise<void> {
  await writeFileAtomic(path, await buildReport(options));
}
