// Charts as Vega-Lite specs (plain JSON): the learning curves, the confusion matrix and class
// probabilities. One spec serves both places: Node renders it to SVG (vega) and PNG (resvg) for
// files, and the HTML report embeds the same spec, rendered interactively by vega in the page.
// Nothing here needs Node or vega itself: a spec is data.

import type { TopLevelSpec } from 'vega-lite';
import { ScratchnetError } from '../errors.js';

export type ChartSpec = TopLevelSpec;

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
const FONT = 'DejaVu Sans, Liberation Sans, Helvetica, Arial, sans-serif';
const CONFIG = {
  font: FONT,
  background: 'white',
  axis: { labelFontSize: 11, titleFontSize: 12, grid: true, gridOpacity: 0.5 },
  legend: { labelFontSize: 11, titleFontSize: 12 },
  title: { fontSize: 14, anchor: 'start' as const },
  view: { stroke: '#ddd' },
};

export interface TrainingHistory {
  /** Loss of every training step (mini-batch). */
  trainLossList?: number[];
  /** Accuracy on the training samples evaluated at the end of each epoch. */
  trainAccList?: number[];
  /** Accuracy on the test samples evaluated at the end of each epoch. */
  testAccList?: number[];
  /** Samples evaluated per epoch (shown in the axis title). */
  evaluateSampleNumPerEpoch?: number;
  batchSize?: number;
  [key: string]: unknown;
}

/** Points per series a chart draws at most: a 600k-step loss history would otherwise be 1.2M
 *  vega data objects (74 s and 2 GB to render); a chart 520 px wide shows no more detail. */
export const MAX_CHART_POINTS = 2000;

const LISTS = ['trainLossList', 'trainAccList', 'testAccList'] as const;

