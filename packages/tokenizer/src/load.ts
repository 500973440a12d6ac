import type { AddedToken } from './added-vocabulary.ts';
import { MergeTable } from './bpe.ts';
import { FieldReader } from './json-fields.ts';
import { type Normalize, parseNormalizer } from './normalizers.ts';
import { type PreTokenizerStage, parsePreTokenizer } from './pre-tokenizers.ts';
import type { Scanner } from './scanners.ts';

/** Ids added around a single sequence by the post-processor when special tokens are requested. */
export interface SpecialTokenTemplate {
  prefix: number[];
  suffix: number[];
}

/** Everything the runtime needs, validated, from one `tokenizer.json`. */
export interface TokenizerParts {
  normalize: Normalize | undefined;
  preTokenize: PreTokenizerStage;
  scanner: Scanner | undefined;
  vocab: Map<string, number>;
  merges: MergeTable;
  ignoreMerges: boolean;
  unkId: number | undefined;
  fuseUnk: boolean;
  addedTokens: AddedToken[];
  template: SpecialTokenTemplate;
  /** Problems HF tolerates with a warning (e.g. an added token id that HF reassigns). */
  warnings: string[];
}

const MAX_MERGES = 1 << 21;

export function parseTokenizerJson(json: unknown, file?: string): TokenizerParts {
  const reader: FieldReader = new FieldReader(file);
  const root = reader.object(json, '');
  const model = reader.object(root.model, 'model');
  const modelType = model.type === undefined ? 'BPE' : reader.string(model.type, 'model.type');
  if (modelType !== 'BPE') {
    reader.unsupported('model.type', `model "${modelType}" is not supported (only byte-level BPE is)`);
  }
  if (model.byte_fallback === true)
    reader.unsupported('model.byte_fallback', 'byte fallback is not byte-level BPE');
  for (const field of ['continuing_subword_prefix', 'end_of_word_suffix'] as const) {
    const v = model[field];
    if (v !== undefined && v !== null && v !== '') {
      reader.unsupported(
        `model.${field}`,
        `a subword ${field === 'end_of_word_suffix' ? 'suffix' : 'prefix'} is not byte-level BPE`,
      );
    }
  }
  if (model.dropout !== undefined && model.dropout !== null && model.dropout !== 0) {
    reader.unsupported('model.dropout', 'BPE dropout makes encoding random; load the tokenizer without it');
  }

  const vocabObject = reader.object(model.vocab, 'model.vocab');
  const vocab = new Map<string, number>();
  for (const [token, id] of Object.entries(vocabObject)) {
    vocab.set(token, reader.tokenId(id, `model.vocab[${JSON.stringify(token)}]`));
  }

  const mergeList = reader.array(model.merges, 'model.merges');
  if (mergeList.length > MAX_MERGES) reader.unsupported('model.merges', `more than ${MAX_MERGES} merges`);
  const merges = new MergeTable(mergeList.length);
  mergeList.forEach((entry, rank) => {
    const field = `model.merges[${rank}]`;
    let left: string;
    let right: string;
    if (typeof entry === 'string') {
      const parts = entry.split(' ');
      if (parts.length !== 2) reader.invalid(field, `expected "left right", got ${JSON.stringify(entry)}`);
      [left, right] = parts as [string, string];
    } else {
      const pair = reader.array(entry, field);
      if (pair.length !== 2) reader.invalid(field, 'expected a pair [left, right]');
      left = reader.string(pair[0], `${field}[0]`);
      right = reader.string(pair[1], `${field}[1]`);
    }
    const leftId = vocab.get(left);
    const rightId = vocab.get(right);
    const mergedId = vocab.get(left + right);
    if (leftId === undefined) reader.invalid(field, `token ${JSON.stringify(left)} is not in model.vocab`);
    if (rightId === undefined) reader.invalid(field, `token ${JSON.stringify(right)} is not in model.vocab`);
    if (mergedId === undefined)
      reader.invalid(field, `merged token ${JSON.stringify(left + right)} is not in model.vocab`);
    merges.set(leftId, rightId, rank, mergedId);
  });

  let unkId: number | undefined;
  if (model.unk_token !== undefined && model.unk_token !== null) {
    const unk = reader.string(model.unk_token, 'model.unk_token');
    unkId = vocab.get(unk);
    if (unkId === undefined)
      reader.invalid('model.unk_token', `${JSON.stringify(unk)} is not in model.vocab`);
  }

  const warnings: string[] = [];
  const addedTokens = assignAddedTokenIds(parseAddedTokens(root.added_tokens, reader), vocab, warnings);
  const vocabTokens = new Map<number, string>();
  for (const [token, id] of vocab) vocabTokens.set(id, token);
  addedTokens.forEach((token, k) => {
    const holder = vocabTokens.get(token.id);
    if (holder !== undefined && holder !== token.content) {
      reader.invalid(
        `added_tokens[${k}]`,
        `${JSON.stringify(token.content)} would get id ${token.id} (HF assigns ids after model.vocab's ${vocab.size} entries), ` +
          `which model.vocab already gives to ${JSON.stringify(holder)}`,
      );
    }
  });
  const normalize = parseNormalizer(root.normalizer, 'normalizer', reader);
  const pre = parsePreTokenizer(root.pre_tokenizer, 'pre_tokenizer', reader);
  if (!pre.byteLevel) {
    reader.unsupported(
      'pre_tokenizer',
      'a byte-level BPE needs a ByteLevel pre-tokenizer (last in the sequence)',
    );
  }
  parseDecoder(root.decoder, 'decoder', reader);
  const template = parsePostProcessor(root.post_processor, 'post_processor', reader);

  return {
    normalize,
    preTokenize: pre.stage,
    scanner: pre.scanner,
    vocab,
    merges,
    ignoreMerges: reader.boolean(model.ignore_merges, 'model.ignore_merges', false),
    unkId,
    fuseUnk: reader.boolean(model.fuse_unk, 'model.fuse_unk', false),
    addedTokens,
    template,
    warnings,
  };
}

