import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Adam, KernelsConfigError } from '../src/index.ts';
import { AdamUpdate, adamUpdateComposite, adamUpdateKernels } from '../src/ops/adam.ts';
import {
  expectClose,
  initTestBackends,
  runOn,
  type TestBackend,
  type Values,
  withWasmKernels,
} from './support/backends.ts';
import { uniform } from './support/random.ts';

beforeAll(initTestBackends);

/** Steps `adam` over `grads` (one list per step) from `initial` and returns the final parameter values. */
function train(
  adam: Adam,
  initial: Float32Array[],
  shapes: number[][],
  grads: Float32Array[][],
): tf.Tensor[] {
  const variables = initial.map((values, i) => tf.variable(tf.tensor(values, shapes[i])));
  for (const stepGrads of grads) {
    tf.tidy(() =>
      adam.step(
        variables,
        stepGrads.map((g, i) => tf.tensor(g, shapes[i])),
      ),
    );
  }
  const result = variables.map((v) => v.clone());
  tf.dispose(variables);
  adam.dispose();
  return result;
}

describe('Adam: two steps worked by hand', () => {
  // Element a: p = 1, gradients 0.5 then 0.25. Element b: p = -2, gradients -0.1 then 0.3. lr 0.1, betas 0.9 and
  // 0.999, epsilon 1e-8.
  // Step 1, a: m = 0.05, v = 0.00025; m / (1 - 0.9) = 0.5, v / (1 - 0.999) = 0.25, sqrt 0.5, so p -= 0.1 * 1.
  // Step 2, a: m = 0.045 + 0.025 = 0.07, v = 0.00024975 + 0.0000625 = 0.00031225; corrected m = 0.07 / 0.19 =
  // 0.3684211, v = 0.00031225 / 0.001999 = 0.1562031, sqrt 0.3952254; p -= 0.1 * 0.9321796 = 0.0932180.
  // Step 2, b: m = -0.009 + 0.03 = 0.021, v = 0.00000999 + 0.00009 = 0.00009999; corrected m = 0.1105263,
  // v = 0.0500200, sqrt 0.2236515; p -= 0.1 * 0.4941899 = 0.0494190.
  // With weight decay 0.1 every step first multiplies p by 1 - 0.1 * 0.1 = 0.99.
  const cases = [
    { weightDecay: 0, step1: [0.9, -1.9], step2: [0.806782, -1.949419] },
    { weightDecay: 0.1, step1: [0.89, -1.88], step2: [0.787882, -1.910619] },
  ];
  for (const backend of ['wasm', 'cpu'] as const) {
    for (const { weightDecay, step1, step2 } of cases) {
      it(`${backend}, weight decay ${weightDecay}`, async () => {
        await tf.setBackend(backend);
        const adam = new Adam({ learningRate: 0.1, weightDecay });
        const p = tf.variable(tf.tensor1d([1, -2]));
        tf.tidy(() => adam.step([p], [tf.tensor1d([0.5, -0.1])]));
        expect(adam.stepCount).toBe(1);
        const after1 = Array.from(p.dataSync());
        tf.tidy(() => adam.step([p], [tf.tensor1d([0.25, 0.3])]));
        expect(adam.stepCount).toBe(2);
        expect(after1).toEqual(step1.map((value) => expect.closeTo(value, 6)));
        expect(Array.from(p.dataSync())).toEqual(step2.map((value) => expect.closeTo(value, 5)));
        const { m, v } = adam.getState();
        expect(Array.from(m[0]?.dataSync() ?? [])).toEqual([
          expect.closeTo(0.07, 7),
          expect.closeTo(0.021, 7),
        ]);
        expect(Array.from(v[0]?.dataSync() ?? [])).toEqual([
          expect.closeTo(0.00031225, 9),
          expect.closeTo(0.00009999, 9),
        ]);
        tf.dispose([p, ...m, ...v]);
        adam.dispose();
      });
    }
  }
});

describe('Adam: the fused kernel matches the composite update', () => {
  const shapes = [[5, 7], [13], [2, 3, 4]];
  const initial = shapes.map((shape, i) => uniform(tf.util.sizeFromShape(shape), 10 + i));
  const grads = [0, 1, 2, 3, 4].map((step) =>
    shapes.map((shape, i) => uniform(tf.util.sizeFromShape(shape), 100 + 10 * step + i, -3, 3)),
  );
  const options = { learningRate: 0.01, beta1: 0.8, beta2: 0.99, epsilon: 1e-6, weightDecay: 0.05 };

  /** The same five steps by `adamUpdateComposite` alone, on `backend`. */
  async function composite(backend: TestBackend): Promise<Values[]> {
    return runOn(backend, () => {
      let params = initial.map((values, i) => tf.tensor(values, shapes[i]));
      let m = params.map((p) => tf.zerosLike(p));
      let v = params.map((p) => tf.zerosLike(p));
      grads.forEach((stepGrads, step) => {
        const updates = params.map((p, i) =>
          adamUpdateComposite(
            p,
            tf.tensor(stepGrads[i] as Float32Array, shapes[i]),
            m[i] as tf.Tensor,
            v[i] as tf.Tensor,
            {
              ...options,
              step: step + 1,
            },
          ),
        );
        params = updates.map((u) => u[0]);
        m = updates.map((u) => u[1]);
        v = updates.map((u) => u[2]);
      });
      return params;
    });
  }

  for (const backend of ['wasm', 'cpu'] as const) {
    it(`${backend}: five steps`, async () => {
      // wasm composes stock ops unless the kernel is registered there (register.ts): run both.
      const reference = await composite('cpu');
      expectClose(
        await runOn(backend, () => train(new Adam(options), initial, shapes, grads)),
        reference,
        1e-6,
        1e-5,
      );
      await withWasmKernels(adamUpdateKernels.wasm, async () => {
        const fused = await runOn(backend, () => train(new Adam(options), initial, shapes, grads));
        expectClose(fused, reference, 1e-6, 1e-5);
      });
    });
  }

  it('Adam.step composes stock ops where the kernel is missing', async () => {
    const [cpuConfig] = adamUpdateKernels.cpu;
    tf.unregisterKernel(AdamUpdate, 'cpu');
    try {
      const unfused = await runOn('cpu', () => train(new Adam(options), initial, shapes, grads));
      expectClose(unfused, await composite('cpu'), 0, 0);
    } finally {
      tf.registerKernel(cpuConfig as tf.KernelConfig);
    }
  });
});

