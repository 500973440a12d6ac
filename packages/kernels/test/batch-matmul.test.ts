import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../src/index.ts';
import type { WasmBackend } from '../src/wasm/heap.ts';
import { transposeInto } from '../src/wasm/matmul.ts';
import { nativeSkipReason } from './support/native.ts';
import { relativeError, seededValues } from './support/numbers.ts';

interface MatMulCase {
  name: string;
  aShape: number[];
  bShape: number[];
  transposeA: boolean;
  transposeB: boolean;
  a: Float32Array;
  b: Float32Array;
}

/** [M, K, N]: unit, odd, M = 1, N = 1, K = 1, and sizes spanning XNNPACK's tiles. */
const SIZES: [number, number, number][] = [
  [1, 1, 1],
  [7, 13, 5],
  [1, 13, 5],
  [7, 13, 1],
  [7, 1, 5],
  [33, 65, 17],
  // With transposeA (a weight gradient's shape), M >= 64 and N >= 2M: computed as (b^T a^T)^T.
  [64, 21, 130],
];
/** Batch dims of a and b: none, equal, one side broadcast, rank 4, and size-1 dims broadcast both ways. */
const BATCHES: [number[], number[]][] = [
  [[], []],
  [[3], [3]],
  [[3], []],
  [[], [3]],
  [[2, 3], []],
  [[2, 3], [3]],
  [
    [4, 1],
    [1, 3],
  ],
  [[1], [4]],
  [[2, 1], [3]],
];
const TRANSPOSES: [boolean, boolean][] = [
  [false, false],
  [true, false],
  [false, true],
  [true, true],
];

function stored(batch: number[], rows: number, cols: number, transposed: boolean): number[] {
  return transposed ? [...batch, cols, rows] : [...batch, rows, cols];
}

const CASES: MatMulCase[] = SIZES.flatMap(([m, k, n]) =>
  BATCHES.flatMap(([batchA, batchB]) =>
    TRANSPOSES.map(([transposeA, transposeB]) => {
      const aShape = stored(batchA, m, k, transposeA);
      const bShape = stored(batchB, k, n, transposeB);
      const seed = m * 1_000_003 + k * 1009 + n * 31 + batchA.length * 7 + batchB.length;
      return {
        name: `[${aShape}]${transposeA ? 'ᵀ' : ''} x [${bShape}]${transposeB ? 'ᵀ' : ''}`,
        aShape,
        bShape,
        transposeA,
        transposeB,
        a: seededValues(tf.util.sizeFromShape(aShape), seed),
        b: seededValues(tf.util.sizeFromShape(bShape), seed + 1),
      };
    }),
  ),
);

function matMul(c: MatMulCase): tf.Tensor {
  return tf.matMul(tf.tensor(c.a, c.aShape), tf.tensor(c.b, c.bShape), c.transposeA, c.transposeB);
}

/**
 * The cpu backend's result with the batch dims broadcast explicitly: its own BatchMatMul indexes batches
 * modulo their count, which is wrong for size-1 dims broadcast both ways ([4, 1] x [1, 3]).
 */
function reference(c: MatMulCase): { shape: number[]; values: Float32Array } {
  return tf.tidy(() => {
    const outer = tf.broadcast_util.assertAndGetBroadcastShape(c.aShape.slice(0, -2), c.bShape.slice(0, -2));
    const a = tf.broadcastTo(tf.tensor(c.a, c.aShape), [...outer, ...c.aShape.slice(-2)]);
    const b = tf.broadcastTo(tf.tensor(c.b, c.bShape), [...outer, ...c.bShape.slice(-2)]);
    const product = tf.matMul(a, b, c.transposeA, c.transposeB);
    return { shape: product.shape, values: product.dataSync() as Float32Array };
  });
}

/** sum(matMul(a, b)² · w): quadratic, so central differences are exact up to rounding. */
function loss(a: tf.Tensor, b: tf.Tensor, w: tf.Tensor, c: MatMulCase): tf.Scalar {
  return tf.sum(tf.mul(tf.square(tf.matMul(a, b, c.transposeA, c.transposeB)), w));
}

