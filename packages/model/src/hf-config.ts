/**
 * Hugging Face `config.json` <-> `ModelConfig`. Reads `GPT2Config`, `LlamaConfig` and `Qwen2Config` as
 * `save_pretrained` writes them (fields equal to the class default may be absent and take HF's default),
 * rejects settings this package does not implement (rope scaling, sliding windows, other activations,
 * ...) with an `HfConfigError` naming the field, and writes configs HF itself can load, plus a `linewise`
 * block for what HF has no field for.
 */
import { type Architecture, type ModelConfig, resolveConfig } from './config.ts';
import { HfConfigError, ModelConfigError } from './errors.ts';

/** The `linewise` block of a config.json written by `saveCheckpoint`. */
export interface LinewiseConfigBlock {
  /** Format version of this block. */
  format: 1;
  /** The checkpoint holds a scalar head (`score.weight [1, d]`, `score.bias [1]`). */
  scalarHead: boolean;
  /** q/k/v(/o) biases; HF has no field for it in Qwen2 (always true there). */
  attentionBias: boolean;
}

export interface HfConfigResult {
  config: ModelConfig;
  /** True when a `linewise` block says the checkpoint has a scalar head. */
  scalarHead: boolean;
  /** `torch_dtype` when given (informative: tensors are converted per their safetensors dtype). */
  torchDtype?: string;
  /** The `linewise` block, when the checkpoint was written by `saveCheckpoint`. */
  linewise?: LinewiseConfigBlock;
}

export const HF_MODEL_TYPES: readonly Architecture[] = ['gpt2', 'llama', 'qwen2'];

const HF_ARCHITECTURE: Record<Architecture, string> = {
  gpt2: 'GPT2LMHeadModel',
  llama: 'LlamaForCausalLM',
  qwen2: 'Qwen2ForCausalLM',
};

/** `ModelConfig` field -> the HF field it comes from, per family (for error messages). */
const HF_FIELD: Record<Architecture, Partial<Record<keyof ModelConfig, string>>> = {
  gpt2: {
    vocabSize: 'vocab_size',
    hiddenSize: 'n_embd',
    numLayers: 'n_layer',
    numHeads: 'n_head',
    numKvHeads: 'n_head',
    headDim: 'n_head',
    intermediateSize: 'n_inner',
    maxPositions: 'n_positions',
    normEpsilon: 'layer_norm_epsilon',
    tieWordEmbeddings: 'tie_word_embeddings',
    bosTokenId: 'bos_token_id',
    eosTokenId: 'eos_token_id',
  },
  llama: {
    vocabSize: 'vocab_size',
    hiddenSize: 'hidden_size',
    numLayers: 'num_hidden_layers',
    numHeads: 'num_attention_heads',
    numKvHeads: 'num_key_value_heads',
    headDim: 'head_dim',
    intermediateSize: 'intermediate_size',
    maxPositions: 'max_position_embeddings',
    normEpsilon: 'rms_norm_eps',
    ropeTheta: 'rope_theta',
    tieWordEmbeddings: 'tie_word_embeddings',
    attentionBias: 'attention_bias',
    bosTokenId: 'bos_token_id',
    eosTokenId: 'eos_token_id',
  },
  qwen2: {},
};
HF_FIELD.qwen2 = { ...HF_FIELD.llama, attentionBias: 'linewise.attentionBias' };

type Json = Record<string, unknown>;

class Fields {
  constructor(
    readonly json: Json,
    readonly file: string,
  ) {}

  private present(key: string): boolean {
    return this.json[key] !== undefined && this.json[key] !== null;
  }

  int(key: string, fallback?: number): number {
    if (!this.present(key)) {
      if (fallback !== undefined) return fallback;
      throw new HfConfigError(this.file, key, 'required field is missing');
    }
    const v = this.json[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
      throw new HfConfigError(this.file, key, `must be a positive integer, got ${JSON.stringify(v)}`);
    }
    return v;
  }

  num(key: string, fallback: number): number {
    if (!this.present(key)) return fallback;
    const v = this.json[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
      throw new HfConfigError(this.file, key, `must be a positive number, got ${JSON.stringify(v)}`);
    }
    return v;
  }

  bool(key: string, fallback: boolean): boolean {
    if (!this.present(key)) return fallback;
    const v = this.json[key];
    if (typeof v !== 'boolean')
      throw new HfConfigError(this.file, key, `must be a boolean, got ${JSON.stringify(v)}`);
    return v;
  }

  str(key: string, fallback: string): string {
    if (!this.present(key)) return fallback;
    const v = this.json[key];
    if (typeof v !== 'string')
      throw new HfConfigError(this.file, key, `must be a string, got ${JSON.stringify(v)}`);
    return v;
  }

  tokenId(key: string): number | undefined {
    if (!this.present(key)) return undefined;
    const v = this.json[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
      throw new HfConfigError(this.file, key, `must be a non-negative integer, got ${JSON.stringify(v)}`);
    }
    return v;
  }

