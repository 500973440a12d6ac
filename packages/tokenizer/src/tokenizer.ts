import { readFileSync } from 'node:fs';
import { AddedVocabulary } from './added-vocabulary.ts';
import { BpeModel } from './bpe.ts';
import { byteLevelToBytes } from './byte-level.ts';
import { describeType, TokenizerConfigError, TokenizerInputError, UnknownTokenIdError } from './errors.ts';
import { writeFileAtomic } from './fs.ts';
import { parseTokenizerJson, type SpecialTokenTemplate } from './load.ts';
import type { Scanner } from './scanners.ts';
import { DecodeStream, LineAnchorStream } from './streaming.ts';
import { completePrefixLength, isValidUtf8, utf8, utf8Decoder } from './utf8.ts';

export interface EncodeOptions {
  /** Add the post-processor's special tokens (e.g. Llama-3's BOS). Default true, as in HF. */
  addSpecialTokens?: boolean;
}

export interface DecodeOptions {
  /** Leave out tokens marked `special` in `added_tokens`. Default false, as in HF. */
  skipSpecialTokens?: boolean;
}

const EMPTY = new Uint8Array(0);

/**
 * A byte-level BPE tokenizer loaded from a Hugging Face `tokenizer.json`, encoding and decoding
 * token for token as the HF reference implementation does.
 */
export class Tokenizer {
  /** One past the largest token id (vocabulary plus added tokens). */
  readonly vocabSize: number;
  /** Inconsistencies in the file that HF tolerates (and that we resolve the same way). */
  readonly warnings: readonly string[];
  private readonly model: BpeModel;
  private readonly added: AddedVocabulary;
  private readonly template: SpecialTokenTemplate;
  private readonly tokenStrings: (string | undefined)[];
  private readonly tokenIds: Map<string, number>;
  private readonly tokenBytesTable: (Uint8Array | undefined)[];
  /** A token's text when its bytes are whole UTF-8 by themselves; null when it splits a character. */
  private readonly tokenTexts: (string | null | undefined)[];
  private readonly special: Uint8Array;
  private readonly preTokenize: (text: string) => string[];
  private readonly scanner: Scanner | undefined;
  private readonly source: unknown;

  private constructor(json: unknown, file?: string) {
    const parts = parseTokenizerJson(json, file);
    this.source = json;
    this.warnings = parts.warnings;
    this.preTokenize = parts.preTokenize;
    this.scanner = parts.scanner;
    this.template = parts.template;
    this.model = new BpeModel(parts);
    this.added = new AddedVocabulary(parts.addedTokens, parts.normalize);

    let size = 0;
    for (const id of parts.vocab.values()) size = Math.max(size, id + 1);
    for (const t of parts.addedTokens) size = Math.max(size, t.id + 1);
    this.vocabSize = size;
    this.tokenStrings = new Array(size);
    for (const [token, id] of parts.vocab) this.tokenStrings[id] = token;
    this.special = new Uint8Array(size);
    for (const t of parts.addedTokens) {
      this.tokenStrings[t.id] = t.content;
      if (t.special) this.special[t.id] = 1;
    }
    this.tokenIds = new Map();
    this.tokenStrings.forEach((token, id) => {
      if (token !== undefined) this.tokenIds.set(token, id);
    });
    // HF's ByteLevel decoder: a token made only of byte-alphabet characters decodes to those bytes,
    // any other token (an added token with a space, say) to its own UTF-8.
    this.tokenBytesTable = this.tokenStrings.map((token) =>
      token === undefined ? undefined : (byteLevelToBytes(token) ?? utf8(token)),
    );
    this.tokenTexts = this.tokenBytesTable.map((bytes) => {
      if (bytes === undefined) return undefined;
      return isValidUtf8(bytes) ? utf8Decoder.decode(bytes) : null;
    });
    for (const ids of [parts.template.prefix, parts.template.suffix]) {
      for (const id of ids) {
        if (this.tokenBytesTable[id] === undefined) {
          throw new TokenizerConfigError(
            'CONFIG_INVALID',
            'post_processor',
            `special token id ${id} is not in the vocabulary`,
            file,
          );
        }
      }
    }
  }

