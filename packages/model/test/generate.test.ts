import { trainBpe } from '@linewise/tokenizer';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  type GenerateTokenizer,
  type GenerationResult,
  type ModelConfig,
  ModelInputError,
  TransformerModel,
} from '../src/index.ts';
import { maxAbsDiff, randomTokens, TINY, useBackend } from './helpers.ts';

beforeAll(async () => {
  await useBackend('wasm');
});

const models: TransformerModel[] = [];
afterAll(() => {
  for (const m of models) m.dispose();
});

function make(arch: string, seed = 1): TransformerModel {
  const model = TransformerModel.create(TINY[arch] as ModelConfig, { seed });
  models.push(model);
  return model;
}

/** Greedy decoding by recomputing the whole sequence every step (no cache): tokens and each step's logits. */
function greedyByRecompute(model: TransformerModel, prompt: number[], steps: number) {
  const seq = [...prompt];
  const tokens: number[] = [];
  const logits: Float32Array[] = [];
  for (let i = 0; i < steps; i++) {
    const out = model.forward([seq]).logits;
    const V = out.shape[2];
    const last = (out.dataSync() as Float32Array).slice((seq.length - 1) * V, seq.length * V);
    out.dispose();
    let best = 0;
    for (let v = 1; v < V; v++) if ((last[v] as number) > (last[best] as number)) best = v;
    tokens.push(best);
    logits.push(last);
    seq.push(best);
  }
  return { tokens, logits };
}

/** Token id i decodes to a fixed multi-character string, so stop strings can end inside a token. */
function letterTokenizer(vocab: number): GenerateTokenizer {
  const text = (id: number) => `${String.fromCharCode(97 + (id % 26))}${id % 7}|`;
  return {
    encode: (s: string) => Array.from(s).map((c) => c.charCodeAt(0) % vocab),
    createDecodeStream: () => ({ push: (id: number) => text(id), flush: () => '' }),
  };
}

describe.each(Object.keys(TINY))('%s generation', (arch) => {
  test('KV-cache greedy decoding equals full recomputation, token for token and logits within 1e-4', async () => {
    const model = make(arch);
    const V = model.config.vocabSize;
    const prompts = [
      randomTokens(1, 5, V, 1)[0],
      randomTokens(1, 1, V, 2)[0],
      randomTokens(1, 9, V, 3)[0],
    ] as number[][];
    const steps = 12;
    const before = tf.memory().numTensors;
    const results = await model.generate({
      prompts,
      maxNewTokens: steps,
      temperature: 0,
      eosTokenIds: [],
      returnLogits: true,
    });
    expect(tf.memory().numTensors).toBe(before);
    prompts.forEach((prompt, i) => {
      const reference = greedyByRecompute(model, prompt, steps);
      const result = results[i];
      expect(result?.tokens).toEqual(reference.tokens);
      expect(result?.finishReason).toBe('length');
      expect(result?.promptTokens).toEqual(prompt);
      reference.logits.forEach((logits, step) => {
        expect(maxAbsDiff(result?.stepLogits?.[step] as Float32Array, logits)).toBeLessThan(1e-4);
        // logProbs are the log-softmax of the chosen token (untempered for greedy).
        const max = Math.max(...logits);
        const lse = Math.log(logits.reduce((s, x) => s + Math.exp(x - max), 0)) + max;
        expect(result?.logProbs[step]).toBeCloseTo(
          (logits[reference.tokens[step] as number] as number) - lse,
          4,
        );
      });
    });
  });

  test('a ragged batch gives what each prompt gives alone, also when rows finish early', async () => {
    const model = make(arch, 2);
    const V = model.config.vocabSize;
    const prompts = [
      randomTokens(1, 2, V, 4)[0],
      randomTokens(1, 7, V, 5)[0],
      randomTokens(1, 4, V, 6)[0],
    ] as number[][];
    const alone: (GenerationResult | undefined)[] = [];
    for (const prompt of prompts) {
      alone.push(
        (await model.generate({ prompts: [prompt], maxNewTokens: 10, temperature: 0, eosTokenIds: [] }))[0],
      );
    }
    const batch = await model.generate({ prompts, maxNewTokens: 10, temperature: 0, eosTokenIds: [] });
    batch.forEach((result, i) => {
      expect(result.tokens).toEqual(alone[i]?.tokens);
      expect(maxAbsDiff(result.logProbs, alone[i]?.logProbs as number[])).toBeLessThan(1e-4);
    });
    // Make row 0 stop early on "EOS" (its third token): the other rows continue unchanged after the
    // batch shrinks.
    const eos = alone[0]?.tokens[2] as number;
    const early = await model.generate({ prompts, maxNewTokens: 10, temperature: 0, eosTokenIds: [eos] });
    expect(early[0]?.finishReason).toBe('eos');
    expect(early[0]?.tokens).toEqual(
      alone[0]?.tokens.slice(0, (alone[0]?.tokens.indexOf(eos) as number) + 1),
    );
    for (const i of [1, 2]) {
      const full = alone[i]?.tokens as number[];
      const stop = full.indexOf(eos);
      expect(early[i]?.tokens).toEqual(stop >= 0 ? full.slice(0, stop + 1) : full);
    }
  });
});

