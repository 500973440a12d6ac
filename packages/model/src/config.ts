import { ModelConfigError } from './errors.ts';

/** The decoder-only families this package implements, named after their Hugging Face `model_type`. */
export type Architecture = 'gpt2' | 'llama' | 'qwen2';

export const ARCHITECTURES: readonly Architecture[] = ['gpt2', 'llama', 'qwen2'];

/**
 * A complete, validated model configuration. Build one with `resolveConfig` or one of the presets
 * (`gpt2Config`, `llamaConfig`, `qwen2Config`), which fill defaults and validate.
 */
export interface ModelConfig {
  architecture: Architecture;
  vocabSize: number;
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  /** Key/value heads (grouped-query attention); equals `numHeads` for gpt2. */
  numKvHeads: number;
  /** Size of one attention head; `hiddenSize / numHeads` unless given (llama/qwen2 only). */
  headDim: number;
  /** MLP width (gpt2 `n_inner`, default 4 * hiddenSize). */
  intermediateSize: number;
  /** Longest sequence (prompt + generated tokens); the size of gpt2's position table. */
  maxPositions: number;
  /** LayerNorm epsilon (gpt2) or RMSNorm epsilon (llama/qwen2). */
  normEpsilon: number;
  /** RoPE base (llama/qwen2; ignored by gpt2). */
  ropeTheta: number;
  /** The LM head reuses the token embedding (no `lm_head.weight` stored). */
  tieWordEmbeddings: boolean;
  /**
   * gpt2: every linear layer has a bias (must be true). qwen2: q/k/v projections have biases (default true).
   * llama: q/k/v/o projections have biases (HF `attention_bias`, default false).
   */
  attentionBias: boolean;
  bosTokenId?: number;
  eosTokenId?: number | number[];
}

/** What `resolveConfig` accepts: the architecture and any fields to override; the rest are defaults. */
export type ModelConfigInput = { architecture: Architecture } & Partial<Omit<ModelConfig, 'architecture'>>;

/** Hugging Face defaults per architecture (`GPT2Config()`, `LlamaConfig()`, `Qwen2Config()`). */
const DEFAULTS: Record<Architecture, Omit<ModelConfig, 'architecture' | 'headDim' | 'intermediateSize'>> = {
  gpt2: {
    vocabSize: 50257,
    hiddenSize: 768,
    numLayers: 12,
    numHeads: 12,
    numKvHeads: 12,
    maxPositions: 1024,
    normEpsilon: 1e-5,
    ropeTheta: 10000,
    tieWordEmbeddings: true,
    attentionBias: true,
    bosTokenId: 50256,
    eosTokenId: 50256,
  },
  llama: {
    vocabSize: 32000,
    hiddenSize: 4096,
    numLayers: 32,
    numHeads: 32,
    numKvHeads: 32,
    maxPositions: 2048,
    normEpsilon: 1e-6,
    ropeTheta: 10000,
    tieWordEmbeddings: false,
    attentionBias: false,
    bosTokenId: 1,
    eosTokenId: 2,
  },
  qwen2: {
    vocabSize: 151936,
    hiddenSize: 4096,
    numLayers: 32,
    numHeads: 32,
    numKvHeads: 32,
    maxPositions: 32768,
    normEpsilon: 1e-6,
    ropeTheta: 10000,
    tieWordEmbeddings: false,
    attentionBias: true,
  },
};

const DEFAULT_INTERMEDIATE: Record<Architecture, (hidden: number) => number> = {
  gpt2: (hidden) => 4 * hidden,
  // LlamaConfig() pairs 4096 with 11008 and Qwen2Config() with 22016; scale by the same ratios.
  llama: (hidden) => Math.round((hidden * 11008) / 4096),
  qwen2: (hidden) => Math.round((hidden * 22016) / 4096),
};

/**
 * Fills the architecture's defaults into `input` and validates the result.
 * Throws `ModelConfigError` naming the first invalid field.
 */
export function resolveConfig(input: ModelConfigInput): ModelConfig {
  if (input === null || typeof input !== 'object') {
    throw new ModelConfigError('architecture', 'config must be an object');
  }
  const architecture = input.architecture;
  if (!ARCHITECTURES.includes(architecture)) {
    throw new ModelConfigError(
      'architecture',
      `unknown architecture '${String(architecture)}' (${ARCHITECTURES.join(', ')})`,
    );
  }
  const defaults = DEFAULTS[architecture];
  // `undefined` fields fall back to defaults, as if absent.
  const given = Object.fromEntries(Object.entries(input).filter(([, value]) => value !== undefined));
  const merged = { ...defaults, ...given } as ModelConfig;
  if (given.numKvHeads === undefined) merged.numKvHeads = merged.numHeads;
  if (given.headDim === undefined) {
    if (Number.isInteger(merged.hiddenSize) && Number.isInteger(merged.numHeads) && merged.numHeads > 0) {
      if (merged.hiddenSize % merged.numHeads !== 0) {
        throw new ModelConfigError(
          'numHeads',
          `hiddenSize ${merged.hiddenSize} is not divisible by numHeads ${merged.numHeads} (give headDim explicitly)`,
        );
      }
    }
    merged.headDim = merged.hiddenSize / merged.numHeads;
  }
  if (given.intermediateSize === undefined && Number.isInteger(merged.hiddenSize)) {
    merged.intermediateSize = DEFAULT_INTERMEDIATE[architecture](merged.hiddenSize);
  }
  // A default special-token id from the HF default vocabulary means nothing in a smaller vocabulary.
  if (
    given.eosTokenId === undefined &&
    typeof merged.eosTokenId === 'number' &&
    merged.eosTokenId >= merged.vocabSize
  ) {
    delete merged.eosTokenId;
  }
  if (
    given.bosTokenId === undefined &&
    merged.bosTokenId !== undefined &&
    merged.bosTokenId >= merged.vocabSize
  ) {
    delete merged.bosTokenId;
  }
  validateConfig(merged);
  return merged;
}

