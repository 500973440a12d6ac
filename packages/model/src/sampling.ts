import type { Rng } from './random.ts';

export interface SamplingOptions {
  /** 0 = greedy (argmax). Otherwise logits are divided by it before top-k/top-p and sampling. */
  temperature: number;
  /** Keep only the k most likely tokens (0 = off). Ties with the k-th value are kept, as in HF. */
  topK: number;
  /** Nucleus: keep the most likely tokens until their mass reaches topP (1 = off). */
  topP: number;
}

export interface Choice {
  token: number;
  /**
   * log softmax(logits / temperature)[token] over the whole vocabulary, before top-k/top-p truncation;
   * with temperature 0 (greedy) the untempered log softmax(logits)[token]. At temperature 1 this is the
   * policy's log-probability of the action, what PPO needs.
   */
  logProb: number;
}

/** Chooses the next token from one row of logits. Deterministic given the generator state. */
export function chooseToken(logits: Float32Array, options: SamplingOptions, rng: Rng): Choice {
  const vocab = logits.length;
  if (options.temperature === 0) {
    let best = 0;
    let bestValue = -Infinity;
    for (let i = 0; i < vocab; i++) {
      const value = logits[i] as number;
      if (value > bestValue) {
        bestValue = value;
        best = i;
      }
    }
    return { token: best, logProb: bestValue - logSumExp(logits, 1) };
  }
  const invT = 1 / options.temperature;
  let max = -Infinity;
  for (let i = 0; i < vocab; i++) max = Math.max(max, (logits[i] as number) * invT);
  // Unnormalised probabilities exp(z - max) and their sum.
  const weights = new Float64Array(vocab);
  let total = 0;
  for (let i = 0; i < vocab; i++) {
    const w = Math.exp((logits[i] as number) * invT - max);
    weights[i] = w;
    total += w;
  }
  const logTotal = Math.log(total) + max;
  let candidates: number[] | undefined;
  if (options.topK > 0 && options.topK < vocab) {
    const kth = kthLargest(weights, options.topK);
    candidates = [];
    for (let i = 0; i < vocab; i++) if ((weights[i] as number) >= kth) candidates.push(i);
  }
  if (options.topP < 1) candidates = nucleus(weights, candidates, options.topP, total);
  let token: number;
  if (candidates === undefined) {
    token = sampleIndex(weights, total, rng.next());
  } else {
    let mass = 0;
    for (const i of candidates) mass += weights[i] as number;
    let target = rng.next() * mass;
    token = candidates[candidates.length - 1] as number;
    for (const i of candidates) {
      target -= weights[i] as number;
      if (target < 0) {
        token = i;
        break;
      }
    }
  }
  return { token, logProb: (logits[token] as number) * invT - logTotal };
}

function logSumExp(values: Float32Array, scale: number): number {
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) max = Math.max(max, (values[i] as number) * scale);
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += Math.exp((values[i] as number) * scale - max);
  return Math.log(sum) + max;
}

function sampleIndex(weights: Float64Array, total: number, u: number): number {
  let target = u * total;
  let last = 0;
  for (let i = 0; i < weights.length; i++) {
    const w = weights[i] as number;
    if (w > 0) last = i;
    target -= w;
    if (target < 0) return i;
  }
  return last; // rounding left a sliver of mass: the last token with any weight
}

function kthLargest(weights: Float64Array, k: number): number {
  const sorted = Float64Array.from(weights).sort();
  return sorted[sorted.length - k] as number;
}

/**
 * The smallest set of most likely tokens (among `candidates`, or all) whose mass reaches `topP` of the
 * candidates' mass; at least one token. Sorts only tokens above a threshold when those already hold
 * enough mass, which is exact: the nucleus is a prefix of the descending order.
 */
function nucleus(
  weights: Float64Array,
  candidates: number[] | undefined,
  topP: number,
  total: number,
): number[] {
  const pool = candidates ?? Array.from({ length: weights.length }, (_, i) => i);
  let poolMass = total;
  if (candidates !== undefined) {
    poolMass = 0;
    for (const i of pool) poolMass += weights[i] as number;
  }
  const need = topP * poolMass;
  let maxW = 0;
  for (const i of pool) maxW = Math.max(maxW, weights[i] as number);
  let shortlist = pool;
  for (const factor of [1e-3, 1e-6]) {
    const threshold = maxW * factor;
    const above = pool.filter((i) => (weights[i] as number) >= threshold);
    let mass = 0;
    for (const i of above) mass += weights[i] as number;
    if (mass >= need) {
      shortlist = above;
      break;
    }
  }
  const sorted = [...shortlist].sort((a, b) => (weights[b] as number) - (weights[a] as number) || a - b);
  const kept: number[] = [];
  let mass = 0;
  for (const i of sorted) {
    kept.push(i);
    mass += weights[i] as number;
    if (mass >= need) break;
  }
  return kept;
}
