import { describe, expect, it } from 'vitest';
import { Tokenizer } from '../src/index.ts';
import { hfEncodeAll, hfFromJson, minimalTokenizerJson } from './support/hf.ts';

function addedToken(
  content: string,
  flags: Partial<Record<'single_word' | 'lstrip' | 'rstrip' | 'normalized' | 'special', boolean>>,
) {
  return {
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: false,
    ...flags,
  };
}

/** Added-token matching (leftmost-longest, single_word, lstrip, rstrip, normalized) checked against HF. */
describe('added tokens', () => {
  const json = minimalTokenizerJson({
    normalizer: { type: 'NFC' },
    added_tokens: [
      { id: 256, ...addedToken('SW', { single_word: true }) },
      { id: 257, ...addedToken('<L>', { lstrip: true, special: true }) },
      { id: 258, ...addedToken('<R>', { rstrip: true, special: true }) },
      { id: 259, ...addedToken('<LR>', { lstrip: true, rstrip: true }) },
      { id: 260, ...addedToken('<a', {}) },
      { id: 261, ...addedToken('<ab>', {}) },
      { id: 262, ...addedToken('é', { normalized: true }) },
    ],
  });
  const ours = Tokenizer.fromJSON(json);
  const reference = hfFromJson(json);

  it('single_word uses the same word characters as HF', async () => {
    const neighbours = [
      'a',
      '_',
      '\u200d',
      '\u200c',
      '²',
      '½',
      '\u0301',
      '1',
      '٣',
      'Ⅻ',
      '-',
      ' ',
      'é',
      '\ufe0f',
      '①',
      '😀',
      '',
    ];
    const texts = neighbours.flatMap((c) => [`${c}SW`, `SW${c}`, `x ${c}SW${c} y`]);
    expect(texts.map((t) => ours.encode(t))).toEqual(await hfEncodeAll(reference, texts));
  });

  it('lstrip, rstrip, leftmost-longest and normalized tokens match as in HF', async () => {
    const texts = [
      'x   <L>  y',
      'x   <R>  y',
      ' \t <LR> \n z',
      '<L><L>  <R>  <R>',
      '<ab> <a <abc',
      'caf\u0065\u0301 café é',
      '\u3000<L>\u00a0<R>\u2028',
      '<L>',
      '',
    ];
    expect(texts.map((t) => ours.encode(t))).toEqual(await hfEncodeAll(reference, texts));
  });
});
