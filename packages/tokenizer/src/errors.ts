/**
 * Every failure the tokenizer reports is a `TokenizerError` with a stable `code`, so callers can
 * branch on the kind of problem without parsing messages.
 */
export type TokenizerErrorCode =
  | 'CONFIG_INVALID'
  | 'CONFIG_UNSUPPORTED'
  | 'FILE_UNREADABLE'
  | 'JSON_MALFORMED'
  | 'INPUT_INVALID'
  | 'UNKNOWN_TOKEN_ID'
  | 'UNENCODABLE_BYTE';

export class TokenizerError extends Error {
  readonly code: TokenizerErrorCode;
  constructor(code: TokenizerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TokenizerError';
    this.code = code;
  }
}

/** A `tokenizer.json` that is malformed or asks for a feature this library does not implement. */
export class TokenizerConfigError extends TokenizerError {
  /** JSON path of the offending field, e.g. `pre_tokenizer.pretokenizers[0].pattern`. */
  readonly field: string;
  /** The file the configuration came from, when it came from a file. */
  readonly file: string | undefined;
  constructor(
    code: 'CONFIG_INVALID' | 'CONFIG_UNSUPPORTED' | 'FILE_UNREADABLE' | 'JSON_MALFORMED',
    field: string,
    detail: string,
    file?: string,
    options?: { cause?: unknown },
  ) {
    const where = file ? `${file}: ` : '';
    super(code, `${where}${field ? `${field}: ` : ''}${detail}`, options);
    this.name = 'TokenizerConfigError';
    this.field = field;
    this.file = file;
  }
}

/** A token id that the vocabulary does not contain (HF silently drops these; we refuse). */
export class UnknownTokenIdError extends TokenizerError {
  readonly id: unknown;
  readonly position: number;
  constructor(id: unknown, position: number, vocabSize: number) {
    super(
      'UNKNOWN_TOKEN_ID',
      `token id ${String(id)} at position ${position} is not in the vocabulary (ids are integers in [0, ${vocabSize}))`,
    );
    this.name = 'UnknownTokenIdError';
    this.id = id;
    this.position = position;
  }
}

/** Input of the wrong type (a number where text was expected, a non-array of ids, ...). */
export class TokenizerInputError extends TokenizerError {
  constructor(message: string) {
    super('INPUT_INVALID', message);
    this.name = 'TokenizerInputError';
  }
}

export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}