  /** Loads a `tokenizer.json` object (already parsed). */
  static fromJSON(json: unknown, options: { file?: string } = {}): Tokenizer {
    return new Tokenizer(json, options.file);
  }

  /** Reads and loads a `tokenizer.json` file. */
  static fromFile(path: string): Tokenizer {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      throw new TokenizerConfigError(
        'FILE_UNREADABLE',
        '',
        `cannot read file (${(error as Error).message})`,
        path,
        {
          cause: error,
        },
      );
    }
    return new Tokenizer(parseJsonText(text, path), path);
  }

  /** Token ids of `text`. Lone surrogates are read as U+FFFD, as any UTF-8 consumer must. */
  encode(text: string, options: EncodeOptions = {}): number[] {
    if (typeof text !== 'string') {
      throw new TokenizerInputError(`encode() expects a string, got ${describeType(text)}`);
    }
    const input = text.isWellFormed() ? text : text.toWellFormed();
    const out: number[] = [];
    const addSpecial = options.addSpecialTokens ?? true;
    if (addSpecial) out.push(...this.template.prefix);
    for (const segment of this.added.split(input)) {
      if (segment.id !== undefined) out.push(segment.id);
      else if (this.scanner) this.model.encodeScanned(segment.text, this.scanner, out);
      else this.model.encodePieces(this.preTokenize(segment.text), out);
    }
    if (addSpecial) out.push(...this.template.suffix);
    return out;
  }

  /**
   * The text of `ids`; invalid UTF-8 (a character split by a cut) becomes U+FFFD, as in HF.
   * Tokens that are whole UTF-8 on their own are appended as precomputed strings; bytes are only
   * assembled around tokens that split a character.
   */
  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
    checkIdArray(ids);
    const skipSpecial = options.skipSpecialTokens ?? false;
    const texts = skipSpecial ? this.tokenTextsWithoutSpecial() : this.tokenTexts;
    let text = '';
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i] as number;
      const whole = texts[id];
      // `id >>> 0 === id` keeps strings and fractions from indexing the table.
      if (typeof whole === 'string' && id >>> 0 === id) text += whole;
      else return text + this.decodeFrom(ids, i, skipSpecial);
    }
    return text;
  }

  /** The slow path of `decode` from position `start`: validates ids and joins bytes across split characters. */
  private decodeFrom(ids: ArrayLike<number>, start: number, skipSpecial: boolean): string {
    let text = '';
    let pending: number[] | undefined;
    for (let i = start; i < ids.length; i++) {
      const id = ids[i] as number;
      const whole = this.tokenTexts[id];
      if (whole === undefined || id >>> 0 !== id) throw new UnknownTokenIdError(id, i, this.vocabSize);
      if (skipSpecial && this.special[id] === 1) continue;
      if (pending === undefined && whole !== null) {
        text += whole;
        continue;
      }
      pending ??= [];
      for (const b of this.tokenBytesTable[id] as Uint8Array) pending.push(b);
      const cut = completePrefixLength(pending);
      if (cut > 0) {
        text += utf8Decoder.decode(Uint8Array.from(pending.slice(0, cut)));
        pending = cut === pending.length ? undefined : pending.slice(cut);
      }
    }
    if (pending !== undefined) text += utf8Decoder.decode(Uint8Array.from(pending));
    return text;
  }

  private textsWithoutSpecial: (string | null | undefined)[] | undefined;
  /** `tokenTexts` with special tokens as empty strings, for `skipSpecialTokens`. */
  private tokenTextsWithoutSpecial(): (string | null | undefined)[] {
    this.textsWithoutSpecial ??= this.tokenTexts.map((t, id) => (this.special[id] === 1 ? '' : t));
    return this.textsWithoutSpecial;
  }

  /** The bytes that `ids` decode to, before UTF-8 decoding. */
  decodeBytes(ids: ArrayLike<number>, options: DecodeOptions = {}): Uint8Array {
    return this.bytesOf(ids, options.skipSpecialTokens ?? false);
  }

  /** The bytes of one token (an added token's content as UTF-8). */
  tokenToBytes(id: number): Uint8Array {
    return this.checkedBytes(id, 0);
  }

  /** The stored string of a token (byte-alphabet form for vocabulary tokens), if the id exists. */
  idToToken(id: number): string | undefined {
    return this.tokenStrings[id];
  }

  tokenToId(token: string): number | undefined {
    return this.tokenIds.get(token);
  }

  isSpecial(id: number): boolean {
    return this.special[id] === 1;
  }

  /** A decoder for ids arriving one at a time; never splits a UTF-8 character. */
  createDecodeStream(options: DecodeOptions = {}): DecodeStream {
    return new DecodeStream((id, position) =>
      this.streamBytes(id, position, options.skipSpecialTokens ?? false),
    );
  }

  /**
   * For every line of the decoded text, the index (into `ids`) of the token that holds the line's
   * `\n`; for a final line without one, the last token that contributes to it.
   */
  lineAnchors(ids: ArrayLike<number>, options: DecodeOptions = {}): number[] {
    checkIdArray(ids);
    const stream = this.createLineAnchorStream(options);
    const anchors: number[] = [];
    for (let i = 0; i < ids.length; i++) for (const a of stream.push(ids[i] as number)) anchors.push(a);
    for (const a of stream.finish()) anchors.push(a);
    return anchors;
  }

  /** `lineAnchors` for ids arriving one at a time: `push` returns anchors of lines it closes. */
  createLineAnchorStream(options: DecodeOptions = {}): LineAnchorStream {
    return new LineAnchorStream((id, position) =>
      this.streamBytes(id, position, options.skipSpecialTokens ?? false),
    );
  }

  /** The `tokenizer.json` this tokenizer was loaded from. */
  toJSON(): unknown {
    return this.source;
  }

  /** Writes `tokenizer.json` atomically (temporary file, then rename). */
  save(path: string): void {
    writeFileAtomic(path, `${JSON.stringify(this.source, null, 2)}\n`);
  }

  private streamBytes(id: number, position: number, skipSpecial: boolean): Uint8Array {
    const bytes = this.checkedBytes(id, position);
    return skipSpecial && this.special[id] === 1 ? EMPTY : bytes;
  }

  private checkedBytes(id: number, position: number): Uint8Array {
    const bytes = Number.isInteger(id) && id >= 0 ? this.tokenBytesTable[id] : undefined;
    if (bytes === undefined) throw new UnknownTokenIdError(id, position, this.vocabSize);
    return bytes;
  }

  private bytesOf(ids: ArrayLike<number>, skipSpecial: boolean): Uint8Array {
    checkIdArray(ids);
    const parts = Array.from(ids, (id, i) => this.streamBytes(id, i, skipSpecial));
    const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
    let offset = 0;
    for (const part of parts) {
      out.set(part, offset);
      offset += part.length;
    }
    return out;
  }
}

function checkIdArray(ids: unknown): void {
  if (!Array.isArray(ids) && !ArrayBuffer.isView(ids)) {
    throw new TokenizerInputError(`expected an array of token ids, got ${describeType(ids)}`);
  }
}

/** JSON.parse with the error located by line and column. */
export function parseJsonText(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const message = (error as Error).message;
    const position = /position (\d+)/.exec(message);
    let where = '';
    if (position) {
      const offset = Number(position[1]);
      const before = text.slice(0, offset);
      const line = before.split('\n').length;
      const column = offset - before.lastIndexOf('\n');
      where = ` at line ${line}, column ${column}`;
    } else if (text.trim().length === 0) where = ' (the file is empty)';
    else where = ' (the file looks truncated)';
    throw new TokenizerConfigError('JSON_MALFORMED', '', `not valid JSON${where}: ${message}`, file, {
      cause: error,
    });
  }
}
