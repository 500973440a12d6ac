import { Identity, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import { wasmArrays } from './array_kernel.ts';

/**
 * Stock wasm Identity copies its input; tfjs runs it for `clone` and for every tensor a gradient saves
 * (hundreds per training step). Tensors are immutable, so this shares the data with a reference count
 * instead, as the cpu backend does (and wasm's own Reshape).
 */
function identity(args: { inputs: { x?: TensorInfo }; backend: unknown }): TensorInfo {
  const { x } = args.inputs as { x: TensorInfo };
  wasmArrays(args.backend).incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
}

export const identityConfig: KernelConfig = {
  kernelName: Identity,
  backendName: 'wasm',
  kernelFunc: identity as unknown as KernelFunc,
};
