import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../src/index.ts';
import {
  configureMatMulPool,
  MATMUL_POOL_DEFAULTS,
  MatMulPoolError,
  matMulPoolFor,
  matMulPoolStats,
} from '../src/wasm/matmul-pool.ts';
import { relativeError, seededValues } from './support/numbers.ts';

/** [M, K, N]: odd sizes, M = 1, N = 1, and sizes spanning XNNPACK's tiles. */
const SIZES: [number, number, number][] = [
  [7, 13, 5],
  [1, 9, 6],
  [9, 6, 1],
  [33, 65, 17],
  [64, 48, 40],
];
/** Batch dims of a and b: none, equal, one side broadcast, and size-1 dims broadcast both ways. */
const BATCHES: [number[], number[]][] = [
  [[], []],
  [[3], [3]],
  [[3], []],
  [[], [3]],
  [[2, 3], [3]],
  [
    [4, 1],
    [1, 3],
  ],
];
const TRANSPOSES: [boolean, boolean][] = [
  [false, false],
  [true, false],
  [false, true],
  [true, true],
];

interface Case {
  name: string;
  aShape: number[];
  bShape: number[];
  transposeA: boolean;
  transposeB: boolean;
  a: Float32Array;
  b: Float32Array;
}

const CASES: Case[] = SIZES.flatMap(([m, k, n], sizeIndex) =>
  BATCHES.flatMap(([batchA, batchB], batchIndex) =>
    TRANSPOSES.map(([transposeA, transposeB], transposeIndex) => {
      const aShape = transposeA ? [...batchA, k, m] : [...batchA, m, k];
      const bShape = transposeB ? [...batchB, n, k] : [...batchB, k, n];
      const seed = 1000 * sizeIndex + 10 * batchIndex + transposeIndex;
      return {
        name: `[${aShape}]${transposeA ? 'ᵀ' : ''} x [${bShape}]${transposeB ? 'ᵀ' : ''}`,
        aShape,
        bShape,
        transposeA,
        transposeB,
        a: seededValues(tf.util.sizeFromShape(aShape), seed),
        b: seededValues(tf.util.sizeFromShape(bShape), seed + 7),
      };
    }),
  ),
);

/** The product in float64 with numpy broadcasting, independent of any backend. */
function reference(c: Case): number[] {
  const outerA = c.aShape.slice(0, -2);
  const outerB = c.bShape.slice(0, -2);
  const outer = tf.broadcast_util.assertAndGetBroadcastShape(outerA, outerB);
  const [aRows = 0, aCols = 0] = c.aShape.slice(-2);
  const [bRows = 0, bCols = 0] = c.bShape.slice(-2);
  const [m, k] = c.transposeA ? [aCols, aRows] : [aRows, aCols];
  const n = c.transposeB ? bRows : bCols;
  const source = (index: number, dims: number[]) => {
    let rest = index;
    let at = 0;
    let stride = 1;
    for (let axis = outer.length - 1; axis >= 0; axis--) {
      const size = outer[axis] ?? 1;
      const coordinate = rest % size;
      rest = Math.floor(rest / size);
      const dim = dims[axis - (outer.length - dims.length)];
      if (dim === undefined) break;
      if (dim !== 1) at += coordinate * stride;
      stride *= dim;
    }
    return at;
  };
  const values: number[] = [];
  for (let batch = 0; batch < tf.util.sizeFromShape(outer); batch++) {
    const aAt = source(batch, outerA) * m * k;
    const bAt = source(batch, outerB) * k * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let sum = 0;
        for (let p = 0; p < k; p++) {
          const a = c.a[aAt + (c.transposeA ? p * m + i : i * k + p)] ?? Number.NaN;
          const b = c.b[bAt + (c.transposeB ? j * k + p : p * n + j)] ?? Number.NaN;
          sum += a * b;
        }
        values.push(sum);
      }
    }
  }
  return values;
}

/** The product on one thread (`pooled = false`) or split across the pool at any size. */
function product(c: Case, pooled: boolean): Float32Array {
  configureMatMulPool({ minFlops: pooled ? 0 : Number.POSITIVE_INFINITY, minIntensity: 0 });
  return tf.tidy(
    () =>
      tf
        .matMul(tf.tensor(c.a, c.aShape), tf.tensor(c.b, c.bShape), c.transposeA, c.transposeB)
        .dataSync() as Float32Array,
  );
}

