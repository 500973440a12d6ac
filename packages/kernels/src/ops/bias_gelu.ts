import { add, engine, mul, sigmoid, square, type Tensor, type Tensor1D, tidy } from '@tensorflow/tfjs-core';
import { type ArrayKernel, arrayKernelConfigs, type TypedArray } from '../kernels/array_kernel.ts';
import { exp } from '../kernels/fast_math.ts';
import {
  assertRowParam,
  float32Like,
  kernelGradConfig,
  rowCount,
  rowLength,
  useFusedKernel,
} from './op_util.ts';

export const BiasGelu = 'LinewiseBiasGelu';
export const BiasGeluGrad = 'LinewiseBiasGeluGrad';

// gelu_new(z) = 0.5 z (1 + tanh(c (z + 0.044715 z^3))) = z * sigmoid(2c (z + 0.044715 z^3)), c = sqrt(2/pi):
// one exp instead of a tanh, and stock wasm's Tanh is scalar while its Sigmoid is not.
const TWO_C = 2 * Math.sqrt(2 / Math.PI);
const CUBIC = 0.044715;

/** GELU, tanh approximation (HF `gelu_new`), of `x + bias`, `bias` broadcast over the last axis. */
export function biasGelu(x: Tensor, bias: Tensor1D): Tensor {
  assertRowParam('biasGelu', x, bias, 'bias');
  if (useFusedKernel(BiasGelu, true)) return engine().runKernel(BiasGelu, { x, bias });
  return biasGeluComposite(x, bias);
}

/** `biasGelu` from stock ops: the path where the kernel is missing, and the reference in tests. */
export function biasGeluComposite(x: Tensor, bias: Tensor1D): Tensor {
  return tidy(() => {
    const z = add(x, bias);
    return mul(z, sigmoid(mul(mul(z, add(1, mul(square(z), CUBIC))), TWO_C)));
  });
}

function forward(inputs: TypedArray[], outputs: TypedArray[]): void {
  const [x, bias] = inputs as [Float32Array, Float32Array];
  const [y] = outputs as [Float32Array];
  const n = bias.length;
  for (let row = 0; row < x.length; row += n) {
    for (let j = 0; j < n; j++) {
      const z = (x[row + j] as number) + (bias[j] as number);
      y[row + j] = z / (1 + exp(-TWO_C * z * (1 + CUBIC * z * z)));
    }
  }
}

/** dx and, summed over rows in the same pass, dbias. */
function backward(inputs: TypedArray[], outputs: TypedArray[]): void {
  const [dy, x, bias] = inputs as [Float32Array, Float32Array, Float32Array];
  const [dx, dbias] = outputs as [Float32Array, Float32Array];
  const n = bias.length;
  const dbiasSum = new Float64Array(n);
  for (let row = 0; row < x.length; row += n) {
    for (let j = 0; j < n; j++) {
      const z = (x[row + j] as number) + (bias[j] as number);
      const s = 1 / (1 + exp(-TWO_C * z * (1 + CUBIC * z * z)));
      const g = (dy[row + j] as number) * (s + z * s * (1 - s) * TWO_C * (1 + 3 * CUBIC * z * z));
      dx[row + j] = g;
      dbiasSum[j] = (dbiasSum[j] as number) + g;
    }
  }
  dbias.set(dbiasSum);
}

const biasGeluKernel: ArrayKernel = {
  kernelName: BiasGelu,
  inputNames: ['x', 'bias'],
  outputs: ([x]) => [float32Like(x)],
  compute: forward,
  native: (blas, heap, [x, bias], [y], [shape]) => {
    const n = rowLength(shape);
    blas.biasGelu(heap, x as number, bias as number, rowCount(shape, n), n, y as number);
  },
};

const biasGeluGradKernel: ArrayKernel = {
  kernelName: BiasGeluGrad,
  inputNames: ['dy', 'x', 'bias'],
  outputs: ([, x, bias]) => [float32Like(x), float32Like(bias)],
  compute: backward,
  native: (blas, heap, [dy, x, bias], [dx, dbias], [, shape]) => {
    const n = rowLength(shape);
    blas.biasGeluGrad(
      heap,
      dy as number,
      x as number,
      bias as number,
      rowCount(shape, n),
      n,
      dx as number,
      dbias as number,
    );
  },
};

export const biasGeluKernels = arrayKernelConfigs(biasGeluKernel, biasGeluGradKernel);

export const biasGeluGradConfig = kernelGradConfig({
  kernelName: BiasGelu,
  gradKernelName: BiasGeluGrad,
  inputsToSave: ['x', 'bias'],
  grads: ['x', 'bias'],
});
