import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '@linewise/kernels';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importHf, readCheckpointWeights } from '../src/checkpoint.ts';
import {
  CheckpointError,
  HfConfigError,
  SafetensorsError,
  UnsupportedDtypeError,
  WeightsError,
} from '../src/errors.ts';
import { configFromHf } from '../src/hf-config.ts';
import { decodeSafetensors, encodeSafetensors, type TensorToWrite } from '../src/safetensors.ts';
import { caught } from './helpers.ts';

const FIXTURES = join(import.meta.dirname, 'fixtures');

interface Reference {
  name: string;
  seed: number;
  tokens: number[][];
  logitsShape: [number, number, number];
  logits: number[][][];
  float32VsFloat64MaxAbs: number;
}

/** Every fixture tooling/scripts/model-fixtures.py writes, with what it exercises. */
const FIXTURE_CASES: { name: string; architecture: string; files: number; ignored: RegExp[] }[] = [
  { name: 'gpt2-tiny', architecture: 'gpt2', files: 1, ignored: [] },
  {
    name: 'gpt2-legacy',
    architecture: 'gpt2',
    files: 1,
    ignored: [/^h\.0\.attn\.bias$/, /^h\.0\.attn\.masked_bias$/],
  },
  { name: 'gpt2-tiny-f16', architecture: 'gpt2', files: 1, ignored: [] },
  {
    name: 'llama-tiny',
    architecture: 'llama',
    files: 1,
    ignored: [
      /^model\.layers\.0\.self_attn\.rotary_emb\.inv_freq$/,
      /^model\.layers\.1\.self_attn\.rotary_emb\.inv_freq$/,
    ],
  },
  { name: 'llama-tiny-sharded', architecture: 'llama', files: 2, ignored: [] },
  { name: 'qwen2-tiny', architecture: 'qwen2', files: 1, ignored: [] },
  { name: 'qwen2-tiny-bf16', architecture: 'qwen2', files: 1, ignored: [] },
];

/** Max abs errors per fixture, printed at the end (the numbers the report quotes). */
const maxErrors: Record<string, number> = {};
let dir: string;

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
  dir = await mkdtemp(join(tmpdir(), 'linewise-hf-import-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  console.log('max |logits - PyTorch reference| per fixture:', maxErrors);
});

async function reference(name: string): Promise<Reference> {
  return JSON.parse(await readFile(join(FIXTURES, name, 'reference.json'), 'utf8')) as Reference;
}

/** A copy of a fixture directory to break. */
async function copyFixture(name: string, as: string): Promise<string> {
  const to = join(dir, as);
  await rm(to, { recursive: true, force: true });
  await cp(join(FIXTURES, name), to, { recursive: true });
  return to;
}

async function editConfig(path: string, edit: (c: Record<string, unknown>) => void): Promise<void> {
  const file = join(path, 'config.json');
  const c = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  edit(c);
  await writeFile(file, JSON.stringify(c));
}

/** Rewrites a copied fixture's model.safetensors through `edit` (tensor map in file order). */
async function editWeights(path: string, edit: (t: Map<string, TensorToWrite>) => void): Promise<void> {
  const file = join(path, 'model.safetensors');
  const { header, tensors } = decodeSafetensors(new Uint8Array(await readFile(file)), file);
  const map = new Map<string, TensorToWrite>(
    [...tensors].map(([n, t]) => [
      n,
      { shape: t.shape, data: t.data, dtype: header.tensors.get(n)?.dtype as 'F32' },
    ]),
  );
  edit(map);
  await writeFile(file, encodeSafetensors(map, header.metadata));
}

