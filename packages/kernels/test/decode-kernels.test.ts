import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeAttention, embedRows, hasDecodeAttention } from '../src/index.ts';
import { DecodeAttention, decodeAttentionComposite } from '../src/kernels/DecodeAttention.ts';
import { EmbedRows, embedRowsComposite } from '../src/kernels/EmbedRows.ts';
import { disableNativeBlas, loadNativeBlas } from '../src/native.ts';
import { expectClose, initTestBackends, runOn, type TestBackend, type Values } from './support/backends.ts';
import { nativeSkipReason } from './support/native.ts';
import { integers, uniform } from './support/random.ts';

beforeAll(initTestBackends);

interface Case {
  label: string;
  batch: number;
  heads: number;
  kvHeads: number;
  hd: number;
  smax: number;
  position: number;
}

const CASES: Case[] = [
  { label: 'multi-head, mid cache', batch: 3, heads: 4, kvHeads: 4, hd: 8, smax: 12, position: 6 },
  { label: 'grouped-query heads', batch: 2, heads: 6, kvHeads: 2, hd: 6, smax: 9, position: 4 },
  { label: 'first row, odd head size', batch: 2, heads: 2, kvHeads: 1, hd: 5, smax: 4, position: 0 },
  { label: 'last row', batch: 4, heads: 2, kvHeads: 2, hd: 16, smax: 7, position: 6 },
  {
    label: 'long cache (unrolled loops and tails)',
    batch: 3,
    heads: 4,
    kvHeads: 2,
    hd: 12,
    smax: 48,
    position: 37,
  },
  { label: 'benchmark shape', batch: 16, heads: 4, kvHeads: 4, hd: 64, smax: 136, position: 100 },
];

function inputs(c: Case, seed: number) {
  const width = (c.heads + 2 * c.kvHeads) * c.hd;
  const cacheSize = c.batch * c.kvHeads * c.smax * c.hd;
  return {
    qkv: uniform(c.batch * width, seed, -2, 2),
    keys: uniform(cacheSize, seed + 1),
    values: uniform(cacheSize, seed + 2),
    // Left padding of up to `position` keys per row (the new key is always attended to).
    starts: integers(c.batch, seed + 3, 0, c.position + 1),
  };
}

type Data = ReturnType<typeof inputs>;

/** Output, keys and values after one call on `backend`, via the kernel or the stock-op composite. */
async function run(backend: TestBackend, c: Case, data: Data, composite: boolean): Promise<Values[]> {
  await tf.setBackend(backend);
  const before = tf.memory().numTensors;
  const qkv = tf.tensor2d(data.qkv, [c.batch, (c.heads + 2 * c.kvHeads) * c.hd]);
  const keys = tf.tensor4d(data.keys, [c.batch, c.kvHeads, c.smax, c.hd]);
  const values = tf.tensor4d(data.values, [c.batch, c.kvHeads, c.smax, c.hd]);
  const starts = tf.tensor1d(data.starts, 'int32');
  const attrs = { numHeads: c.heads, numKvHeads: c.kvHeads, position: c.position };
  const result = composite
    ? decodeAttentionComposite(qkv, keys, values, starts, attrs)
    : decodeAttention(qkv, keys, values, starts, attrs);
  if (!composite) {
    // The kernel writes the caches in place and hands the same tensors back.
    expect(result.keys).toBe(keys);
    expect(result.values).toBe(values);
  }
  const out = [result.output, result.keys, result.values].map((t) => ({
    shape: t.shape,
    values: Array.from(t.dataSync()),
  }));
  tf.dispose([qkv, keys, values, starts, result.output, result.keys, result.values]);
  expect(tf.memory().numTensors, 'tensors leaked').toBe(before);
  return out;
}