describe('sampling', () => {
  test('same seed, same tokens; another seed, other tokens; temperature changes log-probs', async () => {
    const model = make('llama', 3);
    const prompts = [
      [1, 2, 3],
      [4, 5],
    ];
    const run = (seed: number, temperature = 1) =>
      model.generate({ prompts, maxNewTokens: 20, temperature, seed, eosTokenIds: [] });
    const a = await run(7);
    const b = await run(7);
    const c = await run(8);
    expect(b.map((r) => r.tokens)).toEqual(a.map((r) => r.tokens));
    expect(b.map((r) => r.logProbs)).toEqual(a.map((r) => r.logProbs));
    expect(c.map((r) => r.tokens)).not.toEqual(a.map((r) => r.tokens));
    // Sampled log-probs at temperature 1 are the policy's: they equal model.logProbs of the sequence.
    const sampled = (a[0] as GenerationResult).tokens;
    const seq = [...(prompts[0] as number[]), ...sampled];
    const lp = model.logProbs([seq]);
    const policy = (lp.arraySync()[0] as number[]).slice((prompts[0] as number[]).length - 1);
    lp.dispose();
    expect(maxAbsDiff(policy, a[0]?.logProbs as number[])).toBeLessThan(1e-4);
    // A hot temperature flattens the distribution: chosen tokens get lower log-probs on average.
    const hot = await run(7, 5);
    const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(Math.abs(mean(hot[0]?.logProbs as number[]) + Math.log(model.config.vocabSize))).toBeLessThan(
      Math.abs(mean(a[0]?.logProbs as number[]) + Math.log(model.config.vocabSize)) + 0.05,
    );
  });

  test('topK 1 and a tiny topP are greedy', async () => {
    const model = make('gpt2', 4);
    const prompts = [[5, 6, 7]];
    const greedy = await model.generate({ prompts, maxNewTokens: 8, temperature: 0, eosTokenIds: [] });
    const topK = await model.generate({ prompts, maxNewTokens: 8, topK: 1, seed: 3, eosTokenIds: [] });
    const topP = await model.generate({ prompts, maxNewTokens: 8, topP: 1e-6, seed: 3, eosTokenIds: [] });
    expect(topK[0]?.tokens).toEqual(greedy[0]?.tokens);
    expect(topP[0]?.tokens).toEqual(greedy[0]?.tokens);
    // topK = 5 samples only among the 5 most likely tokens at each step.
    const sampled = await model.generate({
      prompts,
      maxNewTokens: 8,
      topK: 5,
      seed: 9,
      eosTokenIds: [],
      returnLogits: true,
    });
    sampled[0]?.tokens.forEach((token, step) => {
      const logits = sampled[0]?.stepLogits?.[step] as Float32Array;
      const rank = Array.from(logits).filter((x) => x > (logits[token] as number)).length;
      expect(rank).toBeLessThan(5);
    });
  });
});

describe('stopping', () => {
  test('EOS from the config ends a sequence and is included in tokens, not text', async () => {
    const model = make('qwen2', 5); // eosTokenId [0, 1]
    const tokenizer = letterTokenizer(model.config.vocabSize);
    const free = await model.generate({
      prompts: [[9, 10, 11]],
      maxNewTokens: 10,
      temperature: 0,
      eosTokenIds: [],
    });
    const third = free[0]?.tokens[2] as number;
    const stopped = await model.generate({
      prompts: [[9, 10, 11]],
      maxNewTokens: 10,
      temperature: 0,
      eosTokenIds: [third],
      tokenizer,
    });
    const cut = (free[0]?.tokens.indexOf(third) as number) + 1;
    expect(stopped[0]?.tokens).toEqual(free[0]?.tokens.slice(0, cut));
    expect(stopped[0]?.logProbs).toHaveLength(cut);
    expect(stopped[0]?.finishReason).toBe('eos');
    const decode = (ids: number[]) =>
      ids.map((id) => `${String.fromCharCode(97 + (id % 26))}${id % 7}|`).join('');
    expect(stopped[0]?.text).toBe(decode(free[0]?.tokens.slice(0, cut - 1) as number[]));
  });

  test('stop strings: tokens through the completing token, text trimmed before the stop string', async () => {
    const model = make('llama', 6);
    const tokenizer = letterTokenizer(model.config.vocabSize);
    const prompts = [
      [3, 4],
      [7, 8, 9],
    ];
    const free = await model.generate({
      prompts,
      maxNewTokens: 12,
      temperature: 0,
      eosTokenIds: [],
      tokenizer,
    });
    const text0 = free[0]?.text as string;
    expect(text0.length).toBe(12 * 3);
    // A stop string spanning the end of token 3 and the start of token 4 of row 0.
    const stop = text0.slice(3 * 3 + 2, 4 * 3 + 1);
    const out = await model.generate({
      prompts,
      maxNewTokens: 12,
      temperature: 0,
      eosTokenIds: [],
      tokenizer,
      stop: [stop, 'never'],
    });
    const first = text0.indexOf(stop);
    const completing = Math.floor((first + stop.length - 1) / 3); // the token holding the stop's last char
    expect(out[0]?.finishReason).toBe('stop');
    expect(out[0]?.tokens).toEqual(free[0]?.tokens.slice(0, completing + 1));
    expect(out[0]?.text).toBe(text0.slice(0, first));
    // Row 1 stops too only if its own text contains the stop string.
    const text1 = free[1]?.text as string;
    if (text1.includes(stop)) expect(out[1]?.finishReason).toBe('stop');
    else expect(out[1]).toMatchObject({ finishReason: 'length', text: text1 });
  });

  test('string prompts and decoded text with a real BPE tokenizer', async () => {
    const corpus = [
      'def add(a, b):\n    return a + b\n',
      'def sub(a, b):\n    return a - b\n',
      'print(add(1, 2))\n',
    ];
    const tokenizer = trainBpe(corpus, { vocabSize: 300, specialTokens: ['<|endoftext|>'] });
    const config = { ...(TINY.gpt2 as ModelConfig), vocabSize: tokenizer.vocabSize, eosTokenId: 0 };
    const model = TransformerModel.create(config, { seed: 8 });
    models.push(model);
    const [result] = await model.generate({
      prompts: ['def add('],
      maxNewTokens: 6,
      temperature: 0,
      tokenizer,
    });
    expect(result?.promptTokens).toEqual(tokenizer.encode('def add('));
    const withoutEos = result?.tokens.filter((t) => t !== 0) as number[];
    expect(result?.text).toBe(tokenizer.decode(withoutEos, { skipSpecialTokens: true }));
  });
});

