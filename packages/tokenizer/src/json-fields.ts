import { TokenizerConfigError } from './errors.ts';

/**
 * Field readers for `tokenizer.json`: each names the JSON path of a bad field in its error, so a
 * user sees `pre_tokenizer.pretokenizers[1].pattern.Regex: expected a string` rather than a crash.
 */
export class FieldReader {
  constructor(readonly file: string | undefined) {}

  invalid(field: string, detail: string): never {
    throw new TokenizerConfigError('CONFIG_INVALID', field, detail, this.file);
  }

  unsupported(field: string, detail: string): never {
    throw new TokenizerConfigError('CONFIG_UNSUPPORTED', field, detail, this.file);
  }

  object(value: unknown, field: string): Record<string, unknown> {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.invalid(field, `expected an object, got ${describe(value)}`);
    }
    return value as Record<string, unknown>;
  }

  array(value: unknown, field: string): unknown[] {
    if (!Array.isArray(value)) this.invalid(field, `expected an array, got ${describe(value)}`);
    return value;
  }

  string(value: unknown, field: string): string {
    if (typeof value !== 'string') this.invalid(field, `expected a string, got ${describe(value)}`);
    return value;
  }

  boolean(value: unknown, field: string, fallback?: boolean): boolean {
    if (value === undefined && fallback !== undefined) return fallback;
    if (typeof value !== 'boolean') this.invalid(field, `expected true or false, got ${describe(value)}`);
    return value;
  }

  tokenId(value: unknown, field: string): number {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value >= 2 ** 31) {
      this.invalid(field, `expected a non-negative integer token id, got ${describe(value)}`);
    }
    return value;
  }

  /** The value of a `type` discriminator. */
  type(value: Record<string, unknown>, field: string): string {
    return this.string(value.type, `${field}.type`);
  }
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing (the field is missing)';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string')
    return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)}`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}
