import { describe, expect, it } from 'vitest';
import { exp } from '../src/kernels/fast_math.ts';
import { uniform } from './support/random.ts';

describe('fast exp', () => {
  it('is within 2e-8 relative of Math.exp over float32 range', () => {
    let worst = 0;
    for (const x of uniform(100_000, 1, -87, 88)) worst = Math.max(worst, Math.abs(exp(x) / Math.exp(x) - 1));
    expect(worst).toBeLessThan(2e-8);
    expect(exp(0)).toBe(1);
  });

  it('saturates beyond float32 range and keeps NaN', () => {
    expect(Math.fround(exp(-1000))).toBe(0);
    expect(Math.fround(exp(Number.NEGATIVE_INFINITY))).toBe(0);
    expect(Math.fround(exp(1000))).toBe(Number.POSITIVE_INFINITY);
    expect(exp(Number.NaN)).toBeNaN();
  });
});
