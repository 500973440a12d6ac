import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Tokenizer, TokenizerConfigError, TokenizerInputError, UnknownTokenIdError } from '../src/index.ts';
import { hfEncodeAll, hfFromJson, minimalTokenizerJson } from './support/hf.ts';
import { REFERENCE_TOKENIZERS, referenceTokenizerPath } from './support/reference-tokenizers.ts';

const dir = mkdtempSync(join(tmpdir(), 'linewise-errors-'));

function configError(load: () => unknown): TokenizerConfigError {
  try {
    load();
  } catch (error) {
    expect(error).toBeInstanceOf(TokenizerConfigError);
    return error as TokenizerConfigError;
  }
  throw new Error('expected a TokenizerConfigError');
}

function withOverrides(overrides: Record<string, unknown>): Record<string, unknown> {
  return minimalTokenizerJson(overrides);
}

describe('tokenizer.json files that cannot be used', () => {
  it('a missing file names the file', () => {
    const error = configError(() => Tokenizer.fromFile(join(dir, 'nope.json')));
    expect(error.code).toBe('FILE_UNREADABLE');
    expect(error.file).toBe(join(dir, 'nope.json'));
    expect(error.message).toContain('nope.json');
  });

  it('malformed JSON names the file, line and column', () => {
    const path = join(dir, 'malformed.json');
    writeFileSync(path, '{\n  "version": "1.0",\n  "model": { "type": "BPE", }\n}\n');
    const error = configError(() => Tokenizer.fromFile(path));
    expect(error.code).toBe('JSON_MALFORMED');
    expect(error.message).toMatch(/malformed\.json: not valid JSON at line 3, column \d+/);
  });

  it('a truncated real tokenizer.json is reported as malformed, not half-loaded', () => {
    const full = readFileSync(
      referenceTokenizerPath(REFERENCE_TOKENIZERS[0] as (typeof REFERENCE_TOKENIZERS)[0]),
      'utf8',
    );
    const path = join(dir, 'truncated.json');
    writeFileSync(path, full.slice(0, Math.floor(full.length / 2)));
    const error = configError(() => Tokenizer.fromFile(path));
    expect(error.code).toBe('JSON_MALFORMED');
    expect(error.file).toBe(path);
  });

  it.each([
    ['no model', { model: undefined }, 'model', 'CONFIG_INVALID'],
    ['a Unigram model', { model: { type: 'Unigram' } }, 'model.type', 'CONFIG_UNSUPPORTED'],
    ['a WordPiece model', { model: { type: 'WordPiece' } }, 'model.type', 'CONFIG_UNSUPPORTED'],
    ['byte fallback', { model: { byte_fallback: true } }, 'model.byte_fallback', 'CONFIG_UNSUPPORTED'],
    [
      'a subword prefix',
      { model: { continuing_subword_prefix: '##' } },
      'model.continuing_subword_prefix',
      'CONFIG_UNSUPPORTED',
    ],
    ['BPE dropout', { model: { dropout: 0.1 } }, 'model.dropout', 'CONFIG_UNSUPPORTED'],
    [
      'a vocab id that is not an integer',
      { model: { vocab: { a: 1.5 } } },
      'model.vocab["a"]',
      'CONFIG_INVALID',
    ],
    ['a merge of unknown tokens', { model: { merges: [['zz', 'q']] } }, 'model.merges[0]', 'CONFIG_INVALID'],
    ['a merge with three parts', { model: { merges: ['a b c'] } }, 'model.merges[0]', 'CONFIG_INVALID'],
    ['an unknown unk_token', { model: { unk_token: '<unk>' } }, 'model.unk_token', 'CONFIG_INVALID'],
    [
      'a Metaspace pre-tokenizer',
      { pre_tokenizer: { type: 'Metaspace', replacement: '▁' } },
      'pre_tokenizer.type',
      'CONFIG_UNSUPPORTED',
    ],
    [
      'an unknown pre-tokenizer inside a sequence',
      { pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'Whitespace' }, { type: 'ByteLevel' }] } },
      'pre_tokenizer.pretokenizers[0].type',
      'CONFIG_UNSUPPORTED',
    ],
    [
      'a regex Oniguruma has but JavaScript cannot match the same way',
      {
        pre_tokenizer: {
          type: 'Sequence',
          pretokenizers: [
            { type: 'Split', pattern: { Regex: '(?>a+)b' }, behavior: 'Isolated', invert: false },
            { type: 'ByteLevel' },
          ],
        },
      },
      'pre_tokenizer.pretokenizers[0].pattern.Regex',
      'CONFIG_UNSUPPORTED',
    ],
    [
      'a split with an unknown behaviour',
      {
        pre_tokenizer: {
          type: 'Sequence',
          pretokenizers: [
            { type: 'Split', pattern: { Regex: 'a' }, behavior: 'Sideways', invert: false },
            { type: 'ByteLevel' },
          ],
        },
      },
      'pre_tokenizer.pretokenizers[0].behavior',
      'CONFIG_INVALID',
    ],
    ['no ByteLevel pre-tokenizer', { pre_tokenizer: null }, 'pre_tokenizer', 'CONFIG_UNSUPPORTED'],
    [
      'a Lowercase normalizer',
      { normalizer: { type: 'Lowercase' } },
      'normalizer.type',
      'CONFIG_UNSUPPORTED',
    ],
    ['no decoder', { decoder: null }, 'decoder', 'CONFIG_UNSUPPORTED'],
    [
      'a WordPiece decoder',
      { decoder: { type: 'WordPiece', prefix: '##' } },
      'decoder.type',
      'CONFIG_UNSUPPORTED',
    ],
    [
      'a post-processor that is not supported',
      { post_processor: { type: 'Mystery' } },
      'post_processor.type',
      'CONFIG_UNSUPPORTED',
    ],
    [
      'an added token without content',
      { added_tokens: [{ id: 256, special: true }] },
      'added_tokens[0].content',
      'CONFIG_INVALID',
    ],
    [
      'an added token whose HF id belongs to another token',
      { model: { vocab: { a: 1, b: 2 } }, added_tokens: [{ id: 9, content: '<x>', special: true }] },
      'added_tokens[0]',
      'CONFIG_INVALID',
    ],
  ])('%s names the field', (_name, overrides, field, code) => {
    const json = withOverrides(overrides as Record<string, unknown>);
    if ((overrides as Record<string, unknown>).model === undefined && 'model' in overrides) delete json.model;
    const error = configError(() => Tokenizer.fromJSON(json, { file: 'custom/tokenizer.json' }));
    expect(error.field).toBe(field);
    expect(error.code).toBe(code);
    expect(error.message.startsWith(`custom/tokenizer.json: ${field}`)).toBe(true);
  });

  it('a root that is not an object is refused', () => {
    expect(() => Tokenizer.fromJSON([1, 2, 3])).toThrow(/expected an object, got an array/);
  });
});

