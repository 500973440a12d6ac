import { hasDecodeAttention } from '@linewise/kernels';
import * as tf from '@tensorflow/tfjs-core';
import { disposeInferencePlan, type InferencePlan, type KvCache } from './backbone.ts';
import { eosIds } from './config.ts';
import { ModelInputError } from './errors.ts';
import { attentionBias, MASKED } from './layers.ts';
import type { TransformerModel } from './model.ts';
import { Rng } from './random.ts';
import { chooseToken, type SamplingOptions } from './sampling.ts';

/** What `generate` needs from a tokenizer (`@linewise/tokenizer`'s `Tokenizer` fits). */
export interface GenerateTokenizer {
  encode(text: string): number[];
  createDecodeStream(options?: { skipSpecialTokens?: boolean }): {
    push(id: number): string;
    flush(): string;
  };
}

export interface GenerateOptions {
  /** Token-id prompts, or strings (encoded with `tokenizer`, special tokens such as BOS included). */
  prompts: number[][] | string[];
  /** Most new tokens per prompt. */
  maxNewTokens: number;
  /** 0 = greedy; default 1. */
  temperature?: number;
  /** Nucleus sampling mass; default 1 (off). */
  topP?: number;
  /** Top-k sampling; default 0 (off). */
  topK?: number;
  /**
   * Stop strings (needs `tokenizer`). A sequence stops at the token whose decoded text completes a stop
   * string: `tokens` and `logProbs` run up to and including that token, `text` ends just before the
   * stop string (the stop string and anything the same token decoded after it are cut).
   */
  stop?: string[];
  /** End-of-sequence ids; default the config's `eosTokenId`. `[]` disables EOS stopping. */
  eosTokenIds?: number[];
  /** Sampling seed (default 0): same seed, same tokens. Sequence i draws from stream i of the seed. */
  seed?: number;
  /** Encodes string prompts, decodes `text`, detects stop strings. */
  tokenizer?: GenerateTokenizer;
  /** Drop special tokens from `text` (default true). EOS never appears in `text`. */
  skipSpecialTokens?: boolean;
  /** Return each step's untempered logits per sequence (`stepLogits`), for tests and debugging. */
  returnLogits?: boolean;
}

export type FinishReason = 'eos' | 'stop' | 'length';

export interface GenerationResult {
  /** The prompt's token ids. */
  promptTokens: number[];
  /** New tokens, including the EOS token when `finishReason` is `eos`. */
  tokens: number[];
  /**
   * Per new token: log softmax(logits / temperature)[token] over the full vocabulary (before top-k/top-p
   * truncation; untempered for greedy). With temperature 1 this is the policy log-probability PPO needs;
   * at other temperatures recompute it with `model.logProbs` if the untempered value is wanted.
   */
  logProbs: number[];
  /** Decoded new tokens (with a tokenizer): EOS excluded, stop string and what followed it cut. */
  text?: string;
  finishReason: FinishReason;
  /** With `returnLogits`: each step's untempered logits. */
  stepLogits?: Float32Array[];
}

interface SequenceState {
  index: number;
  prompt: number[];
  result: GenerationResult;
  rng: Rng;
  decoder?: { push(id: number): string; flush(): string };
  text: string;
  done: boolean;
}

/**
 * Batched generation with a KV cache. Prompts are left-padded to one length and prefilled in one pass;
 * each later step feeds one token per live sequence. Finished sequences are dropped from the batch (their
 * cache rows are gathered away), so they cost nothing afterwards.
 *
 * Where the backend has the `LinewiseDecodeAttention` kernel (wasm, cpu), the cache is preallocated
 * after the prefill ([B, Hkv, prompt + maxNewTokens, hd] per layer, owned by this function alone) and
 * each step's keys/values are written into it IN PLACE by that kernel, which also does the whole
 * single-query attention. Elsewhere the cache grows by concatenation (tfjs tensors are immutable).
 */
