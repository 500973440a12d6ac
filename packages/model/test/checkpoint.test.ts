import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '@linewise/kernels';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importHf, loadCheckpoint, saveCheckpoint } from '../src/checkpoint.ts';
import { gpt2Config, llamaConfig, type ModelConfig, qwen2Config } from '../src/config.ts';
import { HfConfigError, WeightsError } from '../src/errors.ts';
import { configFromHf, configToHf } from '../src/hf-config.ts';
import { TransformerModel } from '../src/model.ts';
import { decodeSafetensors, encodeSafetensors, SafetensorsReader } from '../src/safetensors.ts';
import { expectedWeightShapes } from '../src/weights.ts';
import { caught } from './helpers.ts';

let dir: string;

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
  dir = await mkdtemp(join(tmpdir(), 'linewise-checkpoint-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const CONFIGS: [string, ModelConfig, boolean][] = [
  [
    'gpt2',
    gpt2Config({ vocabSize: 61, hiddenSize: 24, numLayers: 2, numHeads: 3, maxPositions: 16, bosTokenId: 0 }),
    false,
  ],
  [
    'gpt2-untied-head',
    gpt2Config({
      vocabSize: 61,
      hiddenSize: 16,
      numLayers: 1,
      numHeads: 2,
      maxPositions: 8,
      tieWordEmbeddings: false,
    }),
    true,
  ],
  [
    'llama-bias-headdim',
    llamaConfig({
      vocabSize: 50,
      hiddenSize: 32,
      numLayers: 2,
      numHeads: 4,
      numKvHeads: 2,
      headDim: 12,
      intermediateSize: 40,
      maxPositions: 32,
      attentionBias: true,
      ropeTheta: 500000,
      normEpsilon: 1e-5,
      eosTokenId: [2, 3],
    }),
    false,
  ],
  [
    'qwen2-tied-scalar',
    qwen2Config({
      vocabSize: 50,
      hiddenSize: 32,
      numLayers: 2,
      numHeads: 4,
      numKvHeads: 1,
      intermediateSize: 48,
      maxPositions: 64,
      tieWordEmbeddings: true,
      ropeTheta: 1e6,
    }),
    true,
  ],
];

/** A model with non-trivial values everywhere (create() gives ones/zeros for norms and biases). */
function randomModel(config: ModelConfig, scalarHead: boolean, seed: number): TransformerModel {
  const model = TransformerModel.create(config, { seed, scalarHead });
  let k = seed;
  for (const variable of model.variables().values()) {
    k += 1;
    const noise = tf.randomNormal(variable.shape, 0, 0.3, 'float32', k);
    variable.assign(tf.add(variable, noise));
    noise.dispose();
  }
  return model;
}

function bits(data: Float32Array): Uint32Array {
  return new Uint32Array(data.buffer, data.byteOffset, data.length);
}

async function expectSameWeights(a: TransformerModel, b: TransformerModel): Promise<void> {
  const va = a.variables();
  const vb = b.variables();
  expect([...vb.keys()]).toEqual([...va.keys()]);
  for (const [name, variable] of va) {
    const other = vb.get(name) as tf.Variable;
    expect(other.shape, name).toEqual(variable.shape);
    const x = bits((await variable.data()) as Float32Array);
    const y = bits((await other.data()) as Float32Array);
    expect(
      Buffer.compare(
        Buffer.from(x.buffer, x.byteOffset, x.byteLength),
        Buffer.from(y.buffer, y.byteOffset, y.byteLength),
      ),
      name,
    ).toBe(0);
  }
}

describe('saveCheckpoint -> loadCheckpoint', () => {
  for (const [label, config, scalarHead] of CONFIGS) {
    it(`round-trips ${label} bit-exactly`, async () => {
      const model = randomModel(config, scalarHead, 7);
      const path = join(dir, label);
      await saveCheckpoint(model, path);
      expect((await readdir(path)).sort()).toEqual(['config.json', 'model.safetensors']);

      const loaded = await loadCheckpoint(path);
      try {
        expect(loaded.config).toEqual(model.config);
        expect(loaded.hasScalarHead).toBe(scalarHead);
        await expectSameWeights(model, loaded);
        const tokens = [
          [1, 5, 9, 2, 7, 3],
          [4, 4, 0, 8, 6, 1],
        ];
        const a = model.forward(tokens);
        const b = loaded.forward(tokens);
        expect(Array.from(await b.logits.data())).toEqual(Array.from(await a.logits.data()));
        tf.dispose([a.logits, a.hidden, b.logits, b.hidden]);
        // importHf reads our checkpoints too (the same weights)
        const imported = await importHf(path);
        await expectSameWeights(model, imported);
        imported.dispose();
      } finally {
        model.dispose();
        loaded.dispose();
      }
    });
  }

  it('writes an HF-style config.json and a float32 model.safetensors in model order', async () => {
    const [, config] = CONFIGS[2] as [string, ModelConfig, boolean];
    const path = join(dir, 'llama-bias-headdim');
    const json = JSON.parse(await readFile(join(path, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(json).toMatchObject({
      architectures: ['LlamaForCausalLM'],
      model_type: 'llama',
      vocab_size: 50,
      hidden_size: 32,
      num_hidden_layers: 2,
      num_attention_heads: 4,
      num_key_value_heads: 2,
      head_dim: 12,
      intermediate_size: 40,
      max_position_embeddings: 32,
      rms_norm_eps: 1e-5,
      rope_theta: 500000,
      rope_scaling: null,
      attention_bias: true,
      mlp_bias: false,
      hidden_act: 'silu',
      tie_word_embeddings: false,
      eos_token_id: [2, 3],
      torch_dtype: 'float32',
      linewise: { format: 1, scalarHead: false, attentionBias: true },
    });
    const reader = await SafetensorsReader.open(join(path, 'model.safetensors'));
    expect(reader.header.metadata).toEqual({ format: 'pt' });
    expect(reader.names()).toEqual([...expectedWeightShapes(config).keys()]);
    expect(reader.names()).toContain('model.layers.1.self_attn.o_proj.bias');
    expect(reader.names()).toContain('lm_head.weight');
    for (const [name, shape] of expectedWeightShapes(config)) {
      expect(reader.info(name)).toMatchObject({ dtype: 'F32', shape });
    }
    await reader.close();

    const gpt2 = JSON.parse(await readFile(join(dir, 'gpt2', 'config.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(gpt2).toMatchObject({
      architectures: ['GPT2LMHeadModel'],
      model_type: 'gpt2',
      n_embd: 24,
      n_layer: 2,
      n_head: 3,
      n_inner: 96,
      n_positions: 16,
      layer_norm_epsilon: 1e-5,
      activation_function: 'gelu_new',
      tie_word_embeddings: true,
      bos_token_id: 0,
      linewise: { scalarHead: false },
    });
    const qwen = JSON.parse(await readFile(join(dir, 'qwen2-tied-scalar', 'config.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(qwen).toMatchObject({
      architectures: ['Qwen2ForCausalLM'],
      model_type: 'qwen2',
      use_sliding_window: false,
    });
    expect(qwen.linewise).toEqual({ format: 1, scalarHead: true, attentionBias: true });
  });

  it('configToHf -> configFromHf is the identity', () => {
    for (const [, config, scalarHead] of CONFIGS) {
      const back = configFromHf(JSON.parse(JSON.stringify(configToHf(config, { scalarHead }))));
      expect(back.config).toEqual(config);
      expect(back.scalarHead).toBe(scalarHead);
    }
    const noBias = qwen2Config({
      vocabSize: 10,
      hiddenSize: 8,
      numLayers: 1,
      numHeads: 2,
      attentionBias: false,
    });
    expect(configFromHf(configToHf(noBias)).config.attentionBias).toBe(false);
  });

  it('an interrupted save leaves the previous checkpoint intact', async () => {
    const [, config] = CONFIGS[0] as [string, ModelConfig, boolean];
    const path = join(dir, 'atomic');
    const good = randomModel(config, false, 1);
    await saveCheckpoint(good, path);
    await writeFile(join(path, 'tokenizer.json'), '{}');
    const before = await readFile(join(path, 'model.safetensors'));

    const other = randomModel(config, false, 2);
    const real = other.variables();
    // The last tensor's download fails halfway through writing the new weights file.
    const failing = new Map(real);
    const last = [...real.keys()].at(-1) as string;
    failing.set(last, {
      shape: (real.get(last) as tf.Variable).shape,
      data: () => Promise.reject(new Error('device lost')),
    } as unknown as tf.Variable);
    const broken = Object.create(other) as TransformerModel;
    Object.defineProperty(broken, 'variables', { value: () => failing });
    await expect(saveCheckpoint(broken, path)).rejects.toThrow('device lost');

    expect((await readdir(path)).sort()).toEqual(['config.json', 'model.safetensors', 'tokenizer.json']);
    expect(Buffer.compare(await readFile(join(path, 'model.safetensors')), before)).toBe(0);
    const loaded = await loadCheckpoint(path);
    await expectSameWeights(good, loaded);

    // a successful save replaces both files and keeps unrelated ones
    await saveCheckpoint(other, path);
    expect((await readdir(path)).sort()).toEqual(['config.json', 'model.safetensors', 'tokenizer.json']);
    const reloaded = await loadCheckpoint(path);
    await expectSameWeights(other, reloaded);
    for (const m of [good, other, loaded, reloaded]) m.dispose();
  });

  it('model.safetensors wins over a stale shard index, as in transformers', async () => {
    const [, config] = CONFIGS[0] as [string, ModelConfig, boolean];
    const path = join(dir, 'stale-index');
    const model = randomModel(config, false, 3);
    await saveCheckpoint(model, path);
    await writeFile(
      join(path, 'model.safetensors.index.json'),
      JSON.stringify({ weight_map: { 'transformer.wte.weight': 'gone.safetensors' } }),
    );
    const loaded = await loadCheckpoint(path);
    await expectSameWeights(model, loaded);
    model.dispose();
    loaded.dispose();
  });
});

describe('loadCheckpoint is strict', () => {
  it('refuses tensors the model has no use for (where importHf may skip HF buffers)', async () => {
    const path = join(dir, 'gpt2');
    const copy = join(dir, 'gpt2-extra');
    await rm(copy, { recursive: true, force: true });
    await (await import('node:fs/promises')).cp(path, copy, { recursive: true });
    const file = join(copy, 'model.safetensors');
    const { tensors } = decodeSafetensors(new Uint8Array(await readFile(file)), file);
    const map = new Map([...tensors].map(([n, t]) => [n, { shape: t.shape, data: t.data }]));
    map.set('transformer.h.0.attn.bias', { shape: [1, 1, 16, 16], data: new Float32Array(256) });
    await writeFile(file, encodeSafetensors(map, { format: 'pt' }));
    const err = await caught(WeightsError, () => loadCheckpoint(copy));
    expect(err.tensor).toBe('transformer.h.0.attn.bias');
    expect(err.reason).toBe('unexpected');
    expect(err.message).toContain(file);
    const imported = await importHf(copy);
    expect(imported.variables().has('transformer.h.0.attn.bias')).toBe(false);
    imported.dispose();
  });

  it('a config whose linewise block promises a scalar head the weights lack', async () => {
    const path = join(dir, 'gpt2');
    const copy = join(dir, 'gpt2-promise');
    await rm(copy, { recursive: true, force: true });
    await (await import('node:fs/promises')).cp(path, copy, { recursive: true });
    const configPath = join(copy, 'config.json');
    const json = JSON.parse(await readFile(configPath, 'utf8')) as { linewise: { scalarHead: unknown } };
    json.linewise.scalarHead = true;
    await writeFile(configPath, JSON.stringify(json));
    const err = await caught(WeightsError, () => loadCheckpoint(copy));
    expect(err.tensor).toBe('score.weight');
    expect(err.reason).toBe('missing');
    expect(err.message).toContain(join(copy, 'model.safetensors'));

    json.linewise.scalarHead = 'yes';
    await writeFile(configPath, JSON.stringify(json));
    const bad = await caught(HfConfigError, () => loadCheckpoint(copy));
    expect(bad.field).toBe('linewise.scalarHead');
    expect(bad.message).toContain(configPath);
  });

  it('GPT-2 names without the transformer. prefix are an importHf-only courtesy', async () => {
    const fixture = join(import.meta.dirname, 'fixtures', 'gpt2-legacy');
    const err = await caught(WeightsError, () => loadCheckpoint(fixture));
    expect(err.reason).toBe('missing');
    expect(err.tensor).toBe('transformer.wte.weight');
    const model = await importHf(fixture);
    expect(model.variables().has('transformer.wte.weight')).toBe(true);
    model.dispose();
  });
});
