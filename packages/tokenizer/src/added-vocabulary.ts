import type { Normalize } from './normalizers.ts';

export interface AddedToken {
  id: number;
  content: string;
  singleWord: boolean;
  lstrip: boolean;
  rstrip: boolean;
  /** Matched on normalized text (true) or on the raw input (false). */
  normalized: boolean;
  special: boolean;
}

/** A piece of input: either text still to be tokenized, or an added token already recognised. */
export type Segment = { text: string; id?: undefined } | { text?: undefined; id: number };

// HF checks word boundaries with the regex crate's Unicode \w (unlike Oniguruma's, it has Join_Control
// and lacks the Latin-1 ² ³ ¹ ¼ ½ ¾).
const WORD_CHAR = /[\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control}]/u;
const WHITESPACE = /\p{White_Space}/u;

/**
 * Finds added tokens in input text the way HF's `AddedVocabulary` does: leftmost-longest matching,
 * raw-text tokens first, then normalization of what is left, then normalized tokens; `single_word`,
 * `lstrip` and `rstrip` as HF defines them.
 */
export class AddedVocabulary {
  private readonly rawMatcher: Matcher | undefined;
  private readonly normalizedMatcher: Matcher | undefined;

  constructor(
    tokens: readonly AddedToken[],
    private readonly normalize: Normalize | undefined,
  ) {
    const raw = tokens.filter((t) => !t.normalized);
    const normalized = tokens.filter((t) => t.normalized);
    this.rawMatcher = raw.length > 0 ? new Matcher(raw, (t) => t.content) : undefined;
    this.normalizedMatcher =
      normalized.length > 0
        ? new Matcher(normalized, (t) => (normalize ? normalize(t.content) : t.content))
        : undefined;
  }

  /** Splits `text` into segments, normalizing the text segments. */
  split(text: string): Segment[] {
    const out: Segment[] = [];
    for (const segment of splitWith(this.rawMatcher, text)) {
      if (segment.text === undefined) {
        out.push(segment);
        continue;
      }
      const normalized = this.normalize ? this.normalize(segment.text) : segment.text;
      for (const inner of splitWith(this.normalizedMatcher, normalized)) out.push(inner);
    }
    return out;
  }
}

class Matcher {
  readonly re: RegExp;
  readonly byContent = new Map<string, AddedToken>();
  constructor(tokens: readonly AddedToken[], key: (t: AddedToken) => string) {
    for (const token of tokens) {
      const k = key(token);
      if (k.length > 0 && !this.byContent.has(k)) this.byContent.set(k, token);
    }
    // Longest first: JavaScript alternation is leftmost-first, so this makes it leftmost-longest.
    const alternatives = [...this.byContent.keys()]
      .sort((a, b) => b.length - a.length)
      .map((k) => k.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&'));
    this.re = new RegExp(alternatives.join('|') || '(?!)', 'gu');
  }
}

function splitWith(matcher: Matcher | undefined, text: string): Segment[] {
  if (!matcher || text.length === 0) return text.length === 0 ? [] : [{ text }];
  const out: Segment[] = [];
  let offset = 0;
  matcher.re.lastIndex = 0;
  for (let m = matcher.re.exec(text); m !== null; m = matcher.re.exec(text)) {
    const token = matcher.byContent.get(m[0]) as AddedToken;
    let start = m.index;
    let stop = start + m[0].length;
    if (token.singleWord) {
      const before = start === 0 ? '' : String.fromCodePoint(codePointBefore(text, start));
      const after = stop >= text.length ? '' : String.fromCodePoint(text.codePointAt(stop) as number);
      if ((before && WORD_CHAR.test(before)) || (after && WORD_CHAR.test(after))) continue;
    }
    if (token.lstrip) {
      let s = start;
      while (s > 0 && WHITESPACE.test(String.fromCodePoint(codePointBefore(text, s)))) {
        s -= codePointBefore(text, s) > 0xffff ? 2 : 1;
      }
      start = Math.max(s, offset);
    }
    if (token.rstrip) {
      while (stop < text.length && WHITESPACE.test(String.fromCodePoint(text.codePointAt(stop) as number))) {
        stop += (text.codePointAt(stop) as number) > 0xffff ? 2 : 1;
      }
    }
    if (offset < start) out.push({ text: text.slice(offset, start) });
    out.push({ id: token.id });
    offset = stop;
    if (matcher.re.lastIndex < stop) matcher.re.lastIndex = stop;
  }
  if (offset < text.length) out.push({ text: text.slice(offset) });
  return out;
}

function codePointBefore(text: string, index: number): number {
  const low = text.charCodeAt(index - 1);
  if (low >= 0xdc00 && low < 0xe000 && index >= 2) {
    const high = text.charCodeAt(index - 2);
    if (high >= 0xd800 && high < 0xdc00) return text.codePointAt(index - 2) as number;
  }
  return low;
}
