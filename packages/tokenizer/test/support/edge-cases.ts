/**
 * Inputs where tokenizers are known to disagree: Unicode whitespace that JavaScript's `\s` and
 * Oniguruma's `\s` classify differently (U+0085, U+FEFF), line endings, long space runs, CJK,
 * emoji and combining marks, lone surrogates, digit runs, contractions and case-folded look-alikes.
 */
export const EDGE_CASES: readonly string[] = [
  '',
  ' ',
  '\n',
  '\ufeffdef f():\n    return 1\n',
  'a\ufeffb \ufeff c\ufeff\ufeff',
  'x\u0085y \u0085 \u0085\u0085z',
  'tab\there\t\t\tand\u000bvertical\u000cform',
  'nbsp\u00a0here \u00a0 \u2000\u2001\u2002\u200a\u2028\u2029\u202f\u205f\u3000end',
  'crlf\r\nline\r\n\r\n  \r\n\rlone cr\r',
  `${' '.repeat(1)}x${' '.repeat(17)}y${' '.repeat(128)}z${' '.repeat(1500)}`,
  `${'\t'.repeat(40)}deep\n${'\n'.repeat(30)}`,
  '中文字符和代码 // 注释 日本語のテキスト 한국어 텍스트',
  'emoji 😀👍🏽 👨‍👩‍👧‍👦 🇫🇷 ❤️ ✨x✨',
  'combining e\u0301 a\u0308 n\u0303 Å vs A\u030a',
  'lone surrogates \ud800 x \udc00 y \ud83d',
  'digits 1 12 123 1234 12345 1234567890123 ٣٤٥ ²³ ½ Ⅻ 0x1F 3.14159e-10',
  "contractions it's I'm we'll they're you've he'd don't IT'S I'M WE'LL 'S 'T",
  "folds 'ſ 'K 'ſt 'ß ß ẞ ﬁ ﬂ İstanbul ǅ",
  'mixed CamelCaseIdentifier snake_case_name kebab-case-name SCREAMING_CASE __dunder__',
  '<|endoftext|>special<|im_start|>user\n<|im_end|> <mask>x <mask> SINGLEWORD aSINGLEWORD SINGLEWORD_',
  '   leading spaces and trailing   ',
  'punct !!! ??? ... --- === +++ ;;; ::: /// \\\\\\ ||| &&& ^^^ %%% $$$ ### @@@ ``` ~~~',
  'path/to/file.py:123:45 http://example.com/a?b=c&d=e#f',
  'def f(x):\n\tif x:\n\t\treturn [i ** 2 for i in range(x) if i % 2]\n\telse:\n\t\treturn None\n',
  '\u200b\u200c\u200d zero width \u2060 \ufe0f',
  '\u0000null\u0001\u0002\u007f\u0080\u009f controls',
  'ℌ𝔢𝔩𝔩𝔬 𝕨𝕠𝕣𝕝𝕕 mathematical 𝟙𝟚𝟛',
  'Ǆǅǆ ǈǉ ΣΑΣ σας ſ',
  'ĉĉ Ã± õ ÷ Ġhello Ċ',
];

/** mulberry32: a small seeded PRNG, so fuzz cases are the same on every run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALPHABET = [
  ...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789',
  ...' \t\n\r\u000b\u000c\u0085\u00a0\u1680\u2000\u2028\u2029\u202f\u3000\ufeff',
  ...'\'"`!?.,;:-_+=*/\\|&^%$#@~()[]{}<>',
  ...'éüßſKİıΣσςЖж中文字日本한국',
  '😀',
  '👍🏽',
  '\u0301',
  '\ud800',
  '\udc00',
  "'s",
  "'LL",
  "'ve",
  '<|endoftext|>',
  '<mask>',
  'SINGLEWORD',
  '   ',
  '\r\n',
  '١٢٣',
  '½',
];

/** `count` random strings of up to `maxLength` symbols drawn from the troublesome alphabet above. */
export function fuzzStrings(seed: number, count: number, maxLength = 60): string[] {
  const random = seededRandom(seed);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const n = Math.floor(random() * maxLength);
    let s = '';
    for (let k = 0; k < n; k++) s += ALPHABET[Math.floor(random() * ALPHABET.length)];
    out.push(s);
  }
  return out;
}