describe('importHf matches the PyTorch reference logits', () => {
  for (const fixture of FIXTURE_CASES) {
    it(`${fixture.name}`, async () => {
      const ref = await reference(fixture.name);
      const read = await readCheckpointWeights(join(FIXTURES, fixture.name));
      expect(read.config.architecture).toBe(fixture.architecture);
      expect(read.files.length).toBe(fixture.files);
      expect(read.ignored.length).toBe(fixture.ignored.length);
      for (const re of fixture.ignored) expect(read.ignored.some((n) => re.test(n))).toBe(true);
      for (const t of read.weights.values()) t.dispose();

      const model = await importHf(join(FIXTURES, fixture.name));
      try {
        const { logits, hidden } = model.forward(ref.tokens);
        expect(logits.shape).toEqual(ref.logitsShape);
        const ours = (await logits.data()) as Float32Array;
        logits.dispose();
        hidden.dispose();
        const theirs = ref.logits.flat(2);
        expect(ours.length).toBe(theirs.length);
        let maxAbs = 0;
        let maxRef = 0;
        for (let i = 0; i < ours.length; i++) {
          maxAbs = Math.max(maxAbs, Math.abs((ours[i] as number) - (theirs[i] as number)));
          maxRef = Math.max(maxRef, Math.abs(theirs[i] as number));
        }
        maxErrors[fixture.name] = maxAbs;
        expect(maxRef).toBeGreaterThan(1); // the reference is not degenerate
        expect(maxAbs).toBeLessThan(1e-4);
      } finally {
        model.dispose();
      }
    });
  }

  it('gives different logits when a weight is perturbed (the comparison can fail)', async () => {
    const ref = await reference('qwen2-tiny');
    const path = await copyFixture('qwen2-tiny', 'perturbed');
    await editWeights(path, (t) => {
      const bias = t.get('model.layers.1.self_attn.k_proj.bias') as TensorToWrite;
      (bias.data as Float32Array)[0] = (bias.data[0] as number) + 1e-2;
    });
    const model = await importHf(path);
    const logits = model.forward(ref.tokens).logits;
    const ours = (await logits.data()) as Float32Array;
    logits.dispose();
    model.dispose();
    const theirs = ref.logits.flat(2);
    const maxAbs = Math.max(...Array.from(ours, (x, i) => Math.abs(x - (theirs[i] as number))));
    expect(maxAbs).toBeGreaterThan(1e-4);
  });
});

describe('importHf tolerates what transformers tolerates', () => {
  it('a tied GPT-2 checkpoint that also stores lm_head.weight', async () => {
    const path = await copyFixture('gpt2-tiny', 'gpt2-with-lm-head');
    await editWeights(path, (t) => {
      const wte = t.get('transformer.wte.weight') as TensorToWrite;
      t.set('lm_head.weight', { shape: wte.shape, data: wte.data });
    });
    const read = await readCheckpointWeights(path);
    expect(read.ignored).toEqual(['lm_head.weight']);
    expect(read.weights.has('lm_head.weight')).toBe(false);
    for (const t of read.weights.values()) t.dispose();
  });

  it('unexpected tensors throw unless allowUnexpected', async () => {
    const path = await copyFixture('llama-tiny', 'llama-extra');
    await editWeights(path, (t) => {
      t.set('model.layers.0.mlp.gate_proj.bias', { shape: [64], data: new Float32Array(64) });
    });
    const err = await caught(WeightsError, () => importHf(path));
    expect(err.tensor).toBe('model.layers.0.mlp.gate_proj.bias');
    expect(err.reason).toBe('unexpected');
    expect(err.message).toContain(join(path, 'model.safetensors'));
    const model = await importHf(path, { allowUnexpected: true });
    expect(model.variables().has('model.layers.0.mlp.gate_proj.bias')).toBe(false);
    model.dispose();
  });

  it('a scalar head stored as score.weight / score.bias is loaded', async () => {
    const path = await copyFixture('qwen2-tiny', 'qwen2-score');
    await editWeights(path, (t) => {
      t.set('score.weight', { shape: [1, 32], data: Float32Array.from({ length: 32 }, (_, i) => i / 10) });
      t.set('score.bias', { shape: [1], data: Float32Array.from([0.5]) });
    });
    const model = await importHf(path);
    expect(model.hasScalarHead).toBe(true);
    expect(Array.from((await model.variables().get('score.bias')?.data()) ?? [])).toEqual([0.5]);
    model.dispose();
    const without = await importHf(path, { scalarHead: false });
    expect(without.hasScalarHead).toBe(false);
    without.dispose();
  });
});

