import {
  type KernelConfig,
  type KernelFunc,
  Sum,
  type SumAttrs,
  type TensorInfo,
  util,
} from '@tensorflow/tfjs-core';
import { activeNativeBlas } from '../native.ts';
import { wasmArrays } from './array_kernel.ts';
import { stockKernel } from './stock.ts';

/**
 * The leading axes `axis` reduces, as a count, when they are exactly axes 0..count-1 of a rank-`rank` tensor
 * and leave at least one axis; otherwise undefined.
 */
export function leadingAxes(axis: number | number[], rank: number): number | undefined {
  const axes = util.parseAxisParam(
    axis,
    Array.from({ length: rank }, () => 1),
  );
  const sorted = [...new Set(axes)].sort((a, b) => a - b);
  if (sorted.length === 0 || sorted.length >= rank) return undefined;
  return sorted.every((a, i) => a === i) ? sorted.length : undefined;
}

/**
 * Sum over leading axes (bias gradients: [rows, n] -> [n]). Stock wasm reduces the last axis only, so it
 * transposes the whole input first; this accumulates rows in place (native AVX2 column sums when the addon
 * is active, else a JS loop over the heap). Every other sum goes to the stock kernel.
 */
function sum(args: { inputs: { x?: TensorInfo }; attrs: SumAttrs; backend: unknown }): TensorInfo {
  const { x } = args.inputs as { x: TensorInfo };
  const { axis, keepDims } = args.attrs;
  const count = x.dtype === 'float32' ? leadingAxes(axis, x.shape.length) : undefined;
  if (count === undefined) {
    return stockKernel('wasm', Sum).kernelFunc(args as unknown as Parameters<KernelFunc>[0]) as TensorInfo;
  }
  const backend = wasmArrays(args.backend);
  const kept = x.shape.slice(count);
  const outShape = keepDims ? [...x.shape.slice(0, count).map(() => 1), ...kept] : kept;
  const out = backend.makeOutput(outShape, 'float32');
  const n = util.sizeFromShape(kept);
  const rows = n === 0 ? 0 : util.sizeFromShape(x.shape) / n;
  const values = backend.typedArrayFromHeap(x) as Float32Array;
  const result = backend.typedArrayFromHeap(out) as Float32Array;
  const blas = activeNativeBlas();
  if (blas !== undefined) {
    blas.colSum(values.buffer as ArrayBuffer, values.byteOffset, rows, n, result.byteOffset);
  } else {
    columnSums(values, rows, n, result);
  }
  return out;
}

/**
 * `out[j] = sum over rows of x[row * n + j]`, accumulated in float64, eight rows per pass over the
 * accumulator (2.5x faster than one: the accumulator is loaded and stored an eighth as often).
 */
export function columnSums(x: Float32Array, rows: number, n: number, out: Float32Array): void {
  const acc = new Float64Array(n);
  const full = rows - (rows % 8);
  for (let row = 0; row < full; row += 8) {
    const r0 = row * n;
    const r1 = r0 + n;
    const r2 = r1 + n;
    const r3 = r2 + n;
    const r4 = r3 + n;
    const r5 = r4 + n;
    const r6 = r5 + n;
    const r7 = r6 + n;
    for (let j = 0; j < n; j++) {
      let total = acc[j] as number;
      total += x[r0 + j] as number;
      total += x[r1 + j] as number;
      total += x[r2 + j] as number;
      total += x[r3 + j] as number;
      total += x[r4 + j] as number;
      total += x[r5 + j] as number;
      total += x[r6 + j] as number;
      total += x[r7 + j] as number;
      acc[j] = total;
    }
  }
  for (let row = full; row < rows; row++) {
    const base = row * n;
    for (let j = 0; j < n; j++) acc[j] = (acc[j] as number) + (x[base + j] as number);
  }
  out.set(acc);
}

export const sumConfig: KernelConfig = {
  kernelName: Sum,
  backendName: 'wasm',
  setupFunc: (backend) => stockKernel('wasm', Sum).setupFunc?.(backend),
  kernelFunc: sum as unknown as KernelFunc,
};
