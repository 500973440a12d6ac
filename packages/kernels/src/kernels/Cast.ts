import {
  Cast,
  type CastAttrs,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { wasmArrays } from './array_kernel.ts';
import { stockKernel } from './stock.ts';

/**
 * Stock wasm Cast copies even when the dtype does not change, which tfjs's gradients ask for on every
 * multiply (`mul(dy, cast(b, 'float32'))`: about 20 [2048, 1024] copies per benchmark training step). A
 * same-dtype cast shares the data with a reference count instead, as Identity does; other casts go to the
 * stock kernel.
 */
function cast(args: { inputs: { x?: TensorInfo }; attrs: CastAttrs; backend: unknown }): TensorInfo {
  const { x } = args.inputs as { x: TensorInfo };
  if (args.attrs.dtype !== x.dtype || x.dtype === 'string') {
    return stockKernel('wasm', Cast).kernelFunc(args as unknown as Parameters<KernelFunc>[0]) as TensorInfo;
  }
  wasmArrays(args.backend).incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
}

export const castConfig: KernelConfig = {
  kernelName: Cast,
  backendName: 'wasm',
  setupFunc: (backend) => stockKernel('wasm', Cast).setupFunc?.(backend),
  kernelFunc: cast as unknown as KernelFunc,
};
