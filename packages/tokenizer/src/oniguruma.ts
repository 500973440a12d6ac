/**
 * Translates the Oniguruma regexes found in Hugging Face `tokenizer.json` files into JavaScript
 * `RegExp`s with the same matches.
 *
 * The two dialects disagree in ways that change tokenization (each checked against the HF binding):
 * - `\s` is Unicode White_Space in Oniguruma (includes U+0085, excludes U+FEFF); JavaScript's `\s`
 *   is the reverse on both.
 * - `\d`, `\w` and `\b` are Unicode-aware in Oniguruma, ASCII-only in JavaScript.
 * - `.` excludes only `\n`; JavaScript's also excludes `\r`, U+2028 and U+2029.
 * - `^` and `$` are always line anchors (at `\n`); `\A`, `\z`, `\Z` anchor the whole input.
 * - `\h` is a hex digit; `{,n}` means `{0,n}`; `(?i:...)` applies Unicode case folding, including
 *   multi-character folds (`(?i:ss)` matches `ß`). Node 20 has no inline modifiers, so case-insensitive
 *   literals are expanded into character classes.
 * - Oniguruma's Unicode tables are older than Node's: code points assigned since are unassigned
 *   to it (in no category). Every property is translated minus those (`[\p{L}--[...]]`, which needs
 *   the `v` flag), from the table in unicode-lag.ts.
 * Constructs with no faithful translation (atomic groups, possessive quantifiers, class set
 * operations, ...) raise an error naming the construct instead of silently matching differently.
 */

import { UNASSIGNED_IN_ONIGURUMA } from './unicode-lag.ts';

export class RegexTranslationError extends Error {
  constructor(
    readonly pattern: string,
    readonly index: number,
    detail: string,
  ) {
    super(`cannot translate Oniguruma regex at offset ${index}: ${detail}`);
    this.name = 'RegexTranslationError';
  }
}

/** Class members of the code points Oniguruma does not know yet. */
const LAG = UNASSIGNED_IN_ONIGURUMA.map(([a, b]) =>
  a === b ? `\\u{${a.toString(16)}}` : `\\u{${a.toString(16)}}-\\u{${b.toString(16)}}`,
).join('');

/** Whether Node assigns `cp` while Oniguruma sees it as unassigned. */
export function isUnassignedInOniguruma(cp: number): boolean {
  let lo = 0;
  let hi = UNASSIGNED_IN_ONIGURUMA.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const [a, b] = UNASSIGNED_IN_ONIGURUMA[mid] as readonly [number, number];
    if (cp < a) hi = mid - 1;
    else if (cp > b) lo = mid + 1;
    else return true;
  }
  return false;
}

/** A nested class: the members (class syntax) as Oniguruma's Unicode version sees them. */
function known(members: string): string {
  return `[[${members}]--[${LAG}]]`;
}

/**
 * Code points whose category changed between Oniguruma's Unicode and Node's, with the properties
 * that hold them only in Oniguruma and only in Node. U+0295 moved from Ll to Lo in Unicode 16.
 */
const CATEGORY_MOVES: ReadonlyArray<{
  cp: number;
  onlyOniguruma: readonly string[];
  onlyNode: readonly string[];
}> = [
  {
    cp: 0x295,
    onlyOniguruma: ['Ll', 'Lowercase_Letter', 'LC', 'Cased_Letter', 'Lowercase', 'Lower'],
    onlyNode: ['Lo', 'Other_Letter'],
  },
];

/**
 * `\p{name}` / `\P{name}` as Oniguruma sees it: code points it does not know yet are in no
 * category (so `\P{...}` and `\p{Cn}` hold them), and moved code points sit where it had them.
 */
