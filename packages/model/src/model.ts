import {
  biasGelu,
  decodeAttention,
  embedRows,
  entropyFromLogits,
  layerNorm,
  logProbsOfTargets,
  rmsNorm,
  siluMul,
} from '@linewise/kernels';
import * as tf from '@tensorflow/tfjs-core';
import { type ModelConfig, validateConfig } from './config.ts';
import { ModelInputError, ModelStateError, WeightsError } from './errors.ts';
import { type GenerateOptions, type GenerationResult, generate } from './generate.ts';
import { type MatrixInput, pairMask, type TokenInput, toIdTensor, toMatrix } from './inputs.ts';
import {
  applyRope,
  attend,
  attentionBias,
  embeddingLookup,
  halfSwapMatrix,
  linearInOut,
  linearOutIn,
  ropeSignedFrequencies,
  ropeTables,
} from './layers.ts';
import { Rng } from './random.ts';
import {
  embeddingName,
  expectedWeightShapes,
  initialValues,
  initialWeights,
  SCALAR_HEAD_BIAS,
  SCALAR_HEAD_WEIGHT,
} from './weights.ts';

export interface ForwardOptions {
  /**
   * [B, T], 1 for real tokens and 0 for padding. Padding keys are never attended to, so left- and
   * right-padded batches both work. Without `positions`, positions count real tokens only
   * (`cumsum(mask) - 1`, as HF does), so a left-padded prompt sees the same positions as unpadded.
   */
  attentionMask?: MatrixInput;
  /** [B, T] position ids; default `0..T-1`, or derived from `attentionMask` as above. */
  positions?: MatrixInput;
}

export interface ForwardResult {
  /** Next-token logits [B, T, V]. */
  logits: tf.Tensor3D;
  /** Last hidden state after the final norm [B, T, d] (what the LM and scalar heads read). */
  hidden: tf.Tensor3D;
}

export interface CreateOptions {
  /** Seed of the initialisation; same seed, same weights. Default 0. */
  seed?: number;
  /** Add the scalar head (critic / PRM) at creation. */
  scalarHead?: boolean;
  /** Whether the variables start trainable (default true). */
  trainable?: boolean;
}

export interface FromWeightsOptions {
  /** Expect the scalar head; default: whether `weights` has `score.weight`. */
  scalarHead?: boolean;
  /** Whether the variables start trainable (default true). */
  trainable?: boolean;
  /** Ignore tensors the configuration has no use for instead of throwing (default false). */
  allowUnexpected?: boolean;
  /**
   * Copy each tensor into the model (default true), so the model owns its memory. With `false` the
   * variables share the given tensors' storage (tfjs reference counting keeps it alive either way, and
   * tfjs updates replace a variable's storage rather than writing into it).
   */
  copy?: boolean;
}

/** Fused inference weights (see `TransformerModel.inferencePlan`). @internal */
export interface InferencePlan {
  qkvWeight: tf.Tensor2D[];
  qkvBias: (tf.Tensor1D | undefined)[];
  /** Llama/Qwen2 o_proj, gate_proj, up_proj, down_proj and the LM head in [in, out] layout, when small. */
  transposed?: {
    oProj: tf.Tensor2D[];
    gate: tf.Tensor2D[];
    up: tf.Tensor2D[];
    down: tf.Tensor2D[];
    lmHead: tf.Tensor2D;
  };
  ropeFrequencies?: tf.Tensor1D;
  swap?: tf.Tensor2D;
}

/**
 * Largest model whose [out, in] weights `generate` also keeps transposed for its duration (matmuls
 * without a transposed operand are faster on wasm; the copies cost one more set of those weights).
 */
export const PRETRANSPOSE_MAX_PARAMETERS = 300_000_000;

/** Frees an `InferencePlan`. @internal */
export function disposeInferencePlan(plan: InferencePlan): void {
  tf.dispose([...plan.qkvWeight, ...plan.qkvBias.filter((t) => t !== undefined)]);
  const t = plan.transposed;
  if (t) tf.dispose([...t.oProj, ...t.gate, ...t.up, ...t.down, t.lmHead]);
  if (plan.ropeFrequencies) plan.ropeFrequencies.dispose();
  if (plan.swap) plan.swap.dispose();
}

/** Per-layer keys and values of a KV cache, each [B, Hkv, S, headDim] (keys after RoPE). */
export interface KvCache {
  keys: tf.Tensor4D[];
  values: tf.Tensor4D[];
}

let nextModelId = 0;

