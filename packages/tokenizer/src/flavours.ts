/**
 * Normalizer and pre-tokenizer of the tokenizer families linewise supports, as they appear in the
 * models' `tokenizer.json` files. `trainBpe` uses them, and the agreement tests pair them with real
 * vocabularies.
 */
import { CL100K_PATTERN, QWEN2_PATTERN } from './patterns.ts';

export type FlavourName = 'gpt2' | 'qwen2' | 'llama3' | 'starcoder2' | 'deepseek-coder' | 'o200k';

export interface Flavour {
  /** The model family whose tokenizer.json this was taken from. */
  readonly model: string;
  readonly normalizer: Record<string, unknown> | null;
  readonly preTokenizer: Record<string, unknown>;
  /** Whether the family's BPE model sets `ignore_merges` (whole words found in the vocabulary win). */
  readonly ignoreMerges: boolean;
}

const BYTE_LEVEL_LAST = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false };

function split(regex: string, behavior = 'Isolated', invert = false): Record<string, unknown> {
  return { type: 'Split', pattern: { Regex: regex }, behavior, invert };
}

export const FLAVOURS: Readonly<Record<FlavourName, Flavour>> = {
  gpt2: {
    model: 'GPT-2',
    normalizer: null,
    preTokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    ignoreMerges: false,
  },
  qwen2: {
    model: 'Qwen2 / Qwen2.5-Coder',
    normalizer: { type: 'NFC' },
    preTokenizer: {
      type: 'Sequence',
      pretokenizers: [split(QWEN2_PATTERN), BYTE_LEVEL_LAST],
    },
    ignoreMerges: false,
  },
  llama3: {
    model: 'Llama-3',
    normalizer: null,
    preTokenizer: {
      type: 'Sequence',
      pretokenizers: [split(CL100K_PATTERN), BYTE_LEVEL_LAST],
    },
    ignoreMerges: true,
  },
  starcoder2: {
    model: 'StarCoder2',
    normalizer: null,
    preTokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Digits', individual_digits: true },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
      ],
    },
    ignoreMerges: false,
  },
  'deepseek-coder': {
    model: 'DeepSeek-Coder',
    normalizer: { type: 'Sequence', normalizers: [] },
    preTokenizer: {
      type: 'Sequence',
      pretokenizers: [
        split('[\r\n]'),
        split('\\s?\\p{L}+'),
        split('\\s?\\p{P}+'),
        split('[一-龥ࠀ-一가-퟿]+'),
        { type: 'Digits', individual_digits: true },
        BYTE_LEVEL_LAST,
      ],
    },
    ignoreMerges: false,
  },
  o200k: {
    model: 'GPT-4o (o200k)',
    normalizer: null,
    preTokenizer: {
      type: 'Sequence',
      pretokenizers: [
        split(
          "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
          'Removed',
          true,
        ),
        BYTE_LEVEL_LAST,
      ],
    },
    ignoreMerges: false,
  },
};

export const FLAVOUR_NAMES = Object.keys(FLAVOURS) as FlavourName[];

export function flavour(name: FlavourName): Flavour {
  const found = FLAVOURS[name];
  if (!found)
    throw new TypeError(`unknown tokenizer flavour "${String(name)}" (known: ${FLAVOUR_NAMES.join(', ')})`);
  return found;
}