function gradients(c: MatMulCase, w: Float32Array, outShape: number[]): Float32Array[] {
  return tf.tidy(() =>
    tf
      .grads((a: tf.Tensor, b: tf.Tensor) => loss(a, b, tf.tensor(w, outShape), c))([
        tf.tensor(c.a, c.aShape),
        tf.tensor(c.b, c.bShape),
      ])
      .map((gradient) => gradient.dataSync() as Float32Array),
  );
}

/** d loss / d input by central differences, one element at a time. */
function finiteDifferences(
  c: MatMulCase,
  w: Float32Array,
  outShape: number[],
  input: 'a' | 'b',
): Float32Array {
  const eps = 1e-2;
  const values = c[input];
  const at = (index: number, delta: number): number =>
    tf.tidy(() => {
      const moved = values.slice();
      moved[index] = (moved[index] ?? 0) + delta;
      const a = tf.tensor(input === 'a' ? moved : c.a, c.aShape);
      const b = tf.tensor(input === 'b' ? moved : c.b, c.bShape);
      return loss(a, b, tf.tensor(w, outShape), c).dataSync()[0] ?? Number.NaN;
    });
  return Float32Array.from(values, (_, index) => (at(index, eps) - at(index, -eps)) / (2 * eps));
}

const GRADIENT_CASES: MatMulCase[] = [
  [[], [], 3, 4, 2],
  [[2], [2], 3, 4, 2],
  [[2, 2], [2, 2], 2, 3, 2],
].flatMap(([batchA, batchB, m, k, n]) =>
  TRANSPOSES.map(([transposeA, transposeB], index) => {
    const [ba, bb] = [batchA as number[], batchB as number[]];
    const aShape = stored(ba, m as number, k as number, transposeA);
    const bShape = stored(bb, k as number, n as number, transposeB);
    return {
      name: `[${aShape}]${transposeA ? 'ᵀ' : ''} x [${bShape}]${transposeB ? 'ᵀ' : ''}`,
      aShape,
      bShape,
      transposeA,
      transposeB,
      a: seededValues(tf.util.sizeFromShape(aShape), 500 + index),
      b: seededValues(tf.util.sizeFromShape(bShape), 600 + index),
    };
  }),
);

const expected = new Map<MatMulCase, { shape: number[]; values: Float32Array }>();
const expectedGradients = new Map<
  MatMulCase,
  { w: Float32Array; outShape: number[]; grads: Float32Array[] }
>();

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
  for (const c of CASES) expected.set(c, reference(c));
  for (const [index, c] of GRADIENT_CASES.entries()) {
    const { shape } = reference(c);
    const w = seededValues(tf.util.sizeFromShape(shape), 900 + index);
    expectedGradients.set(c, { w, outShape: shape, grads: gradients(c, w, shape) });
  }
});

const nativeSkip = nativeSkipReason();
const MODES = [
  { title: 'wasm (XNNPACK path)', native: false, skip: undefined },
  {
    title: `wasm + native BLAS${nativeSkip === undefined ? '' : ` (skipped: ${nativeSkip})`}`,
    native: true,
    skip: nativeSkip,
  },
];