/**
 * A decoder-only transformer (GPT-2, Llama or Qwen2 layout) whose weights are tfjs Variables keyed by
 * their exact Hugging Face tensor names and shapes. One class serves as PPO policy, frozen reference
 * model, critic and PRM (the last two with the scalar head).
 */
export class TransformerModel {
  readonly config: ModelConfig;
  private readonly weights = new Map<string, tf.Variable>();
  private readonly modelId = nextModelId++;
  private readonly ropeFrequencies: Float32Array | undefined;
  private disposed = false;

  private constructor(config: ModelConfig) {
    validateConfig(config);
    this.config = structuredClone(config);
    this.ropeFrequencies =
      config.architecture === 'gpt2' ? undefined : ropeSignedFrequencies(config.headDim, config.ropeTheta);
  }

  /** A freshly initialised model (GPT-2 style: normal(0, 0.02) from a seeded PRNG; see `initialValues`). */
  static create(config: ModelConfig, options: CreateOptions = {}): TransformerModel {
    const model = new TransformerModel(config);
    const trainable = options.trainable ?? true;
    const init = initialWeights(model.config, {
      seed: options.seed ?? 0,
      scalarHead: options.scalarHead ?? false,
    });
    for (const [name, { shape, values }] of init) {
      model.addVariable(name, tf.tensor(values, shape, 'float32'), trainable);
    }
    return model;
  }

  /**
   * A model holding `weights` (HF names -> tensors). Every tensor `expectedWeightShapes` lists must be
   * present, float32 and of that shape; throws `WeightsError` naming the first one that is not (and any
   * tensor the configuration has no use for, unless `allowUnexpected`). The caller keeps ownership of
   * `weights` and may dispose them afterwards.
   */
  static fromWeights(
    config: ModelConfig,
    weights: ReadonlyMap<string, tf.Tensor>,
    options: FromWeightsOptions = {},
  ): TransformerModel {
    validateConfig(config);
    const scalarHead = options.scalarHead ?? weights.has(SCALAR_HEAD_WEIGHT);
    const expected = expectedWeightShapes(config, { scalarHead });
    for (const [name, shape] of expected) {
      const tensor = weights.get(name);
      if (tensor === undefined) throw new WeightsError(name, shape, null, 'missing');
      if (tensor.shape.length !== shape.length || tensor.shape.some((n, i) => n !== shape[i])) {
        throw new WeightsError(name, shape, tensor.shape, 'shape');
      }
      if (tensor.dtype !== 'float32') throw new WeightsError(name, shape, tensor.shape, 'dtype');
      if (tensor.isDisposed)
        throw new WeightsError(name, shape, tensor.shape, 'missing', `weight '${name}' is disposed`);
    }
    if (!options.allowUnexpected) {
      for (const [name, tensor] of weights) {
        if (!expected.has(name)) throw new WeightsError(name, null, tensor.shape, 'unexpected');
      }
    }
    const model = new TransformerModel(config);
    const trainable = options.trainable ?? true;
    const copy = options.copy ?? true;
    for (const name of expected.keys()) {
      const tensor = weights.get(name) as tf.Tensor;
      model.addVariable(name, copy ? copyTensor(tensor) : tensor, trainable, !copy);
    }
    return model;
  }

  /** Registers a variable named after the model and the HF name (tfjs variable names must be unique). */
  private addVariable(name: string, value: tf.Tensor, trainable: boolean, shared = false): void {
    const variable = tf.variable(value, trainable, `linewise/${this.modelId}/${name}`);
    // The variable holds its own reference to the storage; drop ours unless the caller owns it.
    if (!shared) value.dispose();
    this.weights.set(name, variable);
  }

  // ---------------------------------------------------------------- state

  /** Every variable by HF name (a new map; the variables are the model's own, do not dispose them). */
  variables(): Map<string, tf.Variable> {
    this.checkAlive();
    return new Map(this.weights);
  }

  /** Variables that training should update, in a stable order. */
  trainableVariables(): tf.Variable[] {
    this.checkAlive();
    return [...this.weights.values()].filter((v) => v.trainable);
  }

  /** Marks variables non-trainable: all, or those whose HF name passes `filter`. */
  freeze(filter?: (name: string) => boolean): this {
    this.setTrainable(false, filter);
    return this;
  }

  /** Marks variables trainable: all, or those whose HF name passes `filter`. */
  unfreeze(filter?: (name: string) => boolean): this {
    this.setTrainable(true, filter);
    return this;
  }

  private setTrainable(trainable: boolean, filter?: (name: string) => boolean): void {
    this.checkAlive();
    for (const [name, variable] of this.weights) if (!filter || filter(name)) variable.trainable = trainable;
  }

