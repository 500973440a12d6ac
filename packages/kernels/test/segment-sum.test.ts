import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectClose, initTestBackends, runOn } from './support/backends.ts';
import { integers, uniform } from './support/random.ts';

beforeAll(initTestBackends);

describe('UnsortedSegmentSum on wasm matches the cpu backend', () => {
  const cases = [
    { shape: [9], idsShape: [9], numSegments: 4 },
    { shape: [11, 5], idsShape: [11], numSegments: 7 },
    { shape: [6, 3, 4], idsShape: [6], numSegments: 9 },
    { shape: [4, 3, 5], idsShape: [4, 3], numSegments: 6 },
    { shape: [0, 3], idsShape: [0], numSegments: 2 },
  ];
  for (const { shape, idsShape, numSegments } of cases) {
    it(`x [${shape}], ids [${idsShape}], ${numSegments} segments`, async () => {
      const size = tf.util.sizeFromShape(shape);
      const count = tf.util.sizeFromShape(idsShape);
      // Repeats, and segments left empty (ids only reach numSegments - 3), and ids out of range (dropped).
      const ids = integers(count, numSegments, 0, Math.max(1, numSegments - 3));
      if (count > 2) {
        ids[0] = -1;
        ids[1] = numSegments;
      }
      for (const dtype of ['float32', 'int32'] as const) {
        const values = dtype === 'float32' ? uniform(size, count) : integers(size, count, -50, 50);
        const run = () =>
          tf.unsortedSegmentSum(
            tf.tensor(values, shape, dtype),
            // Typed as 1-D, but the kernel (as TensorFlow) takes ids of any leading shape of x.
            tf.tensor(ids, idsShape, 'int32') as tf.Tensor as tf.Tensor1D,
            numSegments,
          );
        // The cpu kernel mishandles ids of rank > 1 (TensorFlow allows any leading shape): flatten them there.
        const flatShape = [count, ...shape.slice(idsShape.length)];
        const reference = () =>
          tf.unsortedSegmentSum(
            tf.tensor(values, flatShape, dtype),
            tf.tensor(ids, [count], 'int32'),
            numSegments,
          );
        const wasm = await runOn('wasm', run);
        expectClose(wasm, await runOn('cpu', reference), 1e-6, 1e-6);
        expect(wasm[0]?.shape).toEqual([numSegments, ...shape.slice(idsShape.length)]);
      }
    });
  }
});

describe('tf.gather has a gradient on wasm (embedding lookup)', () => {
  for (const axis of [0, 1]) {
    it(`matches the cpu backend, axis ${axis}`, async () => {
      const tableShape = axis === 0 ? [13, 6] : [5, 13, 3];
      const table = uniform(tf.util.sizeFromShape(tableShape), 1);
      // Repeated indices must accumulate; rows never looked up get zero.
      const indices = integers(14, 2, 0, 9);
      const run = () => {
        const tableTensor = tf.tensor(table, tableShape);
        const indexTensor = tf.tensor(indices, [2, 7], 'int32');
        const gatheredShape = [...tableShape.slice(0, axis), 2, 7, ...tableShape.slice(axis + 1)];
        const weights = tf.tensor(uniform(tf.util.sizeFromShape(gatheredShape), 3), gatheredShape);
        const loss = (t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, indexTensor, axis), weights));
        return tf.grad(loss)(tableTensor);
      };
      const wasm = await runOn('wasm', run);
      expectClose(wasm, await runOn('cpu', run), 1e-6, 1e-5);
      // Rows 9..12 are never gathered.
      const rowSize = axis === 0 ? 6 : 3;
      const untouched = (wasm[0] as { values: number[] }).values.filter((_, i) =>
        axis === 0 ? Math.floor(i / rowSize) >= 9 : Math.floor(i / rowSize) % 13 >= 9,
      );
      expect(untouched.every((v) => v === 0)).toBe(true);
    });
  }
});
