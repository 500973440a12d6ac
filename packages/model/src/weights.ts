import type { ModelConfig } from './config.ts';
import { Rng } from './random.ts';

/** Options that change which weights a model holds. */
export interface WeightLayoutOptions {
  /** Include the scalar head (`score.weight [1, d]`, `score.bias [1]`) used by critics and PRMs. */
  scalarHead?: boolean;
}

/** Names of the scalar head's tensors. */
export const SCALAR_HEAD_WEIGHT = 'score.weight';
export const SCALAR_HEAD_BIAS = 'score.bias';

/**
 * Every tensor a model of `config` holds, by exact Hugging Face name, with its HF shape, in a stable order
 * (embeddings, layers in order, final norm, heads). GPT-2 linear weights use HF's Conv1D layout
 * `[in, out]`; Llama/Qwen2 weights use `nn.Linear`'s `[out, in]`. A tied LM head has no entry.
 */
export function expectedWeightShapes(
  config: ModelConfig,
  options: WeightLayoutOptions = {},
): Map<string, number[]> {
  const shapes = new Map<string, number[]>();
  const { vocabSize: V, hiddenSize: d, numLayers, intermediateSize: I } = config;
  if (config.architecture === 'gpt2') {
    shapes.set('transformer.wte.weight', [V, d]);
    shapes.set('transformer.wpe.weight', [config.maxPositions, d]);
    for (let i = 0; i < numLayers; i++) {
      const p = `transformer.h.${i}`;
      shapes.set(`${p}.ln_1.weight`, [d]);
      shapes.set(`${p}.ln_1.bias`, [d]);
      shapes.set(`${p}.attn.c_attn.weight`, [d, 3 * d]);
      shapes.set(`${p}.attn.c_attn.bias`, [3 * d]);
      shapes.set(`${p}.attn.c_proj.weight`, [d, d]);
      shapes.set(`${p}.attn.c_proj.bias`, [d]);
      shapes.set(`${p}.ln_2.weight`, [d]);
      shapes.set(`${p}.ln_2.bias`, [d]);
      shapes.set(`${p}.mlp.c_fc.weight`, [d, I]);
      shapes.set(`${p}.mlp.c_fc.bias`, [I]);
      shapes.set(`${p}.mlp.c_proj.weight`, [I, d]);
      shapes.set(`${p}.mlp.c_proj.bias`, [d]);
    }
    shapes.set('transformer.ln_f.weight', [d]);
    shapes.set('transformer.ln_f.bias', [d]);
  } else {
    const qDim = config.numHeads * config.headDim;
    const kvDim = config.numKvHeads * config.headDim;
    shapes.set('model.embed_tokens.weight', [V, d]);
    for (let i = 0; i < numLayers; i++) {
      const p = `model.layers.${i}`;
      shapes.set(`${p}.input_layernorm.weight`, [d]);
      shapes.set(`${p}.self_attn.q_proj.weight`, [qDim, d]);
      shapes.set(`${p}.self_attn.k_proj.weight`, [kvDim, d]);
      shapes.set(`${p}.self_attn.v_proj.weight`, [kvDim, d]);
      if (config.attentionBias) {
        shapes.set(`${p}.self_attn.q_proj.bias`, [qDim]);
        shapes.set(`${p}.self_attn.k_proj.bias`, [kvDim]);
        shapes.set(`${p}.self_attn.v_proj.bias`, [kvDim]);
      }
      shapes.set(`${p}.self_attn.o_proj.weight`, [d, qDim]);
      // HF Llama's `attention_bias` also gives o_proj a bias; Qwen2's o_proj never has one.
      if (config.attentionBias && config.architecture === 'llama')
        shapes.set(`${p}.self_attn.o_proj.bias`, [d]);
      shapes.set(`${p}.post_attention_layernorm.weight`, [d]);
      shapes.set(`${p}.mlp.gate_proj.weight`, [I, d]);
      shapes.set(`${p}.mlp.up_proj.weight`, [I, d]);
      shapes.set(`${p}.mlp.down_proj.weight`, [d, I]);
    }
    shapes.set('model.norm.weight', [d]);
  }
  if (!config.tieWordEmbeddings) shapes.set('lm_head.weight', [V, d]);
  if (options.scalarHead) {
    shapes.set(SCALAR_HEAD_WEIGHT, [1, d]);
    shapes.set(SCALAR_HEAD_BIAS, [1]);
  }
  return shapes;
}

/** Name of the token-embedding table (also the LM head when tied). */
export function embeddingName(config: ModelConfig): string {
  return config.architecture === 'gpt2' ? 'transformer.wte.weight' : 'model.embed_tokens.weight';
}

/** Standard deviation of the GPT-2-style initialisation. */
export const INIT_STD = 0.02;

/**
 * Initial values for one tensor, GPT-2 style: norm weights 1, biases 0, other weights normal(0, 0.02),
 * residual output projections (`c_proj`, `o_proj`, `down_proj`) normal(0, 0.02 / sqrt(2 * numLayers))
 * as in GPT-2. Deterministic given the generator state.
 */
export function initialValues(config: ModelConfig, name: string, shape: number[], rng: Rng): Float32Array {
  const size = shape.reduce((a, b) => a * b, 1);
  const isBias = name.endsWith('.bias');
  const isNorm = /(ln_1|ln_2|ln_f|layernorm|norm)\.weight$/.test(name);
  if (isNorm) return new Float32Array(size).fill(1);
  if (isBias) return new Float32Array(size);
  const residual = /(attn\.c_proj|mlp\.c_proj|o_proj|down_proj)\.weight$/.test(name);
  const std = residual ? INIT_STD / Math.sqrt(2 * config.numLayers) : INIT_STD;
  return rng.normalArray(size, std);
}

/**
 * Initial values of every tensor in `expectedWeightShapes` order. The backbone comes from stream 0 of
 * `seed` and the scalar head from stream 1, so a head added later with the same seed (`addScalarHead`)
 * gets the same values as one created with the model.
 */
export function initialWeights(
  config: ModelConfig,
  options: WeightLayoutOptions & { seed: number },
): Map<string, { shape: number[]; values: Float32Array }> {
  const backbone = new Rng(options.seed, 0);
  const head = new Rng(options.seed, 1);
  const out = new Map<string, { shape: number[]; values: Float32Array }>();
  for (const [name, shape] of expectedWeightShapes(config, options)) {
    const rng = name === SCALAR_HEAD_WEIGHT || name === SCALAR_HEAD_BIAS ? head : backbone;
    out.set(name, { shape, values: initialValues(config, name, shape, rng) });
  }
  return out;
}
