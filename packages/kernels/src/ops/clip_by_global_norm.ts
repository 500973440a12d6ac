import { addN, clone, engine, mul, type Scalar, square, sum, type Tensor, tidy } from '@tensorflow/tfjs-core';
import { KernelsConfigError } from '../errors.ts';
import { type ArrayKernel, arrayKernelConfigs, type TypedArray } from '../kernels/array_kernel.ts';
import { hasKernel } from './op_util.ts';

export const SumOfSquares = 'LinewiseSumOfSquares';

/**
 * Scales `grads` so that their global L2 norm is at most `maxNorm` (as PyTorch's `clip_grad_norm_`: by
 * `maxNorm / (norm + 1e-6)` when the norm exceeds `maxNorm`). Returns new tensors, scaled or not, and the
 * norm before clipping; the caller still owns (and disposes) `grads`. A non-finite norm leaves `grads`
 * unscaled: check `norm` to skip such a step.
 */
export function clipByGlobalNorm(grads: Tensor[], maxNorm: number): { grads: Tensor[]; norm: number } {
  if (!(maxNorm > 0 && Number.isFinite(maxNorm))) {
    throw new KernelsConfigError('maxNorm', `must be a positive finite number, got ${maxNorm}`);
  }
  if (grads.length === 0) return { grads: [], norm: 0 };
  const squares: Scalar = hasKernel(SumOfSquares)
    ? engine().runKernel(SumOfSquares, Object.fromEntries(grads.map((grad, i) => [i, grad])))
    : sumOfSquaresComposite(grads);
  const norm = Math.sqrt(squares.dataSync()[0] as number);
  squares.dispose();
  const scale = norm > maxNorm ? maxNorm / (norm + 1e-6) : 1;
  return { grads: grads.map((grad) => (scale === 1 ? clone(grad) : mul(grad, scale))), norm };
}

/** The sum of squares of every element of `tensors`, from stock ops. */
export function sumOfSquaresComposite(tensors: Tensor[]): Scalar {
  return tidy(() => addN(tensors.map((t) => sum(square(t)))) as Scalar);
}

/** One pass over every gradient, accumulating in float64, instead of two kernels per tensor and an addN. */
function sumOfSquares(inputs: TypedArray[], outputs: TypedArray[]): void {
  let total = 0;
  for (const values of inputs) {
    for (let i = 0; i < values.length; i++) {
      const v = values[i] as number;
      total += v * v;
    }
  }
  (outputs[0] as Float32Array)[0] = total;
}

const sumOfSquaresKernel: ArrayKernel = {
  kernelName: SumOfSquares,
  outputs: () => [{ shape: [], dtype: 'float32' }],
  compute: sumOfSquares,
};

export const sumOfSquaresKernels = arrayKernelConfigs(sumOfSquaresKernel);
