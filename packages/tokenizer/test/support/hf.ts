import { createRequire } from 'node:module';
import { BYTE_TO_CHAR } from '../../src/byte-level.ts';
import { byteLevelBpeJson } from '../../src/tokenizer-json.ts';

/**
 * The official Hugging Face implementation (`tokenizers` on npm, Rust through N-API): the reference
 * every agreement test compares against. A dev dependency only.
 */
export type HfTokenizer = import('tokenizers').Tokenizer;
const hf = createRequire(import.meta.url)('tokenizers') as typeof import('tokenizers');

export function hfFromFile(path: string): HfTokenizer {
  return hf.Tokenizer.fromFile(path);
}

export function hfFromJson(json: unknown): HfTokenizer {
  return hf.Tokenizer.fromString(JSON.stringify(json));
}

export async function hfEncodeAll(
  tokenizer: HfTokenizer,
  texts: readonly string[],
  addSpecialTokens = true,
): Promise<number[][]> {
  const encodings = await tokenizer.encodeBatch([...texts], { addSpecialTokens });
  return encodings.map((e) => Array.from(e.getIds()));
}

/** HF's pieces for `text` under the pre-tokenizer of `json` (a Split with an Oniguruma regex, say). */
export function hfPreTokenize(preTokenizer: Record<string, unknown>, text: string): string[] {
  const tokenizer = hfFromJson(minimalTokenizerJson({ pre_tokenizer: preTokenizer }));
  return (tokenizer.getPreTokenizer() as import('tokenizers').PreTokenizer)
    .preTokenizeString(text)
    .map((p) => p[0]);
}

/** The smallest valid byte-level BPE tokenizer.json (256 byte tokens, no merges), with overrides. */
export function minimalTokenizerJson(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const vocab: Record<string, number> = {};
  BYTE_TO_CHAR.forEach((ch, b) => {
    vocab[ch] = b;
  });
  const base = byteLevelBpeJson({
    vocab,
    merges: [],
    normalizer: null,
    preTokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    postProcessor: null,
  });
  return {
    ...base,
    ...overrides,
    model: {
      ...(base.model as Record<string, unknown>),
      ...((overrides.model as Record<string, unknown> | undefined) ?? {}),
    },
  };
}