  /** Number of scalar parameters (a tied embedding counts once); `trainableOnly` counts trainable ones. */
  numParameters(options: { trainableOnly?: boolean } = {}): number {
    this.checkAlive();
    let total = 0;
    for (const variable of this.weights.values()) {
      if (!options.trainableOnly || variable.trainable) total += variable.size;
    }
    return total;
  }

  get hasScalarHead(): boolean {
    return this.weights.has(SCALAR_HEAD_WEIGHT);
  }

  /**
   * Adds the scalar head (`score.weight` normal(0, 0.02), `score.bias` 0), seeded so that it equals the
   * head `create({ seed, scalarHead: true })` makes. Throws if the model already has one.
   */
  addScalarHead(options: { seed?: number; trainable?: boolean } = {}): this {
    this.checkAlive();
    if (this.hasScalarHead) throw new ModelStateError('the model already has a scalar head');
    const rng = new Rng(options.seed ?? 0, 1);
    const d = this.config.hiddenSize;
    const weight = initialValues(this.config, SCALAR_HEAD_WEIGHT, [1, d], rng);
    this.addVariable(SCALAR_HEAD_WEIGHT, tf.tensor(weight, [1, d], 'float32'), options.trainable ?? true);
    this.addVariable(SCALAR_HEAD_BIAS, tf.zeros([1], 'float32'), options.trainable ?? true);
    return this;
  }

  /** Removes and disposes the scalar head, if any. */
  removeScalarHead(): this {
    this.checkAlive();
    for (const name of [SCALAR_HEAD_WEIGHT, SCALAR_HEAD_BIAS]) {
      this.weights.get(name)?.dispose();
      this.weights.delete(name);
    }
    return this;
  }

  /**
   * A deep copy: new variables with their own storage and the same trainable flags. Training either
   * model never changes the other (reference model, critic initialised from the PRM).
   */
  clone(): TransformerModel {
    this.checkAlive();
    const copy = new TransformerModel(this.config);
    for (const [name, variable] of this.weights)
      copy.addVariable(name, copyTensor(variable), variable.trainable);
    return copy;
  }

