import { hfPreTokenize } from './hf.ts';

type Ranges = Array<[number, number]>;

function toRanges(codePoints: Iterable<number>): Ranges {
  const ranges: Ranges = [];
  for (const cp of [...codePoints].sort((a, b) => a - b)) {
    const last = ranges[ranges.length - 1];
    if (last && last[1] === cp - 1) last[1] = cp;
    else ranges.push([cp, cp]);
  }
  return ranges;
}

function nodeCodePoints(test: RegExp): number[] {
  const out: number[] = [];
  for (let cp = 0; cp < 0x110000; cp++) {
    if (cp >= 0xd800 && cp < 0xe000) continue;
    if (test.test(String.fromCodePoint(cp))) out.push(cp);
  }
  return out;
}

/**
 * Code points that Node's Unicode tables assign but the Oniguruma inside the HF binding (an older
 * Unicode version) treats as unassigned, found by asking HF's own engine which code points `\p{Cn}`
 * matches.
 */
export function onigurumaUnassignedButAssignedInNode(): Ranges {
  const candidates = nodeCodePoints(/^[^\p{Cn}\p{White_Space}\p{Cc}]$/u);
  const unassigned = new Set<number>();
  const split = { type: 'Split', pattern: { Regex: '\\p{Cn}' }, behavior: 'Removed', invert: false };
  for (let i = 0; i < candidates.length; i += 100_000) {
    const chunk = candidates.slice(i, i + 100_000);
    const kept = new Set<number>();
    for (const piece of hfPreTokenize(split, chunk.map((cp) => String.fromCodePoint(cp)).join(' '))) {
      for (const ch of piece) kept.add(ch.codePointAt(0) as number);
    }
    for (const cp of chunk) if (!kept.has(cp)) unassigned.add(cp);
  }
  return toRanges(unassigned);
}

/**
 * Numbers to Node (`\p{N}`) that HF's `Digits` pre-tokenizer (Rust's `char::is_numeric`, yet another
 * Unicode version) does not split off.
 */
export function numbersNotNumericInRust(): Ranges {
  const numbers = nodeCodePoints(/^\p{N}$/u);
  const text = numbers.map((cp) => `a${String.fromCodePoint(cp)}`).join('');
  const isolated = new Set<number>();
  for (const piece of hfPreTokenize({ type: 'Digits', individual_digits: true }, text)) {
    const cp = piece.codePointAt(0) as number;
    if (piece === String.fromCodePoint(cp) && cp !== 0x61) isolated.add(cp);
  }
  return toRanges(numbers.filter((cp) => !isolated.has(cp)));
}
