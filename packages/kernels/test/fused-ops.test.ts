import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  biasGelu,
  clipByGlobalNorm,
  entropyFromLogits,
  KernelsConfigError,
  layerNorm,
  logProbsOfTargets,
  rmsNorm,
  siluMul,
} from '../src/index.ts';
import type { BackendKernels } from '../src/kernels/array_kernel.ts';
import { biasGeluComposite, biasGeluKernels } from '../src/ops/bias_gelu.ts';
import { SumOfSquares, sumOfSquaresComposite, sumOfSquaresKernels } from '../src/ops/clip_by_global_norm.ts';
import { entropyFromLogitsComposite, entropyFromLogitsKernels } from '../src/ops/entropy_from_logits.ts';
import { layerNormComposite, layerNormKernels } from '../src/ops/layer_norm.ts';
import { logProbsOfTargetsComposite, logProbsOfTargetsKernels } from '../src/ops/log_probs_of_targets.ts';
import { rmsNormComposite, rmsNormKernels } from '../src/ops/rms_norm.ts';
import { siluMulComposite, siluMulKernels } from '../src/ops/silu_mul.ts';
import { expectClose, initTestBackends, runOn, type Values, withWasmKernels } from './support/backends.ts';
import { integers, uniform } from './support/random.ts';

beforeAll(initTestBackends);

type Op = (...inputs: tf.Tensor[]) => tf.Tensor;

/** An input: float values, or int32 values that are never differentiated. */
interface Input {
  shape: number[];
  values: Float32Array | Int32Array;
}

interface OpCase {
  label: string;
  inputs: Input[];
  /** The inputs to differentiate. */
  wrt: number[];
}

interface OpSpec {
  name: string;
  fused: Op;
  composite: Op;
  kernels: BackendKernels;
  cases: OpCase[];
}

function floats(shape: number[], seed: number, scale = 1): Input {
  return { shape, values: uniform(tf.util.sizeFromShape(shape), seed, -scale, scale) };
}

function make(input: Input): tf.Tensor {
  return tf.tensor(input.values, input.shape, input.values instanceof Int32Array ? 'int32' : 'float32');
}

/** Targets in [0, vocab), with a padding id (-100) and an out-of-range id when there are rows enough. */
function targets(rows: number, vocab: number, seed: number): Input {
  const values = integers(rows, seed, 0, vocab);
  if (rows > 3) {
    values[1] = -100;
    values[2] = vocab;
  }
  return { shape: [rows], values };
}

