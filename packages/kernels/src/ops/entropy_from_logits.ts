import {
  engine,
  logSoftmax,
  mul,
  neg,
  softmax,
  sum,
  type Tensor1D,
  type Tensor2D,
  type TensorInfo,
  tidy,
  util,
} from '@tensorflow/tfjs-core';
import { type ArrayKernel, arrayKernelConfigs, type TypedArray } from '../kernels/array_kernel.ts';
import { exp } from '../kernels/fast_math.ts';
import { float32Like, hasKernel, kernelGradConfig, softmaxRowStats } from './op_util.ts';

export const EntropyFromLogits = 'LinewiseEntropyFromLogits';
export const EntropyFromLogitsGrad = 'LinewiseEntropyFromLogitsGrad';

/** Entropy `-sum_j p_ij log p_ij` of each row's softmax distribution. */
export function entropyFromLogits(logits: Tensor2D): Tensor1D {
  util.assert(
    logits.rank === 2 && logits.dtype === 'float32',
    () => `entropyFromLogits: logits must be float32 [rows, vocab], got ${logits.dtype} [${logits.shape}]`,
  );
  if (hasKernel(EntropyFromLogits)) return engine().runKernel(EntropyFromLogits, { logits });
  return entropyFromLogitsComposite(logits);
}

/** `entropyFromLogits` from stock ops: the path where the kernel is missing, and the reference in tests. */
export function entropyFromLogitsComposite(logits: Tensor2D): Tensor1D {
  return tidy(() => sum(neg(mul(softmax(logits), logSoftmax(logits))), 1));
}

/** H = log(S) - sum_j e_j (l_j - max) / S with e_j = exp(l_j - max), S = sum_j e_j: one exp pass. */
function forward(inputs: TypedArray[], outputs: TypedArray[]): void {
  const [logits] = inputs as [Float32Array];
  const [entropy] = outputs as [Float32Array];
  const rows = entropy.length;
  const vocab = rows === 0 ? 0 : logits.length / rows;
  for (let i = 0; i < rows; i++) {
    const row = i * vocab;
    let max = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < vocab; j++) max = Math.max(max, logits[row + j] as number);
    let sumExp = 0;
    let weighted = 0;
    for (let j = 0; j < vocab; j++) {
      const shifted = (logits[row + j] as number) - max;
      const e = exp(shifted);
      sumExp += e;
      weighted += e * shifted;
    }
    entropy[i] = Math.log(sumExp) - weighted / sumExp;
  }
}

/** dlogits_j = -dy * p_j * (log p_j + H), H the forward output. */
function backward(inputs: TypedArray[], outputs: TypedArray[]): void {
  const [dy, logits, entropy] = inputs as [Float32Array, Float32Array, Float32Array];
  const [dlogits] = outputs as [Float32Array];
  const rows = entropy.length;
  const vocab = rows === 0 ? 0 : logits.length / rows;
  for (let i = 0; i < rows; i++) {
    const row = i * vocab;
    const stats = softmaxRowStats(logits, row, vocab);
    const shift = (stats[0] as number) + Math.log(stats[1] as number);
    const d = dy[i] as number;
    const h = entropy[i] as number;
    for (let j = 0; j < vocab; j++) {
      const logP = (logits[row + j] as number) - shift;
      dlogits[row + j] = -d * exp(logP) * (logP + h);
    }
  }
}

const entropyKernel: ArrayKernel = {
  kernelName: EntropyFromLogits,
  inputNames: ['logits'],
  outputs: ([logits]) => [{ shape: [(logits as TensorInfo).shape[0] as number], dtype: 'float32' }],
  compute: forward,
};

const entropyGradKernel: ArrayKernel = {
  kernelName: EntropyFromLogitsGrad,
  inputNames: ['dy', 'logits', 'entropy'],
  outputs: ([, logits]) => [float32Like(logits)],
  compute: backward,
};

export const entropyFromLogitsKernels = arrayKernelConfigs(entropyKernel, entropyGradKernel);

export const entropyFromLogitsGradConfig = kernelGradConfig({
  kernelName: EntropyFromLogits,
  gradKernelName: EntropyFromLogitsGrad,
  inputsToSave: ['logits'],
  savedOutput: 'entropy',
  grads: ['logits'],
});
