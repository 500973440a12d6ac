import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { leadingAxes } from '../src/kernels/Sum.ts';
import { expectClose, initTestBackends, runOn } from './support/backends.ts';
import { floats } from './support/random.ts';

beforeAll(initTestBackends);

describe('Sum on wasm (pure wasm: JS column sums for leading axes, stock kernel otherwise)', () => {
  it('finds exactly-leading reductions', () => {
    expect(leadingAxes(0, 2)).toBe(1);
    expect(leadingAxes([1, 0], 3)).toBe(2);
    expect(leadingAxes(-3, 3)).toBe(1);
    expect(leadingAxes([0, 1], 2)).toBeUndefined();
    expect(leadingAxes(1, 2)).toBeUndefined();
    expect(leadingAxes([0, 2], 3)).toBeUndefined();
  });

  for (const [label, shape, axis, keepDims] of [
    ['[37,19] axis 0', [37, 19], 0, false],
    ['[3,4,5] axes [0,1]', [3, 4, 5], [0, 1], false],
    ['[3,4,5] axes [1,0] keepDims', [3, 4, 5], [1, 0], true],
    ['[6,2,7] axis -3', [6, 2, 7], -3, false],
    ['[0,4] axis 0 (empty)', [0, 4], 0, false],
    ['[5,0] axis 0 (empty rows)', [5, 0], 0, false],
    ['[3,4,5] axis 2 (stock)', [3, 4, 5], 2, false],
    ['[3,4,5] axes [0,2] (stock)', [3, 4, 5], [0, 2], true],
    ['[3,4] all axes (stock)', [3, 4], [0, 1], false],
  ] as [string, number[], number | number[], boolean][]) {
    it(`${label}: values and gradient match cpu`, async () => {
      const fn = () => {
        const x = floats(shape, 50, 3);
        const y = tf.sum(x, axis, keepDims);
        const weights = floats(y.shape, 51);
        const [dx] = tf.grads((xi: tf.Tensor) => tf.sum(tf.mul(tf.sum(xi, axis, keepDims), weights)))([x]);
        return [y, dx as tf.Tensor];
      };
      expectClose(await runOn('wasm', fn), await runOn('cpu', fn), 1e-5, 1e-5);
    });
  }

  it('int32 sums over leading axes go to the stock kernel', async () => {
    const fn = () => tf.sum(tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2], 'int32'), 0);
    const [wasm] = await runOn('wasm', fn);
    expect(wasm?.values).toEqual([9, 12]);
  });
});

describe('Identity on wasm (shares data instead of copying)', () => {
  it('a clone keeps its values after the original is disposed, and frees its memory when disposed', async () => {
    await tf.setBackend('wasm');
    const before = tf.memory();
    const x = floats([64, 33], 60);
    const expected = Array.from(x.dataSync());
    const copy = tf.clone(x);
    expect(tf.memory().numDataBuffers).toBe(before.numDataBuffers + 1);
    x.dispose();
    expect(Array.from(copy.dataSync())).toEqual(expected);
    copy.dispose();
    expect(tf.memory().numTensors).toBe(before.numTensors);
    expect(tf.memory().numDataBuffers).toBe(before.numDataBuffers);
  });

  it('gradients that save their inputs (clones) match cpu', async () => {
    const fn = () => {
      const x = floats([4, 6], 61, 2);
      const w = floats([6, 3], 62);
      const f = (a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.mul(tf.exp(tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D)), tf.square(tf.sum(a))));
      return [f(x, w), ...tf.grads(f)([x, w])];
    };
    expectClose(await runOn('wasm', fn), await runOn('cpu', fn), 1e-5, 1e-4);
  });

  it('string tensors clone too', async () => {
    const fn = () => {
      const s = tf.tensor1d(['a', 'bc']);
      const c = tf.clone(s);
      s.dispose();
      return c;
    };
    await tf.setBackend('wasm');
    const c = tf.tidy(fn);
    expect(c.dataSync()).toEqual(['a', 'bc']);
    c.dispose();
  });
});

describe('Cast on wasm (same dtype shares data, others go to the stock kernel)', () => {
  it('a same-dtype cast shares the data and keeps its values after the original is disposed', async () => {
    await tf.setBackend('wasm');
    const before = tf.memory();
    const x = floats([16, 9], 63);
    const expected = Array.from(x.dataSync());
    const y = tf.cast(x, 'float32');
    expect(tf.memory().numDataBuffers).toBe(before.numDataBuffers + 1);
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual(expected);
    y.dispose();
    expect(tf.memory().numDataBuffers).toBe(before.numDataBuffers);
  });

  it('casts between dtypes as cpu does, and gradients through multiplies match cpu', async () => {
    const fn = () => {
      const x = floats([5, 7], 64, 3);
      const w = floats([5, 7], 65);
      const f = (a: tf.Tensor) => tf.sum(tf.mul(tf.mul(a, w), a));
      return [
        tf.cast(x, 'int32'),
        tf.cast(tf.cast(x, 'int32'), 'float32'),
        tf.cast(tf.tensor1d([1, 0, 2], 'int32'), 'int32'),
        ...tf.grads(f)([x]),
      ];
    };
    expectClose(await runOn('wasm', fn), await runOn('cpu', fn), 1e-6, 1e-6);
  });
});

describe('GatherV2 on wasm (row copies for axis-0 gathers, stock kernel otherwise)', () => {
  for (const [label, shape, ids, idShape, axis] of [
    ['[6,5] rows', [6, 5], [5, 0, 0, 3], [4], 0],
    ['[7,2,3] rows by [2,3] ids', [7, 2, 3], [1, 6, 2, 2, 0, 4], [2, 3], 0],
    ['[9] scalars', [9], [8, 1, 1], [3], 0],
    ['[4,6] axis 1 (stock)', [4, 6], [5, 0, 2], [3], 1],
  ] as [string, number[], number[], number[], number][]) {
    it(`${label}: values and gradient match cpu`, async () => {
      const fn = () => {
        const x = floats(shape, 70, 2);
        const indices = tf.tensor(ids, idShape, 'int32');
        const y = tf.gather(x, indices, axis);
        const weights = floats(y.shape, 71);
        const [dx] = tf.grads((xi: tf.Tensor) => tf.sum(tf.mul(tf.gather(xi, indices, axis), weights)))([x]);
        return [y, dx as tf.Tensor];
      };
      expectClose(await runOn('wasm', fn), await runOn('cpu', fn), 1e-6, 1e-6);
    });
  }

  it('gathers int32 rows', async () => {
    const fn = () =>
      tf.gather(tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2], 'int32'), tf.tensor1d([2, 0], 'int32'));
    const [wasm] = await runOn('wasm', fn);
    expect(wasm?.values).toEqual([5, 6, 1, 2]);
  });

  it('rejects out-of-range ids without leaking', async () => {
    await tf.setBackend('wasm');
    const x = floats([3, 4], 72);
    const bad = tf.tensor1d([0, 3], 'int32');
    const before = tf.memory().numDataBuffers;
    expect(() => tf.gather(x, bad)).toThrow(/index value 3 is not in \[0, 2\]/);
    expect(tf.memory().numDataBuffers).toBe(before);
    tf.dispose([x, bad]);
  });
});
