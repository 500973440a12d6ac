import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { expectClose, initTestBackends, runOn } from './support/backends.ts';
import { integers, mulberry32, uniform } from './support/random.ts';

beforeAll(initTestBackends);

const SHAPES = [[7], [5, 3], [4, 1, 6], [3, 5, 2, 7], [2, 3, 4, 5]];

function input(shape: number[], dtype: 'float32' | 'int32' | 'bool', seed: number): tf.Tensor {
  const size = tf.util.sizeFromShape(shape);
  if (dtype === 'float32') return tf.tensor(uniform(size, seed), shape);
  if (dtype === 'int32') return tf.tensor(integers(size, seed, -1000, 1000), shape, 'int32');
  return tf.tensor(integers(size, seed, 0, 2), shape, 'bool');
}

/** Slice windows for `shape`: whole, edges (first, last element, to the end with -1, empty) and random. */
function windows(shape: number[], seed: number): Array<{ begin: number[]; size: number[] }> {
  const next = mulberry32(seed);
  const pick = (n: number) => Math.floor(next() * n);
  const cases = [
    { begin: shape.map(() => 0), size: [...shape] },
    { begin: shape.map(() => 0), size: shape.map(() => 1) },
    { begin: shape.map((d) => d - 1), size: shape.map(() => 1) },
    { begin: shape.map((d) => d - 1), size: shape.map(() => -1) },
    { begin: shape.map((d, i) => (i === 0 ? d - 1 : 0)), size: shape.map((d, i) => (i === 0 ? 1 : d)) },
    {
      begin: shape.map((d, i) => (i === shape.length - 1 ? d : 0)),
      size: shape.map((d, i) => (i === shape.length - 1 ? 0 : d)),
    },
  ];
  for (let k = 0; k < 6; k++) {
    const begin = shape.map((d) => pick(d));
    cases.push({
      begin,
      size: shape.map((d, i) => (next() < 0.2 ? -1 : 1 + pick(d - (begin[i] as number)))),
    });
  }
  return cases;
}

describe('Slice on wasm matches the cpu backend', () => {
  for (const shape of SHAPES) {
    for (const dtype of ['float32', 'int32', 'bool'] as const) {
      it(`[${shape}] ${dtype}`, async () => {
        for (const [k, { begin, size }] of windows(shape, shape.length * 7 + dtype.length).entries()) {
          const run = () => tf.slice(input(shape, dtype, k), begin, size);
          expectClose(await runOn('wasm', run), await runOn('cpu', run), 0, 0);
        }
      });
    }
  }

  it('slices strings', async () => {
    const run = () =>
      tf.slice(
        tf.tensor([
          ['a', 'b', 'c'],
          ['d', 'e', 'f'],
        ]),
        [0, 1],
        [2, 2],
      );
    await tf.setBackend('wasm');
    const sliced = tf.tidy(run);
    expect(sliced.dataSync()).toEqual(['b', 'c', 'e', 'f']);
    sliced.dispose();
  });
});

describe('SplitV on wasm matches the cpu backend', () => {
  for (const shape of SHAPES) {
    it(`[${shape}] on every axis, even and sized splits`, async () => {
      for (let axis = -1; axis < shape.length; axis++) {
        const dim = shape[axis < 0 ? shape.length + axis : axis] as number;
        const splits: Array<number | number[]> = [1, dim, [dim - 1, 1], [0, -1], [1, -1, 0]];
        if (dim % 2 === 1 && dim > 1) splits.push([1, Math.floor(dim / 2), -1]);
        for (const numOrSizeSplits of splits) {
          if (Array.isArray(numOrSizeSplits) && numOrSizeSplits.some((s) => s > dim)) continue;
          const run = () => tf.split(input(shape, 'float32', axis + 10), numOrSizeSplits, axis);
          expectClose(await runOn('wasm', run), await runOn('cpu', run), 0, 0);
        }
      }
    });
  }

  it('splits int32 along a middle axis', async () => {
    const run = () => tf.split(input([3, 6, 5], 'int32', 3), [2, 3, 1], 1);
    expectClose(await runOn('wasm', run), await runOn('cpu', run), 0, 0);
  });
});

describe('Unpack (unstack) on wasm matches the cpu backend', () => {
  for (const shape of SHAPES) {
    it(`[${shape}] on every axis`, async () => {
      for (let axis = -1; axis < shape.length; axis++) {
        for (const dtype of ['float32', 'int32'] as const) {
          const run = () => tf.unstack(input(shape, dtype, axis + 20), axis);
          expectClose(await runOn('wasm', run), await runOn('cpu', run), 0, 0);
        }
      }
    });
  }
});

describe('wasm slicing reads only what it copies', () => {
  // Stock wasm Slice calls readSync (a copy of the whole input off the heap) once per output.
  it('never reads the whole input back from the heap', async () => {
    await tf.setBackend('wasm');
    const x = input([8, 16, 32], 'float32', 1);
    const spy = vi.spyOn(tf.backend(), 'readSync');
    const outputs = [...tf.split(x, 4, 1), ...tf.unstack(x, 2), tf.slice(x, [1, 2, 3], [2, 3, 4])];
    expect(spy).not.toHaveBeenCalled();
    spy.mockRestore();
    tf.dispose([x, ...outputs]);
  });
});
