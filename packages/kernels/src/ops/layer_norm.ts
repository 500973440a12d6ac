import {
  add,
  engine,
  mean,
  mul,
  rsqrt,
  square,
  sub,
  type Tensor,
  type Tensor1D,
  tidy,
} from '@tensorflow/tfjs-core';
import { type ArrayKernel, arrayKernelConfigs, type TypedArray } from '../kernels/array_kernel.ts';
import { assertRowParam, float32Like, hasKernel, kernelGradConfig, rowCount, rowLength } from './op_util.ts';

export const LayerNorm = 'LinewiseLayerNorm';
export const LayerNormGrad = 'LinewiseLayerNormGrad';

/** Layer normalisation over the last axis: `(x - mean) / sqrt(var + epsilon) * gamma + beta`. */
export function layerNorm(x: Tensor, gamma: Tensor1D, beta: Tensor1D, epsilon = 1e-5): Tensor {
  assertRowParam('layerNorm', x, gamma, 'gamma');
  assertRowParam('layerNorm', x, beta, 'beta');
  if (hasKernel(LayerNorm)) return engine().runKernel(LayerNorm, { x, gamma, beta }, { epsilon });
  return layerNormComposite(x, gamma, beta, epsilon);
}

/** `layerNorm` from stock ops: the path where the kernel is missing, and the reference in tests. */
export function layerNormComposite(x: Tensor, gamma: Tensor1D, beta: Tensor1D, epsilon = 1e-5): Tensor {
  return tidy(() => {
    const centered = sub(x, mean(x, -1, true));
    const variance = mean(square(centered), -1, true);
    return add(mul(mul(centered, rsqrt(add(variance, epsilon))), gamma), beta);
  });
}

/** 1/sqrt(var + epsilon) from a row's sum and sum of squares (float64: one pass loses nothing that matters). */
function rstdOf(sum: number, squares: number, n: number, epsilon: number): number {
  const mu = sum / n;
  return 1 / Math.sqrt(Math.max(squares / n - mu * mu, 0) + epsilon);
}

function forward(inputs: TypedArray[], outputs: TypedArray[], attrs: { epsilon?: unknown }): void {
  const [x, gamma, beta] = inputs as [Float32Array, Float32Array, Float32Array];
  const [y] = outputs as [Float32Array];
  const n = gamma.length;
  for (let row = 0; row < x.length; row += n) {
    let sum = 0;
    let squares = 0;
    for (let j = 0; j < n; j++) {
      const v = x[row + j] as number;
      sum += v;
      squares += v * v;
    }
    const mu = sum / n;
    const rstd = rstdOf(sum, squares, n, attrs.epsilon as number);
    for (let j = 0; j < n; j++) {
      y[row + j] = ((x[row + j] as number) - mu) * rstd * (gamma[j] as number) + (beta[j] as number);
    }
  }
}

/**
 * dx = rstd * (g - mean(g) - xhat * mean(g * xhat)) with g = dy * gamma; dgamma and dbeta summed over rows
 * in the same pass. Row statistics are recomputed (one pass over a row in cache) rather than saved.
 */
function backward(inputs: TypedArray[], outputs: TypedArray[], attrs: { epsilon?: unknown }): void {
  const [dy, x, gamma] = inputs as [Float32Array, Float32Array, Float32Array];
  const [dx, dgamma, dbeta] = outputs as [Float32Array, Float32Array, Float32Array];
  const n = gamma.length;
  const dgammaSum = new Float64Array(n);
  const dbetaSum = new Float64Array(n);
  for (let row = 0; row < x.length; row += n) {
    let sum = 0;
    let squares = 0;
    let sumG = 0;
    let sumGX = 0;
    for (let j = 0; j < n; j++) {
      const v = x[row + j] as number;
      const g = (dy[row + j] as number) * (gamma[j] as number);
      sum += v;
      squares += v * v;
      sumG += g;
      sumGX += g * v;
    }
    const mu = sum / n;
    const rstd = rstdOf(sum, squares, n, attrs.epsilon as number);
    const meanG = sumG / n;
    const meanGXhat = rstd * (sumGX / n - mu * meanG);
    for (let j = 0; j < n; j++) {
      const d = dy[row + j] as number;
      const xhat = ((x[row + j] as number) - mu) * rstd;
      dx[row + j] = rstd * (d * (gamma[j] as number) - meanG - xhat * meanGXhat);
      dgammaSum[j] = (dgammaSum[j] as number) + d * xhat;
      dbetaSum[j] = (dbetaSum[j] as number) + d;
    }
  }
  dgamma.set(dgammaSum);
  dbeta.set(dbetaSum);
}

const layerNormKernel: ArrayKernel = {
  kernelName: LayerNorm,
  inputNames: ['x', 'gamma', 'beta'],
  outputs: ([x]) => [float32Like(x)],
  compute: forward,
  native: (blas, heap, [x, gamma, beta], [y], [shape], attrs) => {
    const n = rowLength(shape);
    const rows = rowCount(shape, n);
    blas.layerNorm(
      heap,
      x as number,
      gamma as number,
      beta as number,
      rows,
      n,
      attrs.epsilon as number,
      y as number,
    );
  },
};

const layerNormGradKernel: ArrayKernel = {
  kernelName: LayerNormGrad,
  inputNames: ['dy', 'x', 'gamma'],
  outputs: ([, x, gamma]) => [float32Like(x), float32Like(gamma), float32Like(gamma)],
  compute: backward,
  native: (blas, heap, [dy, x, gamma], [dx, dgamma, dbeta], [, shape], attrs) => {
    const n = rowLength(shape);
    const rows = rowCount(shape, n);
    blas.layerNormGrad(
      heap,
      dy as number,
      x as number,
      gamma as number,
      rows,
      n,
      attrs.epsilon as number,
      dx as number,
      dgamma as number,
      dbeta as number,
    );
  },
};

export const layerNormKernels = arrayKernelConfigs(layerNormKernel, layerNormGradKernel);

export const layerNormGradConfig = kernelGradConfig({
  kernelName: LayerNorm,
  gradKernelName: LayerNormGrad,
  inputsToSave: ['x', 'gamma'],
  grads: ['x', 'gamma', 'beta'],
});
