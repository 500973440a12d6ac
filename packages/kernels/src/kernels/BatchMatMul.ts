import {
  BatchMatMul,
  type BatchMatMulAttrs,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { asWasm } from '../wasm/heap.ts';
import { batchMatMul, setupMatMul } from '../wasm/matmul.ts';

/**
 * Stock wasm BatchMatMul uses XNNPACK only when neither operand is transposed and the batch is 1, and a
 * scalar loop about 20x slower otherwise (every backward and attention matmul). This one is fast for any
 * transposes and batch shape, and runs on the native BLAS when it is loaded.
 */
function batchMatMulKernel({ inputs, backend, attrs }: Parameters<KernelFunc>[0]): TensorInfo {
  const { a, b } = inputs;
  if (a === undefined || b === undefined) throw new Error('BatchMatMul needs inputs a and b');
  const { transposeA, transposeB } = attrs as unknown as BatchMatMulAttrs;
  return batchMatMul(asWasm(backend), a, b, { transposeA, transposeB });
}

export const batchMatMulConfig: KernelConfig = {
  kernelName: BatchMatMul,
  backendName: 'wasm',
  setupFunc: (backend) => setupMatMul(asWasm(backend)),
  kernelFunc: batchMatMulKernel,
};
