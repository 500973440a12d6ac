import { describe, expect, it } from 'vitest';
import { FieldReader } from '../src/json-fields.ts';
import { RegexTranslationError, translateOniguruma } from '../src/oniguruma.ts';
import { CL100K_PATTERN, GPT2_PATTERN, QWEN2_PATTERN } from '../src/patterns.ts';
import { parsePreTokenizer, splitStage } from '../src/pre-tokenizers.ts';
import { scannerFor } from '../src/scanners.ts';
import { buildCodeCorpus } from './support/corpus.ts';
import { EDGE_CASES, fuzzStrings } from './support/edge-cases.ts';
import { hfPreTokenize } from './support/hf.ts';

const SAMPLES = [
  ...EDGE_CASES,
  'a  \nb  ',
  'a\nb\n\nb',
  'a\rb\u2028c\nd',
  'x١٢3y',
  'héllo_wörld-x',
  "'S 'ſ 'K 'k 'ß 'SS",
  'aF g 0x1f',
  'a中文b',
  'ab cab',
  'baab',
  'xx\n',
  'a!b',
  'a\u0085\ufeffb',
];

function ours(preTokenizer: Record<string, unknown>, text: string): string[] {
  const { stage } = parsePreTokenizer(preTokenizer, 'pre_tokenizer', new FieldReader(undefined));
  return stage(text.toWellFormed()).filter((p) => p.length > 0);
}

function split(regex: string, behavior = 'Isolated', invert = false): Record<string, unknown> {
  return { type: 'Split', pattern: { Regex: regex }, behavior, invert };
}

describe('Oniguruma regex translation', () => {
  // Each pattern exercises one difference between Oniguruma and JavaScript; HF's pre-tokenizer
  // (real Oniguruma) is the judge.
  const patterns = [
    '\\s+$',
    '^b',
    '.',
    '\\d+',
    '\\w+',
    "(?i:'s|'k)",
    "(?i:'ss|'st)",
    '\\s',
    '[\\s]+',
    '\\S+',
    '\\h+',
    '\\p{Han}+',
    '\\A.',
    'x\\z',
    'x\\Z',
    '[[:alpha:]]+',
    '[[:punct:]]',
    '[[:upper:]]+',
    '[[:lower:]]+',
    '[[:digit:][:space:]]+',
    '[[:alnum:]]+',
    '[[:xdigit:]]+',
    '\\bab',
    'a\\B',
    'a*',
    '\\!',
    'a{,2}',
    '\\x{41}|\\x42',
    '[\\x41-\\x43]+',
    '(?:ab|a)(?=b)',
    '(?<=a)b',
    '[^\\r\\n\\p{L}\\p{N}]?\\p{L}+',
    '[一-龥ࠀ-一가-퟿]+',
    '\\s?\\p{P}+',
    'a{2}|[{}]',
    GPT2_PATTERN,
    CL100K_PATTERN,
    QWEN2_PATTERN,
  ];
  it.each(patterns)('%s splits every sample as Oniguruma does', (pattern) => {
    for (const text of SAMPLES) {
      expect(ours(split(pattern), text), JSON.stringify(text)).toEqual(hfPreTokenize(split(pattern), text));
    }
  });

  it.each([
    ['(?>a)', /atomic/],
    ['a++', /possessive/],
    ['[a&&b]', /intersection/],
    ['\\K', /not supported/],
    ['(?i)a', /not supported/],
    ['[[:nope:]]', /POSIX class/],
    ['\\p{NoSuchProperty}', /unknown Unicode property/],
    ['(a', /unterminated group/],
    ['[ab', /unterminated character class/],
  ])('refuses %s with a RegexTranslationError', (pattern, message) => {
    expect(() => translateOniguruma(pattern)).toThrow(RegexTranslationError);
    expect(() => translateOniguruma(pattern)).toThrow(message);
  });
});

describe('pre-tokenizers agree with HF', () => {
  const configs: Array<[string, Record<string, unknown>]> = [];
  for (const behavior of ['Isolated', 'Removed', 'MergedWithPrevious', 'MergedWithNext', 'Contiguous']) {
    for (const invert of [false, true]) {
      configs.push([`Split \\s+ ${behavior} invert=${invert}`, split('\\s+', behavior, invert)]);
      configs.push([
        `Split "--" ${behavior} invert=${invert}`,
        { type: 'Split', pattern: { String: '--' }, behavior, invert },
      ]);
    }
  }
  configs.push(['Digits individual', { type: 'Digits', individual_digits: true }]);
  configs.push(['Digits grouped', { type: 'Digits', individual_digits: false }]);
  configs.push([
    'Sequence of Split and Digits',
    { type: 'Sequence', pretokenizers: [split('\\s?\\p{L}+'), { type: 'Digits', individual_digits: true }] },
  ]);
  const texts = [...SAMPLES, 'a--b----c -- d--', '  lead  and  trail  ', 'x123y4567 89'];
  it.each(configs)('%s', (_name, config) => {
    for (const text of texts)
      expect(ours(config, text), JSON.stringify(text)).toEqual(hfPreTokenize(config, text));
  });
});

describe('hand-written scanners', () => {
  const corpus = buildCodeCorpus(1_500_000).documents.map((d) => d.text);
  const texts = [...EDGE_CASES, ...SAMPLES, ...fuzzStrings(4242, 5000, 80), ...corpus];
  it.each([
    ['GPT-2', GPT2_PATTERN],
    ['cl100k / Llama-3', CL100K_PATTERN],
    ['Qwen2', QWEN2_PATTERN],
  ])('%s scanner matches its regex piece for piece', (_name, pattern) => {
    const scanner = scannerFor(pattern);
    expect(scanner).toBeDefined();
    const regex = splitStage(translateOniguruma(pattern), 'Isolated', false);
    for (const text of texts) {
      const wellFormed = text.toWellFormed();
      const pieces: string[] = [];
      for (let start = 0; start < wellFormed.length; ) {
        const end = (scanner as NonNullable<typeof scanner>)(wellFormed, start);
        expect(end).toBeGreaterThan(start);
        pieces.push(wellFormed.slice(start, end));
        start = end;
      }
      expect(pieces).toEqual(regex(wellFormed).filter((p) => p.length > 0));
    }
  });
});
