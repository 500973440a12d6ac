/** Adding then subtracting 1.5 * 2^52 rounds a double to the nearest integer; Math.round is a slow call in V8. */
const ROUND = 6755399441055744;
// ln 2 in two parts, the first with few enough bits that k * LN2_HI is exact.
const LN2_HI = 0.693145751953125;
const LN2_LO = 1.428606765330187e-6;
const POW2_BIAS = 150;
const POW2 = Float64Array.from({ length: 280 }, (_, i) => 2 ** (i - POW2_BIAS));

/**
 * e^x within 1e-8 relative, about twice as fast as Math.exp in V8 (which dominates the fused kernels): 2^k e^r
 * with |r| <= ln(2)/2 and e^r by its degree-7 Taylor polynomial. Arguments are clamped to [-104, 89], beyond
 * float32's range either way; NaN stays NaN.
 */
export function exp(x: number): number {
  const v = Math.max(-104, Math.min(89, x));
  const k = v * Math.LOG2E + ROUND - ROUND;
  const r = v - k * LN2_HI - k * LN2_LO;
  const p = 1 + r * (1 + r * (1 / 2 + r * (1 / 6 + r * (1 / 24 + r * (1 / 120 + r * (1 / 720 + r / 5040))))));
  return p * (POW2[(k + POW2_BIAS) | 0] as number);
}
