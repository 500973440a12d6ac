import {
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
  Unpack,
  type UnpackAttrs,
} from '@tensorflow/tfjs-core';
import { wasmArrays } from './array_kernel.ts';
import { splitAlongAxis } from './SplitV.ts';

/** Stock wasm Unpack slices once per output, each slice copying the whole input; this reads it once. */
export function unpack(args: {
  inputs: { value?: TensorInfo };
  attrs: UnpackAttrs;
  backend: unknown;
}): TensorInfo[] {
  const { value } = args.inputs as { value: TensorInfo };
  const rank = value.shape.length;
  const axis = args.attrs.axis < 0 ? args.attrs.axis + rank : args.attrs.axis;
  const count = value.shape[axis] as number;
  const shape = value.shape.filter((_, i) => i !== axis);
  return splitAlongAxis(
    wasmArrays(args.backend),
    value,
    axis,
    new Array<number>(count).fill(1),
    new Array<number[]>(count).fill(shape),
  );
}

export const unpackConfig: KernelConfig = {
  kernelName: Unpack,
  backendName: 'wasm',
  kernelFunc: unpack as unknown as KernelFunc,
};