const SPECS: OpSpec[] = [
  {
    name: 'biasGelu',
    kernels: biasGeluKernels,
    fused: (x, b) => biasGelu(x as tf.Tensor, b as tf.Tensor1D),
    composite: (x, b) => biasGeluComposite(x as tf.Tensor, b as tf.Tensor1D),
    cases: [
      { label: '[3,5]', inputs: [floats([3, 5], 1, 3), floats([5], 2)], wrt: [0, 1] },
      { label: '[7]', inputs: [floats([7], 3, 3), floats([7], 4)], wrt: [0, 1] },
      { label: '[2,9,13]', inputs: [floats([2, 9, 13], 5, 4), floats([13], 6)], wrt: [0, 1] },
      { label: '[2,3,1,6]', inputs: [floats([2, 3, 1, 6], 7, 6), floats([6], 8)], wrt: [0, 1] },
    ],
  },
  {
    name: 'layerNorm',
    kernels: layerNormKernels,
    fused: (x, g, b) => layerNorm(x as tf.Tensor, g as tf.Tensor1D, b as tf.Tensor1D),
    composite: (x, g, b) => layerNormComposite(x as tf.Tensor, g as tf.Tensor1D, b as tf.Tensor1D),
    cases: [
      { label: '[3,5]', inputs: [floats([3, 5], 11, 2), floats([5], 12), floats([5], 13)], wrt: [0, 1, 2] },
      {
        label: '[2,7,33]',
        inputs: [floats([2, 7, 33], 14, 3), floats([33], 15), floats([33], 16)],
        wrt: [0, 1, 2],
      },
      {
        label: '[2,2,3,4]',
        inputs: [floats([2, 2, 3, 4], 17), floats([4], 18), floats([4], 19)],
        wrt: [0, 1, 2],
      },
    ],
  },
  {
    name: 'layerNorm (epsilon 1e-2)',
    kernels: layerNormKernels,
    fused: (x, g, b) => layerNorm(x as tf.Tensor, g as tf.Tensor1D, b as tf.Tensor1D, 1e-2),
    composite: (x, g, b) => layerNormComposite(x as tf.Tensor, g as tf.Tensor1D, b as tf.Tensor1D, 1e-2),
    cases: [
      { label: '[4,6]', inputs: [floats([4, 6], 21, 0.1), floats([6], 22), floats([6], 23)], wrt: [0, 1, 2] },
    ],
  },
  {
    name: 'rmsNorm',
    kernels: rmsNormKernels,
    fused: (x, g) => rmsNorm(x as tf.Tensor, g as tf.Tensor1D),
    composite: (x, g) => rmsNormComposite(x as tf.Tensor, g as tf.Tensor1D),
    cases: [
      { label: '[3,5]', inputs: [floats([3, 5], 31, 2), floats([5], 32)], wrt: [0, 1] },
      { label: '[2,7,33]', inputs: [floats([2, 7, 33], 33, 3), floats([33], 34)], wrt: [0, 1] },
      { label: '[2,2,3,4]', inputs: [floats([2, 2, 3, 4], 35), floats([4], 36)], wrt: [0, 1] },
    ],
  },
  {
    name: 'rmsNorm (epsilon 1e-2)',
    kernels: rmsNormKernels,
    fused: (x, g) => rmsNorm(x as tf.Tensor, g as tf.Tensor1D, 1e-2),
    composite: (x, g) => rmsNormComposite(x as tf.Tensor, g as tf.Tensor1D, 1e-2),
    cases: [{ label: '[4,6]', inputs: [floats([4, 6], 37, 0.1), floats([6], 38)], wrt: [0, 1] }],
  },
  {
    name: 'siluMul',
    kernels: siluMulKernels,
    fused: (g, u) => siluMul(g as tf.Tensor, u as tf.Tensor),
    composite: (g, u) => siluMulComposite(g as tf.Tensor, u as tf.Tensor),
    cases: [
      { label: '[3,5]', inputs: [floats([3, 5], 41, 4), floats([3, 5], 42)], wrt: [0, 1] },
      { label: '[2,3,4,5]', inputs: [floats([2, 3, 4, 5], 43, 6), floats([2, 3, 4, 5], 44)], wrt: [0, 1] },
      { label: 'broadcast [4,7] x [7]', inputs: [floats([4, 7], 45, 3), floats([7], 46)], wrt: [0, 1] },
      { label: 'broadcast [4,1] x [4,7]', inputs: [floats([4, 1], 47, 3), floats([4, 7], 48)], wrt: [0, 1] },
    ],
  },
  {
    name: 'logProbsOfTargets',
    kernels: logProbsOfTargetsKernels,
    fused: (l, t) => logProbsOfTargets(l as tf.Tensor2D, t as tf.Tensor1D),
    composite: (l, t) => logProbsOfTargetsComposite(l as tf.Tensor2D, t as tf.Tensor1D),
    cases: [
      { label: '[3,5]', inputs: [floats([3, 5], 51, 2), targets(3, 5, 52)], wrt: [0] },
      {
        label: '[9,37] with padding targets',
        inputs: [floats([9, 37], 53, 8), targets(9, 37, 54)],
        wrt: [0],
      },
      { label: '[4,2]', inputs: [floats([4, 2], 55), targets(4, 2, 56)], wrt: [0] },
      { label: '[6,11] large logits', inputs: [floats([6, 11], 57, 80), targets(6, 11, 58)], wrt: [0] },
    ],
  },
  {
    name: 'entropyFromLogits',
    kernels: entropyFromLogitsKernels,
    fused: (l) => entropyFromLogits(l as tf.Tensor2D),
    composite: (l) => entropyFromLogitsComposite(l as tf.Tensor2D),
    cases: [
      { label: '[3,5]', inputs: [floats([3, 5], 61, 2)], wrt: [0] },
      { label: '[9,37]', inputs: [floats([9, 37], 62, 8)], wrt: [0] },
      { label: '[2,1]', inputs: [floats([2, 1], 63)], wrt: [0] },
      { label: '[5,11] large logits', inputs: [floats([5, 11], 64, 40)], wrt: [0] },
    ],
  },
];

