import { uniform } from './random.ts';

/** `size` values uniform in [-1, 1) from `seed`. */
export function seededValues(size: number, seed: number): Float32Array<ArrayBuffer> {
  return uniform(size, seed) as Float32Array<ArrayBuffer>;
}

/**
 * The largest |actual - expected| over all elements, divided by the larger of 1 and the largest |expected|:
 * an error relative to the result's magnitude that stays meaningful for elements near 0.
 */
export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) return Number.POSITIVE_INFINITY;
  let scale = 1;
  let worst = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i] ?? 0));
  for (let i = 0; i < expected.length; i++) {
    const difference = Math.abs((actual[i] ?? Number.NaN) - (expected[i] ?? Number.NaN));
    worst = Number.isNaN(difference) ? Number.POSITIVE_INFINITY : Math.max(worst, difference);
  }
  return worst / scale;
}