export async function generate(
  model: TransformerModel,
  options: GenerateOptions,
): Promise<GenerationResult[]> {
  const config = model.config;
  const temperature = options.temperature ?? 1;
  const topP = options.topP ?? 1;
  const topK = options.topK ?? 0;
  const seed = options.seed ?? 0;
  const maxNew = options.maxNewTokens;
  const tokenizer = options.tokenizer;
  if (!Number.isInteger(maxNew) || maxNew < 0) {
    throw new ModelInputError('maxNewTokens', `must be a non-negative integer, got ${maxNew}`);
  }
  if (!(temperature >= 0) || !Number.isFinite(temperature)) {
    throw new ModelInputError('temperature', `must be a finite number >= 0, got ${temperature}`);
  }
  if (!(topP > 0 && topP <= 1)) throw new ModelInputError('topP', `must be in (0, 1], got ${topP}`);
  if (!Number.isInteger(topK) || topK < 0)
    throw new ModelInputError('topK', `must be an integer >= 0, got ${topK}`);
  if (!Number.isFinite(seed)) throw new ModelInputError('seed', `must be a finite number, got ${seed}`);
  const stops = options.stop ?? [];
  if (stops.some((s) => typeof s !== 'string' || s.length === 0)) {
    throw new ModelInputError('stop', 'stop strings must be non-empty strings');
  }
  if (stops.length > 0 && tokenizer === undefined) {
    throw new ModelInputError('tokenizer', 'stop strings need a tokenizer to decode text');
  }
  if (!Array.isArray(options.prompts) || options.prompts.length === 0) {
    throw new ModelInputError('prompts', 'expected a non-empty array of prompts');
  }
  const prompts = options.prompts.map((prompt, i) => {
    let ids: number[];
    if (typeof prompt === 'string') {
      if (tokenizer === undefined) throw new ModelInputError('tokenizer', 'string prompts need a tokenizer');
      ids = tokenizer.encode(prompt);
    } else {
      ids = prompt;
    }
    if (!Array.isArray(ids) || ids.length === 0) throw new ModelInputError('prompts', `prompt ${i} is empty`);
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id >= config.vocabSize) {
        throw new ModelInputError(
          'prompts',
          `prompt ${i}: token id ${id} is outside [0, ${config.vocabSize})`,
        );
      }
    }
    return [...ids];
  });
  const longest = Math.max(...prompts.map((p) => p.length));
  if (longest + maxNew > config.maxPositions) {
    throw new ModelInputError(
      'maxNewTokens',
      `prompt length ${longest} + maxNewTokens ${maxNew} exceeds maxPositions ${config.maxPositions}`,
    );
  }
  const eos = new Set(options.eosTokenIds ?? eosIds(config));
  const sampling: SamplingOptions = { temperature, topK, topP };
  const skipSpecialTokens = options.skipSpecialTokens ?? true;

  const states: SequenceState[] = prompts.map((prompt, index) => {
    const state: SequenceState = {
      index,
      prompt,
      result: { promptTokens: prompt, tokens: [], logProbs: [], finishReason: 'length' },
      rng: new Rng(seed, index),
      text: '',
      done: maxNew === 0,
    };
    if (options.returnLogits) state.result.stepLogits = [];
    if (tokenizer) {
      state.decoder = tokenizer.createDecodeStream({ skipSpecialTokens });
      state.result.text = '';
    }
    return state;
  });
  if (maxNew === 0) return states.map((s) => s.result);

  // Left-pad to the longest prompt; `live` lists the states whose rows are in the batch, in row order.
  const width = longest;
  let live = states;
  let cache: KvCache | undefined;
  let logits: tf.Tensor2D | undefined;
  const vocab = config.vocabSize;
  const plan = model.inferencePlan();
  const preallocate = hasDecodeAttention();
  try {
    {
      // Prefill: causal attention within each prompt, never to its left padding.
      const ids = new Int32Array(live.length * width);
      const positions = new Int32Array(live.length * width);
      const mask = new Float32Array(live.length * width);
      live.forEach((state, row) => {
        const pad = width - state.prompt.length;
        state.prompt.forEach((id, j) => {
          ids[row * width + pad + j] = id;
          positions[row * width + pad + j] = j;
          mask[row * width + pad + j] = 1;
        });
      });
      const bias = tf.tidy(() => attentionBias(width, 0, tf.tensor2d(mask, [live.length, width], 'float32')));
      const out = runStep(model, ids, positions, bias, live.length, width, undefined, plan);
      cache = out.cache;
      logits = out.logits;
      if (preallocate) {
        // Room for every new token; rows past `filled` are written by the decode kernel.
        const grown = growCache(cache, width + maxNew);
        disposeCache(cache);
        cache = grown;
      }
    }
    let filled = width;
    for (let step = 0; step < maxNew; step++) {
      const data = (await (logits as tf.Tensor2D).data()) as Float32Array;
      logits?.dispose();
      logits = undefined;
      for (let row = 0; row < live.length; row++) {
        const state = live[row] as SequenceState;
        const rowLogits = data.subarray(row * vocab, (row + 1) * vocab);
        if (state.result.stepLogits) state.result.stepLogits.push(rowLogits.slice());
        const { token, logProb } = chooseToken(rowLogits, sampling, state.rng);
        state.result.tokens.push(token);
        state.result.logProbs.push(logProb);
        if (eos.has(token)) {
          finish(state, 'eos');
          continue;
        }
        if (state.decoder) {
          const before = state.text.length;
          state.text += state.decoder.push(token);
          const cut = findStop(state.text, stops, before);
          if (cut !== undefined) {
            state.text = state.text.slice(0, cut);
            finish(state, 'stop');
            continue;
          }
        }
        if (state.result.tokens.length >= maxNew) finish(state, 'length');
      }
      const keep = live.map((state, row) => (state.done ? -1 : row)).filter((row) => row >= 0);
      if (keep.length === 0) break;
      if (keep.length < live.length) {
        const old = cache as KvCache;
        cache = tf.tidy(() => {
          const rows = tf.tensor1d(keep, 'int32');
          return {
            keys: old.keys.map((k) => tf.gather(k, rows) as tf.Tensor4D),
            values: old.values.map((v) => tf.gather(v, rows) as tf.Tensor4D),
          };
        });
        disposeCache(old);
        live = keep.map((row) => live[row] as SequenceState);
      }
      const ids = new Int32Array(live.length);
      const positions = new Int32Array(live.length);
      live.forEach((state, row) => {
        const generated = state.result.tokens.length;
        ids[row] = state.result.tokens[generated - 1] as number;
        positions[row] = state.prompt.length + generated - 1;
      });
      if (preallocate) {
        const starts = new Int32Array(live.length);
        live.forEach((state, row) => {
          starts[row] = width - state.prompt.length;
        });
        const idsT = tf.tensor2d(ids, [live.length, 1], 'int32');
        const positionsT = tf.tensor2d(positions, [live.length, 1], 'int32');
        const startsT = tf.tensor1d(starts, 'int32');
        const old = cache as KvCache;
        try {
          const out = model.decodeStep(idsT, positionsT, startsT, old, filled, plan);
          // Written in place: the same tensors come back (the stock-op fallback returns new ones).
          disposeCacheExcept(old, out.cache);
          cache = out.cache;
          logits = out.logits;
        } finally {
          tf.dispose([idsT, positionsT, startsT]);
        }
        filled++;
        continue;
      }
      const keys = filled + 1;
      const bias = new Float32Array(live.length * keys);
      live.forEach((state, row) => {
        bias.fill(MASKED, row * keys, row * keys + (width - state.prompt.length));
      });
      const out = runStep(model, ids, positions, bias, live.length, 1, cache, plan);
      disposeCache(cache as KvCache);
      cache = out.cache;
      logits = out.logits;
      filled++;
    }
  } finally {
    logits?.dispose();
    if (cache) disposeCache(cache);
    disposeInferencePlan(plan);
  }
  return states.map((s) => s.result);

  function finish(state: SequenceState, reason: FinishReason): void {
    state.done = true;
    state.result.finishReason = reason;
    if (state.decoder) {
      if (reason !== 'stop') {
        state.text += state.decoder.flush();
        // A stop string can only be completed by flushing if it ends in U+FFFD; check anyway.
        const cut = findStop(state.text, stops, 0);
        if (cut !== undefined) state.text = state.text.slice(0, cut);
      }
      state.result.text = state.text;
    }
  }
}