describe('importHf errors name the tensor or field and the file', () => {
  it('missing tensor', async () => {
    const path = await copyFixture('llama-tiny', 'missing');
    await editWeights(path, (t) => t.delete('model.layers.1.mlp.up_proj.weight'));
    const err = await caught(WeightsError, () => importHf(path));
    expect(err.tensor).toBe('model.layers.1.mlp.up_proj.weight');
    expect(err.reason).toBe('missing');
    expect(err.expected).toEqual([64, 32]);
    expect(err.message).toContain("'model.layers.1.mlp.up_proj.weight'");
    expect(err.message).toContain(join(path, 'model.safetensors'));
  });

  it('missing tensor in a sharded checkpoint names the directory', async () => {
    const path = await copyFixture('llama-tiny-sharded', 'missing-sharded');
    const indexPath = join(path, 'model.safetensors.index.json');
    const index = JSON.parse(await readFile(indexPath, 'utf8')) as { weight_map: Record<string, string> };
    delete index.weight_map['model.norm.weight'];
    await writeFile(indexPath, JSON.stringify(index));
    const err = await caught(WeightsError, () => importHf(path));
    expect(err.tensor).toBe('model.norm.weight');
    expect(err.message).toContain(path);
  });

  it('wrong shape (expected vs actual)', async () => {
    const path = await copyFixture('qwen2-tiny', 'shape');
    await editWeights(path, (t) => {
      t.set('model.layers.0.self_attn.k_proj.weight', { shape: [32, 16], data: new Float32Array(512) });
    });
    const err = await caught(WeightsError, () => importHf(path));
    expect(err.tensor).toBe('model.layers.0.self_attn.k_proj.weight');
    expect(err.reason).toBe('shape');
    expect(err.expected).toEqual([16, 32]);
    expect(err.actual).toEqual([32, 16]);
    expect(err.message).toContain('[32, 16]');
    expect(err.message).toContain('expected [16, 32]');
    expect(err.message).toContain(join(path, 'model.safetensors'));
  });

  it('integer weights are an unsupported dtype', async () => {
    const path = await copyFixture('gpt2-tiny', 'int-weights');
    await editWeights(path, (t) => {
      t.set('transformer.ln_f.bias', { shape: [32], data: new Int32Array(32), dtype: 'I32' });
    });
    const err = await caught(UnsupportedDtypeError, () => importHf(path));
    expect(err.tensor).toBe('transformer.ln_f.bias');
    expect(err.dtype).toBe('I32');
  });

  it('bad safetensors header', async () => {
    const path = await copyFixture('gpt2-tiny', 'bad-header');
    const file = join(path, 'model.safetensors');
    const bytes = new Uint8Array(await readFile(file));
    bytes[8] = 0x5b; // '{' -> '[': the header is no longer an object
    bytes[9] = 0x5d; // make it a different, invalid JSON
    await writeFile(file, bytes);
    const err = await caught(SafetensorsError, () => importHf(path));
    expect(err.file).toBe(file);
    expect(err.field).toBe('header');
    expect(err.message).toContain('invalid JSON');
  });

  it('truncated weights file', async () => {
    const path = await copyFixture('gpt2-tiny', 'truncated');
    const file = join(path, 'model.safetensors');
    const bytes = await readFile(file);
    await writeFile(file, bytes.subarray(0, bytes.length - 100));
    const err = await caught(SafetensorsError, () => importHf(path));
    expect(err.file).toBe(file);
    expect(err.field).toBe('data_offsets');
    expect(err.tensor).toBe('transformer.ln_f.bias');
  });

  it('unknown model_type', async () => {
    const path = await copyFixture('gpt2-tiny', 'mistral');
    await editConfig(path, (c) => {
      c.model_type = 'mistral';
    });
    const err = await caught(HfConfigError, () => importHf(path));
    expect(err.field).toBe('model_type');
    expect(err.file).toBe(join(path, 'config.json'));
    expect(err.message).toContain("'model_type'");
    expect(err.message).toContain('mistral');
    expect(err.message).toContain(join(path, 'config.json'));
  });

  it('missing and invalid config fields', async () => {
    const cases: [string, string, (c: Record<string, unknown>) => void, string, string][] = [
      ['gpt2-tiny', 'no-n-embd', (c) => delete c.n_embd, 'n_embd', 'missing'],
      ['llama-tiny', 'no-hidden', (c) => delete c.hidden_size, 'hidden_size', 'missing'],
      ['qwen2-tiny', 'no-inter', (c) => delete c.intermediate_size, 'intermediate_size', 'missing'],
      ['qwen2-tiny', 'no-type', (c) => delete c.model_type, 'model_type', 'missing'],
      [
        'llama-tiny',
        'heads-str',
        (c) => (c.num_attention_heads = '4'),
        'num_attention_heads',
        'positive integer',
      ],
      ['llama-tiny', 'kv-3', (c) => (c.num_key_value_heads = 3), 'num_key_value_heads', 'multiple'],
      ['llama-tiny', 'eps', (c) => (c.rms_norm_eps = -1), 'rms_norm_eps', 'positive number'],
      [
        'llama-tiny',
        'rope-scaling',
        (c) => (c.rope_scaling = { rope_type: 'llama3', factor: 8 }),
        'rope_scaling',
        'not supported',
      ],
      ['llama-tiny', 'act', (c) => (c.hidden_act = 'gelu'), 'hidden_act', 'not supported'],
      ['qwen2-tiny', 'window', (c) => (c.use_sliding_window = true), 'use_sliding_window', 'not supported'],
      ['gpt2-tiny', 'gelu', (c) => (c.activation_function = 'relu'), 'activation_function', 'not supported'],
      ['gpt2-tiny', 'heads', (c) => (c.n_head = 5), 'n_head', 'divisible'],
      ['gpt2-tiny', 'tie', (c) => (c.tie_word_embeddings = 'yes'), 'tie_word_embeddings', 'boolean'],
    ];
    for (const [fixture, as, edit, field, text] of cases) {
      const path = await copyFixture(fixture, as);
      await editConfig(path, edit);
      const err = await caught(HfConfigError, () => importHf(path));
      expect(err.field, as).toBe(field);
      expect(err.message, as).toContain(`'${field}'`);
      expect(err.message, as).toContain(join(path, 'config.json'));
      expect(err.message, as).toContain(text);
    }
  });

  it('config that is not JSON, and directories without config or weights', async () => {
    const path = await copyFixture('gpt2-tiny', 'bad-json');
    await writeFile(join(path, 'config.json'), '{"model_type": "gpt2",');
    let err: Error = await caught(HfConfigError, () => importHf(path));
    expect(err.message).toContain('invalid JSON');
    await rm(join(path, 'config.json'));
    err = await caught(CheckpointError, () => importHf(path));
    expect(err.message).toContain(join(path, 'config.json'));
    const noWeights = await copyFixture('gpt2-tiny', 'no-weights');
    await rm(join(noWeights, 'model.safetensors'));
    err = await caught(CheckpointError, () => importHf(noWeights));
    expect(err.message).toContain('model.safetensors');
  });
});