describe('Adam: memory and state', () => {
  const shapes = [[4, 3], [3]];
  const grads = (step: number) =>
    shapes.map((shape, i) => uniform(tf.util.sizeFromShape(shape), 200 + 10 * step + i));
  let adam: Adam | undefined;
  afterEach(() => adam?.dispose());

  for (const backend of ['wasm', 'cpu'] as const) {
    it(`${backend}: leaks no tensor per step, also when stepped inside a tidy`, async () => {
      await tf.setBackend(backend);
      adam = new Adam({ learningRate: 0.1, weightDecay: 0.01 });
      const variables = shapes.map((shape, i) =>
        tf.variable(tf.tensor(uniform(tf.util.sizeFromShape(shape), i), shape)),
      );
      const stepOnce = (step: number) =>
        tf.tidy(() =>
          adam?.step(
            variables,
            grads(step).map((g, i) => tf.tensor(g, shapes[i])),
          ),
        );
      stepOnce(0);
      const afterFirst = tf.memory().numTensors;
      for (let step = 1; step < 5; step++) stepOnce(step);
      expect(tf.memory().numTensors).toBe(afterFirst);
      // Moments made inside the tidy survived it: a state read still works.
      const state = adam.getState();
      expect(state.m.every((t) => !t.isDisposed)).toBe(true);
      tf.dispose([...state.m, ...state.v]);
      const beforeDispose = tf.memory().numTensors;
      adam.dispose();
      expect(tf.memory().numTensors).toBe(beforeDispose - 2 * variables.length);
      tf.dispose(variables);
    });
  }

  it('resumes exactly from getState/setState with new variables', async () => {
    await tf.setBackend('wasm');
    const options = { learningRate: 0.05, weightDecay: 0.1 };
    const initial = shapes.map((shape, i) => uniform(tf.util.sizeFromShape(shape), 300 + i));
    const straight = train(new Adam(options), initial, shapes, [0, 1, 2, 3].map(grads));

    const first = new Adam(options);
    const firstVariables = initial.map((values, i) => tf.variable(tf.tensor(values, shapes[i])));
    for (const step of [0, 1])
      tf.tidy(() =>
        first.step(
          firstVariables,
          grads(step).map((g, i) => tf.tensor(g, shapes[i])),
        ),
      );
    const state = first.getState();
    first.dispose();

    adam = new Adam(options);
    adam.setState(state);
    tf.dispose([...state.m, ...state.v]);
    expect(adam.stepCount).toBe(2);
    const resumedVariables = firstVariables.map((v) => tf.variable(v.clone()));
    tf.dispose(firstVariables);
    for (const step of [2, 3])
      tf.tidy(() =>
        adam?.step(
          resumedVariables,
          grads(step).map((g, i) => tf.tensor(g, shapes[i])),
        ),
      );
    expect(resumedVariables.map((v) => Array.from(v.dataSync()))).toEqual(
      straight.map((t) => Array.from(t.dataSync())),
    );
    tf.dispose([...straight, ...resumedVariables]);
  });

  it('rejects other variables, mismatched gradients and bad options', async () => {
    await tf.setBackend('wasm');
    adam = new Adam({ learningRate: 0.1 });
    const a = tf.variable(tf.zeros([2]));
    const b = tf.variable(tf.zeros([2]));
    tf.tidy(() => adam?.step([a], [tf.ones([2])]));
    expect(() => tf.tidy(() => adam?.step([b], [tf.ones([2])]))).toThrow(KernelsConfigError);
    const before = Array.from(a.dataSync());
    expect(() => tf.tidy(() => adam?.step([a], [tf.ones([3])]))).toThrow(KernelsConfigError);
    expect(() => tf.tidy(() => adam?.step([a], []))).toThrow(KernelsConfigError);
    expect(Array.from(a.dataSync())).toEqual(before);
    expect(adam.stepCount).toBe(1);
    expect(() => new Adam({ learningRate: -1 })).toThrow(KernelsConfigError);
    expect(() => new Adam({ learningRate: 0.1, beta1: 1 })).toThrow(KernelsConfigError);
    expect(() => new Adam({ learningRate: 0.1, weightDecay: -0.1 })).toThrow(KernelsConfigError);
    expect(() => adam?.setState({ step: 1, m: [tf.zeros([2])], v: [] })).toThrow(KernelsConfigError);
    tf.dispose([a, b]);
  });
});