for (const mode of MODES) {
  describe.skipIf(mode.skip !== undefined)(mode.title, () => {
    beforeAll(async () => {
      const info = await initBackend({ backend: 'wasm', native: mode.native });
      expect(info.accelerations.some((name) => name.startsWith('native-blas:'))).toBe(mode.native);
    });

    it('stays correct when allocating the output grows the wasm memory', () => {
      const heap = () => (tf.backend() as unknown as WasmBackend).wasm.HEAPU8;
      const before = heap().buffer;
      // An output larger than the whole current heap forces memory.grow, which detaches `before`.
      const n = 4096;
      const m = Math.ceil(heap().length / (4 * n)) + 8;
      const row = seededValues(m, 1);
      const column = seededValues(n, 2);
      const product = tf.tidy(() =>
        tf.matMul(tf.tensor(row, [1, m]), tf.tensor(column, [1, n]), true, false),
      );
      expect(heap().buffer).not.toBe(before);
      const values = product.dataSync();
      product.dispose();
      for (const [i, j] of [
        [0, 0],
        [m - 1, n - 1],
        [m >> 1, 17],
      ] as const) {
        expect(values[i * n + j]).toBeCloseTo((row[i] ?? 0) * (column[j] ?? 0), 6);
      }
    });

    it.each(CASES)('$name equals the cpu backend', (c) => {
      const want = expected.get(c);
      const got = tf.tidy(() => matMul(c));
      expect(got.shape).toEqual(want?.shape);
      expect(relativeError(got.dataSync(), want?.values ?? [])).toBeLessThan(1e-4);
      got.dispose();
    });

    it.each(GRADIENT_CASES)('gradients of $name match the cpu backend and finite differences', (c) => {
      const want = expectedGradients.get(c);
      if (want === undefined) throw new Error('no reference gradients');
      const [gradA, gradB] = gradients(c, want.w, want.outShape);
      expect(relativeError(gradA ?? [], want.grads[0] ?? [])).toBeLessThan(1e-4);
      expect(relativeError(gradB ?? [], want.grads[1] ?? [])).toBeLessThan(1e-4);
      expect(relativeError(gradA ?? [], finiteDifferences(c, want.w, want.outShape, 'a'))).toBeLessThan(2e-3);
      expect(relativeError(gradB ?? [], finiteDifferences(c, want.w, want.outShape, 'b'))).toBeLessThan(2e-3);
    });

    it('returns zeros for K = 0 and empty results for M = 0', () => {
      tf.tidy(() => {
        const zeros = tf.matMul(tf.zeros([2, 3, 0]), tf.zeros([0, 4]));
        expect(zeros.shape).toEqual([2, 3, 4]);
        expect(Array.from(zeros.dataSync())).toEqual(new Array(24).fill(0));
        expect(tf.matMul(tf.zeros([0, 5]), tf.ones([5, 4])).shape).toEqual([0, 4]);
      });
    });

    it('rejects mismatched inner dimensions and unbroadcastable batches', () => {
      tf.tidy(() => {
        expect(() => tf.matMul(tf.ones([2, 3]), tf.ones([4, 2]))).toThrow(/inner shapes/);
        expect(() => tf.matMul(tf.ones([2, 2, 3]), tf.ones([3, 3, 2]))).toThrow(/broadcast/);
      });
    });

    it('leaks no tensors and no heap ids', () => {
      const backend = tf.backend() as unknown as { numDataIds(): number };
      const tensors = tf.memory().numTensors;
      const dataIds = backend.numDataIds();
      tf.tidy(() => {
        for (const c of CASES) matMul(c);
      });
      expect(tf.memory().numTensors).toBe(tensors);
      expect(backend.numDataIds()).toBe(dataIds);
    });
  });
}

describe('transposeInto (the matmul operand transpose)', () => {
  for (const [count, rows, cols] of [
    [1, 1, 1],
    [1, 5, 130],
    [2, 67, 9],
    [3, 8, 64],
    [1, 4, 65],
  ] as [number, number, number][]) {
    it(`${count} x [${rows}, ${cols}]`, () => {
      const source = seededValues(count * rows * cols, rows * 31 + cols);
      const target = new Float32Array(source.length).fill(Number.NaN);
      transposeInto(source, target, count, rows, cols);
      for (let b = 0; b < count; b++) {
        for (let r = 0; r < rows; r++) {
          for (let c = 0; c < cols; c++) {
            const at = b * rows * cols;
            if (target[at + c * rows + r] !== source[at + r * cols + c]) {
              throw new Error(`mismatch at batch ${b}, row ${r}, column ${c}`);
            }
          }
        }
      }
      expect(target.every((value) => !Number.isNaN(value))).toBe(true);
    });
  }
});