describe('added-token ids that HF reassigns', () => {
  it('are reassigned as HF does, with a warning, and encode the same', async () => {
    const json = withOverrides({
      added_tokens: [
        {
          id: 900,
          content: '<a>',
          single_word: false,
          lstrip: false,
          rstrip: false,
          normalized: false,
          special: true,
        },
        {
          id: 5,
          content: '<b>',
          single_word: false,
          lstrip: false,
          rstrip: false,
          normalized: false,
          special: false,
        },
      ],
    });
    const ours = Tokenizer.fromJSON(json);
    expect(ours.tokenToId('<a>')).toBe(256);
    expect(ours.tokenToId('<b>')).toBe(257);
    expect(ours.warnings).toHaveLength(2);
    expect(ours.warnings[0]).toMatch(
      /added_tokens\[0\] "<a>" has id 900 in the file; like HF, it gets id 256/,
    );
    const texts = ['x<a>y<b>z', '<b><a>'];
    expect(texts.map((t) => ours.encode(t))).toEqual(await hfEncodeAll(hfFromJson(json), texts));
  });
});

describe('bad input', () => {
  const tokenizer = Tokenizer.fromJSON(minimalTokenizerJson());

  it.each([42, null, undefined, { text: 'x' }, ['x']])('encode(%s) is a TokenizerInputError', (value) => {
    expect(() => tokenizer.encode(value as unknown as string)).toThrow(TokenizerInputError);
    expect(() => tokenizer.encode(value as unknown as string)).toThrow(/encode\(\) expects a string/);
  });

  it.each([
    [[1, 2, 256], 256, 2],
    [[-1], -1, 0],
    [[0, 1.5], 1.5, 1],
    [[0, '7'], '7', 1],
    [[Number.NaN], Number.NaN, 0],
  ])('decode(%j) names the unknown id and its position', (ids, id, position) => {
    for (const call of [
      () => tokenizer.decode(ids as number[]),
      () => tokenizer.lineAnchors(ids as number[]),
    ]) {
      try {
        call();
        expect.unreachable();
      } catch (error) {
        expect(error).toBeInstanceOf(UnknownTokenIdError);
        expect((error as UnknownTokenIdError).id).toEqual(id);
        expect((error as UnknownTokenIdError).position).toBe(position);
        expect((error as UnknownTokenIdError).code).toBe('UNKNOWN_TOKEN_ID');
      }
    }
  });

  it('decode of something that is not an array of ids is a TokenizerInputError', () => {
    expect(() => tokenizer.decode('1,2' as unknown as number[])).toThrow(TokenizerInputError);
    expect(() => tokenizer.decode(7 as unknown as number[])).toThrow(
      /expected an array of token ids, got number/,
    );
  });

  it('the streaming decoder reports an unknown id with its stream position', () => {
    const stream = tokenizer.createDecodeStream();
    stream.push(65);
    expect(() => stream.push(1000)).toThrow(/token id 1000 at position 1/);
  });

  it('typed arrays of ids are accepted', () => {
    expect(tokenizer.decode(Uint32Array.of(104, 105))).toBe('hi');
  });
});

describe('save', () => {
  it('writes atomically and leaves no temporary file', () => {
    const target = join(mkdtempSync(join(tmpdir(), 'linewise-save-')), 'nested', 'tokenizer.json');
    const tokenizer = Tokenizer.fromJSON(minimalTokenizerJson());
    tokenizer.save(target);
    tokenizer.save(target);
    expect(readdirSync(join(target, '..'))).toEqual(['tokenizer.json']);
    expect(Tokenizer.fromFile(target).encode('abc')).toEqual([97, 98, 99]);
  });
});