/**
 * HF does not take added-token ids from the file: a token whose content is in the vocabulary gets
 * that id, any other the next id after the vocabulary (its entry count) and the tokens added so far.
 * We assign ids the same way, so encodings agree, and record a warning where the file disagrees.
 */
function assignAddedTokenIds(
  tokens: AddedToken[],
  vocab: Map<string, number>,
  warnings: string[],
): AddedToken[] {
  const assigned = new Map<string, number>();
  let maxAdded = -1;
  return tokens.map((token, k) => {
    let id = assigned.get(token.content) ?? vocab.get(token.content);
    if (id === undefined) id = maxAdded >= vocab.size ? maxAdded + 1 : vocab.size;
    assigned.set(token.content, id);
    maxAdded = Math.max(maxAdded, id);
    if (id !== token.id) {
      warnings.push(
        `added_tokens[${k}] ${JSON.stringify(token.content)} has id ${token.id} in the file; like HF, it gets id ${id}`,
      );
    }
    return { ...token, id };
  });
}

function parseAddedTokens(value: unknown, reader: FieldReader): AddedToken[] {
  if (value === undefined || value === null) return [];
  return reader.array(value, 'added_tokens').map((entry, k) => {
    const field = `added_tokens[${k}]`;
    const t = reader.object(entry, field);
    const content = reader.string(t.content, `${field}.content`);
    if (content.length === 0) reader.invalid(`${field}.content`, 'an added token cannot be empty');
    const special = reader.boolean(t.special, `${field}.special`, false);
    return {
      id: reader.tokenId(t.id, `${field}.id`),
      content,
      singleWord: reader.boolean(t.single_word, `${field}.single_word`, false),
      lstrip: reader.boolean(t.lstrip, `${field}.lstrip`, false),
      rstrip: reader.boolean(t.rstrip, `${field}.rstrip`, false),
      normalized: reader.boolean(t.normalized, `${field}.normalized`, !special),
      special,
    };
  });
}

