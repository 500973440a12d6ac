import {
  backend_util,
  type KernelConfig,
  type KernelFunc,
  SplitV,
  type SplitVAttrs,
  type TensorInfo,
  util,
} from '@tensorflow/tfjs-core';
import { type WasmArrays, wasmArrays } from './array_kernel.ts';
import { copyRun, makeOutputs, wasmValues } from './wasm_values.ts';

/** Stock wasm SplitV slices once per output, each slice copying the whole input; this reads it once. */
export function splitV(args: {
  inputs: { x?: TensorInfo };
  attrs: SplitVAttrs;
  backend: unknown;
}): TensorInfo[] {
  const { x } = args.inputs as { x: TensorInfo };
  const axis = util.parseAxisParam(args.attrs.axis, x.shape)[0] as number;
  const sizes = backend_util.prepareSplitSize(x, args.attrs.numOrSizeSplits, axis);
  const shapes = sizes.map((size) => x.shape.map((dim, i) => (i === axis ? size : dim)));
  return splitAlongAxis(wasmArrays(args.backend), x, axis, sizes, shapes);
}

/**
 * Cuts `x` along `axis` into pieces of `sizes`, output i shaped `shapes[i]` (same size as its piece).
 * Walks `x` once, in memory order: for each outer index, one contiguous run per output.
 */
export function splitAlongAxis(
  backend: WasmArrays,
  x: TensorInfo,
  axis: number,
  sizes: number[],
  shapes: number[][],
): TensorInfo[] {
  const outs = makeOutputs(backend, shapes, x.dtype);
  const xValues = wasmValues(backend, x);
  const outValues = outs.map((out) => wasmValues(backend, out));
  const outer = util.sizeFromShape(x.shape.slice(0, axis));
  const inner = util.sizeFromShape(x.shape.slice(axis + 1));
  let from = 0;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < sizes.length; i++) {
      const run = (sizes[i] as number) * inner;
      copyRun(xValues, from, outValues[i] as typeof xValues, o * run, run);
      from += run;
    }
  }
  return outs;
}

export const splitVConfig: KernelConfig = {
  kernelName: SplitV,
  backendName: 'wasm',
  kernelFunc: splitV as unknown as KernelFunc,
};
