import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../src/index.ts';
import { nativeSkipReason } from './support/native.ts';
import { relativeError, seededValues } from './support/numbers.ts';

type Activation = 'linear' | 'relu' | 'relu6' | 'sigmoid' | 'leakyrelu' | 'elu' | 'prelu';
type BiasKind = 'none' | '[N]' | '[1,N]' | '[M,N]';

interface FusedCase {
  name: string;
  aShape: number[];
  bShape: number[];
  transposeA: boolean;
  transposeB: boolean;
  biasShape: number[] | undefined;
  activation: Activation;
  a: Float32Array;
  b: Float32Array;
  bias: Float32Array;
  prelu: Float32Array;
}

function makeCase(
  [batchA, batchB]: [number[], number[]],
  [m, k, n]: [number, number, number],
  [transposeA, transposeB]: [boolean, boolean],
  biasKind: BiasKind,
  activation: Activation,
  seed: number,
): FusedCase {
  const aShape = transposeA ? [...batchA, k, m] : [...batchA, m, k];
  const bShape = transposeB ? [...batchB, n, k] : [...batchB, k, n];
  const biasShapes: Record<BiasKind, number[] | undefined> = {
    none: undefined,
    '[N]': [n],
    '[1,N]': [1, n],
    '[M,N]': [m, n],
  };
  const biasShape = biasShapes[biasKind];
  return {
    name: `[${aShape}]${transposeA ? 'ᵀ' : ''} x [${bShape}]${transposeB ? 'ᵀ' : ''} + bias ${biasKind}, ${activation}`,
    aShape,
    bShape,
    transposeA,
    transposeB,
    biasShape,
    activation,
    a: seededValues(tf.util.sizeFromShape(aShape), seed),
    b: seededValues(tf.util.sizeFromShape(bShape), seed + 1),
    bias: seededValues(biasShape === undefined ? 0 : tf.util.sizeFromShape(biasShape), seed + 2),
    prelu: seededValues(n, seed + 3),
  };
}

const TRANSPOSES: [boolean, boolean][] = [
  [false, false],
  [true, false],
  [false, true],
  [true, true],
];
const SIZES: [number, number, number][] = [
  [7, 13, 5],
  [1, 4, 3],
  [16, 8, 1],
];
/** tfjs-core flattens batch dims to one before the kernel, so [2, 3] x [] arrives as 6 x 1. */
const BATCHES: [number[], number[]][] = [
  [[], []],
  [[3], []],
  [[3], [3]],
  [[2, 3], []],
];
const ACTIVATIONS: Activation[] = ['linear', 'relu', 'relu6', 'sigmoid', 'leakyrelu', 'elu', 'prelu'];
const BIASES: BiasKind[] = ['none', '[N]', '[1,N]', '[M,N]'];

const CASES: FusedCase[] = [
  // Every shape and transpose with the model's case (bias [N]), alternating linear and relu.
  ...SIZES.flatMap((size, s) =>
    BATCHES.flatMap((batch, b) =>
      TRANSPOSES.map((transposes, t) =>
        makeCase(batch, size, transposes, '[N]', t % 2 === 0 ? 'linear' : 'relu', 100 * s + 10 * b + t),
      ),
    ),
  ),
  // Every bias form and activation on a batched, transposed product.
  ...BIASES.flatMap((bias, b) =>
    ACTIVATIONS.flatMap((activation, a) =>
      [false, true].map((transposeB, t) =>
        makeCase(
          [[3], []],
          [7, 13, 5],
          [!transposeB, transposeB],
          bias,
          activation,
          5000 + 100 * b + 10 * a + t,
        ),
      ),
    ),
  ),
];

function fused(c: FusedCase): tf.Tensor {
  return tf.fused.matMul({
    a: tf.tensor(c.a, c.aShape),
    b: tf.tensor(c.b, c.bShape),
    transposeA: c.transposeA,
    transposeB: c.transposeB,
    bias: c.biasShape === undefined ? undefined : tf.tensor(c.bias, c.biasShape),
    activation: c.activation,
    preluActivationWeights: c.activation === 'prelu' ? tf.tensor(c.prelu) : undefined,
    leakyreluAlpha: 0.3,
  });
}

/**
 * d/d(a, b, bias) of sum(fused(a, b, bias)² · w) for a linear fused matMul (the only activation tfjs fuses
 * under gradients). Batches are not broadcast: tfjs-core's matMul gradients do not reduce broadcast dims.
 */
function fusedGradients(c: FusedCase, w: Float32Array): Float32Array[] {
  return tf.tidy(() => {
    const bias = tf.tensor(c.bias, c.biasShape ?? [0]);
    const f = (a: tf.Tensor, b: tf.Tensor, biasInput: tf.Tensor) => {
      const y = tf.fused.matMul({
        a,
        b,
        transposeA: c.transposeA,
        transposeB: c.transposeB,
        bias: biasInput,
      });
      return tf.sum(tf.mul(tf.square(y), tf.tensor(w, y.shape)));
    };
    return tf
      .grads(f)([tf.tensor(c.a, c.aShape), tf.tensor(c.b, c.bShape), bias])
      .map((gradient) => gradient.dataSync() as Float32Array);
  });
}

const GRADIENT_CASES = TRANSPOSES.map((transposes, t) =>
  makeCase([[2], [2]], [3, 4, 2], transposes, '[N]', 'linear', 7000 + t),
);
const gradientWeights = seededValues(2 * 3 * 2, 77);

const expected = new Map<FusedCase, { shape: number[]; values: Float32Array }>();
const expectedGradients = new Map<FusedCase, Float32Array[]>();

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
  for (const c of CASES) {
    tf.tidy(() => {
      const y = fused(c);
      expected.set(c, { shape: y.shape, values: y.dataSync() as Float32Array });
    });
  }
  for (const c of GRADIENT_CASES) expectedGradients.set(c, fusedGradients(c, gradientWeights));
});

const nativeSkip = nativeSkipReason();
const MODES = [
  { title: 'fused matMul on wasm (XNNPACK path)', native: false, skip: undefined },
  {
    title: `fused matMul on wasm + native BLAS${nativeSkip === undefined ? '' : ` (skipped: ${nativeSkip})`}`,
    native: true,
    skip: nativeSkip,
  },
];

for (const mode of MODES) {
  describe.skipIf(mode.skip !== undefined)(mode.title, () => {
    beforeAll(async () => {
      await initBackend({ backend: 'wasm', native: mode.native });
    });

    it.each(CASES)('$name equals the cpu backend', (c) => {
      const want = expected.get(c);
      const got = tf.tidy(() => fused(c));
      expect(got.shape).toEqual(want?.shape);
      expect(relativeError(got.dataSync(), want?.values ?? [])).toBeLessThan(1e-4);
      got.dispose();
    });

    it.each(GRADIENT_CASES)('gradients of $name match the cpu backend', (c) => {
      const want = expectedGradients.get(c) ?? [];
      const got = fusedGradients(c, gradientWeights);
      expect(got).toHaveLength(3);
      for (const [index, gradient] of got.entries()) {
        expect(relativeError(gradient, want[index] ?? [])).toBeLessThan(1e-4);
      }
    });

    it('leaks no tensors and no heap ids', () => {
      const backend = tf.backend() as unknown as { numDataIds(): number };
      const tensors = tf.memory().numTensors;
      const dataIds = backend.numDataIds();
      tf.tidy(() => {
        for (const c of CASES) fused(c);
      });
      expect(tf.memory().numTensors).toBe(tensors);
      expect(backend.numDataIds()).toBe(dataIds);
    });
  });
}
