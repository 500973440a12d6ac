import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, expect, it } from 'vitest';
import { initBackend } from '../src/index.ts';
import { aliasHeap, asWasm, heapF32, releaseAlias, tensorData } from '../src/wasm/heap.ts';

beforeAll(async () => {
  await initBackend({ backend: 'wasm', native: false });
});

it('an alias reads and writes part of a tensor and is released without freeing that tensor', () => {
  const backend = asWasm(tf.backend());
  const dataIds = () => (tf.backend() as unknown as { numDataIds(): number }).numDataIds();
  const x = tf.tensor1d([1, 2, 3, 4, 5, 6, 7, 8]);
  const before = dataIds();
  const alias = aliasHeap(backend, tensorData(backend, x).memoryOffset + 4 * 4, [4], 'float32');
  expect(dataIds()).toBe(before + 1);
  expect(Array.from(heapF32(backend, alias))).toEqual([5, 6, 7, 8]);
  heapF32(backend, alias).fill(0);
  expect(Array.from(x.dataSync())).toEqual([1, 2, 3, 4, 0, 0, 0, 0]);

  releaseAlias(backend, alias);
  releaseAlias(backend, alias);
  expect(dataIds()).toBe(before);
  // Had the release freed x's memory, the allocator would hand it out again here.
  const y = tf.fill([8], 9);
  expect(tensorData(backend, y).memoryOffset).not.toBe(tensorData(backend, x).memoryOffset);
  expect(Array.from(x.dataSync())).toEqual([1, 2, 3, 4, 0, 0, 0, 0]);
  tf.dispose([x, y]);
});
