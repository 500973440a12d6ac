import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend } from '@linewise/kernels';
import * as tf from '@tensorflow/tfjs-core';
import { gpt2Config, llamaConfig, type ModelConfig, qwen2Config } from '../src/index.ts';

export async function useBackend(backend: 'wasm' | 'cpu'): Promise<void> {
  await initBackend({ backend });
}

/** Tiny configurations of each architecture for fast tests. */
export const TINY: Record<string, ModelConfig> = {
  gpt2: gpt2Config({
    vocabSize: 61,
    hiddenSize: 32,
    numLayers: 2,
    numHeads: 4,
    maxPositions: 64,
    eosTokenId: 0,
  }),
  llama: llamaConfig({
    vocabSize: 61,
    hiddenSize: 32,
    numLayers: 2,
    numHeads: 4,
    numKvHeads: 2,
    intermediateSize: 48,
    maxPositions: 64,
    eosTokenId: 0,
  }),
  qwen2: qwen2Config({
    vocabSize: 61,
    hiddenSize: 48,
    numLayers: 2,
    numHeads: 6,
    numKvHeads: 2,
    intermediateSize: 64,
    maxPositions: 64,
    ropeTheta: 1e6,
    tieWordEmbeddings: true,
    eosTokenId: [0, 1],
  }),
};

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs((a[i] as number) - (b[i] as number)));
  return max;
}

export function randomTokens(rows: number, cols: number, vocab: number, seed: number): number[][] {
  let x = seed * 2654435761 + 1;
  const next = () => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return x >>> 8;
  };
  return Array.from({ length: rows }, () => Array.from({ length: cols }, () => next() % vocab));
}

export function numTensors(): number {
  return tf.memory().numTensors;
}

/** Reads a float32-only safetensors file (test fixtures) into tensors, skipping `skip` names. */
export function readF32Safetensors(
  path: string,
  skip: (name: string) => boolean = () => false,
): Map<string, tf.Tensor> {
  const bytes = readFileSync(path);
  const headerLength = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8')) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  >;
  const base = 8 + headerLength;
  const out = new Map<string, tf.Tensor>();
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__' || skip(name)) continue;
    if (entry.dtype !== 'F32') throw new Error(`${name}: fixture reader handles F32 only`);
    const [start, end] = entry.data_offsets;
    const copy = new Uint8Array(bytes.subarray(base + start, base + end));
    out.set(name, tf.tensor(new Float32Array(copy.buffer), entry.shape, 'float32'));
  }
  return out;
}

/** A ModelConfig from an HF config.json (just what the fixtures use). */
export function configFromHf(json: Record<string, unknown>): ModelConfig {
  const n = (key: string) => json[key] as number;
  if (json.model_type === 'gpt2') {
    return gpt2Config({
      vocabSize: n('vocab_size'),
      hiddenSize: n('n_embd'),
      numLayers: n('n_layer'),
      numHeads: n('n_head'),
      maxPositions: n('n_positions'),
      normEpsilon: n('layer_norm_epsilon'),
      eosTokenId: n('eos_token_id'),
      bosTokenId: n('bos_token_id'),
    });
  }
  const build = json.model_type === 'llama' ? llamaConfig : qwen2Config;
  return build({
    vocabSize: n('vocab_size'),
    hiddenSize: n('hidden_size'),
    numLayers: n('num_hidden_layers'),
    numHeads: n('num_attention_heads'),
    numKvHeads: n('num_key_value_heads'),
    intermediateSize: n('intermediate_size'),
    maxPositions: n('max_position_embeddings'),
    normEpsilon: n('rms_norm_eps'),
    ropeTheta: n('rope_theta'),
    tieWordEmbeddings: json.tie_word_embeddings as boolean,
    attentionBias: json.model_type === 'qwen2' ? true : (json.attention_bias as boolean),
    eosTokenId: n('eos_token_id'),
    bosTokenId: n('bos_token_id'),
  });
}

export interface Fixture {
  config: ModelConfig;
  weights: Map<string, tf.Tensor>;
  tokens: number[][];
  logits: number[][][];
}

/** A tiny HF checkpoint with reference logits computed by PyTorch/transformers (see reference.json). */
export function loadFixture(name: string): Fixture {
  const dir = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', name);
  const config = configFromHf(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')));
  const reference = JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8'));
  const weights = readF32Safetensors(join(dir, 'model.safetensors'), (n) =>
    n.endsWith('rotary_emb.inv_freq'),
  );
  return { config, weights, tokens: reference.tokens, logits: reference.logits };
}
