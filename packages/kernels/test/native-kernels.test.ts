import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Adam, biasGelu, layerNorm, logProbsOfTargets } from '../src/index.ts';
import { activeNativeBlas, disableNativeBlas, loadNativeBlas, type NativeBlas } from '../src/native.ts';
import { expectClose, initTestBackends, runOn, type TestBackend, type Values } from './support/backends.ts';
import { nativeSkipReason } from './support/native.ts';
import { floats } from './support/random.ts';

const skip = nativeSkipReason();

/** Runs `fn` on `backend`, on wasm with the native addon active. */
async function runNative(backend: TestBackend, fn: () => tf.Tensor | tf.Tensor[]): Promise<Values[]> {
  if (backend === 'wasm') loadNativeBlas();
  try {
    return await runOn(backend, fn);
  } finally {
    disableNativeBlas();
  }
}

/** Values of `op` and its gradients w.r.t. every input, with a non-uniform upstream gradient. */
function valueAndGrads(
  op: (...xs: tf.Tensor[]) => tf.Tensor,
  makeInputs: () => tf.Tensor[],
): () => tf.Tensor[] {
  return () => {
    const inputs = makeInputs();
    const y = op(...inputs);
    const weights = floats(y.shape, 999, 2);
    const grads = tf.grads((...xs: tf.Tensor[]) => tf.sum(tf.mul(op(...xs), weights)))(inputs);
    return [y, ...grads];
  };
}

async function expectNativeMatchesCpu(fn: () => tf.Tensor[], abs = 1e-5, rel = 1e-4): Promise<void> {
  const cpu = await runNative('cpu', fn);
  const wasm = await runNative('wasm', fn);
  expectClose(wasm, cpu, abs, rel);
}

