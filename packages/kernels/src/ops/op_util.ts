import {
  engine,
  type GradConfig,
  getBackend,
  getKernel,
  type NamedTensorMap,
  type Tensor,
  type TensorInfo,
  util,
  zeros,
} from '@tensorflow/tfjs-core';
import type { OutputSpec } from '../kernels/array_kernel.ts';
import { exp } from '../kernels/fast_math.ts';
import { activeNativeBlas } from '../native.ts';

/** Whether the active backend has `kernelName`; ops without it compose stock tfjs ops instead. */
export function hasKernel(kernelName: string): boolean {
  return getKernel(kernelName, getBackend()) !== undefined;
}

/**
 * Whether an op should run its fused kernel. Kernels whose JS loop loses to the stock-op composite on wasm
 * (`nativeOnlyOnWasm`) run there only while the native addon does their work.
 */
export function useFusedKernel(kernelName: string, nativeOnlyOnWasm: boolean): boolean {
  const backend = getBackend();
  if (getKernel(kernelName, backend) === undefined) return false;
  return !(nativeOnlyOnWasm && backend === 'wasm' && activeNativeBlas() === undefined);
}

/** Asserts that `x` is float32 and `param` is a float32 vector as long as the last axis of `x`. */
export function assertRowParam(op: string, x: Tensor, param: Tensor, name: string): void {
  util.assert(x.dtype === 'float32', () => `${op}: x must be float32, got ${x.dtype}`);
  util.assert(
    param.rank === 1 && param.dtype === 'float32' && x.rank >= 1 && param.shape[0] === x.shape[x.rank - 1],
    () =>
      `${op}: ${name} must be a float32 vector of the last axis's size ${x.shape[x.rank - 1]}, got [${param.shape}]`,
  );
}

/** The last axis's size of `shape` (1 for a scalar). */
export function rowLength(shape: number[] | undefined): number {
  return shape === undefined || shape.length === 0 ? 1 : (shape[shape.length - 1] as number);
}

/** Rows of `n` elements in a tensor of `shape`. */
export function rowCount(shape: number[] | undefined, n: number): number {
  return n === 0 ? 0 : util.sizeFromShape(shape ?? []) / n;
}

/** `softmaxRowStats`'s result, reused across calls (kernels run on the one JS thread, one at a time). */
const rowStats = new Float64Array(2);

/**
 * The max of `logits[row, row + vocab)` and the sum of exp(logit - max) over them, as [max, sumExp]; the
 * array is overwritten by the next call.
 */
export function softmaxRowStats(logits: Float32Array, row: number, vocab: number): Float64Array {
  let max = Number.NEGATIVE_INFINITY;
  for (let j = 0; j < vocab; j++) max = Math.max(max, logits[row + j] as number);
  let sumExp = 0;
  for (let j = 0; j < vocab; j++) sumExp += exp((logits[row + j] as number) - max);
  rowStats[0] = max;
  rowStats[1] = sumExp;
  return rowStats;
}

/** A float32 output shaped like `tensor`. */
export function float32Like(tensor: TensorInfo | undefined): OutputSpec {
  return { shape: (tensor as TensorInfo).shape, dtype: 'float32' };
}

/**
 * The gradient of fused kernel `kernelName` by its grad kernel `gradKernelName`, which takes `dy`, the
 * inputs `inputsToSave` and, when `savedOutput` names it, the forward output, under those names, with the
 * forward attrs, and returns the gradients of `grads` in order. `noGrads` inputs (integer ids) get float32
 * zeros, which tfjs asks for when they derive from a variable.
 */
export function kernelGradConfig(spec: {
  kernelName: string;
  gradKernelName: string;
  inputsToSave: string[];
  savedOutput?: string;
  grads: string[];
  noGrads?: string[];
}): GradConfig {
  const { kernelName, gradKernelName, inputsToSave, savedOutput, grads, noGrads = [] } = spec;
  const savedNames = savedOutput === undefined ? inputsToSave : [...inputsToSave, savedOutput];
  return {
    kernelName,
    inputsToSave,
    ...(savedOutput === undefined ? {} : { outputsToSave: [true] }),
    gradFunc: (dy, saved, attrs) => {
      const inputs: NamedTensorMap = { dy: dy as Tensor };
      savedNames.forEach((name, i) => {
        inputs[name] = saved[i] as Tensor;
      });
      const result = engine().runKernel(gradKernelName, inputs, attrs) as Tensor | Tensor[];
      const values = Array.isArray(result) ? result : [result];
      const gradients: Record<string, () => Tensor> = {};
      grads.forEach((name, i) => {
        gradients[name] = () => values[i] as Tensor;
      });
      for (const name of noGrads) {
        gradients[name] = () => zeros((inputs[name] as Tensor).shape, 'float32');
      }
      return gradients;
    },
  };
}
