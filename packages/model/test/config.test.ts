import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  expectedWeightShapes,
  gpt2Config,
  llamaConfig,
  type ModelConfig,
  ModelConfigError,
  qwen2Config,
  resolveConfig,
  TransformerModel,
  WeightsError,
} from '../src/index.ts';
import { TINY, useBackend } from './helpers.ts';

beforeAll(async () => {
  await useBackend('wasm');
});

function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ModelConfigError);
    return (error as ModelConfigError).field;
  }
  return undefined;
}

describe('config', () => {
  test('presets fill Hugging Face defaults', () => {
    const gpt2 = gpt2Config();
    expect(gpt2).toMatchObject({
      vocabSize: 50257,
      hiddenSize: 768,
      numLayers: 12,
      numHeads: 12,
      numKvHeads: 12,
    });
    expect(gpt2).toMatchObject({
      headDim: 64,
      intermediateSize: 3072,
      maxPositions: 1024,
      tieWordEmbeddings: true,
    });
    expect(gpt2.eosTokenId).toBe(50256);
    const llama = llamaConfig({ hiddenSize: 256, numHeads: 8, numKvHeads: 2, vocabSize: 512 });
    expect(llama).toMatchObject({
      headDim: 32,
      numKvHeads: 2,
      attentionBias: false,
      tieWordEmbeddings: false,
    });
    expect(llama.eosTokenId).toBe(2);
    const qwen = qwen2Config({ hiddenSize: 64, numHeads: 4 });
    expect(qwen).toMatchObject({ attentionBias: true, headDim: 16, normEpsilon: 1e-6, vocabSize: 151936 });
    // A default special-token id outside a small custom vocabulary is dropped, not kept invalid.
    expect(gpt2Config({ vocabSize: 100 }).eosTokenId).toBeUndefined();
    // An explicit headDim (llama allows hd * heads != hidden).
    expect(llamaConfig({ hiddenSize: 64, numHeads: 4, headDim: 32 }).headDim).toBe(32);
  });

  test('validation errors name the field', () => {
    expect(fieldOf(() => resolveConfig({ architecture: 'bert' as never }))).toBe('architecture');
    expect(fieldOf(() => gpt2Config({ vocabSize: 0 }))).toBe('vocabSize');
    expect(fieldOf(() => gpt2Config({ hiddenSize: 10.5 }))).toBe('hiddenSize');
    expect(fieldOf(() => gpt2Config({ numLayers: -1 }))).toBe('numLayers');
    expect(fieldOf(() => gpt2Config({ hiddenSize: 30, numHeads: 4 }))).toBe('numHeads');
    expect(fieldOf(() => gpt2Config({ numKvHeads: 4 }))).toBe('numKvHeads');
    expect(fieldOf(() => gpt2Config({ attentionBias: false }))).toBe('attentionBias');
    expect(fieldOf(() => llamaConfig({ numHeads: 32, numKvHeads: 5 }))).toBe('numKvHeads');
    expect(fieldOf(() => llamaConfig({ hiddenSize: 24, numHeads: 8 }))).toBe('headDim'); // odd head size
    expect(fieldOf(() => llamaConfig({ normEpsilon: 0 }))).toBe('normEpsilon');
    expect(fieldOf(() => qwen2Config({ ropeTheta: -1 }))).toBe('ropeTheta');
    expect(fieldOf(() => qwen2Config({ maxPositions: 0 }))).toBe('maxPositions');
    expect(fieldOf(() => qwen2Config({ intermediateSize: 0 }))).toBe('intermediateSize');
    expect(fieldOf(() => llamaConfig({ vocabSize: 10, eosTokenId: 10 }))).toBe('eosTokenId');
    expect(fieldOf(() => llamaConfig({ vocabSize: 10, eosTokenId: [1, -1] }))).toBe('eosTokenId');
    expect(fieldOf(() => llamaConfig({ vocabSize: 10, bosTokenId: 1.5 }))).toBe('bosTokenId');
    expect(fieldOf(() => llamaConfig({ tieWordEmbeddings: 'yes' as never }))).toBe('tieWordEmbeddings');
    // create() validates a hand-built config too.
    const broken = { ...TINY.llama, numKvHeads: 3 } as ModelConfig;
    expect(fieldOf(() => TransformerModel.create(broken))).toBe('numKvHeads');
  });
});

