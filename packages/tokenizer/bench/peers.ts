import { createRequire } from 'node:module';
import * as gptCl100k from 'gpt-tokenizer/encoding/cl100k_base';
import * as gptR50k from 'gpt-tokenizer/encoding/r50k_base';
import { get_encoding, type TiktokenEncoding } from 'tiktoken';
import { Tokenizer } from '../src/index.ts';
import { type ReferenceTokenizerSpec, referenceTokenizerPath } from '../test/support/reference-tokenizers.ts';

/** One implementation under test: synchronous or async encode/decode over the same vocabulary. */
export interface Peer {
  encode: (text: string) => ArrayLike<number> | Promise<ArrayLike<number>>;
  decode: (ids: number[]) => string | Promise<string>;
  /** Releases native or wasm memory. */
  free?: () => void;
}

export const PEER_NAMES = [
  '@linewise/tokenizer',
  'gpt-tokenizer',
  'tiktoken (wasm)',
  'tokenizers (HF, native)',
] as const;
export type PeerName = (typeof PEER_NAMES)[number];

interface Vocabulary {
  spec: ReferenceTokenizerSpec;
  gpt: typeof gptCl100k;
  tiktoken: TiktokenEncoding;
}

/** cl100k and r50k as tiktoken defines them: the Llama-3 and GPT-2 pre-tokenizers are exactly theirs. */
export const VOCABULARIES: Record<string, Vocabulary> = {
  cl100k: {
    spec: { name: 'bench-cl100k', ranks: 'cl100k_base', flavour: 'llama3', addedTokens: [] },
    gpt: gptCl100k,
    tiktoken: 'cl100k_base',
  },
  'gpt2 (r50k)': {
    spec: { name: 'bench-r50k', ranks: 'r50k_base', flavour: 'gpt2', addedTokens: [] },
    gpt: gptR50k as unknown as typeof gptCl100k,
    tiktoken: 'r50k_base',
  },
};

export function createPeer(name: PeerName, vocabulary: string): Peer {
  const vocab = VOCABULARIES[vocabulary];
  if (!vocab) throw new Error(`unknown vocabulary ${vocabulary}`);
  const path = referenceTokenizerPath(vocab.spec);
  switch (name) {
    case '@linewise/tokenizer': {
      const ours = Tokenizer.fromFile(path);
      return {
        encode: (t) => ours.encode(t, { addSpecialTokens: false }),
        decode: (ids) => ours.decode(ids),
      };
    }
    case 'gpt-tokenizer': {
      const none = new Set<string>();
      return {
        encode: (t) => vocab.gpt.encode(t, { disallowedSpecial: none }),
        decode: (ids) => vocab.gpt.decode(ids),
      };
    }
    case 'tiktoken (wasm)': {
      const encoding = get_encoding(vocab.tiktoken);
      const utf8 = new TextDecoder();
      return {
        encode: (t) => encoding.encode(t, [], []),
        decode: (ids) => utf8.decode(encoding.decode(Uint32Array.from(ids))),
        free: () => encoding.free(),
      };
    }
    case 'tokenizers (HF, native)': {
      const hf = createRequire(import.meta.url)('tokenizers') as typeof import('tokenizers');
      const tokenizer = hf.Tokenizer.fromFile(path);
      return {
        encode: async (t) => (await tokenizer.encode(t, null, { addSpecialTokens: false })).getIds(),
        decode: (ids) => tokenizer.decode(ids, false),
      };
    }
  }
}