describe.skipIf(skip !== undefined)(
  `native fused kernels on the wasm heap${skip === undefined ? '' : ` (skipped: ${skip})`}`,
  () => {
    beforeAll(initTestBackends);
    afterEach(() => disableNativeBlas());

    const blas = (): NativeBlas => {
      loadNativeBlas();
      const active = activeNativeBlas();
      disableNativeBlas();
      if (active === undefined) throw new Error('native addon did not load');
      return active;
    };

    it('reports which SIMD build runs', () => {
      expect(['avx2', 'baseline']).toContain(blas().simd());
    });

    // Row lengths below, at and past a vector width, with a tail; magnitudes reach exp's clamp.
    for (const [label, shape, scale] of [
      ['[3,5]', [3, 5], 3],
      ['[2,9,13]', [2, 9, 13], 6],
      ['[4,40]', [4, 40], 12],
      ['[16,64] wide range', [16, 64], 60],
    ] as [string, number[], number][]) {
      it(`biasGelu ${label}: values and gradients match cpu`, async () => {
        const n = shape[shape.length - 1] as number;
        await expectNativeMatchesCpu(
          valueAndGrads(
            (x, b) => biasGelu(x as tf.Tensor, b as tf.Tensor1D),
            () => [floats(shape, 1, scale), floats([n], 2)],
          ),
        );
      });

      it(`layerNorm ${label}: values and gradients match cpu`, async () => {
        const n = shape[shape.length - 1] as number;
        await expectNativeMatchesCpu(
          valueAndGrads(
            (x, g, b) => layerNorm(x as tf.Tensor, g as tf.Tensor1D, b as tf.Tensor1D),
            () => [tf.add(floats(shape, 3, scale), 0.5 * scale), floats([n], 4), floats([n], 5)],
          ),
          1e-4,
          1e-4,
        );
      });
    }

    it('layerNorm with epsilon 1e-2 on near-constant rows matches cpu', async () => {
      await expectNativeMatchesCpu(
        valueAndGrads(
          (x, g, b) => layerNorm(x as tf.Tensor, g as tf.Tensor1D, b as tf.Tensor1D, 1e-2),
          () => [floats([5, 11], 6, 0.01), floats([11], 7), floats([11], 8)],
        ),
      );
    });

    it('the wasm training kernels run natively while the addon is active', async () => {
      const seen: string[] = [];
      loadNativeBlas();
      await tf.setBackend('wasm');
      const info = await tf.profile(() => {
        const x = floats([4, 8], 9);
        const b = floats([8], 10);
        return tf.grads((xi: tf.Tensor, bi: tf.Tensor) => tf.sum(biasGelu(xi, bi as tf.Tensor1D)))([x, b]);
      });
      for (const k of info.kernels) seen.push(k.name);
      tf.dispose(info.result as tf.Tensor[]);
      expect(seen).toContain('LinewiseBiasGelu');
      expect(seen).toContain('LinewiseBiasGeluGrad');
      disableNativeBlas();
      const stock = await tf.profile(() => biasGelu(floats([4, 8], 9), floats([8], 10) as tf.Tensor1D));
      tf.dispose(stock.result as tf.Tensor);
      expect(stock.kernels.map((k) => k.name)).not.toContain('LinewiseBiasGelu');
    });

    for (const [label, rows, vocab, scale] of [
      ['[6,5]', 6, 5, 3],
      ['[9,37]', 9, 37, 8],
      ['[12,512] wide range', 12, 512, 60],
    ] as [string, number, number, number][]) {
      it(`logProbsOfTargets ${label}: values and logits gradient match cpu, padding and outside ids give 0`, async () => {
        const ids = Array.from({ length: rows }, (_, i) => (i * 7) % vocab);
        ids[1] = -100;
        ids[2] = vocab;
        await expectNativeMatchesCpu(() => {
          const logits = floats([rows, vocab], 80, scale);
          const targets = tf.tensor1d(ids, 'int32');
          const weights = floats([rows], 81, 2);
          const f = (l: tf.Tensor) => logProbsOfTargets(l as tf.Tensor2D, targets);
          const [dlogits] = tf.grads((l: tf.Tensor) => tf.sum(tf.mul(f(l), weights)))([logits]);
          return [f(logits), dlogits as tf.Tensor];
        });
      });
    }

    for (const weightDecay of [0, 0.1]) {
      it(`Adam (weight decay ${weightDecay}): three steps match cpu`, async () => {
        const run = (): tf.Tensor[] => {
          const variables = [tf.variable(floats([37], 11)), tf.variable(floats([5, 9], 12))];
          const adam = new Adam({ learningRate: 0.01, weightDecay });
          for (let step = 0; step < 3; step++) {
            const grads = [floats([37], 20 + step, 0.5), floats([5, 9], 30 + step, 1e-3)];
            adam.step(variables, grads);
            tf.dispose(grads);
          }
          const state = adam.getState();
          const out = [...variables.map((v) => v.clone()), ...state.m, ...state.v];
          adam.dispose();
          tf.dispose(variables);
          return out;
        };
        await expectNativeMatchesCpu(run, 1e-6, 1e-5);
      });
    }

    for (const [label, shape, axis, keepDims] of [
      ['[37,19] axis 0', [37, 19], 0, false],
      ['[3,4,5] axes [0,1]', [3, 4, 5], [0, 1], false],
      ['[3,4,5] axes [1,0] keepDims', [3, 4, 5], [1, 0], true],
      ['[6,2,7] axis -3', [6, 2, 7], -3, false],
      ['[513,300] axis 0', [513, 300], 0, false],
    ] as [string, number[], number | number[], boolean][]) {
      it(`sum over leading axes ${label} (colSum) matches cpu, with its gradient`, async () => {
        await expectNativeMatchesCpu(
          valueAndGrads(
            (x) => tf.sum(x, axis, keepDims),
            () => [floats(shape, 40, 3)],
          ),
          1e-5,
          1e-5,
        );
      });
    }

    it('rejects arrays outside the heap and misaligned offsets', () => {
      const addon = blas();
      const heap = new ArrayBuffer(64);
      expect(() => addon.colSum(heap, 0, 4, 5, 0)).toThrow(RangeError);
      expect(() => addon.colSum(heap, 2, 1, 1, 8)).toThrow(RangeError);
      expect(() => addon.biasGelu(heap, 0, 0, 1, 16, 64)).toThrow(RangeError);
      expect(() => addon.layerNorm(heap, 0, 0, 0, 2, 8, 1e-5, 0)).not.toThrow();
      expect(() => addon.adamUpdate(heap, 0, 0, 0, 0, 17, 0, 0, 0, 1, 0.9, 0.999, 1, 1e-8, 1)).toThrow(
        RangeError,
      );
    });

    it('the baseline (non-AVX2) build gives the same numbers as the AVX2 one', () => {
      // LINEWISE_NATIVE_SIMD=baseline is read when the addon loads: compare with a fresh process.
      const script = `
        const addon = require(${JSON.stringify(fileURLToPath(new URL('../native/build/Release/linewise_blas.node', import.meta.url)))});
        const n = 37, rows = 5, heap = new ArrayBuffer(4 * (6 * rows * n + 4 * n));
        const f = new Float32Array(heap);
        let s = 7; for (let i = 0; i < f.length; i++) { s = (s * 1103515245 + 12345) % 2147483648; f[i] = (s / 2147483648 - 0.5) * 8; }
        const x = 0, dy = 4 * rows * n, bias = 8 * rows * n, y = bias + 4 * n, dx = y + 4 * rows * n, db = dx + 4 * rows * n;
        addon.biasGelu(heap, x, bias, rows, n, y);
        addon.biasGeluGrad(heap, dy, x, bias, rows, n, dx, db);
        addon.layerNorm(heap, x, bias, bias, rows, n, 1e-5, x + 4 * 2 * rows * n);
        addon.colSum(heap, x, rows, n, bias + 4 * 3 * n);
        const t = new Int32Array(heap, dy, rows); t.set([0, 36, -1, 5, 40]);
        addon.logProbsOfTargets(heap, x, dy, rows, n, bias + 4 * n);
        addon.logProbsOfTargetsGrad(heap, bias + 4 * 2 * n, x, dy, bias + 4 * n, rows, n, y);
        process.stdout.write(JSON.stringify({ simd: addon.simd(), values: Array.from(f) }));
      `;
      const run = (simd: string) => {
        const result = spawnSync(process.execPath, ['-e', script], {
          encoding: 'utf8',
          env: { ...process.env, LINEWISE_NATIVE_SIMD: simd },
        });
        expect(result.status, result.stderr).toBe(0);
        return JSON.parse(result.stdout) as { simd: string; values: number[] };
      };
      const baseline = run('baseline');
      const best = run('');
      expect(baseline.simd).toBe('baseline');
      expectClose([{ shape: [], values: baseline.values }], [{ shape: [], values: best.values }], 1e-5, 1e-5);
    });
  },
);