describe('pure-wasm matmul worker pool', () => {
  let threads = 0;
  let accelerations: string[] = [];
  beforeAll(async () => {
    ({ threads, accelerations } = await initBackend({ backend: 'wasm', native: false, threads: 2 }));
  });
  afterAll(() => configureMatMulPool(MATMUL_POOL_DEFAULTS));

  it('starts with initBackend and reports its threads', () => {
    expect(threads).toBe(2);
    expect(accelerations).toContain('wasm-matmul-threads:2');
    expect(matMulPoolStats().threads).toBe(2);
  });

  it.each(CASES)('$name: split equals one thread bitwise and the float64 product', (c) => {
    const jobs = matMulPoolStats().jobs;
    const tensors = tf.memory().numTensors;
    const single = product(c, false);
    expect(matMulPoolStats().jobs).toBe(jobs);
    const pooled = product(c, true);
    expect(tf.memory().numTensors).toBe(tensors);
    const n = c.transposeB ? (c.bShape.at(-2) ?? 1) : (c.bShape.at(-1) ?? 1);
    // A split needs at least two output rows (or batch slices) to share.
    if (single.length / n >= 2) expect(matMulPoolStats().jobs).toBeGreaterThan(jobs);
    expect(Array.from(pooled)).toEqual(Array.from(single));
    expect(relativeError(pooled, reference(c))).toBeLessThan(1e-5);
  });

  // `a^T` products whose threads transpose their own share of `a`: a wide weight gradient (computed swapped,
  // so `b` is the transposed operand), a tall one, and batched ones split by batch slice (odd counts).
  it.each([
    { aShape: [96, 64], bShape: [96, 160] },
    { aShape: [96, 70], bShape: [96, 20] },
    { aShape: [5, 33, 18], bShape: [5, 33, 21] },
    { aShape: [2, 3, 40, 24], bShape: [3, 40, 9] },
  ])('[$aShape]ᵀ x [$bShape]: per-thread transposes equal one thread bitwise', ({ aShape, bShape }) => {
    const c: Case = {
      name: '',
      aShape,
      bShape,
      transposeA: true,
      transposeB: false,
      a: seededValues(tf.util.sizeFromShape(aShape), 31),
      b: seededValues(tf.util.sizeFromShape(bShape), 32),
    };
    const jobs = matMulPoolStats().jobs;
    const tensors = tf.memory().numTensors;
    const single = product(c, false);
    const pooled = product(c, true);
    expect(matMulPoolStats().jobs).toBeGreaterThan(jobs);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(Array.from(pooled)).toEqual(Array.from(single));
    expect(relativeError(pooled, reference(c))).toBeLessThan(1e-5);
  });

  it('splits fused matmuls with bias and activation exactly', () => {
    const [m, k, n] = [50, 24, 19];
    const a = seededValues(m * k, 11);
    const b = seededValues(k * n, 12);
    const bias = seededValues(n, 13);
    for (const activation of ['linear', 'relu', 'relu6'] as const) {
      for (const [transposeA, transposeB] of TRANSPOSES) {
        const run = (pooled: boolean) => {
          configureMatMulPool({ minFlops: pooled ? 0 : Number.POSITIVE_INFINITY, minIntensity: 0 });
          return tf.tidy(
            () =>
              tf.fused
                .matMul({
                  a: tf.tensor(a, transposeA ? [k, m] : [m, k]),
                  b: tf.tensor(b, transposeB ? [n, k] : [k, n]),
                  transposeA,
                  transposeB,
                  bias: tf.tensor(bias, [n]),
                  activation,
                })
                .dataSync() as Float32Array,
          );
        };
        const jobs = matMulPoolStats().jobs;
        const tensors = tf.memory().numTensors;
        const single = run(false);
        const pooled = run(true);
        expect(matMulPoolStats().jobs).toBeGreaterThan(jobs);
        expect(tf.memory().numTensors).toBe(tensors);
        expect(Array.from(pooled)).toEqual(Array.from(single));
      }
    }
  });

  it('takes large products by default and leaves small or copy-bound ones on the main thread', () => {
    configureMatMulPool(MATMUL_POOL_DEFAULTS);
    let jobs = matMulPoolStats().jobs;
    const small = tf.tidy(() => tf.matMul(tf.ones([16, 64]), tf.ones([64, 64])).dataSync());
    expect(small.every((value) => value === 64)).toBe(true);
    // 16 rows against a [256, 1024] weight: 8.4 Mflop but only 30 flops per float copied (sampling).
    const fewRows = tf.tidy(() => tf.matMul(tf.ones([16, 256]), tf.ones([256, 1024])).dataSync());
    expect(fewRows.every((value) => value === 256)).toBe(true);
    expect(matMulPoolStats().jobs).toBe(jobs);
    jobs = matMulPoolStats().jobs;
    const big = tf.tidy(() => tf.matMul(tf.ones([512, 128]), tf.ones([128, 256])).dataSync());
    expect(matMulPoolStats().jobs).toBe(jobs + 1);
    expect(big.every((value) => value === 128)).toBe(true);
  });

  it('surfaces a dead worker as MatMulPoolError, then runs on one thread until restarted', async () => {
    configureMatMulPool({ minFlops: 0, minIntensity: 0 });
    const pool = matMulPoolFor(0);
    expect(pool).toBeDefined();
    await pool?.workers[0]?.worker.terminate();
    const c = CASES.find((x) => x.name === '[3,33,65] x [3,65,17]') ?? CASES[0];
    if (c === undefined) throw new Error('no case');
    expect(() => product(c, true)).toThrow(MatMulPoolError);
    expect(matMulPoolStats().broken).toBe(true);
    expect(Array.from(product(c, true))).toEqual(Array.from(product(c, false)));
    await initBackend({ backend: 'wasm', native: false, threads: 2 });
    expect(matMulPoolStats().broken).toBe(false);
    const jobs = matMulPoolStats().jobs;
    expect(Array.from(product(c, true))).toEqual(Array.from(product(c, false)));
    expect(matMulPoolStats().jobs).toBeGreaterThan(jobs);
  });

  it('threads: 1 runs without workers', async () => {
    const info = await initBackend({ backend: 'wasm', native: false, threads: 1 });
    expect(info.threads).toBe(1);
    expect(info.accelerations.some((a) => a.startsWith('wasm-matmul-threads'))).toBe(false);
    expect(matMulPoolFor(0)).toBeUndefined();
  });
});
