import {
  add,
  div,
  engine,
  keep,
  mul,
  sqrt,
  square,
  sub,
  type Tensor,
  type TensorInfo,
  tidy,
  util,
  type Variable,
  zerosLike,
} from '@tensorflow/tfjs-core';
import { KernelsConfigError } from '../errors.ts';
import { type ArrayKernel, arrayKernelConfigs, type TypedArray } from '../kernels/array_kernel.ts';
import { useFusedKernel } from './op_util.ts';

export const AdamUpdate = 'LinewiseAdamUpdate';

export interface AdamOptions {
  learningRate: number;
  /** Decay of the first moment (default 0.9). */
  beta1?: number;
  /** Decay of the second moment (default 0.999). */
  beta2?: number;
  /** Added to the bias-corrected root of the second moment (default 1e-8). */
  epsilon?: number;
  /** Decoupled weight decay: each step multiplies parameters by `1 - learningRate * weightDecay` (default 0). */
  weightDecay?: number;
}

/** Optimizer state for an exact resume; moments in the order of the variables passed to `step`. */
export interface AdamState {
  step: number;
  m: Tensor[];
  v: Tensor[];
}

/** Hyperparameters of one update, as the `LinewiseAdamUpdate` kernel takes them. */
export interface AdamUpdateAttrs {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  weightDecay: number;
  /** The 1-based step, for bias correction. */
  step: number;
  [name: string]: number;
}

/**
 * AdamW, as PyTorch's `AdamW` (decoupled weight decay, bias correction):
 * `p = p * (1 - lr * wd) - lr / (1 - beta1^t) * m / (sqrt(v / (1 - beta2^t)) + epsilon)`.
 *
 * Moments are kept by position in the `variables` array. The first `step` binds the optimizer to that
 * array's variables; later steps must pass the same variables in the same order (checked by identity).
 * After `setState` the next `step` binds again, so a resumed run may pass new Variable objects, in the
 * order of the saved state. Give parameters that need different settings (e.g. no weight decay for norms
 * and biases) their own `Adam`.
 */
export class Adam {
  readonly learningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly weightDecay: number;
  #step = 0;
  #m: Tensor[] = [];
  #v: Tensor[] = [];
  #bound: Variable[] | undefined;

  constructor({ learningRate, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8, weightDecay = 0 }: AdamOptions) {
    this.learningRate = checkLearningRate(learningRate);
    this.beta1 = checkRange('beta1', beta1, 0, 1);
    this.beta2 = checkRange('beta2', beta2, 0, 1);
    if (!(epsilon > 0 && Number.isFinite(epsilon))) {
      throw new KernelsConfigError('epsilon', `must be a positive finite number, got ${epsilon}`);
    }
    this.epsilon = epsilon;
    if (!(weightDecay >= 0 && Number.isFinite(weightDecay))) {
      throw new KernelsConfigError('weightDecay', `must be a finite number >= 0, got ${weightDecay}`);
    }
    this.weightDecay = weightDecay;
  }

  /** Steps taken (restored by `setState`). */
  get stepCount(): number {
    return this.#step;
  }

  /**
   * Updates `variables` in place from `grads` (same order and shapes), at `learningRate` if given (e.g. from
   * a schedule) else the constructor's. Each variable is assigned a new buffer (the fused kernel writes
   * parameter and moments in one pass), so tensors that share its old data, such as clones, keep their
   * values. Creates no tensors that outlive the call except the new moments, which replace the old ones.
   */
  step(variables: Variable[], grads: Tensor[], learningRate = this.learningRate): void {
    checkLearningRate(learningRate);
    if (grads.length !== variables.length) {
      throw new KernelsConfigError('grads', `${grads.length} gradients for ${variables.length} variables`);
    }
    // Checked before any update, so that a bad call leaves every variable as it was.
    grads.forEach((grad, i) => {
      const { shape } = variables[i] as Variable;
      if (!util.arraysEqual(grad.shape, shape) || grad.dtype !== 'float32') {
        throw new KernelsConfigError(
          'grads',
          `gradient ${i} is ${grad.dtype} [${grad.shape}], its variable [${shape}]`,
        );
      }
    });
    this.#bind(variables);
    const attrs: AdamUpdateAttrs = {
      learningRate,
      beta1: this.beta1,
      beta2: this.beta2,
      epsilon: this.epsilon,
      weightDecay: this.weightDecay,
      step: this.#step + 1,
    };
    const fused = useFusedKernel(AdamUpdate, true);
    variables.forEach((variable, i) => {
      const grad = grads[i] as Tensor;
      const m = this.#m[i] as Tensor;
      const v = this.#v[i] as Tensor;
      const [param, nextM, nextV] = (
        fused
          ? engine().runKernel(AdamUpdate, { param: variable, grad, m, v }, attrs)
          : adamUpdateComposite(variable, grad, m, v, attrs)
      ) as [Tensor, Tensor, Tensor];
      variable.assign(param);
      param.dispose();
      this.#m[i] = keep(nextM);
      this.#v[i] = keep(nextV);
      m.dispose();
      v.dispose();
    });
    this.#step += 1;
  }

  /** Step count and copies of the moments (the caller disposes them). */
  getState(): AdamState {
    return {
      step: this.#step,
      m: this.#m.map((t) => keep(t.clone())),
      v: this.#v.map((t) => keep(t.clone())),
    };
  }

