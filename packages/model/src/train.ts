import { clipByGlobalNorm } from '@linewise/kernels';
import * as tf from '@tensorflow/tfjs-core';
import { ModelInputError } from './errors.ts';
import { type MatrixInput, pairMask, type TokenInput } from './inputs.ts';
import type { TransformerModel } from './model.ts';

/** What `trainStep` needs from an optimizer (`@linewise/kernels`' `Adam` fits). */
export interface StepOptimizer {
  step(variables: tf.Variable[], grads: tf.Tensor[], learningRate?: number): void;
}

export interface TrainBatch {
  /** Token ids [B, T]. */
  tokens: TokenInput;
  /** Attention mask [B, T] (1 = real token, 0 = padding); default all ones. */
  mask?: MatrixInput;
  /**
   * Which tokens count as prediction targets [B, T] (1 = include token t in the loss, predicted from the
   * tokens before it); default: every real token after the first. Combined with `mask`: a prediction
   * counts only where its position and its target are both real tokens.
   */
  lossMask?: MatrixInput;
}

export interface TrainStepOptions {
  /** Clip the global gradient norm to this (default: no clipping). */
  maxGradNorm?: number;
  /** Learning rate for this step (e.g. from a schedule); default the optimizer's own. */
  learningRate?: number;
}

export interface TrainStepResult {
  /** Mean next-token cross-entropy (nats per target token) before the update. */
  loss: number;
  /** Global gradient norm before clipping (only when `maxGradNorm` is set). */
  gradNorm?: number;
  /** Number of target tokens the loss averaged over. */
  tokens: number;
}

/**
 * Mean next-token cross-entropy of `batch` under `model` (a scalar tensor, differentiable), averaged over
 * target tokens; also returns the target count (0 gives a loss of 0).
 */
export function nextTokenLoss(
  model: TransformerModel,
  batch: TrainBatch,
): { loss: tf.Scalar; count: number } {
  return tf.tidy(() => {
    const logProbs = model.logProbs(batch.tokens, batch.mask); // [B, T-1], 0 where the target is padding
    const [b, t1] = logProbs.shape;
    const checked = (field: string, input: MatrixInput): tf.Tensor2D => {
      const full =
        input instanceof tf.Tensor ? tf.cast(input, 'float32') : tf.tensor2d(input, undefined, 'float32');
      if (full.rank !== 2 || full.shape[0] !== b || full.shape[1] !== t1 + 1) {
        throw new ModelInputError(field, `shape [${full.shape}] does not match tokens [${b}, ${t1 + 1}]`);
      }
      return full as tf.Tensor2D;
    };
    let weights: tf.Tensor2D | undefined =
      batch.mask === undefined ? undefined : pairMask(checked('mask', batch.mask));
    if (batch.lossMask !== undefined) {
      const targets = tf.slice(checked('lossMask', batch.lossMask), [0, 1], [b, t1]) as tf.Tensor2D;
      weights = weights ? (tf.mul(weights, targets) as tf.Tensor2D) : targets;
    }
    const count = weights ? (tf.sum(weights).dataSync()[0] as number) : b * t1;
    const total = tf.neg(tf.sum(weights ? tf.mul(logProbs, weights) : logProbs));
    const loss = count > 0 ? tf.div(total, count) : tf.mul(total, 0);
    return { loss: loss as tf.Scalar, count };
  });
}

/**
 * One optimizer step of next-token cross-entropy on `batch`: forward, gradients of the model's trainable
 * variables (those that receive a gradient: a scalar head the loss never reads is left out, the same
 * way on every step), optional global-norm clipping, `optimizer.step`. Every tensor it makes is
 * disposed; the only lasting change is to the variables and the optimizer's state.
 */
export function trainStep(
  model: TransformerModel,
  optimizer: StepOptimizer,
  batch: TrainBatch,
  options: TrainStepOptions = {},
): TrainStepResult {
  const variables = model.trainableVariables();
  if (variables.length === 0) throw new ModelInputError('model', 'the model has no trainable variables');
  let count = 0;
  const { value, grads } = tf.variableGrads(() => {
    const out = nextTokenLoss(model, batch);
    count = out.count;
    return out.loss;
  }, variables);
  const used = variables.filter((v) => grads[v.name] != null);
  let gradList = used.map((v) => grads[v.name] as tf.Tensor);
  let gradNorm: number | undefined;
  try {
    if (options.maxGradNorm !== undefined) {
      const clipped = clipByGlobalNorm(gradList, options.maxGradNorm);
      gradNorm = clipped.norm;
      for (const g of gradList) g.dispose();
      gradList = clipped.grads;
    }
    if (options.learningRate === undefined) optimizer.step(used, gradList);
    else optimizer.step(used, gradList, options.learningRate);
    const loss = value.dataSync()[0] as number;
    return gradNorm === undefined ? { loss, tokens: count } : { loss, gradNorm, tokens: count };
  } finally {
    value.dispose();
    for (const g of gradList) g.dispose();
    for (const g of Object.values(grads)) g?.dispose();
  }
}