/** d/dinputs[wrt] of sum(op(inputs) * weights), `weights` fixed and seeded. */
function weightedLossGrads(op: Op, inputs: tf.Tensor[], wrt: number[]): tf.Tensor[] {
  const outputShape = tf.tidy(() => op(...inputs).shape);
  const weights = tf.tensor(uniform(tf.util.sizeFromShape(outputShape), 99), outputShape);
  const loss = (...xs: tf.Tensor[]) => {
    const all = [...inputs];
    wrt.forEach((k, i) => {
      all[k] = xs[i] as tf.Tensor;
    });
    return tf.sum(tf.mul(op(...all), weights));
  };
  return tf.grads(loss)(wrt.map((k) => inputs[k] as tf.Tensor));
}

/** The same gradients by central differences of the float32 loss, step `h`. */
function finiteDifferences(op: Op, inputs: Input[], wrt: number[], h: number): Values[] {
  const outputShape = tf.tidy(() => op(...inputs.map(make)).shape);
  const weights = uniform(tf.util.sizeFromShape(outputShape), 99);
  const loss = (values: Input[]) =>
    tf.tidy(
      () => tf.sum(tf.mul(op(...values.map(make)), tf.tensor(weights, outputShape))).dataSync()[0] as number,
    );
  return wrt.map((k) => {
    const input = inputs[k] as Input;
    const grad = Array.from(input.values, (_, j) => {
      const shifted = (delta: number) => {
        const values = Float32Array.from(input.values);
        values[j] = (values[j] as number) + delta;
        return inputs.map((other, i) => (i === k ? { shape: input.shape, values } : other));
      };
      return (loss(shifted(h)) - loss(shifted(-h))) / (2 * h);
    });
    return { shape: input.shape, values: grad };
  });
}

for (const spec of SPECS) {
  describe(spec.name, () => {
    for (const { label, inputs, wrt } of spec.cases) {
      it(`${label}: wasm and cpu match the stock-op composite`, async () => {
        const reference = await runOn('cpu', () => spec.composite(...inputs.map(make)));
        expectClose(await runOn('wasm', () => spec.fused(...inputs.map(make))), reference);
        expectClose(await runOn('cpu', () => spec.fused(...inputs.map(make))), reference);
      });

      it(`${label}: gradients on wasm and cpu match the composite's autodiff`, async () => {
        const reference = await runOn('cpu', () => weightedLossGrads(spec.composite, inputs.map(make), wrt));
        expectClose(
          await runOn('wasm', () => weightedLossGrads(spec.fused, inputs.map(make), wrt)),
          reference,
          1e-5,
          1e-3,
        );
        expectClose(
          await runOn('cpu', () => weightedLossGrads(spec.fused, inputs.map(make), wrt)),
          reference,
          1e-5,
          1e-3,
        );
      });
    }

    // wasm registers only the fused kernels that beat stock kernels there (register.ts); run the rest too.
    it('the JS kernels on wasm heap views, registered there or not, match the composite', async () => {
      await withWasmKernels(spec.kernels.wasm, async () => {
        for (const { inputs, wrt } of spec.cases) {
          const reference = await runOn('cpu', () => spec.composite(...inputs.map(make)));
          expectClose(await runOn('wasm', () => spec.fused(...inputs.map(make))), reference);
          const gradients = await runOn('cpu', () =>
            weightedLossGrads(spec.composite, inputs.map(make), wrt),
          );
          expectClose(
            await runOn('wasm', () => weightedLossGrads(spec.fused, inputs.map(make), wrt)),
            gradients,
            1e-5,
            1e-3,
          );
        }
      });
    });

    it('gradients match central finite differences on wasm', async () => {
      const { inputs, wrt } = spec.cases[0] as OpCase;
      const analytic = await runOn('wasm', () => weightedLossGrads(spec.fused, inputs.map(make), wrt));
      expectClose(analytic, finiteDifferences(spec.fused, inputs, wrt, 1e-2), 2e-3, 1e-2);
    });
  });
}

describe('biasGelu is HF gelu_new', () => {
  it('matches 0.5 z (1 + tanh(sqrt(2/pi) (z + 0.044715 z^3))) of x + bias', async () => {
    const x = floats([6, 17], 71, 5);
    const bias = floats([17], 72);
    const tanhForm = () => {
      const z = tf.add(make(x), make(bias));
      const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(z, tf.mul(0.044715, tf.pow(z, 3))));
      return tf.mul(tf.mul(0.5, z), tf.add(1, tf.tanh(inner)));
    };
    expectClose(
      await runOn('wasm', () => biasGelu(make(x), make(bias) as tf.Tensor1D)),
      await runOn('cpu', tanhForm),
    );
  });
});

