import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import { initBackend } from '../../src/index.ts';

export type TestBackend = 'wasm' | 'cpu';

/** Initialises both backends once (wasm with linewise kernels, native BLAS off) and leaves `cpu` active. */
export async function initTestBackends(): Promise<void> {
  await initBackend({ backend: 'wasm', native: false });
  await initBackend({ backend: 'cpu' });
}

export interface Values {
  shape: number[];
  values: number[];
}

/**
 * Runs `fn` on `backend` in a tidy and returns every output's shape and values, failing if `fn` leaked a
 * tensor.
 */
export async function runOn(backend: TestBackend, fn: () => tf.Tensor | tf.Tensor[]): Promise<Values[]> {
  await tf.setBackend(backend);
  const before = tf.memory().numTensors;
  const result = tf.tidy(fn);
  const outputs = Array.isArray(result) ? result : [result];
  const values = outputs.map((t) => ({ shape: t.shape, values: Array.from(t.dataSync()) }));
  tf.dispose(outputs);
  expect(tf.memory().numTensors, 'tensors leaked').toBe(before);
  return values;
}

/** Asserts equal shapes and |actual - expected| <= abs + rel * |expected| everywhere (NaN only for NaN). */
export function expectClose(actual: Values[], expected: Values[], abs = 1e-5, rel = 1e-4): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((a, i) => {
    const e = expected[i] as Values;
    expect(a.shape, `output ${i} shape`).toEqual(e.shape);
    let worst = -1;
    let worstError = 0;
    e.values.forEach((want, j) => {
      const got = a.values[j] as number;
      if (got === want) return;
      const error = Number.isNaN(got - want)
        ? Number.POSITIVE_INFINITY
        : Math.abs(got - want) / (abs + rel * Math.abs(want));
      if (error > 1 && error > worstError) {
        worst = j;
        worstError = error;
      }
    });
    expect(worst, `output ${i}: element ${worst} is ${a.values[worst]}, expected ${e.values[worst]}`).toBe(
      -1,
    );
  });
}

/** Runs `fn` with `configs` registered on wasm, including those that register.ts leaves off wasm. */
export async function withWasmKernels(configs: tf.KernelConfig[], fn: () => Promise<void>): Promise<void> {
  const added = configs.filter((config) => tf.getKernel(config.kernelName, 'wasm') === undefined);
  for (const config of added) tf.registerKernel(config);
  try {
    await fn();
  } finally {
    for (const config of added) tf.unregisterKernel(config.kernelName, 'wasm');
  }
}
