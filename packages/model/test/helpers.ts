import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend } from '@linewise/kernels';
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import {
  configFromHf,
  decodeSafetensors,
  gpt2Config,
  llamaConfig,
  type ModelConfig,
  ModelError,
  qwen2Config,
} from '../src/index.ts';

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

/** Runs `fn`, expects it to throw an instance of `cls` (a `ModelError`), returns the error. */
export async function caught<T extends Error>(
  cls: new (...args: never[]) => T,
  fn: () => unknown,
): Promise<T> {
  try {
    await fn();
  } catch (err) {
    if (!(err instanceof cls)) throw err;
    expect(err).toBeInstanceOf(ModelError);
    return err;
  }
  throw new Error(`expected ${cls.name} to be thrown`);
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
  const { config } = configFromHf(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')));
  const reference = JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8'));
  const weights = new Map<string, tf.Tensor>();
  for (const [name, t] of decodeSafetensors(readFileSync(join(dir, 'model.safetensors'))).tensors) {
    if (!name.endsWith('rotary_emb.inv_freq')) weights.set(name, tf.tensor(t.data, t.shape, t.dtype));
  }
  return { config, weights, tokens: reference.tokens, logits: reference.logits };
}