function describeValue(v: unknown): string {
  if (v === null) return 'null (NaN or infinite when it was saved?)';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 20 ? v.slice(0, 20) + '...' : v)}`;
  return `${typeof v} ${String(v)}`;
}

/**
 * The training history of a model file, checked: a model's metadata is untrusted JSON, and a
 * list that is a string or holds objects made the charts fail deep inside with a TypeError.
 * Each list must be an array of finite numbers (accuracies within 0..1); the optional numbers
 * shown in titles are dropped when malformed. Throws a one-line ScratchnetError naming the
 * field and the first bad value.
 */
export function checkHistory(training: unknown): TrainingHistory {
  if (training === null || training === undefined) return {};
  if (typeof training !== 'object' || Array.isArray(training)) throw new ScratchnetError(`training history: the training facts are ${describeValue(training)}, not an object`);
  const source = training as Record<string, unknown>;
  const out: TrainingHistory = {};
  for (const key of LISTS) {
    const list = source[key];
    if (list === undefined) continue;
    if (!Array.isArray(list)) throw new ScratchnetError(`training history: ${key} is ${describeValue(list)}, not a list of numbers`);
    const accuracy = key !== 'trainLossList';
    for (let i = 0; i < list.length; i++) {
      const v = list[i];
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new ScratchnetError(`training history: ${key}[${i}] is ${describeValue(v)}, not a finite number`);
      if (accuracy && (v < 0 || v > 1)) throw new ScratchnetError(`training history: ${key}[${i}] is ${v}, not an accuracy between 0 and 1`);
    }
    out[key] = list as number[];
  }
  for (const key of ['evaluateSampleNumPerEpoch', 'batchSize'] as const) {
    const v = source[key];
    if (typeof v === 'number' && Number.isSafeInteger(v) && v > 0) out[key] = v;
  }
  return out;
}

/** Which indices of a series of n points to draw, at most ~maxPoints: all when few; else per
 *  bucket of consecutive steps its lowest and highest value (spikes stay visible), in order. */
export function thinIndices(values: readonly number[], maxPoints = MAX_CHART_POINTS): number[] {
  const n = values.length;
  if (n <= maxPoints) return Array.from({ length: n }, (_, i) => i);
  const buckets = Math.max(1, Math.floor(maxPoints / 2));
  const out: number[] = [];
  for (let b = 0; b < buckets; b++) {
    const start = Math.floor((b * n) / buckets);
    const end = Math.floor(((b + 1) * n) / buckets);
    let lo = start, hi = start;
    for (let i = start + 1; i < end; i++) {
      if (values[i] < values[lo]) lo = i;
      if (values[i] > values[hi]) hi = i;
    }
    if (lo === hi) out.push(lo);
    else out.push(Math.min(lo, hi), Math.max(lo, hi));
  }
  // The last step stays the last point drawn.
  if (out[out.length - 1] !== n - 1) out.push(n - 1);
  return out;
}

/** At most ~maxPoints evenly spaced indices of n (first and last included): for a series that is
 *  already smooth, where per-bucket extremes would only draw a band of its small wiggles. */
export function sampleIndices(n: number, maxPoints = MAX_CHART_POINTS): number[] {
  if (n <= maxPoints) return Array.from({ length: n }, (_, i) => i);
  const out: number[] = [];
  for (let k = 0; k < maxPoints; k++) out.push(Math.round((k * (n - 1)) / (maxPoints - 1)));
  return out;
}

/**
 * Exponential moving average with bias correction (as TensorBoard's smoothing): the first
 * values are not pulled towards 0. weight 0 = no smoothing; 0.98 ~ the last 50 steps.
 */
export function smooth(values: readonly number[], weight = 0.98): number[] {
  const out: number[] = [];
  let avg = 0;
  for (let i = 0; i < values.length; i++) {
    avg = weight * avg + (1 - weight) * values[i];
    out.push(avg / (1 - Math.pow(weight, i + 1)));
  }
  return out;
}

/** Train and test accuracy per epoch (book 7.5's plot), in percent. */
export function accuracyChartSpec(unchecked: TrainingHistory, options: { width?: number; height?: number } = {}): ChartSpec {
  const history = checkHistory(unchecked);
  const { trainAccList = [], testAccList = [] } = history;
  if (trainAccList.length === 0 && testAccList.length === 0) throw new ScratchnetError('no accuracy history (the model file has no trainAccList/testAccList)');
  const points = (list: readonly number[], data: string) => thinIndices(list).map((i) => ({ epoch: i + 1, accuracy: list[i], data }));
  const values = [...points(trainAccList, 'train'), ...points(testAccList, 'test')];
  const many = Math.max(trainAccList.length, testAccList.length) > 60;
  const samples = history.evaluateSampleNumPerEpoch ? ` (${history.evaluateSampleNumPerEpoch} samples each)` : '';
  return {
    $schema: SCHEMA,
    title: 'Accuracy per epoch',
    width: options.width ?? 520,
    height: options.height ?? 260,
    config: CONFIG,
    data: { values },
    mark: { type: 'line', point: !many, tooltip: true },
    encoding: {
      x: { field: 'epoch', type: 'quantitative', title: 'epoch', axis: { tickMinStep: 1, format: 'd' }, scale: { domainMin: 0 } },
      y: { field: 'accuracy', type: 'quantitative', title: `accuracy (%)${samples}`, axis: { format: '.1%' }, scale: { zero: false, domainMax: 1 } },
      color: { field: 'data', type: 'nominal', title: 'data set', scale: { domain: ['train', 'test'], range: ['#d6602a', '#4678b4'] }, legend: { orient: 'right', labelLimit: 320 } },
    },
  } as ChartSpec;
}

/** Cross-entropy loss of every step, raw and smoothed, on a log scale. */
export function lossChartSpec(unchecked: TrainingHistory, options: { width?: number; height?: number; smoothing?: number } = {}): ChartSpec {
  const history = checkHistory(unchecked);
  const loss = history.trainLossList ?? [];
  if (loss.length === 0) throw new ScratchnetError('no loss history (the model file has no trainLossList)');
  const weight = options.smoothing ?? 0.98;
  const smoothed = smooth(loss, weight);
  const rawName = 'per step';
  const smoothName = `smoothed (EMA ${weight})`;
  // Loss can be ~0 late in training; a log scale needs positive values.
  const floor = (v: number) => Math.max(v, 1e-6);
  // Smoothed over every step first, then thinned: the curve is the same, only drawn with fewer points.
  const values = [
    ...thinIndices(loss).map((i) => ({ step: i + 1, loss: floor(loss[i]), series: rawName })),
    ...sampleIndices(smoothed.length).map((i) => ({ step: i + 1, loss: floor(smoothed[i]), series: smoothName })),
  ];
  const batch = history.batchSize ? ` of ${history.batchSize}` : '';
  return {
    $schema: SCHEMA,
    title: 'Training loss per step',
    width: options.width ?? 520,
    height: options.height ?? 260,
    config: CONFIG,
    data: { values },
    encoding: {
      x: { field: 'step', type: 'quantitative', title: `step (mini-batch${batch})`, axis: { format: ',d' } },
      y: { field: 'loss', type: 'quantitative', title: 'cross-entropy loss (log scale)', scale: { type: 'log' } },
      color: { field: 'series', type: 'nominal', title: 'loss', scale: { domain: [rawName, smoothName], range: ['#9bb7d4', '#d6602a'] }, legend: { orient: 'right', labelLimit: 320 } },
    },
    // Two layers rather than strokeWidth/opacity encodings: the raw line thin and light, the
    // smoothed one on top.
    layer: [
      { transform: [{ filter: { field: 'series', equal: rawName } }], mark: { type: 'line', clip: true, strokeWidth: 0.7, opacity: 0.7, tooltip: true } },
      { transform: [{ filter: { field: 'series', equal: smoothName } }], mark: { type: 'line', clip: true, strokeWidth: 2, tooltip: true } },
    ],
  } as ChartSpec;
}

/** Accuracy per epoch above loss per step, as one chart (whichever histories exist). */
export function learningCurvesSpec(unchecked: TrainingHistory, options: { width?: number; smoothing?: number } = {}): ChartSpec {
  const history = checkHistory(unchecked);
  const charts: Record<string, unknown>[] = [];
  const strip = (spec: ChartSpec) => {
    const { $schema: _s, config: _c, ...rest } = spec as unknown as Record<string, unknown>;
    return rest;
  };
  if ((history.trainAccList?.length ?? 0) + (history.testAccList?.length ?? 0) > 0) charts.push(strip(accuracyChartSpec(history, options)));
  if ((history.trainLossList?.length ?? 0) > 0) charts.push(strip(lossChartSpec(history, options)));
  if (charts.length === 0) throw new ScratchnetError('no training history (the model file stores no trainLossList, trainAccList or testAccList)');
  return { $schema: SCHEMA, config: CONFIG, vconcat: charts, resolve: { scale: { color: 'independent' }, legend: { color: 'independent' } } } as unknown as ChartSpec;
}

/** Confusion matrix as a heat map with counts: rows = true class, columns = predicted class. */
export function confusionChartSpec(confusion: number[][], options: { classNames?: readonly string[]; title?: string } = {}): ChartSpec {
  const n = confusion.length;
  const names = Array.from({ length: n }, (_, i) => options.classNames?.[i] ?? String(i));
  const values: { true: string; predicted: string; count: number; share: number; correct: boolean }[] = [];
  for (let i = 0; i < n; i++) {
    const total = confusion[i].reduce((a, b) => a + b, 0);
    for (let j = 0; j < n; j++) {
      values.push({ true: names[i], predicted: names[j], count: confusion[i][j], share: total ? confusion[i][j] / total : 0, correct: i === j });
    }
  }
  const size = Math.max(240, 36 * n);
  return {
    $schema: SCHEMA,
    title: options.title ?? 'Confusion matrix (test set)',
    width: size,
    height: size,
    config: CONFIG,
    data: { values },
    encoding: {
      x: { field: 'predicted', type: 'ordinal', sort: names, title: 'predicted class', axis: { labelAngle: 0, grid: false } },
      y: { field: 'true', type: 'ordinal', sort: names, title: 'true class', axis: { grid: false } },
    },
    layer: [
      {
        mark: { type: 'rect', tooltip: true },
        encoding: {
          // symlog: the diagonal (~1000) and the rare mistakes (1-10) both stay visible.
          color: { field: 'count', type: 'quantitative', title: 'images', scale: { type: 'symlog', range: ['#ffffff', '#08306b'], interpolate: 'lab' } },
        },
      },
      {
        mark: { type: 'text', fontSize: 10 },
        encoding: {
          text: { field: 'count', type: 'quantitative' },
          color: { condition: { test: 'datum.share > 0.5', value: 'white' }, value: '#222' },
        },
      },
    ],
  } as ChartSpec;
}

/** Class probabilities for one input as a bar chart (the most probable class highlighted). */
export function probabilitiesChartSpec(probabilities: ArrayLike<number>, options: { classNames?: readonly string[]; title?: string } = {}): ChartSpec {
  const values = Array.from(probabilities, (p, i) => ({ class: options.classNames?.[i] ?? String(i), probability: p }));
  const best = values.reduce((b, v) => (v.probability > b.probability ? v : b), values[0]);
  return {
    $schema: SCHEMA,
    title: options.title ?? 'Class probabilities',
    width: 360,
    height: { step: 20 },
    config: CONFIG,
    data: { values },
    mark: { type: 'bar', tooltip: true },
    encoding: {
      y: { field: 'class', type: 'nominal', sort: values.map((v) => v.class), title: 'class' },
      x: { field: 'probability', type: 'quantitative', title: 'probability', axis: { format: '.0%' }, scale: { domain: [0, 1] } },
      color: { condition: { test: `datum.class === ${JSON.stringify(best?.class ?? '')}`, value: '#d6602a' }, value: '#4678b4' },
    },
  } as ChartSpec;
}
