import {
  type KernelConfig,
  type KernelFunc,
  Slice,
  type SliceAttrs,
  slice_util,
  type TensorInfo,
  util,
} from '@tensorflow/tfjs-core';
import { wasmArrays } from './array_kernel.ts';
import { copyRun, makeOutputs, rowMajorStrides, wasmValues } from './wasm_values.ts';

/**
 * Stock wasm Slice reads the whole input out of the heap (`readSync`, a full copy) for every slice, and
 * split/unstack slice once per output. This one copies only the sliced runs, straight from the heap.
 */
export function slice(args: { inputs: { x?: TensorInfo }; attrs: SliceAttrs; backend: unknown }): TensorInfo {
  const { x } = args.inputs as { x: TensorInfo };
  const backend = wasmArrays(args.backend);
  const [begin, size] = slice_util.parseSliceParams(x, args.attrs.begin, args.attrs.size) as [
    number[],
    number[],
  ];
  const [out] = makeOutputs(backend, [size], x.dtype) as [TensorInfo];
  const total = util.sizeFromShape(size);
  if (total === 0) return out;
  const xValues = wasmValues(backend, x);
  const outValues = wasmValues(backend, out);
  const rank = x.shape.length;
  if (rank === 0) {
    copyRun(xValues, 0, outValues, 0, 1);
    return out;
  }
  const strides = rowMajorStrides(x.shape);
  // Axes after `inner` are taken whole, so each contiguous run starts at `inner`.
  let inner = rank - 1;
  while (inner > 0 && begin[inner] === 0 && size[inner] === x.shape[inner]) inner--;
  const run = (size[inner] as number) * (strides[inner] as number);
  let from = 0;
  for (let axis = 0; axis <= inner; axis++) from += (begin[axis] as number) * (strides[axis] as number);
  const index = new Array<number>(inner).fill(0);
  for (let to = 0; to < total; to += run) {
    copyRun(xValues, from, outValues, to, run);
    for (let axis = inner - 1; axis >= 0; axis--) {
      const i = (index[axis] as number) + 1;
      from += strides[axis] as number;
      if (i < (size[axis] as number)) {
        index[axis] = i;
        break;
      }
      index[axis] = 0;
      from -= (size[axis] as number) * (strides[axis] as number);
    }
  }
  return out;
}

export const sliceConfig: KernelConfig = {
  kernelName: Slice,
  backendName: 'wasm',
  kernelFunc: slice as unknown as KernelFunc,
};
