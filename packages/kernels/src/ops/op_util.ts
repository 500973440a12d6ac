import { getBackend, getKernel, type Tensor, util } from '@tensorflow/tfjs-core';
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
