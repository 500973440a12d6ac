import {
  GatherV2,
  type GatherV2Attrs,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
  util,
} from '@tensorflow/tfjs-core';
import { wasmArrays } from './array_kernel.ts';
import { stockKernel } from './stock.ts';

/**
 * Row gather (`tf.gather(table, ids)` on axis 0: embeddings). Stock wasm reads the indices out, then runs
 * a per-element strided loop; this copies whole rows between heap views. Other gathers go to the stock
 * kernel.
 */
function gatherV2(args: {
  inputs: { x?: TensorInfo; indices?: TensorInfo };
  attrs: GatherV2Attrs;
  backend: unknown;
}): TensorInfo {
  const { x, indices } = args.inputs as { x: TensorInfo; indices: TensorInfo };
  const { axis, batchDims } = args.attrs;
  const rowGather =
    (batchDims ?? 0) === 0 &&
    x.shape.length >= 1 &&
    util.parseAxisParam(axis, x.shape)[0] === 0 &&
    (x.dtype === 'float32' || x.dtype === 'int32') &&
    indices.dtype === 'int32';
  if (!rowGather) {
    return stockKernel('wasm', GatherV2).kernelFunc(
      args as unknown as Parameters<KernelFunc>[0],
    ) as TensorInfo;
  }
  const backend = wasmArrays(args.backend);
  const rows = x.shape[0] as number;
  const row = util.sizeFromShape(x.shape.slice(1));
  const out = backend.makeOutput([...indices.shape, ...x.shape.slice(1)], x.dtype);
  const ids = backend.typedArrayFromHeap(indices) as Int32Array;
  const from = backend.typedArrayFromHeap(x) as Float32Array | Int32Array;
  const to = backend.typedArrayFromHeap(out) as Float32Array | Int32Array;
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i] as number;
    if (!(id >= 0 && id < rows)) {
      backend.disposeData(out.dataId);
      throw new Error(`GatherV2: the index value ${id} is not in [0, ${rows - 1}]`);
    }
    to.set(from.subarray(id * row, id * row + row), i * row);
  }
  return out;
}

export const gatherV2Config: KernelConfig = {
  kernelName: GatherV2,
  backendName: 'wasm',
  setupFunc: (backend) => stockKernel('wasm', GatherV2).setupFunc?.(backend),
  kernelFunc: gatherV2 as unknown as KernelFunc,
};
