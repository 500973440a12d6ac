import type { FieldReader } from './json-fields.ts';
import { literalPattern, RegexTranslationError, translateOniguruma } from './oniguruma.ts';
import { GPT2_PATTERN } from './patterns.ts';
import { type Scanner, scannerFor } from './scanners.ts';

/** One pre-tokenizer: splits `text` into pieces, in order. Pieces may be empty (they encode to nothing). */
export type PreTokenizerStage = (text: string) => string[];

export type SplitBehavior = 'Removed' | 'Isolated' | 'MergedWithPrevious' | 'MergedWithNext' | 'Contiguous';
const SPLIT_BEHAVIORS: readonly SplitBehavior[] = [
  'Removed',
  'Isolated',
  'MergedWithPrevious',
  'MergedWithNext',
  'Contiguous',
];

/**
 * Splits `text` on the matches of `re` the way HF's `NormalizedString::split` does: the text is cut
 * into alternating match / non-match spans, then the behaviour decides how matches join their neighbours.
 */
export function splitStage(re: RegExp, behavior: SplitBehavior, invert: boolean): PreTokenizerStage {
  if (behavior === 'Isolated') {
    return (text) => {
      // Fast path: when the matches tile the whole text (true of every common tokenizer regex),
      // String#match returns exactly the pieces with no per-match objects.
      const pieces = text.match(re);
      if (pieces !== null) {
        let covered = 0;
        for (let k = 0; k < pieces.length; k++) covered += (pieces[k] as string).length;
        if (covered === text.length) return pieces;
      }
      return spans(re, text).map(([start, end]) => text.slice(start, end));
    };
  }
  return (text) => {
    const marked = spans(re, text).map(
      ([start, end, isMatch]) => [start, end, invert ? !isMatch : isMatch] as const,
    );
    const out: Array<[number, number]> = [];
    if (behavior === 'Removed') {
      for (const [start, end, isMatch] of marked) if (!isMatch) out.push([start, end]);
    } else if (behavior === 'Contiguous') {
      let previous: boolean | undefined;
      for (const [start, end, isMatch] of marked) {
        const last = out[out.length - 1];
        if (isMatch === previous && last) last[1] = end;
        else out.push([start, end]);
        previous = isMatch;
      }
    } else if (behavior === 'MergedWithPrevious') {
      let previous = false;
      for (const [start, end, isMatch] of marked) {
        const last = out[out.length - 1];
        if (isMatch && !previous && last) last[1] = end;
        else out.push([start, end]);
        previous = isMatch;
      }
    } else {
      let previous = false;
      for (let k = marked.length - 1; k >= 0; k--) {
        const [start, end, isMatch] = marked[k] as readonly [number, number, boolean];
        const last = out[out.length - 1];
        if (isMatch && !previous && last) last[0] = start;
        else out.push([start, end]);
        previous = isMatch;
      }
      out.reverse();
    }
    return out.map(([start, end]) => text.slice(start, end));
  };
}

/** Alternating (start, end, isMatch) spans covering `text`, like HF's `Pattern::find_matches`. */
function spans(re: RegExp, text: string): Array<[number, number, boolean]> {
  if (text.length === 0) return [[0, 0, false]];
  const result: Array<[number, number, boolean]> = [];
  let previous = 0;
  re.lastIndex = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const start = m.index;
    const end = start + m[0].length;
    if (m[0].length === 0) {
      // Step over an empty match by one code point, as Oniguruma's iterator does.
      const cp = text.codePointAt(start) ?? 0;
      re.lastIndex = start + (cp > 0xffff ? 2 : 1);
      if (start >= text.length) break;
    }
    if (previous !== start) result.push([previous, start, false]);
    result.push([start, end, true]);
    previous = end;
  }
  re.lastIndex = 0;
  if (previous !== text.length) result.push([previous, text.length, false]);
  return result;
}

export interface ByteLevelOptions {
  addPrefixSpace: boolean;
  useRegex: boolean;
}

export function byteLevelStage(options: ByteLevelOptions): PreTokenizerStage {
  const split = options.useRegex
    ? splitStage(translateOniguruma(GPT2_PATTERN), 'Isolated', false)
    : undefined;
  return (text) => {
    const prefixed = options.addPrefixSpace && !text.startsWith(' ') ? ` ${text}` : text;
    return split ? split(prefixed) : [prefixed];
  };
}

/** Rust's `char::is_numeric` is the Unicode N categories. */
export function digitsStage(individualDigits: boolean): PreTokenizerStage {
  return splitStage(/\p{N}/gu, individualDigits ? 'Isolated' : 'Contiguous', false);
}

