import { BYTE_TO_CHAR } from './byte-level.ts';
import { describeType, TokenizerInputError } from './errors.ts';
import { type FlavourName, flavour } from './flavours.ts';
import { FieldReader } from './json-fields.ts';
import { parseNormalizer } from './normalizers.ts';
import { parsePreTokenizer } from './pre-tokenizers.ts';
import { Tokenizer } from './tokenizer.ts';
import { byteLevelBpeJson } from './tokenizer-json.ts';
import { utf8 } from './utf8.ts';

export interface TrainProgress {
  phase: 'count' | 'merge';
  /** Documents read (count phase) or merges made (merge phase). */
  done: number;
  /** Total documents, when known, or the merge budget. */
  total: number | undefined;
}

export interface TrainBpeOptions {
  /** Final vocabulary size: special tokens + 256 bytes + merges. */
  vocabSize: number;
  /** A pair must occur at least this often to be merged. Default 2. */
  minFrequency?: number;
  /** Added as special tokens with the first ids, in order. */
  specialTokens?: readonly string[];
  /** A named flavour (its normalizer and pre-tokenizer) or a `pre_tokenizer` object. Default `qwen2`. */
  preTokenizer?: FlavourName | Record<string, unknown>;
  onProgress?: (progress: TrainProgress) => void;
}

const PAIR_SHIFT = 2 ** 21;

/**
 * Trains a byte-level BPE: pre-tokenize and count words, then repeatedly merge the most frequent
 * adjacent pair (ties to the pair of smaller ids) until the vocabulary is full or no pair reaches
 * `minFrequency`. Pair counts are updated incrementally, touching only the words that hold the
 * merged pair. Deterministic: the same corpus and options give the same tokenizer.
 */
