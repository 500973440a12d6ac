import {
  engine,
  type GradConfig,
  logSoftmax,
  mul,
  oneHot,
  sum,
  type Tensor,
  type Tensor1D,
  type Tensor2D,
  type TensorInfo,
  tidy,
  util,
  zeros,
} from '@tensorflow/tfjs-core';
import { type ArrayKernel, arrayKernelConfigs, type TypedArray } from '../kernels/array_kernel.ts';
import { exp } from '../kernels/fast_math.ts';
import { hasKernel } from './op_util.ts';

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
    let max = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < vocab; j++) max = Math.max(max, logits[row + j] as number);
    let sumExp = 0;
    for (let j = 0; j < vocab; j++) sumExp += exp((logits[row + j] as number) - max);
    out[i] = (logits[row + target] as number) - max - Math.log(sumExp);
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
  outputs: ([, targets]) => [{ shape: (targets as TensorInfo).shape, dtype: 'float32' }],
  compute: forward,
  native: (blas, heap, [logits, targets], [out], [shape]) => {
    const [rows, vocab] = shape as [number, number];
    blas.logProbsOfTargets(heap, logits as number, targets as number, rows, vocab, out as number);
  },
};

const logProbsOfTargetsGradKernel: ArrayKernel = {
  kernelName: LogProbsOfTargetsGrad,
  inputNames: ['dy', 'logits', 'targets', 'logProbs'],
  outputs: ([, logits]) => [{ shape: (logits as TensorInfo).shape, dtype: 'float32' }],
  compute: backward,
  native: (blas, heap, [dy, logits, targets, logProbs], [dlogits], [, shape]) => {
    const [rows, vocab] = shape as [number, number];
    const [dyAt, logitsAt, targetsAt, logProbsAt] = [dy, logits, targets, logProbs] as number[];
    blas.logProbsOfTargetsGrad(
      heap,
      dyAt as number,
      logitsAt as number,
      targetsAt as number,
      logProbsAt as number,
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

export const logProbsOfTargetsGradConfig: GradConfig = {
  kernelName: LogProbsOfTargets,
  inputsToSave: ['logits', 'targets'],
  outputsToSave: [true],
  gradFunc: (dy, saved) => {
    const [logits, targets, logProbs] = saved as [Tensor, Tensor, Tensor];
    const dlogits: Tensor = engine().runKernel(LogProbsOfTargetsGrad, {
      dy: dy as Tensor,
      logits,
      targets,
      logProbs,
    });
    // Integer targets get no gradient; tfjs still asks for a float32 one when they derive from a variable.
    return { logits: () => dlogits, targets: () => zeros(targets.shape, 'float32') };
  },
};
