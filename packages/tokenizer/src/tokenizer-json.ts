import type { AddedToken } from './added-vocabulary.ts';

export interface ByteLevelBpeJsonParts {
  vocab: Record<string, number>;
  /** Merges as [left, right] pairs, or "left right" strings. */
  merges: ReadonlyArray<readonly [string, string] | string>;
  normalizer: Record<string, unknown> | null;
  preTokenizer: Record<string, unknown>;
  addedTokens?: ReadonlyArray<Omit<AddedToken, 'id'> & { id: number }>;
  postProcessor?: Record<string, unknown> | null;
  ignoreMerges?: boolean;
}

/** A complete `tokenizer.json` object for a byte-level BPE, in the layout HF writes. */
export function byteLevelBpeJson(parts: ByteLevelBpeJsonParts): Record<string, unknown> {
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: (parts.addedTokens ?? []).map((t) => ({
      id: t.id,
      content: t.content,
      single_word: t.singleWord,
      lstrip: t.lstrip,
      rstrip: t.rstrip,
      normalized: t.normalized,
      special: t.special,
    })),
    normalizer: parts.normalizer,
    pre_tokenizer: parts.preTokenizer,
    post_processor: parts.postProcessor ?? {
      type: 'ByteLevel',
      add_prefix_space: false,
      trim_offsets: false,
      use_regex: false,
    },
    decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: parts.ignoreMerges ?? false,
      vocab: parts.vocab,
      merges: parts.merges,
    },
  };
}
