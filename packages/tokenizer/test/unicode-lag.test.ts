import { describe, expect, it } from 'vitest';
import { Tokenizer } from '../src/index.ts';
import { translateOniguruma } from '../src/oniguruma.ts';
import { UNASSIGNED_IN_ONIGURUMA } from '../src/unicode-lag.ts';
import { seededRandom } from './support/edge-cases.ts';
import { hfEncodeAll, hfFromFile, hfPreTokenize } from './support/hf.ts';
import {
  numbersNotNumericInRust,
  onigurumaUnassignedButAssignedInNode,
} from './support/oniguruma-unassigned.ts';
import { REFERENCE_TOKENIZERS, referenceTokenizerPath } from './support/reference-tokenizers.ts';

/**
 * Node's Unicode is newer than the HF binding's Oniguruma: thousands of recently assigned code points
 * are letters or symbols to JavaScript and unassigned to HF. Pre-tokenization must side with HF.
 */
const lagging: number[] = UNASSIGNED_IN_ONIGURUMA.flatMap(([a, b]) =>
  Array.from({ length: b - a + 1 }, (_, k) => a + k),
);

describe('code points Oniguruma does not know yet', () => {
  it('the committed table covers exactly what this Node assigns and HF does not (else: pnpm generate:unicode)', () => {
    const now = onigurumaUnassignedButAssignedInNode();
    const inTable = new Set(lagging);
    const missing = now
      .flatMap(([a, b]) => Array.from({ length: b - a + 1 }, (_, k) => a + k))
      .filter((cp) => !inTable.has(cp));
    expect(missing.map((cp) => cp.toString(16))).toEqual([]);
    expect(lagging.length).toBeGreaterThan(0);
  });

  it.each([
    ['\\p{L}', []],
    ['\\p{N}', []],
    ['\\p{M}', []],
    ['[\\p{P}\\p{S}]', []],
    ['[^\\s\\p{L}\\p{N}]', []],
    ['\\w', []],
    ['\\d', []],
    ['\\p{Lu}', []],
    // U+0295 moved from Ll to Lo in Unicode 16 (CATEGORY_MOVES in src/oniguruma.ts).
    ['\\p{Ll}', []],
    ['\\p{Lo}', []],
    ['[[:lower:]]', []],
    ['[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]', []],
  ] as const)('%s matches the same code points as in Oniguruma, over all of Unicode', (pattern, known) => {
    const ours = translateOniguruma(pattern);
    const candidates: number[] = [];
    for (let cp = 0x21; cp < 0x110000; cp++) {
      if ((cp >= 0xd800 && cp < 0xe000) || /\p{White_Space}/u.test(String.fromCodePoint(cp))) continue;
      candidates.push(cp);
    }
    const differences: number[] = [];
    const split = { type: 'Split', pattern: { Regex: pattern }, behavior: 'Removed', invert: false };
    for (let i = 0; i < candidates.length; i += 100_000) {
      const chunk = candidates.slice(i, i + 100_000);
      const kept = new Set<number>();
      for (const piece of hfPreTokenize(split, chunk.map((cp) => String.fromCodePoint(cp)).join(' '))) {
        for (const ch of piece) kept.add(ch.codePointAt(0) as number);
      }
      for (const cp of chunk) {
        ours.lastIndex = 0;
        const mine = ours.test(String.fromCodePoint(cp));
        if (mine === kept.has(cp)) differences.push(cp);
      }
    }
    expect(differences).toEqual(known);
  });

  it("HF's Digits pre-tokenizer (Rust's is_numeric) agrees with Node on every number", () => {
    expect(numbersNotNumericInRust()).toEqual([]);
  });

  it.each(REFERENCE_TOKENIZERS.map((spec) => [spec.name, spec] as const))(
    '%s encodes text holding them as HF does',
    async (_name, spec) => {
      const path = referenceTokenizerPath(spec);
      const ours = Tokenizer.fromFile(path);
      const random = seededRandom(5);
      const texts: string[] = [];
      for (let i = 0; i < 300; i++) {
        const ch = String.fromCodePoint(lagging[Math.floor(random() * lagging.length)] as number);
        texts.push(`a${ch}b ${ch}x 1${ch}2 ${ch}${ch} (${ch}) '${ch} \n${ch}\t${ch}`);
      }
      expect(texts.map((t) => ours.encode(t))).toEqual(await hfEncodeAll(hfFromFile(path), texts));
    },
  );
});