  tokenIds(key: string): number | number[] | undefined {
    if (!this.present(key)) return undefined;
    const v = this.json[key];
    if (Array.isArray(v)) {
      if (!v.every((x) => typeof x === 'number' && Number.isInteger(x) && x >= 0)) {
        throw new HfConfigError(this.file, key, `must be non-negative integers, got ${JSON.stringify(v)}`);
      }
      return v.length === 1 ? (v[0] as number) : (v as number[]);
    }
    return this.tokenId(key);
  }

  /** Throws unless the field is absent, null or one of `allowed`. */
  only(key: string, allowed: readonly unknown[], why: string): void {
    if (!this.present(key)) return;
    if (!allowed.includes(this.json[key])) {
      throw new HfConfigError(this.file, key, `${JSON.stringify(this.json[key])} is not supported: ${why}`);
    }
  }
}

function parseLinewise(json: Json, file: string): LinewiseConfigBlock | undefined {
  const block = json.linewise;
  if (block === undefined || block === null) return undefined;
  if (typeof block !== 'object' || Array.isArray(block)) {
    throw new HfConfigError(file, 'linewise', 'must be an object');
  }
  const b = block as Json;
  if (b.format !== 1) {
    throw new HfConfigError(
      file,
      'linewise.format',
      `unsupported format ${JSON.stringify(b.format)} (expected 1)`,
    );
  }
  for (const key of ['scalarHead', 'attentionBias'] as const) {
    if (typeof b[key] !== 'boolean') {
      throw new HfConfigError(file, `linewise.${key}`, `must be a boolean, got ${JSON.stringify(b[key])}`);
    }
  }
  return { format: 1, scalarHead: b.scalarHead as boolean, attentionBias: b.attentionBias as boolean };
}

/**
 * Maps a parsed HF `config.json` to a validated `ModelConfig`. `file` is the path errors name.
 * Throws `HfConfigError` naming the HF field for a missing, mistyped, inconsistent or unsupported value.
 */
export function configFromHf(json: unknown, file = 'config.json'): HfConfigResult {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new HfConfigError(file, '(root)', 'config.json must hold a JSON object');
  }
  const raw = json as Json;
  const f = new Fields(raw, file);
  if (raw.model_type === undefined || raw.model_type === null) {
    throw new HfConfigError(
      file,
      'model_type',
      `required field is missing (supported: ${HF_MODEL_TYPES.join(', ')})`,
    );
  }
  const modelType = raw.model_type;
  if (typeof modelType !== 'string' || !(HF_MODEL_TYPES as readonly string[]).includes(modelType)) {
    throw new HfConfigError(
      file,
      'model_type',
      `unsupported model_type ${JSON.stringify(modelType)} (supported: ${HF_MODEL_TYPES.join(', ')})`,
    );
  }
  const architecture = modelType as Architecture;
  const linewise = parseLinewise(raw, file);
  let input: Omit<ModelConfig, 'architecture'>;
  if (architecture === 'gpt2') {
    f.only(
      'activation_function',
      ['gelu_new', 'gelu_pytorch_tanh'],
      'GPT-2 here uses the tanh GELU (gelu_new)',
    );
    f.only('scale_attn_weights', [true], 'attention scores are always scaled by 1/sqrt(head_dim)');
    f.only('scale_attn_by_inverse_layer_idx', [false], 'per-layer attention scaling is not implemented');
    f.only('add_cross_attention', [false], 'encoder-decoder cross-attention is not implemented');
    const hidden = f.int('n_embd');
    const heads = f.int('n_head');
    const nInner = f.int('n_inner', 4 * hidden);
    input = {
      vocabSize: f.int('vocab_size'),
      hiddenSize: hidden,
      numLayers: f.int('n_layer'),
      numHeads: heads,
      numKvHeads: heads,
      headDim: hidden / heads,
      intermediateSize: nInner,
      maxPositions: f.int('n_positions'),
      normEpsilon: f.num('layer_norm_epsilon', 1e-5),
      ropeTheta: 10000,
      tieWordEmbeddings: f.bool('tie_word_embeddings', true),
      attentionBias: true,
    };
    if (!Number.isInteger(hidden / heads)) {
      throw new HfConfigError(file, 'n_head', `n_embd ${hidden} is not divisible by n_head ${heads}`);
    }
  } else {
    f.only('hidden_act', ['silu'], 'the MLP is SwiGLU with SiLU');
    if (raw.rope_scaling !== undefined && raw.rope_scaling !== null) {
      const type = (raw.rope_scaling as Json)?.rope_type ?? (raw.rope_scaling as Json)?.type;
      if (type !== 'default') {
        throw new HfConfigError(
          file,
          'rope_scaling',
          `${JSON.stringify(raw.rope_scaling)} is not supported: only plain RoPE (rope_scaling null) is implemented`,
        );
      }
    }
    f.only('mlp_bias', [false], 'MLP projections have no biases here');
    if (architecture === 'qwen2') {
      f.only('use_sliding_window', [false], 'sliding-window attention is not implemented');
    }
    const hidden = f.int('hidden_size');
    const heads = f.int('num_attention_heads');
    const headDim = f.int('head_dim', hidden / heads);
    if (!Number.isInteger(headDim)) {
      throw new HfConfigError(
        file,
        'num_attention_heads',
        `hidden_size ${hidden} is not divisible by num_attention_heads ${heads} and no head_dim is given`,
      );
    }
    const attentionBias =
      linewise?.attentionBias ?? (architecture === 'qwen2' ? true : f.bool('attention_bias', false));
    if (architecture === 'llama') f.bool('attention_bias', false);
    input = {
      vocabSize: f.int('vocab_size'),
      hiddenSize: hidden,
      numLayers: f.int('num_hidden_layers'),
      numHeads: heads,
      numKvHeads: f.int('num_key_value_heads', heads),
      headDim,
      intermediateSize: f.int('intermediate_size'),
      maxPositions: f.int('max_position_embeddings', architecture === 'llama' ? 2048 : 32768),
      normEpsilon: f.num('rms_norm_eps', 1e-6),
      ropeTheta: f.num('rope_theta', 10000),
      tieWordEmbeddings: f.bool('tie_word_embeddings', false),
      attentionBias,
    };
  }
  const bos = f.tokenId('bos_token_id');
  const eos = f.tokenIds('eos_token_id');
  if (bos !== undefined && bos < input.vocabSize) input.bosTokenId = bos;
  if (eos !== undefined) {
    const ids = (Array.isArray(eos) ? eos : [eos]).filter((id) => id < input.vocabSize);
    if (ids.length > 0) input.eosTokenId = ids.length === 1 ? (ids[0] as number) : ids;
  }
  let config: ModelConfig;
  try {
    config = resolveConfig({ architecture, ...input });
  } catch (err) {
    if (err instanceof ModelConfigError) {
      const hfField = HF_FIELD[architecture][err.field as keyof ModelConfig] ?? err.field;
      throw new HfConfigError(file, hfField, err.message);
    }
    throw err;
  }
  // An explicit null means "no such token" in HF; only an absent field takes the class default.
  if (raw.bos_token_id === null) delete config.bosTokenId;
  if (raw.eos_token_id === null) delete config.eosTokenId;
  const result: HfConfigResult = { config, scalarHead: linewise?.scalarHead ?? false };
  if (typeof raw.torch_dtype === 'string') result.torchDtype = raw.torch_dtype;
  if (linewise !== undefined) result.linewise = linewise;
  return result;
}

