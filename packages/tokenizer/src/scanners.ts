import { isUnassignedInOniguruma } from './oniguruma.ts';
import { CL100K_PATTERN, GPT2_PATTERN, QWEN2_PATTERN } from './patterns.ts';

/**
 * Hand-written equivalents of the most common pre-tokenizer regexes. A scanner returns the end of
 * the match that starts at `start` (these regexes match at every position, so the matches tile the
 * text). Scanning without a RegExp lets the model look pieces up in its cache by position, with no
 * substring allocated for a cache hit, which is most of the encode cost. Each scanner is checked
 * against the regex it replaces, match for match, by the tests.
 */
export type Scanner = (text: string, start: number) => number;

const LETTER = 1;
const NUMBER = 2;
const SPACE = 4;

let bmpClasses: Uint8Array | undefined;
/**
 * Unicode class bits (letter, number, White_Space) of every BMP code unit, built on first use, as
 * Oniguruma's Unicode version has them (code points it does not know yet are in no class).
 */
function classes(): Uint8Array {
  if (bmpClasses) return bmpClasses;
  const table = new Uint8Array(0x10000);
  const letter = /\p{L}/u;
  const number = /\p{N}/u;
  const space = /\p{White_Space}/u;
  for (let c = 0; c < 0x10000; c++) {
    if ((c >= 0xd800 && c < 0xe000) || isUnassignedInOniguruma(c)) continue;
    const ch = String.fromCharCode(c);
    table[c] = (letter.test(ch) ? LETTER : 0) | (number.test(ch) ? NUMBER : 0) | (space.test(ch) ? SPACE : 0);
  }
  bmpClasses = table;
  return table;
}

const astralLetter = /\p{L}/u;
const astralNumber = /\p{N}/u;

/** Class bits of the code point at `i` (0 past the end); surrogate pairs are classified whole. */
function classAt(table: Uint8Array, text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c < 0xd800 || c >= 0xe000) return table[c] ?? 0;
  if (Number.isNaN(c)) return 0;
  const cp = text.codePointAt(i) as number;
  if (cp < 0x10000 || isUnassignedInOniguruma(cp)) return 0;
  const ch = String.fromCodePoint(cp);
  return (astralLetter.test(ch) ? LETTER : 0) | (astralNumber.test(ch) ? NUMBER : 0);
}

function width(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c >= 0xd800 && c < 0xdc00) {
    const d = text.charCodeAt(i + 1);
    if (d >= 0xdc00 && d < 0xe000) return 2;
  }
  return 1;
}

function isLineBreak(c: number): boolean {
  return c === 0x0a || c === 0x0d;
}

/** End of the run of code points from `i` whose class has `bit`. */
function runOf(table: Uint8Array, text: string, i: number, bit: number): number {
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c < 0xd800 || c >= 0xe000) {
      if (((table[c] as number) & bit) === 0) break;
      i++;
    } else {
      if ((classAt(table, text, i) & bit) === 0) break;
      i += width(text, i);
    }
  }
  return i;
}

/** End of the run of "other" code points (not letter, number or White_Space) from `i`. */
function runOfOther(table: Uint8Array, text: string, i: number): number {
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c < 0xd800 || c >= 0xe000) {
      if ((table[c] as number) !== 0) break;
      i++;
    } else {
      if (classAt(table, text, i) !== 0) break;
      i += width(text, i);
    }
  }
  return i;
}

/** `\s+(?!\S)|\s+` (and, when `lineBreaks`, `\s*[\r\n]+` before them) from a White_Space at `i`. */
function whitespace(table: Uint8Array, text: string, i: number, lineBreaks: boolean): number {
  const end = runOf(table, text, i, SPACE);
  if (lineBreaks) {
    for (let k = end - 1; k >= i; k--) if (isLineBreak(text.charCodeAt(k))) return k + 1;
  }
  if (end < text.length && end - i >= 2) return end - 1;
  return end;
}

/** Length of a contraction `'s|'t|'re|'ve|'m|'ll|'d` at `i` (0 if none); case-folded when asked. */
function contraction(text: string, i: number, foldCase: boolean): number {
  let a = text.charCodeAt(i + 1);
  let b = text.charCodeAt(i + 2);
  if (foldCase) {
    if (a === 0x17f) return 2; // U+017F LONG S folds to 's'
    a |= 0x20;
    b |= 0x20;
  }
  if (a === 0x73 || a === 0x74 || a === 0x6d || a === 0x64) return 2; // s t m d
  if ((a === 0x72 || a === 0x76) && b === 0x65) return 3; // re ve
  if (a === 0x6c && b === 0x6c) return 3; // ll
  return 0;
}

/**
 * cl100k / Llama-3 (`maxDigits` 3) and Qwen2 (`maxDigits` 1):
 * `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,max}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
 */
function cl100kScanner(maxDigits: number): Scanner {
  const table = classes();
  return (text, i) => {
    const c = text.charCodeAt(i);
    if (c === 0x27) {
      const len = contraction(text, i, true);
      if (len > 0) return i + len;
    }
    const cls = classAt(table, text, i);
    if (cls & LETTER) return runOf(table, text, i, LETTER);
    const w = width(text, i);
    if ((cls & NUMBER) === 0 && !isLineBreak(c) && classAt(table, text, i + w) & LETTER) {
      return runOf(table, text, i + w, LETTER);
    }
    if (cls & NUMBER) {
      let end = i;
      for (let k = 0; k < maxDigits && end < text.length && classAt(table, text, end) & NUMBER; k++)
        end += width(text, end);
      return end;
    }
    const otherStart = c === 0x20 && classAt(table, text, i + 1) === 0 ? i + 1 : i;
    if (classAt(table, text, otherStart) === 0 && otherStart < text.length) {
      let end = runOfOther(table, text, otherStart);
      while (end < text.length && isLineBreak(text.charCodeAt(end))) end++;
      return end;
    }
    return whitespace(table, text, i, true);
  };
}

/** GPT-2: `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+` */
function gpt2Scanner(): Scanner {
  const table = classes();
  return (text, i) => {
    const c = text.charCodeAt(i);
    if (c === 0x27) {
      const len = contraction(text, i, false);
      if (len > 0) return i + len;
    }
    const body = c === 0x20 && i + 1 < text.length ? i + 1 : i;
    const cls = classAt(table, text, body);
    if (body < text.length) {
      if (cls & LETTER) return runOf(table, text, body, LETTER);
      if (cls & NUMBER) return runOf(table, text, body, NUMBER);
      if (cls === 0) return runOfOther(table, text, body);
    }
    return whitespace(table, text, i, false);
  };
}

const SCANNERS = new Map<string, () => Scanner>([
  [CL100K_PATTERN, () => cl100kScanner(3)],
  [QWEN2_PATTERN, () => cl100kScanner(1)],
  [GPT2_PATTERN, gpt2Scanner],
]);

/** A scanner equivalent to the Oniguruma `pattern`, when it is one we have written by hand. */
export function scannerFor(pattern: string): Scanner | undefined {
  return SCANNERS.get(pattern)?.();
}