function property(name: string, negated: boolean): string {
  if (name === 'Any') return negated ? '[^\\p{Any}]' : '\\p{Any}';
  if (name === 'White_Space') return negated ? '\\P{White_Space}' : '\\p{White_Space}';
  let add = '';
  let remove = LAG;
  if (['Cn', 'Unassigned', 'C', 'Other'].includes(name)) {
    add = LAG;
    remove = '';
  }
  for (const move of CATEGORY_MOVES) {
    if (move.onlyOniguruma.includes(name)) add += codePointEscape(move.cp);
    if (move.onlyNode.includes(name)) remove += codePointEscape(move.cp);
  }
  const members = remove ? `[\\p{${name}}${add}]--[${remove}]` : `\\p{${name}}${add}`;
  return `[${negated ? '^' : ''}${members}]`;
}

// Oniguruma's word class also takes the Latin-1 digits and fractions ² ³ ¹ ¼ ½ ¾ (its Latin-1 ctype table).
const WORD_MEMBERS = '\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\u{b2}\\u{b3}\\u{b9}\\u{bc}-\\u{be}';
/** Oniguruma's `\w` as a class (v flag). */
export const WORD = known(WORD_MEMBERS);
const NOT_WORD = `[^[${WORD_MEMBERS}]--[${LAG}]]`;

const POSIX_CLASSES: Record<string, string> = {
  alpha: property('Alphabetic', false),
  digit: property('Nd', false),
  alnum: `${property('Alphabetic', false)}${property('Nd', false)}`,
  upper: property('Uppercase', false),
  lower: property('Lowercase', false),
  space: '\\p{White_Space}',
  punct: `${property('P', false)}${property('S', false)}`,
  xdigit: '0-9A-Fa-f',
  word: WORD,
  cntrl: '\\p{Cc}',
  blank: '\\p{Zs}\\t',
};

/** Characters whose full case folding is several ASCII letters: Oniguruma matches them under (?i). */
const MULTI_CHAR_FOLDS: ReadonlyArray<readonly [string, string]> = [
  ['ß', 'ss'],
  ['ẞ', 'ss'],
  ['ﬀ', 'ff'],
  ['ﬁ', 'fi'],
  ['ﬂ', 'fl'],
  ['ﬃ', 'ffi'],
  ['ﬄ', 'ffl'],
  ['ﬅ', 'st'],
  ['ﬆ', 'st'],
];

function codePointEscape(cp: number): string {
  return `\\u{${cp.toString(16)}}`;
}

const foldCache = new Map<string, string>();
/** A class of every code point that simple Unicode case folding equates with `ch`. */
function caseFoldClass(ch: string): string {
  const cached = foldCache.get(ch);
  if (cached !== undefined) return cached;
  const test = new RegExp(`^${codePointEscape(ch.codePointAt(0) as number)}$`, 'iu');
  const members: number[] = [];
  for (let cp = 0; cp <= 0xffff; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    if (test.test(String.fromCharCode(cp))) members.push(cp);
  }
  const cls =
    members.length === 1
      ? codePointEscape(members[0] as number)
      : `[${members.map(codePointEscape).join('')}]`;
  foldCache.set(ch, cls);
  return cls;
}

function expandCaseInsensitive(literal: string): string {
  if (literal.length === 0) return '';
  const options: string[] = [];
  const lower = literal.toLowerCase();
  for (const [ligature, folded] of MULTI_CHAR_FOLDS) {
    if (lower.startsWith(folded)) {
      options.push(
        codePointEscape(ligature.codePointAt(0) as number) +
          expandCaseInsensitive(literal.slice(folded.length)),
      );
    }
  }
  const first = String.fromCodePoint(literal.codePointAt(0) as number);
  options.push(caseFoldClass(first) + expandCaseInsensitive(literal.slice(first.length)));
  return options.length === 1 ? (options[0] as string) : `(?:${options.join('|')})`;
}

function isAsciiAlnum(ch: string): boolean {
  return /^[0-9A-Za-z]$/.test(ch);
}

class Translator {
  private i = 0;
  constructor(private readonly src: string) {}

  fail(detail: string, at = this.i): never {
    throw new RegexTranslationError(this.src, at, detail);
  }

  translate(): string {
    let out = '';
    while (this.i < this.src.length) out += this.atom();
    return out;
  }