/** GPT-2 (`GPT2LMHeadModel`): learned positions, LayerNorm, GELU-tanh MLP, tied LM head. */
export function gpt2Config(overrides: Partial<Omit<ModelConfig, 'architecture'>> = {}): ModelConfig {
  return resolveConfig({ ...overrides, architecture: 'gpt2' });
}

/** Llama (`LlamaForCausalLM`): RoPE, RMSNorm, SwiGLU MLP, grouped-query attention. */
export function llamaConfig(overrides: Partial<Omit<ModelConfig, 'architecture'>> = {}): ModelConfig {
  return resolveConfig({ ...overrides, architecture: 'llama' });
}

/** Qwen2 / Qwen2.5 (`Qwen2ForCausalLM`): Llama with q/k/v biases. */
export function qwen2Config(overrides: Partial<Omit<ModelConfig, 'architecture'>> = {}): ModelConfig {
  return resolveConfig({ ...overrides, architecture: 'qwen2' });
}

function positiveInteger(config: ModelConfig, field: keyof ModelConfig): number {
  const value = config[field];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new ModelConfigError(field, `must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

function tokenId(config: ModelConfig, field: 'bosTokenId' | 'eosTokenId', value: unknown): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value >= config.vocabSize) {
    throw new ModelConfigError(
      field,
      `token id must be an integer in [0, vocabSize=${config.vocabSize}), got ${JSON.stringify(value)}`,
    );
  }
}

/**
 * Checks a complete configuration; throws `ModelConfigError` naming the first invalid field.
 * Use `resolveConfig` to fill defaults first.
 */
export function validateConfig(config: ModelConfig): void {
  if (config === null || typeof config !== 'object') {
    throw new ModelConfigError('architecture', 'config must be an object');
  }
  if (!ARCHITECTURES.includes(config.architecture)) {
    throw new ModelConfigError(
      'architecture',
      `unknown architecture '${String(config.architecture)}' (${ARCHITECTURES.join(', ')})`,
    );
  }
  for (const field of [
    'vocabSize',
    'hiddenSize',
    'numLayers',
    'numHeads',
    'numKvHeads',
    'headDim',
    'intermediateSize',
    'maxPositions',
  ] as const) {
    positiveInteger(config, field);
  }
  const { architecture, hiddenSize, numHeads, numKvHeads, headDim } = config;
  if (architecture === 'gpt2') {
    if (hiddenSize % numHeads !== 0) {
      throw new ModelConfigError(
        'numHeads',
        `hiddenSize ${hiddenSize} is not divisible by numHeads ${numHeads}`,
      );
    }
    if (headDim * numHeads !== hiddenSize) {
      throw new ModelConfigError(
        'headDim',
        `gpt2 needs headDim = hiddenSize / numHeads = ${hiddenSize / numHeads}`,
      );
    }
    if (numKvHeads !== numHeads) {
      throw new ModelConfigError(
        'numKvHeads',
        `gpt2 has no grouped-query attention: must equal numHeads ${numHeads}`,
      );
    }
    if (config.attentionBias !== true) {
      throw new ModelConfigError('attentionBias', 'gpt2 layers always have biases: must be true');
    }
  } else {
    if (numHeads % numKvHeads !== 0) {
      throw new ModelConfigError(
        'numKvHeads',
        `numHeads ${numHeads} is not a multiple of numKvHeads ${numKvHeads}`,
      );
    }
    if (headDim % 2 !== 0) {
      throw new ModelConfigError('headDim', `RoPE needs an even headDim, got ${headDim}`);
    }
  }
  if (
    typeof config.normEpsilon !== 'number' ||
    !(config.normEpsilon > 0) ||
    !Number.isFinite(config.normEpsilon)
  ) {
    throw new ModelConfigError(
      'normEpsilon',
      `must be a positive number, got ${JSON.stringify(config.normEpsilon)}`,
    );
  }
  if (typeof config.ropeTheta !== 'number' || !(config.ropeTheta > 0) || !Number.isFinite(config.ropeTheta)) {
    throw new ModelConfigError(
      'ropeTheta',
      `must be a positive number, got ${JSON.stringify(config.ropeTheta)}`,
    );
  }
  if (typeof config.tieWordEmbeddings !== 'boolean') {
    throw new ModelConfigError('tieWordEmbeddings', 'must be a boolean');
  }
  if (typeof config.attentionBias !== 'boolean') {
    throw new ModelConfigError('attentionBias', 'must be a boolean');
  }
  if (config.bosTokenId !== undefined) tokenId(config, 'bosTokenId', config.bosTokenId);
  if (config.eosTokenId !== undefined) {
    const ids = Array.isArray(config.eosTokenId) ? config.eosTokenId : [config.eosTokenId];
    for (const id of ids) tokenId(config, 'eosTokenId', id);
  }
}

/** The EOS ids of a configuration as a list (empty when none). */
export function eosIds(config: ModelConfig): number[] {
  if (config.eosTokenId === undefined) return [];
  return Array.isArray(config.eosTokenId) ? [...config.eosTokenId] : [config.eosTokenId];
}