describe('LinewiseDecodeAttention', () => {
  it('is registered on wasm and cpu', async () => {
    for (const backend of ['wasm', 'cpu'] as const) {
      await tf.setBackend(backend);
      expect(tf.getKernel(DecodeAttention, backend)).toBeDefined();
      expect(hasDecodeAttention()).toBe(true);
    }
  });

  for (const [i, c] of CASES.entries()) {
    it(`matches the stock-op composite on cpu and wasm: ${c.label}`, async () => {
      const data = inputs(c, 100 + 10 * i);
      const reference = await run('cpu', c, data, true);
      expect(reference[0]?.shape).toEqual([c.batch, c.heads * c.hd]);
      for (const backend of ['cpu', 'wasm'] as const) {
        expectClose(await run(backend, c, data, false), reference, 1e-5, 1e-4);
        // The composite agrees with itself across backends too.
        expectClose(await run(backend, c, data, true), reference, 1e-5, 1e-4);
      }
    });
  }

  it('computes softmax(q K^T) V over keys starts..position (hand-checked numbers)', async () => {
    // One row, one head, hd 2; cache rows 0 (padding, skipped) and 1; the new key/value goes to row 2.
    // q = [1, 0], keys: row 1 [1, 0], new [0, 0]; scores 1 and 0: p = [e, 1] / (e + 1).
    // values: row 1 [2, 4], new [0, 8] -> [2e, 4e + 8] / (e + 1).
    const c: Case = { label: 'hand', batch: 1, heads: 1, kvHeads: 1, hd: 2, smax: 4, position: 2 };
    const data: Data = {
      qkv: Float32Array.from([1, 0, 0, 0, 0, 8]),
      keys: Float32Array.from([9, 9, 1, 0, 7, 7, 5, 5]),
      values: Float32Array.from([100, 100, 2, 4, 7, 7, 5, 5]),
      starts: Int32Array.from([1]),
    };
    const e = Math.E;
    for (const backend of ['cpu', 'wasm'] as const) {
      const [output, keys, values] = await run(backend, c, data, false);
      expect(output?.values[0]).toBeCloseTo((2 * e) / (e + 1), 5);
      expect(output?.values[1]).toBeCloseTo((4 * e + 8) / (e + 1), 5);
      expect(keys?.values).toEqual([9, 9, 1, 0, 0, 0, 5, 5]);
      expect(values?.values).toEqual([100, 100, 2, 4, 0, 8, 5, 5]);
    }
  });

  it('falls back to stock ops (new cache tensors) when the kernel is not registered', async () => {
    const c = CASES[1] as Case;
    const data = inputs(c, 7);
    const reference = await run('cpu', c, data, false);
    const config = tf.getKernel(DecodeAttention, 'cpu') as tf.KernelConfig;
    tf.unregisterKernel(DecodeAttention, 'cpu');
    try {
      await tf.setBackend('cpu');
      expect(hasDecodeAttention()).toBe(false);
      const qkv = tf.tensor2d(data.qkv, [c.batch, (c.heads + 2 * c.kvHeads) * c.hd]);
      const keys = tf.tensor4d(data.keys, [c.batch, c.kvHeads, c.smax, c.hd]);
      const values = tf.tensor4d(data.values, [c.batch, c.kvHeads, c.smax, c.hd]);
      const starts = tf.tensor1d(data.starts, 'int32');
      const result = decodeAttention(qkv, keys, values, starts, {
        numHeads: c.heads,
        numKvHeads: c.kvHeads,
        position: c.position,
      });
      expect(result.keys).not.toBe(keys);
      expect(Array.from(keys.dataSync())).toEqual(Array.from(data.keys));
      expectClose(
        [result.output, result.keys, result.values].map((t) => ({
          shape: t.shape,
          values: Array.from(t.dataSync()),
        })),
        reference,
      );
      tf.dispose([qkv, keys, values, starts, result.output, result.keys, result.values]);
    } finally {
      tf.registerKernel(config);
    }
  });
});

describe.skipIf(nativeSkipReason() !== undefined)(
  'LinewiseDecodeAttention with the native BLAS addon',
  () => {
    for (const [i, c] of CASES.entries()) {
      it(`matches the stock-op composite: ${c.label}`, async () => {
        const data = inputs(c, 300 + 10 * i);
        const reference = await run('cpu', c, data, true);
        loadNativeBlas();
        try {
          expectClose(await run('wasm', c, data, false), reference, 1e-5, 1e-4);
        } finally {
          disableNativeBlas();
        }
      });
    }
  },
);

describe('LinewiseEmbedRows', () => {
  const vocab = 11;
  const d = 6;
  const n = 5;
  const tokens = uniform(vocab * d, 41);
  const positions = uniform(9 * d, 42);
  const ids = integers(n, 43, 0, vocab);
  const pos = integers(n, 44, 0, 9);
  const pairs = (): [tf.Tensor2D, tf.Tensor1D][] => [
    [tf.tensor2d(tokens, [vocab, d]), tf.tensor1d(ids, 'int32')],
    [tf.tensor2d(positions, [9, d]), tf.tensor1d(pos, 'int32')],
  ];

  it('is registered on wasm and cpu and matches gather + add', async () => {
    const reference = await runOn('cpu', () => embedRowsComposite(pairs()));
    for (const backend of ['cpu', 'wasm'] as const) {
      expect(tf.getKernel(EmbedRows, backend)).toBeDefined();
      expectClose(await runOn(backend, () => embedRows(pairs())), reference, 0, 0);
      expectClose(
        await runOn(backend, () => embedRows(pairs().slice(0, 1))),
        await runOn('cpu', () => tf.gather(tf.tensor2d(tokens, [vocab, d]), tf.tensor1d(ids, 'int32'))),
        0,
        0,
      );
    }
  });

  it('picks and adds the right rows (hand-checked numbers)', async () => {
    for (const backend of ['cpu', 'wasm'] as const) {
      const [out] = await runOn(backend, () =>
        embedRows([
          [tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2]), tf.tensor1d([2, 0], 'int32')],
          [tf.tensor2d([10, 20, 30, 40], [2, 2]), tf.tensor1d([1, 1], 'int32')],
        ]),
      );
      expect(out).toEqual({ shape: [2, 2], values: [35, 46, 31, 42] });
    }
  });
});