/** Earliest index at which a stop string occurs in `text`, looking only at matches ending after `from`. */
function findStop(text: string, stops: string[], from: number): number | undefined {
  let best: number | undefined;
  for (const stop of stops) {
    const index = text.indexOf(stop, Math.max(0, from - stop.length + 1));
    if (index >= 0 && (best === undefined || index < best)) best = index;
  }
  return best;
}

function runStep(
  model: TransformerModel,
  ids: Int32Array,
  positions: Int32Array,
  bias: Float32Array | tf.Tensor4D,
  batch: number,
  width: number,
  past: KvCache | undefined,
  plan: InferencePlan,
): { logits: tf.Tensor2D; cache: KvCache } {
  const idsT = tf.tensor2d(ids, [batch, width], 'int32');
  const positionsT = tf.tensor2d(positions, [batch, width], 'int32');
  const biasT =
    bias instanceof tf.Tensor
      ? bias
      : tf.tensor4d(bias, [batch, 1, width, bias.length / (batch * width)], 'float32');
  try {
    return model.step(idsT, positionsT, biasT, past, plan);
  } finally {
    tf.dispose([idsT, positionsT, biasT]);
  }
}

/** The cache with room for `rows` positions (zeros past the filled ones); new tensors. */
function growCache(cache: KvCache, rows: number): KvCache {
  return tf.tidy(() => {
    const grow = (t: tf.Tensor4D) =>
      tf.pad(t, [
        [0, 0],
        [0, 0],
        [0, rows - t.shape[2]],
        [0, 0],
      ]) as tf.Tensor4D;
    return { keys: cache.keys.map(grow), values: cache.values.map(grow) } as never;
  }) as unknown as KvCache;
}

/** Disposes the tensors of `cache` that `keep` does not hold. */
function disposeCacheExcept(cache: KvCache, keep: KvCache): void {
  const kept = new Set<tf.Tensor>([...keep.keys, ...keep.values]);
  for (const t of [...cache.keys, ...cache.values]) if (!kept.has(t)) t.dispose();
}

function disposeCache(cache: KvCache): void {
  for (const t of cache.keys) t.dispose();
  for (const t of cache.values) t.dispose();
}
