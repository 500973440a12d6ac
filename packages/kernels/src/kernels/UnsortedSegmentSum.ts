import {
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
  UnsortedSegmentSum,
  type UnsortedSegmentSumAttrs,
  util,
} from '@tensorflow/tfjs-core';
import { wasmArrays } from './array_kernel.ts';

/**
 * Stock wasm has no UnsortedSegmentSum, so `tf.gather` (an embedding lookup) has no gradient there.
 * Sums the slices `x[i]` into `out[segmentIds[i]]`; ids outside [0, numSegments) are dropped, as the cpu
 * kernel's equality masks drop them. `segmentIds` may cover the leading axes of `x` (any rank).
 */
export function unsortedSegmentSum(args: {
  inputs: { x?: TensorInfo; segmentIds?: TensorInfo };
  attrs: UnsortedSegmentSumAttrs;
  backend: unknown;
}): TensorInfo {
  const { x, segmentIds } = args.inputs as { x: TensorInfo; segmentIds: TensorInfo };
  const { numSegments } = args.attrs;
  const backend = wasmArrays(args.backend);
  const innerShape = x.shape.slice(segmentIds.shape.length);
  const out = backend.makeOutput([numSegments, ...innerShape], x.dtype);
  const xValues = backend.typedArrayFromHeap(x) as Float32Array;
  const ids = backend.typedArrayFromHeap(segmentIds) as Int32Array;
  const outValues = backend.typedArrayFromHeap(out) as Float32Array;
  outValues.fill(0);
  const inner = util.sizeFromShape(innerShape);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i] as number;
    if (id < 0 || id >= numSegments) continue;
    const from = i * inner;
    const to = id * inner;
    for (let j = 0; j < inner; j++)
      outValues[to + j] = (outValues[to + j] as number) + (xValues[from + j] as number);
  }
  return out;
}

export const unsortedSegmentSumConfig: KernelConfig = {
  kernelName: UnsortedSegmentSum,
  backendName: 'wasm',
  kernelFunc: unsortedSegmentSum as unknown as KernelFunc,
};
