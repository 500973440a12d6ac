import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { BackendUnavailableError, initBackend, KernelsConfigError } from '../src/index.ts';

function installed(name: string): boolean {
  try {
    createRequire(import.meta.url).resolve(name);
    return true;
  } catch {
    return false;
  }
}

// The tfjs-node bindings download libtensorflow at install and are never dependencies of linewise, so on
// machines without them (this repository's CI) `auto` must fall back to wasm and `tensorflow` must say
// what to install.
const hasTensorflowBinding = installed('@tensorflow/tfjs-node-gpu') || installed('@tensorflow/tfjs-node');

describe('initBackend', () => {
  it.skipIf(hasTensorflowBinding)('auto picks wasm when no tfjs-node binding is installed', async () => {
    const info = await initBackend();
    expect(info.backend).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(info.accelerations).toContain('xnnpack-batch-matmul');
  });

  it.skipIf(hasTensorflowBinding)(
    'tensorflow without a binding throws a typed error naming the packages',
    async () => {
      const error = await initBackend({ backend: 'tensorflow' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BackendUnavailableError);
      expect((error as BackendUnavailableError).backend).toBe('tensorflow');
      expect((error as Error).message).toMatch(/@tensorflow\/tfjs-node-gpu.*@tensorflow\/tfjs-node/);
    },
  );

  it('switches between cpu and wasm and reports what is active', async () => {
    const cpu = await initBackend({ backend: 'cpu' });
    expect(cpu).toMatchObject({ backend: 'cpu', threads: 1 });
    expect(tf.getBackend()).toBe('cpu');
    const x = tf.tensor2d([1, 2, 3, 4], [2, 2]);
    const wasm = await initBackend({ backend: 'wasm', native: false });
    expect(wasm.backend).toBe('wasm');
    expect(wasm.accelerations.some((a) => a.startsWith('native-blas'))).toBe(false);
    // A tensor made on the previous backend stays usable after the switch.
    expect(Array.from(tf.matMul(x, x).dataSync())).toEqual([7, 10, 15, 22]);
    x.dispose();
  });

  it('gradients are registered (tfjs-core alone has none)', async () => {
    await initBackend({ backend: 'wasm', native: false });
    const grad = tf.grad((v: tf.Tensor) => tf.sum(tf.tanh(v)))(tf.tensor1d([0, 1]));
    const values = Array.from(grad.dataSync());
    expect(values[0]).toBeCloseTo(1, 6);
    expect(values[1]).toBeCloseTo(1 - Math.tanh(1) ** 2, 6);
  });

  it.each([
    [{ backend: 'gpu' }, 'backend'],
    [{ threads: 0 }, 'threads'],
    [{ threads: 1.5 }, 'threads'],
  ])('rejects %j naming the field', async (options, field) => {
    const error = await initBackend(options as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KernelsConfigError);
    expect((error as KernelsConfigError).field).toBe(field);
  });
});