/** Only ByteLevel decoding (alone or in a Sequence) is byte-level BPE; anything else is refused. */
function parseDecoder(value: unknown, field: string, reader: FieldReader): void {
  if (value === null || value === undefined) {
    reader.unsupported(
      field,
      'a byte-level BPE needs a ByteLevel decoder (HF would join tokens with spaces)',
    );
  }
  const config = reader.object(value, field);
  const type = reader.type(config, field);
  if (type === 'ByteLevel') return;
  if (type === 'Sequence') {
    const inner = reader.array(config.decoders, `${field}.decoders`);
    if (inner.length === 0)
      reader.unsupported(`${field}.decoders`, 'an empty decoder sequence is not byte-level');
    inner.forEach((d, k) => {
      parseDecoder(d, `${field}.decoders[${k}]`, reader);
    });
    return;
  }
  reader.unsupported(`${field}.type`, `decoder "${type}" is not supported (supported: ByteLevel, Sequence)`);
}

function parsePostProcessor(value: unknown, field: string, reader: FieldReader): SpecialTokenTemplate {
  if (value === null || value === undefined) return { prefix: [], suffix: [] };
  const config = reader.object(value, field);
  const type = reader.type(config, field);
  switch (type) {
    case 'ByteLevel':
      return { prefix: [], suffix: [] };
    case 'Sequence': {
      const combined: SpecialTokenTemplate = { prefix: [], suffix: [] };
      reader.array(config.processors, `${field}.processors`).forEach((p, k) => {
        const inner = parsePostProcessor(p, `${field}.processors[${k}]`, reader);
        combined.prefix = [...inner.prefix, ...combined.prefix];
        combined.suffix = [...combined.suffix, ...inner.suffix];
      });
      return combined;
    }
    case 'RobertaProcessing':
    case 'BertProcessing': {
      const pairId = (v: unknown, f: string): number => {
        const pair = reader.array(v, f);
        reader.string(pair[0], `${f}[0]`);
        return reader.tokenId(pair[1], `${f}[1]`);
      };
      return { prefix: [pairId(config.cls, `${field}.cls`)], suffix: [pairId(config.sep, `${field}.sep`)] };
    }
    case 'TemplateProcessing':
      return parseTemplate(config, field, reader);
    default:
      return reader.unsupported(
        `${field}.type`,
        `post-processor "${type}" is not supported (supported: ByteLevel, TemplateProcessing, RobertaProcessing, BertProcessing, Sequence)`,
      );
  }
}

function parseTemplate(
  config: Record<string, unknown>,
  field: string,
  reader: FieldReader,
): SpecialTokenTemplate {
  const specials = reader.object(config.special_tokens ?? {}, `${field}.special_tokens`);
  const template: SpecialTokenTemplate = { prefix: [], suffix: [] };
  let seenSequence = false;
  reader.array(config.single, `${field}.single`).forEach((piece, k) => {
    const f = `${field}.single[${k}]`;
    const item = reader.object(piece, f);
    if (item.Sequence !== undefined) {
      const id = reader.string(reader.object(item.Sequence, `${f}.Sequence`).id, `${f}.Sequence.id`);
      if (id !== 'A' || seenSequence)
        reader.invalid(`${f}.Sequence.id`, 'the single template must hold sequence "A" once');
      seenSequence = true;
    } else if (item.SpecialToken !== undefined) {
      const name = reader.string(
        reader.object(item.SpecialToken, `${f}.SpecialToken`).id,
        `${f}.SpecialToken.id`,
      );
      const entry = specials[name];
      if (entry === undefined)
        reader.invalid(`${f}.SpecialToken.id`, `"${name}" is not in ${field}.special_tokens`);
      const sf = `${field}.special_tokens[${JSON.stringify(name)}]`;
      const ids = reader
        .array(reader.object(entry, sf).ids, `${sf}.ids`)
        .map((id, j) => reader.tokenId(id, `${sf}.ids[${j}]`));
      (seenSequence ? template.suffix : template.prefix).push(...ids);
    } else reader.invalid(f, 'expected { "Sequence": ... } or { "SpecialToken": ... }');
  });
  if (!seenSequence) reader.invalid(`${field}.single`, 'the single template has no sequence "A"');
  return template;
}