export interface ConfigToHfOptions {
  /** Record a scalar head in the `linewise` block. */
  scalarHead?: boolean;
  /** `torch_dtype` to write (default `float32`, what `saveCheckpoint` stores). */
  torchDtype?: string;
}

/** A config.json object for `config`, loadable by transformers (`AutoConfig`) and by `configFromHf`. */
export function configToHf(config: ModelConfig, options: ConfigToHfOptions = {}): Record<string, unknown> {
  const out: Record<string, unknown> = {
    architectures: [HF_ARCHITECTURE[config.architecture]],
    model_type: config.architecture,
    vocab_size: config.vocabSize,
  };
  if (config.architecture === 'gpt2') {
    Object.assign(out, {
      n_embd: config.hiddenSize,
      n_layer: config.numLayers,
      n_head: config.numHeads,
      n_inner: config.intermediateSize,
      n_positions: config.maxPositions,
      n_ctx: config.maxPositions,
      layer_norm_epsilon: config.normEpsilon,
      activation_function: 'gelu_new',
      scale_attn_weights: true,
      scale_attn_by_inverse_layer_idx: false,
      reorder_and_upcast_attn: false,
    });
  } else {
    Object.assign(out, {
      hidden_size: config.hiddenSize,
      num_hidden_layers: config.numLayers,
      num_attention_heads: config.numHeads,
      num_key_value_heads: config.numKvHeads,
      head_dim: config.headDim,
      intermediate_size: config.intermediateSize,
      max_position_embeddings: config.maxPositions,
      rms_norm_eps: config.normEpsilon,
      rope_theta: config.ropeTheta,
      rope_scaling: null,
      hidden_act: 'silu',
    });
    if (config.architecture === 'llama')
      Object.assign(out, { attention_bias: config.attentionBias, mlp_bias: false });
    else Object.assign(out, { use_sliding_window: false });
  }
  out.tie_word_embeddings = config.tieWordEmbeddings;
  if (config.bosTokenId !== undefined) out.bos_token_id = config.bosTokenId;
  if (config.eosTokenId !== undefined) {
    out.eos_token_id = Array.isArray(config.eosTokenId) ? [...config.eosTokenId] : config.eosTokenId;
  }
  out.torch_dtype = options.torchDtype ?? 'float32';
  const linewise: LinewiseConfigBlock = {
    format: 1,
    scalarHead: options.scalarHead ?? false,
    attentionBias: config.attentionBias,
  };
  out.linewise = linewise;
  return out;
}