describe('logProbsOfTargets', () => {
  it('is finite for logits far beyond exp range, and 0 for padding targets', async () => {
    const logits = tf.tensor2d([
      [1000, 0, -1000],
      [-500, -500, -520],
      [3, 2, 1],
    ]);
    const [result] = await runOn('wasm', () => logProbsOfTargets(logits, tf.tensor1d([0, 2, -100], 'int32')));
    expect(result?.values[0]).toBeCloseTo(0, 6);
    expect(result?.values[1]).toBeCloseTo(-20 - Math.log(2 + Math.exp(-20)), 5);
    expect(result?.values[2]).toBe(0);
    logits.dispose();
  });
});

describe('entropyFromLogits', () => {
  it('is log(n) for uniform rows and 0 for a one-hot row', async () => {
    const [result] = await runOn('wasm', () =>
      entropyFromLogits(
        tf.tensor2d([
          [2, 2, 2, 2],
          [0, 0, 0, 0],
          [100, 0, 0, 0],
        ]),
      ),
    );
    expect(result?.values[0]).toBeCloseTo(Math.log(4), 6);
    expect(result?.values[1]).toBeCloseTo(Math.log(4), 6);
    expect(result?.values[2]).toBeCloseTo(0, 6);
  });
});

describe('clipByGlobalNorm', () => {
  const shapes = [[3, 5], [7], [2, 3, 4], []];
  const values = shapes.map((shape, i) => uniform(tf.util.sizeFromShape(shape), 80 + i, -2, 2));
  const norm = Math.sqrt(values.reduce((total, v) => total + v.reduce((s, x) => s + x * x, 0), 0));
  const grads = () => shapes.map((shape, i) => tf.tensor(values[i] as Float32Array, shape));

  for (const backend of ['wasm', 'cpu'] as const) {
    it(`${backend}: reports the norm and scales to maxNorm when above it`, async () => {
      const maxNorm = norm / 3;
      let reported = 0;
      const clipped = await runOn(backend, () => {
        const result = clipByGlobalNorm(grads(), maxNorm);
        reported = result.norm;
        return result.grads;
      });
      expect(reported).toBeCloseTo(norm, 4);
      const scale = maxNorm / (norm + 1e-6);
      expectClose(
        clipped,
        shapes.map((shape, i) => ({
          shape,
          values: Array.from(values[i] as Float32Array, (v) => v * scale),
        })),
      );
    });

    it(`${backend}: returns unscaled copies when the norm is within maxNorm`, async () => {
      const copies = await runOn(backend, () => clipByGlobalNorm(grads(), norm * 1.01).grads);
      expectClose(
        copies,
        shapes.map((shape, i) => ({ shape, values: Array.from(values[i] as Float32Array) })),
        0,
        0,
      );
    });
  }

  it('the fused sum of squares matches the composite on wasm and cpu', async () => {
    const reference = await runOn('cpu', () => sumOfSquaresComposite(grads()));
    const fused = () => tf.engine().runKernel(SumOfSquares, Object.fromEntries(grads().entries()));
    expectClose(await runOn('cpu', fused), reference);
    await withWasmKernels(sumOfSquaresKernels.wasm, async () =>
      expectClose(await runOn('wasm', fused), reference),
    );
  });

  it('rejects a maxNorm that is not positive', () => {
    expect(() => clipByGlobalNorm([], 0)).toThrow(KernelsConfigError);
    expect(() => clipByGlobalNorm([], Number.NaN)).toThrow(KernelsConfigError);
  });
});

describe('op arguments', () => {
  it('reject parameters that do not fit the last axis', async () => {
    await tf.setBackend('wasm');
    tf.tidy(() => {
      expect(() => layerNorm(tf.zeros([2, 4]), tf.ones([3]), tf.zeros([4]))).toThrow(/gamma/);
      expect(() => biasGelu(tf.zeros([2, 4]), tf.ones([4, 1]) as unknown as tf.Tensor1D)).toThrow(/bias/);
      expect(() => logProbsOfTargets(tf.zeros([2, 4]), tf.tensor1d([0, 1]))).toThrow(/int32/);
    });
  });
});
