import { type DataType, type TensorInfo, util } from '@tensorflow/tfjs-core';
import type { TypedArray, WasmArrays } from './array_kernel.ts';

/** A tensor's elements: a wasm heap view (no copy) or, for strings, the backend's own array. */
export type WasmValues = TypedArray | Uint8Array[];

/** `tensor`'s elements. Take them after allocating outputs: growing the heap detaches views. */
export function wasmValues(backend: WasmArrays, tensor: TensorInfo): WasmValues {
  if (tensor.dtype === 'string') return backend.dataIdMap.get(tensor.dataId)?.stringBytes ?? [];
  return backend.typedArrayFromHeap(tensor);
}

/** Allocates one output per shape; string outputs get arrays that the copies below fill. */
export function makeOutputs(backend: WasmArrays, shapes: number[][], dtype: DataType): TensorInfo[] {
  return shapes.map((shape) => {
    const out = backend.makeOutput(shape, dtype);
    const data = backend.dataIdMap.get(out.dataId);
    if (dtype === 'string' && data !== undefined) data.stringBytes = new Array(util.sizeFromShape(shape));
    return out;
  });
}

/** Copies `length` elements from `src[from]` to `dst[to]`. */
export function copyRun(src: WasmValues, from: number, dst: WasmValues, to: number, length: number): void {
  // `subarray` allocates a view, which costs more than it saves on short runs (and strings have none).
  if (length < 16 || Array.isArray(src)) {
    const source = src as { [index: number]: unknown };
    const target = dst as { [index: number]: unknown };
    for (let i = 0; i < length; i++) target[to + i] = source[from + i];
  } else {
    (dst as Float32Array).set((src as Float32Array).subarray(from, from + length), to);
  }
}

/** Elements spanned by one step along each axis (row-major), the last axis included. */
export function rowMajorStrides(shape: number[]): number[] {
  const strides = new Array<number>(shape.length);
  let stride = 1;
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    strides[axis] = stride;
    stride *= shape[axis] as number;
  }
  return strides;
}
