import { entropyFromLogits, logProbsOfTargets } from '@linewise/kernels';
import * as tf from '@tensorflow/tfjs-core';
import {
  type BackboneOptions,
  backbone,
  type InferencePlan,
  type KvCache,
  type WeightSource,
} from './backbone.ts';
import { type ModelConfig, validateConfig } from './config.ts';
import { ModelInputError, ModelStateError, WeightsError } from './errors.ts';
import { type GenerateOptions, type GenerationResult, generate } from './generate.ts';
import { type MatrixInput, pairMask, type TokenInput, toIdTensor, toMatrix } from './inputs.ts';
import { attentionBias, halfSwapMatrix, linearOutIn, ropeSignedFrequencies } from './layers.ts';
import { Rng } from './random.ts';
import {
  embeddingName,
  expectedWeightShapes,
  initialValues,
  initialWeights,
  SCALAR_HEAD_BIAS,
  SCALAR_HEAD_WEIGHT,
} from './weights.ts';

export type { KvCache } from './backbone.ts';

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

/**
 * Largest model whose [out, in] weights `generate` also keeps transposed for its duration (matmuls
 * without a transposed operand are faster on wasm; the copies cost one more set of those weights).
 */
const PRETRANSPOSE_MAX_PARAMETERS = 300_000_000;

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

  /** The variables as the backbone reads them. */
  private readonly source: WeightSource = {
    w1: (name) => this.w(name) as unknown as tf.Tensor1D,
    w2: (name) => this.w(name) as unknown as tf.Tensor2D,
    optionalW1: (name) => this.weights.get(name) as unknown as tf.Tensor1D | undefined,
  };

  private w(name: string): tf.Variable {
    const variable = this.weights.get(name);
    if (variable === undefined) throw new ModelStateError(`the model has no weight '${name}'`);
    return variable;
  }

  // ---------------------------------------------------------------- computation

  /** Logits [B, T, V] and final hidden states [B, T, d] of `tokens` [B, T]. */
  forward(tokens: TokenInput, options: ForwardOptions = {}): ForwardResult {
    this.checkAlive();
    return tf.tidy(() => {
      const { ids, hidden } = this.encode(tokens, options);
      const [b, t] = ids.shape;
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
      const { ids, hidden } = this.encode(tokens, options);
      const [b, t] = ids.shape;
      return tf.reshape(hidden, [b, t, this.config.hiddenSize]) as tf.Tensor3D;
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
      const { ids, mask: maskT, hidden } = this.encode(tokens, { attentionMask: mask });
      const [b, t] = ids.shape;
      if (t < 2) throw new ModelInputError('tokens', 'log-probs need at least 2 tokens per sequence');
      const logits = this.lmHead(hidden);
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
      const { ids, mask: maskT, hidden } = this.encode(tokens, { attentionMask: mask });
      const [b, t] = ids.shape;
      const scores = tf.reshape(
        linearOutIn(hidden, this.source.w2(SCALAR_HEAD_WEIGHT), this.source.w1(SCALAR_HEAD_BIAS)),
        [b, t],
      ) as tf.Tensor2D;
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
      const hidden = this.backbone(ids, positions, { bias, past, collect: cache, plan });
      const last =
        t === 1
          ? hidden
          : (tf.reshape(tf.slice(tf.reshape(hidden, [b, t, -1]), [0, t - 1, 0], [b, 1, -1]), [
              b,
              -1,
            ]) as tf.Tensor2D);
      const logits = this.lmHead(last, plan);
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
      const hidden = this.backbone(ids, positions, {
        past: cache,
        collect,
        plan,
        decode: { starts, position },
      });
      const logits = this.lmHead(hidden, plan);
      return { logits, keys: collect.keys, values: collect.values };
    });
    return { logits: result.logits, cache: { keys: result.keys, values: result.values } };
  }

  /**
   * The backbone over whole sequences (no cache): hidden states [B*T, d] with the normalised inputs.
   * Call inside a tidy.
   */
  private encode(
    tokens: TokenInput,
    options: ForwardOptions,
  ): { ids: tf.Tensor2D; mask: tf.Tensor2D | undefined; hidden: tf.Tensor2D } {
    const { ids, mask, positions } = this.prepare(tokens, options);
    const hidden = this.backbone(ids, positions, { bias: attentionBias(ids.shape[1], 0, mask) });
    return { ids, mask, hidden };
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
    const alignedToIds = (input: MatrixInput, field: string, dtype: 'float32' | 'int32') => {
      const m = toMatrix(input, field, dtype);
      if (m.shape[0] !== b || m.shape[1] !== t) {
        throw new ModelInputError(field, `shape [${m.shape}] does not match tokens [${b}, ${t}]`);
      }
      return m;
    };
    const mask =
      options.attentionMask === undefined
        ? undefined
        : alignedToIds(options.attentionMask, 'attentionMask', 'float32');
    let positions: tf.Tensor2D;
    if (options.positions !== undefined) {
      positions = alignedToIds(options.positions, 'positions', 'int32');
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
   * one RoPE for queries and keys together. Free it with `disposeInferencePlan`.
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
          qkvWeight.push(tf.mul(this.source.w2(`${p}.weight`), columnScale) as tf.Tensor2D);
          qkvBias.push(tf.mul(this.source.w1(`${p}.bias`), columnScale) as tf.Tensor1D);
        } else {
          const a = `model.layers.${i}.self_attn`;
          qkvWeight.push(
            tf.transpose(
              tf.concat(
                [
                  tf.mul(this.source.w2(`${a}.q_proj.weight`), scale),
                  this.source.w2(`${a}.k_proj.weight`),
                  this.source.w2(`${a}.v_proj.weight`),
                ],
                0,
              ),
            ) as tf.Tensor2D,
          );
          const qb = this.source.optionalW1(`${a}.q_proj.bias`);
          const kb = this.source.optionalW1(`${a}.k_proj.bias`);
          const vb = this.source.optionalW1(`${a}.v_proj.bias`);
          qkvBias.push(qb && kb && vb ? (tf.concat([tf.mul(qb, scale), kb, vb]) as tf.Tensor1D) : undefined);
        }
      }
      const plan: InferencePlan = { qkvWeight, qkvBias };
      if (this.numParameters() <= PRETRANSPOSE_MAX_PARAMETERS) {
        const all = (suffix: string) =>
          Array.from(
            { length: c.numLayers },
            (_, i) => tf.transpose(this.source.w2(`model.layers.${i}.${suffix}`)) as tf.Tensor2D,
          );
        const lmHead = tf.transpose(
          this.source.w2(c.tieWordEmbeddings ? embeddingName(c) : 'lm_head.weight'),
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

  private backbone(ids: tf.Tensor2D, positions: tf.Tensor2D, options: BackboneOptions): tf.Tensor2D {
    return backbone(this.config, this.source, this.ropeFrequencies, ids, positions, options);
  }

  /** Logits [N, V] of hidden states [N, d] (with the plan's pre-transposed head when it has one). */
  private lmHead(hidden: tf.Tensor2D, plan?: InferencePlan): tf.Tensor2D {
    if (plan?.transposed) return tf.matMul(hidden, plan.transposed.lmHead);
    const head = this.source.w2(
      this.config.tieWordEmbeddings ? embeddingName(this.config) : 'lm_head.weight',
    );
    return tf.matMul(hidden, head, false, true);
  }
}

/** A copy with its own storage (tfjs `clone` shares storage on some backends). */
function copyTensor(tensor: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(tensor, tf.scalar(1, tensor.dtype)));
}
