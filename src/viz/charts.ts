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
export function accuracyChartSpec(history: TrainingHistory, options: { width?: number; height?: number } = {}): ChartSpec {
  const { trainAccList = [], testAccList = [] } = history;
  if (trainAccList.length === 0 && testAccList.length === 0) throw new ScratchnetError('no accuracy history (the model file has no trainAccList/testAccList)');
  const values = [
    ...trainAccList.map((a, i) => ({ epoch: i + 1, accuracy: a, data: 'train' })),
    ...testAccList.map((a, i) => ({ epoch: i + 1, accuracy: a, data: 'test' })),
  ];
  const samples = history.evaluateSampleNumPerEpoch ? ` (${history.evaluateSampleNumPerEpoch} samples each)` : '';
  return {
    $schema: SCHEMA,
    title: 'Accuracy per epoch',
    width: options.width ?? 520,
    height: options.height ?? 260,
    config: CONFIG,
    data: { values },
    mark: { type: 'line', point: true, tooltip: true },
    encoding: {
      x: { field: 'epoch', type: 'quantitative', title: 'epoch', axis: { tickMinStep: 1, format: 'd' }, scale: { domainMin: 0 } },
      y: { field: 'accuracy', type: 'quantitative', title: `accuracy (%)${samples}`, axis: { format: '.1%' }, scale: { zero: false, domainMax: 1 } },
      color: { field: 'data', type: 'nominal', title: 'data set', scale: { domain: ['train', 'test'], range: ['#d6602a', '#4678b4'] }, legend: { orient: 'right', labelLimit: 320 } },
    },
  } as ChartSpec;
}

/** Cross-entropy loss of every step, raw and smoothed, on a log scale. */
export function lossChartSpec(history: TrainingHistory, options: { width?: number; height?: number; smoothing?: number } = {}): ChartSpec {
  const loss = history.trainLossList ?? [];
  if (loss.length === 0) throw new ScratchnetError('no loss history (the model file has no trainLossList)');
  const weight = options.smoothing ?? 0.98;
  const smoothed = smooth(loss, weight);
  const rawName = 'per step';
  const smoothName = `smoothed (EMA ${weight})`;
  // Loss can be ~0 late in training; a log scale needs positive values.
  const floor = (v: number) => Math.max(v, 1e-6);
  const values = [
    ...loss.map((v, i) => ({ step: i + 1, loss: floor(v), series: rawName })),
    ...smoothed.map((v, i) => ({ step: i + 1, loss: floor(v), series: smoothName })),
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
export function learningCurvesSpec(history: TrainingHistory, options: { width?: number; smoothing?: number } = {}): ChartSpec {
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