export function trainBpe(corpus: Iterable<string>, options: TrainBpeOptions): Tokenizer {
  const specialTokens = [...(options.specialTokens ?? [])];
  const minFrequency = options.minFrequency ?? 2;
  if (!Number.isInteger(options.vocabSize) || options.vocabSize < 256 + specialTokens.length) {
    throw new TokenizerInputError(
      `vocabSize must be an integer of at least ${256 + specialTokens.length}, got ${String(options.vocabSize)}`,
    );
  }
  if (options.vocabSize > PAIR_SHIFT)
    throw new TokenizerInputError(`vocabSize must be at most ${PAIR_SHIFT}`);
  const custom = typeof options.preTokenizer === 'object' ? options.preTokenizer : undefined;
  const preset = custom ? undefined : flavour((options.preTokenizer as FlavourName | undefined) ?? 'qwen2');
  const normalizerJson = preset ? preset.normalizer : null;
  const preTokenizerJson = preset ? preset.preTokenizer : (custom as Record<string, unknown>);
  const reader: FieldReader = new FieldReader('trainBpe options');
  const normalize = parseNormalizer(normalizerJson, 'normalizer', reader);
  const pre = parsePreTokenizer(preTokenizerJson, 'preTokenizer', reader);
  if (!pre.byteLevel) reader.unsupported('preTokenizer', 'must end with a ByteLevel pre-tokenizer');

  const wordCounts = new Map<string, number>();
  const total = Array.isArray(corpus) ? corpus.length : undefined;
  let documents = 0;
  for (const doc of corpus) {
    if (typeof doc !== 'string')
      throw new TokenizerInputError(`corpus document ${documents} is ${describeType(doc)}, not a string`);
    const text = normalize ? normalize(doc.toWellFormed()) : doc.toWellFormed();
    for (const piece of pre.stage(text))
      if (piece.length > 0) wordCounts.set(piece, (wordCounts.get(piece) ?? 0) + 1);
    documents++;
    if (documents % 1000 === 0) options.onProgress?.({ phase: 'count', done: documents, total });
  }
  options.onProgress?.({ phase: 'count', done: documents, total });

  // Ids: special tokens, then the 256 byte characters in code point order (as HF's trainer does).
  const tokens: string[] = [...specialTokens];
  const byteChars = [...BYTE_TO_CHAR].sort();
  const byteToId = new Int32Array(256);
  for (const ch of byteChars) {
    byteToId[BYTE_TO_CHAR.indexOf(ch)] = tokens.length;
    tokens.push(ch);
  }

  const words: Int32Array[] = [];
  const counts: number[] = [];
  for (const [piece, count] of wordCounts) {
    const bytes = utf8(piece);
    const word = new Int32Array(bytes.length);
    for (let k = 0; k < bytes.length; k++) word[k] = byteToId[bytes[k] as number] as number;
    words.push(word);
    counts.push(count);
  }
  const lengths = Int32Array.from(words, (w) => w.length);

  const pairCounts = new Map<number, number>();
  const pairWords = new Map<number, Set<number>>();
  const addPair = (key: number, wordIndex: number, delta: number): void => {
    pairCounts.set(key, (pairCounts.get(key) ?? 0) + delta);
    if (delta > 0) {
      let set = pairWords.get(key);
      if (!set) {
        set = new Set();
        pairWords.set(key, set);
      }
      set.add(wordIndex);
    }
  };
  words.forEach((word, w) => {
    for (let k = 0; k + 1 < word.length; k++)
      addPair((word[k] as number) * PAIR_SHIFT + (word[k + 1] as number), w, counts[w] as number);
  });

  const heap = new PairHeap();
  for (const [key, count] of pairCounts) heap.push(count, key);

  const merges: Array<[string, string]> = [];
  const budget = options.vocabSize - tokens.length;
  while (tokens.length < options.vocabSize && heap.size > 0) {
    const { count, key } = heap.pop();
    const current = pairCounts.get(key) ?? 0;
    if (current !== count) {
      if (current > 0) heap.push(current, key);
      continue;
    }
    if (count < minFrequency) break;
    const left = Math.floor(key / PAIR_SHIFT);
    const right = key % PAIR_SHIFT;
    const merged = tokens.length;
    tokens.push((tokens[left] as string) + (tokens[right] as string));
    merges.push([tokens[left] as string, tokens[right] as string]);
    const touched = new Set<number>();
    for (const w of pairWords.get(key) ?? []) {
      const word = words[w] as Int32Array;
      const c = counts[w] as number;
      let len = lengths[w] as number;
      let k = 0;
      while (k + 1 < len) {
        if (word[k] !== left || word[k + 1] !== right) {
          k++;
          continue;
        }
        if (k > 0) {
          addPair((word[k - 1] as number) * PAIR_SHIFT + left, w, -c);
          touched.add((word[k - 1] as number) * PAIR_SHIFT + left);
        }
        if (k + 2 < len) {
          addPair(right * PAIR_SHIFT + (word[k + 2] as number), w, -c);
          touched.add(right * PAIR_SHIFT + (word[k + 2] as number));
        }
        addPair(key, w, -c);
        word[k] = merged;
        word.copyWithin(k + 1, k + 2, len);
        len--;
        if (k > 0) {
          const p = (word[k - 1] as number) * PAIR_SHIFT + merged;
          addPair(p, w, c);
          touched.add(p);
        }
        if (k + 1 < len) {
          const p = merged * PAIR_SHIFT + (word[k + 1] as number);
          addPair(p, w, c);
          touched.add(p);
        }
        k++;
      }
      lengths[w] = len;
    }
    pairWords.delete(key);
    pairCounts.delete(key);
    for (const p of touched) {
      const c = pairCounts.get(p) ?? 0;
      if (c > 0) heap.push(c, p);
    }
    if (merges.length % 100 === 0)
      options.onProgress?.({ phase: 'merge', done: merges.length, total: budget });
  }
  options.onProgress?.({ phase: 'merge', done: merges.length, total: budget });

  // Special tokens are in the model vocabulary too (as HF's trainer does), which pins their ids.
  const vocab: Record<string, number> = {};
  tokens.forEach((t, id) => {
    vocab[t] = id;
  });
  return Tokenizer.fromJSON(
    byteLevelBpeJson({
      vocab,
      merges,
      normalizer: normalizerJson,
      preTokenizer: preTokenizerJson,
      addedTokens: specialTokens.map((content, id) => ({
        id,
        content,
        singleWord: false,
        lstrip: false,
        rstrip: false,
        normalized: false,
        special: true,
      })),
    }),
  );
}

/** Max-heap on (count, then smaller pair key). */
class PairHeap {
  private readonly counts: number[] = [];
  private readonly keys: number[] = [];
  get size(): number {
    return this.counts.length;
  }
  private before(i: number, j: number): boolean {
    const ci = this.counts[i] as number;
    const cj = this.counts[j] as number;
    return ci > cj || (ci === cj && (this.keys[i] as number) < (this.keys[j] as number));
  }
  private swap(i: number, j: number): void {
    [this.counts[i], this.counts[j]] = [this.counts[j] as number, this.counts[i] as number];
    [this.keys[i], this.keys[j]] = [this.keys[j] as number, this.keys[i] as number];
  }
  push(count: number, key: number): void {
    this.counts.push(count);
    this.keys.push(key);
    let i = this.counts.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }
  pop(): { count: number; key: number } {
    const top = { count: this.counts[0] as number, key: this.keys[0] as number };
    const last = this.counts.length - 1;
    this.swap(0, last);
    this.counts.pop();
    this.keys.pop();
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let best = i;
      if (l < this.counts.length && this.before(l, best)) best = l;
      if (r < this.counts.length && this.before(r, best)) best = r;
      if (best === i) break;
      this.swap(i, best);
      i = best;
    }
    return top;
  }
}