describe('configFromHf', () => {
  it('maps the fixture configs', async () => {
    const read = async (n: string) =>
      JSON.parse(await readFile(join(FIXTURES, n, 'config.json'), 'utf8')) as unknown;
    expect(configFromHf(await read('gpt2-tiny')).config).toEqual({
      architecture: 'gpt2',
      vocabSize: 97,
      hiddenSize: 32,
      numLayers: 2,
      numHeads: 4,
      numKvHeads: 4,
      headDim: 8,
      intermediateSize: 128,
      maxPositions: 32,
      normEpsilon: 1e-5,
      ropeTheta: 10000,
      tieWordEmbeddings: true,
      attentionBias: true,
      bosTokenId: 96,
      eosTokenId: 96,
    });
    expect(configFromHf(await read('llama-tiny')).config).toEqual({
      architecture: 'llama',
      vocabSize: 97,
      hiddenSize: 32,
      numLayers: 2,
      numHeads: 4,
      numKvHeads: 2,
      headDim: 8,
      intermediateSize: 64,
      maxPositions: 64,
      normEpsilon: 1e-6,
      ropeTheta: 10000,
      tieWordEmbeddings: false,
      attentionBias: false,
      bosTokenId: 1,
      eosTokenId: 2,
    });
    const qwen = configFromHf(await read('qwen2-tiny-bf16'));
    expect(qwen.config).toMatchObject({
      architecture: 'qwen2',
      numLayers: 1,
      ropeTheta: 1e6,
      attentionBias: true,
    });
    expect(qwen.config.tieWordEmbeddings).toBe(true);
    expect(qwen.torchDtype).toBe('bfloat16');
    expect(qwen.scalarHead).toBe(false);
  });

  it('fills HF class defaults for fields save_pretrained omits', () => {
    const { config } = configFromHf({
      model_type: 'llama',
      vocab_size: 100,
      hidden_size: 64,
      num_hidden_layers: 1,
      num_attention_heads: 8,
      intermediate_size: 128,
      eos_token_id: [2, 7],
      bos_token_id: null,
    });
    expect(config).toMatchObject({
      numKvHeads: 8,
      headDim: 8,
      maxPositions: 2048,
      normEpsilon: 1e-6,
      ropeTheta: 10000,
      tieWordEmbeddings: false,
      attentionBias: false,
      eosTokenId: [2, 7],
    });
    expect(config.bosTokenId).toBeUndefined();
    const gpt2 = configFromHf({
      model_type: 'gpt2',
      vocab_size: 50,
      n_embd: 16,
      n_layer: 1,
      n_head: 2,
      n_positions: 8,
    });
    expect(gpt2.config).toMatchObject({ intermediateSize: 64, tieWordEmbeddings: true, normEpsilon: 1e-5 });
  });

  it('explicit head_dim (newer Llama configs)', () => {
    const { config } = configFromHf({
      model_type: 'llama',
      vocab_size: 100,
      hidden_size: 64,
      num_hidden_layers: 1,
      num_attention_heads: 4,
      num_key_value_heads: 2,
      head_dim: 32,
      intermediate_size: 128,
    });
    expect(config.headDim).toBe(32);
  });

  it('keeps rope_scaling "default" and rejects non-objects', () => {
    const base = {
      model_type: 'qwen2',
      vocab_size: 10,
      hidden_size: 8,
      num_hidden_layers: 1,
      num_attention_heads: 2,
    };
    expect(() =>
      configFromHf({ ...base, intermediate_size: 16, rope_scaling: { rope_type: 'default' } }),
    ).not.toThrow();
    expect(() => configFromHf([1], 'x.json')).toThrow(HfConfigError);
    expect(() =>
      configFromHf({ ...base, intermediate_size: 16, rope_scaling: { type: 'linear', factor: 2 } }),
    ).toThrow(/rope_scaling/);
  });

  it('releases tensors it read when a later tensor fails', async () => {
    const path = await copyFixture('llama-tiny', 'leak');
    await editWeights(path, (t) => {
      t.set('model.norm.weight', { shape: [31], data: new Float32Array(31) });
    });
    const before = tf.memory().numTensors;
    await caught(WeightsError, () => importHf(path));
    expect(tf.memory().numTensors).toBe(before);
  });
});
