import {
  _FusedMatMul,
  type _FusedMatMulAttrs,
  Add,
  Elu,
  type KernelConfig,
  type KernelFunc,
  LeakyRelu,
  Prelu,
  Relu,
  Relu6,
  Sigmoid,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { asWasm, runKernel, type WasmBackend } from '../wasm/heap.ts';
import { batchMatMul, type MatMulClamp, setupMatMul } from '../wasm/matmul.ts';

const CLAMPS = new Set<string>(['linear', 'relu', 'relu6']);

/**
 * tf.fused.matMul: matmul, + bias, activation. Stock wasm shares BatchMatMul's slow path for transposed or
 * batched operands and takes only rank-1 bias; this one uses the fast matmul for every case, folds a [N]
 * bias and relu/relu6 into it, and applies any other bias or activation with the wasm kernels after.
 */
function fusedMatMulKernel({ inputs, backend, attrs }: Parameters<KernelFunc>[0]): TensorInfo {
  const { a, b, bias, preluActivationWeights } = inputs;
  if (a === undefined || b === undefined) throw new Error('_FusedMatMul needs inputs a and b');
  const { transposeA, transposeB, activation, leakyreluAlpha } = attrs as unknown as _FusedMatMulAttrs;
  const wasm = asWasm(backend);
  const n = b.shape[b.shape.length - (transposeB ? 2 : 1)];
  const fusedBias = bias === undefined || (bias.shape.length === 1 && bias.shape[0] === n);
  const clamp = fusedBias && CLAMPS.has(activation) ? (activation as MatMulClamp) : 'linear';
  // tfjs-core hands this kernel 3-D operands and reshapes the 3-D result itself.
  let out = batchMatMul(wasm, a, b, { transposeA, transposeB, bias: fusedBias ? bias : undefined, clamp });
  if (!fusedBias) out = replace(wasm, out, runKernel(wasm, Add, { a: out, b: bias }));
  if (clamp !== activation) {
    out = replace(wasm, out, activate(wasm, out, activation, preluActivationWeights, leakyreluAlpha));
  }
  return out;
}

function activate(
  backend: WasmBackend,
  x: TensorInfo,
  activation: string,
  preluActivationWeights: TensorInfo | undefined,
  leakyreluAlpha: number | undefined,
): TensorInfo {
  switch (activation) {
    case 'relu':
      return runKernel(backend, Relu, { x });
    case 'relu6':
      return runKernel(backend, Relu6, { x });
    case 'prelu':
      return runKernel(backend, Prelu, { x, alpha: preluActivationWeights });
    case 'leakyrelu':
      return runKernel(backend, LeakyRelu, { x }, { alpha: leakyreluAlpha ?? 0.2 });
    case 'sigmoid':
      return runKernel(backend, Sigmoid, { x });
    case 'elu':
      return runKernel(backend, Elu, { x });
    default:
      throw new Error(`_FusedMatMul on wasm: activation '${activation}' is not supported`);
  }
}

/** Disposes an intermediate result once the next step has consumed it. */
function replace(backend: WasmBackend, previous: TensorInfo, next: TensorInfo): TensorInfo {
  backend.disposeData(previous.dataId);
  return next;
}

export const fusedMatMulConfig: KernelConfig = {
  kernelName: _FusedMatMul,
  backendName: 'wasm',
  setupFunc: (backend) => setupMatMul(asWasm(backend)),
  kernelFunc: fusedMatMulKernel,
};