  private atom(): string {
    const ch = this.src[this.i] as string;
    switch (ch) {
      case '\\':
        return this.escapeOutsideClass();
      case '[':
        return this.characterClass();
      case '(':
        return this.group();
      case '.':
        this.i++;
        return '[^\\n]';
      case '^':
        this.i++;
        return '(?<![^\\n])';
      case '$':
        this.i++;
        return '(?![^\\n])';
      case '*':
      case '+':
      case '?':
        this.i++;
        return ch + this.quantifierSuffix();
      case '{':
        return this.brace();
      case ')':
        this.fail('unbalanced ")"');
        break;
      case ']':
      case '}':
      case '/':
      case '|':
        this.i++;
        return ch === '|' ? '|' : `\\${ch}`;
      default: {
        const cp = this.src.codePointAt(this.i) as number;
        const s = String.fromCodePoint(cp);
        this.i += s.length;
        return s;
      }
    }
    return '';
  }

  /** Lazy `?` is kept; possessive `+` has no JavaScript equivalent. */
  private quantifierSuffix(): string {
    const next = this.src[this.i];
    if (next === '?') {
      this.i++;
      return '?';
    }
    if (next === '+') this.fail('possessive quantifiers are not supported');
    return '';
  }

  private brace(): string {
    const m = /^\{(\d*)(,?)(\d*)\}/.exec(this.src.slice(this.i));
    if (!m || (m[1] === '' && m[3] === '') || (m[1] === '' && m[2] === '')) {
      this.i++;
      return '\\{';
    }
    this.i += m[0].length;
    const min = m[1] === '' ? '0' : m[1];
    return `{${min}${m[2]}${m[3]}}${this.quantifierSuffix()}`;
  }