describe('weights', () => {
  const models: TransformerModel[] = [];
  afterAll(() => {
    for (const m of models) m.dispose();
  });

  test('expectedWeightShapes uses HF names and layouts', () => {
    const gpt2 = expectedWeightShapes(
      gpt2Config({ vocabSize: 100, hiddenSize: 16, numLayers: 2, numHeads: 2 }),
    );
    expect(gpt2.get('transformer.wte.weight')).toEqual([100, 16]);
    expect(gpt2.get('transformer.wpe.weight')).toEqual([1024, 16]);
    expect(gpt2.get('transformer.h.1.attn.c_attn.weight')).toEqual([16, 48]);
    expect(gpt2.get('transformer.h.1.mlp.c_fc.weight')).toEqual([16, 64]);
    expect(gpt2.get('transformer.h.1.mlp.c_proj.weight')).toEqual([64, 16]);
    expect(gpt2.has('lm_head.weight')).toBe(false);
    expect(gpt2.size).toBe(2 + 12 * 2 + 2);

    const llama = llamaConfig({
      vocabSize: 100,
      hiddenSize: 32,
      numLayers: 1,
      numHeads: 4,
      numKvHeads: 2,
      intermediateSize: 40,
    });
    const shapes = expectedWeightShapes(llama, { scalarHead: true });
    expect(shapes.get('model.layers.0.self_attn.q_proj.weight')).toEqual([32, 32]);
    expect(shapes.get('model.layers.0.self_attn.k_proj.weight')).toEqual([16, 32]);
    expect(shapes.get('model.layers.0.self_attn.o_proj.weight')).toEqual([32, 32]);
    expect(shapes.get('model.layers.0.mlp.down_proj.weight')).toEqual([32, 40]);
    expect(shapes.get('lm_head.weight')).toEqual([100, 32]);
    expect(shapes.get('score.weight')).toEqual([1, 32]);
    expect(shapes.get('score.bias')).toEqual([1]);
    expect(shapes.has('model.layers.0.self_attn.q_proj.bias')).toBe(false);

    const qwen = expectedWeightShapes(TINY.qwen2 as ModelConfig);
    expect(qwen.get('model.layers.1.self_attn.k_proj.bias')).toEqual([16]);
    expect(qwen.has('model.layers.1.self_attn.o_proj.bias')).toBe(false);
    expect(qwen.has('lm_head.weight')).toBe(false); // tied
    const llamaBias = expectedWeightShapes({ ...llama, attentionBias: true });
    expect(llamaBias.get('model.layers.0.self_attn.o_proj.bias')).toEqual([32]); // HF attention_bias
  });

  test('model variables match expectedWeightShapes; numParameters counts them', () => {
    for (const config of Object.values(TINY)) {
      const model = TransformerModel.create(config, { seed: 3, scalarHead: true });
      models.push(model);
      const expected = expectedWeightShapes(config, { scalarHead: true });
      const vars = model.variables();
      expect([...vars.keys()]).toEqual([...expected.keys()]);
      let total = 0;
      for (const [name, shape] of expected) {
        expect(vars.get(name)?.shape).toEqual(shape);
        total += shape.reduce((a, b) => a * b, 1);
      }
      expect(model.numParameters()).toBe(total);
    }
  });

  test('fromWeights round-trips and refuses bad maps with WeightsError naming the tensor', () => {
    const config = TINY.llama as ModelConfig;
    const source = TransformerModel.create(config, { seed: 5 });
    models.push(source);
    const weights = new Map<string, tf.Tensor>(source.variables());
    const copy = TransformerModel.fromWeights(config, weights);
    models.push(copy);
    const tokens = [[1, 2, 3, 4]];
    const a = source.forward(tokens).logits;
    const b = copy.forward(tokens).logits;
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    tf.dispose([a, b]);

    const expectError = (map: Map<string, tf.Tensor>, tensor: string, reason: string, options = {}) => {
      try {
        TransformerModel.fromWeights(config, map, options);
      } catch (error) {
        expect(error).toBeInstanceOf(WeightsError);
        expect((error as WeightsError).tensor).toBe(tensor);
        expect((error as WeightsError).reason).toBe(reason);
        return error as WeightsError;
      }
      throw new Error('expected a WeightsError');
    };
    const missing = new Map(weights);
    missing.delete('model.layers.1.mlp.up_proj.weight');
    const e1 = expectError(missing, 'model.layers.1.mlp.up_proj.weight', 'missing');
    expect(e1.expected).toEqual([48, 32]);
    expect(e1.actual).toBeNull();

    const wrong = new Map(weights);
    const bad = tf.zeros([16, 31]);
    wrong.set('model.layers.0.self_attn.k_proj.weight', bad);
    const e2 = expectError(wrong, 'model.layers.0.self_attn.k_proj.weight', 'shape');
    expect(e2.expected).toEqual([16, 32]);
    expect(e2.actual).toEqual([16, 31]);

    const extra = new Map(weights);
    const buffer = tf.zeros([3]);
    extra.set('model.layers.0.self_attn.rotary_emb.inv_freq', buffer);
    expectError(extra, 'model.layers.0.self_attn.rotary_emb.inv_freq', 'unexpected');
    const tolerant = TransformerModel.fromWeights(config, extra, { allowUnexpected: true });
    models.push(tolerant);

    const ints = new Map(weights);
    const intTensor = tf.zeros([32], 'int32');
    ints.set('model.norm.weight', intTensor);
    expectError(ints, 'model.norm.weight', 'dtype');

    // A scalar head is expected when asked for, and detected when present.
    expectError(weights, 'score.weight', 'missing', { scalarHead: true });
    tf.dispose([bad, buffer, intTensor]);
  });
});
