// Shared test helpers: comparisons with a relative tolerance, and gradient checks.

import assert from 'node:assert/strict';
import type { FloatArray } from '../src/tensor.js';

/** Largest elementwise |a - b| / max(|a|, |b|, floor), floor = 1e-3 * max|b| so entries that are
 *  zero up to rounding (e.g. 1e-20 vs 0) do not dominate. Returns the worst value and index. */
export function maxRelError(a: ArrayLike<number>, b: ArrayLike<number>): { max: number; index: number } {
  assert.equal(a.length, b.length, `length ${a.length} vs ${b.length}`);
  let scale = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  const floor = Math.max(1e-3 * scale, 1e-30);
  let max = 0;
  let index = -1;
  for (let i = 0; i < a.length; i++) {
    const denom = Math.max(Math.abs(a[i]), Math.abs(b[i]), floor);
    const rel = Math.abs(a[i] - b[i]) / denom;
    if (!(rel <= max)) {
      max = rel;
      index = i;
    }
  }
  return { max, index };
}

export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): void {
  const { max, index } = maxRelError(actual, expected);
  assert.ok(max < tol, `${what}: relative error ${max.toExponential(3)} at index ${index} (got ${actual[index]}, expected ${expected[index]}) exceeds ${tol}`);
}

/** Central-difference gradient of f with respect to every entry of `p` (perturbed in place). */
export function numericalGradient(f: () => number, p: FloatArray, h = 1e-5): Float64Array {
  const grad = new Float64Array(p.length);
  for (let i = 0; i < p.length; i++) {
    const old = p[i];
    p[i] = old + h;
    const fp = f();
    p[i] = old - h;
    const fm = f();
    p[i] = old;
    grad[i] = (fp - fm) / (2 * h);
  }
  return grad;
}

/** A deterministic generator for test data (never Math.random). */
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}