  /** Restores a state from `getState`; copies its tensors (the caller keeps ownership of `state`). */
  setState(state: AdamState): void {
    if (!(Number.isInteger(state.step) && state.step >= 0)) {
      throw new KernelsConfigError('step', `must be an integer >= 0, got ${state.step}`);
    }
    if (state.m.length !== state.v.length) {
      throw new KernelsConfigError(
        'm',
        `${state.m.length} first moments for ${state.v.length} second moments`,
      );
    }
    state.m.forEach((m, i) => {
      if (!util.arraysEqual(m.shape, (state.v[i] as Tensor).shape)) {
        throw new KernelsConfigError(
          'v',
          `moment ${i}: m is [${m.shape}], v is [${(state.v[i] as Tensor).shape}]`,
        );
      }
    });
    const m = state.m.map((t) => keep(t.clone()));
    const v = state.v.map((t) => keep(t.clone()));
    this.dispose();
    this.#m = m;
    this.#v = v;
    this.#step = state.step;
  }

  /** Frees the moments; a later `step` starts over from step 0. */
  dispose(): void {
    for (const t of this.#m) t.dispose();
    for (const t of this.#v) t.dispose();
    this.#m = [];
    this.#v = [];
    this.#step = 0;
    this.#bound = undefined;
  }

  #bind(variables: Variable[]): void {
    if (this.#bound !== undefined) {
      if (
        variables.length !== this.#bound.length ||
        variables.some((variable, i) => variable !== this.#bound?.[i])
      ) {
        throw new KernelsConfigError(
          'variables',
          'step was given other variables than before; moments are kept by position (use one Adam per list)',
        );
      }
      return;
    }
    if (this.#m.length === 0 && this.#step === 0) {
      this.#m = variables.map((variable) => keep(zerosLike(variable)));
      this.#v = variables.map((variable) => keep(zerosLike(variable)));
    } else if (
      this.#m.length !== variables.length ||
      variables.some((variable, i) => !util.arraysEqual(variable.shape, (this.#m[i] as Tensor).shape))
    ) {
      throw new KernelsConfigError(
        'variables',
        'the variables do not match the restored state in number or shapes',
      );
    }
    this.#bound = [...variables];
  }
}

/** One update from stock ops: the path where the kernel is missing, and the reference in tests. */
export function adamUpdateComposite(
  param: Tensor,
  grad: Tensor,
  m: Tensor,
  v: Tensor,
  attrs: AdamUpdateAttrs,
): [Tensor, Tensor, Tensor] {
  const { learningRate, beta1, beta2, epsilon, weightDecay, step } = attrs;
  return tidy(() => {
    const nextM = add(mul(m, beta1), mul(grad, 1 - beta1));
    const nextV = add(mul(v, beta2), mul(square(grad), 1 - beta2));
    const denominator = add(div(sqrt(nextV), Math.sqrt(1 - beta2 ** step)), epsilon);
    const update = mul(div(nextM, denominator), learningRate / (1 - beta1 ** step));
    return [sub(mul(param, 1 - learningRate * weightDecay), update), nextM, nextV];
  });
}

/** Writes the new parameter and both moments in one pass. */
function adamUpdate(inputs: TypedArray[], outputs: TypedArray[], attrs: AdamUpdateAttrs): void {
  const [param, grad, m, v] = inputs as [Float32Array, Float32Array, Float32Array, Float32Array];
  const [nextParam, nextM, nextV] = outputs as [Float32Array, Float32Array, Float32Array];
  const { learningRate, beta1, beta2, epsilon, weightDecay, step } = attrs;
  const stepSize = learningRate / (1 - beta1 ** step);
  const rootCorrection = 1 / Math.sqrt(1 - beta2 ** step);
  const decay = 1 - learningRate * weightDecay;
  for (let i = 0; i < param.length; i++) {
    const g = grad[i] as number;
    const mi = beta1 * (m[i] as number) + (1 - beta1) * g;
    const vi = beta2 * (v[i] as number) + (1 - beta2) * g * g;
    nextM[i] = mi;
    nextV[i] = vi;
    nextParam[i] =
      (param[i] as number) * decay - (stepSize * mi) / (Math.sqrt(vi) * rootCorrection + epsilon);
  }
}

const adamUpdateKernel: ArrayKernel = {
  kernelName: AdamUpdate,
  inputNames: ['param', 'grad', 'm', 'v'],
  outputs: ([param]) => {
    const { shape } = param as TensorInfo;
    return [
      { shape, dtype: 'float32' },
      { shape, dtype: 'float32' },
      { shape, dtype: 'float32' },
    ];
  },
  compute: adamUpdate,
  native: (blas, heap, [param, grad, m, v], [paramOut, mOut, vOut], [shape], attrs) => {
    const { learningRate, beta1, beta2, epsilon, weightDecay, step } = attrs as AdamUpdateAttrs;
    const [p, g, mi, vi] = [param, grad, m, v] as [number, number, number, number];
    blas.adamUpdate(
      heap,
      p,
      g,
      mi,
      vi,
      util.sizeFromShape(shape ?? []),
      paramOut as number,
      mOut as number,
      vOut as number,
      learningRate / (1 - beta1 ** step),
      beta1,
      beta2,
      1 / Math.sqrt(1 - beta2 ** step),
      epsilon,
      1 - learningRate * weightDecay,
    );
  },
};

export const adamUpdateKernels = arrayKernelConfigs(adamUpdateKernel);

function checkLearningRate(learningRate: number): number {
  if (!(learningRate >= 0 && Number.isFinite(learningRate))) {
    throw new KernelsConfigError('learningRate', `must be a finite number >= 0, got ${learningRate}`);
  }
  return learningRate;
}

function checkRange(field: string, value: number, min: number, max: number): number {
  if (!(value >= min && value < max))
    throw new KernelsConfigError(field, `must be in [${min}, ${max}), got ${value}`);
  return value;
}