  private group(): string {
    const rest = this.src.slice(this.i);
    let prefix: string;
    if (rest.startsWith('(?:') || rest.startsWith('(?=') || rest.startsWith('(?!')) prefix = rest.slice(0, 3);
    else if (rest.startsWith('(?<=') || rest.startsWith('(?<!')) prefix = rest.slice(0, 4);
    else if (rest.startsWith('(?#')) {
      const end = this.src.indexOf(')', this.i);
      if (end < 0) this.fail('unterminated comment group');
      this.i = end + 1;
      return '';
    } else if (rest.startsWith('(?i:')) {
      this.i += 4;
      return this.caseInsensitiveGroup();
    } else if (rest.startsWith('(?<') && /^\(\?<[A-Za-z_]\w*>/.test(rest)) {
      prefix = (/^\(\?<[A-Za-z_]\w*>/.exec(rest) as RegExpExecArray)[0];
    } else if (rest.startsWith('(?')) {
      this.fail(
        `group "${rest.slice(0, 4)}" (atomic groups, inline flags other than "(?i:") is not supported`,
      );
    } else prefix = '(';
    this.i += prefix.length;
    let body = '';
    while (this.i < this.src.length && this.src[this.i] !== ')') body += this.atom();
    if (this.src[this.i] !== ')') this.fail('unterminated group');
    this.i++;
    return `${prefix}${body})`;
  }

  /** `(?i:'s|'t|...)`: alternatives of literal text only, expanded with Unicode case folding. */
  private caseInsensitiveGroup(): string {
    const start = this.i;
    const alternatives: string[] = [];
    let literal = '';
    while (this.i < this.src.length && this.src[this.i] !== ')') {
      const ch = this.src[this.i] as string;
      if (ch === '|') {
        alternatives.push(literal);
        literal = '';
        this.i++;
      } else if (ch === '\\') {
        const next = this.src[this.i + 1];
        if (next === undefined || isAsciiAlnum(next))
          this.fail('only literal text is supported inside "(?i:...)"');
        literal += next;
        this.i += 2;
      } else if ('[](){}*+?.^$'.includes(ch)) {
        this.fail('only literal text is supported inside "(?i:...)"', this.i);
      } else {
        const s = String.fromCodePoint(this.src.codePointAt(this.i) as number);
        literal += s;
        this.i += s.length;
      }
    }
    if (this.src[this.i] !== ')') this.fail('unterminated "(?i:" group', start);
    this.i++;
    alternatives.push(literal);
    return `(?:${alternatives.map(expandCaseInsensitive).join('|')})`;
  }

  private readHex(digits: number): number {
    const hex = this.src.slice(this.i, this.i + digits);
    if (!new RegExp(`^[0-9A-Fa-f]{${digits}}$`).test(hex)) this.fail('bad hexadecimal escape');
    this.i += digits;
    return Number.parseInt(hex, 16);
  }

  /** Parses the escape at `this.i` (a backslash) shared by both contexts; returns a literal code point or a token. */
  private escapeCommon(): { literal: number } | { token: string } {
    const next = this.src[this.i + 1];
    if (next === undefined) this.fail('trailing backslash');
    this.i += 2;
    const literal = LITERAL_ESCAPES[next];
    if (literal !== undefined) return { literal };
    switch (next) {
      case 'x': {
        if (this.src[this.i] === '{') {
          const end = this.src.indexOf('}', this.i);
          if (end < 0) this.fail('unterminated \\x{...}');
          const hex = this.src.slice(this.i + 1, end);
          if (!/^[0-9A-Fa-f]{1,8}$/.test(hex)) this.fail('bad \\x{...} escape');
          this.i = end + 1;
          return { literal: Number.parseInt(hex, 16) };
        }
        return { literal: this.readHex(2) };
      }
      case 'u':
        return { literal: this.readHex(4) };
      case 'p':
      case 'P': {
        const m = /^\{(\^?)([A-Za-z_ =]+)\}/.exec(this.src.slice(this.i));
        if (!m) this.fail('bad \\p{...} escape');
        this.i += m[0].length;
        const negated = (next === 'P') !== (m[1] === '^');
        return { token: property(unicodePropertyName(m[2] as string, this), negated) };
      }
      default:
        if (isAsciiAlnum(next)) return { token: `\\${next}` };
        return { literal: next.codePointAt(0) as number };
    }
  }

  private escapeOutsideClass(): string {
    const next = this.src[this.i + 1];
    const simple = next === undefined ? undefined : OUTSIDE_CLASS_ESCAPES[next];
    if (simple !== undefined) {
      this.i += 2;
      return simple;
    }
    if (next !== undefined && /[1-9]/.test(next)) {
      this.i += 2;
      return `\\${next}`;
    }
    const at = this.i;
    const parsed = this.escapeCommon();
    if ('literal' in parsed) return codePointEscape(parsed.literal);
    if (parsed.token.startsWith('\\p') || parsed.token.startsWith('[')) return parsed.token;
    this.fail(`escape "${parsed.token}" is not supported`, at);
  }

  /**
   * A class in the `v` flag's syntax: every literal that is not a letter or digit is escaped (the
   * `v` flag reserves many), properties become nested classes, and `-` is a range only between two
   * literals (elsewhere it is a literal, as in Oniguruma).
   */
  private characterClass(): string {
    const start = this.i;
    this.i++;
    let out = '[';
    if (this.src[this.i] === '^') {
      out += '^';
      this.i++;
    }
    let first = true;
    let previousLiteral = false;
    while (this.i < this.src.length) {
      const ch = this.src[this.i] as string;
      if (ch === ']' && !first) {
        this.i++;
        return `${out}]`;
      }
      first = false;
      if (ch === '[') {
        const posix = /^\[:(\^?)([a-z]+):\]/.exec(this.src.slice(this.i));
        if (!posix) this.fail('nested character classes are not supported');
        const members = POSIX_CLASSES[posix[2] as string];
        if (members === undefined || posix[1] === '^')
          this.fail(`POSIX class "${posix[0]}" is not supported`);
        out += `[${members}]`;
        this.i += posix[0].length;
        previousLiteral = false;
        continue;
      }
      if (ch === '&' && this.src[this.i + 1] === '&') this.fail('class intersection "&&" is not supported');
      if (ch === '-') {
        const next = this.src[this.i + 1];
        const rangeEnd =
          next !== undefined &&
          next !== ']' &&
          next !== '[' &&
          !(next === '\\' && isClassEscape(this.src[this.i + 2]));
        out += previousLiteral && rangeEnd ? '-' : codePointEscape(0x2d);
        previousLiteral = false;
        this.i++;
        continue;
      }
      if (ch === '\\') {
        const next = this.src[this.i + 1];
        const simple = next === undefined ? undefined : INSIDE_CLASS_ESCAPES[next];
        if (simple !== undefined) {
          out += simple;
          this.i += 2;
          previousLiteral = false;
          continue;
        }
        const at = this.i;
        const parsed = this.escapeCommon();
        if ('literal' in parsed) {
          out += codePointEscape(parsed.literal);
          previousLiteral = true;
        } else if (parsed.token.startsWith('\\p') || parsed.token.startsWith('[')) {
          out += parsed.token;
          previousLiteral = false;
        } else this.fail(`escape "${parsed.token}" inside a class is not supported`, at);
        continue;
      }
      const cp = this.src.codePointAt(this.i) as number;
      const literal = String.fromCodePoint(cp);
      this.i += literal.length;
      out += /^[0-9A-Za-z]$/.test(literal) || cp > 0x7f ? literal : codePointEscape(cp);
      previousLiteral = true;
    }
    this.fail('unterminated character class', start);
  }
}

const LITERAL_ESCAPES: Record<string, number> = {
  n: 0x0a,
  r: 0x0d,
  t: 0x09,
  f: 0x0c,
  v: 0x0b,
  a: 0x07,
  e: 0x1b,
  '0': 0,
};

/** Escapes that stand for a set of characters (not one literal) inside a class. */
function isClassEscape(ch: string | undefined): boolean {
  return ch !== undefined && 'sSdDwWhHpP'.includes(ch);
}

/** Class escapes, valid both inside a class and alone (as a one-member set in the `v` flag). */
const INSIDE_CLASS_ESCAPES: Record<string, string> = {
  s: '\\p{White_Space}',
  S: '\\P{White_Space}',
  d: property('Nd', false),
  D: property('Nd', true),
  w: WORD,
  W: NOT_WORD,
  h: '[0-9A-Fa-f]',
};

const OUTSIDE_CLASS_ESCAPES: Record<string, string> = {
  ...INSIDE_CLASS_ESCAPES,
  H: '[^0-9A-Fa-f]',
  b: `(?:(?<=${WORD})(?!${WORD})|(?<!${WORD})(?=${WORD}))`,
  B: `(?:(?<=${WORD})(?=${WORD})|(?<!${WORD})(?!${WORD}))`,
  A: '^',
  z: '$',
  Z: '(?=\\n?$)',
};

const GENERAL_CATEGORY_TEST = (name: string): boolean => {
  try {
    new RegExp(`\\p{${name}}`, 'u');
    return true;
  } catch {
    return false;
  }
};

/** Oniguruma accepts bare script names (`\p{Han}`); JavaScript wants `\p{Script=Han}`. */
function unicodePropertyName(name: string, translator: Translator): string {
  const trimmed = name.replace(/[ _]/g, (c) => (c === ' ' ? '' : c));
  if (GENERAL_CATEGORY_TEST(trimmed)) return trimmed;
  if (GENERAL_CATEGORY_TEST(`Script=${trimmed}`)) return `Script=${trimmed}`;
  return translator.fail(`unknown Unicode property "${name}"`);
}

/** Translates an Oniguruma pattern to a global JavaScript RegExp with the `v` (Unicode sets) flag. */
export function translateOniguruma(pattern: string): RegExp {
  const source = new Translator(pattern).translate();
  try {
    return new RegExp(source, 'gv');
  } catch (error) {
    throw new RegexTranslationError(
      pattern,
      0,
      `translated pattern is not valid JavaScript (${String(error)})`,
    );
  }
}

/** Escapes literal text (a `Split` pattern given as `{ "String": ... }`) for use in a RegExp. */
export function literalPattern(text: string): RegExp {
  let source = '';
  for (const ch of text) source += codePointEscape(ch.codePointAt(0) as number);
  return new RegExp(source, 'gu');
}