describe('contracts', () => {
  test('no tensor leaks; invalid options are refused naming the option', async () => {
    const model = make('gpt2', 7);
    const before = tf.memory().numTensors;
    await model.generate({ prompts: [[1], [2, 3, 4]], maxNewTokens: 5, topP: 0.9, topK: 10, seed: 1 });
    await model.generate({ prompts: [[1]], maxNewTokens: 0 });
    expect(tf.memory().numTensors).toBe(before);
    const field = async (options: Parameters<TransformerModel['generate']>[0]) => {
      try {
        await model.generate(options);
      } catch (error) {
        expect(error).toBeInstanceOf(ModelInputError);
        return (error as ModelInputError).field;
      }
      return undefined;
    };
    expect(await field({ prompts: [[1]], maxNewTokens: -1 })).toBe('maxNewTokens');
    expect(await field({ prompts: [[1]], maxNewTokens: 100 })).toBe('maxNewTokens'); // past maxPositions 64
    expect(await field({ prompts: [[1]], maxNewTokens: 2, temperature: -1 })).toBe('temperature');
    expect(await field({ prompts: [[1]], maxNewTokens: 2, topP: 0 })).toBe('topP');
    expect(await field({ prompts: [[1]], maxNewTokens: 2, topK: 1.5 })).toBe('topK');
    expect(await field({ prompts: [[1]], maxNewTokens: 2, stop: ['x'] })).toBe('tokenizer');
    expect(await field({ prompts: ['text'], maxNewTokens: 2 })).toBe('tokenizer');
    expect(await field({ prompts: [[1, 999]], maxNewTokens: 2 })).toBe('prompts');
    expect(await field({ prompts: [[]], maxNewTokens: 2 })).toBe('prompts');
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe.each(Object.keys(TINY))('%s decoding against a preallocated cache', (arch) => {
  test('the in-place decode kernel and the concatenating cache give the same tokens and logits (ragged, cpu and wasm)', async () => {
    const model = make(arch, 11);
    const prompts = [
      [5, 9, 2, 7, 1],
      [3, 8],
      [4, 4, 6],
    ];
    const run = () =>
      model.generate({ prompts, maxNewTokens: 9, temperature: 0.8, topK: 20, seed: 3, returnLogits: true });
    for (const backend of ['wasm', 'cpu'] as const) {
      await useBackend(backend);
      expect(tf.getKernel('LinewiseDecodeAttention', backend)).toBeDefined();
      const before = tf.memory().numTensors;
      const inPlace = await run();
      expect(tf.memory().numTensors).toBe(before);
      const config = tf.getKernel('LinewiseDecodeAttention', backend) as tf.KernelConfig;
      tf.unregisterKernel('LinewiseDecodeAttention', backend);
      let concatenated: GenerationResult[];
      try {
        concatenated = await run();
      } finally {
        tf.registerKernel(config);
      }
      expect(tf.memory().numTensors).toBe(before);
      inPlace.forEach((result, i) => {
        const other = concatenated[i] as GenerationResult;
        expect(result.tokens).toEqual(other.tokens);
        result.stepLogits?.forEach((logits, step) => {
          expect(maxAbsDiff(logits, other.stepLogits?.[step] as Float32Array)).toBeLessThan(1e-4);
        });
      });
    }
    await useBackend('wasm');
  });
});
