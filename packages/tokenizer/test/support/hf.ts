import { createRequire } from 'node:module';

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
  let next = 256;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    vocab[String.fromCharCode(printable ? b : next++)] = b;
  }
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    ...overrides,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: [],
      ...((overrides.model as Record<string, unknown> | undefined) ?? {}),
    },
  };
}
