import {
  add,
  engine,
  mean,
  mul,
  rsqrt,
  square,
  type Tensor,
  type Tensor1D,
  tidy,
} from '@tensorflow/tfjs-core';
import { type ArrayKernel, arrayKernelConfigs, type TypedArray } from '../kernels/array_kernel.ts';
import { assertRowParam, float32Like, hasKernel, kernelGradConfig } from './op_util.ts';

export const RmsNorm = 'LinewiseRmsNorm';
export const RmsNormGrad = 'LinewiseRmsNormGrad';

/** RMS normalisation over the last axis, as HF Llama: `x * rsqrt(mean(x^2) + epsilon) * gamma`. */
export function rmsNorm(x: Tensor, gamma: Tensor1D, epsilon = 1e-6): Tensor {
  assertRowParam('rmsNorm', x, gamma, 'gamma');
  if (hasKernel(RmsNorm)) return engine().runKernel(RmsNorm, { x, gamma }, { epsilon });
  return rmsNormComposite(x, gamma, epsilon);
}

/** `rmsNorm` from stock ops: the path where the kernel is missing, and the reference in tests. */
export function rmsNormComposite(x: Tensor, gamma: Tensor1D, epsilon = 1e-6): Tensor {
  return tidy(() => mul(mul(x, rsqrt(add(mean(square(x), -1, true), epsilon))), gamma));
}

function forward(inputs: TypedArray[], outputs: TypedArray[], attrs: { epsilon?: unknown }): void {
  const [x, gamma] = inputs as [Float32Array, Float32Array];
  const [y] = outputs as [Float32Array];
  const n = gamma.length;
  for (let row = 0; row < x.length; row += n) {
    let squares = 0;
    for (let j = 0; j < n; j++) {
      const v = x[row + j] as number;
      squares += v * v;
    }
    const rstd = 1 / Math.sqrt(squares / n + (attrs.epsilon as number));
    for (let j = 0; j < n; j++) y[row + j] = (x[row + j] as number) * rstd * (gamma[j] as number);
  }
}

/** dx = rstd * g - x * rstd^3 * mean(g * x) with g = dy * gamma; dgamma summed over rows in the same pass. */
function backward(inputs: TypedArray[], outputs: TypedArray[], attrs: { epsilon?: unknown }): void {
  const [dy, x, gamma] = inputs as [Float32Array, Float32Array, Float32Array];
  const [dx, dgamma] = outputs as [Float32Array, Float32Array];
  const n = gamma.length;
  const dgammaSum = new Float64Array(n);
  for (let row = 0; row < x.length; row += n) {
    let squares = 0;
    let sumGX = 0;
    for (let j = 0; j < n; j++) {
      const v = x[row + j] as number;
      squares += v * v;
      sumGX += (dy[row + j] as number) * (gamma[j] as number) * v;
    }
    const rstd = 1 / Math.sqrt(squares / n + (attrs.epsilon as number));
    const c = (rstd * rstd * rstd * sumGX) / n;
    for (let j = 0; j < n; j++) {
      const d = dy[row + j] as number;
      const v = x[row + j] as number;
      dx[row + j] = rstd * d * (gamma[j] as number) - v * c;
      dgammaSum[j] = (dgammaSum[j] as number) + d * v * rstd;
    }
  }
  dgamma.set(dgammaSum);
}

const rmsNormKernel: ArrayKernel = {
  kernelName: RmsNorm,
  inputNames: ['x', 'gamma'],
  outputs: ([x]) => [float32Like(x)],
  compute: forward,
};

const rmsNormGradKernel: ArrayKernel = {
  kernelName: RmsNormGrad,
  inputNames: ['dy', 'x', 'gamma'],
  outputs: ([, x, gamma]) => [float32Like(x), float32Like(gamma)],
  compute: backward,
};

export const rmsNormKernels = arrayKernelConfigs(rmsNormKernel, rmsNormGradKernel);

export const rmsNormGradConfig = kernelGradConfig({
  kernelName: RmsNorm,
  gradKernelName: RmsNormGrad,
  inputsToSave: ['x', 'gamma'],
  grads: ['x', 'gamma'],
});