export function chain(stages: readonly PreTokenizerStage[]): PreTokenizerStage {
  if (stages.length === 0) return (text) => [text];
  if (stages.length === 1) return stages[0] as PreTokenizerStage;
  return (text) => {
    let pieces = [text];
    for (const stage of stages) {
      const next: string[] = [];
      for (const piece of pieces) if (piece.length > 0) for (const p of stage(piece)) next.push(p);
      pieces = next;
    }
    return pieces;
  };
}

export interface ParsedPreTokenizer {
  stage: PreTokenizerStage;
  /** A hand-written scanner equivalent to the whole chain, when there is one (the fast path). */
  scanner: Scanner | undefined;
  /** True when the chain ends in a ByteLevel pre-tokenizer (required for a byte-level BPE). */
  byteLevel: boolean;
}

/**
 * Builds the pre-tokenizer chain of a `tokenizer.json`. ByteLevel must come last: it maps text to
 * the byte alphabet, and a later stage would have to see that alphabet to match HF.
 */
export function parsePreTokenizer(value: unknown, field: string, reader: FieldReader): ParsedPreTokenizer {
  if (value === null || value === undefined)
    return { stage: chain([]), scanner: undefined, byteLevel: false };
  const flat: Array<{ config: Record<string, unknown>; field: string }> = [];
  const collect = (v: unknown, f: string): void => {
    const config = reader.object(v, f);
    if (reader.type(config, f) === 'Sequence') {
      reader.array(config.pretokenizers, `${f}.pretokenizers`).forEach((inner, k) => {
        collect(inner, `${f}.pretokenizers[${k}]`);
      });
    } else flat.push({ config, field: f });
  };
  collect(value, field);
  const stages: PreTokenizerStage[] = [];
  const scanners: Array<Scanner | undefined> = [];
  let byteLevel = false;
  flat.forEach(({ config, field: f }, k) => {
    const type = reader.type(config, f);
    switch (type) {
      case 'ByteLevel': {
        const options = {
          addPrefixSpace: reader.boolean(config.add_prefix_space, `${f}.add_prefix_space`, true),
          useRegex: reader.boolean(config.use_regex, `${f}.use_regex`, true),
        };
        // Without a prefix space or a regex it only maps to bytes, which the model does itself.
        if (options.addPrefixSpace || options.useRegex) {
          stages.push(byteLevelStage(options));
          scanners.push(options.addPrefixSpace ? undefined : scannerFor(GPT2_PATTERN));
        }
        byteLevel = true;
        if (k !== flat.length - 1) {
          reader.unsupported(
            `${flat[k + 1]?.field}.type`,
            'a pre-tokenizer after ByteLevel is not supported',
          );
        }
        break;
      }
      case 'Split':
        stages.push(parseSplit(config, f, reader));
        scanners.push(splitScanner(config));
        break;
      case 'Digits':
        stages.push(digitsStage(reader.boolean(config.individual_digits, `${f}.individual_digits`, false)));
        scanners.push(undefined);
        break;
      default:
        reader.unsupported(
          `${f}.type`,
          `pre-tokenizer "${type}" is not supported (supported: ByteLevel, Split, Digits, Sequence)`,
        );
    }
  });
  return { stage: chain(stages), scanner: stages.length === 1 ? scanners[0] : undefined, byteLevel };
}

/** A regex Split whose matches tile the text splits the same whether Isolated or Removed+invert. */
function splitScanner(config: Record<string, unknown>): Scanner | undefined {
  const pattern = config.pattern as Record<string, unknown>;
  const isolated = config.behavior === 'Isolated';
  const keptMatches = config.behavior === 'Removed' && config.invert === true;
  if (typeof pattern.Regex !== 'string' || !(isolated || keptMatches)) return undefined;
  return scannerFor(pattern.Regex);
}

function parseSplit(config: Record<string, unknown>, field: string, reader: FieldReader): PreTokenizerStage {
  const pattern = reader.object(config.pattern, `${field}.pattern`);
  let re: RegExp;
  if (typeof pattern.Regex === 'string') {
    try {
      re = translateOniguruma(pattern.Regex);
    } catch (error) {
      if (error instanceof RegexTranslationError) reader.unsupported(`${field}.pattern.Regex`, error.message);
      throw error;
    }
  } else if (typeof pattern.String === 'string') {
    if (pattern.String.length === 0) reader.invalid(`${field}.pattern.String`, 'the split string is empty');
    re = literalPattern(pattern.String);
  } else {
    reader.invalid(`${field}.pattern`, 'expected { "Regex": string } or { "String": string }');
  }
  const behavior = reader.string(config.behavior, `${field}.behavior`);
  if (!SPLIT_BEHAVIORS.includes(behavior as SplitBehavior)) {
    reader.invalid(`${field}.behavior`, `expected one of ${SPLIT_BEHAVIORS.join(', ')}, got "${behavior}"`);
  }
  return splitStage(re, behavior as SplitBehavior, reader.boolean(config.invert, `${field}.invert`, false));
}
