// Test-set evaluation for the pictures: predicted class and probabilities of every sample, the
// confusion matrix, and the worst mistakes (the wrong answers given with the most confidence).

import type { Network } from '../models/network.js';
import { softmax } from '../layers/functions.js';
import { ShapeError } from '../errors.js';
import type { Tensor } from '../tensor.js';

export interface Evaluation {
  /** Predicted class per sample. */
  predicted: Int32Array;
  /** Softmax probabilities, (N, classes) row-major. */
  probabilities: Float32Array;
  classes: number;
  /** confusion[true][predicted] counts. */
  confusion: number[][];
  correct: number;
  total: number;
  accuracy: number;
}

/** confusion[true][predicted] counts. */
export function confusionMatrix(truth: ArrayLike<number>, predicted: ArrayLike<number>, classes: number): number[][] {
  const m = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (let i = 0; i < truth.length; i++) m[truth[i]][predicted[i]]++;
  return m;
}

/** Runs the network over x in batches and scores it against labels t. */
export function evaluateNetwork(network: Network, x: Tensor, t: Int32Array, batchSize = 100): Evaluation {
  const n = x.shape[0];
  if (t.length !== n) throw new ShapeError(`got ${t.length} labels for ${n} samples`);
  const classes = network.outputSize;
  for (let i = 0; i < n; i++) {
    if (!(t[i] >= 0 && t[i] < classes)) throw new ShapeError(`label ${t[i]} at index ${i} is outside the model's ${classes} classes`);
  }
  const probabilities = new Float32Array(n * classes);
  const predicted = new Int32Array(n);
  for (let start = 0; start < n; start += batchSize) {
    const end = Math.min(n, start + batchSize);
    const p = softmax(network.predict(x.viewRows(start, end)));
    probabilities.set(p.data, start * classes);
    for (let i = start; i < end; i++) {
      let best = 0;
      for (let c = 1; c < classes; c++) if (probabilities[i * classes + c] > probabilities[i * classes + best]) best = c;
      predicted[i] = best;
    }
  }
  let correct = 0;
  for (let i = 0; i < n; i++) if (predicted[i] === t[i]) correct++;
  return { predicted, probabilities, classes, confusion: confusionMatrix(t, predicted, classes), correct, total: n, accuracy: n ? correct / n : 0 };
}

export interface Mistake {
  index: number;
  label: number;
  predicted: number;
  /** Probability the network gave its (wrong) answer. */
  confidence: number;
  /** Probability it gave the true class. */
  trueProbability: number;
}

/** The `count` misclassified samples with the lowest probability on the true class (worst first). */
export function worstMistakes(evaluation: Evaluation, labels: Int32Array, count: number): Mistake[] {
  const { predicted, probabilities, classes } = evaluation;
  const mistakes: Mistake[] = [];
  for (let i = 0; i < labels.length; i++) {
    if (predicted[i] === labels[i]) continue;
    mistakes.push({ index: i, label: labels[i], predicted: predicted[i], confidence: probabilities[i * classes + predicted[i]], trueProbability: probabilities[i * classes + labels[i]] });
  }
  mistakes.sort((a, b) => a.trueProbability - b.trueProbability || b.confidence - a.confidence || a.index - b.index);
  return mistakes.slice(0, count);
}