  /** Frees every variable. Any later call throws `ModelStateError`. */
  dispose(): void {
    if (this.disposed) return;
    for (const variable of this.weights.values()) variable.dispose();
    this.weights.clear();
    this.disposed = true;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  private checkAlive(): void {
    if (this.disposed) throw new ModelStateError('the model was disposed');
  }

  private w(name: string): tf.Variable {
    const variable = this.weights.get(name);
    if (variable === undefined) throw new ModelStateError(`the model has no weight '${name}'`);
    return variable;
  }

  private w1(name: string): tf.Tensor1D {
    return this.w(name) as unknown as tf.Tensor1D;
  }

  private w2(name: string): tf.Tensor2D {
    return this.w(name) as unknown as tf.Tensor2D;
  }

  private optionalW1(name: string): tf.Tensor1D | undefined {
    return this.weights.get(name) as unknown as tf.Tensor1D | undefined;
  }

  // ---------------------------------------------------------------- computation

  /** Logits [B, T, V] and final hidden states [B, T, d] of `tokens` [B, T]. */
  forward(tokens: TokenInput, options: ForwardOptions = {}): ForwardResult {
    this.checkAlive();
    return tf.tidy(() => {
      const { ids, mask, positions } = this.prepare(tokens, options);
      const [b, t] = ids.shape;
      const hidden = this.backbone(ids, positions, attentionBias(t, 0, mask));
      const logits = this.lmHead(hidden);
      return {
        logits: tf.reshape(logits, [b, t, this.config.vocabSize]) as tf.Tensor3D,
        hidden: tf.reshape(hidden, [b, t, this.config.hiddenSize]) as tf.Tensor3D,
      };
    });
  }

  /** Final hidden states [B, T, d] without computing logits. */
  hiddenStates(tokens: TokenInput, options: ForwardOptions = {}): tf.Tensor3D {
    this.checkAlive();
    return tf.tidy(() => {
      const { ids, mask, positions } = this.prepare(tokens, options);
      const [b, t] = ids.shape;
      return tf.reshape(this.backbone(ids, positions, attentionBias(t, 0, mask)), [
        b,
        t,
        this.config.hiddenSize,
      ]) as tf.Tensor3D;
    });
  }

  /**
   * log p(token_{t+1} | tokens_{<=t}) for t = 0..T-2: [B, T-1], differentiable. Entries whose target
   * or context position is padding in `mask` are 0 (so the first real token of a left-padded row, like
   * the first token of any row, has no log-prob); `pairMask(mask)` gives the matching 0/1 weights.
   */
  logProbs(tokens: TokenInput, mask?: MatrixInput): tf.Tensor2D {
    return this.policyOutputs(tokens, mask, { entropy: false }).logProbs;
  }

  /** Entropy (nats) of the next-token distribution at positions 0..T-2: [B, T-1], aligned with `logProbs`. */
  entropy(tokens: TokenInput, mask?: MatrixInput): tf.Tensor2D {
    return this.policyOutputs(tokens, mask, { logProbs: false }).entropy;
  }

  /** `logProbs` and `entropy` from one forward pass (what a PPO policy update needs). */
  logProbsAndEntropy(
    tokens: TokenInput,
    mask?: MatrixInput,
  ): { logProbs: tf.Tensor2D; entropy: tf.Tensor2D } {
    return this.policyOutputs(tokens, mask, {});
  }

  private policyOutputs(
    tokens: TokenInput,
    mask: MatrixInput | undefined,
    want: { logProbs?: boolean; entropy?: boolean },
  ): { logProbs: tf.Tensor2D; entropy: tf.Tensor2D } {
    this.checkAlive();
    const wantLogProbs = want.logProbs ?? true;
    const wantEntropy = want.entropy ?? true;
    return tf.tidy(() => {
      const { ids, mask: maskT, positions } = this.prepare(tokens, { attentionMask: mask });
      const [b, t] = ids.shape;
      if (t < 2) throw new ModelInputError('tokens', 'log-probs need at least 2 tokens per sequence');
      const logits = this.lmHead(this.backbone(ids, positions, attentionBias(t, 0, maskT)));
      // Targets are the tokens shifted left; the last position gets a dummy target and is sliced off,
      // which is cheaper than slicing the hidden states before the LM head.
      const targetMask = maskT ? pairMask(maskT) : undefined;
      const finish = (values: tf.Tensor1D): tf.Tensor2D => {
        const sliced = tf.slice(tf.reshape(values, [b, t]), [0, 0], [b, t - 1]) as tf.Tensor2D;
        return targetMask ? tf.mul(sliced, targetMask) : sliced;
      };
      const out: { logProbs: tf.Tensor2D; entropy: tf.Tensor2D } = {} as never;
      if (wantLogProbs) {
        const targets = tf.reshape(
          tf.concat([tf.slice(ids, [0, 1], [b, t - 1]), tf.zeros([b, 1], 'int32')], 1),
          [b * t],
        ) as tf.Tensor1D;
        out.logProbs = finish(logProbsOfTargets(logits, targets));
      }
      if (wantEntropy) out.entropy = finish(entropyFromLogits(logits));
      return out;
    });
  }

  /** Scalar-head outputs [B, T] (critic values / PRM scores); 0 where `mask` marks padding. */
  values(tokens: TokenInput, mask?: MatrixInput): tf.Tensor2D {
    this.checkAlive();
    if (!this.hasScalarHead) throw new ModelStateError('values() needs a scalar head: call addScalarHead()');
    return tf.tidy(() => {
      const { ids, mask: maskT, positions } = this.prepare(tokens, { attentionMask: mask });
      const [b, t] = ids.shape;
      const hidden = this.backbone(ids, positions, attentionBias(t, 0, maskT));
      const scores = tf.reshape(linearOutIn(hidden, this.w2(SCALAR_HEAD_WEIGHT), this.w1(SCALAR_HEAD_BIAS)), [
        b,
        t,
      ]) as tf.Tensor2D;
      return maskT ? tf.mul(scores, tf.cast(maskT, 'float32')) : scores;
    });
  }

  /**
   * Batched sampling with a KV cache; see `GenerateOptions` for the options and `GenerationResult` for
   * what comes back per prompt.
   */
  generate(options: GenerateOptions): Promise<GenerationResult[]> {
    this.checkAlive();
    return generate(this, options);
  }

  /**
   * One incremental step for `generate`: runs `ids` [B, T] at `positions` [B, T] against `past` (keys
   * and values of earlier positions, or none) with the additive attention `bias` [B, 1, T, S] over all
   * S = past + T keys (0 = attend, `MASKED` = not). Returns the logits of the last position [B, V] and the
   * grown cache. Tensors in `past` are not disposed.
   * @internal
   */
  step(
    ids: tf.Tensor2D,
    positions: tf.Tensor2D,
    bias: tf.Tensor4D,
    past: KvCache | undefined,
    plan?: InferencePlan,
  ): { logits: tf.Tensor2D; cache: KvCache } {
    this.checkAlive();
    const result = tf.tidy(() => {
      const [b, t] = ids.shape;
      const cache: KvCache = { keys: [], values: [] };
      const hidden = this.backbone(ids, positions, bias, past, cache, plan);
      const last =
        t === 1
          ? hidden
          : (tf.reshape(tf.slice(tf.reshape(hidden, [b, t, -1]), [0, t - 1, 0], [b, 1, -1]), [
              b,
              -1,
            ]) as tf.Tensor2D);
      const logits = plan?.transposed
        ? (tf.matMul(last, plan.transposed.lmHead) as tf.Tensor2D)
        : this.lmHead(last);
      return { logits, keys: cache.keys, values: cache.values };
    });
    return { logits: result.logits, cache: { keys: result.keys, values: result.values } };
  }

  /**
   * One decoding step for `generate` against a preallocated cache (see `decodeAttention` in
   * `@linewise/kernels`): `ids`/`positions` [B, 1], `cache` per layer [B, Hkv, Smax, hd] with rows
   * `0 .. position-1` filled, `starts` int32 [B] the first real key of each row. Writes this step's keys
   * and values into row `position` -- IN PLACE where the kernel is registered, so `cache` must be owned
   * by the caller alone -- and returns the logits [B, V] and the cache holding the new row (the same
   * tensors as `cache` when written in place, new ones from the stock-op fallback).
   * @internal
   */
  decodeStep(
    ids: tf.Tensor2D,
    positions: tf.Tensor2D,
    starts: tf.Tensor1D,
    cache: KvCache,
    position: number,
    plan: InferencePlan,
  ): { logits: tf.Tensor2D; cache: KvCache } {
    this.checkAlive();
    const result = tf.tidy(() => {
      const collect: KvCache = { keys: [], values: [] };
      const hidden = this.backbone(ids, positions, undefined, cache, collect, plan, { starts, position });
      const logits = plan.transposed
        ? (tf.matMul(hidden, plan.transposed.lmHead) as tf.Tensor2D)
        : this.lmHead(hidden);
      return { logits, keys: collect.keys, values: collect.values };
    });
    return { logits: result.logits, cache: { keys: result.keys, values: result.values } };
  }

  /** Normalises token/mask/position inputs to tensors (owned by the surrounding tidy). */
  private prepare(
    tokens: TokenInput,
    options: ForwardOptions,
  ): { ids: tf.Tensor2D; mask: tf.Tensor2D | undefined; positions: tf.Tensor2D } {
    const ids = toIdTensor(tokens, this.config.vocabSize);
    const [b, t] = ids.shape;
    if (t === 0) throw new ModelInputError('tokens', 'sequences must not be empty');
    if (t > this.config.maxPositions) {
      throw new ModelInputError(
        'tokens',
        `sequence length ${t} exceeds maxPositions ${this.config.maxPositions}`,
      );
    }
    let mask: tf.Tensor2D | undefined;
    if (options.attentionMask !== undefined) {
      mask = toMatrix(options.attentionMask, 'attentionMask', 'float32');
      if (mask.shape[0] !== b || mask.shape[1] !== t) {
        throw new ModelInputError(
          'attentionMask',
          `shape [${mask.shape}] does not match tokens [${b}, ${t}]`,
        );
      }
    }
    let positions: tf.Tensor2D;
    if (options.positions !== undefined) {
      positions = toMatrix(options.positions, 'positions', 'int32');
      if (positions.shape[0] !== b || positions.shape[1] !== t) {
        throw new ModelInputError(
          'positions',
          `shape [${positions.shape}] does not match tokens [${b}, ${t}]`,
        );
      }
    } else if (mask !== undefined) {
      positions = tf.cast(tf.maximum(tf.sub(tf.cumsum(mask, 1), 1), 0), 'int32') as tf.Tensor2D;
    } else {
      const values = new Int32Array(b * t);
      for (let i = 0; i < b; i++) for (let j = 0; j < t; j++) values[i * t + j] = j;
      positions = tf.tensor2d(values, [b, t], 'int32');
    }
    return { ids, mask, positions };
  }

  /**
   * Weights rearranged for inference, built once per `generate` call: per layer one q|k|v projection in
   * [in, out] layout with the query part pre-multiplied by 1/sqrt(headDim), so a step runs one matmul and
   * one RoPE for queries and keys together. Dispose with `tf.dispose(Object.values(...))` helpers in
   * `disposeInferencePlan`.
   * @internal
   */
  inferencePlan(): InferencePlan {
    this.checkAlive();
    const c = this.config;
    const scale = 1 / Math.sqrt(c.headDim);
    const qDim = c.numHeads * c.headDim;
    return tf.tidy(() => {
      const qkvWeight: tf.Tensor2D[] = [];
      const qkvBias: (tf.Tensor1D | undefined)[] = [];
      for (let i = 0; i < c.numLayers; i++) {
        if (c.architecture === 'gpt2') {
          const p = `transformer.h.${i}.attn.c_attn`;
          const columnScale = tf.concat([tf.fill([qDim], scale), tf.ones([2 * qDim])]);
          qkvWeight.push(tf.mul(this.w2(`${p}.weight`), columnScale) as tf.Tensor2D);
          qkvBias.push(tf.mul(this.w1(`${p}.bias`), columnScale) as tf.Tensor1D);
        } else {
          const a = `model.layers.${i}.self_attn`;
          qkvWeight.push(
            tf.transpose(
              tf.concat(
                [
                  tf.mul(this.w2(`${a}.q_proj.weight`), scale),
                  this.w2(`${a}.k_proj.weight`),
                  this.w2(`${a}.v_proj.weight`),
                ],
                0,
              ),
            ) as tf.Tensor2D,
          );
          const qb = this.optionalW1(`${a}.q_proj.bias`);
          const kb = this.optionalW1(`${a}.k_proj.bias`);
          const vb = this.optionalW1(`${a}.v_proj.bias`);
          qkvBias.push(qb && kb && vb ? (tf.concat([tf.mul(qb, scale), kb, vb]) as tf.Tensor1D) : undefined);
        }
      }
      const plan: InferencePlan = { qkvWeight, qkvBias };
      if (this.numParameters() <= PRETRANSPOSE_MAX_PARAMETERS) {
        const all = (suffix: string) =>
          Array.from(
            { length: c.numLayers },
            (_, i) => tf.transpose(this.w2(`model.layers.${i}.${suffix}`)) as tf.Tensor2D,
          );
        const lmHead = tf.transpose(
          this.w2(c.tieWordEmbeddings ? embeddingName(c) : 'lm_head.weight'),
        ) as tf.Tensor2D;
        plan.transposed =
          c.architecture === 'gpt2'
            ? { oProj: [], gate: [], up: [], down: [], lmHead }
            : {
                oProj: all('self_attn.o_proj.weight'),
                gate: all('mlp.gate_proj.weight'),
                up: all('mlp.up_proj.weight'),
                down: all('mlp.down_proj.weight'),
                lmHead,
              };
      }
      if (this.ropeFrequencies) {
        plan.ropeFrequencies = tf.tensor1d(this.ropeFrequencies, 'float32');
        plan.swap = halfSwapMatrix(c.headDim);
      }
      return plan as unknown as tf.TensorContainerObject;
    }) as unknown as InferencePlan;
  }

  /**
   * The transformer stack: embeddings, layers, final norm. `ids`/`positions` [B, T], `bias` the additive
   * attention bias [B|1, 1, T, S]. With `past`, keys/values of earlier positions are prepended; with
   * `collect`, every layer's full keys/values are pushed into it; with `plan`, the fused inference
   * weights are used. Returns [B*T, d].
   */
  private backbone(
    ids: tf.Tensor2D,
    positions: tf.Tensor2D,
    bias: tf.Tensor4D | undefined,
    past?: KvCache,
    collect?: KvCache,
    plan?: InferencePlan,
    decode?: { starts: tf.Tensor1D; position: number },
  ): tf.Tensor2D {
    const c = this.config;
    const [b, t] = ids.shape;
    const n = b * t;
    const heads = c.numHeads;
    const kvHeads = c.numKvHeads;
    const hd = c.headDim;
    const scale = 1 / Math.sqrt(hd);
    const flatIds = tf.reshape(ids, [n]) as tf.Tensor1D;
    const flatPositions = tf.reshape(positions, [n]) as tf.Tensor1D;
    // Decoding needs no gradient: one row-copy kernel for the token (and GPT-2 position) embeddings.
    let x = decode
      ? embedRows(
          c.architecture === 'gpt2'
            ? [
                [this.w2(embeddingName(c)), flatIds],
                [this.w2('transformer.wpe.weight'), flatPositions],
              ]
            : [[this.w2(embeddingName(c)), flatIds]],
        )
      : embeddingLookup(this.w2(embeddingName(c)), flatIds);
    // [N, h*hd] -> [B, h, T, hd]; a reshape when T = 1 (decoding).
    const toHeads = (y: tf.Tensor, h: number): tf.Tensor4D =>
      (t === 1
        ? tf.reshape(y, [b, h, 1, hd])
        : tf.transpose(tf.reshape(y, [b, t, h, hd]), [0, 2, 1, 3])) as tf.Tensor4D;
    const fromHeads = (y: tf.Tensor4D): tf.Tensor2D =>
      tf.reshape(t === 1 ? y : tf.transpose(y, [0, 2, 1, 3]), [n, heads * hd]) as tf.Tensor2D;
    const withPast = (layer: number, k: tf.Tensor4D, v: tf.Tensor4D): [tf.Tensor4D, tf.Tensor4D] => {
      const pk = past?.keys[layer];
      const pv = past?.values[layer];
      const fullK = pk ? (tf.concat([pk, k], 2) as tf.Tensor4D) : k;
      const fullV = pv ? (tf.concat([pv, v], 2) as tf.Tensor4D) : v;
      collect?.keys.push(fullK);
      collect?.values.push(fullV);
      return [fullK, fullV];
    };
    // Decoding against a preallocated cache: one kernel writes the new key/value row and attends.
    const decodeAttend = (layer: number, qkv: tf.Tensor2D): tf.Tensor2D => {
      const d = decode as { starts: tf.Tensor1D; position: number };
      const result = decodeAttention(
        qkv,
        past?.keys[layer] as tf.Tensor4D,
        past?.values[layer] as tf.Tensor4D,
        d.starts,
        { numHeads: heads, numKvHeads: kvHeads, position: d.position },
      );
      collect?.keys.push(result.keys);
      collect?.values.push(result.values);
      return result.output;
    };

    if (c.architecture === 'gpt2') {
      if (!decode) x = tf.add(x, embeddingLookup(this.w2('transformer.wpe.weight'), flatPositions));
      for (let i = 0; i < c.numLayers; i++) {
        const p = `transformer.h.${i}`;
        const h = layerNorm(
          x,
          this.w1(`${p}.ln_1.weight`),
          this.w1(`${p}.ln_1.bias`),
          c.normEpsilon,
        ) as tf.Tensor2D;
        const qkv = plan
          ? linearInOut(h, plan.qkvWeight[i] as tf.Tensor2D, plan.qkvBias[i])
          : linearInOut(h, this.w2(`${p}.attn.c_attn.weight`), this.w1(`${p}.attn.c_attn.bias`));
        let attention: tf.Tensor2D;
        if (decode) {
          attention = decodeAttend(i, qkv);
        } else {
          // [N, 3d] -> [B, 3H, T, hd] in one 4-D transpose (wasm's 5-D transpose is slow), then a split.
          const [qs, ks, vs] = tf.split(toHeads(qkv, 3 * heads), 3, 1) as [
            tf.Tensor4D,
            tf.Tensor4D,
            tf.Tensor4D,
          ];
          const q = plan ? qs : (tf.mul(qs, scale) as tf.Tensor4D);
          const [k, v] = withPast(i, ks, vs);
          attention = fromHeads(attend(q, k, v, bias as tf.Tensor4D));
        }
        x = tf.add(
          x,
          linearInOut(attention, this.w2(`${p}.attn.c_proj.weight`), this.w1(`${p}.attn.c_proj.bias`)),
        );
        const h2 = layerNorm(
          x,
          this.w1(`${p}.ln_2.weight`),
          this.w1(`${p}.ln_2.bias`),
          c.normEpsilon,
        ) as tf.Tensor2D;
        const inner = biasGelu(tf.matMul(h2, this.w2(`${p}.mlp.c_fc.weight`)), this.w1(`${p}.mlp.c_fc.bias`));
        x = tf.add(
          x,
          linearInOut(
            inner as tf.Tensor2D,
            this.w2(`${p}.mlp.c_proj.weight`),
            this.w1(`${p}.mlp.c_proj.bias`),
          ),
        );
      }
      return layerNorm(
        x,
        this.w1('transformer.ln_f.weight'),
        this.w1('transformer.ln_f.bias'),
        c.normEpsilon,
      ) as tf.Tensor2D;
    }

    // Llama / Qwen2. Rotary tables once per call.
    const { cos, sin } = ropeTables(
      tf.cast(flatPositions, 'float32') as tf.Tensor1D,
      plan?.ropeFrequencies ?? tf.tensor1d(this.ropeFrequencies as Float32Array, 'float32'),
    );
    const cosK = tf.reshape(cos, [n, 1, hd]) as tf.Tensor3D;
    const sinK = tf.reshape(sin, [n, 1, hd]) as tf.Tensor3D;
    const swap = plan?.swap ?? halfSwapMatrix(hd);
    // Without a plan the query's 1/sqrt(hd) is folded into its own rotary tables.
    const cosQ = plan ? cosK : (tf.mul(cosK, scale) as tf.Tensor3D);
    const sinQ = plan ? sinK : (tf.mul(sinK, scale) as tf.Tensor3D);
    for (let i = 0; i < c.numLayers; i++) {
      const p = `model.layers.${i}`;
      const a = `${p}.self_attn`;
      const h = rmsNorm(x, this.w1(`${p}.input_layernorm.weight`), c.normEpsilon) as tf.Tensor2D;
      let attention: tf.Tensor2D;
      if (plan) {
        // One projection, one RoPE over query and key heads together (the query is pre-scaled).
        const qkv = linearInOut(h, plan.qkvWeight[i] as tf.Tensor2D, plan.qkvBias[i]);
        const [qk, vFlat] = tf.split(qkv, [(heads + kvHeads) * hd, kvHeads * hd], 1);
        const rotated = applyRope(
          tf.reshape(qk as tf.Tensor, [n, heads + kvHeads, hd]) as tf.Tensor3D,
          cosK,
          sinK,
          swap,
        );
        if (decode) {
          attention = decodeAttend(
            i,
            tf.concat([tf.reshape(rotated, [n, (heads + kvHeads) * hd]), vFlat as tf.Tensor2D], 1),
          );
        } else {
          const [qr, kr] = tf.split(rotated, [heads, kvHeads], 1);
          const [k, v] = withPast(i, toHeads(kr as tf.Tensor, kvHeads), toHeads(vFlat as tf.Tensor, kvHeads));
          attention = fromHeads(attend(toHeads(qr as tf.Tensor, heads), k, v, bias as tf.Tensor4D));
        }
      } else {
        const qFlat = linearOutIn(h, this.w2(`${a}.q_proj.weight`), this.optionalW1(`${a}.q_proj.bias`));
        const kFlat = linearOutIn(h, this.w2(`${a}.k_proj.weight`), this.optionalW1(`${a}.k_proj.bias`));
        const vFlat = linearOutIn(h, this.w2(`${a}.v_proj.weight`), this.optionalW1(`${a}.v_proj.bias`));
        const q = toHeads(
          applyRope(tf.reshape(qFlat, [n, heads, hd]) as tf.Tensor3D, cosQ, sinQ, swap),
          heads,
        );
        const [k, v] = withPast(
          i,
          toHeads(applyRope(tf.reshape(kFlat, [n, kvHeads, hd]) as tf.Tensor3D, cosK, sinK, swap), kvHeads),
          toHeads(vFlat, kvHeads),
        );
        attention = fromHeads(attend(q, k, v, bias as tf.Tensor4D));
      }
      // With a plan, the [out, in] weights come pre-transposed (when the model is small enough).
      const tw = plan?.transposed;
      const oBias = this.optionalW1(`${a}.o_proj.bias`);
      x = tf.add(
        x,
        tw
          ? linearInOut(attention, tw.oProj[i] as tf.Tensor2D, oBias)
          : linearOutIn(attention, this.w2(`${a}.o_proj.weight`), oBias),
      );
      const h2 = rmsNorm(x, this.w1(`${p}.post_attention_layernorm.weight`), c.normEpsilon) as tf.Tensor2D;
      const gate = tw
        ? linearInOut(h2, tw.gate[i] as tf.Tensor2D)
        : linearOutIn(h2, this.w2(`${p}.mlp.gate_proj.weight`));
      const up = tw
        ? linearInOut(h2, tw.up[i] as tf.Tensor2D)
        : linearOutIn(h2, this.w2(`${p}.mlp.up_proj.weight`));
      const inner = siluMul(gate, up) as tf.Tensor2D;
      x = tf.add(
        x,
        tw
          ? linearInOut(inner, tw.down[i] as tf.Tensor2D)
          : linearOutIn(inner, this.w2(`${p}.mlp.down_proj.weight`)),
      );
    }
    return rmsNorm(x, this.w1('model.norm.weight'), c.normEpsilon) as tf.Tensor2D;
  }

  /** Logits [N, V] of hidden states [N, d]. */
  private lmHead(hidden: tf.Tensor2D): tf.Tensor2D {
    const head = this.w2(this.config.tieWordEmbeddings ? embeddingName(this.config) : 'lm_head.weight');
    return tf.matMul(hidden, head, false, true);
  }
}

/** A copy with its own storage (tfjs `clone` shares storage on some backends). */
function copyTensor(tensor: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(tensor, tf.scalar(1, tensor.dtype)));
}
