import {
  engine,
  logSoftmax,
  mul,
  oneHot,
  sum,
  type Tensor1D,
  type Tensor2D,
  tidy,
  util,
} from '@tensorflow/tfjs-core';
import { type ArrayKernel, arrayKernelConfigs, type TypedArray } from '../kernels/array_kernel.ts';
import { exp } from '../kernels/fast_math.ts';
import { float32Like, hasKernel, kernelGradConfig, softmaxRowStats } from './op_util.ts';

export const LogProbsOfTargets = 'LinewiseLogProbsOfTargets';
export const LogProbsOfTargetsGrad = 'LinewiseLogProbsOfTargetsGrad';

/**
 * `log_softmax(logits)[i, targets[i]]` for each row i: minus the softmax cross-entropy, without
 * materialising the log-softmax. `targets` are int32; a target outside [0, vocab) (e.g. -100 for padding)
 * gives 0 and no gradient, as a one-hot of it would.
 */
export function logProbsOfTargets(logits: Tensor2D, targets: Tensor1D): Tensor1D {
  util.assert(
    logits.rank === 2 && logits.dtype === 'float32',
    () => `logProbsOfTargets: logits must be float32 [rows, vocab], got ${logits.dtype} [${logits.shape}]`,
  );
  util.assert(
    targets.rank === 1 && targets.dtype === 'int32' && targets.shape[0] === logits.shape[0],
    () =>
      `logProbsOfTargets: targets must be int32 [${logits.shape[0]}], got ${targets.dtype} [${targets.shape}]`,
  );
  if (hasKernel(LogProbsOfTargets)) return engine().runKernel(LogProbsOfTargets, { logits, targets });
  return logProbsOfTargetsComposite(logits, targets);
}

/** `logProbsOfTargets` from stock ops: the path where the kernel is missing, and the reference in tests. */
export function logProbsOfTargetsComposite(logits: Tensor2D, targets: Tensor1D): Tensor1D {
  return tidy(() => sum(mul(logSoftmax(logits), oneHot(targets, logits.shape[1], 1, 0, 'float32')), 1));
}

function forward(inputs: TypedArray[], outputs: TypedArray[]): void {
  const [logits, targets] = inputs as [Float32Array, Int32Array];
  const [out] = outputs as [Float32Array];
  const rows = targets.length;
  const vocab = rows === 0 ? 0 : logits.length / rows;
  for (let i = 0; i < rows; i++) {
    const target = targets[i] as number;
    if (target < 0 || target >= vocab) {
      out[i] = 0;
      continue;
    }
    const row = i * vocab;
    const stats = softmaxRowStats(logits, row, vocab);
    out[i] = (logits[row + target] as number) - (stats[0] as number) - Math.log(stats[1] as number);
  }
}

/**
 * dlogits = dy * (onehot(target) - softmax(logits)). The row's log-sum-exp is recovered from the forward
 * output (logits[target] - logProb), so the backward is a single exp pass.
 */
function backward(inputs: TypedArray[], outputs: TypedArray[]): void {
  const [dy, logits, targets, logProbs] = inputs as [Float32Array, Float32Array, Int32Array, Float32Array];
  const [dlogits] = outputs as [Float32Array];
  const rows = targets.length;
  const vocab = rows === 0 ? 0 : logits.length / rows;
  for (let i = 0; i < rows; i++) {
    const target = targets[i] as number;
    const row = i * vocab;
    if (target < 0 || target >= vocab) {
      dlogits.fill(0, row, row + vocab);
      continue;
    }
    const logSumExp = (logits[row + target] as number) - (logProbs[i] as number);
    const d = dy[i] as number;
    for (let j = 0; j < vocab; j++) dlogits[row + j] = -d * exp((logits[row + j] as number) - logSumExp);
    dlogits[row + target] = (dlogits[row + target] as number) + d;
  }
}

const logProbsOfTargetsKernel: ArrayKernel = {
  kernelName: LogProbsOfTargets,
  inputNames: ['logits', 'targets'],
  outputs: ([, targets]) => [float32Like(targets)],
  compute: forward,
  native: (blas, heap, [logits, targets], [out], [shape]) => {
    const [rows, vocab] = shape as [number, number];
    blas.logProbsOfTargets(heap, logits as number, targets as number, rows, vocab, out as number);
  },
};

const logProbsOfTargetsGradKernel: ArrayKernel = {
  kernelName: LogProbsOfTargetsGrad,
  inputNames: ['dy', 'logits', 'targets', 'logProbs'],
  outputs: ([, logits]) => [float32Like(logits)],
  compute: backward,
  native: (blas, heap, [dy, logits, targets, logProbs], [dlogits], [, shape]) => {
    const [rows, vocab] = shape as [number, number];
    blas.logProbsOfTargetsGrad(
      heap,
      dy as number,
      logits as number,
      targets as number,
      logProbs as number,
      rows,
      vocab,
      dlogits as number,
    );
  },
};

export const logProbsOfTargetsKernels = arrayKernelConfigs(
  logProbsOfTargetsKernel,
  logProbsOfTargetsGradKernel,
);

export const logProbsOfTargetsGradConfig = kernelGradConfig({
  kernelName: LogProbsOfTargets,
  gradKernelName: LogProbsOfTargetsGrad,
  inputsToSave: ['logits', 'targets'],
  savedOutput: 'logProbs',
  grads: ['logits'],
  noGrads: ['targets'],
});
